"""Chapter 3's questions: the self-check on training, and the final quiz's "training" topic."""

from lenet_nb.quiz.question import choice_question as choice
from lenet_nb.quiz.question import numeric_question as number

SELF_CHECK = [
    choice(
        "ch3-zero-grad",
        "A training loop calls l.backward() and updater.step() for every batch but never "
        "updater.zero_grad(). What happens?",
        [
            (
                "Nothing: backward() replaces the old gradients",
                "backward() adds to .grad; only zero_grad() clears it.",
            ),
            (
                "Every step uses the sum of all gradients so far, so the steps grow and drift",
                "The gradients accumulate from batch to batch: step k moves the weights by "
                "the learning rate times k batches' gradients added up.",
            ),
            (
                "Training works as before: the kept gradients act like momentum",
                "Momentum shrinks old gradients by a factor (such as 0.9) at every step, so its "
                "buffer stays bounded; without zero_grad() nothing is ever shrunk.",
            ),
        ],
        answer=1,
    ),
    choice(
        "ch3-logits",
        "What should the network feed into nn.CrossEntropyLoss?",
        [
            (
                "Probabilities from a Softmax layer",
                "Then softmax is applied twice: the loss "
                "still runs but its gradients are flattened and training slows.",
            ),
            (
                "One-hot encoded outputs",
                "The targets are class indices; the outputs are one "
                "score per class, not one-hot vectors.",
            ),
            (
                "Raw scores (logits) from the last linear layer",
                "CrossEntropyLoss applies log-softmax itself.",
            ),
        ],
        answer=2,
    ),
    choice(
        "ch3-sigmoid-lr",
        "Why does the sigmoid LeNet need a learning rate as large as 0.9 with SGD?",
        [
            (
                "The sigmoid's slope is at most 0.25, so gradients shrink at every layer",
                "Each sigmoid multiplies the backward signal by 0.25 or less; a big "
                "step size makes up for the small gradients.",
            ),
            (
                "Because Xavier initialisation makes the weights too large",
                "Xavier draws small weights, scaled by each layer's fan-in and fan-out (its "
                "numbers of inputs and outputs). Its variance argument assumes a slope near 1 "
                "at 0, as for tanh; the sigmoid's slope of at most 0.25 still shrinks the "
                "gradients layer by layer.",
            ),
            (
                "A large learning rate is always faster",
                "With ReLU the same rate can make training blow up: "
                "the right rate depends on the gradients the activations let through.",
            ),
        ],
        answer=0,
    ),
    choice(
        "ch3-weights-only",
        "Why load checkpoints with torch.load(path, weights_only=True)?",
        [
            (
                "It lets a checkpoint saved on a GPU load on a CPU-only machine",
                "That is map_location's job (map_location=\"cpu\"); weights_only is about "
                "safety.",
            ),
            (
                "A full pickle can run arbitrary code when loaded",
                "With weights_only, torch.load "
                "accepts only tensors and plain containers, so a crafted file cannot run code.",
            ),
            (
                "Otherwise the optimizer state is lost",
                "weights_only loads any state dict "
                "made of tensors and numbers, optimizer state included.",
            ),
        ],
        answer=1,
    ),
]


FINAL_TRAINING = [
    number(
        "sigmoid-slope",
        "What is the largest value of the sigmoid's derivative?",
        0.25,
        "σ'(x) = σ(x)(1 − σ(x)) peaks at x = 0 with 0.25: every sigmoid layer shrinks the "
        "gradient by at least a factor 4, hence the large learning rate (0.9) of the recipe.",
        "σ'(x) = σ(x)(1 − σ(x)); where is σ(x) = 1/2?",
        tolerance=0.001,
        topic="training",
    ),
    number(
        "eval-in-loop",
        "The Boyu course page's train_ch5 evaluates the whole test set inside the batch loop. With "
        "60,000 training images and batch_size = 256, how many test evaluations per epoch?",
        235,
        "One per batch: ⌈60,000 / 256⌉ = 235 instead of 1, and most of the epoch's time "
        "goes into evaluation.",
        "How many batches does one epoch have? Do not forget the last, smaller one.",
        topic="training",
    ),
    choice(
        "zero-grad",
        "optimizer.zero_grad() runs before every step, yet accuracy keeps improving. Why?",
        [
            (
                "It resets only the gradients; the weights keep every update",
                "The gradients are cleared so they do not add up across batches; what was "
                "learned lives in the weights.",
            ),
            (
                "It is called only at the start of each epoch",
                "In the loop it runs for every batch.",
            ),
            (
                "Accuracy improves because of the learning-rate schedule",
                "Without the weight updates there would be nothing to schedule.",
            ),
        ],
        answer=0,
        topic="training",
    ),
    choice(
        "accuracy-average",
        "Learn PyTorch (14) divides the number of correct test predictions by batches × batch_size "
        "(157 × 64 = 10,048). What should it divide by?",
        [
            ("The number of batches", "That gives correct predictions per batch, not a rate."),
            (
                "batches × batch_size is right",
                "The last batch holds only 16 images, so "
                "10,048 counts 48 images that do not exist and understates accuracy.",
            ),
            (
                "The number of test images, 10,000",
                "Accuracy is per sample: total correct over total images.",
            ),
        ],
        answer=2,
        topic="training",
    ),
    choice(
        "test-shuffle",
        "The test loader gets shuffle=True (10,000 images, batches of 64, so the last batch "
        "holds 16). Which way of computing the test accuracy can change with the order?",
        [
            (
                "Total correct / 10,000 (per-sample accuracy)",
                "A sum over all images does not depend on their order: this one stays the same.",
            ),
            (
                "The mean of the 157 per-batch accuracies",
                "Yes: the last batch's 16 images weigh as much as a full batch of 64, and "
                "which images land there depends on the order.",
            ),
            (
                "None of them: the whole test set is used either way",
                "True for sums over all images, not for an average of per-batch rates whose "
                "batches differ in size.",
            ),
            (
                "All of them: shuffling makes every estimate unbiased",
                "Shuffling the test set removes no bias; per-sample accuracy does not move at "
                "all.",
            ),
        ],
        answer=1,
        topic="training",
    ),
    choice(
        "test-selection",
        "A recipe trains for 10 epochs, keeps the epoch with the best test accuracy and reports "
        "that accuracy. What is wrong with the reported number, and what should be done?",
        [
            (
                "Nothing: the network never trained on the test images",
                "Choosing is a kind of fitting: of ten noisy measurements the largest one is "
                "picked, so it is on average higher than the true accuracy of that epoch.",
            ),
            (
                "It is optimistic: choose the epoch on a validation split held out from the "
                "training set, then measure the test accuracy of that epoch once",
                "The test set then plays no part in any choice, so its accuracy stays an honest "
                "estimate for new images.",
            ),
            (
                "It is noisy only because the test set is small: use all 60,000 training images "
                "as the test set instead",
                "The network trained on those images, so their accuracy measures fit, not "
                "how well it does on new images.",
            ),
            (
                "It is pessimistic: report the mean of the ten epochs' test accuracies instead",
                "The maximum of ten values is never below their mean; averaging the epochs "
                "still uses the test set and describes no single network.",
            ),
        ],
        answer=1,
        topic="training",
    ),
]

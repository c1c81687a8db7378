"""Chapter 3's questions: the self-check on the training loop, and the final quiz's "training
loop" topic."""

from lenet_nb.quiz.question import choice_question as choice
from lenet_nb.quiz.question import numeric_question as number

SELF_CHECK = [
    choice(
        "loop-zero-grad",
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
        "loop-sigmoid-lr",
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
    number(
        "loop-momentum",
        "SGD with momentum 0.9 meets the same gradient g at every step, for many steps. Its "
        "step settles at how many times the plain SGD step (lr × g)?",
        10,
        "The velocity v becomes 0.9 v + g at every step; it stops changing when v = 0.9 v + g, "
        "that is v = g / (1 − 0.9) = 10 g. On a steady slope momentum 0.9 moves ten times as "
        "far as plain SGD at the same rate; where the gradient keeps flipping sign, the terms "
        "cancel instead.",
        "When the velocity no longer changes, v = 0.9 v + g: solve for v.",
        tolerance=0.01,
    ),
    choice(
        "loop-adamw",
        "What does AdamW do differently from Adam with weight_decay set?",
        [
            (
                "Nothing: AdamW is another name for Adam with weight decay",
                "Chapter 3, §4 runs both on two weights: Adam's decay depends on the size of each "
                "weight's gradients, AdamW's does not.",
            ),
            (
                "It adds momentum, which Adam lacks",
                "Adam already keeps a running average of the gradient (β1): that is its "
                "momentum.",
            ),
            (
                "It shrinks every weight by the factor 1 − lr × weight_decay, apart from the "
                "adaptive step, instead of adding the decay to the gradient",
                "Added to the gradient, the decay is divided by √v̂ like the rest, so weights with "
                "large gradients are hardly decayed; AdamW decays every weight alike.",
            ),
            (
                "It uses a larger learning rate by default",
                "Both default to lr = 0.001 in torch.optim.",
            ),
        ],
        answer=2,
    ),
]


FINAL_LOOP = [
    number(
        "sigmoid-slope",
        "What is the largest value of the sigmoid's derivative?",
        0.25,
        "σ'(x) = σ(x)(1 − σ(x)) peaks at x = 0 with 0.25: each sigmoid multiplies the backward "
        "signal by its slope, at most 0.25; the weights in between change its size too, so the "
        "measured gradient shrinks by less per layer (chapter 3, §2), and the d2l recipe makes up "
        "for it with a large learning rate (0.9).",
        "σ'(x) = σ(x)(1 − σ(x)); where is σ(x) = 1/2?",
        tolerance=0.001,
        topic="training loop",
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
        topic="training loop",
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
        topic="training loop",
    ),
]

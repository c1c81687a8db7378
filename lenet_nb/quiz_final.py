"""The final quiz (chapter 5): questions across all chapters, grouped by topic."""

from lenet_nb.quiz_question import choice_question as choice
from lenet_nb.quiz_question import numeric_question as number

PARAMETERS = [
    # From the Boyu course page, reworded: where do the d2l LeNet's parameters live?
    choice(
        "boyu-lenet-wrong",
        "Which statement about the d2l LeNet (chapter 2's network) is FALSE?",
        [
            (
                "It has two parts: a convolutional block followed by a fully-connected block.",
                "This one is true for the d2l LeNet: convolutions and pooling first, then three "
                "linear layers. (In the paper's LeNet-5, and in the MNIST intro's MyLeNet5, C5 "
                "is a convolution instead.)",
            ),
            (
                "The convolutional block alternates convolution and pooling layers.",
                "This one is true: conv, pool, conv, pool.",
            ),
            (
                "Most of its parameters sit in the convolutional block.",
                "This is the false one: 59,134 of the 61,706 parameters (95.8 %) are in the three "
                "linear layers; the two convolutions hold only 2,572.",
            ),
            (
                "Between the two blocks the feature maps are flattened into one vector per image.",
                "This one is true: 16 × 5 × 5 maps become a 400-vector for the first linear layer.",
            ),
        ],
        answer=2,
        topic="parameters",
    ),
    number(
        "fc-share",
        "What percentage of the d2l LeNet's parameters is in its three linear layers? "
        "(one decimal)",
        95.8,
        "59,134 / 61,706 = 95.8 %: the small convolutions do the seeing, the linear layers "
        "hold the weight.",
        "Linear layers: 400·120 + 120, 120·84 + 84, 84·10 + 10. Divide their sum by 61,706.",
        tolerance=0.05,
        topic="parameters",
    ),
    number(
        "first-linear",
        "How many parameters does the d2l LeNet's first linear layer (400 → 120) have?",
        48120,
        "400 × 120 weights + 120 biases = 48,120: alone more than three quarters of the net.",
        "Every one of the 400 inputs meets every one of the 120 units; add one bias per unit.",
        topic="parameters",
    ),
    number(
        "learn14-linear",
        "Learn PyTorch (14)'s LeNet takes a 28×28 image through a 5×5 convolution (1 → 6 "
        "channels, no padding), 2×2 pooling with stride 2, a 5×5 convolution (6 → 16 channels, "
        "no padding) and 2×2 pooling with stride 2, then flattens. How many parameters does "
        "its first linear layer (→ 120 units) have?",
        30840,
        "28 → 24 → 12 → 8 → 4: the flatten gives 16 × 4 × 4 = 256 inputs, and 256 × 120 + 120 "
        "= 30,840, against 48,120 in the d2l LeNet, whose padded first convolution keeps 28×28 "
        "and so ends at 16 × 5 × 5.",
        "Each unpadded 5×5 convolution takes 4 from the side, each pooling halves it; "
        "inputs = 16 × side × side, weights = inputs × 120, plus 120 biases.",
        topic="parameters",
    ),
]

CONVOLUTIONS = [
    # From the Boyu course page, reworded: which statement about CNNs is wrong?
    choice(
        "boyu-cnn-wrong",
        "Which statement about convolutional networks is FALSE?",
        [
            (
                "A 2×2 pooling layer with stride 2 halves the height and the width.",
                "This one is true: 28×28 becomes 14×14 in LeNet.",
            ),
            (
                "Fully-connected layers have more parameters than convolutions, so they extract "
                "spatial information better.",
                "This is the false one: more parameters do not help when the layer ignores which "
                "pixels are neighbours; flattening throws the 2-D layout away.",
            ),
            (
                "Sliding the same kernel over every position keeps the number of parameters small.",
                "This one is true: a 5×5 kernel has 25 weights wherever it is applied.",
            ),
            (
                "As height and width shrink through the layers, LeNet adds channels, so each "
                "position carries more features than before.",
                "This one is true: 6 channels at 28×28, then 16 channels at 10×10. More "
                "channels do not keep all the information, though: 6 × 28 × 28 = 4,704 values "
                "become 16 × 10 × 10 = 1,600.",
            ),
        ],
        answer=1,
        topic="convolutions",
    ),
    number(
        "conv-rgb-params",
        "A 5×5 convolution maps a 3-channel image to 256 channels. How many parameters "
        "(with biases)?",
        19456,
        "3 × 5 × 5 × 256 weights + 256 biases = 19,456, against 768 million for a dense "
        "layer on a 1000×1000 photo.",
        "Each output channel has one 5×5 kernel per input channel plus one bias.",
        topic="convolutions",
    ),
    choice(
        "translation",
        "An image is shifted 3 pixels to the right. What happens to the feature map of a "
        "stride-1 convolution (away from the borders)?",
        [
            (
                "It changes completely",
                "Not so: the same kernel is applied at every position, "
                "so the same pattern gives the same response, just elsewhere.",
            ),
            ("It does not change", "It does change: the responses move with the pattern."),
            (
                "It shifts 3 pixels to the right too",
                "Convolution is translation-equivariant: "
                "shift the input and the output shifts by the same amount.",
            ),
        ],
        answer=2,
        topic="convolutions",
    ),
]

SHAPES = [
    number(
        "d2l-field",
        "In the d2l LeNet (5×5 convolution, 2×2 pooling with stride 2, 5×5 convolution, 2×2 "
        "pooling with stride 2), how many input pixels wide is the receptive field of one unit "
        "of the second pooling layer, the part of the 28×28 image that unit can see?",
        16,
        "5 (first convolution), 6 (first pooling), 6 + 4 × 2 = 14 (second convolution), "
        "14 + 1 × 4 = 16: each of the 400 flattened values sees a 16×16 patch, and only the "
        "linear layers see the whole image.",
        "Each layer adds (kernel − 1) × (product of the strides before it) pixels to the width.",
        topic="shapes",
    ),
    choice(
        "shape-c3",
        "In the d2l LeNet, a 1×1×28×28 input reaches the second convolution (6 → 16 "
        "channels, 5×5, no padding) as 1×6×14×14. What shape comes out?",
        [
            (
                "[1, 16, 10, 10]",
                "A 5×5 kernel without padding removes 4 pixels: 14 − 5 + 1 = 10, "
                "with 16 output channels.",
            ),
            ("[1, 16, 14, 14]", "Only a padding of 2 would keep 14×14; this convolution has none."),
            ("[1, 6, 10, 10]", "The number of output channels is the number of kernels: 16."),
            ("[1, 16, 5, 5]", "That is after the next pooling layer."),
        ],
        answer=0,
        topic="shapes",
    ),
    number(
        "same-padding",
        "Which padding keeps a 28×28 map 28×28 through a 5×5 convolution with stride 1?",
        2,
        "(28 + 2p − 5) + 1 = 28 gives p = 2: (k − 1)/2 for an odd kernel k.",
        "Solve 28 + 2p − 5 + 1 = 28 for p.",
        topic="shapes",
    ),
    choice(
        "pool-params",
        "How many parameters does a 2×2 max-pooling layer learn?",
        [
            (
                "4, one per position of the window",
                "Max pooling takes the largest value; there is nothing to weight.",
            ),
            (
                "None",
                "It only picks the largest value in each window. (The paper's S2 is "
                "different: one trainable coefficient and bias per map.)",
            ),
            (
                "One per channel",
                "Max pooling learns nothing; the paper's subsampling layers (S2, S4) learn two "
                "numbers per map, a coefficient and a bias.",
            ),
        ],
        answer=1,
        topic="shapes",
    ),
]

TRAINING = [
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

PAPER = [
    choice(
        "map-loss",
        "The MAP loss of one image is y_D + log(e^(−j) + Σ_i e^(−y_i)), where y_D is the RBF "
        "penalty (squared distance) of the correct class. What does the log term add?",
        [
            (
                "A reward for large penalties of the other classes: the loss falls as they move "
                "away, until they are well beyond j",
                "Each e^(−y_i) shrinks as y_i grows, so pushing a wrong class away lowers the "
                "loss; once e^(−y_i) is small next to e^(−j) the push fades.",
            ),
            (
                "A second copy of the correct class's penalty, to train it twice as fast",
                "The correct class is inside the sum too, but the term's job is the other "
                "classes: without them the loss would be y_D alone.",
            ),
            (
                "A softmax over the 84 units of F6",
                "The sum runs over the 10 RBF outputs (plus the constant e^(−j)), not over F6.",
            ),
            (
                "Weight decay that keeps F6's outputs small",
                "No weights appear in it, only the ten penalties and the constant j.",
            ),
        ],
        answer=0,
        topic="paper",
    ),
    choice(
        "rbf-collapse",
        "Suppose the RBF centres were trained too and the loss were only y_D, the correct "
        "class's penalty. What could training end up with?",
        [
            (
                "The same as the paper: the centres settle near the digit bitmaps",
                "Nothing in y_D alone keeps the centres apart or near the bitmaps.",
            ),
            (
                "All ten centres equal and F6 always at that point: every penalty 0, a loss of "
                "0, and a network that tells no digit from another",
                "The collapse the paper warns about: fixed centres prevent it, and the MAP "
                "loss's log term would penalise it (all ten e^(−y_i) equal to 1).",
            ),
            (
                "Training would stop with an error, because the centres are a buffer",
                "A buffer is simply not trained; making the centres parameters is a one-line "
                "change and trains without error.",
            ),
        ],
        answer=1,
        topic="paper",
    ),
    number(
        "masked-c3",
        "Implementing C3 as a full 6 → 16 convolution whose missing connections are masked "
        "to zero: how many trainable parameters does the model then report?",
        60900,
        "A full C3 has 16 × 6 × 25 + 16 = 2,416 parameters instead of 1,516: the 900 "
        "masked weights still count, so 60,900.",
        "Compare a full Conv2d(6, 16, 5) with the 1,516 parameters of the real C3.",
        topic="paper",
    ),
    choice(
        "c3-why",
        "Why does the paper connect each C3 map to only some S2 maps (Table I)? Besides "
        "keeping the number of connections down, the paper gives one more reason. Which?",
        [
            (
                "Without it the C3 maps would not come out 10×10",
                "The shape does not depend on the table: a full 6 → 16 convolution with 5×5 "
                "kernels also turns 14×14 maps into 10×10.",
            ),
            (
                "It breaks the symmetry: maps that get different inputs are pushed to learn "
                "different, complementary features",
                "The paper's argument: with a full table all 16 maps see the same inputs, with "
                "Table I each sees its own combination of S2 maps.",
            ),
            (
                "It is a form of dropout against overfitting",
                "Dropout removes random units during training only; Table I is fixed and used "
                "at test time too.",
            ),
            (
                "A fully connected C3 could not be trained by gradient descent",
                "It can: the d2l LeNet's second convolution is a full 6 → 16 convolution and "
                "trains well.",
            ),
        ],
        answer=1,
        topic="paper",
    ),
    choice(
        "f6-84",
        "Why does F6 have 84 units?",
        [
            (
                "84 = 7 × 12: each RBF unit compares F6 with a 7×12 bitmap of its digit",
                "The output layer measures the distance from F6 to stylised pictures of the "
                "ten digits.",
            ),
            (
                "84 is 120 × 0.7, a usual shrink factor",
                "The number comes from the bitmaps, not from a rule of thumb.",
            ),
            (
                "The funnel 120 → 84 → 10 shrinks gradually, a choice found by trial",
                "The d2l LeNet copies 84 from the paper, but there it is fixed by the bitmaps: "
                "one F6 unit per pixel of a 7×12 picture.",
            ),
        ],
        answer=0,
        topic="paper",
    ),
    number(
        "squash-one",
        "The paper squashes with f(a) = 1.7159 · tanh(2a/3). What is f(1)? (two decimals)",
        1.0,
        "1.7159 · tanh(2/3) ≈ 1.00: the constants are chosen so that f(±1) = ±1, right "
        "where the slope is still large.",
        "Compute tanh(2/3) and multiply by 1.7159.",
        tolerance=0.005,
        topic="paper",
    ),
]

FINAL = PARAMETERS + CONVOLUTIONS + SHAPES + TRAINING + PAPER

"""The final quiz (chapter 5): questions across all chapters, grouped by topic."""

from lenet_nb.quiz_question import choice_question as choice
from lenet_nb.quiz_question import numeric_question as number

PARAMETERS = [
    # From the Boyu course (seed 003): where do LeNet's parameters live?
    choice(
        "boyu-lenet-wrong",
        "Which statement about LeNet is FALSE?",
        [
            (
                "It has two parts: a convolutional block followed by a fully-connected block.",
                "This one is true: convolutions and pooling first, then three linear layers.",
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
        "Without padding (seed 001) the maps before flattening are 16 × 4 × 4. How many "
        "parameters does the first linear layer (→ 120 units) have then?",
        30840,
        "256 × 120 + 120 = 30,840, against 48,120 with padding: padding grows the maps and "
        "so the first linear layer.",
        "Inputs = 16 × 4 × 4 = 256; weights = inputs × 120; add 120 biases.",
        topic="parameters",
    ),
]

CONVOLUTIONS = [
    # From the Boyu course (seed 003): which statement about CNNs is wrong?
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
                "As height and width shrink through the layers, adding channels keeps the "
                "information.",
                "This one is true: LeNet goes from 6 channels at 28×28 to 16 channels at 10×10.",
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
        "Seed 003's train_ch5 evaluates the whole test set inside the batch loop. With "
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
        "Seed 001 divides the number of correct test predictions by batches × batch_size "
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
        "Does shuffle=True on the test loader change the measured test accuracy?",
        [
            (
                "No, only the order of the images",
                "Accuracy sums over the whole test set; "
                "shuffling only costs a little time and makes batches harder to compare.",
            ),
            (
                "Yes, it makes the estimate unbiased",
                "The test set is used whole; its order cannot bias a sum.",
            ),
        ],
        answer=0,
        topic="training",
    ),
]

PAPER = [
    number(
        "paper-params",
        "How many trainable parameters does the paper's LeNet-5 have?",
        60000,
        "C1 156 + S2 12 + C3 1,516 + S4 32 + C5 48,120 + F6 10,164 = 60,000.",
        "Add up C1 to F6; the RBF bitmaps are fixed, not trained.",
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
        "Why does the paper connect each C3 map to only some S2 maps?",
        [
            (
                "Computers of 1998 could not run a full convolution",
                "Compute was tight, but "
                "the paper gives two other reasons: fewer connections and broken symmetry.",
            ),
            (
                "To keep the connections few and break symmetry",
                "Different maps get different "
                "inputs, so they are pushed to learn different features.",
            ),
            (
                "It is a form of dropout",
                "Dropout drops random units during training only; "
                "Table I is fixed and used at test time too.",
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
            ("There are 84 classes of characters in MNIST", "MNIST has 10 classes."),
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

"""Chapter 2's questions: the self-check on shapes; the final quiz's "parameters" and "shapes"."""

from lenet_nb.quiz.question import choice_question as choice
from lenet_nb.quiz.question import numeric_question as number

SELF_CHECK = [
    number(
        "shapes-jump-s4",
        "In the d2l LeNet (5×5 convolutions with stride 1, 2×2 poolings with stride 2), how many "
        "input pixels apart are two neighbouring units of S4's map (the jump j)?",
        4,
        "Only strides change the jump, and each multiplies it: 1 (C1) · 2 (S2) · 1 (C3) · 2 (S4) "
        "= 4. Neighbouring S4 units look at windows of the image shifted by 4 pixels.",
        "Padding and kernel size do not move neighbours apart; strides do.",
    ),
    number(
        "shapes-formula",
        "Output side = ⌊(n + 2p − k)/s⌋ + 1. A 3×3 max pool with stride 2 and no padding "
        "meets a 28×28 map. What is the output side?",
        13,
        "⌊(28 − 3)/2⌋ + 1 = 12 + 1 = 13: the floor drops the last column that would not fit.",
        "Compute (28 + 0 − 3)/2, round down, then add 1.",
    ),
    number(
        "shapes-params-total",
        "How many trainable parameters does the d2l LeNet have (weights and biases)?",
        61706,
        "156 + 2,416 for the convolutions and 48,120 + 10,164 + 850 for the three linear "
        "layers: 61,706.",
        "Count weights and biases of each layer: Conv(1→6, 5×5), Conv(6→16, 5×5), "
        "Linear 400→120, 120→84, 84→10.",
    ),
    choice(
        "shapes-macs-share",
        "For one 28×28 image, which part of the d2l LeNet does most of the multiply-adds?",
        [
            (
                "The three linear layers",
                "They hold 95.8 % of the parameters, but each weight is used once per image: "
                "58,920 of the 416,520 multiply-adds.",
            ),
            (
                "The two convolutions",
                "Each kernel weight is reused at every position of its output map: 357,600 of "
                "the 416,520 multiply-adds (85.9 %) with 4.2 % of the parameters.",
            ),
            (
                "The pooling and sigmoid layers",
                "They have no weights: pooling averages 2×2 windows and the sigmoid works "
                "element by element, so they do no weight-times-input products at all.",
            ),
        ],
        answer=1,
    ),
]


FINAL_PARAMETERS = [
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


FINAL_SHAPES = [
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

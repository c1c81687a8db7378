"""Chapter 1's questions: the self-check on why convolutions; the final quiz's "convolutions"."""

from lenet_nb.quiz.question import choice_question as choice
from lenet_nb.quiz.question import numeric_question as number

SELF_CHECK = [
    number(
        "fc-1x1-weights",
        "A 1×1 convolution maps 64 input channels to 16 output channels. How many weights "
        "does it have, biases not counted?",
        1024,
        "At every pixel it is the same dense layer from 64 values to 16: a 16 × 64 matrix, "
        "1,024 weights, whatever the image size.",
        "Each output channel has one weight for each input channel.",
    ),
    number(
        "fc-dense-memory",
        "A 1000×1000 RGB photo feeds a fully-connected layer of 256 units. How many GB "
        "(10⁹ bytes) do its weights take in float32? (two decimals)",
        3.07,
        "3,000,000 inputs × 256 units = 768 million weights, × 4 bytes ≈ 3.07 GB, "
        "for a single layer.",
        "Inputs = 1000 × 1000 × 3; each input meets each of the 256 units; a float32 is 4 bytes.",
        tolerance=0.01,
    ),
    choice(
        "fc-conv-size",
        "A 5×5 convolution with 6 output channels has 156 parameters on a 28×28 grey image. "
        "How many does it have on a 1000×1000 grey image?",
        [
            (
                "About 200,000 (scaled by the image area)",
                "The kernels are shared across "
                "positions; only the size of the output grows with the image, not the weights.",
            ),
            (
                "156, the same",
                "The same 6 kernels of 5×5 (plus 6 biases) slide over "
                "every position, whatever the image size.",
            ),
            ("6 × 1000 × 1000", "That is the number of output values, not of weights."),
        ],
        answer=1,
    ),
    choice(
        "fc-permutation",
        "Every image (train and test) gets the same fixed random shuffle of its 784 pixels. "
        "Which network's test accuracy barely changes?",
        [
            (
                "LeNet",
                "LeNet relies on neighbouring pixels belonging together; the shuffle "
                "destroys that, so its accuracy drops.",
            ),
            (
                "Both drop to chance",
                "The labels still follow from the pixels: the MLP, "
                "which never used pixel order, learns as before.",
            ),
            (
                "The MLP",
                "To a fully-connected layer a fixed permutation is only a "
                "relabelling of its inputs; it can learn the permuted weights just as well.",
            ),
        ],
        answer=2,
    ),
]


FINAL_CONVOLUTIONS = [
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

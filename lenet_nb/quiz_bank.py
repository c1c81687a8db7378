"""The questions: a short self-check per chapter (ch1-ch4) and the final quiz (ch5)."""

from lenet_nb.quiz_final import FINAL
from lenet_nb.quiz_question import choice_question as choice
from lenet_nb.quiz_question import numeric_question as number

CH1 = [
    number(
        "ch1-1x1-weights",
        "A 1×1 convolution maps 64 input channels to 16 output channels. How many weights "
        "does it have, biases not counted?",
        1024,
        "At every pixel it is the same dense layer from 64 values to 16: a 16 × 64 matrix, "
        "1,024 weights, whatever the image size.",
        "Each output channel has one weight for each input channel.",
    ),
    number(
        "ch1-dense-memory",
        "A 1000×1000 RGB photo feeds a fully-connected layer of 256 units. How many GB "
        "(10⁹ bytes) do its weights take in float32? (two decimals)",
        3.07,
        "3,000,000 inputs × 256 units = 768 million weights, × 4 bytes ≈ 3.07 GB, "
        "for a single layer.",
        "Inputs = 1000 × 1000 × 3; each input meets each of the 256 units; a float32 is 4 bytes.",
        tolerance=0.01,
    ),
    choice(
        "ch1-conv-size",
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
        "ch1-permutation",
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

CH2 = [
    choice(
        "ch2-shape-s2",
        "The d2l LeNet (5×5 convolutions, padding 2 on the first, 2×2 average pooling with "
        "stride 2) gets a 1×1×28×28 input. What is the shape after the first pooling layer?",
        [
            ("[1, 6, 28, 28]", "That is the shape after the convolution; pooling still halves it."),
            (
                "[1, 6, 12, 12]",
                "Without padding the convolution would give 24×24 and pooling "
                "12×12, but this net pads its first convolution by 2.",
            ),
            (
                "[1, 6, 14, 14]",
                "The padded convolution keeps 28×28 with 6 channels, "
                "the pooling halves height and width.",
            ),
            ("[1, 16, 14, 14]", "The first convolution has 6 output channels; 16 come later."),
        ],
        answer=2,
    ),
    number(
        "ch2-formula",
        "Output side = ⌊(n + 2p − k)/s⌋ + 1. A 3×3 max pool with stride 2 and no padding "
        "meets a 28×28 map. What is the output side?",
        13,
        "⌊(28 − 3)/2⌋ + 1 = 12 + 1 = 13: the floor drops the last column that would not fit.",
        "Compute (28 + 0 − 3)/2, round down, then add 1.",
    ),
    number(
        "ch2-params-total",
        "How many trainable parameters does the d2l LeNet have (weights and biases)?",
        61706,
        "156 + 2,416 for the convolutions and 48,120 + 10,164 + 850 for the three linear "
        "layers: 61,706.",
        "Count weights and biases of each layer: Conv(1→6, 5×5), Conv(6→16, 5×5), "
        "Linear 400→120, 120→84, 84→10.",
    ),
    choice(
        "ch2-macs-share",
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

CH3 = [
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

CH4 = [
    number(
        "ch4-trainable",
        "How many trainable parameters does the paper's LeNet-5 have?",
        60000,
        "156 + 12 + 1,516 + 32 + 48,120 + 10,164 = 60,000; the 840 RBF weights are fixed.",
        "Add C1, S2, C3, S4, C5 and F6; the RBF output layer is not trained.",
    ),
    choice(
        "ch4-map-j",
        "In the MAP loss (j = 5), a wrong class's penalty is already 30. How much does the loss "
        "change if that penalty grows further?",
        [
            (
                "Almost nothing",
                "Its term e^(−30) is tiny next to the rubbish term e^(−5) inside the log: once "
                "a wrong class is well beyond j, pushing it further gains nothing.",
            ),
            (
                "It falls in proportion",
                "The wrong classes enter only through e^(−y_i), which is already close to 0 "
                "at a penalty of 30.",
            ),
            (
                "It rises",
                "A larger penalty for a wrong class can only lower log(e^(−j) + Σ e^(−y_i)), "
                "and here by a negligible amount.",
            ),
        ],
        answer=0,
    ),
    choice(
        "ch4-c3-full",
        "In Table I of the paper, how many of C3's 16 maps take input from all six S2 maps?",
        [
            (
                "All 16",
                "That would be an ordinary 6→16 convolution; the paper leaves "
                "connections out on purpose.",
            ),
            ("Six", "Six maps see three contiguous S2 maps each; only one sees all six."),
            (
                "One (the last)",
                "Maps 0–5 see 3 maps, 6–14 see 4, and only map 15 "
                "sees all 6: 60 connections instead of 96.",
            ),
            ("None", "The last C3 map is connected to all six S2 maps."),
        ],
        answer=2,
    ),
    choice(
        "ch4-rbf",
        "How does the paper's RBF output layer pick the predicted digit?",
        [
            (
                "The unit with the largest output",
                "Argmax would pick the farthest bitmap: the outputs are distances, not scores.",
            ),
            (
                "The unit with the smallest output",
                "Each output is a squared distance "
                "between F6 and a fixed 7×12 bitmap of a digit; nearest wins (argmin).",
            ),
            (
                "A softmax over the 84 F6 units",
                "There are 84 F6 units but 10 classes; the "
                "paper compares F6 with 10 bitmaps instead.",
            ),
        ],
        answer=1,
    ),
]

BANKS = {"ch1": CH1, "ch2": CH2, "ch3": CH3, "ch4": CH4, "ch5": FINAL}
TITLES = {
    "ch1": "Self-check: why convolutions",
    "ch2": "Self-check: shapes",
    "ch3": "Self-check: training",
    "ch4": "Self-check: the paper's LeNet-5",
    "ch5": "Final quiz",
}

"""Chapter 7's questions: the self-check on drawing and looking inside."""

from lenet_nb.quiz.question import choice_question as choice
from lenet_nb.quiz.question import numeric_question as number

SELF_CHECK = [
    number(
        "draw-box",
        "After the MNIST-style preprocessing, how many pixels long is the longer side of the "
        "digit's ink box (in the 28×28 field)?",
        20,
        "The crop is scaled so that its longer side is 20 px, keeping the aspect ratio. The "
        "28×28 field leaves 8 px to spare, but the centre of mass, not the box, goes to pixel "
        "14: a lopsided digit sits off the middle, closer to one border than 4 px.",
        "MNIST fitted each digit into a square box smaller than the field.",
    ),
    choice(
        "draw-centre",
        "Why does the preprocessing move the ink's centre of mass, not the box's middle, to the "
        "centre of the field?",
        [
            ("It is faster to compute",
             "Both are cheap; the reason is the training data, not speed."),
            ("Because MNIST's digits were centred that way, and a network reads best inputs "
             "prepared like its training images",
             "A 7 whose bar is heavy sits differently under the two rules; the networks only "
             "ever saw the centre-of-mass placement."),
            ("The box's middle is not defined for thin strokes",
             "Every non-empty ink box has a middle."),
        ],
        answer=1,
    ),
    number(
        "draw-c3-field",
        "A unit of LeNet-5's C3 reads a square of the 32×32 input. How many pixels wide is it?",
        14,
        "C1 reads 5 px. S2's 2×2 window adds (2 - 1) × 1 = 1 px and makes neighbouring units "
        "2 px apart; C3's 5×5 kernel then adds (5 - 1) × 2 = 8 px: 5 + 1 + 8 = 14 px.",
        "Each layer adds (kernel - 1) × (product of the strides before it) to the width.",
    ),
    number(
        "draw-c5-field",
        "How many pixels wide is the receptive field of a C5 unit?",
        32,
        "16 (an S4 unit) + (5 - 1) × 4 = 32: every C5 unit sees the whole input.",
        "Continue the rule from C3 (14 px, step 2) through S4 (2×2, stride 2) and C5 (5×5).",
    ),
    choice(
        "draw-shift",
        "A digit is moved 2 pixels to the right. What happens to LeNet-5's C1 maps?",
        [
            ("They move 2 pixels to the right as well (away from the borders)",
             "A convolution slides the same kernel everywhere: shifting the input shifts its "
             "maps (equivariance). Invariance only comes later, partly, from pooling."),
            ("They stay exactly the same",
             "That would be invariance; C1's maps move with the input."),
            ("They change unpredictably",
             "Each C1 unit computes the same function of its 5×5 patch wherever it is."),
        ],
        answer=0,
    ),
]

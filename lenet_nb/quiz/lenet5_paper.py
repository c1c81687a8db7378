"""Chapter 5's questions: the self-check on the paper's LeNet-5; the final quiz's "paper" topic."""

from lenet_nb.quiz.question import choice_question as choice
from lenet_nb.quiz.question import numeric_question as number

SELF_CHECK = [
    number(
        "paper-trainable",
        "How many trainable parameters does the paper's LeNet-5 have?",
        60000,
        "156 + 12 + 1,516 + 32 + 48,120 + 10,164 = 60,000; the 840 RBF weights are fixed.",
        "Add C1, S2, C3, S4, C5 and F6; the RBF output layer is not trained.",
    ),
    choice(
        "paper-longer",
        "The distorted LeNet-5 trains for 30 epochs, the plain one for the paper's 20. Why does "
        "the chapter also store plain runs of 30 epochs?",
        [
            (
                "To tell the effect of the distortions from the effect of training longer",
                "Against the 20-epoch runs, the distorted ones change two things at once; the "
                "plain 30-epoch runs change only the length, so distorted against plain-30 "
                "measures the distortions alone.",
            ),
            (
                "Because 30 epochs is the paper's budget",
                "The paper trained for 20 passes; the 30 epochs are our choice for the harder, "
                "distorted images.",
            ),
            (
                "To have more seeds to average",
                "Every setting has the same three seeds; the extra runs differ in their length, "
                "not in their number.",
            ),
        ],
        answer=0,
    ),
    choice(
        "paper-c3-full",
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
        "paper-rbf",
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


FINAL_PAPER = [
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

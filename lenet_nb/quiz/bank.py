"""Every quiz by its name: one self-check per chapter and the final quiz, with their titles."""

from lenet_nb.quiz import draw_and_look_inside, fc_limits, lenet5_paper, shapes, training
from lenet_nb.quiz.final import FINAL

BANKS = {
    "ch1": fc_limits.SELF_CHECK,
    "ch2": shapes.SELF_CHECK,
    "ch3": training.SELF_CHECK,
    "ch4": lenet5_paper.SELF_CHECK,
    "ch5": FINAL,
    "ch6": draw_and_look_inside.SELF_CHECK,
}
TITLES = {
    "ch1": "Self-check: why convolutions",
    "ch2": "Self-check: shapes",
    "ch3": "Self-check: training",
    "ch4": "Self-check: the paper's LeNet-5",
    "ch5": "Final quiz",
    "ch6": "Self-check: drawing and looking inside",
}

"""Every quiz by its name: one self-check per chapter and the final quiz, with their titles.

Quizzes are named by their chapter's notebook slug (`self_check("training_loop")` in
`03_training_loop`), so renumbering the chapters changes no name; the final quiz is `"final"`.
"""

from lenet_nb.quiz import (
    draw_and_look_inside,
    fc_limits,
    lenet5_paper,
    recipes,
    shapes,
    training_loop,
)
from lenet_nb.quiz.final import FINAL

BANKS = {
    "fc_limits": fc_limits.SELF_CHECK,
    "shapes": shapes.SELF_CHECK,
    "training_loop": training_loop.SELF_CHECK,
    "recipes": recipes.SELF_CHECK,
    "lenet5_paper": lenet5_paper.SELF_CHECK,
    "final": FINAL,
    "draw_and_look_inside": draw_and_look_inside.SELF_CHECK,
}
TITLES = {
    "fc_limits": "Self-check: why convolutions",
    "shapes": "Self-check: shapes",
    "training_loop": "Self-check: the training loop",
    "recipes": "Self-check: recipes and pitfalls",
    "lenet5_paper": "Self-check: the paper's LeNet-5",
    "final": "Final quiz",
    "draw_and_look_inside": "Self-check: drawing and looking inside",
}

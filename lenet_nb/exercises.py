"""The checkers of every exercise in chapters 1–4, one section per chapter.

Each `check_*` takes what the learner wrote (a function, a module, a number) and returns a
`lenet_nb.checking.Verdict`: "✔ …" or "✘ …, not yet: <what is wrong and a hint>". A checker
compares with the package's reference on small inputs and never raises, whatever it is given.
"""

from lenet_nb.checking import NotYet, call, checker, expect_equal, expect_tensor, require_answer

__all__ = ["NotYet", "call", "checker", "expect_equal", "expect_tensor", "require_answer"]

# ---------------------------------------------------------------- Chapter 1: convolutions


# ---------------------------------------------------------------- Chapter 2: shapes and sizes


# ---------------------------------------------------------------- Chapter 3: training


# ---------------------------------------------------------------- Chapter 4: the paper's LeNet-5

"""Every exercise checker: passes on the reference solution, says precisely what is wrong on the
stub and on typical wrong answers, and never raises. One section per chapter."""

import torch  # noqa: F401  (used by the chapter sections)

from lenet_nb import exercises as ex  # noqa: F401

# ---------------------------------------------------------------- Chapter 1: convolutions


# ---------------------------------------------------------------- Chapter 2: shapes and sizes


# ---------------------------------------------------------------- Chapter 3: training


# ---------------------------------------------------------------- Chapter 4: the paper's LeNet-5

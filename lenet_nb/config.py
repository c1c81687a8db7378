"""The one quick-mode knob: notebooks ask `reduce_in_tests(full, quick)` instead of branching."""

import os

QUICK_ENV = "LENET_NB_QUICK"
_TRUE = {"1", "true", "yes", "on"}


def is_quick():
    """Return True when quick mode is on (LENET_NB_QUICK=1, set by the repo's conftest.py)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in _TRUE


def reduce_in_tests(full, quick):
    """Return `quick` in quick mode (tests, CI) and `full` otherwise."""
    return quick if is_quick() else full

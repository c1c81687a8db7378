"""The one quick-mode knob: notebooks ask `reduce_in_tests(full, quick)` instead of branching.

LENET_NB_QUICK (case and surrounding spaces ignored) turns quick mode on with 1, true, yes or
on, and off with 0, false, no or off; unset means off (full runs). Any other value, the empty
string included, is an error rather than a silent full run.

LENET_NB_ROOT names the course folder (COURSE_ROOT: results/, checkpoints/ and by default data/)
for a package installed outside the repository, as in a classroom image; unset, it is the
repository above the package.
"""

import os
from pathlib import Path

QUICK_ENV = "LENET_NB_QUICK"
ROOT_ENV = "LENET_NB_ROOT"
# `~` expanded; a relative value is taken from the working folder once, at import
COURSE_ROOT = Path(os.path.abspath(os.path.expanduser(os.environ.get(ROOT_ENV, "").strip()))
                   if os.environ.get(ROOT_ENV, "").strip()
                   else Path(__file__).resolve().parent.parent)
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def is_quick():
    """Return True when quick mode is on (LENET_NB_QUICK=1, set by the repo's conftest.py)."""
    value = os.environ.get(QUICK_ENV)
    if value is None:
        return False
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{QUICK_ENV}={value!r} is not understood: set it to one of "
                     f"{', '.join(TRUE_WORDS)} (quick mode) or {', '.join(FALSE_WORDS)} "
                     f"(full runs), or unset it for full runs")


def reduce_in_tests(full, quick):
    """Return `quick` in quick mode (tests, CI) and `full` otherwise."""
    return quick if is_quick() else full

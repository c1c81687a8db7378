"""The checkers of the grading fixture chapter (`01_grading_fixture.py` beside this file).

Written like a chapter's checker module (lenet_nb/exercises/<slug>.py): a registry in notebook
order, one `check_<name>` per exercise built on lenet_nb.exercises.checking. `nbgrader_mode` is
the convention's behaviour under nbgrader (docs/exercises.md): with NBGRADER_EXECUTION set, a pass
prints its line and returns None and anything else raises AssertionError, so nbgrader scores a
check cell exactly when the answer is right. (Where the shared `checker` does this itself, the
wrapper passes its None or its exception through unchanged.)
"""

import functools
import os

from lenet_nb.exercises.checking import NotYet, call, checker, expect_equal, require_answer

CHAPTER = 1
EXERCISES = {
    "double": "complete the code",
    "count": "predict, then run",
    "mean": "find the bug",
    "largest": "change and observe",
}


def nbgrader_mode(check):
    """Under nbgrader: print a pass, raise AssertionError on anything else."""

    @functools.wraps(check)
    def run(*args, **kwargs):
        verdict = check(*args, **kwargs)
        if not os.environ.get("NBGRADER_EXECUTION") or verdict is None:
            return verdict
        if not verdict:
            raise AssertionError(repr(verdict))
        print(repr(verdict))
        return None

    return run


@nbgrader_mode
@checker("double")
def check_double(double):
    """Complete the code: `double(x)` returns 2 x."""
    for x in (1, -3, 2.5, 10):
        expect_equal(call(double, x), 2 * x, f"double({x})")
    return "double(x) is 2 x for ints, negatives and floats"


@nbgrader_mode
@checker("count")
def check_count(count):
    """Predict, then run: how many items `range(2, 10, 3)` gives."""
    require_answer(count, "count")
    expect_equal(count, 3, "your count", reveal=False,
                 hints=[(lambda c: c == 8, "that is the stop minus the start: count the steps")])
    return "2, 5 and 8"


@nbgrader_mode
@checker("mean")
def check_mean(mean):
    """Find the bug: the mean of a list."""
    got = call(mean, [1, 2, 3])
    if got == 1.5:
        raise NotYet("mean([1, 2, 3]) is 1.5: count the items again")
    expect_equal(got, 2.0, "mean([1, 2, 3])")
    expect_equal(call(mean, [4.0]), 4.0, "mean([4.0])")
    return "the sum divided by the number of items"


@nbgrader_mode
@checker("largest")
def check_largest(observed, largest):
    """Change and observe: the largest square among the sizes the learner ran."""
    require_answer(largest, "largest")
    if len(observed) < 2:
        raise NotYet(f"observed holds only {sorted(observed)}: add sizes and run the cell above")
    expect_equal(largest, max(observed.values()), "largest")
    return f"{largest} = {max(observed)}², the largest of your {len(observed)} runs"

# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,nbgrader,-all
#     formats: notebooks///ipynb,notebooks_py///py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A fixture chapter for the nbgrader round trip
#
# Four small exercises written with the course's exercise convention (docs/exercises.md), one of
# each kind that has an answer cell, a run cell or a stub block, so that the nbgrader round trip
# (tests/course/test_grading.py) runs in seconds. Its checkers are in `checks.py` beside it.

# %%
from tests.course.grading_fixture import checks as ex

# %% [markdown]
# #### Exercise 1.1 (complete the code): double a number
#
# Write `double(x)`, which returns twice `x`.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-1-double-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-1-double", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_double(double)

# %% [markdown]
# #### Exercise 1.2 (predict, then run): how many steps
#
# How many numbers does `range(2, 10, 3)` give? Write your prediction, check it, then run the
# cell after the check.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-2-count-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
count = 3
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-2-count", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_count(count)

# %%
print(list(range(2, 10, 3)))

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> why</summary>
#
# The range starts at 2 and moves 3 at a time while it stays below 10.
#
# </details>

# %% [markdown]
# #### Exercise 1.3 (find the bug): a mean that comes out too small
#
# `mean([1, 2, 3])` should be 2. Find the bug; change nothing else.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-3-mean-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mean(xs):
    """The mean of a list of numbers."""
    ### BEGIN SOLUTION
    return sum(xs) / len(xs)
    ### END SOLUTION
    ### BEGIN STUB
    # return sum(xs) / (len(xs) + 1)
    ### END STUB


print(mean([1, 2, 3]))

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-3-mean", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_mean(mean)

# %% [markdown]
# #### Exercise 1.4 (change and observe): the largest square
#
# Run the squares of more sizes, then say which square was the largest.

# %%
observed = {}

# %% tags=["exercise-run"] nbgrader={"grade": false, "grade_id": "ex-01-4-largest-run", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
sizes = [1, 2, 3]
### END SOLUTION
### BEGIN STUB
# sizes = [1]
### END STUB
for n in sizes:
    observed[n] = n * n
print(observed)

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-4-largest-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
largest = max(observed.values())
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-4-largest", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_largest(observed, largest)

# %% [markdown]
# The chapter goes on after its exercises, whatever their state:

# %%
print("the end")

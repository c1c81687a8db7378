"""What every exercise checker shares: a printable verdict, safe calls into learner code, hints.

A checker is a function decorated with `@checker("name")` in a chapter's module, which declares
`CHAPTER = 3` and `EXERCISES = {"name": "kind", ...}` in notebook order (exercise 3.n is the n-th
name; docs/exercises.md). Inside it, `call` runs the learner's code, `expect_tensor` /
`expect_equal` compare with the reference, `NotYet("hint")` reports a specific problem and
`NotStarted` an untouched stub. Whatever the learner wrote — a stub, an exception, a wrong type —
the checker returns a `Verdict` (one line: `✔ 3.2 train_epoch: …`, `✘ 3.2 train_epoch, not yet:
…`, `○ 3.2 train_epoch, not started: …`); it never raises. Under nbgrader (`NBGRADER_EXECUTION`
set) a passing check prints its line and returns None, any other raises AssertionError.
"""

import functools
import inspect
import math
import numbers
import operator
import os
import sys
import traceback
import warnings

import torch

STUB = "...  # your code here"  # what the student edition puts in place of a solution
STUB_HINT = "replace the `...` with your code"
KINDS = ("complete the code", "predict, then run", "change and observe", "find the bug",
         "challenge")
PASSED, FAILED, NOT_STARTED = "✔", "✘", "○"


class NotYet(Exception):
    """Raised inside a checker to report what is wrong with the learner's answer."""


class NotStarted(NotYet):
    """Raised inside a checker when the answer is still the student edition's stub."""


class Verdict:
    """The outcome of one exercise check, shown as one line of text."""

    def __init__(self, exercise, passed, message, number=None, started=True):
        self.exercise, self.passed, self.message = exercise, passed, message
        self.number, self.started = number, started or passed

    def __bool__(self):
        return self.passed

    @property
    def mark(self):
        """✔, ✘ or ○."""
        return PASSED if self.passed else FAILED if self.started else NOT_STARTED

    def __repr__(self):
        label = f"{self.number} {self.exercise}" if self.number else self.exercise
        if self.passed:
            return f"{PASSED} {label}: {self.message}"
        if not self.started:
            return f"{NOT_STARTED} {label}, not started: {self.message}"
        return f"{FAILED} {label}, not yet: {self.message}"


def exercise_number(module_name, exercise):
    """'3.2' for the 2nd name of the registry of chapter 3's module, None outside a registry."""
    module = sys.modules.get(module_name)
    chapter, names = getattr(module, "CHAPTER", None), getattr(module, "EXERCISES", None)
    if chapter is None or not names or exercise not in names:
        return None
    return f"{chapter}.{list(names).index(exercise) + 1}"


def nbgrader_mode():
    """True while nbgrader autogrades or validates a notebook (it sets NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def _verdict(check, exercise, args, kwargs):
    number = exercise_number(check.__module__, exercise)
    try:
        inspect.signature(check).bind(*args, **kwargs)
    except TypeError:
        names = ", ".join(inspect.signature(check).parameters)
        return Verdict(exercise, False, f"pass your answer to the checker: "
                                        f"{check.__name__}({names})", number)
    try:
        # nbgrader scores a cell 0 when anything reaches stderr: a warning must not fail an answer
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            message = check(*args, **kwargs)
    except NotStarted as problem:
        return Verdict(exercise, False, str(problem), number, started=False)
    except NotYet as problem:
        return Verdict(exercise, False, str(problem), number)
    except (Exception, SystemExit, GeneratorExit) as error:  # reported, never raised
        return Verdict(exercise, False, f"checking your answer failed with "
                                        f"{_describe(error)}", number)
    return Verdict(exercise, True, message or "correct", number)


def checker(exercise, leaks=()):
    """Turn `check(...) -> success message` into a function that always returns a Verdict.

    `leaks`: for a *predict, then run* exercise, regexes that match its answer as prose or an
    output would show it; the answer-leak test reads them (`run.leaks`).
    """

    def wrap(check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            verdict = _verdict(check, exercise, args, kwargs)
            if not nbgrader_mode():
                return verdict
            if not verdict:
                raise AssertionError(repr(verdict))
            print(repr(verdict))
            return None

        run.exercise, run.leaks = exercise, tuple(leaks)
        return run

    return wrap


def unanswered(value):
    """True for what a stub leaves behind: `...` or None."""
    return value is Ellipsis or value is None


def require_answer(value, name):
    """Raise NotYet when `value` is still the stub's `...` (or None)."""
    if unanswered(value):
        shown = "..." if value is Ellipsis else repr(value)
        raise NotStarted(f"`{name}` is still `{shown}`: {STUB_HINT}")
    return value


def _quotes_hint(value, name, what="one number"):
    """NotYet for an answer typed as text; the same words whether the text is right or not."""
    return NotYet(f"`{name}` is {value!r}, text in quotes: write {what}, without quotes")


def _whole(value):
    """`value` as an int if it is a whole number of any kind (int, NumPy, 0-d tensor), else
    None; bools are not numbers here."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return None
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.dtype == torch.bool:
            return None
        value = value.item()
    try:
        return operator.index(value)  # int, NumPy and torch integers
    except TypeError:
        pass
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    return None


def require_number(value, name):
    """The learner's numeric answer as an int (whole) or a float; NotYet naming the slip.

    NumPy and torch numbers are accepted wherever a Python one is; text gets the quotes hint.
    """
    require_answer(value, name)
    if isinstance(value, str):
        raise _quotes_hint(value, name)
    whole = _whole(value)
    if whole is not None:
        return whole
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise NotYet(f"`{name}` should be one number, got {type(value).__name__} {value!r:.60}")
    return float(value)


def require_shape(value, name, ndim=None):
    """The learner's shape as a tuple of ints: a tuple, list, torch.Size, NumPy array or 1-D
    tensor of whole numbers (NumPy and torch integers included); NotYet naming the slip."""
    require_answer(value, name)
    example = "(1, 2, 3, 4)" if ndim in (None, 4) else str(tuple(range(1, ndim + 1)))
    if isinstance(value, str):
        raise _quotes_hint(value, name, f"the shape as a tuple of whole numbers, like {example}")
    if hasattr(value, "tolist") and not isinstance(value, (tuple, list)):
        value = value.tolist()  # a NumPy array or a tensor
    items = value if isinstance(value, (tuple, list)) else None
    shape = None if items is None else tuple(_whole(v) for v in items)
    if shape is None or None in shape:
        raise NotYet(f"write `{name}` as a tuple of whole numbers, like {example}; got "
                     f"{value!r:.60}")
    if ndim is not None and len(shape) != ndim:
        raise NotYet(f"write `{name}` as a tuple of {ndim} numbers, like {example}; got "
                     f"{len(shape)}: {shape}")
    return shape


def _describe(error, raised=False):
    """What an exception from learner code says, in words (sys.exit() is named as such)."""
    if isinstance(error, SystemExit):
        return ("called sys.exit()" if raised else "a call of sys.exit()") + (
            ": a function should `return` its result; sys.exit() would stop the whole "
            "notebook")
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if isinstance(error, GeneratorExit):
        text += " (it closes a generator; raise it only inside one)"
    return f"raised {text}" if raised else text


def holds_stub(fn):
    """True when a learner function's source still contains the student edition's stub line."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):  # a builtin, a lambda typed at a prompt, a callable object
        return False
    return any(line.strip() == STUB for line in source.splitlines())


def _learner_line(error):
    """The last traceback line that points into a notebook cell or file outside lenet_nb."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if "/lenet_nb/" not in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    line = (frames[-1].line or "").strip()
    return f" in `{line}`" if line else ""


def call(fn, *args, name=None, **kwargs):
    """Call learner code `fn(*args)`; an exception becomes NotYet naming it and the line."""
    name = name or getattr(fn, "__name__", "your function")
    if unanswered(fn):
        raise NotStarted(f"`{name}` is not defined yet: {STUB_HINT}")
    if not callable(fn):
        raise NotYet(f"`{name}` should be a function, got {type(fn).__name__}")
    if holds_stub(fn):
        raise NotStarted(f"`{name}` still holds the stub: {STUB_HINT}")
    try:
        result = fn(*args, **kwargs)
    except NotYet:
        raise
    except (Exception, SystemExit, GeneratorExit) as error:  # Ctrl-C still stops the cell
        raise NotYet(f"`{name}` {_describe(error, raised=True)}"
                     f"{_learner_line(error)}") from None
    if result is None:
        raise NotYet(f"`{name}` returned None: {STUB_HINT}, and `return` the result")
    return result


def _fmt(value):
    """A short text form of a number, tuple or small tensor for a hint."""
    if isinstance(value, torch.Tensor):
        value = value.tolist() if value.numel() <= 16 else f"tensor of shape {tuple(value.shape)}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


def expect_tensor(got, expected, what, atol=1e-5, hints=()):
    """Raise NotYet unless `got` is a tensor of `expected`'s shape and values.

    `hints` is a sequence of (predicate(got) -> bool, message): the first that holds is added to
    the report, so a checker can name a typical mistake ("did you forget the bias?").
    """
    if not isinstance(got, torch.Tensor):
        raise NotYet(f"{what} should be a torch tensor, got {type(got).__name__}")
    if tuple(got.shape) != tuple(expected.shape):
        raise NotYet(f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
                     + _first_hint(got, hints))
    got_f, exp_f = got.detach().double(), expected.detach().double()
    wrong = ~torch.isclose(got_f, exp_f, atol=atol, rtol=1e-4)
    if wrong.any():
        first = int(wrong.flatten().nonzero()[0])  # the first in reading order, easiest to find
        index = tuple(int(i) for i in torch.unravel_index(torch.tensor(first), got.shape))
        raise NotYet(f"{what} has the right shape but {int(wrong.sum())} of {wrong.numel()} "
                     f"values are wrong; the first, at index {index}, is "
                     f"{_fmt(got_f[index].item())}, expected {_fmt(exp_f[index].item())}"
                     + _first_hint(got, hints))


def expect_equal(got, expected, what, hints=(), reveal=True):
    """Raise NotYet unless `got == expected` (numbers, tuples, strings).

    `reveal=False` keeps the expected value out of the report (predict-then-run exercises).
    """
    if isinstance(got, torch.Size):
        got = tuple(got)
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, list) and isinstance(expected, tuple):
        got = tuple(got)
    if got != expected:
        shown = f", expected {_fmt(expected)}" if reveal else ", which is not right"
        raise NotYet(f"{what} is {_fmt(got)}{shown}" + _first_hint(got, hints))


def _first_hint(got, hints):
    for holds, message in hints:
        try:
            if holds(got):
                return f". Hint: {message}"
        except Exception:  # a hint's own test must never hide the main report
            continue
    return ""

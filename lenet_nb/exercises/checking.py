"""What every exercise checker shares: a printable verdict, safe calls into learner code, hints.

A checker is a function decorated with `@checker("name")`. Inside it, `call` runs the learner's
code, `expect_tensor` / `expect_equal` compare with the reference, and `NotYet("hint")` reports a
specific problem. Whatever the learner wrote — a stub, an exception, a wrong type — the checker
returns a `Verdict`; it never raises.
"""

import functools
import traceback

import torch

STUB_HINT = "replace the `...` with your code"


class NotYet(Exception):
    """Raised inside a checker to report what is wrong with the learner's answer."""


class Verdict:
    """The outcome of one exercise check, shown as one or two lines of text."""

    def __init__(self, exercise, passed, message):
        self.exercise, self.passed, self.message = exercise, passed, message

    def __bool__(self):
        return self.passed

    def __repr__(self):
        if self.passed:
            return f"✔ {self.exercise}: {self.message}"
        return f"✘ {self.exercise}, not yet: {self.message}"


def checker(exercise):
    """Turn `check(...) -> success message` into a function that always returns a Verdict."""

    def wrap(check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            try:
                message = check(*args, **kwargs)
            except NotYet as problem:
                return Verdict(exercise, False, str(problem))
            except Exception as error:  # a broken answer must be reported, not crash the cell
                return Verdict(exercise, False, f"checking your answer failed with "
                                                f"{type(error).__name__}: {error}")
            return Verdict(exercise, True, message or "correct")

        return run

    return wrap


def unanswered(value):
    """True for what a stub leaves behind: `...` or None."""
    return value is Ellipsis or value is None


def require_answer(value, name):
    """Raise NotYet when `value` is still the stub's `...` (or None)."""
    if unanswered(value):
        shown = "..." if value is Ellipsis else repr(value)
        raise NotYet(f"`{name}` is still `{shown}`: {STUB_HINT}")
    return value


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
        raise NotYet(f"`{name}` is not defined yet: {STUB_HINT}")
    if not callable(fn):
        raise NotYet(f"`{name}` should be a function, got {type(fn).__name__}")
    try:
        result = fn(*args, **kwargs)
    except NotYet:
        raise
    except Exception as error:
        raise NotYet(f"`{name}` raised {type(error).__name__}: {error}"
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

"""Quiz questions as data and their grading in plain Python (no widgets)."""

import math
import numbers
import re
from dataclasses import dataclass

# ASCII digits and spaces only (re.ASCII, SPACES): the website's quiz script
# (book/static/lenet-quiz.js) parses exactly the same way, and a test checks both on one table.
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_SEPARATOR = re.compile(r"[, _]")
# sign, digits grouped by three (59,134 or 60 000 or 1_000_000), the rest (decimals, exponent)
_GROUPED = re.compile(r"^([+-]?)(\d{1,3}(?:[, _]\d{3})+)(?!\d)(.*)$", re.ASCII)
SPACES = " \t\n\r\f\v"


@dataclass(frozen=True)
class Question:
    """One question: choices with the index of the right one, or a number with a tolerance."""

    key: str
    prompt: str
    answer: object  # index of the right choice, or the number
    choices: tuple = ()
    explanations: tuple = ()  # one per choice: why that choice is right or wrong
    explanation: str = ""  # numeric questions: shown once answered correctly
    hint: str = ""  # numeric questions: shown after a wrong answer
    tolerance: float = 0.0
    topic: str = ""

    def __post_init__(self):
        if not self.key or not self.prompt:
            raise ValueError("a Question needs a non-empty key and prompt")
        if self.choices:
            _check_choice_question(self)
        else:
            _check_numeric_question(self)

    @property
    def is_numeric(self):
        """True for a question answered by typing a number."""
        return not self.choices


def _check_choice_question(q):
    """Raise ValueError unless a choice question is complete and consistent."""
    n = len(q.choices)
    if n < 2 or len(set(q.choices)) != n:
        raise ValueError(f"question {q.key!r}: needs at least 2 distinct choices, got {q.choices}")
    if not isinstance(q.answer, int) or not 0 <= q.answer < n:
        raise ValueError(f"question {q.key!r}: answer must be a choice index in 0..{n - 1}")
    if len(q.explanations) != n or not all(q.explanations):
        raise ValueError(
            f"question {q.key!r}: give one explanation per choice ({n}), got {len(q.explanations)}"
        )


def _check_numeric_question(q):
    """Raise ValueError unless a numeric question is complete and consistent."""
    if isinstance(q.answer, bool) or not isinstance(q.answer, (int, float)):
        raise ValueError(f"question {q.key!r}: a question without choices needs a numeric answer")
    if not q.tolerance >= 0 or math.isinf(q.tolerance):
        raise ValueError(f"question {q.key!r}: tolerance must be a finite number >= 0")
    if not q.explanation or not q.hint:
        raise ValueError(f"question {q.key!r}: a numeric question needs an explanation and a hint")
    if q.explanations:
        raise ValueError(f"question {q.key!r}: explanations per choice need choices")


@dataclass(frozen=True)
class Feedback:
    """The outcome of one check: right or not, and the text to show."""

    correct: bool
    message: str


def _ungroup(text, original):
    """Drop thousands separators (, _ or space between groups of three digits) from `text`."""
    if not _SEPARATOR.search(text):
        return text
    m = _GROUPED.match(text)
    if m is None or _SEPARATOR.search(m.group(3)):
        if "," in text:  # "3,07" is a decimal comma, not 307
            as_in = (f", as in {text.replace(',', '.')!r}"
                     if text.count(",") == 1 and "." not in text else "")
            raise ValueError(f"use a decimal point{as_in}: a comma may only separate "
                             f"thousands, as in 59,134 (got {original!r})")
        raise ValueError(f"type a number such as 12, 59134 or 95.8 (got {original!r})")
    return m.group(1) + _SEPARATOR.sub("", m.group(2)) + m.group(3)


def parse_number(text):
    """Read a typed number, tolerating thousands separators, spaces and a trailing %."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    cleaned = str(text).strip(SPACES)
    cleaned = cleaned[:-1].rstrip(SPACES) if cleaned.endswith("%") else cleaned
    if not cleaned:
        raise ValueError("type a number first, such as 12, 59134 or 95.8")
    cleaned = _ungroup(cleaned, str(text))
    if not _NUMBER.match(cleaned):
        raise ValueError(f"type a number such as 12, 59134 or 95.8 (got {str(text)!r})")
    return float(cleaned)


def grade(question, response):
    """Grade one response: a choice index, or a number (or the text typed for one)."""
    if question.is_numeric:
        value = parse_number(response)
        if abs(value - question.answer) <= question.tolerance:
            return Feedback(True, question.explanation)
        return Feedback(False, question.hint)
    if response is None:
        raise ValueError("pick one of the choices first")
    if isinstance(response, bool) or not isinstance(response, numbers.Integral):
        raise ValueError(f"a choice is given by its index, got {response!r}")
    response = int(response)  # a NumPy index counts too
    if not 0 <= response < len(question.choices):
        raise ValueError(f"choice index must be in 0..{len(question.choices) - 1}, got {response}")
    return Feedback(response == question.answer, question.explanations[response])


def choice_question(key, prompt, options, answer, topic=""):
    """A multiple-choice Question built from (choice, explanation) pairs."""
    choices = tuple(text for text, _ in options)
    explanations = tuple(why for _, why in options)
    return Question(key, prompt, answer, choices, explanations, topic=topic)


def numeric_question(key, prompt, answer, explanation, hint, tolerance=0.0, topic=""):
    """A Question answered by typing a number, right within `tolerance`."""
    return Question(
        key, prompt, answer, explanation=explanation, hint=hint, tolerance=tolerance, topic=topic
    )

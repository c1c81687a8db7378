"""Tests for lenet_nb.quiz.question: question checks, number parsing and grading."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenet_nb.quiz import widget as quiz
from lenet_nb.quiz.question import (
    Feedback,
    Question,
    grade,
    parse_number,
)
from tests.conftest import PROPERTY, make_choice, make_number

# --- questions as data ---------------------------------------------------------------------


def test_choice_question_fields():
    q = make_choice()
    assert q.choices == ("a", "b", "c")
    assert q.explanations == ("why a", "why b", "why c")
    assert q.answer == 1 and not q.is_numeric


def test_numeric_question_fields():
    q = make_number()
    assert q.is_numeric and q.choices == () and q.tolerance == 0.05


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(answer=3), "choice index in 0..2"),
        (dict(answer=-1), "choice index"),
        (dict(answer=1.0), "choice index"),
        (dict(explanations=("x", "y")), "one explanation per choice"),
        (dict(explanations=("x", "", "z")), "one explanation per choice"),
        (dict(choices=("a", "a", "c")), "distinct choices"),
        (dict(choices=("a",), explanations=("x",), answer=0), "at least 2"),
    ],
)
def test_bad_choice_question_is_rejected(kwargs, message):
    fields = dict(
        key="k", prompt="p", answer=0, choices=("a", "b", "c"), explanations=("x", "y", "z")
    )
    fields.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Question(**fields)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(answer="12"), "numeric answer"),
        (dict(answer=True), "numeric answer"),
        (dict(tolerance=-0.1), "tolerance"),
        (dict(tolerance=math.nan), "tolerance"),
        (dict(tolerance=math.inf), "tolerance"),
        (dict(hint=""), "explanation and a hint"),
        (dict(explanation=""), "explanation and a hint"),
        (dict(explanations=("x",)), "need choices"),
        (dict(key=""), "non-empty key"),
        (dict(prompt=""), "non-empty key and prompt"),
    ],
)
def test_bad_numeric_question_is_rejected(kwargs, message):
    fields = dict(key="k", prompt="p", answer=12, explanation="e", hint="h")
    fields.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Question(**fields)


# --- grading -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("12", 12.0),
        (" 59,134 ", 59134.0),
        ("95.8 %", 95.8),
        ("95.8%", 95.8),
        ("-0.5", -0.5),
        (".25", 0.25),
        ("1e3", 1000.0),
        ("60_000", 60000.0),
        ("60 000", 60000.0),
        (7, 7.0),
    ],
)
def test_parse_number_reads_what_people_type(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["abc", "12 GB", "1.2.3", "--1", "nan", True])
def test_parse_number_rejects_non_numbers_with_an_example(text):
    with pytest.raises(ValueError, match="type a number such as 12"):
        parse_number(text)


def test_parse_number_empty_asks_for_a_number():
    with pytest.raises(ValueError, match="type a number first"):
        parse_number("   ")


def test_grade_choice_returns_the_chosen_explanation():
    q = make_choice(answer=1)
    assert grade(q, 1) == Feedback(True, "why b")
    assert grade(q, 0) == Feedback(False, "why a")
    assert grade(q, 2) == Feedback(False, "why c")


def test_grade_choice_takes_a_numpy_or_torch_index():
    import numpy as np
    import torch

    q = make_choice(answer=1)
    assert grade(q, np.int64(1)).correct and grade(q, torch.tensor(1).item()).correct


@pytest.mark.parametrize(
    "response, message",
    [
        (None, "pick one of the choices first"),
        (3, r"in 0\.\.2"),
        (-1, r"in 0\.\.2"),
        ("b", "by its index"),
        (True, "by its index"),
    ],
)
def test_grade_choice_rejects_bad_responses(response, message):
    with pytest.raises(ValueError, match=message):
        grade(make_choice(), response)


def test_grade_numeric_uses_the_tolerance():
    q = make_number(answer=95.8, tolerance=0.05)
    assert grade(q, "95.8") == Feedback(True, "because")
    assert grade(q, "95.84 %").correct
    assert grade(q, 95.76).correct
    assert grade(q, "95.9") == Feedback(False, "try again")
    assert not grade(q, "4.2").correct


def test_grade_numeric_exact_answer_needs_the_exact_number():
    q = make_number(answer=61706, tolerance=0)
    assert grade(q, "61,706").correct
    assert not grade(q, "61705").correct


# --- careless and hostile inputs ------------------------------------------------------------


@pytest.mark.parametrize("text", ["3,07", "12,5 %", "1,2345", "1.234,5", "1,234,56"])
def test_item04_a_decimal_comma_asks_for_a_decimal_point(text):
    with pytest.raises(ValueError, match="use a decimal point"):
        quiz.parse_number(text)


def test_item04_decimal_comma_is_invalid_not_wrong():
    q = quiz.numeric_question("q", "?", 3.07, "right", "hint", tolerance=0.005)
    with pytest.raises(ValueError, match=r"as in '3\.07'"):
        quiz.grade(q, "3,07")
    assert quiz.grade(q, "3.07").correct
    assert quiz.parse_number("1,234,567.5") == 1234567.5 and quiz.parse_number("-1 000") == -1000


@PROPERTY
@given(n=st.integers(-10**12, 10**12), decimals=st.integers(0, 4),
       sep=st.sampled_from([",", "_", " ", ""]), percent=st.booleans())
def test_item04_property_formatted_numbers_round_trip(n, decimals, sep, percent):
    value = n / 10**decimals
    text = f"{value:,.{decimals}f}".replace(",", sep) + (" %" if percent else "")
    assert quiz.parse_number(text) == float(f"{value:.{decimals}f}")

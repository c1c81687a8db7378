"""Boundary validation: whole numbers and positive finite numbers, with messages that say how."""

import math

import pytest

from lenet_nb.validate import positive_number, whole_number


@pytest.mark.parametrize("value, low, expected", [(1, 1, 1), (7, 1, 7), (0, 0, 0)])
def test_whole_number_accepts_integers_from_low(value, low, expected):
    assert whole_number("n", value, low) == expected


@pytest.mark.parametrize("value, shown", [
    (0, "0 (int)"), (2.0, "2.0 (float)"), (True, "True (bool)"),
    ("3", "the text '3' (write the number without quotes)"),
])
def test_whole_number_refuses_with_what_was_given(value, shown):
    with pytest.raises(ValueError) as info:
        whole_number("num_epochs", value)
    assert str(info.value) == f"num_epochs must be an integer >= 1, got {shown}"


def test_positive_number_accepts_finite_positive_numbers():
    assert positive_number("lr", 1) == 1.0 and isinstance(positive_number("lr", 1), float)
    assert positive_number("lr", 0.03) == 0.03


@pytest.mark.parametrize("value", [0, -0.1, math.inf, math.nan, False, "0.1", None])
def test_positive_number_refuses_everything_else(value):
    with pytest.raises(ValueError, match=r"^lr must be a finite number > 0, got "):
        positive_number("lr", value)

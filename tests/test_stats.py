"""Seed summaries: exact means and ranges on tiny lists, the separation rule, a live value
against a stored range."""

import pytest

from lenet_nb.stats import (
    format_mean_range,
    inside_range,
    mean_range,
    ranges_separate,
    where_in_range,
)


def test_mean_range_and_format():
    assert mean_range([0.5, 0.25, 0.75]) == (0.5, 0.25, 0.75)
    assert format_mean_range([0.5, 0.25, 0.75]) == "0.500 (0.250–0.750)"
    assert format_mean_range([0.81234], digits=4) == "0.8123"
    with pytest.raises(ValueError, match="at least one value"):
        mean_range([])


def test_ranges_separate_only_without_overlap():
    assert ranges_separate([0.8, 0.82], [0.7, 0.79])
    assert ranges_separate([0.1], [0.5, 0.6])
    assert not ranges_separate([0.8, 0.9], [0.85, 0.95])  # overlapping ranges
    assert not ranges_separate([0.8, 0.9], [0.9, 0.95])  # touching counts as overlap


def test_a_nan_seed_is_refused_not_hidden_by_the_range():
    """min/max skip a NaN: "nan (0.800–0.900)" hid a diverged seed."""
    with pytest.raises(ValueError, match="value 1 .of 3, one per seed. is nan"):
        format_mean_range([0.9, float("nan"), 0.8])
    with pytest.raises(ValueError, match="is inf"):
        ranges_separate([0.9, float("inf")], [0.5])


def test_inside_range_includes_the_ends():
    stored = [0.861, 0.877, 0.870]
    assert inside_range(0.861, stored) and inside_range(0.877, stored)
    assert inside_range(0.87, stored)
    assert not inside_range(0.8609, stored) and not inside_range(0.8771, stored)
    assert not inside_range(float("nan"), stored)
    with pytest.raises(ValueError, match="at least one value"):
        inside_range(0.5, [])


def test_where_in_range_says_inside_or_how_far_outside_and_which_side():
    stored = [0.861, 0.877, 0.870]
    assert where_in_range(0.8712, stored) == "0.871: inside the stored range 0.861–0.877"
    assert where_in_range(0.855, stored) == (
        "0.855: outside, 0.006 below the stored range 0.861–0.877")
    assert where_in_range(0.9, stored, digits=2) == (
        "0.90: outside, 0.02 above the stored range 0.86–0.88")
    assert where_in_range(0.8772, stored) == (
        "0.877: outside, less than 0.001 above the stored range 0.861–0.877")
    assert where_in_range(0.5, [0.5]) == "0.500: inside the stored value 0.500"
    assert where_in_range(float("nan"), stored) == (
        "nan: not a finite number, so outside the stored range 0.861–0.877")

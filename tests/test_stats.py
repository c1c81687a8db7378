"""Seed summaries: exact means and ranges on tiny lists, and the separation rule."""

import pytest

from lenet_nb.stats import format_mean_range, mean_range, ranges_separate


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

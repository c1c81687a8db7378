"""Summaries over random seeds: mean and range, and whether two ranges separate."""

import math


def mean_range(values):
    """(mean, lowest, highest) of a non-empty list of numbers."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("mean_range needs at least one value (one per seed)")
    bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
    if bad:  # min and max would skip a NaN silently and hide that run
        raise ValueError(f"value {bad[0]} (of {len(values)}, one per seed) is {values[bad[0]]}: "
                         f"a run diverged or was not finished; re-run it or leave it out, "
                         f"and say so")
    return sum(values) / len(values), min(values), max(values)


def format_mean_range(values, digits=3):
    """'0.812 (0.801–0.820)': the mean, then the range over seeds in brackets."""
    mean, lo, hi = mean_range(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def ranges_separate(a, b):
    """True when every value of `a` lies above every value of `b`, or every one below."""
    _, lo_a, hi_a = mean_range(a)
    _, lo_b, hi_b = mean_range(b)
    return hi_a < lo_b or hi_b < lo_a

"""Summaries over random seeds: mean and range, whether two ranges separate, and where a live
run lands against a stored range."""

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


def inside_range(value, values):
    """True when `value` lies between the lowest and the highest of `values`, ends included."""
    _, lo, hi = mean_range(values)
    return lo <= float(value) <= hi


def where_in_range(value, values, digits=3):
    """'0.871: inside the stored range 0.861–0.877' or '0.855: outside, 0.006 below the stored
    range 0.861–0.877': a live run's value against the stored seeds' values at the same epoch."""
    _, lo, hi = mean_range(values)
    value = float(value)
    stored = (f"the stored value {lo:.{digits}f}" if lo == hi else
              f"the stored range {lo:.{digits}f}–{hi:.{digits}f}")
    if not math.isfinite(value):
        return f"{value}: not a finite number, so outside {stored}"
    if inside_range(value, values):
        return f"{value:.{digits}f}: inside {stored}"
    gap, side = (lo - value, "below") if value < lo else (value - hi, "above")
    # a gap that rounds to zero still says which side: 'outside, less than 0.001 below'
    size = f"{gap:.{digits}f}" if round(gap, digits) else f"less than {10 ** -digits:.{digits}f}"
    return f"{value:.{digits}f}: outside, {size} {side} {stored}"

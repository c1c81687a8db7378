"""Summaries over random seeds: mean and range, and whether two ranges separate."""


def mean_range(values):
    """(mean, lowest, highest) of a non-empty list of numbers."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("mean_range needs at least one value (one per seed)")
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

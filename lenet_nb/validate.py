"""Validation of user values at the public boundary: say what was expected and how to fix it."""

import math
import numbers


def _got(value):
    """`value` as shown in an error, with a hint when it is text."""
    if isinstance(value, str):
        return f"the text {value!r} (write the number without quotes)"
    return f"{value!r} ({type(value).__name__})"


def whole_number(name, value, low=1):
    """Return `value` as an int; raise ValueError unless it is an integer >= low (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {_got(value)}")
    return int(value)


def positive_number(name, value):
    """Return `value` as a float; raise ValueError unless it is a finite number > 0."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{name} must be a finite number > 0, got {_got(value)}")
    return float(value)

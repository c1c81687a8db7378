"""Repo-wide pytest setup: quick mode on for unit tests and nbval alike."""

import os

import pytest

from lenet_nb.config import is_quick

# The one knob (lenet_nb.config): set before any kernel starts so notebooks inherit it.
os.environ.setdefault("LENET_NB_QUICK", "1")
# No MPLBACKEND here: kernels inherit this environment and must keep their inline backend
# (tests/conftest.py selects Agg for the unit tests).


def pytest_configure(config):
    """Refuse to start on a LENET_NB_QUICK value that is neither on nor off."""
    try:
        is_quick()
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None

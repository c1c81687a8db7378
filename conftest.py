"""Repo-wide pytest setup: quick mode on for unit tests and nbval alike."""

import os

# The one knob (lenet_nb.config): set before any kernel starts so notebooks inherit it.
os.environ.setdefault("LENET_NB_QUICK", "1")
# No MPLBACKEND here: kernels inherit this environment and must keep their inline backend
# (tests/conftest.py selects Agg for the unit tests).

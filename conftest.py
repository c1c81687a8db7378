"""Repo-wide pytest setup: quick mode on, headless matplotlib, for unit tests and nbval alike."""

import os

# The one knob (lenet_nb.config): set before any kernel starts so notebooks inherit it.
os.environ.setdefault("LENET_NB_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

"""Helpers for the lenet-notebooks chapters: data, models, training, plots, widgets, quizzes."""

__version__ = "0.1.0"

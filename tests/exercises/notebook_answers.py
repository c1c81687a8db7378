"""The instructor notebook's own answer to an exercise, for tests (never a second copy).

`reference_verdict(module, name)` runs the exercise's answer cells from the instructor notebook
in a fresh namespace (torch, nn, F, the chapter's checker module as `ex`, plus `extra`) and then
its check cell, and returns the verdict.
"""

import re
from pathlib import Path

import nbformat

from lenet_nb.course.exercise_cells import exercises

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def find(module, name):
    """(instructor notebook, Exercise) of the exercise `name` registered in `module`."""
    slug = module.__name__.rsplit(".", 1)[1]
    (path,) = [p for p in NOTEBOOKS.glob("*.ipynb") if re.fullmatch(rf"\d+_{slug}", p.stem)]
    nb = nbformat.read(path, as_version=4)
    (ex,) = [e for e in exercises(nb) if e.name == name]
    return nb, ex


def answer_namespace(module, name, extra=None):
    """The namespace after running the exercise's answer (and run) cells."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    nb, ex = find(module, name)
    namespace = {"torch": torch, "nn": nn, "F": F, "ex": module, **(extra or {})}
    for i in ex.answers:
        exec(compile(nb.cells[i].source, f"{name} answer cell {i}", "exec"), namespace)
    return namespace


def reference_verdict(module, name, extra=None):
    """The verdict of the exercise's check cell on the instructor's answer."""
    nb, ex = find(module, name)
    namespace = answer_namespace(module, name, extra)
    return eval(compile(nb.cells[ex.check].source, f"{name} check", "eval"), namespace)

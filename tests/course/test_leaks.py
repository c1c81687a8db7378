"""The answer-leak test: no *predict, then run* answer shows in a student notebook before its
check cell, nor in any stored output. Exercises come from the checker modules' registries, so
every registered predict exercise of every chapter is covered."""

import importlib
import pkgutil
import re
from pathlib import Path

import nbformat
import pytest

import lenet_nb.exercises
from lenet_nb.course.exercise_cells import exercises
from lenet_nb.course.student import make_student
from tests.exercises.notebook_answers import answer_namespace, reference_verdict

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PREDICT = "predict, then run"


def _chapter_modules():
    for info in pkgutil.iter_modules(lenet_nb.exercises.__path__):
        module = importlib.import_module(f"lenet_nb.exercises.{info.name}")
        if hasattr(module, "EXERCISES"):
            yield module


def _predict_exercises():
    for module in _chapter_modules():
        for name, kind in module.EXERCISES.items():
            if kind == PREDICT:
                yield module, name


PREDICTS = list(_predict_exercises())


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    dst = tmp_path_factory.mktemp("student")
    make_student(NOTEBOOKS, dst)
    return {p.name: nbformat.read(p, as_version=4) for p in dst.glob("*.ipynb")}


def _text(cell):
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _outputs(cell):
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        for value in out.get("data", {}).values():
            parts.append(value if isinstance(value, str) else str(value))
    return "\n".join(parts)


def _notebook_of(module, student):
    slug = module.__name__.rsplit(".", 1)[1]
    (name,) = [n for n in student if re.fullmatch(rf"\d+_{slug}\.ipynb", n)]
    return name


def test_the_registries_hold_predict_exercises_so_this_test_is_not_vacuous():
    assert len(PREDICTS) >= 5, PREDICTS
    assert {m.__name__ for m, _ in PREDICTS} >= {"lenet_nb.exercises.shapes"}


@pytest.mark.parametrize("module, name", PREDICTS,
                         ids=[f"{m.__name__.rsplit('.', 1)[1]}.{n}" for m, n in PREDICTS])
def test_no_predict_answer_before_its_check_or_in_any_output(module, name, student):
    check = getattr(module, f"check_{name}")
    assert check.leaks, f"check_{name} declares no leaks=[...] patterns (docs/exercises.md §4)"
    notebook = _notebook_of(module, student)
    nb = student[notebook]
    (ex,) = [e for e in exercises(nb) if e.name == name]
    patterns = [re.compile(p) for p in check.leaks]
    for i, cell in enumerate(nb.cells):
        places = [("stored output", _outputs(cell))]
        if i < ex.check:
            places.append(("source", _text(cell)))
        for where, text in places:
            for pattern in patterns:
                m = pattern.search(text)
                assert m is None, (f"{notebook} cell {i} ({where}) shows Exercise {ex.number}'s "
                                   f"answer before its check (cell {ex.check}): "
                                   f"…{text[max(0, m.start() - 60):m.end() + 20]}…")


@pytest.mark.parametrize("module, name", PREDICTS,
                         ids=[f"{m.__name__.rsplit('.', 1)[1]}.{n}" for m, n in PREDICTS])
def test_leak_patterns_match_the_answer_and_no_hint(module, name):
    """The patterns are real: they match the checker's own success line, never a hint."""
    check = getattr(module, f"check_{name}")
    patterns = [re.compile(p) for p in check.leaks]
    # the success line or the answer's own value shows the answer: a pattern must find it
    verdict = reference_verdict(module, name)
    assert verdict, repr(verdict)
    values = [repr(v) for k, v in answer_namespace(module, name).items() if not k.startswith("_")]
    assert any(p.search(text) for p in patterns for text in [verdict.message, *values]), \
        (check.leaks, verdict.message)
    hints = [h for h in _hint_texts(module, name) if any(p.search(h) for p in patterns)]
    assert hints == [], f"a hint of check_{name} gives the answer away: {hints}"


def _hint_texts(module, name):
    """The string constants of the checker's body, except in its final success `return`."""
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(module, f"check_{name}"))))
    in_return = {id(n) for r in ast.walk(tree) if isinstance(r, ast.Return)
                 for n in ast.walk(r)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and id(n) not in in_return]

"""The exercise convention read out of notebooks, and the nbcheck rule that checks it."""

from pathlib import Path

import nbformat
import pytest

from lenet_nb.course.exercise_cells import exercises, problems
from lenet_nb.course.student import BEGIN, END

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _md(text, tags=()):
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": list(tags)})


def _code(text, tags=()):
    return nbformat.v4.new_code_cell(text, metadata={"tags": list(tags)})


def _chapter_two(**changes):
    """Chapter 2's exercises in the convention (checked against lenet_nb.exercises.shapes)."""
    from lenet_nb.exercises import shapes

    cells = []
    for n, (name, kind) in enumerate(shapes.EXERCISES.items(), 1):
        cells += [_md(changes.get(f"heading{n}", f"### Exercise 2.{n} ({kind}): title {n}")),
                  _code(f"{BEGIN}\n{name} = 1\n{END}", ["exercise-answer"]),
                  _code(changes.get(f"check{n}", f"ex.check_{name}({name})"),
                        changes.get(f"tags{n}", ["exercise-check"])),
                  _code("print('the run that reveals')")]
    nb = nbformat.v4.new_notebook(cells=cells)
    return nb


def _problems(tmp_path, nb, name="02_shapes.ipynb"):
    nbformat.write(nb, tmp_path / name)
    return problems(tmp_path / name)


def test_the_real_chapters_follow_the_convention():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        assert problems(path) == [], path


def test_exercises_are_read_in_order_with_their_cells(tmp_path):
    nb = _chapter_two()
    found = exercises(nb)
    assert [(e.number, e.name, e.kind) for e in found][:2] == [
        ("2.1", "c1_s2_shape", "predict, then run"), ("2.2", "unpadded_lenet", "complete the code")]
    assert (found[0].heading, found[0].answers, found[0].check) == (0, [1], 2)
    assert _problems(tmp_path, nb) == []


@pytest.mark.parametrize("changes, message", [
    ({"heading2": "### Exercise 2.3 (complete the code): t"}, "expected number 2.2"),
    ({"heading1": "### Exercise 2.1 (complete the code): t"}, "the registry 'predict, then run'"),
    ({"heading1": "### Exercise 2.1 (predict then run): t"}, "does not read"),
    ({"heading1": "**Exercise 1 (predict, then run).** t"}, "does not read"),
    ({"check1": "ex.check_linear1_params_32(c1_s2_shape)"}, "the registry's exercise 1 is"),
    ({"check1": "x = 2\nex.check_c1_s2_shape(x)"}, "exactly one line"),
    ({"tags1": []}, "no cell tagged exercise-check"),
], ids=["number", "kind", "kind-word", "old-style", "name", "extra-code", "untagged"])
def test_disagreements_are_named(tmp_path, changes, message):
    found = _problems(tmp_path, _chapter_two(**changes))
    assert any(message in p for p in found), found


def test_regions_keep_output_and_prose_rules(tmp_path):
    nb = _chapter_two()
    nb.cells.insert(1, _code("show(X)", ["keep-output"]))
    nb.cells.append(_code(f"{BEGIN}\nx = 1\n{END}"))
    nb.cells.append(_md("The answer is 42", ["answer-prose"]))
    found = _problems(tmp_path, nb)
    assert any("keep-output cell inside Exercise 2.1" in p for p in found), found
    assert any("not tagged exercise-answer" in p for p in found), found
    assert any("<details>" in p for p in found), found


def test_a_chapter_without_a_module_or_with_a_missing_exercise(tmp_path):
    found = _problems(tmp_path, _chapter_two(), "02_nomodule.ipynb")
    assert any("without a checker module" in p for p in found), found
    nb = _chapter_two()
    nb.cells = nb.cells[:12]  # exercise 2.4 removed
    assert any("registered but not in the notebook: receptive_field" in p
               for p in _problems(tmp_path, nb))

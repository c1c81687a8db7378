"""Progress read from saved student notebooks: ✔, ✘, ○ and not run, per chapter."""

from pathlib import Path

import nbformat

from lenet_nb.course.exercise_cells import exercises
from lenet_nb.course.progress import default_folder, main, report, statuses
from lenet_nb.course.student import make_student
from lenet_nb.exercises import shapes

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _result(verdict, count):
    return nbformat.v4.new_output("execute_result", data={"text/plain": repr(verdict)},
                                  execution_count=count)


def _student(tmp_path):
    dst = tmp_path / "student"
    make_student(NOTEBOOKS, dst)
    return dst


def _save_checks(path, results):
    """What JupyterLab saves after the learner ran some check cells: {number: (verdict, n)}."""
    nb = nbformat.read(path, as_version=4)
    for ex in exercises(nb):
        if ex.number in results:
            verdict, count = results[ex.number]
            nb.cells[ex.check].outputs = [_result(verdict, count)]
            nb.cells[ex.check].execution_count = count
            for i in ex.answers:
                nb.cells[i].execution_count = count - 1
    nbformat.write(nb, path)
    return nb


def test_one_solved_exercise_is_reported_exactly(tmp_path):
    dst = _student(tmp_path)
    _save_checks(dst / "02_shapes.ipynb", {
        "2.1": (shapes.check_c1_s2_shape((1, 6, 14, 14)), 5),  # solved
        "2.3": (shapes.check_linear1_params_32(400 * 120), 9),  # a wrong count
        "2.4": (shapes.check_receptive_field(...), 12),  # the stub, run
    })
    nb = nbformat.read(dst / "02_shapes.ipynb", as_version=4)
    marks = {s.number: s.mark for s in statuses(nb)}
    assert marks == {"2.1": "✔", "2.2": "·", "2.3": "✘", "2.4": "○", "2.5": "·", "2.6": "·"}
    text = report(dst)
    assert "02_shapes" in text and "1 ✔  1 ✘  1 ○  3 ·" in text
    assert "2.1 ✔  2.2 ·  2.3 ✘  2.4 ○  2.5 ·  2.6 ·" in text
    assert "01_fc_limits" in text and "8 ·" in text  # untouched chapters: not run
    assert "all chapters: 1 ✔" in text


def test_an_answer_changed_after_its_check_is_marked(tmp_path):
    dst = _student(tmp_path)
    nb = _save_checks(dst / "02_shapes.ipynb",
                      {"2.1": (shapes.check_c1_s2_shape((1, 6, 14, 14)), 5)})
    (first,) = [e for e in exercises(nb) if e.number == "2.1"]
    nb.cells[first.answers[0]].execution_count = 8  # the learner edited and re-ran the answer
    nbformat.write(nb, dst / "02_shapes.ipynb")
    assert "2.1 ✔*" in report(dst)


def test_no_student_notebooks_says_what_to_do(tmp_path, capsys):
    text = report(tmp_path / "student")
    assert "No student notebooks" in text and "make lab" in text
    assert main([str(tmp_path / "student")]) == 0
    assert "No student notebooks" in capsys.readouterr().out


def test_the_default_folder_from_reading_notebooks_and_student(tmp_path):
    dst = _student(tmp_path)
    assert default_folder(tmp_path / "reading") == dst
    assert default_folder(tmp_path / "notebooks") == dst
    assert default_folder(dst) == dst

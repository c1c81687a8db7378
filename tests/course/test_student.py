"""The student-edition generator: solution regions become stubs, no stored outputs, and no
*predict, then run* answer before its check (the answer-leak test: every predict exercise of
every chapter module's registry)."""

import importlib
import pkgutil
import re
from pathlib import Path

import nbformat
import pytest

import lenet_nb.exercises
from lenet_nb.course.exercise_cells import exercises
from lenet_nb.course.student import (
    BEGIN,
    BEGIN_STUB,
    END,
    END_STUB,
    STUB,
    MarkerError,
    count_exercises,
    main,
    make_student,
    reading_notebook,
    stub_regions,
    student_notebook,
)
from tests.exercises.notebook_answers import answer_namespace, reference_verdict

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

FUNCTION_CELL = f"""def corr2d(X, K):
    \"\"\"Cross-correlation.\"\"\"
    h, w = K.shape
    {BEGIN}
    Y = X[:h, :w] * K
    return Y
    {END}

check_corr2d(corr2d)"""


def test_a_function_body_becomes_an_indented_stub():
    source, count = stub_regions(FUNCTION_CELL)
    assert count == 1
    assert source.splitlines() == [
        "def corr2d(X, K):",
        '    """Cross-correlation."""',
        "    h, w = K.shape",
        f"    {STUB}",
        "",
        "check_corr2d(corr2d)",
    ]
    compile(source, "student", "exec")  # still valid Python


def test_assignments_keep_their_names():
    cell = f"{BEGIN}\nshape = (1, 6, 28, 28)\nn, m = 3, 4\n{END}\ncheck_shape(shape)"
    source, count = stub_regions(cell)
    assert count == 1
    assert source.splitlines() == [f"shape = {STUB}", f"n, m = {STUB}", "check_shape(shape)"]


def test_a_comparison_or_a_block_is_not_an_assignment():
    source, _ = stub_regions(f"{BEGIN}\nx == 3\n{END}")
    assert source == STUB
    source, _ = stub_regions(f"{BEGIN}\nfor i in range(3):\n    y = i\n{END}")
    assert source == STUB


def test_two_regions_and_the_text_around_them_are_kept():
    cell = f"a = 1\n{BEGIN}\nb = 2\n{END}\nc = 3\n{BEGIN}\nprint(b)\n{END}\nd = 4"
    source, count = stub_regions(cell)
    assert count == 2
    assert source.splitlines() == ["a = 1", f"b = {STUB}", "c = 3", STUB, "d = 4"]


@pytest.mark.parametrize("cell, message", [
    (f"{BEGIN}\nx = 1", "never closed"),
    (f"x = 1\n{END}", "without"),
    (f"{BEGIN}\n{BEGIN}\nx = 1\n{END}", "inside another region"),
])
def test_unbalanced_markers_are_refused_with_the_place(cell, message):
    with pytest.raises(MarkerError, match=message) as info:
        stub_regions(cell, "ch1 cell 7")
    assert "ch1 cell 7" in str(info.value)


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    out = nbformat.v4.new_output("stream", name="stdout", text="✔ 1.1 corr2d: correct\n")
    shown = nbformat.v4.new_output("stream", name="stdout", text="torch.Size([1, 6, 28, 28])\n")
    picture = nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})
    kept = nbformat.v4.new_code_cell("show_images(X)", outputs=[picture], execution_count=3)
    kept.metadata["tags"] = ["keep-output"]
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"Markdown mentioning {BEGIN} stays as it is"),
        nbformat.v4.new_code_cell("print(X.shape)", outputs=[shown], execution_count=1),
        nbformat.v4.new_code_cell(FUNCTION_CELL, outputs=[out], execution_count=2),
        kept,
    ]
    return nb


def test_student_notebook_keeps_no_output_but_keep_output_cells_and_unpairs():
    nb = _notebook()
    student = student_notebook(nb)
    assert "jupytext" not in student.metadata and "widgets" not in student.metadata
    assert student.cells[0].source == nb.cells[0].source
    for cell in student.cells[1:3]:
        assert cell.outputs == [] and cell.execution_count is None
    assert student.cells[3].outputs == nb.cells[3].outputs, "keep-output keeps its picture"
    assert STUB in student.cells[2].source and "X[:h, :w]" not in student.cells[2].source
    assert "X[:h, :w]" in nb.cells[2].source, "the instructor notebook is left unchanged"
    assert nb.cells[1].outputs and "jupytext" in nb.metadata
    assert count_exercises(nb) == 1 and count_exercises(student) == 0


def test_an_explicit_stub_block_becomes_the_students_code():
    cell = (f"def accuracy(net, data_iter):\n"
            f"    {BEGIN}\n"
            f"    return right(net, data_iter)\n"
            f"    {END}\n"
            f"    {BEGIN_STUB}\n"
            f"    # accs = [batch_acc(net, X, y) for X, y in data_iter]\n"
            f"    #\n"
            f"    # return sum(accs) / len(accs)  # the bug\n"
            f"    {END_STUB}\n"
            f"\n"
            f"print(accuracy(net, it))")
    source, count = stub_regions(cell)
    assert count == 1
    assert source.splitlines() == [
        "def accuracy(net, data_iter):",
        "    accs = [batch_acc(net, X, y) for X, y in data_iter]",
        "",
        "    return sum(accs) / len(accs)  # the bug",
        "",
        "print(accuracy(net, it))",
    ]
    compile(source, "student", "exec")
    # the instructor edition runs the solution; the stub block is only comments there
    compile(cell, "instructor", "exec")


@pytest.mark.parametrize("cell, message", [
    (f"{BEGIN}\nx = 1\n{END}\n{BEGIN_STUB}\n# x = 0", "never closed"),
    (f"{BEGIN_STUB}\n# x = 0\n{END_STUB}", "right after"),
    (f"{BEGIN}\nx = 1\n{END}\n{BEGIN_STUB}\nx = 0\n{END_STUB}", "is a comment"),
])
def test_a_misplaced_or_uncommented_stub_block_is_refused(cell, message):
    with pytest.raises(MarkerError, match=message):
        stub_regions(cell, "ch3 cell 9")


def test_the_reading_copy_keeps_outputs_and_unpairs():
    nb = _notebook()
    copy = reading_notebook(nb)
    assert "jupytext" not in copy.metadata
    assert [c.outputs for c in copy.cells if c.cell_type == "code"] == \
        [c.outputs for c in nb.cells if c.cell_type == "code"]


def test_make_student_writes_every_notebook_and_a_no_pairing_config(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    nbformat.write(_notebook(), src / "01_x.ipynb")
    written = make_student(src, tmp_path / "student")
    assert [(w.path, w.exercises, w.action) for w in written] == [
        (tmp_path / "student" / "01_x.ipynb", 1, "created")]
    assert (tmp_path / "student" / "jupytext.toml").read_text() == 'formats = "ipynb"\n'
    again = nbformat.read(written[0].path, as_version=4)
    assert STUB in again.cells[2].source
    import jupytext.config

    found = jupytext.config.find_jupytext_configuration_file(str(tmp_path / "student"))
    assert Path(found) == tmp_path / "student" / "jupytext.toml", "no pairing from a parent"


def test_main_reports_errors_instead_of_a_traceback(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 2  # bad usage
    assert "there is no folder" in capsys.readouterr().err
    nb = _notebook()
    nb.cells[2].source = f"{BEGIN}\nx = 1"
    (tmp_path / "src").mkdir()
    nbformat.write(nb, tmp_path / "src" / "02_bad.ipynb")
    assert main([str(tmp_path / "src"), str(tmp_path / "out")]) == 1
    assert "02_bad.ipynb cell 2" in capsys.readouterr().err


def _text(outputs):
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                   for o in outputs)


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    """The student edition of the real chapters, generated, executed top to bottom and saved."""
    from nbclient import NotebookClient

    dst = tmp_path_factory.mktemp("student")
    written = make_student(NOTEBOOKS, dst)
    executed = {}
    for w in written:
        nb = nbformat.read(w.path, as_version=4)
        # raises CellExecutionError (with the cell) if any cell fails
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(dst)}}).execute()
        nbformat.write(nb, w.path)  # saved, as a learner's Ctrl+S
        executed[w.path.name] = nb
    return dst, written, executed


def test_every_student_notebook_runs_and_no_exercise_passes_unsolved(student_edition):
    from lenet_nb.course.progress import VERDICT, report, statuses

    dst, written, executed = student_edition
    assert len(written) == len(list(NOTEBOOKS.glob("*.ipynb")))
    checked = 0
    for name, nb in executed.items():
        for ex in exercises(nb):
            text = _text(nb.cells[ex.check].outputs)
            assert "Traceback" not in text, (name, ex.number, text)
            verdict = VERDICT.search(text)
            assert verdict and verdict.group(1) in "✘○", (name, ex.number, text)
            assert f"{verdict.group(2)}.{verdict.group(3)}" == ex.number
            checked += 1
        marks = {s.mark for s in statuses(nb)}
        assert marks <= {"✘", "○"}, (name, marks)
    assert checked >= 15
    text = report(dst)
    assert "✔ passes" in text and "all chapters: 0 ✔" in text and " 0 ·" in text, text


def test_the_chapters_that_build_in_the_open_have_at_least_three_exercises_each():
    # chapters 1 to 5 (04_recipes: the tutorials' bugs, the plateau, the recipe challenge)
    counts = {p.name: count_exercises(nbformat.read(p, as_version=4))
              for p in sorted(NOTEBOOKS.glob("0[1-5]_*.ipynb"))}
    assert len(counts) == 5, counts
    assert all(n >= 3 for n in counts.values()), counts
    assert counts["04_recipes.ipynb"] >= 4, counts
    assert sum(counts.values()) >= 16, counts


# --- the answer-leak test ------------------------------------------------------------------

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
def student_copy(tmp_path_factory):
    dst = tmp_path_factory.mktemp("student")
    make_student(NOTEBOOKS, dst)
    return {p.name: nbformat.read(p, as_version=4) for p in dst.glob("*.ipynb")}


def _source_text(cell):
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _outputs(cell):
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        for value in out.get("data", {}).values():
            parts.append(value if isinstance(value, str) else str(value))
    return "\n".join(parts)


def _notebook_of(module, student_copy):
    slug = module.__name__.rsplit(".", 1)[1]
    (name,) = [n for n in student_copy if re.fullmatch(rf"\d+_{slug}\.ipynb", n)]
    return name


def test_the_registries_hold_predict_exercises_so_this_test_is_not_vacuous():
    assert len(PREDICTS) >= 5, PREDICTS
    assert {m.__name__ for m, _ in PREDICTS} >= {"lenet_nb.exercises.shapes"}


@pytest.mark.parametrize("module, name", PREDICTS,
                         ids=[f"{m.__name__.rsplit('.', 1)[1]}.{n}" for m, n in PREDICTS])
def test_no_predict_answer_before_its_check_or_in_any_output(module, name, student_copy):
    check = getattr(module, f"check_{name}")
    assert check.leaks, f"check_{name} declares no leaks=[...] patterns (docs/exercises.md §4)"
    notebook = _notebook_of(module, student_copy)
    nb = student_copy[notebook]
    (ex,) = [e for e in exercises(nb) if e.name == name]
    patterns = [re.compile(p) for p in check.leaks]
    for i, cell in enumerate(nb.cells):
        places = [("stored output", _outputs(cell))]
        if i < ex.check:
            places.append(("source", _source_text(cell)))
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

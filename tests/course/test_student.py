"""The student-edition generator: solution regions become stubs, exercise outputs are cleared."""

from pathlib import Path

import nbformat
import pytest

from lenet_nb.course.student import (
    BEGIN,
    END,
    STUB,
    MarkerError,
    count_exercises,
    main,
    make_student,
    strip_solutions,
    student_notebook,
)

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
    source, count = strip_solutions(FUNCTION_CELL)
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
    source, count = strip_solutions(cell)
    assert count == 1
    assert source.splitlines() == [f"shape = {STUB}", f"n, m = {STUB}", "check_shape(shape)"]


def test_a_comparison_or_a_block_is_not_an_assignment():
    source, _ = strip_solutions(f"{BEGIN}\nx == 3\n{END}")
    assert source == STUB
    source, _ = strip_solutions(f"{BEGIN}\nfor i in range(3):\n    y = i\n{END}")
    assert source == STUB


def test_two_regions_and_the_text_around_them_are_kept():
    cell = f"a = 1\n{BEGIN}\nb = 2\n{END}\nc = 3\n{BEGIN}\nprint(b)\n{END}\nd = 4"
    source, count = strip_solutions(cell)
    assert count == 2
    assert source.splitlines() == ["a = 1", f"b = {STUB}", "c = 3", STUB, "d = 4"]


@pytest.mark.parametrize("cell, message", [
    (f"{BEGIN}\nx = 1", "never closed"),
    (f"x = 1\n{END}", "without"),
    (f"{BEGIN}\n{BEGIN}\nx = 1\n{END}", "inside another region"),
])
def test_unbalanced_markers_are_refused_with_the_place(cell, message):
    with pytest.raises(MarkerError, match=message) as info:
        strip_solutions(cell, "ch1 cell 7")
    assert "ch1 cell 7" in str(info.value)


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    out = nbformat.v4.new_output("stream", name="stdout", text="✔ corr2d: correct\n")
    keep = nbformat.v4.new_output("stream", name="stdout", text="torch.Size([1, 6, 28, 28])\n")
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"Markdown mentioning {BEGIN} stays as it is"),
        nbformat.v4.new_code_cell("print(X.shape)", outputs=[keep], execution_count=1),
        nbformat.v4.new_code_cell(FUNCTION_CELL, outputs=[out], execution_count=2),
    ]
    return nb


def test_student_notebook_clears_only_exercise_cells_and_unpairs():
    nb = _notebook()
    student = student_notebook(nb)
    assert "jupytext" not in student.metadata
    assert student.cells[0].source == nb.cells[0].source
    assert student.cells[1].outputs == nb.cells[1].outputs
    assert student.cells[1].execution_count == 1
    assert student.cells[2].outputs == [] and student.cells[2].execution_count is None
    assert STUB in student.cells[2].source and "X[:h, :w]" not in student.cells[2].source
    assert "X[:h, :w]" in nb.cells[2].source, "the instructor notebook is left unchanged"
    assert count_exercises(nb) == 1 and count_exercises(student) == 0


def test_make_student_writes_every_notebook_and_a_no_pairing_config(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    nbformat.write(_notebook(), src / "01_x.ipynb")
    written = make_student(src, tmp_path / "student")
    assert written == [(tmp_path / "student" / "01_x.ipynb", 1)]
    assert (tmp_path / "student" / "jupytext.toml").read_text() == 'formats = "ipynb"\n'
    again = nbformat.read(written[0][0], as_version=4)
    assert STUB in again.cells[2].source


def test_main_reports_errors_instead_of_a_traceback(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 2  # bad usage
    assert "there is no folder" in capsys.readouterr().err
    nb = _notebook()
    nb.cells[2].source = f"{BEGIN}\nx = 1"
    nbformat.write(nb, tmp_path / "02_bad.ipynb")
    assert main([str(tmp_path), str(tmp_path / "out")]) == 1
    assert "02_bad.ipynb cell 2" in capsys.readouterr().err


def _text(outputs):
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                   for o in outputs)


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    """The student edition of the real chapters, generated and executed top to bottom."""
    from nbclient import NotebookClient

    dst = tmp_path_factory.mktemp("student")
    written = make_student(NOTEBOOKS, dst)
    executed = {}
    for path, _ in written:
        nb = nbformat.read(path, as_version=4)
        # raises CellExecutionError (with the cell) if any cell fails
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(dst)}}).execute()
        executed[path.name] = nb
    return written, executed


def test_every_student_notebook_runs_and_each_exercise_says_not_yet(student_edition):
    written, executed = student_edition
    assert len(written) == len(list(NOTEBOOKS.glob("*.ipynb")))
    for name, nb in executed.items():
        for cell in nb.cells:
            if cell.cell_type == "code" and STUB in cell.source:
                assert "not yet" in _text(cell.outputs), (name, cell.source)
                assert "Traceback" not in _text(cell.outputs)


def test_the_chapters_that_build_in_the_open_have_at_least_three_exercises_each():
    # chapters 1, 2, 3 and 5 (04_recipes reproduces and compares recipes: no exercises yet)
    counts = {p.name: count_exercises(nbformat.read(p, as_version=4))
              for p in sorted(NOTEBOOKS.glob("0[1235]_*.ipynb"))}
    assert len(counts) == 4, counts
    assert all(n >= 3 for n in counts.values()), counts
    assert sum(counts.values()) >= 12, counts

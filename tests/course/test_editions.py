"""Generated editions never lose a learner's work and never touch the source notebooks."""

import json
import os
from pathlib import Path

import nbformat
import pytest

from lenet_nb.course.editions import MANIFEST, DestinationError, check_destination, fingerprint
from lenet_nb.course.student import BEGIN, END, STUB, main, make_reading, make_student

EXERCISE = f"{BEGIN}\nanswer = 42\n{END}"


def _chapter(tmp_path, prompt="What is 6 × 7?"):
    """A source folder holding one chapter with one exercise; returns (folder, notebook path)."""
    src = tmp_path / "notebooks"
    src.mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(prompt),
                nbformat.v4.new_code_cell(EXERCISE, metadata={"tags": ["exercise-answer"]})]
    nbformat.write(nb, src / "01_x.ipynb")
    return src, src / "01_x.ipynb"


def _solve(path, answer="answer = 6 * 7"):
    """What a learner does: type an answer into the stub and save (JupyterLab adds outputs)."""
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = answer
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="✔\n")]
    nbformat.write(nb, path)


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_solve_regenerate_and_the_work_is_still_there(tmp_path):
    src, chapter = _chapter(tmp_path)
    dst = tmp_path / "student"
    assert make_student(src, dst)[0].action == "created"
    assert f"answer = {STUB}" in (dst / "01_x.ipynb").read_text()
    _solve(dst / "01_x.ipynb")
    solved = (dst / "01_x.ipynb").read_bytes()

    _chapter(tmp_path, prompt="What is six times seven?")  # the course changed (a git pull)
    (written,) = make_student(src, dst)
    assert written.action == "kept"
    assert "you changed this notebook" in written.message and "01_x.new.ipynb" in written.message
    assert (dst / "01_x.ipynb").read_bytes() == solved, "the learner's work is untouched"
    offered = nbformat.read(dst / "01_x.new.ipynb", as_version=4)
    assert offered.cells[0].source == "What is six times seven?"
    assert f"answer = {STUB}" in offered.cells[1].source

    (again,) = make_student(src, dst)  # running it again offers the same file, nothing more
    assert again.action == "kept" and (dst / "01_x.ipynb").read_bytes() == solved
    assert sorted(p.name for p in dst.glob("*.ipynb")) == ["01_x.ipynb", "01_x.new.ipynb"]


def test_an_untouched_notebook_is_updated_even_after_running_its_cells(tmp_path):
    src, _ = _chapter(tmp_path)
    dst = tmp_path / "student"
    make_student(src, dst)
    nb = nbformat.read(dst / "01_x.ipynb", as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="○ not started\n")]
    nb.cells[1].execution_count = 4  # run and autosaved, nothing typed
    nbformat.write(nb, dst / "01_x.ipynb")
    _chapter(tmp_path, prompt="New prompt")
    (written,) = make_student(src, dst)
    assert written.action == "updated"
    assert nbformat.read(dst / "01_x.ipynb", as_version=4).cells[0].source == "New prompt"
    assert not (dst / "01_x.new.ipynb").exists()
    assert make_student(src, dst)[0].action == "unchanged"


def test_force_keeps_a_timestamped_backup_first(tmp_path):
    src, _ = _chapter(tmp_path)
    dst = tmp_path / "student"
    make_student(src, dst)
    _solve(dst / "01_x.ipynb")
    solved = (dst / "01_x.ipynb").read_bytes()
    (written,) = make_student(src, dst, force=True)
    assert written.action == "forced"
    (backup,) = dst.glob("01_x.backup-*.ipynb")
    assert backup.read_bytes() == solved and backup.name in written.message
    assert f"answer = {STUB}" in (dst / "01_x.ipynb").read_text()


def test_a_notebook_without_a_record_is_the_learners_unless_it_is_what_we_would_write(tmp_path):
    src, _ = _chapter(tmp_path)
    dst = tmp_path / "student"
    make_student(src, dst)
    (dst / MANIFEST).unlink()  # e.g. written by an older generator
    assert make_student(src, dst)[0].action == "unchanged"
    _solve(dst / "01_x.ipynb")
    (dst / MANIFEST).unlink()
    assert make_student(src, dst)[0].action == "kept"


def _refused(src, dst, capsys):
    before = _snapshot(src)
    assert main([str(src), str(dst)]) == 1
    assert "error: the destination" in capsys.readouterr().err
    assert _snapshot(src) == before, "the instructor notebooks are unchanged"


@pytest.mark.parametrize("spelling", ["same", "slash", "absolute", "dot"])
def test_destination_equal_to_the_source_is_refused_and_nothing_changes(
        tmp_path, monkeypatch, capsys, spelling):
    src, _ = _chapter(tmp_path)
    monkeypatch.chdir(tmp_path)
    dst = {"same": "notebooks", "slash": "./notebooks/", "absolute": str(src),
           "dot": "notebooks/../notebooks"}[spelling]
    _refused(Path("notebooks"), dst, capsys)
    assert not (src / "jupytext.toml").exists()


def test_destination_through_a_symlink_inside_or_around_the_source_is_refused(
        tmp_path, capsys):
    src, _ = _chapter(tmp_path)
    (tmp_path / "link").symlink_to(src)
    _refused(src, tmp_path / "link", capsys)
    _refused(src, src / "student", capsys)
    _refused(src, tmp_path, capsys)
    assert not (src / "student").exists()
    with pytest.raises(DestinationError, match="contains the source"):
        check_destination(src, tmp_path)
    check_destination(src, tmp_path / "student")  # a sibling is fine


def test_reading_copy_keeps_outputs_and_the_learners_notes(tmp_path):
    src, chapter = _chapter(tmp_path)
    nb = nbformat.read(chapter, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="full run: 0.91\n")]
    nbformat.write(nb, chapter)
    dst = tmp_path / "reading"
    make_reading(src, dst)
    copy = nbformat.read(dst / "01_x.ipynb", as_version=4)
    assert copy.cells[1].outputs[0]["text"] == "full run: 0.91\n"
    assert BEGIN in copy.cells[1].source, "the reading copy shows the solutions"
    _solve(dst / "01_x.ipynb", "answer = 42  # my note")
    assert make_reading(src, dst)[0].action == "kept"


def test_every_write_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    src, _ = _chapter(tmp_path)
    dst = tmp_path / "student"
    make_student(src, dst)
    _solve(dst / "01_x.ipynb")
    solved = (dst / "01_x.ipynb").read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="(?i)no space left"):
        make_student(src, dst, force=True)
    assert (dst / "01_x.ipynb").read_bytes() == solved
    assert json.loads((dst / MANIFEST).read_text())
    assert not [p for p in dst.iterdir() if p.name.endswith(".tmp")]


def test_fingerprint_sees_sources_not_outputs():
    a = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    b = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "x = 1", outputs=[nbformat.v4.new_output("stream", text="1")], execution_count=3)])
    c = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 2")])
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)

"""`make lab` prepares the learner's copies and opens JupyterLab on them (the browser test runs
a chapter there and checks `git status`)."""

import shutil
from pathlib import Path

from lenet_nb.course.lab import START_PAGE, lab_options, prepare

ROOT = Path(__file__).resolve().parents[2]


def test_prepare_writes_both_copies_and_keeps_them_on_a_second_run(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    messages = prepare(tmp_path)
    assert (tmp_path / START_PAGE).exists()
    assert (tmp_path / "student" / "02_shapes.ipynb").exists()
    assert len(messages) == 2 * len(list((ROOT / "notebooks").glob("*.ipynb")))
    assert prepare(tmp_path) == [], "nothing to say when everything is up to date"


def test_jupyterlab_starts_at_the_root_on_the_reading_copy_with_the_chapters_hidden(tmp_path):
    options = lab_options(tmp_path)
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in options
    assert f"--LabApp.default_url=/lab/tree/{START_PAGE}" in options
    hidden = [o.split("=", 1)[1] for o in options if o.startswith("--ContentsManager.hide_globs")]
    assert {"notebooks", "notebooks_py", "__pycache__"} <= set(hidden)

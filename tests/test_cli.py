"""Every command line: --help, refused typos and unknown options, one-line errors, exit codes."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from lenet_nb import cli, fetch
from lenet_nb.course import nbcheck, report, student
from lenet_nb.data import TensorBatches
from lenet_nb.lessons import lenet5_train

ROOT = Path(__file__).resolve().parents[1]
MODULES = {"fetch": fetch.main, "nbcheck": nbcheck.main, "report": report.main,
           "student": student.main}
SCRIPTS = ["tools/lenet5_validation.py", "benchmarks/train_throughput.py",
           "benchmarks/lenet5_step.py", "benchmarks/draw_latency.py",
           "benchmarks/draw_browser_latency.py"]


@pytest.mark.parametrize("tool", sorted(MODULES))
def test_help_prints_usage_and_succeeds(tool, capsys):
    assert MODULES[tool](["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: python -m lenet_nb.")
    assert MODULES[tool](["-h"]) == 0


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_has_help_and_refuses_unknown_options(script):
    run = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 0 and run.stdout.startswith(f"usage: {script}")
    run = subprocess.run([sys.executable, script, "--no-such-option"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 2 and "unrecognized arguments: --no-such-option" in run.stderr


@pytest.mark.parametrize(("tool", "argv"), [("fetch", ["verify", "--quiet"]),
                                            ("nbcheck", ["--verbose"]),
                                            ("report", ["write", "--force"]),
                                            ("student", ["--verbose"])])
def test_unknown_options_are_refused(tool, argv, capsys):
    """`student --verbose notebooks st` looked for notebooks in a folder named --verbose."""
    assert MODULES[tool](argv) == 2
    assert f"unrecognized arguments: {argv[-1]}" in capsys.readouterr().err


def _course(tmp_path):
    """tmp_path/notebooks with one chapter notebook, tmp_path/notebooks_py with its source."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A")])
    nbformat.write(nb, folder / "01_a.ipynb")
    return folder


@pytest.mark.parametrize(("argv", "message"), [
    (["--numbers", "notebook"], "there is no folder notebook (did you mean notebooks?)"),
    (["--number", "notebooks"], "unrecognized arguments: --number"),
    (["notebooks/01_a.ipynb"], "notebooks/01_a.ipynb is a file, not a folder: pass the folder "
                               "that holds it (notebooks)"),
    (["notebooks", "extra"], "unrecognized arguments: extra"),
    (["--verbose", "notebooks"], "unrecognized arguments: --verbose"),
    (["empty"], "empty holds no *.ipynb files"),
])
def test_nbcheck_refuses_to_check_nothing(tmp_path, monkeypatch, capsys, argv, message):
    """Issue 19 item 6: each of these printed '0 problem(s)' and exited 0."""
    _course(tmp_path)
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    assert nbcheck.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "0 problem(s)" not in err


def _cut_notebook(tmp_path):
    folder = _course(tmp_path)
    path = folder / "01_a.ipynb"
    path.write_text(path.read_text()[:40])
    return path


@pytest.mark.parametrize(("tool", "argv", "code"), [
    ("nbcheck", lambda f: [str(f)], 1),
    ("nbcheck", lambda f: ["--numbers", str(f)], 1),
    ("report", lambda f: ["write", str(f)], 1),
    ("student", lambda f: [str(f), str(f.parent / "st")], 1),
])
def test_a_notebook_that_is_not_json_is_named_in_one_line(tmp_path, capsys, tool, argv, code):
    path = _cut_notebook(tmp_path)
    assert MODULES[tool](argv(path.parent)) == code
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err
    assert f"{path} is not a notebook: invalid JSON at line " in lines[0]
    assert "git checkout" in lines[0]


def test_report_takes_its_output_file_and_its_help(tmp_path, capsys):
    folder = _course(tmp_path)
    assert report.main(["write", str(folder), "--out", str(tmp_path / "R.md")]) == 0
    assert (tmp_path / "R.md").read_text().startswith(report.TITLE)
    assert report.main([]) == 2 and "the following arguments are required: command" in (
        capsys.readouterr().err)


def test_report_never_writes_over_a_file_it_did_not_write(tmp_path, capsys):
    folder = _course(tmp_path)
    mine = tmp_path / "notes.md"
    mine.write_text("my notes")
    assert report.main(["write", str(folder), "--out", str(mine)]) == 1
    assert "notes.md exists and is not a report" in capsys.readouterr().err
    assert mine.read_text() == "my notes"


def test_run_turns_user_errors_into_one_line_and_ctrl_c_into_130(capsys, monkeypatch):
    def fails(argv):
        raise ValueError("bad value")

    def interrupted(argv):
        raise KeyboardInterrupt("stopped in epoch 2")

    assert cli.run(fails) == 1 and capsys.readouterr().err == "error: bad value\n"
    assert cli.run(interrupted) == 130
    assert capsys.readouterr().err == "interrupted: stopped in epoch 2\n"
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    assert cli.run(fails) == 1 and "Traceback" in capsys.readouterr().err
    with pytest.raises(TypeError):  # a bug is not a user error: its traceback shows
        cli.run(lambda argv: None + 1)


# --- tools/lenet5_validation.py ---------------------------------------------------------------


def _tool(monkeypatch):
    spec = importlib.util.spec_from_file_location("lenet5_validation",
                                                  ROOT / "tools" / "lenet5_validation.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(48, 1, 32, 32, generator=g), torch.arange(48) % 10

    def tiny_split(batch_size, seed):
        return (TensorBatches(X[:32], y[:32], 16, shuffle=True, seed=seed),
                TensorBatches(X[32:], y[32:], 16))

    monkeypatch.setattr(tool, "validation_split", tiny_split)
    return tool


def test_an_interrupted_seed_writes_nothing_and_keeps_the_earlier_ones(tmp_path, monkeypatch,
                                                                       capsys, ctrl_c_in_epoch):
    """Issue 19 item 2: an interrupted run was stored as epochs=3 with epoch 1's error."""
    tool, out = _tool(monkeypatch), tmp_path / "v.csv"
    ctrl_c_in_epoch(5)  # seed 1, epoch 2
    assert tool.main(["--epochs", "3", "--seeds", "0", "1", "--out", str(out)]) == 130
    assert "interrupted: seed 1 stopped in epoch 2 of 3: nothing written for it" in (
        capsys.readouterr().err)
    assert [r["seed"] for r in lenet5_train.read_validation_rows(out)] == ["0"]


@pytest.mark.parametrize("lr", ["nan", "inf", "-0.1", "0", "fast"])
def test_a_bad_rate_is_refused_before_any_data_is_read(tmp_path, monkeypatch, capsys, lr):
    tool = _tool(monkeypatch)
    monkeypatch.setattr(tool, "validation_split", None)  # never reached
    assert tool.main(["--lr", lr, "--out", str(tmp_path / "v.csv")]) == 2
    shown = repr(lr) if lr == "fast" else lr
    assert f"argument --lr: {shown} is not a" in capsys.readouterr().err
    assert not (tmp_path / "v.csv").exists()


def test_a_diverging_seed_is_named_and_nothing_is_written(tmp_path, monkeypatch, capsys):
    tool, out = _tool(monkeypatch), tmp_path / "v.csv"

    def nan_loss(j):
        return lambda y_hat, y: y_hat.sum() * float("nan")

    monkeypatch.setattr(tool, "MAPLoss", nan_loss)
    assert tool.main(["--epochs", "1", "--seeds", "0", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "seed 0: training diverged" in err and "nothing written" in err
    assert not out.exists()


@pytest.mark.parametrize(("out", "message"), [
    ("folder", "is a folder, not a file"),
    ("notes.csv", "has columns ['my', 'notes'], expected"),
])
def test_a_bad_results_file_is_refused_before_any_training(tmp_path, monkeypatch, capsys, out,
                                                           message):
    tool = _tool(monkeypatch)
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.csv").write_text("my,notes\n1,2\n")
    monkeypatch.setattr(tool, "validation_split", None)  # never reached
    assert tool.main(["--out", str(tmp_path / out)]) == 1
    assert message in capsys.readouterr().err
    assert (tmp_path / "notes.csv").read_text() == "my,notes\n1,2\n"


def test_a_folder_that_may_be_missing_still_catches_a_typo(tmp_path, monkeypatch):
    (tmp_path / "student").mkdir()
    monkeypatch.chdir(tmp_path)
    check = cli.folder(None, missing_ok=True)
    assert check("reading") == Path("reading")  # not made yet: fine
    with pytest.raises(Exception, match=r"there is no folder studnet \(did you mean student\?\)"):
        check("studnet")

"""The full-run report: rendered from stored notebooks, executed in place, REPORT.md current."""

import json
import os
from pathlib import Path

import jupytext
import nbformat
import pytest

import lenet_nb
from lenet_nb import experiments as xp
from lenet_nb.course import nbcheck, report
from lenet_nb.course.sources import sources_table

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def test_committed_report_agrees_with_the_stored_notebooks():
    expected = report.render(NOTEBOOKS)
    committed = (ROOT / "REPORT.md").read_text(encoding="utf-8")
    assert committed == expected, (
        "REPORT.md does not match the notebooks' stored outputs: run `make reproduce` (full "
        "re-run) or `python -m lenet_nb.course.report write notebooks` (from the stored outputs)")


def _timed(cell, start, end):
    cell.metadata["execution"] = {"iopub.execute_input": f"2026-01-02T03:{start}Z",
                                  "shell.execute_reply": f"2026-01-02T03:{end}Z"}
    return cell


def _chapter(folder):
    """01_a: timed cells, two tagged `report` (markdown and printed); 02_b: nothing recorded."""
    nb = nbformat.v4.new_notebook()
    table = nbformat.v4.new_code_cell("show_table()", metadata={"tags": ["report"]})
    table.outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": "| ours | paper |\n|---|---|\n| 0.92 % | 0.95 % |",
        "text/plain": "<IPython.core.display.Markdown object>"})]
    printed = nbformat.v4.new_code_cell("print(acc)", metadata={"tags": ["report"]})
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="test acc 0.9123\n")]
    other = nbformat.v4.new_code_cell("print(2)")
    other.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# A"), _timed(table, "00:00.0", "01:30.5"),
                _timed(printed, "01:31.0", "01:31.5"), _timed(other, "01:32.0", "01:33.0")]
    nb.metadata[report.RUN_KEY] = {"cpu": "Test CPU", "cores": 2, "torch": "2.0",
                                   "torch_threads": 1, "OMP_NUM_THREADS": "1",
                                   "python": "3.11.7", "os": "Linux", "quick": False,
                                   "wall_s": 95.4}
    nbformat.write(nb, folder / "01_a.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]),
                   folder / "02_b.ipynb")
    nbformat.write(nbformat.v4.new_notebook(), folder / "not_a_chapter.ipynb")


def test_render_on_a_tiny_folder_is_exact(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _chapter(folder)
    assert report.render(folder, experiments=[]) == f"""# Full-run report

Written by `python -m lenet_nb.course.report write notebooks` from the stored notebooks (`make reproduce` re-runs every chapter in full mode first). Do not edit by hand.

Course version: lenet-nb {lenet_nb.__version__} (`lenet_nb/__init__.py`).

## Machine

Chapters 01_a:
- cpu: Test CPU
- cores: 2
- torch: 2.0
- torch_threads: 1
- OMP_NUM_THREADS: 1
- python: 3.11.7
- os: Linux

## `make reproduce`

Not recorded: `make reproduce` (every experiment, then every chapter) records its time in `results/reproduce.json`.

## Chapters

Wall time: measured by `make reproduce` around the whole notebook. Cells summed: the code cells' execution times from the timings stored in the notebook (kernel start-up excluded; available for any stored run). Slowest cell: the code cell (counted from 1) that took longest.

| chapter | full mode | last cell run | wall time | cells summed | slowest cell |
|---|---|---|---|---|---|
| `01_a` | yes | 2026-01-02 03:01 UTC | 1 min 35 s | 1 min 32 s | code cell 1: 1 min 30 s |
| `02_b` | not recorded | not recorded | not recorded | not recorded | not recorded |

## Stored experiments

No experiments registered yet (`python -m lenet_nb.course.experiments list`).

## What the sources reported

{sources_table().rstrip()}

## Headline results per chapter

The stored outputs of each chapter's cells tagged `report`.

### `01_a`

| ours | paper |
|---|---|
| 0.92 % | 0.95 % |

```
test acc 0.9123
```

### `02_b`

No cell tagged `report` in this chapter.
"""  # noqa: E501


def test_write_puts_the_report_next_to_the_notebooks_folder(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _chapter(folder)
    assert report.main(["write", str(folder)]) == 0
    assert (tmp_path / "REPORT.md").read_text() == report.render(folder)


def test_bad_input_is_explained(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="no chapter notebooks"):
        report.render(tmp_path)
    for argv in ([], ["execute"], ["write", "--resume"], ["write", "a", "b"], ["run", "--x"],
                 ["run", "--jobs", "2"], ["reproduce", "--jobs", "0"]):
        assert report.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err  # one line
        assert "(see `python -m lenet_nb.course.report --help`)" in err


def _stored_experiment(results):
    """A tiny registered experiment with a results file: 2 runs, one diverged."""
    exp = xp.Experiment("toy", "a", {"epochs": 1}, lambda c: xp.grid([0, 1]),
                        lambda c, run: {"acc": 0.5})
    rows = [{"experiment": "toy", "config_hash": exp.hash, "status": status, "note": "",
             **spec, "acc": acc, "wall_seconds": 61.5, "finished_at": f"2026-01-0{i}T03:04:05Z",
             "load_avg": 0.1, "commit": "abcdef0123", "dirty": "no", "torch": "2.0",
             "threads": 2, "cpu_capability": "AVX2", "cpu": "Test CPU"}
            for i, (spec, status, acc) in enumerate(zip(exp.specs(), ("finished", "diverged"),
                                                        (0.5, None)), 1)]
    results.mkdir(exist_ok=True)
    xp.write_rows(exp.path(results), rows)
    return exp


def test_render_lists_stored_experiments_and_the_last_reproduce(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _chapter(folder)
    exp = _stored_experiment(tmp_path / "results")
    missing = xp.Experiment("other", "a", {}, lambda c: [{"seed": 0}], dict)
    (tmp_path / "results" / report.REPRODUCE_FILE).write_text(json.dumps({
        "wall_s": 4000, "experiments_s": 3700, "chapters_s": 300, "resumed": False,
        "finished_at": "2026-01-03 04:05 UTC", "commit": "abcdef0123", "cpu": "Test CPU",
        "cpu_capability": "AVX2", "threads": 2, "torch": "2.0"}))
    text = report.render(folder, experiments=[exp, missing])
    assert ("The last full `make reproduce` took 1 h 6 min (experiments 1 h 1 min, chapters "
            "5 min 0 s), finished 2026-01-03 04:05 UTC on Test CPU (AVX2, 2 threads), commit "
            "abcdef0.\n") in text
    record = json.loads((tmp_path / "results" / report.REPRODUCE_FILE).read_text())
    (tmp_path / "results" / report.REPRODUCE_FILE).write_text(json.dumps({**record, "jobs": 2}))
    assert ("The last full `make reproduce` with JOBS=2 (one-thread runs 2 at a time) took 1 h "
            "6 min (") in report.render(folder, experiments=[exp, missing])
    assert ("| `toy` | `a` | `toy.csv`: ok | 2 (1 diverged) | 2 min 3 s | Test CPU (AVX2, 2 "
            "threads, torch 2.0) | abcdef0 | 2026-01-02 03:04 UTC |\n") in text
    assert "| `other` | `a` | `other.csv`: missing | – | – | – | – | – |\n" in text


def test_plan_line_halves_only_the_experiments_whose_runs_all_pin_one_thread(tmp_path):
    _chapter(tmp_path)
    pinned = xp.Experiment("pinned", "a", {}, lambda c: [{"seed": 0, "threads": 1},
                                                         {"seed": 1, "threads": 1}],
                           dict, minutes=60)
    mixed = xp.Experiment("mixed", "a", {}, lambda c: [{"seed": 0, "threads": 1}, {"seed": 1}],
                          dict, minutes=20)
    assert report.plan_line([pinned, mixed], tmp_path) == (
        "make reproduce: 2 experiment(s) (4 run(s); about 1 h 20 min one at a time on 2 idle "
        "cores, by their estimates), then 2 chapter(s) in full mode")
    assert report.plan_line([pinned, mixed], tmp_path, jobs=2) == (
        "make reproduce: 2 experiment(s) (4 run(s); about 50 min 0 s with the one-thread runs 2 at "
        "a time on 2 idle cores, by their estimates), then 2 chapter(s) in full mode")


def test_reproduce_runs_the_experiments_then_the_chapters_and_records_the_time(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LENET_NB_QUICK", "0")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _chapter(folder)
    order = []
    exp = xp.Experiment("toy", "a", {}, lambda c: [{"seed": 0}],
                        lambda c, run: order.append("experiment") or {"acc": 1.0}, minutes=90)
    monkeypatch.setattr(report, "_run_chapters", lambda f: order.append("chapters"))
    assert report.reproduce(folder, experiments=[exp]) == tmp_path / "REPORT.md"
    assert order == ["experiment", "chapters"]
    assert capsys.readouterr().out.startswith(
        "make reproduce: 1 experiment(s) (1 run(s); about 1 h 30 min one at a time on 2 idle "
        "cores, by their estimates), then 2 chapter(s) in full mode\n")
    record = json.loads((tmp_path / "results" / report.REPRODUCE_FILE).read_text())
    assert record["resumed"] is False and record["wall_s"] >= record["chapters_s"] >= 0
    assert record["jobs"] == 1
    assert record["cpu_capability"] == xp.provenance()["cpu_capability"]
    assert "| `toy` | `a` | `toy.csv`: ok | 1 |" in (tmp_path / "REPORT.md").read_text()
    monkeypatch.setenv("LENET_NB_QUICK", "1")  # quick mode: no results, nothing recorded
    (tmp_path / "results" / report.REPRODUCE_FILE).unlink()
    with pytest.raises(xp.ResultsError, match="quick mode"):
        report.reproduce(folder, experiments=[exp])
    assert report.main(["reproduce", str(folder)]) == 1
    assert capsys.readouterr().err.startswith("error: LENET_NB_QUICK is on (quick mode)")
    assert order == ["experiment", "chapters"]  # nothing ran
    assert not (tmp_path / "results" / report.REPRODUCE_FILE).exists()


def test_slowest_cell_counts_code_cells_from_one():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A"), _timed(nbformat.v4.new_code_cell("a"), "00:00.0",
                                                     "00:02.0"),
        nbformat.v4.new_markdown_cell("text"), _timed(nbformat.v4.new_code_cell("b"), "00:03.0",
                                                      "01:08.5"),
        nbformat.v4.new_code_cell("never run")])
    assert report.cell_times(nb) == [(1, 2.0), (2, 65.5)]
    assert report.slowest_cell(nb) == "code cell 2: 1 min 6 s"
    assert report.slowest_cell(nbformat.v4.new_notebook()) == "not recorded"


def test_an_edit_made_while_a_chapter_runs_is_kept(tmp_path, monkeypatch):
    """`make reproduce` runs for an hour: a teacher's save in the meantime was overwritten."""
    import nbclient

    path = tmp_path / "01_a.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), path)

    class EditedMeanwhile:
        def __init__(self, nb, **kwargs):
            pass

        def execute(self):  # the teacher saves an edit while the kernel runs
            nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("2")]),
                           path)

    monkeypatch.setattr(nbclient, "NotebookClient", EditedMeanwhile)
    with pytest.raises(FileExistsError, match="changed on disk while it ran.*your version is "
                                              "kept"):
        report.execute(path)
    assert nbformat.read(path, as_version=4).cells[0].source == "2"


def test_a_report_cell_that_stored_an_error_shows_as_an_error(tmp_path):
    """Issue 19 item 6: REPORT.md said "No cell tagged `report`" for a failed report cell."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("show(results)", metadata={"tags": ["report"]})
    cell.outputs = [nbformat.v4.new_output("error", ename="NameError",
                                           evalue="name 'results' is not defined",
                                           traceback=["NameError ..."])]
    nb.cells = [cell]
    assert report.headline(nb) == ("**This cell stored an error**: `NameError: name 'results' "
                                   "is not defined`. Re-run the chapter.")
    nbformat.write(nb, tmp_path / "01_a.ipynb")
    assert "No cell tagged" not in report.render(tmp_path)


def test_a_full_disk_keeps_the_old_report(tmp_path, monkeypatch):
    """Issue 19 item 1: a full disk left a 4,096-byte stub where REPORT.md was."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _chapter(folder)
    old = report.write(folder).read_text()

    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    (folder / "01_a.ipynb").unlink()  # the next report would differ
    with pytest.raises(OSError, match="no space left"):
        report.write(folder)
    assert (tmp_path / "REPORT.md").read_text() == old


def test_execute_runs_in_full_mode_in_place_and_keeps_the_pairing(tmp_path):
    folder, sources = tmp_path / "notebooks", tmp_path / "notebooks_py"
    folder.mkdir(), sources.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A"),
        nbformat.v4.new_code_cell("import os\nprint(os.environ['LENET_NB_QUICK'])")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["jupytext"] = {"formats": "notebooks///ipynb,notebooks_py///py:percent",
                               "cell_metadata_filter": "tags,-all",
                               "notebook_metadata_filter":
                                   "-jupytext.text_representation.jupytext_version"}
    jupytext.write(nb, folder / "01_a.ipynb")
    jupytext.write(nb, sources / "01_a.py", fmt="py:percent")
    py_before = (sources / "01_a.py").read_text()
    seconds = report.execute(folder / "01_a.ipynb")
    done = nbformat.read(folder / "01_a.ipynb", as_version=4)
    assert done.cells[1].outputs[0]["text"] == "0\n"  # full mode, even under pytest's quick mode
    run = done.metadata[report.RUN_KEY]
    assert run["quick"] is False and run["wall_s"] == round(seconds, 1)
    assert 0 < report.cell_seconds(done) <= seconds
    assert (sources / "01_a.py").read_text() == py_before
    assert nbcheck.problems(folder) == []
    # the run's record stays in the .ipynb: a later `make sync` leaves the .py unchanged too
    assert report.RUN_KEY not in jupytext.writes(done, fmt="py:percent")
    assert os.environ["LENET_NB_QUICK"] == "1"  # pytest's quick mode restored afterwards


def test_durations():
    assert [report.duration(s) for s in (None, 0.4, 12.3, 372, 3600)] == [
        "not recorded", "0 s", "12 s", "6 min 12 s", "1 h 0 min"]


def test_readme_takes_full_run_times_from_the_report():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[REPORT.md](REPORT.md)" in readme and "make reproduce" in readme
    assert "half an hour" not in readme and "35 minutes" not in readme  # stale, hand-written

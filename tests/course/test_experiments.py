"""Running experiments into results/: interruption, resuming, divergence, quick mode, the command
line, and every registered experiment's committed results file (fails when a config changes)."""

import csv
import fnmatch
import io
from pathlib import Path

import pytest
import torch
from torch import nn

from lenet_nb import experiments as xp
from lenet_nb import train
from lenet_nb.course import experiments as cx
from lenet_nb.data import TensorBatches
from lenet_nb.train import History, fit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def full_mode(monkeypatch):
    """Experiments write results only outside quick mode (pytest turns quick mode on)."""
    monkeypatch.setenv("LENET_NB_QUICK", "0")


def _toy(name="toy", epochs=3, calls=None, fail=None):
    """Three runs (seeds 0-2); each draws its curve from torch's generator, seeded by run.

    `fail(spec, attempt)` may raise or return something else for a run; `calls` logs the keys.
    """
    attempts = {}

    def run_one(config, spec):
        attempts[spec["run"]] = attempts.get(spec["run"], 0) + 1
        if calls is not None:
            calls.append(spec["run"])
        if fail is not None:
            result = fail(spec, attempts[spec["run"]])
            if result is not None:
                return result
        curve = torch.rand(config["epochs"]) * config["scale"]
        return {"acc": [float(v) for v in curve], "best_epoch": int(curve.argmax()) + 1}

    return xp.Experiment(name, "recipes", {"epochs": epochs, "scale": 0.5},
                         lambda c: xp.grid([0, 1, 2], width=[8]), run_one, minutes=1)


def _without_time(path):
    """The file's cells with the time columns blanked (they differ between identical runs)."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    drop = [i for i, k in enumerate(rows[0]) if k in xp.TIME_COLUMNS]
    return [[c for i, c in enumerate(row) if i not in drop] for row in rows]


def test_quick_mode_never_writes_results(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_NB_QUICK", "1")
    with pytest.raises(xp.ResultsError, match="LENET_NB_QUICK is on .* LENET_NB_QUICK=0"):
        cx.run(_toy(), results_dir=tmp_path, log=lambda m: None)
    assert list(tmp_path.iterdir()) == []
    assert cx.main(["run", "toy"], [_toy()], tmp_path) == 1


def test_a_run_writes_one_row_per_run_with_provenance(tmp_path, full_mode):
    lines = []
    assert cx.run(_toy(), results_dir=tmp_path, log=lines.append) == tmp_path / "toy.csv"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.csv"]  # no partial, no temp
    rows = xp.load(_toy(), tmp_path)
    assert [r["run"] for r in rows] == ["width=8,seed=0", "width=8,seed=1", "width=8,seed=2"]
    torch.manual_seed(1)
    assert rows[1]["acc"] == pytest.approx((torch.rand(3) * 0.5).tolist(), abs=1e-7)
    prov = xp.provenance()
    for r in rows:
        assert r["status"] == "finished" and r["config_hash"] == _toy().hash
        assert {k: r[k] for k in ("commit", "torch", "threads", "cpu_capability", "cpu")} == {
            k: prov[k] for k in ("commit", "torch", "threads", "cpu_capability", "cpu")}
        assert r["wall_seconds"] >= 0 and r["finished_at"].endswith("Z") and r["load_avg"] >= 0
    lines = [m for m in lines if not m.startswith("note: ")]  # a busy machine
    assert lines[0] == "toy: 3 run(s) to do, 0 kept, 3 in all"
    assert lines[1].startswith("[1/3] width=8,seed=0: finished, acc ")


def test_ctrl_c_in_run_2_of_3_leaves_the_file_untouched_and_resumable(tmp_path, full_mode):
    fresh = tmp_path / "fresh"
    cx.run(_toy(), results_dir=fresh, log=lambda m: None)
    cx.run(_toy(epochs=2), results_dir=tmp_path, log=lambda m: None)  # an earlier configuration
    old = tmp_path / "toy.csv"
    earlier = old.read_text()

    def ctrl_c_once(spec, attempt):
        if spec["seed"] == 1 and attempt == 1:
            raise KeyboardInterrupt

    calls, lines = [], []
    exp = _toy(calls=calls, fail=ctrl_c_once)
    with pytest.raises(KeyboardInterrupt):
        cx.run(exp, results_dir=tmp_path, log=lines.append)
    assert old.read_text() == earlier
    partial = exp.partial_path(tmp_path)
    assert [r["run"] for _, r in xp.read_rows(partial, "")] == ["width=8,seed=0"]
    assert "run width=8,seed=1 stopped (interrupted) and was not stored; 1 of 3" in lines[-1]
    assert "--resume" in lines[-1]
    with pytest.raises(xp.ResultsError, match="pass --resume to keep them or --fresh"):
        cx.run(exp, results_dir=tmp_path, log=lambda m: None)
    lines.clear()
    assert cx.run(exp, resume=True, results_dir=tmp_path, log=lines.append) == old
    assert "toy.csv: 3 row(s) not kept (another configuration, torch, thread count or CPU " \
        "capability)" in lines
    assert calls == ["width=8,seed=0", "width=8,seed=1", "width=8,seed=1", "width=8,seed=2"]
    assert not partial.exists()
    assert _without_time(old) == _without_time(fresh / "toy.csv")


def test_resume_skips_a_damaged_file_saying_why(tmp_path, full_mode):
    exp = _toy()
    exp.partial_path(tmp_path).write_text(",".join(xp.FIRST) + ",x\nthe rest is lost")
    lines = []
    cx.run(exp, resume=True, results_dir=tmp_path, log=lines.append)
    assert any(".toy.partial.csv line 2 is cut short" in m and "none of its rows is kept" in m
               for m in lines)
    assert xp.status(exp, tmp_path) == ("ok", "")


def test_the_order_of_runs_never_matters(tmp_path, full_mode):
    cx.run(_toy(), results_dir=tmp_path / "fresh", log=lambda m: None)
    calls = []
    exp = _toy(calls=calls)
    assert cx.run(exp, only=["seed=2"], results_dir=tmp_path, log=lambda m: None) == \
        exp.partial_path(tmp_path)
    assert not exp.path(tmp_path).exists()  # two runs missing: no NAME.csv yet
    cx.run(exp, resume=True, results_dir=tmp_path, log=lambda m: None)
    assert calls == ["width=8,seed=2", "width=8,seed=0", "width=8,seed=1"]
    assert _without_time(exp.path(tmp_path)) == _without_time(tmp_path / "fresh" / "toy.csv")


def test_only_reruns_some_runs_of_a_complete_file(tmp_path, full_mode):
    calls = []
    cx.run(_toy(), results_dir=tmp_path, log=lambda m: None)
    before = _without_time(tmp_path / "toy.csv")
    cx.run(_toy(calls=calls), only=["width=8,seed=1"], results_dir=tmp_path, log=lambda m: None)
    assert calls == ["width=8,seed=1"] and _without_time(tmp_path / "toy.csv") == before
    assert cx.select(_toy().specs(), ["seed=0", "width=8,seed=2"]) == [
        "width=8,seed=0", "width=8,seed=2"]
    with pytest.raises(xp.ResultsError, match="--only 'seed=7' matches no run; runs look like "
                       "'width=8,seed=0'"):
        cx.select(_toy().specs(), ["seed=7"])


def test_resume_keeps_only_rows_of_this_configuration_and_machine(tmp_path, full_mode):
    cx.run(_toy(), results_dir=tmp_path, log=lambda m: None)
    path = tmp_path / "toy.csv"
    path.write_text(path.read_text().replace(xp.provenance()["cpu_capability"], "OTHER", 1))
    calls, lines = [], []
    cx.run(_toy(calls=calls), resume=True, results_dir=tmp_path, log=lines.append)
    assert calls == ["width=8,seed=0"]  # the row from another CPU capability is run again
    assert any("toy.csv: 1 row(s) not kept" in m for m in lines)
    calls.clear()
    cx.run(_toy(epochs=4, calls=calls), resume=True, results_dir=tmp_path, log=lambda m: None)
    assert len(calls) == 3  # another configuration: nothing kept
    assert len(xp.load(_toy(epochs=4), tmp_path)[0]["acc"]) == 4


class TrainingDiverged(ArithmeticError):
    """Named like the exception fit is planned to raise (reliability work, issue 19)."""


def _diverging(kind):
    def fail(spec, attempt):
        if spec["seed"] != 1:
            return None
        if kind == "exception":
            raise TrainingDiverged("loss nan in epoch 2, batch 7")
        if kind == "ours":
            raise xp.RunDiverged("loss inf")
        if kind == "nan metric":
            return {"acc": [0.5, float("nan"), 0.1], "best_epoch": 1}
        h = History([{"epoch": 1, "train_loss": 2.3, "train_acc": 0.1, "test_acc": 0.1,
                      "seconds": 1.0, "images_per_s": 1.0}])
        h.stopped = "diverged"  # a History flagged diverged: see the real fit below
        return h
    return fail


@pytest.mark.parametrize("kind, note", [
    ("exception", "loss nan in epoch 2, batch 7"), ("ours", "loss inf"),
    ("nan metric", "metric acc is not finite"),
    ("history", "the loss became non-finite after 1 finished epoch(s)")])
def test_a_diverged_run_is_stored_as_diverged_never_as_finished(tmp_path, full_mode, kind, note):
    cx.run(_toy(fail=_diverging(kind)), results_dir=tmp_path, log=lambda m: None)
    rows = xp.load(_toy(), tmp_path)
    assert [r["status"] for r in rows] == ["finished", "diverged", "finished"]
    assert rows[1]["note"] == note and rows[1]["acc"] is None and rows[1]["best_epoch"] is None
    setting = xp.summary(rows, "width", "acc", epoch=3)[8]
    assert setting.seeds == [0, 2] and setting.diverged == 1


def _fit_run(X):
    """A run function training a linear net on X with fit (as the chapters' runs do)."""
    def run_one(config, spec):
        net = nn.Sequential(nn.Linear(4, 2))
        data = TensorBatches(X, torch.zeros(len(X), dtype=torch.long), 8)
        return fit(net, data, data, 2, lr=0.1, device="cpu", seed=spec["seed"], progress=False,
                   live=False)
    return xp.Experiment("fit", "recipes", {}, lambda c: [{"seed": 0}], run_one)


def test_a_real_fit_that_diverges_is_stored_as_diverged(tmp_path, full_mode, capsys):
    """Whether fit returns a History flagged diverged (today) or raises TrainingDiverged."""
    X = torch.ones(16, 4)
    X[3, 0] = float("inf")  # the loss of the first batch is not finite
    cx.run(_fit_run(X), results_dir=tmp_path, log=lambda m: None)
    assert xp.load(_fit_run(X), tmp_path)[0]["status"] == "diverged"


def test_a_real_fit_interrupted_by_ctrl_c_stores_nothing(tmp_path, full_mode, monkeypatch,
                                                          capsys):
    """Whether fit returns a History flagged interrupted (today) or raises TrainingInterrupted."""
    real = train._train_epoch
    started = []

    def epoch(*args, **kwargs):  # Ctrl-C during the second epoch
        started.append(1)
        if len(started) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train, "_train_epoch", epoch)
    with pytest.raises(KeyboardInterrupt):
        cx.run(_fit_run(torch.ones(16, 4)), results_dir=tmp_path, log=lambda m: None)
    assert len(started) == 2 and list(tmp_path.iterdir()) == []


def test_an_error_or_a_stopped_history_stores_nothing_for_that_run(tmp_path, full_mode):
    def broken(spec, attempt):
        if spec["seed"] == 1:
            raise ValueError("a bug in the run function")

    with pytest.raises(ValueError, match="a bug"):
        cx.run(_toy(fail=broken), results_dir=tmp_path, log=lambda m: None)
    assert len(xp.read_rows(_toy().partial_path(tmp_path), "")) == 1

    def stopped_history(spec, attempt):
        h = History()
        h.stopped = "interrupted"  # a History carried by a Ctrl-C
        return h

    with pytest.raises(KeyboardInterrupt):
        cx.run(_toy(fail=stopped_history), fresh=True, results_dir=tmp_path, log=print)
    assert not _toy().partial_path(tmp_path).exists() and not (tmp_path / "toy.csv").exists()


def test_run_functions_must_return_metrics(tmp_path, full_mode):
    for bad, message in [(0.5, "returned float; return a dict of metrics or a fit History"),
                         ({"status": 1.0}, "metric status=1.0: metrics need a name"),
                         ({"width": 1.0}, "metric width=1.0"),
                         ({"acc": [0.1, None]}, r"metric acc=\[0.1, None\]"),
                         ({"label": "0.5"}, "would not read back as the same string")]:
        with pytest.raises(TypeError, match=message):
            cx.run(_toy(fail=lambda s, a, bad=bad: bad), fresh=True, results_dir=tmp_path,
                   log=lambda m: None)


def test_a_run_can_set_its_thread_count(tmp_path, full_mode):
    seen, before = [], torch.get_num_threads()

    def run_one(config, spec):
        seen.append(torch.get_num_threads())
        return {"acc": 1.0}

    exp = xp.Experiment("threads", "recipes", {}, lambda c: [{"seed": 0, "threads": 1}], run_one)
    cx.run(exp, results_dir=tmp_path, log=lambda m: None)
    assert seen == [1] and torch.get_num_threads() == before
    assert xp.load(exp, tmp_path)[0]["threads"] == 1
    cx.run(exp, resume=True, results_dir=tmp_path, log=lambda m: None)
    assert seen == [1]  # a 1-thread row is this machine's, even when torch runs on more


def test_partial_files_are_git_ignored():
    patterns = (ROOT / "results" / ".gitignore").read_text().splitlines()
    name = _toy().partial_path().name
    assert any(fnmatch.fnmatch(name, p) for p in patterns)
    assert not any(fnmatch.fnmatch("toy.csv", p) for p in patterns)


# --- the command line -------------------------------------------------------------------------


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as e:
        cx.main(["--help"], [])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert all(word in out for word in ("list", "run", "check"))
    with pytest.raises(SystemExit):
        cx.main(["run", "--help"], [])
    assert "--resume" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["run", "toy", "--bogus"], "error: unrecognized arguments: --bogus (see `python -m"),
    (["frobnicate"], "error: argument command: invalid choice: 'frobnicate'"),
    (["run", "toy", "--resume", "--fresh"], "error: argument --fresh: not allowed with"),
])
def test_bad_options_are_refused_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        cx.main(argv, [_toy()])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith(message) and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["run", "nope"], "error: unknown experiment(s) nope; registered: toy, toy2"),
    (["run"], "error: name the experiments to run, or pass --all (not both)"),
    (["run", "toy", "--all"], "error: name the experiments to run, or pass --all (not both)"),
    (["run", "toy", "toy2", "--only", "seed=0"], "error: --only needs exactly one NAME"),
])
def test_bad_requests_are_refused_in_one_line(argv, message, capsys):
    assert cx.main(argv, [_toy(), _toy("toy2")]) == 2
    assert capsys.readouterr().err == message + "\n"


def test_run_check_and_list(tmp_path, full_mode, capsys):
    toys = [_toy(), _toy("toy2")]
    assert cx.main(["check"], toys, tmp_path) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "toy.csv does not exist" in err[0] and "toy2.csv" in err[1]
    assert cx.main(["run", "--all"], toys, tmp_path) == 0
    assert cx.main(["check"], toys, tmp_path) == 0
    assert "0 problem(s) in 2 results file(s)" in capsys.readouterr().out
    changed = [_toy(epochs=4), _toy("toy2")]
    assert cx.main(["check"], changed, tmp_path) == 1
    err = capsys.readouterr().err
    assert "toy.csv line 2" in err and "configuration is now" in err and "toy2" not in err
    (tmp_path / "other.csv").write_text("x\n")
    assert cx.main(["list"], toys, tmp_path) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("toy (chapter recipes): 3 runs, about 1 min; toy.csv: ok; stored: "
                             "3 runs, ")
    assert cx.main(["check"], toys, tmp_path) == 0
    assert "other.csv belongs to no registered experiment" in capsys.readouterr().out
    assert cx.main(["list"], [], tmp_path) == 0
    assert "no experiments registered yet" in capsys.readouterr().out


def test_ctrl_c_exits_130_naming_what_was_kept(tmp_path, full_mode, capsys):
    def ctrl_c(spec, attempt):
        if spec["seed"] == 2:
            raise KeyboardInterrupt

    assert cx.main(["run", "toy"], [_toy(fail=ctrl_c)], tmp_path) == 130
    captured = capsys.readouterr()
    assert "2 of 3 runs are kept" in captured.out and "interrupted" in captured.err
    assert cx.main(["run", "--all"], [_toy()], tmp_path) == 1  # refused before any run
    assert "pass --resume" in capsys.readouterr().err
    assert cx.main(["run", "--all", "--resume"], [_toy()], tmp_path) == 0
    assert xp.status(_toy(), tmp_path) == ("ok", "")


def test_stored_and_duration():
    assert [cx.duration(s) for s in (None, 12.3, 372, 4000)] == [
        "not recorded", "12 s", "6 min 12 s", "1 h 6 min"]


# --- the registry: every registered experiment's committed results load -----------------------


def test_registered_experiments_are_named_once_and_belong_to_a_chapter():
    chapters = {p.stem.split("_", 1)[1] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    known = cx.registry()
    assert list(known) == [exp.name for exp in cx.EXPERIMENTS]
    for exp in cx.EXPERIMENTS:
        assert isinstance(exp, xp.Experiment) and exp.chapter in chapters, exp.name
        assert exp.minutes > 0, f"{exp.name}: give an estimate of its run time"
    with pytest.raises(ValueError, match="two registered experiments are named 'toy'"):
        cx.registry([_toy(), _toy()])


def test_every_registered_experiment_has_a_current_complete_results_file():
    """Fails when a configuration changes without re-running: `make experiments` fixes it."""
    problems = cx.check(cx.EXPERIMENTS)
    assert problems == [], "\n".join(problems)
    for exp in cx.EXPERIMENTS:  # what a chapter does with it
        assert len(xp.load(exp)) == len(exp.specs())


def test_the_registry_check_fails_on_a_changed_configuration(tmp_path, full_mode, monkeypatch):
    """The test above, on a registry holding a tiny experiment: a config change breaks it."""
    monkeypatch.setattr(cx, "EXPERIMENTS", (_toy(),))
    cx.run(_toy(), results_dir=tmp_path, log=lambda m: None)
    assert cx.check(cx.EXPERIMENTS, tmp_path) == []
    monkeypatch.setattr(cx, "EXPERIMENTS", (_toy(epochs=5),))
    [problem] = cx.check(cx.EXPERIMENTS, tmp_path)
    assert "toy.csv line 2" in problem and "run toy`" in problem

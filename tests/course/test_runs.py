"""Doing an experiment's runs: several one-thread runs at once give exactly the rows of one at a
time, an error or Ctrl-C stops every worker, and the CPU other processes use is counted right."""

import multiprocessing
import os
import time

import pytest
import torch
from torch import nn

from lenet_nb import experiments as xp
from lenet_nb.course import experiments as cx
from lenet_nb.course import runs


@pytest.fixture
def full_mode(monkeypatch):
    """Experiments write results only outside quick mode (pytest turns quick mode on)."""
    monkeypatch.setenv("LENET_NB_QUICK", "0")


def _train(config, spec):
    """A tiny seeded training run on one thread: a conv net, SGD, four steps."""
    torch.manual_seed(spec["seed"])
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sigmoid(), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    X, y = torch.randn(16, 1, 8, 8), torch.randint(0, 3, (16,))
    opt = torch.optim.SGD(net.parameters(), lr=config["lr"])
    losses = []
    for _ in range(4):
        loss = nn.functional.cross_entropy(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"loss": losses, "weight": float(net[0].weight.detach().sum()), "pid": os.getpid(),
            "threads_seen": torch.get_num_threads()}


def _exp(run_one=_train, threads=(1,), seeds=(0, 1, 2, 3)):
    return xp.Experiment("tiny", "recipes", {"lr": 0.5},
                         lambda c: xp.grid(list(seeds), threads=list(threads)), run_one)


def _values(path):
    """Each row without the columns that differ between identical runs (times, process ids)."""
    skip = set(xp.TIME_COLUMNS) | {"pid"}
    return [{k: v for k, v in row.items() if k not in skip} for _, row in xp.read_rows(path, "")]


def test_two_jobs_store_exactly_the_rows_of_one_at_a_time(tmp_path, full_mode):
    one, two = tmp_path / "one", tmp_path / "two"
    cx.run(_exp(), results_dir=one, log=lambda m: None)
    lines = []
    cx.run(_exp(), results_dir=two, log=lines.append, jobs=2)
    assert _values(one / "tiny.csv") == _values(two / "tiny.csv")  # same numbers, same order
    rows = xp.load(_exp(), two)
    assert {r["threads_seen"] for r in rows} == {1} and {r["threads"] for r in rows} == {1}
    assert os.getpid() not in {r["pid"] for r in rows}  # they ran in the workers
    assert len([m for m in lines if m.startswith("[")]) == 4 and lines[-1].startswith("tiny: wrote")
    assert multiprocessing.active_children() == []


def test_runs_on_more_threads_stay_in_this_process_one_at_a_time(tmp_path, full_mode):
    cx.run(_exp(threads=(2,)), results_dir=tmp_path, log=lambda m: None, jobs=2)
    assert {r["pid"] for r in xp.load(_exp(threads=(2,)), tmp_path)} == {os.getpid()}
    mixed = xp.Experiment("mixed", "recipes", {"lr": 0.5},
                          lambda c: [{"seed": 0, "threads": 1}, {"seed": 1, "threads": 2},
                                     {"seed": 2, "threads": 1}], _train)
    cx.run(mixed, results_dir=tmp_path, log=lambda m: None, jobs=2)
    pids = [r["pid"] for r in xp.load(mixed, tmp_path)]
    assert pids[1] == os.getpid() and os.getpid() not in (pids[0], pids[2])


def _slow_or_broken(error):
    def run_one(config, spec):
        if spec["seed"] == 2:
            time.sleep(2)  # runs 0 and 1 (instant) have finished by then
            raise error
        if spec["seed"] == 3:
            time.sleep(60)  # would still be running if the worker were not stopped
        return {"acc": float(spec["seed"])}
    return run_one


@pytest.mark.parametrize(("error", "how"), [(ValueError("a bug in run 2"), "ValueError"),
                                            (KeyboardInterrupt(), "interrupted")])
def test_an_error_or_ctrl_c_in_a_worker_stops_every_worker_keeping_the_finished_rows(
        tmp_path, full_mode, error, how):
    exp, lines = _exp(_slow_or_broken(error)), []
    start = time.perf_counter()
    with pytest.raises(type(error)):
        cx.run(exp, results_dir=tmp_path, log=lines.append, jobs=2)
    assert time.perf_counter() - start < 50  # the sleeping run was stopped, not waited for
    assert multiprocessing.active_children() == []
    kept = [r["run"] for _, r in xp.read_rows(exp.partial_path(tmp_path), "")]
    assert kept == ["threads=1,seed=0", "threads=1,seed=1"]
    assert not exp.path(tmp_path).exists()
    assert f"tiny: runs threads=1,seed=2, threads=1,seed=3 stopped ({how}) and were not " \
        "stored; 2 of 4 runs are kept" in lines[-1]


def test_the_command_line_takes_jobs(tmp_path, full_mode, capsys):
    assert cx.main(["run", "tiny", "--jobs", "2"], experiments=[_exp()],
                   results_dir=tmp_path) == 0
    assert xp.status(_exp(), tmp_path) == ("ok", "")
    with pytest.raises(SystemExit):
        cx.main(["run", "tiny", "--jobs", "0"], experiments=[_exp()], results_dir=tmp_path)
    assert "--jobs: 0 is below 1" in capsys.readouterr().err


def test_busy_seconds_read_from_the_cpu_line():
    line = "cpu  100 20 30 1000 50 5 5 10 7 0\n"  # user nice system idle iowait irq softirq steal
    assert runs.cpu_busy_seconds(line, 100) == pytest.approx((100 + 20 + 30 + 5 + 5 + 10) / 100)
    with pytest.raises(ValueError, match="not the 'cpu' line"):
        runs.cpu_busy_seconds("cpu0 1 2 3 4 5 6 7 8", 100)


def test_others_busy_is_all_busy_time_less_our_own():
    assert runs.others_busy(10.0, 11.5, 2.0, 2.5, 1.0) == pytest.approx(1.0)
    assert runs.others_busy(10.0, 10.5, 2.0, 2.5, 0.5) == 0.0  # only us
    assert runs.others_busy(10.0, 10.4, 2.0, 2.5, 0.5) == 0.0  # clock ticks never go negative
    assert runs.busy_elsewhere(0.05) is None or runs.busy_elsewhere(0.05) >= 0.0


def test_the_busy_note_names_other_processes_not_our_own_runs(monkeypatch):
    lines = []
    monkeypatch.setattr(cx, "busy_elsewhere", lambda: 0.1)
    cx._busy_note(2.0 * (os.cpu_count() or 1), lines.append)
    assert lines == []  # a high load average made by our own earlier runs says nothing
    monkeypatch.setattr(cx, "busy_elsewhere", lambda: 1.5)
    cx._busy_note(0.0, lines.append)
    assert lines == []  # a quiet load average does not even sample
    cx._busy_note(2.0 * (os.cpu_count() or 1), lines.append)
    assert lines == [f"note: other processes keep 1.5 of {os.cpu_count()} cores busy, so wall "
                     f"times will be longer (the numbers do not change)"]

"""Experiments as data: the configuration hash, provenance, the file format, load's refusals and
the summaries chapters render (running them: tests/course/test_experiments.py)."""

import re
import subprocess

import pytest
import torch

from lenet_nb import experiments as xp
from lenet_nb.train import History


def _exp(config=None, runs=None, name="toy"):
    config = {"epochs": 3, "lrs": [0.1, 1.0]} if config is None else config
    return xp.Experiment(name, "recipes", config,
                         runs or (lambda c: xp.grid([0, 1], lr=c["lrs"])),
                         lambda c, run: {"acc": 0.5}, minutes=2)


def _row(exp, spec, status="finished", **metrics):
    """A row as run writes it, with fixed provenance."""
    return {"experiment": exp.name, "config_hash": exp.hash, "status": status, "note": "",
            **spec, **metrics, "wall_seconds": 1.5, "finished_at": "2026-01-02T03:04:05Z",
            "load_avg": 0.25, "commit": "a" * 40, "dirty": "no", "torch": "2.14.1",
            "threads": 2, "cpu_capability": "AVX2", "cpu": "Test CPU"}


def _stored(tmp_path, exp, rows=None):
    rows = rows or [_row(exp, s, acc=[0.5, 0.6 + s["lr"] / 10, 0.7 + s["seed"] / 100],
                         best_epoch=3) for s in exp.specs()]
    xp.write_rows(exp.path(tmp_path), rows)
    return exp.path(tmp_path)


# --- declaration ------------------------------------------------------------------------------


def test_hash_ignores_key_order_at_every_depth_and_sees_every_value():
    a = {"epochs": 12, "opt": {"lr": 0.1, "momentum": 0.9}, "seeds": [0, 1, 2]}
    b = {"seeds": [0, 1, 2], "opt": {"momentum": 0.9, "lr": 0.1}, "epochs": 12}
    assert xp.config_hash(a) == xp.config_hash(b)
    assert re.fullmatch(r"[0-9a-f]{12}", xp.config_hash(a))
    for changed in ({**a, "epochs": 13}, {**a, "opt": {"lr": 0.1, "momentum": 0.95}},
                    {**a, "seeds": [0, 1]}, {**a, "revision": 2}):
        assert xp.config_hash(changed) != xp.config_hash(a)


def test_a_config_that_is_not_json_is_refused_when_declared():
    for bad in ({"lrs": {0.1, 1.0}}, {"lr": float("nan")}, {"net": torch.nn.Linear(1, 1)}):
        with pytest.raises(ValueError, match="config must be JSON-able"):
            _exp(bad)
    with pytest.raises(ValueError, match="name must be lower-case"):
        xp.Experiment("LR sweep", "recipes", {}, list, dict)
    with pytest.raises(ValueError, match="chapter must be lower-case"):
        xp.Experiment("lr_sweep", "04_recipes", {}, list, dict)


def test_grid_and_run_keys():
    assert xp.grid([0, 1], act=["relu"], lr=[0.1, 1.0]) == [
        {"act": "relu", "lr": 0.1, "seed": 0}, {"act": "relu", "lr": 0.1, "seed": 1},
        {"act": "relu", "lr": 1.0, "seed": 0}, {"act": "relu", "lr": 1.0, "seed": 1}]
    assert [s["run"] for s in _exp().specs()] == [
        "lr=0.1,seed=0", "lr=0.1,seed=1", "lr=1.0,seed=0", "lr=1.0,seed=1"]
    named = _exp(runs=lambda c: [{"run": "first", "seed": 3}])
    assert named.specs() == [{"run": "first", "seed": 3}]


@pytest.mark.parametrize("runs, message", [
    (lambda c: [], "listed no runs"),
    (lambda c: [{"lr": 0.1}], "needs an int 'seed'"),
    (lambda c: [{"seed": True}], "needs an int 'seed'"),
    (lambda c: [{"seed": 0}, {"seed": 0}], "two runs have the key 'seed=0'"),
    (lambda c: [{"seed": 0, "status": "x"}], "'status' is reserved"),
    (lambda c: [{"seed": 0, "wall_seconds": 1}], "'wall_seconds' is reserved"),
    (lambda c: [{"seed": 0, "lr": [0.1]}], "must be a string, an int"),
    (lambda c: [{"seed": 0, "lr": float("inf")}], "must be a string, an int"),
    (lambda c: [{"seed": 0, "threads": 0}], "'threads' must be an int >= 1"),
])
def test_bad_runs_are_refused_with_the_reason(runs, message):
    with pytest.raises(ValueError, match=message):
        _exp(runs=runs).specs()


# --- provenance -------------------------------------------------------------------------------


def test_provenance_names_the_code_the_library_and_the_machine():
    p = xp.provenance()
    assert set(p) == {"commit", "dirty", "torch", "threads", "cpu_capability", "cpu", "load_avg"}
    assert p["torch"] == torch.__version__ and p["threads"] == torch.get_num_threads()
    assert p["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", p["commit"]) and p["dirty"] in ("yes", "no", "")
    assert p["cpu"] and p["load_avg"] >= 0


def test_git_state_reads_commit_and_dirt_but_not_results(tmp_path):
    assert xp.git_state(tmp_path) == ("unknown", "")  # not a repository
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git + ["init", "-q"], check=True)
    (tmp_path / "results").mkdir()
    for name in ("code.py", "results/a.csv"):
        (tmp_path / name).write_text("1\n")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "x"], check=True)
    head = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert xp.git_state(tmp_path) == (head.strip(), "no")
    (tmp_path / "results" / "a.csv").write_text("2\n")  # writing results dirties nothing
    assert xp.git_state(tmp_path) == (head.strip(), "no")
    (tmp_path / "code.py").write_text("2\n")
    assert xp.git_state(tmp_path) == (head.strip(), "yes")


# --- the file format --------------------------------------------------------------------------


def test_cells_read_back_as_what_was_written():
    for value, cell in [(None, ""), (3, "3"), (1.0, "1.0"), (0.8812, "0.8812"),
                        (1 / 3, "0.3333333"), (2e-9, "2e-09"), (1234567.0, "1234567.0"),
                        ([0.5, 1.0, 2], "[0.5 1.0 2.0]"), ([], "[]"), ("relu", "relu")]:
        assert xp.to_cell(value) == cell
        back = xp.from_cell(cell)
        assert back == (round(value, 7) if value == 1 / 3 else
                        [float(v) for v in value] if isinstance(value, list) else value)
        assert type(back) is type(value) or isinstance(value, list)


def test_load_returns_typed_rows_in_the_declared_order(tmp_path):
    exp = _exp()
    rows = [_row(exp, s, acc=[0.5, 0.75], best_epoch=2) for s in reversed(exp.specs())]
    xp.write_rows(exp.path(tmp_path), rows)
    loaded = xp.load(exp, tmp_path)
    assert [r["run"] for r in loaded] == [s["run"] for s in exp.specs()]
    first = loaded[0]
    assert first["lr"] == 0.1 and first["seed"] == 0 and first["acc"] == [0.5, 0.75]
    assert first["best_epoch"] == 2 and first["status"] == "finished"
    assert first["threads"] == 2 and first["wall_seconds"] == 1.5 and first["torch"] == "2.14.1"
    header = exp.path(tmp_path).read_text().splitlines()[0].split(",")
    assert header[:6] == list(xp.FIRST) and header[-len(xp.PROVENANCE):] == list(xp.PROVENANCE)
    assert header[6:-len(xp.PROVENANCE)] == ["lr", "acc", "best_epoch"]


def test_a_missing_file_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(xp.MissingResults, match=r"toy\.csv does not exist: re-run it: "
                       r"`python -m lenet_nb\.course\.experiments run toy` \(about 2 min\)"):
        xp.load(_exp(), tmp_path)


def test_a_changed_configuration_makes_the_file_stale(tmp_path):
    path = _stored(tmp_path, _exp())
    changed = _exp({"epochs": 4, "lrs": [0.1, 1.0]})
    with pytest.raises(xp.StaleResults) as e:
        xp.load(changed, tmp_path)
    assert f"{path} line 2 (run 'lr=0.1,seed=0')" in str(e.value)
    assert _exp().hash in str(e.value) and changed.hash in str(e.value)
    assert "`python -m lenet_nb.course.experiments run toy`" in str(e.value)
    # runs declared differently under the same configuration: stale too
    other_runs = _exp(runs=lambda c: xp.grid([0, 1], lr=[0.1, 2.0]))
    with pytest.raises(xp.StaleResults, match="line 4: run 'lr=1.0,seed=0' is not one of"):
        xp.load(other_runs, tmp_path)


def test_a_file_without_every_run_is_incomplete(tmp_path):
    exp = _exp()
    _stored(tmp_path, exp, [_row(exp, s, acc=0.5) for s in exp.specs()[:3]])
    with pytest.raises(xp.IncompleteResults, match=r"has 3 of 4 runs \(missing: lr=1\.0,seed=1"
                       r"\): finish it with `python -m lenet_nb\.course\.experiments run toy "
                       r"--resume`"):
        xp.load(exp, tmp_path)


def test_a_truncated_or_damaged_file_is_refused_naming_the_line(tmp_path):
    exp = _exp()
    path = _stored(tmp_path, exp)
    text = path.read_text()
    cut = text[:text.index("\n", text.index("lr=1.0,seed=0")) - 20]  # inside line 4
    path.write_text(cut)
    with pytest.raises(xp.CorruptResults, match=r"toy\.csv line 4 is cut short .*\(git checkout"):
        xp.load(exp, tmp_path)
    lines = text.splitlines(keepends=True)
    damaged = {
        "line 3 has 19 fields, the header 18": lines[2].replace(",", ",,", 1),
        "line 3: run 'lr=0.1,seed=0' appears twice": lines[2].replace("seed=1", "seed=0", 1)
        .replace(",1,finished", ",0,finished"),
        "line 3 .* has status 'interrupted'": lines[2].replace("finished", "interrupted"),
        r"line 3: the list '\[0.5 0.61 0.71' has no closing": lines[2].replace("]", "", 1),
    }
    for message, line in damaged.items():
        path.write_text("".join(lines[:2] + [line] + lines[3:]))
        with pytest.raises(xp.CorruptResults, match=message):
            xp.load(exp, tmp_path)
    path.write_text("")
    with pytest.raises(xp.CorruptResults, match="is empty"):
        xp.load(exp, tmp_path)
    path.write_text("model,seed\nlenet5,0\n")
    with pytest.raises(xp.CorruptResults, match="line 1 is not a results header"):
        xp.load(exp, tmp_path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\n")
    with pytest.raises(xp.CorruptResults, match="is not a text file"):
        xp.load(exp, tmp_path)


def test_a_file_the_package_did_not_write_is_never_replaced(tmp_path):
    exp = _exp()
    theirs = exp.path(tmp_path)
    theirs.write_text("model,seed,val_error\nlenet5,0,0.0095\n")
    with pytest.raises(xp.ResultsError, match="is not a results file .* Nothing was changed"):
        _stored(tmp_path, exp)
    assert theirs.read_text() == "model,seed,val_error\nlenet5,0,0.0095\n"
    theirs.unlink()
    _stored(tmp_path, exp)
    assert xp.is_results_file(theirs)
    _stored(tmp_path, exp)  # ours: replaced


def test_status_names_each_state(tmp_path):
    exp = _exp()
    assert xp.status(exp, tmp_path)[0] == "missing"
    _stored(tmp_path, exp)
    assert xp.status(exp, tmp_path) == ("ok", "")
    assert xp.status(_exp({"epochs": 1, "lrs": [0.1, 1.0]}), tmp_path)[0] == "stale"
    _stored(tmp_path, exp, [_row(exp, exp.specs()[0], acc=0.5)])
    assert xp.status(exp, tmp_path)[0] == "incomplete"
    exp.path(tmp_path).write_text("experiment")
    assert xp.status(exp, tmp_path)[0] == "corrupt"


# --- summaries --------------------------------------------------------------------------------


def _rows():
    exp = _exp()
    rows = [_row(exp, s, acc=[0.1 * s["seed"] + s["lr"] / 10, 0.5 + 0.1 * s["seed"]],
                 best=s["seed"] + 1) for s in exp.specs()]
    rows[-1].update(status="diverged", note="loss nan", acc=None, best=None)
    xp.write_rows(exp.path(_rows.tmp), rows)
    return xp.load(exp, _rows.tmp)


def test_summary_per_setting_counts_diverged_runs_and_never_averages_them(tmp_path):
    _rows.tmp = tmp_path
    rows = _rows()
    at_2 = xp.summary(rows, "lr", "acc", epoch=2)
    assert list(at_2) == [0.1, 1.0]
    assert at_2[0.1].values == [0.5, 0.6] and at_2[0.1].seeds == [0, 1]
    assert at_2[1.0].values == [0.5] and at_2[1.0].diverged == 1
    assert at_2[0.1].mean == pytest.approx(0.55) and (at_2[0.1].low, at_2[0.1].high) == (0.5, 0.6)
    assert str(at_2[0.1]) == "0.550 (0.500–0.600)"
    assert str(at_2[1.0]) == "0.500, 1 of 2 diverged"
    curves = xp.summary(rows, ("lr",), "acc")[(0.1,)]
    assert curves.values == [[0.01, 0.5], [0.11, 0.6]]
    assert curves.mean == pytest.approx([0.06, 0.55]) and curves.low == [0.01, 0.5]
    assert curves.high == [0.11, 0.6] and curves.format(2) == "0.55 (0.50–0.60)"
    scalar = xp.summary(rows, ("lr", "seed"), "best")
    assert scalar[(0.1, 1)].values == [2] and str(scalar[(1.0, 1)]) == "all 1 diverged"
    assert scalar[(1.0, 1)].mean is None


def test_summary_refuses_what_is_not_there(tmp_path):
    _rows.tmp = tmp_path
    rows = _rows()
    with pytest.raises(ValueError, match=r"acc has no epoch 3 \(it holds 2 value"):
        xp.summary(rows, "lr", "acc", epoch=3)
    with pytest.raises(ValueError, match=r"best has no epoch 1 \(it holds one value"):
        xp.summary(rows, "lr", "best", epoch=1)
    with pytest.raises(KeyError, match="has no metric 'loss'"):
        xp.summary(rows, "lr", "loss")
    ragged = xp.Setting([[0.1, 0.2], [0.3]], [0, 1])
    with pytest.raises(ValueError, match=r"different lengths \[2, 1\]: pick one epoch"):
        ragged.mean  # noqa: B018


# --- for run functions ------------------------------------------------------------------------


def _history(n=2):
    return History([{"epoch": e, "train_loss": 1 / e, "train_acc": 0.5, "test_acc": 0.25 * e,
                     "seconds": 1.0, "images_per_s": 9.0} for e in range(1, n + 1)])


def test_curves_of_a_finished_history():
    assert xp.curves(_history()) == {"train_loss": [1.0, 0.5], "train_acc": [0.5, 0.5],
                                     "test_acc": [0.25, 0.5]}
    assert xp.curves(_history(), "test_acc") == {"test_acc": [0.25, 0.5]}


class _Flagged(History):
    """A History with plain flags, as fit sets them on a stopped run today."""

    interrupted = diverged = False


def test_curves_of_an_unfinished_history_raise():
    # today's fit flags a stopped History; the planned one (issue 19) sets `stopped` instead
    for flag, value in (("interrupted", True), ("stopped", "interrupted")):
        h = _Flagged(_history(1))
        setattr(h, flag, value)
        with pytest.raises(KeyboardInterrupt):
            xp.curves(h)
    for flag, value in (("diverged", True), ("stopped", "diverged")):
        h = _Flagged(_history(1))
        setattr(h, flag, value)
        with pytest.raises(xp.RunDiverged, match="after 1 finished epoch"):
            xp.curves(h)
    with pytest.raises(ValueError, match="no finished epochs"):
        xp.curves(History())

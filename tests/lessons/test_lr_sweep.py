"""Learning-rate sweep: a disjoint validation split, one fit per rate, a log-axis plot."""

import pytest
import torch

from lenet_nb.lessons import lr_sweep as sw
from lenet_nb.models import MLP
from lenet_nb.train import TrainingInterrupted, fit


def data(n=60):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_split_validation_is_disjoint_and_complete():
    X, y = data()
    X[:, 0, 0, 0] = torch.arange(60.0)  # tag every image with its index
    train_iter, val_iter = sw.split_validation(X, y, 15, batch_size=8, seed=1)
    train_ids = set(train_iter.X[:, 0, 0, 0].long().tolist())
    val_ids = set(val_iter.X[:, 0, 0, 0].long().tolist())
    assert len(val_ids) == 15 and len(train_ids) == 45
    assert train_ids.isdisjoint(val_ids) and train_ids | val_ids == set(range(60))
    assert train_iter.shuffle and not val_iter.shuffle and train_iter.batch_size == 8
    again, _ = sw.split_validation(X, y, 15, batch_size=8, seed=1)
    assert torch.equal(again.X, train_iter.X)  # the same seed holds out the same samples


@pytest.mark.parametrize("num_val", [0, 60])
def test_split_validation_refuses_empty_parts(num_val):
    X, y = data()
    with pytest.raises(ValueError, match="num_val"):
        sw.split_validation(X, y, num_val, batch_size=8)


def build():
    torch.manual_seed(0)
    return MLP(hidden=8)


def test_each_rate_equals_a_plain_fit_with_the_same_seed():
    X, y = data()
    train_iter, val_iter = sw.split_validation(X, y, 20, batch_size=16)
    results = sw.lr_sweep(build, train_iter, val_iter, [0.01, 0.5], num_epochs=2, seed=4)
    assert [r["lr"] for r in results] == [0.01, 0.5]
    h = fit(build(), train_iter, val_iter, 2, lr=0.5, seed=4, progress=False, live=False)
    assert results[1]["train_loss"] == h[-1]["train_loss"]
    assert results[1]["val_acc"] == h[-1]["test_acc"]
    assert results[1]["train_acc"] == h[-1]["train_acc"]


def test_best_lr_table_and_plot():
    results = [{"lr": 0.1, "val_acc": 0.5}, {"lr": 0.3, "val_acc": 0.7},
               {"lr": 1.0, "val_acc": 0.7}]
    assert sw.best_lr(results) == 0.3  # tie: the smaller rate
    table = sw.sweep_table({"a": results, "b": results})
    assert table.splitlines()[0] == "| lr | a: val acc | b: val acc |"
    assert "| 0.3 | 0.7000 | 0.7000 |" in table
    ax = sw.plot_lr_sweep({"a": results})
    assert ax.get_xscale() == "log"
    assert list(ax.lines[0].get_xdata()) == [0.1, 0.3, 1.0]
    assert list(ax.lines[0].get_ydata()) == [0.5, 0.7, 0.7]


# --- the stored sweep's run function ----------------------------------------------------------

SMALL = {**sw.SWEEP_CONFIG, "subset": 600, "num_val": 100}  # 100 of 600 images held out


def test_the_sweep_lists_every_activation_rate_and_seed_on_one_thread():
    specs = sw.LR_SWEEP.specs()
    config = sw.LR_SWEEP.config
    assert len(specs) == sum(len(v) for v in config["lrs"].values()) * len(config["seeds"])
    assert {s["threads"] for s in specs} == {1}
    assert {s["activation"] for s in specs} == set(config["lrs"]) == {"sigmoid", "tanh", "relu"}
    assert (config["num_val"], config["batch_size"], config["epochs"]) == (10_000, 256, 12)
    assert sw.LR_SWEEP.chapter == "training_loop"


def test_a_run_is_a_seeded_fit_on_the_split_and_a_short_run_is_its_beginning():
    run = {"activation": "relu", "lr": 0.1, "seed": 3, "threads": 1}
    threads = torch.get_num_threads()
    got = sw.sgd_run(SMALL, run, epochs=2)
    assert torch.get_num_threads() == threads  # the run's thread count is not left behind
    assert sorted(got) == ["train_loss", "val_acc"] and len(got["val_acc"]) == 2
    train_iter, val_iter = sw.budget_data(SMALL)
    assert (train_iter.num_samples, val_iter.num_samples, train_iter.batch_size) == (500, 100, 256)
    torch.set_num_threads(1)
    try:
        torch.manual_seed(3)
        from lenet_nb.models import LeNet, init_xavier

        h = fit(init_xavier(LeNet("relu")), train_iter, val_iter, 2, lr=0.1, seed=3,
                progress=False, live=False)
    finally:
        torch.set_num_threads(threads)
    assert got["val_acc"] == h.test_acc and got["train_loss"] == h.train_loss
    short = sw.sgd_run(SMALL, run, epochs=1)
    assert short["val_acc"] == got["val_acc"][:1] and short["train_loss"] == got["train_loss"][:1]


def test_a_grid_run_scores_the_test_set_too_and_takes_a_pooling():
    run = {"activation": "tanh", "lr": 0.1, "seed": 0, "pooling": "max"}
    got = sw.sgd_run({**SMALL, "test_acc": True}, run, epochs=1)
    assert sorted(got) == ["test_acc", "train_loss", "val_acc"]
    assert all(0 <= v[0] <= 1 for k, v in got.items() if k != "train_loss")


# --- reading the stored sweep (hand-made rows: the rendering never needs a real run) ----------


def rows_of(table):
    """Rows as experiments.load gives them: {(activation, lr): [per-seed curves or None]}."""
    rows = []
    for (a, lr), curves in table.items():
        for seed, curve in enumerate(curves):
            rows.append({"run": f"{a},{lr},{seed}", "activation": a, "lr": lr, "seed": seed,
                         "status": "diverged" if curve is None else "finished",
                         **({} if curve is None else {"val_acc": curve})})
    return rows


ROWS = rows_of({
    ("sigmoid", 0.3): [[0.10, 0.10], [0.10, 0.15], [0.10, 0.10]],  # never leaves chance
    ("sigmoid", 0.9): [[0.10, 0.60], [0.10, 0.62], [0.10, 0.61]],
    ("sigmoid", 3.0): [[0.30, 0.70], [0.10, 0.72], [0.20, 0.71]],  # best, above 0.9's range
    ("sigmoid", 9.0): [[0.50, 0.65], None, [0.50, 0.66]],  # one seed diverged: not eligible
    ("relu", 0.1): [[0.70, 0.80], [0.70, 0.81], [0.70, 0.82]],  # best by mean, ranges overlap
    ("relu", 0.3): [[0.75, 0.79], [0.75, 0.80], [0.75, 0.81]],
    ("relu", 0.9): [None, None, None],
})


def test_choose_ranks_eligible_rates_and_says_whether_the_choice_is_robust():
    by_act = sw.sweep_settings(ROWS, epoch=2)
    assert sw.choose(by_act["sigmoid"]) == {"best": 3.0, "runner_up": 0.9, "robust": True,
                                            "edge": False}
    assert sw.choose(by_act["relu"]) == {"best": 0.1, "runner_up": 0.3, "robust": False,
                                         "edge": True}
    assert sw.chosen_rates(ROWS) == {"sigmoid": 3.0, "relu": 0.1}
    # after epoch 1 only rates whose every seed is above chance count: relu 0.3 wins there
    assert sw.chosen_rates(ROWS, epoch=1) == {"sigmoid": None, "relu": 0.3}
    tie = sw.sweep_settings(rows_of({("tanh", 0.1): [[0.5]] * 3, ("tanh", 0.3): [[0.5]] * 3}), 1)
    assert sw.choose(tie["tanh"])["best"] == 0.1  # a tie goes to the smaller rate


def test_the_table_and_the_choice_lines_are_generated_from_the_rows():
    table = sw.stored_table(ROWS, epoch=2).splitlines()
    assert table[0].split() == ["lr", "sigmoid", "relu"]
    assert table[1].split()[0] == "0.1" and "–" in table[1]  # sigmoid did not try 0.1
    assert "0.710 (0.700–0.720) *" in table[4]  # sigmoid at 3: the choice
    assert "0.655 (0.650–0.660), 1 of 3 diverged" in table[5]
    assert table[3].split()[-3:] == ["all", "3", "diverged"]  # relu at 0.9
    lines = sw.choice_lines(ROWS, epoch=2)
    assert lines[0] == ("sigmoid: 3 (mean 0.710); runner-up 0.9 (mean 0.610), ranges separate: "
                        "robust")
    assert lines[1].startswith("relu: 0.1 (mean 0.810); runner-up 0.3 (mean 0.800), ranges "
                               "overlap: not robust")
    assert lines[1].endswith("at the edge of the rates tried: widen the sweep")
    assert sw.choice_lines(ROWS, epoch=1)[0] == ("sigmoid: no rate left chance level in every "
                                                 "seed: no choice")


def test_the_plot_has_one_panel_per_budget_and_the_chosen_curves():
    axes = sw.plot_sweep(ROWS, epochs=(1, 2))
    assert len(axes) == 3 and axes[0].get_xscale() == "log"
    assert list(axes[1].lines[0].get_xdata()) == [0.3, 0.9, 3.0]  # sigmoid, diverged 9.0 left out
    assert [t.get_text().split(" (")[0] for t in axes[2].get_legend().get_texts()] == [
        "sigmoid, lr 3", "relu, lr 0.1"]


def test_the_chapter_reads_the_stored_sweep_or_says_how_to_make_it(tmp_path, capsys,
                                                                   monkeypatch):
    assert sw.stored_sweep(tmp_path) is None
    out = capsys.readouterr().out
    assert out.startswith("no stored sweep to show: results/lr_sweep.csv does not exist: re-run "
                          "it: `python -m lenet_nb.course.experiments run lr_sweep`"), out
    assert str(tmp_path) not in out  # the same line in every clone
    import lenet_nb.experiments as xp

    monkeypatch.setattr(xp, "load", lambda exp, results_dir=None: ROWS if exp is sw.LR_SWEEP
                        else None)
    assert sw.stored_sweep(tmp_path) is ROWS and capsys.readouterr().out == ""


def test_a_live_run_is_placed_against_the_stored_seeds_at_its_epoch():
    run = {"activation": "relu", "lr": 0.1, "seed": 1}
    lines = sw.live_lines(ROWS, run, {"val_acc": [0.70]})
    assert lines == ["this run, relu at lr 0.1, seed 1, after epoch 1: 0.700: inside the stored "
                     "value 0.700 (seeds 0, 1, 2)",
                     "identical to the stored run with seed 1 so far: yes"]
    lines = sw.live_lines(ROWS, run, {"val_acc": [0.70, 0.85]})
    assert "0.850: outside, 0.030 above the stored range 0.800–0.820" in lines[0]
    assert lines[1].endswith("no")




# --- issue 19: a stopped rate is never taken for a finished one ------------------------------


def test_one_diverging_rate_keeps_the_others():
    X, y = data()
    train_iter, val_iter = sw.split_validation(X, y, 20, batch_size=16)
    results = sw.lr_sweep(build, train_iter, val_iter, [0.01, 0.1, 1e20], seed=0)
    assert [r["lr"] for r in results] == [0.01, 0.1, 1e20]
    assert results[2]["val_acc"] is None and results[2]["diverged"].startswith("epoch 1, batch")
    assert all(isinstance(r["val_acc"], float) for r in results[:2])
    assert sw.best_lr(results) in (0.01, 0.1)
    assert "| 1e+20 | diverged |" in sw.sweep_table({"mlp": results})
    assert list(sw.plot_lr_sweep({"mlp": results}).lines[0].get_xdata()) == [0.01, 0.1]


def test_an_interrupted_sweep_raises_with_the_finished_rates(ctrl_c_in_epoch):
    X, y = data()
    train_iter, val_iter = sw.split_validation(X, y, 20, batch_size=16)
    ctrl_c_in_epoch(4)  # the second epoch of the second rate
    with pytest.raises(TrainingInterrupted) as stop:
        sw.lr_sweep(build, train_iter, val_iter, [0.01, 0.1, 0.5], num_epochs=2)
    assert [r["lr"] for r in stop.value.partial_results] == [0.01]
    assert len(stop.value.history) == 1  # the second rate's finished epoch, not a result


def test_a_fraction_for_num_val_gets_the_count_it_means():
    X, y = data()
    with pytest.raises(ValueError, match="count of images, not a fraction: 0.2 of 60 is "
                                         "num_val=12"):
        sw.split_validation(X, y, 0.2, batch_size=8)


def test_empty_sweeps_are_named():
    with pytest.raises(ValueError, match="the sweep is empty"):
        sw.best_lr([])
    with pytest.raises(ValueError, match="every rate in the sweep diverged"):
        sw.best_lr([{"lr": 1.0, "val_acc": None}])
    with pytest.raises(ValueError, match="at least one sweep"):
        sw.sweep_table({})


def test_build_must_make_a_fresh_network_every_time():
    X, y = data()
    train_iter, val_iter = sw.split_validation(X, y, 20, batch_size=16)
    net = build()
    with pytest.raises(ValueError, match="build must be a function"):
        sw.lr_sweep(net, train_iter, val_iter, [0.1])
    with pytest.raises(ValueError, match="returned the same network twice"):
        sw.lr_sweep(lambda: net, train_iter, val_iter, [0.1, 0.5])
    with pytest.raises(ValueError, match="X has 60 images but y has 59"):
        sw.split_validation(X, y[:59], 10, batch_size=8)

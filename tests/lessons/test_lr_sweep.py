"""Learning-rate sweep: a disjoint validation split, one fit per rate, a log-axis plot."""

import pytest
import torch

from lenet_nb.lessons import lr_sweep as sw
from lenet_nb.models import MLP
from lenet_nb.train import fit


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

SMALL = {**sw.SWEEP_CONFIG, "num_val": 100}  # 600 images of the training file, 100 held out


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
    got = sw.sgd_run(SMALL, run, epochs=2, subset=600)
    assert torch.get_num_threads() == threads  # the run's thread count is not left behind
    assert sorted(got) == ["train_loss", "val_acc"] and len(got["val_acc"]) == 2
    train_iter, val_iter = sw.budget_data(SMALL, subset=600)
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
    short = sw.sgd_run(SMALL, run, epochs=1, subset=600)
    assert short["val_acc"] == got["val_acc"][:1] and short["train_loss"] == got["train_loss"][:1]


def test_a_grid_run_scores_the_test_set_too_and_takes_a_pooling():
    run = {"activation": "tanh", "lr": 0.1, "seed": 0, "pooling": "max"}
    got = sw.sgd_run({**SMALL, "test_acc": True}, run, epochs=1, subset=600)
    assert sorted(got) == ["test_acc", "train_loss", "val_acc"]
    assert all(0 <= v[0] <= 1 for k, v in got.items() if k != "train_loss")

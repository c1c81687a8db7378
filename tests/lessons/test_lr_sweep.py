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

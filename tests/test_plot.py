"""Plots: grids, prediction titles and colours, curves, confusion matrices."""


import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lenet_nb import plot
from lenet_nb.data import TensorBatches
from lenet_nb.train import History


class Constant(nn.Module):
    """Always predicts class `c`."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return nn.functional.one_hot(torch.full((X.shape[0],), self.c), 10).float()


def test_show_images_returns_one_axis_per_cell():
    axes = plot.show_images(torch.rand(5, 28, 28), 2, 3, titles=list("abcde"))
    assert len(axes) == 6
    assert [ax.get_title() for ax in axes[:5]] == list("abcde")
    assert len(axes[5].images) == 0  # the empty cell stays empty


def test_show_images_with_colorbar_shares_one_scale():
    imgs = torch.stack([torch.zeros(4, 4), torch.full((4, 4), 2.0), -torch.ones(4, 4)])
    axes = plot.show_images(imgs, 1, 3, cmap="RdBu_r", colorbar="weight")
    limits = {a.images[0].get_clim() for a in axes}
    assert limits == {(-1.0, 2.0)}  # the same value, the same colour in every panel
    assert {a.images[0].get_cmap().name for a in axes} == {"RdBu_r"}
    colorbars = [a for a in axes[0].figure.axes if a.get_ylabel() == "weight"]
    assert len(colorbars) == 1


def test_show_images_accepts_channel_first_and_rejects_overflow():
    axes = plot.show_images(torch.rand(2, 1, 28, 28), 1, 2)
    assert axes[0].images[0].get_array().shape == (28, 28)
    try:
        plot.show_images(torch.rand(7, 28, 28), 2, 3)
    except ValueError as e:
        assert "2x3" in str(e)
    else:
        raise AssertionError("7 images in a 2x3 grid must be refused")


def test_show_predictions_titles_and_red_mistakes():
    X, y = torch.rand(4, 1, 28, 28), torch.tensor([3, 1, 3, 0])
    axes = plot.show_predictions(Constant(3), X, y, n=4, num_cols=2,
                                 labels=[f"c{i}" for i in range(10)])
    assert [ax.get_title() for ax in axes] == ["c3\nPred: c3", "c1\nPred: c3",
                                               "c3\nPred: c3", "c0\nPred: c3"]
    red = [ax.title.get_color() == "red" for ax in axes]
    assert red == [False, True, False, True]


def test_confusion_matrix_equals_a_plain_count():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(23, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (23,), generator=g)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    cm = plot.confusion_matrix(net, TensorBatches(X, y, 5))
    pred = net(X).argmax(1)
    ref = torch.zeros(10, 10, dtype=torch.long)
    for t, p in zip(y.tolist(), pred.tolist()):
        ref[t, p] += 1
    assert torch.equal(cm, ref) and int(cm.sum()) == 23


def test_plot_confusion_matrix_and_history_return_axes():
    cm = torch.eye(3, dtype=torch.long) * 4
    ax = plot.plot_confusion_matrix(cm, labels=["a", "b", "c"])
    assert len(ax.texts) == 9 and ax.get_xlabel() == "predicted"
    h = History([{"epoch": e, "train_loss": 1 / e, "train_acc": 0.5, "test_acc": 0.4,
                  "seconds": 1.0, "images_per_s": 1.0} for e in (1, 2, 3)])
    ax = plot.plot_history(h, label="run")
    assert len(ax.lines) == 3 and ax.lines[0].get_label() == "run: train loss"
    assert list(ax.lines[0].get_ydata()) == [1.0, 0.5, 1 / 3]


def test_a_stopped_run_is_plotted_as_stopped_and_an_empty_one_refused():
    h = History([{"epoch": 1, "train_loss": 1.0, "train_acc": 0.5, "test_acc": 0.4}])
    h.planned_epochs, h.stopped = 3, "interrupted"
    ax = plot.plot_history(h)
    assert ax.get_title() == "stopped after 1 of 3 epochs: interrupted"
    with pytest.raises(ValueError, match="no finished epochs"):
        plot.plot_history(History())


# --- careless and hostile inputs ------------------------------------------------------------


class _Constant(nn.Module):
    def __init__(self, cls, num_classes=10):
        super().__init__()
        self.cls, self.k = cls, num_classes
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return F.one_hot(torch.full((X.shape[0],), self.cls), self.k).float()


def test_item16_confusion_matrix_refuses_out_of_range_classes():
    X = torch.zeros(4, 1, 2, 2)
    with pytest.raises(ValueError, match=r"labels must be class ids in 0..2.*num_classes=4"):
        plot.confusion_matrix(_Constant(0), [(X, torch.tensor([0, 1, 2, 3]))], num_classes=3)
    with pytest.raises(ValueError, match="predictions must be class ids in 0..2"):
        plot.confusion_matrix(_Constant(5), [(X, torch.tensor([0, 1, 2, 0]))], num_classes=3)
    cm = plot.confusion_matrix(_Constant(1), [(X, torch.tensor([0, 1, 2, 0]))], num_classes=3)
    assert cm.tolist() == [[0, 2, 0], [0, 1, 0], [0, 1, 0]]


def test_plot_history_takes_a_plain_list_of_records():
    records = [{"epoch": 1, "train_loss": 1.0, "train_acc": 0.5, "test_acc": 0.4}]
    assert len(plot.plot_history(records).lines) == 3


def test_plot_bands_draws_the_mean_inside_the_lowest_highest_band():
    from lenet_nb.experiments import Setting

    settings = {"relu": [[0.1, 0.4, 0.5], [0.3, 0.6, 0.7]],
                "sigmoid": Setting([[0.1, 0.1, 0.2]], [0], diverged=1),
                "tanh": Setting([], [], diverged=3)}
    ax = plot.plot_bands(settings, ylabel="val acc")
    assert [line.get_label() for line in ax.lines] == [
        "relu (mean and range of 2 seeds)", "sigmoid (mean and range of 1 seed; 1 diverged)",
        "tanh: all 3 diverged"]
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3]
    assert list(ax.lines[0].get_ydata()) == pytest.approx([0.2, 0.5, 0.6])
    band = ax.collections[0].get_paths()[0].vertices  # the fill: lows, then highs reversed
    assert {tuple(v) for v in band} >= {(1, 0.1), (2, 0.4), (3, 0.5), (1, 0.3), (2, 0.6),
                                        (3, 0.7)}
    assert len(ax.collections) == 2 and ax.get_ylabel() == "val acc"
    assert ax.get_xlabel() == "epoch"
    with pytest.raises(ValueError, match=r"relu: the curves have different lengths \[2, 1\]"):
        plot.plot_bands({"relu": [[0.1, 0.2], [0.3]]})

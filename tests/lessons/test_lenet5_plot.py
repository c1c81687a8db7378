"""Chapter 5 pictures: Table I grid, bitmaps, misclassified digits, F6 codes."""

import pytest
import torch

from lenet_nb.lenet5 import LeNet5, rbf_bitmaps
from lenet_nb.lessons.lenet5_plot import (
    SQUASH_MAX,
    as_bitmap,
    collect_errors,
    plot_c3_table,
    plot_loss_and_accuracy,
    show_bitmaps,
    show_codes,
)
from lenet_nb.train import History


def test_c3_table_plot_marks_the_60_connections():
    ax = plot_c3_table()
    assert sum(t.get_text() == "X" for t in ax.texts) == 60
    assert "60 of 96" in ax.get_title()


def test_bitmaps_are_drawn_as_12_by_7_images():
    axes = show_bitmaps()
    assert len(axes) == 10
    assert axes[0].images[0].get_array().shape == (12, 7)
    assert as_bitmap(rbf_bitmaps()[0])[0].tolist() == [-1, 1, 1, 1, 1, 1, -1]


def test_collect_errors_returns_exactly_the_wrong_predictions():
    torch.manual_seed(0)
    net = LeNet5()
    X = torch.rand(12, 1, 32, 32)
    with torch.no_grad():
        pred = net.predict(net(X))
    y = pred.clone()
    y[[1, 5]] = (y[[1, 5]] + 1) % 10
    X_err, y_err, p_err = collect_errors(net, [(X[:6], y[:6]), (X[6:], y[6:])], net.predict)
    assert torch.equal(X_err, X[[1, 5]]) and torch.equal(y_err, y[[1, 5]])
    assert torch.equal(p_err, pred[[1, 5]])


def test_show_codes_draws_three_panels_per_digit():
    torch.manual_seed(0)
    axes = show_codes(LeNet5(), torch.rand(2, 1, 32, 32), torch.tensor([3, 4]))
    assert len(axes) == 6
    assert axes[1].images[0].get_array().shape == (12, 7)
    assert axes[0].get_title() == "label 3"


def test_show_codes_uses_one_colour_map_and_one_scale_for_codes_and_bitmaps():
    torch.manual_seed(0)
    axes = show_codes(LeNet5(), torch.rand(2, 1, 32, 32), torch.tensor([3, 4]))
    images = [ax.images[0] for ax in axes]
    assert {im.get_cmap().name for im in images} == {"gray_r"}
    assert {im.get_clim() for im in images[1::3] + images[2::3]} == {(-SQUASH_MAX, SQUASH_MAX)}
    assert {im.get_clim() for im in images[0::3]} == {(0, 1)}


def test_loss_and_accuracy_are_drawn_on_separate_axes():
    h = History([{"epoch": e, "train_loss": 5.0 / e, "train_acc": 0.9, "test_acc": 0.8}
                 for e in (1, 2, 3)])
    ax_loss, ax_acc = plot_loss_and_accuracy([h, h], ["seed 0", "seed 1"])
    assert len(ax_loss.lines) == 2 and len(ax_acc.lines) == 4
    assert list(ax_loss.lines[0].get_ydata()) == [5.0, 2.5, 5.0 / 3]
    assert list(ax_acc.lines[1].get_ydata()) == [0.8, 0.8, 0.8]
    assert "MAP" in ax_loss.get_ylabel() and "accuracy" in ax_acc.get_ylabel()
    with pytest.raises(ValueError, match="one each"):
        plot_loss_and_accuracy([h], ["a", "b"])

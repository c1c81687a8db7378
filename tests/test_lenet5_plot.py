"""Chapter 4 pictures: Table I grid, bitmaps, misclassified digits, F6 codes."""

import torch

from lenet_nb.lenet5 import LeNet5, rbf_bitmaps
from lenet_nb.lenet5_plot import as_bitmap, collect_errors, plot_c3_table, show_bitmaps, show_codes


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

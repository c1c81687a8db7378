"""Boundary validation: whole numbers and positive finite numbers, with messages that say how."""

import math

import pytest
import torch

from lenet_nb import models, plot
from lenet_nb.lessons import explorer, fc_limits
from lenet_nb.validate import positive_number, whole_number


@pytest.mark.parametrize("value, low, expected", [(1, 1, 1), (7, 1, 7), (0, 0, 0)])
def test_whole_number_accepts_integers_from_low(value, low, expected):
    assert whole_number("n", value, low) == expected


@pytest.mark.parametrize("value, shown", [
    (0, "0 (int)"), (2.0, "2.0 (float)"), (True, "True (bool)"),
    ("3", "the text '3' (write the number without quotes)"),
])
def test_whole_number_refuses_with_what_was_given(value, shown):
    with pytest.raises(ValueError) as info:
        whole_number("num_epochs", value)
    assert str(info.value) == f"num_epochs must be an integer >= 1, got {shown}"


def test_positive_number_accepts_finite_positive_numbers():
    assert positive_number("lr", 1) == 1.0 and isinstance(positive_number("lr", 1), float)
    assert positive_number("lr", 0.03) == 0.03


@pytest.mark.parametrize("value", [0, -0.1, math.inf, math.nan, False, "0.1", None])
def test_positive_number_refuses_everything_else(value):
    with pytest.raises(ValueError, match=r"^lr must be a finite number > 0, got "):
        positive_number("lr", value)


# --- careless and hostile inputs ------------------------------------------------------------


def _bad_calls():
    from lenet_nb import data, lenet5
    from lenet_nb.lessons import diagnostics, lenet5_train, pitfalls

    net = models.MLP()
    X, y = torch.zeros(3, 1, 28, 28), torch.zeros(3, dtype=torch.long)
    return [
        (lambda: models.conv_out(28, 5, 2, 0), "stride must be an integer >= 1"),
        (lambda: models.LeNet(padding=-1), "padding must be an integer >= 0"),
        (lambda: models.LeNet(num_classes=0), "num_classes must be an integer >= 1"),
        (lambda: models.MLP(hidden=2.5), "hidden must be an integer >= 1"),
        (lambda: models.MyLeNet5(num_classes="10"), "without quotes"),
        (lambda: data.get_fashion_mnist_labels([3, -1]), r"label ids are 0..9, got \[-1\]"),
        (lambda: data.default_num_workers(-2), "num_workers must be an integer >= 0"),
        (lambda: plot.show_images([X[0]], 0, 2), "num_rows must be an integer >= 1"),
        (lambda: plot.show_predictions(net, X, y, n=-3), "n must be an integer >= 1"),
        (lambda: diagnostics.most_confident_mistakes(net, X, y, k=-1), "k must be"),
        (lambda: diagnostics.predict_proba(net, X, batch_size=0), "batch_size must be"),
        (lambda: fc_limits.flat_index(1.5, 2), "row must be an integer >= 0"),
        (lambda: fc_limits.pixel_permutation(0), "num_pixels must be"),
        (lambda: fc_limits.shift_image(X, 1.5, 0), "dy must be a whole number"),
        (lambda: lenet5.MAPLoss(j=float("nan")), "j must be a finite number > 0"),
        (lambda: lenet5_train.train_lenet5("lenet6"), "model must be one of"),
        (lambda: lenet5_train.train_lenet5(lr=-1.0), "lr must be a finite number > 0"),
        (lambda: lenet5_train.train_lenet5(num_epochs=3, stop_after=0), "stop_after must be"),
        (lambda: explorer.run_key("relu", "max", 0.1, 1, seed=-1), "seed must be an integer >= 0"),
        (lambda: pitfalls.eval_in_loop_cost(net, [(X, y)], [(X, y)], 0.1, num_batches=0),
         "num_batches must be"),
    ]


def test_public_functions_refuse_bad_values_with_what_was_expected():
    for call, match in _bad_calls():
        with pytest.raises(ValueError, match=match):
            call()

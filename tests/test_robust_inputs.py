"""Issue 11, user values: typed numbers, LeNet-5 inputs, the quick knob, plots and helpers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from lenet_nb import config, explorer, fc_limits, models, plot, quiz, shapes
from lenet_nb.data import TensorBatches
from lenet_nb.lenet5 import LeNet5
from tests.conftest import PROPERTY

ROOT = Path(__file__).resolve().parent.parent


# --- item 4: decimal commas ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["3,07", "12,5 %", "1,2345", "1.234,5", "1,234,56"])
def test_item04_a_decimal_comma_asks_for_a_decimal_point(text):
    with pytest.raises(ValueError, match="use a decimal point"):
        quiz.parse_number(text)


def test_item04_decimal_comma_is_invalid_not_wrong():
    q = quiz.numeric_question("q", "?", 3.07, "right", "hint", tolerance=0.005)
    with pytest.raises(ValueError, match=r"as in '3\.07'"):
        quiz.grade(q, "3,07")
    assert quiz.grade(q, "3.07").correct
    assert quiz.parse_number("1,234,567.5") == 1234567.5 and quiz.parse_number("-1 000") == -1000


@PROPERTY
@given(n=st.integers(-10**12, 10**12), decimals=st.integers(0, 4),
       sep=st.sampled_from([",", "_", " ", ""]), percent=st.booleans())
def test_item04_property_formatted_numbers_round_trip(n, decimals, sep, percent):
    value = n / 10**decimals
    text = f"{value:,.{decimals}f}".replace(",", sep) + (" %" if percent else "")
    assert quiz.parse_number(text) == float(f"{value:.{decimals}f}")


# --- item 5: LeNet-5 wants float pixels in [0, 1] -------------------------------------------


def test_item05_uint8_and_0_255_images_are_refused():
    net = LeNet5()
    X = torch.randint(0, 256, (2, 1, 32, 32), dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"float pixels in \[0, 1\], got dtype torch.uint8"):
        net(X)
    with pytest.raises(ValueError, match="got values from 0 to 255"):
        net(X.float())
    with pytest.raises(ValueError, match="pixels in"):
        net(torch.full((1, 1, 32, 32), float("nan")))
    assert net(X.float() / 255).shape == (2, 10)
    assert net(torch.zeros(0, 1, 32, 32)).shape == (0, 10)


# --- item 14: the quick-mode knob ------------------------------------------------------------


@pytest.mark.parametrize("value", ["2", "yes!", "", "  "])
def test_item14_unknown_quick_values_are_errors(monkeypatch, value):
    monkeypatch.setenv(config.QUICK_ENV, value)
    with pytest.raises(ValueError, match="LENET_NB_QUICK=.* is not understood") as e:
        config.reduce_in_tests(10, 1)
    assert "1, true, yes, on" in str(e.value) and "0, false, no, off" in str(e.value)


@pytest.mark.parametrize("value, quick", [("TRUE", True), (" on ", True), ("Off", False),
                                          ("no", False)])
def test_item14_documented_words_in_any_case(monkeypatch, value, quick):
    monkeypatch.setenv(config.QUICK_ENV, value)
    assert config.is_quick() is quick
    for word in config.TRUE_WORDS + config.FALSE_WORDS:  # the docstring and README list them
        assert f"`{word}`" in (ROOT / "README.md").read_text()
        assert word in config.__doc__


def test_item14_pytest_refuses_to_start_on_an_unknown_value():
    env = {**os.environ, config.QUICK_ENV: "2"}
    run = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider",
                          "conftest.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0
    assert "LENET_NB_QUICK='2' is not understood" in run.stdout + run.stderr


# --- item 16: plots, shape tables, flat_index, the explorer ------------------------------------


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


def test_item16_empty_shape_tables_are_clear_errors():
    with pytest.raises(ValueError, match="at least one"):
        shapes.format_shape_table([])
    with pytest.raises(ValueError, match="4-D outputs"):
        shapes.plot_shape_trend([])
    with pytest.raises(ValueError, match="4-D outputs"):
        shapes.plot_shape_trend([("Linear", (1, 10))])


def test_item16_flat_index_stays_inside_the_image():
    with pytest.raises(ValueError, match="0 <= row < 28"):
        fc_limits.flat_index(28, 0)
    assert fc_limits.flat_index(27, 27) == 783
    assert fc_limits.flat_index(2, 4, width=5, height=3) == 14
    with pytest.raises(ValueError, match="neighbour to its right and below"):
        fc_limits.neighbour_distances(27, 3)


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), True])
def test_item16_explorer_refuses_non_finite_lr_and_caches_nothing(lr):
    e = explorer.Explorer(subset=(16, 8))
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        e.train("relu", "max", 1, lr)
    assert e.runs == {} and e._data is None  # refused before loading or training anything


def test_item16_explorer_does_not_cache_a_diverged_run(capsys):
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(32, 1, 28, 28, generator=g), torch.arange(32) % 10
    e = explorer.Explorer(subset=(32, 32))
    e._data = (TensorBatches(X, y, 8), TensorBatches(X, y, 8))
    with pytest.raises(ValueError, match="diverged in epoch 1.*smaller lr"):
        e.train("relu", "max", 1, 1e6)
    assert e.runs == {}
    assert "training stopped" in capsys.readouterr().err


# --- the output-size formula against PyTorch ---------------------------------------------------


@PROPERTY
@given(n=st.integers(1, 40), k=st.integers(1, 9), p=st.integers(0, 4), s=st.integers(1, 5))
def test_property_output_size_formula_matches_pytorch(n, k, p, s):
    side = models.conv_out(n, k, p, s)
    X = torch.zeros(1, 1, n, n)
    if side < 1:
        with pytest.raises(RuntimeError):
            F.conv2d(X, torch.zeros(1, 1, k, k), padding=p, stride=s)
        return
    assert F.conv2d(X, torch.zeros(1, 1, k, k), padding=p, stride=s).shape[-1] == side
    if p <= k // 2:  # PyTorch's pooling allows at most half the window as padding
        assert F.max_pool2d(X, k, stride=s, padding=p).shape[-1] == side
        assert F.avg_pool2d(X, k, stride=s, padding=p).shape[-1] == side


# --- public functions check user values at the boundary ----------------------------------------


def _bad_calls():
    from lenet_nb import data, diagnostics, lenet5, lenet5_train, pitfalls

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
        (lambda: lenet5_train.spread([]), "at least one"),
        (lambda: explorer.Explorer(batch_size=0), "batch_size must be an integer >= 1"),
        (lambda: pitfalls.eval_in_loop_cost(net, [(X, y)], [(X, y)], 0.1, num_batches=0),
         "num_batches must be"),
    ]


def test_public_functions_refuse_bad_values_with_what_was_expected():
    for call, match in _bad_calls():
        with pytest.raises(ValueError, match=match):
            call()

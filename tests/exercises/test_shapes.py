"""The checkers of lenet_nb.exercises.shapes: each passes on the reference solution, says
precisely what is wrong on the stub and on typical wrong answers, and never raises."""

import pytest
import torch
from torch import nn

from lenet_nb.exercises import shapes as ex
from lenet_nb.lessons.anatomy import receptive_field as ch2_receptive_field


def ch2_says(verdict, *parts):
    """The verdict is 'not yet' and its message contains every part."""
    text = repr(verdict)
    assert not verdict and (", not yet: " in text or ", not started: " in text), text
    for part in parts:
        assert part in text, (part, text)


def test_ch2_c1_s2_shape_passes_on_the_answer_and_a_list_or_size():
    for answer in ((1, 6, 14, 14), [1, 6, 14, 14], torch.Size([1, 6, 14, 14])):
        verdict = ex.check_c1_s2_shape(answer)
        assert verdict and repr(verdict).startswith("✔ 2.1 c1_s2_shape"), repr(verdict)


@pytest.mark.parametrize("answer, part", [
    (..., "still `...`"),
    ("1x6x14x14", "tuple of whole numbers"),
    ((1, 6, 24, 24), "without padding"),
    ((1, 6, 12, 12), "without padding"),
    ((1, 6, 28, 28), "pooling with stride 2 comes next"),
    ((6, 14, 14), "batch dimension"),
    ((1, 14, 14, 6), "not last"),
    ((1, 16, 14, 14), "first has 6"),
])
def test_ch2_c1_s2_shape_names_the_typical_mistake_without_revealing(answer, part):
    verdict = ex.check_c1_s2_shape(answer)
    ch2_says(verdict, part)
    assert "(1, 6, 14, 14)" not in repr(verdict)


def test_ch2_linear1_params():
    assert ex.check_linear1_params(48_120)
    for answer, part in [(..., "still"), (48_000, "forget the bias"),
                         (30_840, "unpadded variant"), (30_720, "unpadded variant"),
                         (61_706, "whole network"), (48_400, "one bias per output"),
                         ("48120", "one number")]:
        verdict = ex.check_linear1_params(answer)
        ch2_says(verdict, part)
        assert "48,120" not in repr(verdict) and "48120 " not in repr(verdict)


def unpadded(pool=nn.MaxPool2d, act=nn.Sigmoid, padding=0, flat=16 * 4 * 4):
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=padding), act(), pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), act(), pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(flat, 120), act(), nn.Linear(120, 84), act(), nn.Linear(84, 10))


def test_ch2_unpadded_lenet_passes_on_a_module_and_on_a_builder():
    for answer in (unpadded(), unpadded):
        verdict = ex.check_unpadded_lenet(answer)
        assert verdict, repr(verdict)
        assert "44,426 parameters" in repr(verdict) and "same outputs" in repr(verdict)


def stub_builder():
    ...


@pytest.mark.parametrize("answer, parts", [
    (stub_builder, ["returned None"]),
    (..., ["still `...`"]),
    (unpadded(flat=400), ["Linear #1", "in_features=400", "16·4·4 = 256"]),
    (unpadded(padding=2, flat=400), ["layer 0 (Conv2d) has padding=2", "no padding"]),
    (unpadded(pool=nn.AvgPool2d), ["layer 2 is AvgPool2d", "nn.MaxPool2d"]),
    (unpadded(act=nn.ReLU), ["layer 1 is ReLU", "nn.Sigmoid()"]),
    (nn.Sequential(*list(unpadded())[:-1]), ["11 layers", "12"]),
    (lambda: nn.Sequential(*unpadded()[:7], nn.Linear(256, 120), nn.Sigmoid(),
                           nn.Linear(120, 10)), ["Linear #2", "120 -> 10, expected 120 -> 84"]),
])
def test_ch2_unpadded_lenet_names_the_first_wrong_layer(answer, parts):
    ch2_says(ex.check_unpadded_lenet(answer), *parts)


def test_ch2_unpadded_lenet_reports_a_forward_that_fails():
    class Broken(nn.Sequential):
        def forward(self, X):
            raise RuntimeError("boom")

    ch2_says(ex.check_unpadded_lenet(Broken(*unpadded())), "`net` raised RuntimeError: boom")


def test_ch2_receptive_field_passes_on_the_reference():
    verdict = ex.check_receptive_field(ch2_receptive_field)
    assert verdict and "(16, 4)" in repr(verdict), repr(verdict)


def rf_stub(windows):
    r, j = 1, 1
    for _k, _s in windows:
        r = ...  # your code here
        j = ...  # your code here
    return r, j


def rf_jump_never_grows(windows):
    r = 1
    for k, _ in windows:
        r = r + (k - 1)
    return r, 1


def rf_without_jump(windows):
    r, j = 1, 1
    for k, s in windows:
        r = r + (k - 1)
        j = j * s
    return r, j


def rf_k_times_j(windows):
    r, j = 1, 1
    for k, s in windows:
        r = r + k * j
        j = j * s
    return r, j


def rf_jump_first(windows):
    r, j = 1, 1
    for k, s in windows:
        j = j * s
        r = r + (k - 1) * j
    return r, j


def rf_only_r(windows):
    return ch2_receptive_field(windows)[0]


def rf_function_stub(windows):
    ...


@pytest.mark.parametrize("fn, part", [
    (rf_stub, "still `...`"),
    (rf_function_stub, "returned None"),
    (rf_jump_never_grows, "the jump never grew"),
    (rf_without_jump, "not k − 1"),
    (rf_k_times_j, "not k·j"),
    (rf_jump_first, "before growing r"),
    (rf_only_r, "return the pair (r, j)"),
])
def test_ch2_receptive_field_names_the_slip(fn, part):
    ch2_says(ex.check_receptive_field(fn), part)




def test_ch2_numpy_and_torch_answers_count():
    """Issue 17 item 6: np.int64(48120) and a shape of NumPy ints were refused."""
    import numpy as np

    assert ex.check_linear1_params(np.int64(48_120))
    assert ex.check_linear1_params(torch.tensor(48_120))
    assert ex.check_c1_s2_shape(tuple(np.int64(v) for v in (1, 6, 14, 14)))
    assert ex.check_c1_s2_shape(np.array([1, 6, 14, 14]))
    verdict = ex.check_linear1_params("48,120")
    assert not verdict and "without quotes" in verdict.message

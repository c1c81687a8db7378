"""The checkers of lenet_nb.exercises.shapes: each passes on the reference solution, says
precisely what is wrong on the stub and on typical wrong answers, and never raises."""

import re

import pytest
import torch
from torch import nn

from lenet_nb.config import reduce_in_tests
from lenet_nb.exercises import challenge
from lenet_nb.exercises import shapes as ex
from lenet_nb.lessons import anatomy
from lenet_nb.lessons import shapes as lessons_shapes
from lenet_nb.lessons.anatomy import receptive_field as ch2_receptive_field
from lenet_nb.models import LeNet, count_parameters
from tests.exercises.notebook_answers import answer_namespace, reference_verdict


def ch2_says(verdict, *parts):
    """The verdict is 'not yet' and its message contains every part."""
    text = repr(verdict)
    assert not verdict and (", not yet: " in text or ", not started: " in text), text
    for part in parts:
        assert part in text, (part, text)


def test_ch2_c1_s2_shape_passes_on_the_answer_and_a_list_or_size():
    assert reference_verdict(ex, "c1_s2_shape")
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


def test_ch2_linear1_params_32_passes_on_the_notebook_answer_and_the_real_layer():
    assert reference_verdict(ex, "linear1_params_32")
    first = next(m for m in LeNet(in_size=32) if isinstance(m, nn.Linear))
    verdict = ex.check_linear1_params_32(count_parameters(first))
    assert verdict and "Linear(576, 120)" in repr(verdict), repr(verdict)


@pytest.mark.parametrize("answer, part", [
    (..., "still"), ("69120", "without quotes"), (48_120, "the 28×28 network's count"),
    (69_120, "also has a bias"), (30_840, "unpadded 28×28 variant"),
    (123_000, "C3 has no padding"), (94_200, "halves the side"), (576, "plus the biases"),
    (61_706, "count the inputs first"),
])
def test_ch2_linear1_params_32_hints_without_revealing(answer, part):
    verdict = ex.check_linear1_params_32(answer)
    ch2_says(verdict, part)
    hint = verdict.message.partition("Hint:")[2]  # the message echoes the learner's own number
    assert not any(re.search(p, hint) for p in ex.check_linear1_params_32.leaks)


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
    assert reference_verdict(ex, "receptive_field")
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
    (rf_jump_never_grows, "your j never changes"),
    (rf_without_jump, "your r grows the same whatever j is"),
    (rf_k_times_j, "your r would be 6, but a 5-wide window covers 5 pixels"),
    (rf_jump_first, "which jump applies to its window, S2's or C3's own?"),
    (rf_only_r, "return the pair (r, j)"),
])
def test_ch2_receptive_field_names_the_slip(fn, part):
    verdict = ex.check_receptive_field(fn)
    ch2_says(verdict, part)
    assert "(k − 1)" not in verdict.message and "k - 1" not in verdict.message


# --- 2.5 change and observe: a stride in C1 ----------------------------------------------------


def stride_record(strides):
    return {s: anatomy.c3_field(s) for s in strides}


def test_ch2_c1_stride_passes_on_the_notebook_run_and_answers():
    assert reference_verdict(ex, "c1_stride", extra={"anatomy": anatomy})
    verdict = ex.check_c1_stride(stride_record([1, 2, 3]), anatomy.c3_field(2)[1], "A")
    assert verdict and "23×23 pixels, against 14×14" in repr(verdict), repr(verdict)


@pytest.mark.parametrize("observed", [{}, {1: (14, 14)}, None])
def test_ch2_c1_stride_without_stride_2_is_not_started(observed):
    verdict = ex.check_c1_stride(observed, 23, "a")
    assert verdict.mark == "○" and "put both in `c1_strides`" in verdict.message, verdict


def test_ch2_c1_stride_grades_against_the_learners_own_run(monkeypatch):
    made_up = {1: (14, 14), 2: (20, 20)}  # not what the layers give: the checker follows the run
    monkeypatch.setattr(anatomy, "c3_field", lambda stride: made_up[stride])
    assert ex.check_c1_stride(dict(made_up), 20, "a")
    ch2_says(ex.check_c1_stride(dict(made_up), 23, "a"), "read it from the line")


def test_ch2_c1_stride_refuses_a_record_from_another_setting():
    record = stride_record([1, 2])
    record[2] = anatomy.c3_field(3)
    ch2_says(ex.check_c1_stride(record, 28, "a"), "is not what a C1 of stride 2 gives")


@pytest.mark.parametrize("width, why, part", [
    (14, "a", "that is the width with stride 1"), (..., "a", "still `...`"),
    (23, "b", "the kernel stays 5×5"), (23, "c", "the padding is 2 in both runs"),
    (23, "x", "one of 'a', 'b' or 'c'"),
])
def test_ch2_c1_stride_names_the_mistake(width, why, part):
    ch2_says(ex.check_c1_stride(stride_record([1, 2]), width, why), part)


# --- 2.6 challenge -----------------------------------------------------------------------------


def test_ch2_the_notebook_challenge_solution_is_the_package_one():
    train = answer_namespace(ex, "macs_challenge", {"reduce_in_tests": reduce_in_tests})["train"]
    gen = torch.Generator().manual_seed(0)
    X, y = torch.rand(96, 1, 28, 28, generator=gen), torch.randint(0, 10, (96,), generator=gen)
    nets = []
    for fn in (train, lessons_shapes.challenge_train):
        torch.manual_seed(0)
        nets.append(fn(X.clone(), y.clone(), 60.0))
    assert all(torch.equal(a, b) for a, b in zip(nets[0].parameters(), nets[1].parameters()))


def test_ch2_the_challenge_passes_on_the_course_solution_in_quick_mode():
    verdict = reference_verdict(ex, "macs_challenge", {"reduce_in_tests": reduce_in_tests})
    assert verdict and "quick mode" in verdict.message, repr(verdict)


def test_ch2_over_the_multiply_add_cap_the_layers_are_named():
    def train(X, y, seconds):
        net = LeNet(activation="relu", pooling="max")
        torch.optim.SGD(net.parameters(), lr=0.1).step()
        return net

    verdict = ex.check_macs_challenge(train)
    ch2_says(verdict, "416,520 multiply-adds per image, the cap is 100,000", "per layer: 0 117,600")


def test_ch2_the_stored_course_solution_clears_the_target_and_the_budget():
    rows, missing = challenge.stored_rows(ex.CHALLENGE)
    assert missing is None, missing
    assert challenge.freeze_problems(ex.CHALLENGE, rows) == []


def test_ch2_numpy_and_torch_answers_count():
    """Issue 17 item 6: NumPy and torch integers were refused, text got no hint on its quotes."""
    import numpy as np

    assert ex.check_linear1_params_32(np.int64(ex.LINEAR1_PARAMS_32))
    assert ex.check_linear1_params_32(torch.tensor(ex.LINEAR1_PARAMS_32))
    assert ex.check_c1_s2_shape(tuple(np.int64(v) for v in (1, 6, 14, 14)))
    assert ex.check_c1_s2_shape(np.array([1, 6, 14, 14]))
    verdict = ex.check_linear1_params_32(f"{ex.LINEAR1_PARAMS_32:,}")
    assert not verdict and "without quotes" in verdict.message

"""The checkers of lenet_nb.exercises.fc_limits: each passes on the instructor notebook's answer,
says precisely what is wrong on the stub and on typical wrong answers, gives no answer away in a
hint, and never raises."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lenet_nb.config import reduce_in_tests
from lenet_nb.exercises import challenge
from lenet_nb.exercises import fc_limits as ex
from lenet_nb.lessons import conv, fc_limits
from tests.exercises.notebook_answers import answer_namespace, reference_verdict


def corr2d_solution(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_stub(X, K):
    ...  # your code here


def corr2d_no_plus_one(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h, X.shape[1] - w)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_no_sum(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = X[i:i + h, j:j + w] * K
    return Y


def corr2d_swapped(X, K):
    w, h = K.shape  # rows and columns mixed up
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_swapped_shape(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - w + 1, X.shape[1] - h + 1)  # h and w mixed up here only
    for i in range(min(Y.shape[0], X.shape[0] - h + 1)):
        for j in range(min(Y.shape[1], X.shape[1] - w + 1)):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_matmul(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] @ K).sum()
    return Y


def corr2d_short_loop(X, K):
    Y = corr2d_solution(X, K)
    Y[-1] = 0
    return Y


def test_corr2d_passes_on_the_notebook_answer_and_the_reference():
    assert reference_verdict(ex, "corr2d").passed
    v = ex.check_corr2d(conv.corr2d)
    assert v.passed and v.message.startswith("matches"), v


@pytest.mark.parametrize("fn, words", [
    (corr2d_stub, "`corr2d` still holds the stub: replace the `...`"),
    (corr2d_no_plus_one, "did you forget the + 1"),
    (corr2d_no_sum, "each output value is ONE number"),
    (lambda X, K: corr2d_solution(X, K.flip(0, 1)), "you flipped the kernel"),
    (corr2d_swapped, "Are height and width swapped? h, w = K.shape is (rows, columns)"),
    (corr2d_swapped_shape, "height and width are swapped: K.shape is (rows, columns)"),
    (lambda X, K: corr2d_solution(X, K) / K.numel(), "you averaged the products"),
    (corr2d_matmul, "`@` is a matrix product"),
    (corr2d_short_loop, "the last row or column is still 0"),
    (..., "`corr2d` is not defined yet"),
    (lambda X, K: [[0]], "should be a torch tensor, got list"),
])
def test_corr2d_names_the_mistake(fn, words):
    v = ex.check_corr2d(fn)
    assert not v.passed and words in v.message, v
    assert repr(v).startswith(("✘ 1.1 corr2d, not yet: ", "○ 1.1 corr2d, not started: "))


# --- 1.2 corr2d_sp -----------------------------------------------------------------------------


def sp_variant(ceil=False, short=False, sides="both", start_at_ij=False, swap=False,
               replicate=False, no_stride=False, in_place=False):
    """A corr2d_sp with one typical mistake switched on."""

    def corr2d_sp(X, K, padding=(0, 0), stride=(1, 1)):
        (p_h, p_w), (s_h, s_w) = (padding[::-1], stride[::-1]) if swap else (padding, stride)
        h, w = K.shape
        if in_place:
            X.zero_()
        pad = {"both": (p_w, p_w, p_h, p_h), "before": (p_w, 0, p_h, 0)}[sides]
        X_pad = F.pad(X[None, None], pad, mode="replicate" if replicate else "constant")[0, 0]
        if no_stride:
            s_h = s_w = 1
        rows = (X_pad.shape[0] - h + (s_h - 1 if ceil else 0)) // s_h + (0 if short else 1)
        cols = (X_pad.shape[1] - w + (s_w - 1 if ceil else 0)) // s_w + 1
        Y = torch.zeros(rows, cols, dtype=X.dtype)
        for i in range(rows):
            for j in range(cols):
                r, c = (i, j) if start_at_ij else (i * s_h, j * s_w)
                window = X_pad[r:r + h, c:c + w]
                if window.shape == K.shape:
                    Y[i, j] = (window * K).sum()
        return Y

    return corr2d_sp


def test_corr2d_sp_passes_on_the_notebook_answer_and_the_reference():
    assert reference_verdict(ex, "corr2d_sp").passed
    assert ex.check_corr2d_sp(conv.corr2d_sp).passed
    assert ex.check_corr2d_sp(sp_variant()).passed  # the variants' own baseline is right


@pytest.mark.parametrize("mistake, words", [
    ({"ceil": True}, "a window that would stick out of the padded input is not used"),
    ({"short": True}, "the last may end exactly at the padded edge"),
    ({"sides": "before"}, "zeros go on both sides"),
    ({"start_at_ij": True}, "where does the window of output (i, j) start"),
    ({"swap": True}, "padding and stride are (rows, columns)"),
    ({"replicate": True}, "pad with zeros, not copies of the border"),
    ({"no_stride": True}, "moves s_h rows and s_w columns at a time"),
    ({"in_place": True}, "your function changed its input X"),
])
def test_corr2d_sp_names_the_mistake(mistake, words):
    v = ex.check_corr2d_sp(sp_variant(**mistake))
    assert not v.passed and words in v.message, v
    assert "⌊" not in v.message  # no hint states the output-size formula


def test_corr2d_sp_stub_is_not_started():
    def corr2d_sp(X, K, padding=(0, 0), stride=(1, 1)):
        p_h, p_w = padding
        ...  # your code here

    assert ex.check_corr2d_sp(corr2d_sp).mark == "○"


# --- 1.3 horizontal edges ----------------------------------------------------------------------


def test_horizontal_edges_passes_on_kernels_that_compare_rows():
    assert reference_verdict(ex, "horizontal_edges").passed
    for K in ([[1.0], [-1.0]], [[-1.0], [1.0]], [[1.0, 1.0], [-1.0, -1.0]]):
        v = ex.check_horizontal_edges(torch.tensor(K))
        assert v.passed and "responds in output rows [2, 5] only" in v.message, v


@pytest.mark.parametrize("K, words", [
    (..., "`K_horizontal` is still `...`"),
    ([[1.0, -1.0]], "that is the vertical-edge detector from above"),
    ([[1.0], [1.0]], "weights must add up to 0 (yours add up to 2)"),
    ([[1.0, -1.0], [1.0, -1.0]], "also reacts to vertical edges"),
    ([[0.0], [0.0]], "gives 0 on the horizontal edges too"),
    ([[1.0, 0.0, -1.0]], "a kernel with one row never sees two rows"),
    ([[[1.0], [-1.0]]], "a small 2-D kernel"),
])
def test_horizontal_edges_names_the_mistake(K, words):
    v = ex.check_horizontal_edges(K if K is ... else torch.tensor(K))
    assert not v.passed and words in v.message, v
    assert "[[1], [-1]]" not in v.message and "(2, 1)" not in v.message


def test_horizontal_edges_refuses_a_list():
    v = ex.check_horizontal_edges([[1.0], [-1.0]])
    assert not v.passed and "should be a torch tensor" in v.message


# --- 1.4 find the bug: learn_edge_kernel -------------------------------------------------------


def learn_variant(update):
    """learn_edge_kernel with the update step written by `update(K_hat, lr)`."""

    def learn_edge_kernel(X, Y, num_epochs=25, lr=0.1, seed=0):
        torch.manual_seed(seed)
        K_hat = torch.randn(1, 2, requires_grad=True)
        losses = []
        for _ in range(num_epochs):
            loss = ((conv.corr2d(X, K_hat) - Y) ** 2).mean()
            loss.backward()
            K_hat = update(K_hat, lr)
            losses.append(loss.item())
        return K_hat.detach(), losses

    return learn_edge_kernel


def _step(K, lr, zero=True):
    with torch.no_grad():
        K -= lr * K.grad
        if zero:
            K.grad.zero_()
    return K


def _zero_first(K, lr):
    K.grad.zero_()  # the gradient is cleared before the step could use it
    return _step(K, lr, zero=False)


def _not_in_place(K, lr):
    with torch.no_grad():
        return K - lr * K.grad


def _fast(K, lr):
    return _step(K, 0.2)


def learn_zero_before_backward(X, Y, num_epochs=25, lr=0.1, seed=0):
    torch.manual_seed(seed)
    K_hat = torch.randn(1, 2, requires_grad=True)
    losses = []
    for _ in range(num_epochs):
        K_hat.grad.zero_()  # at the first epoch there is no gradient yet
        loss = ((conv.corr2d(X, K_hat) - Y) ** 2).mean()
        loss.backward()
        _step(K_hat, lr, zero=False)
        losses.append(loss.item())
    return K_hat.detach(), losses


def test_learn_edge_kernel_passes_on_the_fix_and_leaves_the_generator_alone():
    X, Y = ex._edge_pair()
    assert reference_verdict(ex, "learn_edge_kernel",
                             extra={"corr2d": conv.corr2d, "X_rand": X, "Y_target": Y}).passed
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    v = ex.check_learn_edge_kernel(learn_variant(_step))
    assert v.passed and "from seed 3 it settles on [0.995, -0.993]" in v.message, v
    assert torch.equal(torch.rand(3), expected)  # the check's seeded runs changed nothing


def test_the_given_buggy_code_gets_the_symptom():
    v = ex.check_learn_edge_kernel(learn_variant(lambda K, lr: _step(K, lr, zero=False)))
    assert v.mark == "✘" and "the loss falls, then jumps back up" in v.message, v
    assert "zero_" not in v.message and "zero_grad" not in v.message


@pytest.mark.parametrize("fn, words", [
    (learn_variant(_zero_first), "K_hat never moved"),
    (learn_variant(_not_in_place), "change K_hat in place"),
    (learn_zero_before_backward, "clear it after it was used"),
    (learn_variant(_fast), "keep lr, num_epochs and the seed as given"),
    (lambda X, Y, num_epochs=25, lr=0.1, seed=0: ([1.0, -1.0], [1.0] * 25),
     "your losses differ"),
    (lambda X, Y, num_epochs=25, lr=0.1, seed=0: 3, "should return the pair (K_hat, losses)"),
])
def test_learn_edge_kernel_names_the_mistake(fn, words):
    v = ex.check_learn_edge_kernel(fn)
    assert v.mark == "✘" and words in v.message, v


# --- 1.5 pool2d --------------------------------------------------------------------------------


def pool2d_solution(X, pool_size, mode="max", window_at_ij=False, stride_one=False):
    p_h, p_w = pool_size
    rows, cols = ((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1) if stride_one else
                  (X.shape[0] // p_h, X.shape[1] // p_w))
    Y = torch.zeros(rows, cols)
    for i in range(rows):
        for j in range(cols):
            r, c = (i, j) if window_at_ij or stride_one else (i * p_h, j * p_w)
            window = X[r:r + p_h, c:c + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def test_pool2d_passes_on_the_notebook_answer():
    assert reference_verdict(ex, "pool2d").passed
    assert ex.check_pool2d(conv.pool2d).passed


@pytest.mark.parametrize("fn, words", [
    (lambda X, p, mode="max": pool2d_solution(X, p, mode, stride_one=True),
     "your windows overlap"),
    (lambda X, p, mode="max": pool2d_solution(X, p, "avg" if mode == "mean" else "max"),
     "you took the max in avg mode"),
    (lambda X, p, mode="max": pool2d_solution(X, p, mode) * (p[0] * p[1] if mode == "avg" else 1),
     "you summed each window"),
    (lambda X, p, mode="max": pool2d_solution(X, p[::-1], mode), "height and width are swapped"),
    (lambda X, p, mode="max": pool2d_solution(X, p, mode, window_at_ij=True),
     "starts at row i and column j"),
    (lambda X, p, mode="max": pool2d_solution(X, p, "avg"), "you took the avg in max mode"),
])
def test_pool2d_names_the_mistake(fn, words):
    v = ex.check_pool2d(fn)
    assert not v.passed and words in v.message, v


# --- 1.6 predict: strided shape ----------------------------------------------------------------


def test_strided_shape_passes_on_the_notebook_answer_and_the_layers():
    assert reference_verdict(ex, "strided_shape").passed
    layer = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=2)
    shape = F.max_pool2d(layer(torch.zeros(1, 3, 32, 32)), 2).shape
    assert ex.check_strided_shape(shape).passed and ex.check_strided_shape(list(shape)).passed


@pytest.mark.parametrize("answer, words", [
    (..., "`shape` is still `...`"),
    ("(1, 8, 9, 9)", "as a tuple of whole numbers"),
    ((1, 8, 7, 7), "the padding adds rows and columns of zeros"),
    ((1, 8, 9, 9), "round down when you count positions"),
    ((1, 8, 17, 17), "is your 17 the side before or after the pooling?"),
    ((1, 8, 16, 16), "the convolution changes the side before the pooling halves it"),
    ((1, 8, 34, 34), "a stride of 2 moves the window 2 pixels at a time"),
    ((1, 3, 8, 8), "one channel per kernel"),
    ((2, 8, 8, 8), "the batch size is not changed"),
    ((8, 8, 8), "four numbers"),
    ((1, 8, 12, 12), "one layer at a time"),
])
def test_strided_shape_hints_without_revealing(answer, words):
    v = ex.check_strided_shape(answer)
    assert not v.passed and words in v.message, v
    assert not any(re.search(p, v.message) for p in ex.check_strided_shape.leaks)


# --- 1.7 change and observe: pooling against a shift -------------------------------------------


@pytest.fixture(scope="module")
def shift_maps():
    return fc_limits.shifted_edge_maps(100)


def record(maps, sizes):
    return {p: fc_limits.pooled_unchanged_share(*maps, p) for p in sizes}


def test_pool_shift_passes_on_the_notebook_run_and_answers(shift_maps):
    edges, edges_1 = shift_maps
    assert reference_verdict(ex, "pool_shift", extra={"fc_limits": fc_limits, "edges": edges,
                                                      "edges_1": edges_1}).passed
    v = ex.check_pool_shift(record(shift_maps, [2, 4]), True, " A ")
    assert v.passed and "grows" in v.message, v


@pytest.mark.parametrize("observed", [{}, {2: 0.3}, None, ...])
def test_pool_shift_without_a_comparison_is_not_started(observed):
    v = ex.check_pool_shift(observed, True, "a")
    assert v.mark in ("○", "✘") and "add at least one more" in v.message, v


def test_pool_shift_refuses_a_record_from_another_setting(shift_maps):
    edges, edges_1 = shift_maps
    tampered = record(shift_maps, [2, 3])
    tampered[3] = fc_limits.unchanged_share(F.avg_pool2d(edges, 3), F.avg_pool2d(edges_1, 3), 1)
    v = ex.check_pool_shift(tampered, True, "a")
    assert v.mark == "✘" and "is not what 3×3 max pooling gives" in v.message, v


def test_pool_shift_grades_against_the_learners_own_run(monkeypatch, shift_maps):
    # a made-up measurement in which wider windows keep less: the checker must follow it
    made_up = {2: 0.5, 3: 0.4, 4: 0.3}
    monkeypatch.setattr(fc_limits, "pooled_unchanged_share", lambda e, s, p: made_up[p])
    assert ex.check_pool_shift(dict(made_up), False, "a").passed
    v = ex.check_pool_shift(dict(made_up), True, "a")
    assert not v.passed and "look at your run's numbers again" in v.message, v
    up_and_down = {2: 0.5, 3: 0.6, 4: 0.55}
    monkeypatch.setattr(fc_limits, "pooled_unchanged_share", lambda e, s, p: up_and_down[p])
    for answer in (True, False):
        v = ex.check_pool_shift(dict(up_and_down), answer, "a")
        assert v.passed and "either answer" in v.message, v


@pytest.mark.parametrize("wider, why, words", [
    (..., "a", "`wider_keeps_more` is still `...`"),
    ("yes", "a", "is True or False"),
    (True, ..., "`why` is still `...`"),
    (True, "d", "is one of 'a', 'b' or 'c'"),
    (True, "b", "averaging is what average pooling does"),
    (True, "c", "a pooling layer has no weights"),
])
def test_pool_shift_names_the_mistake(shift_maps, wider, why, words):
    v = ex.check_pool_shift(record(shift_maps, [2, 3]), wider, why)
    assert not v.passed and words in v.message, v


# --- 1.8 challenge -----------------------------------------------------------------------------


def test_the_notebook_challenge_solution_is_the_package_one():
    train = answer_namespace(ex, "fc_challenge", {"reduce_in_tests": reduce_in_tests})["train"]
    gen = torch.Generator().manual_seed(0)
    X, y = torch.rand(96, 1, 28, 28, generator=gen), torch.randint(0, 10, (96,), generator=gen)
    nets = []
    for fn in (train, fc_limits.challenge_train):
        torch.manual_seed(0)
        nets.append(fn(X.clone(), y.clone(), 60.0))
    assert all(torch.equal(a, b) for a, b in zip(nets[0].parameters(), nets[1].parameters()))
    assert sum(p.numel() for p in nets[0].parameters()) <= ex.CHALLENGE.max_params


def test_the_challenge_passes_on_the_course_solution_in_quick_mode():
    v = reference_verdict(ex, "fc_challenge", {"reduce_in_tests": reduce_in_tests})
    assert v.passed and "quick mode" in v.message, v


def test_a_dense_first_layer_over_the_cap_gets_the_chapters_hint():
    def train(X, y, seconds):
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 13), nn.ReLU(), nn.Linear(13, 10))
        torch.optim.SGD(net.parameters(), lr=0.1).step()
        return net

    v = ex.check_fc_challenge(train)
    assert not v.passed and "the cap is 10,000" in v.message, v
    assert "a dense layer on the raw image costs 784 weights per unit" in v.message


def test_the_stored_course_solution_clears_the_target_and_the_budget():
    rows, missing = challenge.stored_rows(ex.CHALLENGE)
    assert missing is None, missing
    assert challenge.freeze_problems(ex.CHALLENGE, rows) == []

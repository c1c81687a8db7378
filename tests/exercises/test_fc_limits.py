"""The checkers of lenet_nb.exercises.fc_limits: each passes on the reference solution, says
precisely what is wrong on the stub and on typical wrong answers, and never raises."""

import pytest
import torch

from lenet_nb.exercises import fc_limits as ex


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


def corr2d_flipped(X, K):
    return corr2d_solution(X, K.flip(0, 1))


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


def corr2d_mean(X, K):
    return corr2d_solution(X, K) / K.numel()


def corr2d_short_loop(X, K):
    Y = corr2d_solution(X, K)
    Y[-1] = 0
    return Y


def test_corr2d_passes_on_the_solution_and_the_reference():
    from lenet_nb.lessons.conv import corr2d

    for fn in (corr2d_solution, corr2d):
        v = ex.check_corr2d(fn)
        assert v.passed and v.message.startswith("matches"), v


@pytest.mark.parametrize("fn, words", [
    (corr2d_stub, "`corr2d` still holds the stub: replace the `...`"),
    (corr2d_no_plus_one, "did you forget the + 1"),
    (corr2d_no_sum, "each output value is ONE number"),
    (corr2d_flipped, "you flipped the kernel: that is a true convolution"),
    (corr2d_swapped, "Are height and width swapped? h, w = K.shape is (rows, columns)"),
    (corr2d_swapped_shape, "height and width are swapped: K.shape is (rows, columns)"),
    (corr2d_mean, "you averaged the products"),
    (corr2d_short_loop, "the last row or column is still 0"),
])
def test_corr2d_names_the_mistake(fn, words):
    v = ex.check_corr2d(fn)
    assert not v.passed and words in v.message, v
    assert repr(v).startswith(("✘ 1.1 corr2d, not yet: ", "○ 1.1 corr2d, not started: "))


def test_corr2d_names_a_matrix_product():
    def corr2d_matmul(X, K):
        h, w = K.shape
        Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                Y[i, j] = (X[i:i + h, j:j + w] @ K).sum()
        return Y

    v = ex.check_corr2d(corr2d_matmul)
    assert not v.passed and "`@` is a matrix product" in v.message, v


def test_corr2d_reports_nonsense_without_raising():
    assert "`corr2d` is not defined yet" in ex.check_corr2d(...).message
    assert "should be a torch tensor, got list" in ex.check_corr2d(lambda X, K: [[0]]).message


def pool2d_solution(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros(X.shape[0] // p_h, X.shape[1] // p_w)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i * p_h:(i + 1) * p_h, j * p_w:(j + 1) * p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def pool2d_stub(X, pool_size, mode="max"):
    ...  # your code here


def pool2d_stride_one(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros(X.shape[0] - p_h + 1, X.shape[1] - p_w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def pool2d_wrong_mode_name(X, pool_size, mode="max"):
    return pool2d_solution(X, pool_size, "avg" if mode == "mean" else "max")


def pool2d_sum(X, pool_size, mode="max"):
    Y = pool2d_solution(X, pool_size, mode)
    return Y * pool_size[0] * pool_size[1] if mode == "avg" else Y


def pool2d_swapped(X, pool_size, mode="max"):
    return pool2d_solution(X, pool_size[::-1], mode)


def pool2d_window_at_i(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros(X.shape[0] // p_h, X.shape[1] // p_w)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def test_pool2d_passes_on_the_solution():
    from lenet_nb.lessons.conv import pool2d

    for fn in (pool2d_solution, pool2d):
        v = ex.check_pool2d(fn)
        assert v.passed and v.message.startswith("matches"), v


@pytest.mark.parametrize("fn, words", [
    (pool2d_stub, "`pool2d` still holds the stub: replace the `...`"),
    (pool2d_stride_one, "your windows overlap (stride 1)"),
    (pool2d_wrong_mode_name, "you took the max in avg mode"),
    (pool2d_sum, "you summed each window"),
    (pool2d_swapped, "height and width are swapped: pool_size is (p_h, p_w)"),
    (pool2d_window_at_i, "starts at row i * p_h and column j * p_w, not at row i"),
])
def test_pool2d_names_the_mistake(fn, words):
    v = ex.check_pool2d(fn)
    assert not v.passed and words in v.message, v


def test_pool2d_says_when_max_mode_averages():
    v = ex.check_pool2d(lambda X, p, mode="max": pool2d_solution(X, p, "avg"))
    assert not v.passed and "you took the avg in max mode" in v.message, v


def test_conv_pool_shape():
    assert ex.check_conv_pool_shape((1, 8, 14, 14)).passed
    assert ex.check_conv_pool_shape(torch.Size([1, 8, 14, 14])).passed


@pytest.mark.parametrize("answer, words", [
    (..., "`shape` is still `...`"),
    ((1, 8, 28, 28), "that is the shape right after the convolution"),
    ((1, 8, 16, 16), "32 − 5 + 1"),
    ((1, 3, 14, 14), "number of output channels"),
    ((8, 14, 14), "a tuple of 4 numbers"),
    ((1, 8, 12, 12), "which is not right. Hint: one layer at a time"),
])
def test_conv_pool_shape_hints_without_revealing(answer, words):
    v = ex.check_conv_pool_shape(answer)
    assert not v.passed and words in v.message, v
    assert "(1, 8, 14, 14)" not in v.message


def test_horizontal_edges_passes_on_kernels_that_compare_rows():
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


def test_horizontal_edges_refuses_a_list():
    v = ex.check_horizontal_edges([[1.0], [-1.0]])
    assert not v.passed and "should be a torch tensor" in v.message



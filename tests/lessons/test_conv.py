"""The loop-based convolution pieces equal torch's on small random inputs."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lenet_nb.lessons import conv


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_corr2d_by_hand():
    X, K = torch.arange(9.0).reshape(3, 3), torch.arange(4.0).reshape(2, 2)
    # top-left: 0·0 + 1·1 + 3·2 + 4·3 = 19
    assert conv.corr2d(X, K).tolist() == [[19.0, 25.0], [37.0, 43.0]]


@pytest.mark.parametrize("x_shape, k_shape", [((3, 3), (2, 2)), ((5, 7), (2, 3)),
                                              ((6, 4), (3, 1)), ((4, 4), (4, 4))])
def test_corr2d_equals_torch(x_shape, k_shape):
    X, K = rand(*x_shape), rand(*k_shape, seed=1)
    expected = F.conv2d(X[None, None], K[None, None])[0, 0]
    torch.testing.assert_close(conv.corr2d(X, K), expected)


def test_corr2d_rejects_bad_shapes_with_clear_messages():
    with pytest.raises(ValueError, match="kernel 3×2 is larger than the input 2×5"):
        conv.corr2d(torch.zeros(2, 5), torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"X must have 2 dimensions \[H, W\], got shape \[1, 3"):
        conv.corr2d(torch.zeros(1, 3, 3), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="K must be a torch tensor, got list"):
        conv.corr2d(torch.zeros(3, 3), [[1, 0]])


def test_corr2d_is_differentiable():
    K = torch.ones(2, 2, requires_grad=True)
    conv.corr2d(torch.arange(9.0).reshape(3, 3), K).sum().backward()
    assert K.grad.tolist() == [[8.0, 12.0], [20.0, 24.0]]  # each weight sees 4 input values


def test_convolve2d_is_corr2d_with_the_flipped_kernel():
    X, K = rand(5, 6), rand(2, 3, seed=1)
    expected = F.conv2d(X[None, None], K.flip(0, 1)[None, None])[0, 0]
    torch.testing.assert_close(conv.convolve2d(X, K), expected)
    # by the definition Y[i, j] = sum_ab X[i + a, j + b] · K[h - 1 - a, w - 1 - b]
    assert conv.convolve2d(X, K)[1, 2] == pytest.approx(
        sum(X[1 + a, 2 + b] * K[1 - a, 2 - b] for a in range(2) for b in range(3)).item(), abs=1e-6)
    assert not torch.allclose(conv.convolve2d(X, K), conv.corr2d(X, K))


def test_multi_in_and_out_equal_torch():
    X, K = rand(3, 5, 6), rand(4, 3, 2, 2, seed=1)
    expected = F.conv2d(X[None], K)[0]
    torch.testing.assert_close(conv.corr2d_multi_in(X, K[0]), expected[0])
    torch.testing.assert_close(conv.corr2d_multi_in_out(X, K), expected)


def test_multi_in_rejects_channel_mismatch():
    with pytest.raises(ValueError, match="X has 3 input channels but K has 2"):
        conv.corr2d_multi_in(torch.zeros(3, 4, 4), torch.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="K must have 4 dimensions"):
        conv.corr2d_multi_in_out(torch.zeros(3, 4, 4), torch.zeros(3, 2, 2))


def test_conv1x1_equals_conv2d_with_kernel_1_and_the_loop_version():
    X = rand(3, 4, 5)
    layer = nn.Conv2d(3, 2, kernel_size=1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(rand(2, 3, 1, 1, seed=1))
    expected = layer(X[None])[0].detach()
    torch.testing.assert_close(conv.conv1x1(X, layer.weight.detach()), expected)
    torch.testing.assert_close(conv.conv1x1(X, layer.weight.detach()[:, :, 0, 0]), expected)
    torch.testing.assert_close(conv.corr2d_multi_in_out(X, layer.weight.detach()), expected)
    with pytest.raises(ValueError, match="K maps 4 input channels but X has 3"):
        conv.conv1x1(X, torch.zeros(2, 4))


@pytest.mark.parametrize("size, pool_size, stride", [((4, 4), 2, None), ((5, 7), (2, 3), None),
                                                     ((6, 6), 3, 1), ((7, 5), 2, (1, 2))])
def test_pool2d_equals_torch(size, pool_size, stride):
    X = rand(*size)
    kw = {} if stride is None else {"stride": stride}
    for mode, f in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
        torch.testing.assert_close(conv.pool2d(X, pool_size, mode, stride),
                                   f(X[None, None], pool_size, **kw)[0, 0])


def test_pool2d_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg', got 'mean'"):
        conv.pool2d(torch.zeros(4, 4), 2, "mean")
    with pytest.raises(ValueError, match="pool window 3×3 is larger than the input 2×4"):
        conv.pool2d(torch.zeros(2, 4), 3)
    with pytest.raises(ValueError, match="pool_size must be a positive int or a pair"):
        conv.pool2d(torch.zeros(4, 4), 0)


def test_shift_image_and_interior_gap():
    X = torch.arange(16.0).reshape(4, 4)
    assert conv.shift_image(X, 1, -1).tolist() == [[0, 0, 0, 0], [1, 2, 3, 0], [5, 6, 7, 0],
                                                   [9, 10, 11, 0]]
    A = torch.zeros(5, 5)
    B = A.clone()
    B[0, 3], B[2, 2] = 7.0, 0.5
    assert conv.interior_gap(A, B, 1) == 0.5 and conv.interior_gap(A, B, 0) == 7.0
    with pytest.raises(ValueError, match="margin 3 leaves nothing"):
        conv.interior_gap(A, B, 3)


def test_a_shift_commutes_with_corr2d_away_from_the_border():
    X, K = rand(10, 12), rand(3, 3, seed=1)
    a = conv.corr2d(conv.shift_image(X, 2, 3), K)
    b = conv.shift_image(conv.corr2d(X, K), 2, 3)
    assert conv.interior_gap(a, b, 3) < 1e-6 < conv.interior_gap(a, b, 0)


def test_learn_kernel_recovers_the_kernel_and_is_seeded():
    X = rand(8, 8)
    Y = conv.corr2d(X, torch.tensor([[1.0, -1.0]]))
    K, losses = conv.learn_kernel(X, Y, (1, 2), num_epochs=30, lr=0.2)
    torch.testing.assert_close(K, torch.tensor([[1.0, -1.0]]), atol=1e-4, rtol=0)
    assert len(losses) == 30 and losses[-1] < 1e-8 < losses[0]
    assert conv.learn_kernel(X, Y, (1, 2), 5, 0.2)[1] == losses[:5]


@pytest.mark.parametrize("shape, kernel, padding, stride", [
    ((5, 5), (3, 3), (1, 1), (1, 1)), ((7, 8), (3, 2), (2, 0), (2, 3)),
    ((6, 6), (2, 2), (0, 1), (3, 1)), ((4, 4), (5, 5), (1, 1), (1, 1)), ((5, 6), (2, 3), 0, 1)])
def test_corr2d_sp_equals_conv2d_with_padding_and_stride(shape, kernel, padding, stride):
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(*shape, generator=gen, dtype=torch.float64)
    K = torch.randn(*kernel, generator=gen, dtype=torch.float64)
    expected = F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
    got = conv.corr2d_sp(X, K, padding, stride)
    assert got.shape == expected.shape and torch.allclose(got, expected)


def test_corr2d_sp_refuses_a_negative_padding_and_a_zero_stride():
    X, K = torch.ones(4, 4), torch.ones(2, 2)
    with pytest.raises(ValueError, match="padding must be an int >= 0"):
        conv.corr2d_sp(X, K, padding=(-1, 0))
    with pytest.raises(ValueError, match="stride must be a positive int"):
        conv.corr2d_sp(X, K, stride=(0, 1))

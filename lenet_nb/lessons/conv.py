"""Chapter 1: convolution's pieces written with plain loops, the references the notebook checks.

Each function here is the slow, readable version of something `torch.nn.functional` does fast;
`tests/test_conv.py` checks every one against torch on small random inputs.
"""

import torch


def _require_dims(T, dims, name, layout):
    """Raise ValueError unless tensor T has `dims` dimensions (layout names them)."""
    if not isinstance(T, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor, got {type(T).__name__}")
    if T.dim() != dims:
        raise ValueError(f"{name} must have {dims} dimensions {layout}, got shape {list(T.shape)}")


def corr2d(X, K):
    """2-D cross-correlation of X [H, W] with kernel K [h, w]: no padding, stride 1."""
    _require_dims(X, 2, "X", "[H, W]")
    _require_dims(K, 2, "K", "[h, w]")
    h, w = K.shape
    if h > X.shape[0] or w > X.shape[1]:
        raise ValueError(f"kernel {h}×{w} is larger than the input "
                         f"{X.shape[0]}×{X.shape[1]}: it does not fit anywhere")
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1, dtype=torch.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_sp(X, K, padding=(0, 0), stride=(1, 1)):
    """corr2d with zero padding (p_h rows above and below, p_w columns left and right) and a
    stride (the window moves s_h rows / s_w columns at a time)."""
    _require_dims(X, 2, "X", "[H, W]")
    (p_h, p_w), (s_h, s_w) = _pair(padding, "padding", low=0), _pair(stride, "stride")
    padded = torch.zeros(X.shape[0] + 2 * p_h, X.shape[1] + 2 * p_w, dtype=X.dtype)
    padded[p_h:p_h + X.shape[0], p_w:p_w + X.shape[1]] = X
    full = corr2d(padded, K)  # every window position at stride 1 ...
    return full[::s_h, ::s_w].clone()  # ... of which the stride keeps every s-th row and column


def convolve2d(X, K):
    """True 2-D convolution ('valid' part): cross-correlation with K flipped in both directions."""
    _require_dims(K, 2, "K", "[h, w]")
    return corr2d(X, K.flip(0, 1))


def corr2d_multi_in(X, K):
    """Cross-correlate X [c_in, H, W] with K [c_in, h, w] channel by channel and sum: [H', W']."""
    _require_dims(X, 3, "X", "[c_in, H, W]")
    _require_dims(K, 3, "K", "[c_in, h, w]")
    if X.shape[0] != K.shape[0]:
        raise ValueError(f"X has {X.shape[0]} input channels but K has {K.shape[0]}: "
                         f"the kernel needs one 2-D slice per input channel")
    return sum(corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K):
    """One output channel per kernel: X [c_in, H, W], K [c_out, c_in, h, w] -> [c_out, H', W']."""
    _require_dims(K, 4, "K", "[c_out, c_in, h, w]")
    return torch.stack([corr2d_multi_in(X, k) for k in K])


def conv1x1(X, K):
    """A 1×1 convolution as one matrix product: X [c_in, H, W], K [c_out, c_in] -> [c_out, H, W]."""
    _require_dims(X, 3, "X", "[c_in, H, W]")
    if K.dim() == 4 and K.shape[2:] == (1, 1):  # accept nn.Conv2d's weight layout too
        K = K[:, :, 0, 0]
    _require_dims(K, 2, "K", "[c_out, c_in]")
    c_in, h, w = X.shape
    if K.shape[1] != c_in:
        raise ValueError(f"K maps {K.shape[1]} input channels but X has {c_in}")
    # every pixel is a vector of c_in values; the same c_out × c_in matrix maps each of them
    return (K @ X.reshape(c_in, h * w)).reshape(K.shape[0], h, w)


def _pair(size, name, low=1):
    """(a, b) from an int or a pair of ints >= low (positive by default)."""
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= low for v in pair):
        kind = "a positive int" if low == 1 else f"an int >= {low}"
        raise ValueError(f"{name} must be {kind} or a pair of them, got {size!r}")
    return pair


def pool2d(X, pool_size, mode="max", stride=None):
    """Max or average pooling of X [H, W]; stride defaults to the window (as in F.max_pool2d)."""
    _require_dims(X, 2, "X", "[H, W]")
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    p_h, p_w = _pair(pool_size, "pool_size")
    s_h, s_w = _pair(pool_size if stride is None else stride, "stride")
    if p_h > X.shape[0] or p_w > X.shape[1]:
        raise ValueError(f"pool window {p_h}×{p_w} is larger than the input "
                         f"{X.shape[0]}×{X.shape[1]}")
    # windows that would run past the edge are dropped, like torch's default ceil_mode=False
    Y = torch.zeros((X.shape[0] - p_h) // s_h + 1, (X.shape[1] - p_w) // s_w + 1, dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i * s_h:i * s_h + p_h, j * s_w:j * s_w + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y


def shift_image(X, dy, dx):
    """Move the content of X ([..., H, W]) down by dy and right by dx pixels, filling with zeros."""
    for name, value in (("dy", dy), ("dx", dx)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be a whole number of pixels, got {value!r}")
    out = torch.zeros_like(X)
    h, w = X.shape[-2:]
    if abs(dy) >= h or abs(dx) >= w:
        raise ValueError(f"shift ({dy}, {dx}) moves the whole {h}×{w} image out of view")
    src_y, dst_y = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0), h - max(-dy, 0))
    src_x, dst_x = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0), w - max(-dx, 0))
    out[..., dst_y, dst_x] = X[..., src_y, src_x]
    return out


def interior_gap(A, B, margin):
    """Largest |A - B| over [..., H, W] maps, leaving out `margin` rows/columns at every edge."""
    if A.shape != B.shape:
        raise ValueError(f"maps must have the same shape, got {list(A.shape)} and {list(B.shape)}")
    h, w = A.shape[-2:]
    if 2 * margin >= min(h, w):
        raise ValueError(f"margin {margin} leaves nothing of a {h}×{w} map")
    inner = (..., slice(margin, h - margin), slice(margin, w - margin))
    return (A[inner] - B[inner]).abs().max().item()


def learn_kernel(X, Y, kernel_shape, num_epochs, lr, seed=0, clear_grad=True):
    """Fit a kernel K so that corr2d(X, K) ≈ Y by gradient descent; (K, loss per epoch).

    `clear_grad=False` is the bug of chapter 1's exercise 1.4: the gradients add up over epochs.
    """
    torch.manual_seed(seed)
    K = torch.randn(kernel_shape, requires_grad=True)  # a random start
    losses = []
    for _ in range(num_epochs):
        loss = ((corr2d(X, K) - Y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            K -= lr * K.grad
            if clear_grad:
                K.grad.zero_()
        losses.append(loss.item())
    return K.detach(), losses

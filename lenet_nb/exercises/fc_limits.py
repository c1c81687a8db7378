"""Chapter 1's exercise checkers: cross-correlation, pooling, a shape, an edge kernel.

Each `check_*` takes what the learner wrote (a function, a module, a number) and returns a
`Verdict` ("✔ …" or "✘ …, not yet: <what is wrong and a hint>"); it never raises.
"""

import torch

from lenet_nb.exercises.checking import (
    NotYet,
    call,
    checker,
    expect_equal,
    expect_tensor,
    require_answer,
    require_shape,
)
from lenet_nb.lessons import conv

CHAPTER = 1
EXERCISES = {  # notebook order: exercise 1.n is the n-th name
    "corr2d": "complete the code",
    "horizontal_edges": "complete the code",
    "pool2d": "complete the code",
    "conv_pool_shape": "predict, then run",
}



def _call_or_hint(fn, *args, name, hints=()):
    """call(fn, *args), adding a hint to the report when the error text contains a known clue."""
    try:
        return call(fn, *args, name=name)
    except NotYet as problem:
        text = str(problem)
        for clues, message in hints:
            if any(clue in text for clue in clues):
                raise NotYet(f"{text}. Hint: {message}") from None
        raise


def _seeded(*shape, seed):
    """A small fixed random tensor, so every check uses the same inputs."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _same(a, b):
    """True when tensors a and b have one shape and (nearly) the same values."""
    return tuple(a.shape) == tuple(b.shape) and bool((a.double() - b.double()).abs().max() < 1e-4)


def _matmul_corr2d(X, K):
    """The typical slip of writing `window @ K` instead of `window * K`."""
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] @ K).sum()
    return Y


CORR2D_CASES = [(torch.arange(9.0).reshape(3, 3), torch.arange(4.0).reshape(2, 2)),
                (_seeded(4, 6, seed=1), _seeded(2, 3, seed=2)),
                (_seeded(5, 4, seed=3), _seeded(3, 1, seed=4))]

CORR2D_ERRORS = [
    (("cannot be converted to Scalar", "expand(", "setting an array element"),
     "each output value is ONE number: multiply the window by K element by element, then add "
     "the products up with `.sum()`"),
    (("must match the size of tensor",),
     "the window and K must have the same shape. Are height and width swapped? h, w = K.shape "
     "is (rows, columns): take rows i to i + h and columns j to j + w"),
    (("mat1 and mat2", "size mismatch"),
     "`@` is a matrix product; the window and the kernel are multiplied element by element (`*`)"),
]


def _check_corr2d_case(corr2d, X, K):
    """Raise NotYet, with the hint for the mistake it looks like, unless corr2d(X, K) is right."""
    (H, W), (h, w) = X.shape, K.shape
    expected = conv.corr2d(X, K)
    got = _call_or_hint(corr2d, X.clone(), K.clone(), name="corr2d", hints=CORR2D_ERRORS)
    hints = [
        (lambda g: tuple(g.shape) == (H - h, W - w),
         f"did you forget the + 1? A {H}×{W} input and a {h}×{w} kernel fit in "
         f"(H − h + 1) × (W − w + 1) positions"),
        (lambda g: h != w and tuple(g.shape) == (H - w + 1, W - h + 1),
         "height and width are swapped: K.shape is (rows, columns) = (h, w); rows go with "
         "X.shape[0], columns with X.shape[1]"),
        (lambda g: _same(g, conv.corr2d(X, K.flip(0, 1))),
         "you flipped the kernel: that is a true convolution. Cross-correlation (what nn.Conv2d "
         "computes) uses K as it is, without the flip"),
        (lambda g: _same(g, expected / (h * w)),
         "you averaged the products (`.mean()`); cross-correlation adds them up (`.sum()`)"),
        (lambda g: h == w and _same(g, _matmul_corr2d(X, K)),
         "`@` is a matrix product; multiply the window and K element by element (`*`)"),
        (lambda g: bool((g[-1] == 0).all() or (g[:, -1] == 0).all()),
         "the last row or column is still 0: loop over all of range(Y.shape[0]) and "
         "range(Y.shape[1])"),
    ]
    expect_tensor(got, expected, f"corr2d(X, K) for a {H}×{W} X and a {h}×{w} K", hints=hints)


@checker("corr2d")
def check_corr2d(corr2d):
    """Compare the learner's corr2d with lenet_nb.lessons.conv.corr2d on three fixed inputs."""
    for X, K in CORR2D_CASES:
        _check_corr2d_case(corr2d, X, K)
    return ("matches lenet_nb.lessons.conv.corr2d on a 3×3, a 4×6 and a 5×4 input "
            "(kernels 2×2, 2×3 and 3×1)")


def _pool_cases():
    """(X, pool_size): shuffled numbers, so no fixed place in a window always holds the max."""
    g = torch.Generator().manual_seed(5)
    return [(torch.randperm(16, generator=g).reshape(4, 4).float(), (2, 2)),
            (torch.randperm(30, generator=g).reshape(5, 6).float(), (2, 3))]


def _check_pool_case(pool2d, X, pool_size, mode):
    """Raise NotYet, with the hint for the mistake it looks like, unless pool2d is right."""
    (H, W), (p_h, p_w) = X.shape, pool_size
    other = "avg" if mode == "max" else "max"
    expected = conv.pool2d(X, pool_size, mode)
    got = call(pool2d, X.clone(), pool_size, mode, name="pool2d")
    hints = [
        (lambda g: tuple(g.shape) == (H - p_h + 1, W - p_w + 1),
         f"your windows overlap (stride 1): here they sit side by side, so output (i, j) starts "
         f"at row i * p_h and column j * p_w, and a {H}×{W} input gives H // p_h × W // p_w "
         f"values"),
        (lambda g: p_h != p_w and tuple(g.shape) == (H // p_w, W // p_h),
         "height and width are swapped: pool_size is (p_h, p_w) = (rows, columns)"),
        (lambda g: _same(g, conv.pool2d(X, pool_size, other)),
         f"you took the {other} in {mode} mode: compare `mode` with the strings 'max' and 'avg' "
         f"exactly"),
        (lambda g: mode == "avg" and _same(g, expected * p_h * p_w),
         "you summed each window: the average is the sum divided by p_h * p_w (`.mean()`)"),
        (lambda g: _same(g, conv.pool2d(X, pool_size, mode, 1)[:H // p_h, :W // p_w]),
         "the window of output (i, j) starts at row i * p_h and column j * p_w, not at row i and "
         "column j"),
    ]
    expect_tensor(got, expected, f"pool2d(X, {pool_size}, {mode!r}) for a {H}×{W} X", hints=hints)


@checker("pool2d")
def check_pool2d(pool2d):
    """Compare the learner's pool2d (windows side by side) with lenet_nb.lessons.conv.pool2d."""
    for X, pool_size in _pool_cases():
        for mode in ("max", "avg"):
            _check_pool_case(pool2d, X, pool_size, mode)
    return "matches lenet_nb.lessons.conv.pool2d in max and avg mode on a 4×4 and a 5×6 input"


CONV_POOL_SHAPE_HINTS = [
    (lambda g: tuple(g) == (1, 8, 28, 28),
     "that is the shape right after the convolution; the 2×2 pooling still halves height and "
     "width"),
    (lambda g: tuple(g) == (1, 8, 16, 16),
     "without padding a 5×5 kernel fits in 32 − 5 + 1 positions along each side, not 32"),
    (lambda g: tuple(g[2:]) == (14, 14) and g[1] != 8,
     "height and width are right; the number of channels after a convolution is its number of "
     "output channels"),
    (lambda g: g[0] != 1, "the batch size is not changed by a convolution or a pooling"),
    (lambda g: True, "one layer at a time: the convolution first (no padding, stride 1), then "
                     "the pooling (2×2 windows side by side)"),
]


@checker("conv_pool_shape", leaks=[
    r"1,\s*8,\s*14,\s*14", r"8\s*[×x]\s*14\s*[×x]\s*14"])
def check_conv_pool_shape(shape):
    """The predicted shape of [1, 3, 32, 32] after Conv2d(3, 8, kernel_size=5), 2×2 max pooling."""
    shape = require_shape(shape, "shape", ndim=4)  # (batch, channels, height, width)
    expect_equal(shape, (1, 8, 14, 14), "your shape", hints=CONV_POOL_SHAPE_HINTS,
                 reveal=False)
    return "right: the convolution gives 28×28 maps, the pooling halves them"


def _edge_test_pictures():
    """A picture with only horizontal edges, one with only vertical ones, a uniform one."""
    horizontal = torch.ones(8, 6)
    horizontal[3:6] = 0  # a dark band: edges between rows 2|3 and 5|6
    return horizontal, horizontal.T.contiguous(), torch.ones(8, 8)


@checker("horizontal_edges")
def check_horizontal_edges(K):
    """Apply the learner's kernel to a horizontal edge, a vertical edge and a uniform picture."""
    require_answer(K, "K_horizontal")
    if not isinstance(K, torch.Tensor):
        raise NotYet(f"K_horizontal should be a torch tensor, e.g. torch.tensor([[...], [...]]), "
                     f"got {type(K).__name__}")
    if K.dim() != 2 or not 1 <= K.shape[0] <= 4 or not 1 <= K.shape[1] <= 4:
        raise NotYet(f"K_horizontal should be a small 2-D kernel (at most 4×4), got shape "
                     f"{tuple(K.shape)}")
    K = K.float()
    horizontal, vertical, uniform = _edge_test_pictures()
    if K.tolist() in ([[1.0, -1.0]], [[-1.0, 1.0]]):
        raise NotYet("that is the vertical-edge detector from above: it compares a pixel with its "
                     "right-hand neighbour. Turn it on its side so that it compares a pixel with "
                     "the one below (shape (2, 1))")
    flat = conv.corr2d(uniform, K)
    if flat.abs().max() > 1e-6:
        raise NotYet(f"on a uniform picture your kernel gives {flat[0, 0].item():.4g} instead of "
                     f"0: an edge detector's weights must add up to 0 (yours add up to "
                     f"{K.sum().item():.4g})")
    if K.shape[0] == 1:
        raise NotYet("a kernel with one row never sees two rows at once, so it cannot notice "
                     "where one row differs from the next: give it two rows")
    if conv.corr2d(vertical, K).abs().max() > 1e-6:
        raise NotYet("your kernel also reacts to vertical edges: it should compare rows (above "
                     "against below), not columns")
    rows = sorted({int(r) for r in conv.corr2d(horizontal, K).abs().gt(1e-6).nonzero()[:, 0]})
    if not rows:
        raise NotYet("your kernel gives 0 on the horizontal edges too: it needs different "
                     "weights in different rows")
    return (f"finds the horizontal edges: on the test picture it responds in output rows {rows} "
            f"only, and gives 0 on a vertical edge and on a uniform picture")

"""Chapter 1's checkers (each returns a Verdict, never raises): cross-correlation with padding
and stride, edge kernels set and learned, pooling, a shape, pooling against a shift, a challenge."""

import torch
import torch.nn.functional as F
from torch import nn

from lenet_nb.exercises import challenge
from lenet_nb.exercises.checking import (
    NotStarted,
    NotYet,
    call,
    checker,
    expect_equal,
    expect_tensor,
    require_answer,
    require_shape,
)
from lenet_nb.lessons import conv, fc_limits

CHAPTER = 1
EXERCISES = {  # notebook order: exercise 1.n is the n-th name
    "corr2d": "complete the code",
    "corr2d_sp": "complete the code",
    "horizontal_edges": "complete the code",
    "learn_edge_kernel": "find the bug",
    "pool2d": "complete the code",
    "strided_shape": "predict, then run",
    "pool_shift": "change and observe",
    "fc_challenge": "challenge",
}


def _call_or_hint(fn, *args, name, hints=(), **kwargs):
    """call(fn, *args), adding a hint to the report when the error text contains a known clue."""
    try:
        return call(fn, *args, name=name, **kwargs)
    except NotYet as problem:
        text = str(problem)
        for clues, message in hints:
            if any(clue in text for clue in clues):
                raise NotYet(f"{text}. Hint: {message}") from None
        raise


def _seeded(*shape, seed):  # a small fixed random tensor, so every check uses the same inputs
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _same(a, b):
    """True when tensors a and b have one shape and (nearly) the same values."""
    return tuple(a.shape) == tuple(b.shape) and bool((a.double() - b.double()).abs().max() < 1e-4)


def _close(a, b, tol=1e-6):
    """True when two lists of numbers have one length and (nearly) the same values."""
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


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
        # `(window @ K).sum()` multiplies each window column b by row b of K, summed: K.sum(1)
        (lambda g: h == w and _same(g, conv.corr2d(X, K.sum(1).expand(h, w))),
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


# corr2d_sp: (X shape, K shape, padding, stride); the third needs the floor, the fourth's kernel
# fits only after padding
SP_CASES = [((5, 5), (3, 3), (1, 1), (1, 1)), ((7, 8), (3, 2), (2, 0), (2, 3)),
            ((6, 6), (2, 2), (0, 1), (3, 1)), ((4, 4), (5, 5), (1, 1), (1, 1))]


def _padded_conv(X, K, padding, stride, sides="both", mode="constant"):
    """F.conv2d of X with K after padding (both sides, or only before/after) and a stride."""
    (p_h, p_w), (s_h, s_w) = padding, stride
    pad = {"both": (p_w, p_w, p_h, p_h), "before": (p_w, 0, p_h, 0),
           "after": (0, p_w, 0, p_h)}[sides]
    return F.conv2d(F.pad(X[None, None], pad, mode=mode), K[None, None], stride=(s_h, s_w))[0, 0]


def _sp_hints(X, K, padding, stride, expected):
    (n_h, n_w), (k_h, k_w), (p_h, p_w), (s_h, s_w) = X.shape, K.shape, padding, stride
    ceil = ((n_h + 2 * p_h - k_h + s_h - 1) // s_h + 1, (n_w + 2 * p_w - k_w + s_w - 1) // s_w + 1)
    short = {(expected.shape[0] - 1, expected.shape[1]), (expected.shape[0], expected.shape[1] - 1),
             (expected.shape[0] - 1, expected.shape[1] - 1)}
    one_side = [_padded_conv(X, K, padding, stride, sides) for sides in ("before", "after")]
    full = _padded_conv(X, K, padding, (1, 1))
    return [  # the exact look-alikes first, then the shapes
        (lambda g: any(_same(g, v) for v in one_side),
         "zeros go on both sides: p_h rows above and below, p_w columns left and right"),
        (lambda g: _same(g, full[:expected.shape[0], :expected.shape[1]]),
         "where does the window of output (i, j) start in the padded input?"),
        (lambda g: _same(g, _padded_conv(X, K, padding[::-1], stride[::-1])),
         "padding and stride are (rows, columns)"),
        (lambda g: _same(g, _padded_conv(X, K, padding, stride, mode="replicate")),
         "pad with zeros, not copies of the border"),
        (lambda g: tuple(g.shape) == ceil != tuple(expected.shape),
         "a window that would stick out of the padded input is not used: the last window must "
         "fit entirely"),
        (lambda g: tuple(g.shape) in short,
         "count again: the first window starts at row 0, the last may end exactly at the padded "
         "edge"),
        (lambda g: tuple(g.shape) == tuple(full.shape),
         "the window moves s_h rows and s_w columns at a time, not one"),
    ]


@checker("corr2d_sp")
def check_corr2d_sp(corr2d_sp):
    """corr2d_sp(X, K, padding, stride) against F.conv2d on four cases, and its defaults."""
    for i, (shape, k_shape, padding, stride) in enumerate(SP_CASES):
        X, K = _seeded(*shape, seed=10 + i).double(), _seeded(*k_shape, seed=20 + i).double()
        given = X.clone()
        got = _call_or_hint(corr2d_sp, given, K.clone(), padding, stride, name="corr2d_sp",
                            hints=CORR2D_ERRORS)
        if not torch.equal(given, X):
            raise NotYet("your function changed its input X: pad a new tensor, never X itself")
        expected = _padded_conv(X, K, padding, stride)
        expect_tensor(got, expected, f"corr2d_sp(X, K, padding={padding}, stride={stride}) for "
                      f"a {shape[0]}×{shape[1]} X and a {k_shape[0]}×{k_shape[1]} K",
                      hints=_sp_hints(X, K, padding, stride, expected))
    X, K = CORR2D_CASES[1]
    expect_tensor(call(corr2d_sp, X.clone(), K.clone(), name="corr2d_sp"), conv.corr2d(X, K),
                  "corr2d_sp(X, K) with the default padding and stride (it equals corr2d)")
    return ("matches F.conv2d with padding and stride on four inputs (one where the last window "
            "would stick out, one where the kernel fits only after padding) and equals corr2d "
            "with the defaults")


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
         f"your windows overlap (they move 1 pixel at a time): here they sit side by side, "
         f"so a {H}×{W} input gives fewer outputs"),
        (lambda g: p_h != p_w and tuple(g.shape) == (H // p_w, W // p_h),
         "height and width are swapped: pool_size is (p_h, p_w) = (rows, columns)"),
        (lambda g: _same(g, conv.pool2d(X, pool_size, other)),
         f"you took the {other} in {mode} mode: compare `mode` with the strings 'max' and 'avg' "
         f"exactly"),
        (lambda g: mode == "avg" and _same(g, expected * p_h * p_w),
         "you summed each window: the average is the sum divided by p_h * p_w (`.mean()`)"),
        (lambda g: _same(g, conv.pool2d(X, pool_size, mode, 1)[:H // p_h, :W // p_w]),
         "your window of output (i, j) starts at row i and column j: where does it start when "
         "the windows sit side by side?"),
    ]
    expect_tensor(got, expected, f"pool2d(X, {pool_size}, {mode!r}) for a {H}×{W} X", hints=hints)


@checker("pool2d")
def check_pool2d(pool2d):
    """Compare the learner's pool2d (windows side by side) with lenet_nb.lessons.conv.pool2d."""
    for X, pool_size in _pool_cases():
        for mode in ("max", "avg"):
            _check_pool_case(pool2d, X, pool_size, mode)
    return "matches lenet_nb.lessons.conv.pool2d in max and avg mode on a 4×4 and a 5×6 input"


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
    # fresh pictures per check: a dark band in rows 3-5 (edges between rows 2|3 and 5|6), the same
    # band turned vertical, and a uniform picture
    horizontal = torch.ones(8, 6).index_fill_(0, torch.tensor([3, 4, 5]), 0)
    vertical, uniform = horizontal.T.contiguous(), torch.ones(8, 8)
    if K.tolist() in ([[1.0, -1.0]], [[-1.0, 1.0]]):
        raise NotYet("that is the vertical-edge detector from above: it compares a pixel with its "
                     "right-hand neighbour. Which neighbour must a horizontal edge's pixel be "
                     "compared with?")
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


def _edge_pair():
    """The chapter's random 8×8 input and what the vertical-edge kernel [[1, -1]] makes of it."""
    X = torch.randn(8, 8, generator=torch.Generator().manual_seed(1))
    return X, conv.corr2d(X, torch.tensor([[1.0, -1.0]]))


LEARN_ERRORS = [
    (("'NoneType' object has no attribute 'zero_'",),
     "at the first epoch `K_hat.grad` does not exist yet (backward has not run): clear it after "
     "it was used"),
    (("does not require grad",),
     "`K_hat = K_hat - ...` makes a new tensor that autograd no longer follows: change K_hat in "
     "place (`-=`)"),
    (("leaf Variable that requires grad",),
     "an in-place change of K_hat must happen inside `with torch.no_grad():`"),
]


@checker("learn_edge_kernel")
def check_learn_edge_kernel(learn_edge_kernel):
    """Find the bug: the same losses and kernel as conv.learn_kernel, for seeds 0 and 3."""
    X, Y = _edge_pair()
    with torch.random.fork_rng():  # the seeded runs below leave the notebook's generator as it was
        return _learn_edge_kernel_seeds(learn_edge_kernel, X, Y)


def _learn_edge_kernel_seeds(learn_edge_kernel, X, Y):
    for seed in (0, 3):
        got = _call_or_hint(learn_edge_kernel, X.clone(), Y.clone(), seed=seed,
                            name="learn_edge_kernel", hints=LEARN_ERRORS)
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise NotYet(f"`learn_edge_kernel` should return the pair (K_hat, losses), got "
                         f"{type(got).__name__}")
        K_hat, losses = torch.as_tensor(got[0]).detach().reshape(-1), [float(v) for v in got[1]]
        K_ref, losses_ref = conv.learn_kernel(X, Y, (1, 2), 25, 0.1, seed=seed)
        if _close(losses, losses_ref) and torch.allclose(K_hat, K_ref.reshape(-1),
                                                               atol=1e-5):
            continue
        _, losses_bug = conv.learn_kernel(X, Y, (1, 2), 25, 0.1, seed=seed, clear_grad=False)
        start = conv.learn_kernel(X, Y, (1, 2), 0, 0.1, seed=seed)[0].reshape(-1)
        if _close(losses, losses_bug):
            raise NotYet(f"the loss falls, then jumps back up, again and again (epochs 1-6: "
                         f"{', '.join(f'{v:.3f}' for v in losses[:6])}), and the kernel ends at "
                         f"{[round(v, 2) for v in K_hat.tolist()]}, not [1, -1]. Hint: from epoch "
                         f"2 on, is the step your loop takes the gradient of that epoch's loss? "
                         f"Print `K_hat.grad` beside a fresh gradient of the same loss")
        if torch.allclose(K_hat, start):
            raise NotYet("K_hat never moved. Hint: update it in place, inside `with "
                         "torch.no_grad():`, after `loss.backward()`")
        if _close(losses[-1:], losses_ref[-1:], 1e-3):
            raise NotYet("your kernel ends where the reference's does but the losses on the way "
                         "differ: keep lr, num_epochs and the seed as given, change only the bug")
        raise NotYet(f"with seed {seed} your losses differ from the reference loop's (last: "
                     f"{losses[-1]:.4g}, kernel {[round(v, 3) for v in K_hat.tolist()]}): change "
                     f"only the line that is wrong")
    return (f"the same 25 losses and kernel as conv.learn_kernel for seeds 0 and 3: from seed 3 "
            f"it settles on {[round(v, 3) for v in K_ref.reshape(-1).tolist()]}")


# [1, 3, 32, 32] -> Conv2d(3, 8, kernel_size=3, stride=2, padding=2): floor((32 + 4 - 3) / 2) + 1
# = 17 -> 2×2 max pooling: 8
STRIDED_SHAPE = (1, 8, 8, 8)
STRIDED_SHAPE_HINTS = [
    (lambda g: len(g) != 4, "four numbers: (batch, channels, height, width)"),
    (lambda g: g[0] != 1, "the batch size is not changed by a convolution or a pooling"),
    (lambda g: g[1] != 8, "a convolution's output has one channel per kernel: how many kernels "
                          "has this one?"),
    (lambda g: 7 in g[2:], "the padding adds rows and columns of zeros around the image before "
                           "the window slides: count positions in the padded image"),
    (lambda g: 9 in g[2:], "a window that would stick out past the padded input is not used: "
                           "round down when you count positions"),
    (lambda g: 17 in g[2:], "follow both layers, one at a time: is your 17 the side before or "
                            "after the pooling?"),
    (lambda g: 16 in g[2:], "the convolution changes the side before the pooling halves it"),
    (lambda g: max(g[2:]) > 17, "a stride of 2 moves the window 2 pixels at a time"),
    (lambda g: True, "one layer at a time: the convolution (padding 2 on every side, stride 2), "
                     "then the 2×2 pooling"),
]


@checker("strided_shape", leaks=[r"1,\s*8,\s*8,\s*8", r"8\s*[×x]\s*8\s*[×x]\s*8"])
def check_strided_shape(shape):
    """Predict: [1, 3, 32, 32] after Conv2d(3, 8, 3, stride=2, padding=2) and 2×2 max pooling."""
    got = require_shape(shape, "shape")  # (batch, channels, height, width)
    expect_equal(got, STRIDED_SHAPE, "your shape", hints=STRIDED_SHAPE_HINTS, reveal=False)
    return ("(1, 8, 8, 8): the padded image is 36×36, the stride-2 window fits in "
            "⌊(36 − 3) / 2⌋ + 1 = 17 positions per side, and the pooling keeps ⌊17 / 2⌋ = 8")


POOL_SHIFT_WHY = {"b": "averaging is what average pooling does; this run takes the maximum",
                  "c": "a pooling layer has no weights at all"}


@checker("pool_shift")
def check_pool_shift(observed_pool, wider_keeps_more, why):
    """Change and observe: answers graded against the learner's own recorded pooling runs."""
    if not isinstance(observed_pool, dict) or len(observed_pool) < 2:
        held = sorted(observed_pool) if isinstance(observed_pool, dict) else observed_pool
        raise NotStarted(f"`observed_pool` holds the window sizes {held!r}: add at least one "
                         f"more to `pool_sizes` and run that cell again")
    edges, shifted = fc_limits.shifted_edge_maps(100)
    for p, value in observed_pool.items():
        if not (isinstance(value, float) and abs(value - fc_limits.pooled_unchanged_share(
                edges, shifted, p)) < 1e-9):
            raise NotYet(f"`observed_pool[{p!r}]` is not what {p}×{p} max pooling gives on the "
                         f"chapter's 100 images: change only `pool_sizes` and run that cell "
                         f"again")
    if not isinstance(require_answer(wider_keeps_more, "wider_keeps_more"), bool):
        raise NotYet(f"`wider_keeps_more` is True or False, got {wider_keeps_more!r}")
    sizes = sorted(observed_pool)
    shares = [observed_pool[p] for p in sizes]
    grows, falls = (all(op(b, a) for a, b in zip(shares, shares[1:]))
                    for op in (float.__gt__, float.__lt__))
    if (grows or falls) and wider_keeps_more != grows:
        raise NotYet("look at your run's numbers again, from the smallest window to the largest")
    choice = str(require_answer(why, "why")).strip().lower()
    if choice not in ("a", "b", "c"):
        raise NotYet(f"`why` is one of 'a', 'b' or 'c', got {why!r}")
    if choice != "a":
        raise NotYet(f"not ({choice}): {POOL_SHIFT_WHY[choice]}")
    trend = ("grows" if grows else "falls" if falls else
             "goes up and down (so either answer to `wider_keeps_more` counts)")
    return (f"in your run the unchanged share {trend} from {shares[0]:.1%} ({sizes[0]}×"
            f"{sizes[0]}) to {shares[-1]:.1%} ({sizes[-1]}×{sizes[-1]}): the maximum of a wider "
            f"window stays inside it for more of the one-pixel moves")


# --- 1.8 challenge: the MLP's accuracy with a twentieth of its parameters ----------------------


def _dense_on_pixels_hint(net, params, macs, value):
    """For a broken parameter cap whose first layer is dense on the raw image."""
    first = next((m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))), None)
    dense = value is None and isinstance(first, nn.Linear) and first.in_features >= 784
    return ("a dense layer on the raw image costs 784 weights per unit: what did section 2 say "
            "is cheaper?") if dense else None


CHALLENGE = challenge.ChallengeSpec(
    "fc_challenge", "fc_limits", "FashionMNIST", target=0.88, budget=60.0,
    solution=fc_limits.challenge_train, max_params=10_000, hint=_dense_on_pixels_hint)


@checker("fc_challenge")
def check_fc_challenge(train):
    """Challenge: the learner's train(X, y, seconds), scored on 10,000 held-out images."""
    return challenge.score(CHALLENGE, train)

"""The checkers of every exercise in chapters 1–4, one section per chapter.

Each `check_*` takes what the learner wrote (a function, a module, a number) and returns a
`lenet_nb.checking.Verdict`: "✔ …" or "✘ …, not yet: <what is wrong and a hint>". A checker
compares with the package's reference on small inputs and never raises, whatever it is given.
"""

from lenet_nb.checking import NotYet, call, checker, expect_equal, expect_tensor, require_answer

__all__ = ["NotYet", "call", "checker", "expect_equal", "expect_tensor", "require_answer"]

# ---------------------------------------------------------------- Chapter 1: convolutions

# This section's imports sit here, so that each chapter's section merges on its own.
import torch  # noqa: E402

from lenet_nb import conv  # noqa: E402


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
    """Compare the learner's corr2d with lenet_nb.conv.corr2d on three fixed inputs."""
    for X, K in CORR2D_CASES:
        _check_corr2d_case(corr2d, X, K)
    return ("matches lenet_nb.conv.corr2d on a 3×3, a 4×6 and a 5×4 input "
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
    """Compare the learner's pool2d (windows side by side) with lenet_nb.conv.pool2d."""
    for X, pool_size in _pool_cases():
        for mode in ("max", "avg"):
            _check_pool_case(pool2d, X, pool_size, mode)
    return "matches lenet_nb.conv.pool2d in max and avg mode on a 4×4 and a 5×6 input"


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


@checker("conv_pool_shape")
def check_conv_pool_shape(shape):
    """The predicted shape of [1, 3, 32, 32] after Conv2d(3, 8, kernel_size=5), 2×2 max pooling."""
    require_answer(shape, "shape")
    if not isinstance(shape, (tuple, list, torch.Size)) or len(shape) != 4:
        raise NotYet(f"write the shape as a tuple of 4 numbers (batch, channels, height, width), "
                     f"got {shape!r}")
    expect_equal(tuple(shape), (1, 8, 14, 14), "your shape", hints=CONV_POOL_SHAPE_HINTS,
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


# ---------------------------------------------------------------- Chapter 2: shapes and sizes

# This section's imports sit here, so that each chapter's section merges on its own.
import torch  # noqa: E402
from torch import nn  # noqa: E402

from lenet_nb.anatomy import receptive_field as ref_receptive_field  # noqa: E402
from lenet_nb.checking import STUB_HINT  # noqa: E402
from lenet_nb.models import count_parameters, get_model  # noqa: E402
from lenet_nb.shapes import leaf_layers, shape_table  # noqa: E402

C1_S2_SHAPE = (1, 6, 14, 14)  # d2l LeNet, 1×1×28×28 input, after Conv2d(pad 2) + AvgPool2d(2, 2)
LINEAR1_PARAMS = 16 * 5 * 5 * 120 + 120  # the first Linear of the d2l LeNet: weights + biases


def _as_shape(value):
    """A tuple of ints from a tuple, list or torch.Size, else None."""
    if isinstance(value, (tuple, list, torch.Size)) and all(isinstance(v, int) for v in value):
        return tuple(value)
    return None


@checker("c1_s2_shape")
def check_c1_s2_shape(c1_s2_shape):
    """Predict-then-run: the shape after the first convolution and pooling of the d2l LeNet."""
    require_answer(c1_s2_shape, "c1_s2_shape")
    shape = _as_shape(c1_s2_shape)
    if shape is None:
        raise NotYet(f"write the shape as a tuple of whole numbers, like (1, 2, 3, 4); got "
                     f"{c1_s2_shape!r}")
    hints = [
        (lambda s: len(s) == 3, "PyTorch keeps the batch dimension: [batch, channels, height, "
                                "width], four numbers"),
        (lambda s: len(s) == 4 and s[-1] in (6, 16) and s[1] == s[2],
         "channels come second in PyTorch ([batch, channels, height, width]), not last"),
        (lambda s: 12 in s or 24 in s, "24 and 12 are what you get without padding; this C1 pads "
                                       "by 2, which keeps 28×28 before the pooling"),
        (lambda s: 28 in s, "28×28 is the map right after the padded convolution; the 2×2 "
                            "pooling with stride 2 comes next"),
        (lambda s: 16 in s, "16 channels come from the second convolution; the first has 6 "
                            "kernels"),
        (lambda s: len(s) == 4 and s[0] != 1, "the batch holds one image"),
    ]
    expect_equal(shape, C1_S2_SHAPE, "your shape", hints=hints, reveal=False)
    return f"{C1_S2_SHAPE}: the padded 5×5 convolution keeps 28×28, the pooling halves it"


@checker("linear1_params")
def check_linear1_params(linear1_params):
    """Predict-then-run: the parameter count of the d2l LeNet's first linear layer."""
    require_answer(linear1_params, "linear1_params")
    if isinstance(linear1_params, bool) or not isinstance(linear1_params, (int, float)):
        raise NotYet(f"write one number; got {linear1_params!r}")
    hints = [
        (lambda n: n == 400 * 120, "that is the weights only: did you forget the bias? Each "
                                   "output unit has one"),
        (lambda n: n in (256 * 120, 256 * 120 + 120),
         "16·4·4 = 256 inputs is the unpadded variant; this network hands over 16·5·5"),
        (lambda n: n in (400, 120, 520), "count one weight per (input, output) pair, plus the "
                                         "biases"),
        (lambda n: n == 400 * 121 or n == 401 * 121, "one bias per output unit, not per input"),
        (lambda n: n == 61_706, "that is the whole network; only the first linear layer here"),
    ]
    expect_equal(linear1_params, LINEAR1_PARAMS, "your count", hints=hints, reveal=False)
    return f"{LINEAR1_PARAMS:,} = 400·120 weights + 120 biases"


def _layer_hint(i, got, want, linear_no):
    """A specific message for the first leaf layer that differs from the reference."""
    name, want_name = type(got).__name__, type(want).__name__
    if name != want_name:
        why = {
            ("AvgPool2d", "MaxPool2d"): "this variant pools with the maximum: nn.MaxPool2d",
            ("ReLU", "Sigmoid"): "this variant keeps LeNet's sigmoid: nn.Sigmoid()",
            ("Tanh", "Sigmoid"): "this variant keeps LeNet's sigmoid: nn.Sigmoid()",
        }.get((name, want_name), f"expected nn.{want_name} there")
        return f"layer {i} is {name}: {why}"
    if isinstance(want, nn.Conv2d):
        if got.padding != want.padding:
            return (f"layer {i} (Conv2d) has padding={got.padding[0]}: this variant has no "
                    f"padding at all, drop the padding argument")
        for field in ("in_channels", "out_channels", "kernel_size", "stride"):
            if getattr(got, field) != getattr(want, field):
                return (f"layer {i} (Conv2d) has {field}={getattr(got, field)}, expected "
                        f"{getattr(want, field)}")
    if isinstance(want, nn.MaxPool2d):
        for field in ("kernel_size", "stride"):
            if getattr(got, field) != getattr(want, field):
                return (f"layer {i} (MaxPool2d) has {field}={getattr(got, field)}, expected "
                        f"{getattr(want, field)}: 2×2 windows, stride 2")
    if isinstance(want, nn.Linear):
        if got.in_features == 400 and want.in_features == 256:
            return (f"Linear #{linear_no} (layer {i}) has in_features=400 = 16·5·5, the padded "
                    f"network's size; without padding the conv block hands over 16·4·4 = 256")
        if (got.in_features, got.out_features) != (want.in_features, want.out_features):
            return (f"Linear #{linear_no} (layer {i}) is {got.in_features} -> "
                    f"{got.out_features}, expected {want.in_features} -> {want.out_features}")
    return None


def _leaves(net):
    return [m for _, m in leaf_layers(net)]


@checker("unpadded_lenet")
def check_unpadded_lenet(net):
    """Complete the code: the LeNet variant without padding and with max pooling."""
    if callable(net) and not isinstance(net, nn.Module):
        net = call(net, name=getattr(net, "__name__", "your function"))
    require_answer(net, "net")
    if not isinstance(net, nn.Module):
        raise NotYet(f"expected a network (an nn.Sequential), got {type(net).__name__}")
    ref, X = get_model("learn14"), torch.rand(2, 1, 28, 28, generator=torch.Generator()
                                                 .manual_seed(0))
    got, want = _leaves(net), _leaves(ref)
    for i, (g, w) in enumerate(zip(got, want)):
        linear_no = sum(isinstance(m, nn.Linear) for m in want[: i + 1])
        problem = _layer_hint(i, g, w, linear_no)
        if problem:
            raise NotYet(problem)
    if len(got) != len(want):
        names = " ".join(type(m).__name__ for m in want)
        raise NotYet(f"your network has {len(got)} layers, the variant has {len(want)}: {names}")
    rows = call(shape_table, net, X, name="net")
    for i, ((kind, shape), (_, ref_shape)) in enumerate(zip(rows, shape_table(ref, X))):
        expect_equal(shape, ref_shape, f"the output shape of layer {i} ({kind})")
    n, n_ref = count_parameters(net), count_parameters(ref)
    expect_equal(n, n_ref, "your parameter count")
    # same weights, same outputs: copy the learner's parameters into the reference, in order
    with torch.no_grad():
        for p_ref, p in zip(ref.parameters(), net.parameters()):
            p_ref.copy_(p)
        expect_tensor(net(X), ref(X), "your network's output for the same weights")
    return (f"{len(got)} layers, shapes match down to {list(rows[-1][1])}, {n:,} parameters, "
            f"same outputs as the reference for the same weights")


def _rf_variants(windows):
    """What the typical slips compute on a stack of (k, s) windows."""
    r_no_jump = r_no_mult = r_k_times_j = r_late = 1
    j = j_late = 1
    for k, s in windows:
        r_no_jump += k - 1  # the jump never grows
        r_no_mult += k - 1  # j tracked but not used in r
        r_k_times_j += k * j
        j_late *= s  # j updated before r uses it
        r_late += (k - 1) * j_late
        j *= s
    return {(r_no_jump, 1): "the jump never grew: after a layer of stride s, neighbouring units "
                            "are s times further apart, so multiply j by s",
            (r_no_mult, j): "r grows by (k − 1)·j, not k − 1: a window's taps are j input "
                            "pixels apart",
            (r_k_times_j, j): "a window of k taps spans (k − 1) gaps, so r grows by (k − 1)·j, "
                              "not k·j",
            (r_late, j): "you multiplied j by s before growing r: use the jump of the layer's "
                         "input (j_in), then update it"}


RF_CASES = ([(5, 1), (2, 2), (5, 1), (2, 2)], [(3, 1), (3, 1)], [(2, 2), (3, 1)],
            [(3, 2), (3, 2), (3, 1)], [])


@checker("receptive_field")
def check_receptive_field(receptive_field):
    """Complete the code: (r, j) after a stack of (kernel size, stride) windows."""
    for windows in RF_CASES:
        got = call(receptive_field, list(windows), name="receptive_field")
        if isinstance(got, (tuple, list)) and any(v is Ellipsis for v in got):
            raise NotYet(f"`r` or `j` is still `...`: {STUB_HINT}")
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise NotYet(f"return the pair (r, j); for {windows} you returned {got!r}")
        wrong = _rf_variants(windows)
        expect_equal(tuple(got), ref_receptive_field(windows),
                     f"(r, j) for the windows {windows}",
                     hints=[(lambda g, v=v: tuple(g) == v, msg) for v, msg in wrong.items()])
    return "(16, 4) for LeNet's C1, S2, C3, S4: an S4 unit sees 16×16 input pixels"


# ---------------------------------------------------------------- Chapter 3: training
# isort: split
import torch  # noqa: E402

# evaluate_accuracy: 23 samples in batches of 10, 10 and 3, so a per-batch mean is visibly off.
# Sample i holds i in its single pixel; its label is i % 3; the eval-mode net gets samples
# 0-15 and 20 right (batches: 10/10, 6/10, 1/3), i.e. 17 of 23.
_EVAL_N, _EVAL_BATCH, _EVAL_CLASSES = 23, 10, 3
_EVAL_RIGHT = set(range(16)) | {20}


class _ProbeNet(torch.nn.Module):
    """Fixed scores per sample; remembers each forward pass's mode and gradient tracking."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))  # one parameter, so .parameters() works
        idx = torch.arange(_EVAL_N)
        labels = idx % _EVAL_CLASSES
        pred = torch.where(torch.tensor([i in _EVAL_RIGHT for i in range(_EVAL_N)]), labels,
                           (labels + 1) % _EVAL_CLASSES)
        self.eval_scores = torch.nn.functional.one_hot(pred, _EVAL_CLASSES).float()
        # in training mode the net behaves like a badly dropped-out one: always class 0
        self.train_scores = torch.nn.functional.one_hot(torch.zeros_like(pred),
                                                        _EVAL_CLASSES).float()
        self.seen_training, self.seen_grad = False, False

    def forward(self, X):
        self.seen_training |= self.training
        self.seen_grad |= torch.is_grad_enabled()
        scores = self.train_scores if self.training else self.eval_scores
        return self.scale * scores[X.reshape(len(X), -1)[:, 0].long()]


def _eval_data():
    from lenet_nb.data import TensorBatches

    idx = torch.arange(_EVAL_N)
    return TensorBatches(idx.float().reshape(-1, 1, 1, 1), idx % _EVAL_CLASSES, _EVAL_BATCH)


def _as_number(got, name):
    """A learner's returned number as a float; tensors and non-numbers get their own report."""
    if isinstance(got, torch.Tensor):
        raise NotYet(f"`{name}` returned a tensor ({got!r}); return a plain Python float, "
                     f"e.g. with `float(...)` or `.item()`, so it prints and adds like a number")
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise NotYet(f"`{name}` should return a number, got {type(got).__name__}")
    return float(got)


@checker("evaluate_accuracy")
def check_evaluate_accuracy(evaluate_accuracy):
    """Per-sample accuracy on 23 samples (batches 10, 10, 3), eval mode, no gradients."""
    from lenet_nb.train import evaluate_accuracy as reference

    net, data = _ProbeNet(), _eval_data()
    net.train()  # as it would be right after a training epoch
    got = _as_number(call(evaluate_accuracy, net, data, name="evaluate_accuracy"),
                     "evaluate_accuracy")
    if net.seen_training:
        raise NotYet("the net was left in training mode: call `net.eval()` before the loop "
                     "(dropout and batch norm behave differently while training)")
    if net.seen_grad:
        raise NotYet("the forward passes tracked gradients: wrap the loop in "
                     "`with torch.no_grad():` (evaluation needs none; they cost memory and time)")
    expected = reference(_ProbeNet(), data)
    per_batch = [(10, 10), (6, 10), (1, 3)]  # (correct, size) of each batch
    correct = sum(c for c, _ in per_batch)
    batch_mean = sum(c / n for c, n in per_batch) / len(per_batch)
    expect_equal(round(got, 6), round(expected, 6), "your accuracy on the checker's 23 samples",
                 hints=[
                     (lambda g: g == round(batch_mean, 6),
                      "your accuracy is averaged per batch: the last batch holds only 3 samples "
                      "but counts as much as a full one. Count correct predictions and divide "
                      "by the number of samples"),
                     (lambda g: g == round(correct / (len(per_batch) * _EVAL_BATCH), 6),
                      "you divided by batches x batch size, which counts samples the short last "
                      "batch does not have: divide by the number of samples (add up y.numel())"),
                     (lambda g: g == correct,
                      "that is the number of correct predictions: divide it by the number of "
                      "samples"),
                     (lambda g: g == round(1 / 3, 6),
                      "that is the last batch's accuracy alone: add up over all batches"),
                 ])
    return f"{correct} of {_EVAL_N} right = {expected:.4f}, counted per sample in eval mode"


# train_epoch: a linear layer on 2x2 "images", 10 samples in batches of 4, 4 and 2.
_TRAIN_N, _TRAIN_BATCH, _TRAIN_LR = 10, 4, 0.5


class _ModeProbe(torch.nn.Module):
    """Passes its input through; remembers whether any forward pass ran in eval mode."""

    def __init__(self):
        super().__init__()
        self.seen_eval = False

    def forward(self, X):
        self.seen_eval |= not self.training
        return X


def _train_setup():
    """(net, train_iter, loss, updater): the same fresh net and data on every call."""
    from lenet_nb.data import TensorBatches

    g = torch.Generator().manual_seed(0)
    X = torch.randn(_TRAIN_N, 1, 2, 2, generator=g)
    y = torch.randint(0, 3, (_TRAIN_N,), generator=g)
    torch.manual_seed(0)
    net = torch.nn.Sequential(_ModeProbe(), torch.nn.Flatten(), torch.nn.Linear(4, 3))
    net.eval()  # as it would be right after evaluate_accuracy: train_epoch must switch back
    updater = torch.optim.SGD(net.parameters(), lr=_TRAIN_LR)
    return net, TensorBatches(X, y, _TRAIN_BATCH), torch.nn.CrossEntropyLoss(), updater


def _variant_epoch(zero_grad):
    """The reference steps with or without zero_grad; (net, batch losses, correct, sizes)."""
    net, data, loss, updater = _train_setup()
    losses, correct, sizes = [], [], []
    for X, y in data:
        y_hat = net(X)
        batch_loss = loss(y_hat, y)
        if zero_grad:
            updater.zero_grad()
        batch_loss.backward()
        updater.step()
        losses.append(batch_loss.item())
        correct.append(int((y_hat.argmax(dim=1) == y).sum()))
        sizes.append(y.numel())
    return net, losses, correct, sizes


def _same_params(a, b):
    return all(torch.allclose(p, q, atol=1e-6) for p, q in zip(a.parameters(), b.parameters()))


@checker("train_epoch")
def check_train_epoch(train_epoch):
    """Parameters, mean loss and accuracy after one epoch equal the reference loop's."""
    from lenet_nb.loop import train_epoch as reference

    net, data, loss, updater = _train_setup()
    got = call(train_epoch, net, data, loss, updater, name="train_epoch")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise NotYet(f"`train_epoch` should return a pair (mean loss, accuracy), got "
                     f"{type(got).__name__}")
    got_loss = _as_number(got[0], "train_epoch (its mean loss)")
    got_acc = _as_number(got[1], "train_epoch (its accuracy)")
    if net[0].seen_eval:
        raise NotYet("the net ran in evaluation mode: call `net.train()` before the loop (the "
                     "net may come from evaluate_accuracy, which switched it to eval mode)")
    ref_net, ref_data, ref_loss, ref_updater = _train_setup()
    expected_loss, expected_acc = reference(ref_net, ref_data, ref_loss, ref_updater)
    start, *_ = _train_setup()
    no_zero = _variant_epoch(zero_grad=False)[0]
    _, losses, correct, sizes = _variant_epoch(zero_grad=True)
    if not _same_params(net, ref_net):
        grads = [p.grad for p in net.parameters()]
        if _same_params(net, start):
            if all(g is None or not g.any() for g in grads):
                raise NotYet("the parameters did not change: the gradients were cleared before "
                             "`updater.step()` could use them. Order: zero_grad, backward, step")
            raise NotYet("the parameters did not change although gradients were computed: "
                         "did you forget `updater.step()`?")
        if _same_params(net, no_zero):
            raise NotYet("the gradients accumulate from batch to batch: call "
                         "`updater.zero_grad()` before `l.backward()` in every step")
        raise NotYet("after the epoch the parameters differ from the reference loop's: each "
                     "batch needs y_hat = net(X), l = loss(y_hat, y), zero_grad, backward, step")
    n = sum(sizes)
    expect_equal(round(got_loss, 5), round(expected_loss, 5), "your mean training loss", hints=[
        (lambda g: g == round(sum(losses) / len(losses), 5),
         "your loss is averaged per batch: the loss is a batch mean, so weight each by its "
         "batch size (`l.item() * y.numel()`) and divide the sum by the number of samples"),
        (lambda g: g == round(sum(v * s for v, s in zip(losses, sizes)), 5),
         "that is the sum over samples: divide it by the number of samples"),
        (lambda g: g == round(losses[-1], 5), "that is the last batch's loss alone: add up "
                                              "every batch's loss times its size"),
    ])
    expect_equal(round(got_acc, 6), round(expected_acc, 6), "your training accuracy", hints=[
        (lambda g: g == round(sum(c / s for c, s in zip(correct, sizes)) / len(sizes), 6),
         "your accuracy is averaged per batch: count correct predictions and divide by the "
         "number of samples"),
        (lambda g: g == sum(correct), "that is the number of correct predictions: divide it "
                                      "by the number of samples"),
    ])
    return (f"same parameters, mean loss {expected_loss:.4f} and accuracy {expected_acc:.4f} as "
            f"the reference loop after one epoch ({len(sizes)} steps, {n} samples)")


# steps per epoch: 60,000 Fashion-MNIST training images, batch size 256
_FASHION_TRAIN, _STEPS_BATCH = 60_000, 256


@checker("steps_per_epoch")
def check_steps_per_epoch(steps_per_epoch):
    """Predict then run: optimizer steps in one epoch at batch size 256 (not revealed)."""
    require_answer(steps_per_epoch, "steps_per_epoch")
    expected = -(-_FASHION_TRAIN // _STEPS_BATCH)  # one step per batch, the last one partial
    expect_equal(steps_per_epoch, expected, "your number of steps", reveal=False, hints=[
        (lambda g: g == expected - 1, "the last, partial batch is also a step"),
        (lambda g: isinstance(g, float) and g != int(g),
         "a number of steps is a whole number: every batch, full or not, is one step"),
        (lambda g: g == _FASHION_TRAIN, "one step per batch, not per image"),
        (lambda g: g == _STEPS_BATCH, "that is the batch size: how many batches does one "
                                      "pass over 60,000 images take?"),
    ])
    return (f"{expected} steps: {expected - 1} full batches of {_STEPS_BATCH} and a last one of "
            f"{_FASHION_TRAIN - (expected - 1) * _STEPS_BATCH}")


def _layer_answer(value, name, layers):
    require_answer(value, name)
    by_lower = {layer.lower(): layer for layer in layers}
    answer = by_lower.get(str(value).strip().lower())
    if answer is None:
        raise NotYet(f"`{name}` is {value!r}: answer with one of the table's layer names, "
                     f"{', '.join(repr(k) for k in layers)}")
    return answer


def gradient_answers(table):
    """(layer with the smallest sigmoid gradient, layer whose gradient grows most with ReLU)."""
    sig, relu = table["sigmoid"], table["relu"]
    return min(sig, key=sig.get), max(sig, key=lambda k: relu[k] / sig[k])


@checker("gradient_layers")
def check_gradient_layers(smallest_under_sigmoid, grows_most_with_relu, X=None, y=None):
    """Change and observe: compares with the gradient table it measures itself."""
    from lenet_nb import diagnostics as dg

    if X is None:
        X, y = dg.probe_batch()
    table = dg.gradient_norm_table(X, y)
    layers = list(table["sigmoid"])
    smallest = _layer_answer(smallest_under_sigmoid, "smallest_under_sigmoid", layers)
    grows = _layer_answer(grows_most_with_relu, "grows_most_with_relu", layers)
    want_smallest, want_grows = gradient_answers(table)
    sig, relu = table["sigmoid"], table["relu"]
    if smallest != want_smallest:
        hint = ("that is the largest sigmoid gradient; look for the smallest number"
                if smallest == max(sig, key=sig.get) else
                "another layer's sigmoid gradient is smaller still")
        raise NotYet(f"{smallest} is not the layer with the smallest gradient under sigmoid: "
                     f"{hint} in the sigmoid column")
    if grows != want_grows:
        hint = ("with ReLU that layer's gradient shrinks (ReLU / sigmoid < 1)"
                if relu[grows] < sig[grows] else
                "it grows, but another layer's gradient grows by a larger factor")
        raise NotYet(f"{grows} is not the layer whose gradient grows most: {hint}. Divide "
                     f"the ReLU norm by the sigmoid norm for every layer")
    return (f"under sigmoid {smallest}'s gradient is the smallest "
            f"({sig[smallest]:.2g}, {sig[layers[-1]] / sig[smallest]:.0f}x below the output "
            f"layer's); ReLU multiplies {grows}'s by {relu[grows] / sig[grows]:.0f}")



# ---------------------------------------------------------------- Chapter 4: the paper's LeNet-5

# each chapter's section imports what it checks (merging sections stays conflict-free)
import torch  # noqa: E402

from lenet_nb import lenet5  # noqa: E402

F64 = torch.float64  # the chapter 4 checkers compare in double precision


def _same64(got, expected, atol=1e-9):
    """True when `got` is a tensor equal to `expected` (for hint predicates)."""
    return (isinstance(got, torch.Tensor) and got.shape == expected.shape
            and torch.allclose(got.detach().double(), expected, atol=atol, rtol=0))


@checker("squash")
def check_squash(squash):
    """The paper's f(a) = A tanh(S a) against lenet5.Squash, exactly, in float64."""
    a = torch.linspace(-3, 3, 13, dtype=F64)
    expected = lenet5.Squash()(a)
    A, S = 1.7159, 2 / 3
    hints = [
        (lambda g: _same64(g, torch.tanh(a), 1e-6),
         "your values are plain tanh(a): multiply a by S = 2/3 inside and the result by "
         "A = 1.7159"),
        (lambda g: _same64(g, A * torch.tanh(a), 1e-6),
         "your values are 1.7159·tanh(a): the slope S = 2/3 inside the tanh is missing"),
        (lambda g: _same64(g, torch.tanh(S * a), 1e-6),
         "your values are tanh(2a/3) without the 1.7159 amplitude"),
        (lambda g: _same64(g, A * torch.tanh(1.5 * a), 1e-6),
         "you multiplied a by 3/2; the slope is S = 2/3"),
        (lambda g: _same64(g, S * torch.tanh(A * a), 1e-6),
         "A and S are swapped: A = 1.7159 multiplies the tanh, S = 2/3 multiplies a"),
        (lambda g: _same64(g, A * torch.sigmoid(S * a), 1e-6),
         "that is a sigmoid; the paper squashes with tanh (outputs between -A and A)"),
    ]
    got = call(squash, a.clone(), name="squash")
    if _same64(got, expected, 1e-3) and not _same64(got, expected, 1e-7):
        off = (got.detach().double() - expected).abs().max().item()
        raise NotYet(f"squash(a) is close but not exact (off by up to {off:.1e}): use "
                     "A = 1.7159 and S = 2 / 3 exactly, not rounded values like 0.667")
    expect_tensor(got, expected, "squash(a) for a = -3, -2.5, ..., 3", atol=1e-7, hints=hints)
    ones = call(squash, torch.tensor([1.0, -1.0], dtype=F64), name="squash")
    return (f"equals lenet5.Squash to 1e-7 on 13 values from -3 to 3; "
            f"f(1) = {ones[0].item():.4f}, f(-1) = {ones[1].item():.4f}")


def _subsample_case():
    """A tiny S2-like input [1, 2, 4, 4] with 2 maps' coefficients and biases (float64)."""
    X = torch.randn(1, 2, 4, 4, generator=torch.Generator().manual_seed(4), dtype=F64)
    return X, torch.tensor([0.5, -1.5], dtype=F64), torch.tensor([0.25, -0.75], dtype=F64)


@checker("subsample")
def check_subsample(subsample):
    """`subsample(X, coeff, bias)` against lenet5.Subsampling with the same parameters."""
    X, coeff, bias = _subsample_case()
    module = lenet5.Subsampling(2).double()
    module.load_state_dict({"weight": coeff, "bias": bias})
    with torch.no_grad():
        expected = module(X)
    sums = X.unfold(2, 2, 2).unfold(3, 2, 2).sum((-1, -2))  # each 2x2 block's sum
    peaks = X.unfold(2, 2, 2).unfold(3, 2, 2).amax((-1, -2))
    per_map = coeff.view(1, -1, 1, 1), bias.view(1, -1, 1, 1)
    hints = [
        (lambda g: g.shape[-1] == 3,
         "your 2x2 windows overlap: the paper's blocks do not (stride 2), so each side halves"),
        (lambda g: g.shape[-1] == 4, "the output must be subsampled: one value per 2x2 block"),
        (lambda g: _same64(g, sums / 4 * per_map[0] + per_map[1]),
         "you averaged the 2x2 block; the paper sums it, the coefficient takes care of the "
         "scale"),
        (lambda g: _same64(g, lenet5.Squash()(expected)),
         "you applied the squashing function: here (as in lenet5.Subsampling) the layer "
         "returns coefficient × sum + bias, and the network squashes after it"),
        (lambda g: _same64(g, sums * coeff + bias),
         "your coefficient and bias were broadcast along the last axis (the columns), not "
         "over the maps: reshape them to [1, C, 1, 1], e.g. coeff.view(1, -1, 1, 1)"),
        (lambda g: _same64(g, sums * per_map[0]), "did you forget the bias?"),
        (lambda g: _same64(g, sums + per_map[1]),
         "each map's sum must be multiplied by that map's trainable coefficient"),
        (lambda g: _same64(g, (sums + per_map[1]) * per_map[0]),
         "the bias is added after multiplying by the coefficient, not before"),
        (lambda g: _same64(g, peaks * per_map[0] + per_map[1]),
         "you took the maximum of each block; the paper sums its four values"),
    ]
    got = call(subsample, X.clone(), coeff.clone(), bias.clone(), name="subsample")
    expect_tensor(got, expected, "subsample(X, coeff, bias) for X of shape (1, 2, 4, 4)",
                  atol=1e-9, hints=hints)
    return ("equals lenet5.Subsampling (same coefficients and biases copied in) on a "
            "1x2x4x4 input: shape (1, 2, 2, 2)")


def _rbf_case():
    """Three F6-like outputs [3, 84] in (-1.7159, 1.7159) and the paper's bitmaps (float64)."""
    X = torch.rand(3, 84, generator=torch.Generator().manual_seed(6), dtype=F64) * 2 - 1
    return 1.7159 * X, lenet5.rbf_bitmaps().double()


@checker("rbf")
def check_rbf(rbf):
    """`rbf(X, centers)` against lenet5.RBF(rbf_bitmaps()) on a batch of three."""
    X, centers = _rbf_case()
    expected = lenet5.RBF(centers)(X)
    diff = X.unsqueeze(1) - centers  # [3, 10, 84]
    hints = [
        (lambda g: tuple(g.shape) == (10, 3),
         "one row per bitmap: the result should have one row per image, [N, 10]"),
        (lambda g: tuple(g.shape) == (3, 10, 84),
         "you returned the squared differences themselves; sum them over the 84 F6 values "
         "(the last axis)"),
        (lambda g: _same64(g, expected.sqrt()),
         "that is the Euclidean distance; the paper's y_i is its square (no square root)"),
        (lambda g: _same64(g, diff.sum(-1)),
         "you summed the differences without squaring them"),
        (lambda g: _same64(g, diff.abs().sum(-1)),
         "you summed absolute differences; the paper squares each difference"),
        (lambda g: _same64(g, X @ centers.T) or _same64(g, -(X @ centers.T)),
         "that is a dot product x·w_i; an RBF unit computes the squared distance "
         "Σ_j (x_j − w_ij)²"),
        (lambda g: _same64(g, diff.pow(2).mean(-1)),
         "you averaged over the 84 values; the paper sums them"),
    ]
    got = call(rbf, X.clone(), centers.clone(), name="rbf")
    expect_tensor(got, expected, "rbf(X, centers) for a batch of 3 F6 outputs", atol=1e-9,
                  hints=hints)
    return "equals lenet5.RBF with the paper's bitmaps on a batch of 3: shape (3, 10)"


def _map_case():
    """Four images' penalties [4, 10] between 0 and 8, their labels and j = 2 (float64)."""
    y_hat = 8 * torch.rand(4, 10, generator=torch.Generator().manual_seed(9), dtype=F64)
    return y_hat, torch.tensor([3, 0, 7, 9]), 2.0  # j = 2, not MAP_J: a hard-coded j shows


def _map_variants(y_hat, y, j):
    """Typical wrong versions of the MAP loss, as (value, hint) pairs."""
    y_D = y_hat.gather(1, y.view(-1, 1)).squeeze(1)
    minus_j = torch.full((y_hat.shape[0], 1), -j, dtype=y_hat.dtype)
    lse = torch.logsumexp(torch.cat([-y_hat, minus_j], 1), 1)
    return [
        ((y_D + lse).sum(), "your loss is a sum over the batch; return the mean"),
        (lenet5.MAPLoss(lenet5.MAP_J)(y_hat, y),
         f"your loss is the one for j = {lenet5.MAP_J:g}, not for the `j` you were given: "
         "use the argument"),
        ((y_D + torch.logsumexp(-y_hat, 1)).mean(),
         "the rubbish-class term e^(−j) is missing inside the log"),
        ((y_D + torch.logsumexp(torch.cat([-y_hat, -minus_j], 1), 1)).mean(),
         "sign error: the constant term is e^(−j), not e^(+j)"),
        ((y_D + torch.logsumexp(torch.cat([y_hat, minus_j], 1), 1)).mean(),
         "sign error: the sum runs over e^(−y_i); the penalties enter with a minus sign"),
        (lse.mean(), "the first term, y_D (the penalty of the correct class), is missing"),
        ((lse - y_D).mean(), "y_D is added, not subtracted: the loss pulls the correct "
                             "class's penalty down"),
        ((y_hat.min(1).values + lse).mean(),
         "y_D is the penalty of the correct class y, not the smallest penalty"),
    ]


@checker("map_loss")
def check_map_loss(map_loss):
    """`map_loss(y_hat, y, j)` against lenet5.MAPLoss(j): batch mean, stable for large values."""
    y_hat, y, j = _map_case()
    expected = lenet5.MAPLoss(j)(y_hat, y)
    hints = [(lambda g: tuple(g.shape) == (4,),
              "you returned one loss per image; return their mean over the batch")]
    hints += [(lambda g, v=v: _same64(g, v), message) for v, message in _map_variants(y_hat, y, j)]
    got = call(map_loss, y_hat.clone(), y.clone(), j, name="map_loss")
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.reshape(())  # a [1] or [1, 1] tensor is one number too
    expect_tensor(got, expected, f"map_loss(y_hat, y, j={j:g}) for a batch of 4", atol=1e-9,
                  hints=hints)
    # large penalties and a large j: exp(-800) underflows to 0, a naive log(sum(exp)) gives -inf
    big, big_j = y_hat + 800.0, 800.0
    big_expected = lenet5.MAPLoss(big_j)(big, y)
    got = call(map_loss, big.clone(), y.clone(), big_j, name="map_loss")
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.reshape(())
    if isinstance(got, torch.Tensor) and not torch.isfinite(got).all():
        raise NotYet(f"with penalties and j around 800 your loss is {got.item()}: exp(−800) "
                     "underflows to 0 and the log of 0 is -inf. Compute the log of the sum "
                     "with torch.logsumexp over the −y_i and one extra column holding −j")
    expect_tensor(got, big_expected, f"map_loss(y_hat, y, j={big_j:g}) with penalties above 800",
                  atol=1e-9)
    return (f"equals lenet5.MAPLoss(j) on a batch of 4 (loss {expected.item():.4f} for "
            f"j = {j:g}), and stays finite for penalties above 800")


@checker("c3_params")
def check_c3_params(c3_params):
    """Predict-then-run: C3's trainable parameter count under Table I (never revealed)."""
    require_answer(c3_params, "c3_params")
    expected = sum(p.numel() for p in lenet5.TableConv2d().parameters())
    links = int(lenet5.c3_connections().sum())
    hints = [
        (lambda g: g == links * 25, "that counts the kernels' weights; each C3 map also has "
                                    "one bias"),
        (lambda g: g == links * 26, "one bias per C3 map, not one per connection"),
        (lambda g: g in (6 * 16 * 25 + 16, 6 * 16 * 25),
         "that is a full 6→16 convolution; Table I keeps only some of the 96 map pairs "
         "(count them in the figure)"),
        (lambda g: g in (16 * 25 + 16, 16 * 25),
         "a C3 map reading k S2 maps has k kernels of 5×5, one per map it reads"),
        (lambda g: g == links, "that is the number of connections; each one is a 5×5 kernel"),
        (lambda g: isinstance(g, str), "write the count as a number, without quotes"),
    ]
    expect_equal(c3_params, expected, "your C3 parameter count", hints=hints, reveal=False)
    return f"{expected:,} = {links} kernels of 5×5 + 16 biases"


# ---------------------------------------------------------------- Chapter 6: draw and look inside

# a fixed ink image for check_bounding_box: faint pixels (0.05) around a digit-like shape
_BOX_INK = [[0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],
            [0.00, 0.05, 0.00, 0.00, 0.00, 0.00, 0.00],
            [0.00, 0.00, 0.90, 0.80, 0.00, 0.00, 0.00],
            [0.00, 0.00, 0.00, 1.00, 0.00, 0.00, 0.00],
            [0.00, 0.00, 0.00, 0.70, 0.60, 0.00, 0.00],
            [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.05]]


@checker("bounding_box")
def check_bounding_box(bounding_box):
    """The learner's bounding_box(ink, level) on a fixed 6x7 image and on a single pixel."""
    import numpy as np

    ink = np.array(_BOX_INK, dtype=np.float32)
    got = call(bounding_box, ink, 0.1, name="bounding_box")
    try:
        got = tuple(int(v) for v in got)
    except (TypeError, ValueError):
        raise NotYet(f"bounding_box should return four integers (top, left, bottom, right), "
                     f"got {got!r}") from None
    expected = (2, 2, 5, 5)
    expect_equal(got, expected, "bounding_box(ink, 0.1) on the 6x7 test image", hints=[
        (lambda g: g == (2, 2, 4, 4),
         "bottom and right are exclusive (like Python slices): the last ink row is 4, so "
         "bottom is 5; did you return the last index instead of last + 1?"),
        (lambda g: g in ((1, 1, 6, 7), (1, 1, 5, 6)),
         "the faint 0.05 pixels are not ink: keep only pixels above `level`"),
        (lambda g: g[:2] == (2, 2),
         "the top-left corner is right; look at how you find the last ink row and column"),
    ])
    one = np.zeros((4, 9), dtype=np.float32)
    one[1, 6] = 1.0  # a single ink pixel in a wide image: rows and columns must not be swapped
    got = tuple(int(v) for v in call(bounding_box, one, 0.1, name="bounding_box"))
    expect_equal(got, (1, 6, 2, 7), "bounding_box on a single ink pixel at row 1, column 6",
                 hints=[(lambda g: g == (6, 1, 7, 2),
                         "rows and columns are swapped: rows come from `.any(1)` (across "
                         "each row), columns from `.any(0)`")])
    return "the box (top, left, bottom, right) of the ink, bottom and right exclusive"


@checker("occluded_copies")
def check_occluded_copies(occluded_copies):
    """Predict-then-run: copies explain.occlusion builds for 32x32, 6x6 patch, stride 2."""
    require_answer(occluded_copies, "occluded_copies")
    expect_equal(occluded_copies, 196, "occluded_copies", reveal=False, hints=[
        (lambda g: g == 729, "that is the count for stride 1; with stride 2 the patch skips "
                             "every other position"),
        (lambda g: g == 169, "off by one: positions 0, 2, ..., 26 are all allowed "
                             "(the last patch covers pixels 26-31)"),
        (lambda g: g == 256, "32 / 2 forgets that the patch must fit: its top-left corner "
                             "can go only up to 32 - 6"),
        (lambda g: g in (13, 14, 27), "that is the count along one side; the patch moves "
                                      "in two directions"),
    ])
    return "(32 - 6) // 2 + 1 = 14 positions per side, 14 x 14 = 196 covered copies"


@checker("c3_field")
def check_c3_field(c3_field):
    """Predict-then-run: width in input pixels of what one C3 unit of LeNet-5 sees."""
    from lenet_nb.explain import receptive_field

    require_answer(c3_field, "c3_field")
    top, _, bottom, _ = receptive_field("C3", 0, 0)
    expect_equal(c3_field, bottom - top, "c3_field", reveal=False, hints=[
        (lambda g: g == 5, "5 is what a C1 unit sees; C3 looks at 5x5 S2 units, and each S2 "
                           "unit already covers more than one pixel"),
        (lambda g: g == 10, "10 is the side of a C3 map (how many units), not how much of the "
                            "input one unit sees"),
        (lambda g: g == 25, "5 x 5 would be right if S2 units were 5 pixels apart; "
                            "neighbouring S2 units are 2 pixels apart"),
        (lambda g: g in (13, 15), "close: count the pixels from the first to the last one "
                                  "(C1's 5, plus (5 - 1) steps of 2 through S2, plus S2's extra "
                                  "pixel)"),
        (lambda g: g == 32, "32 is the whole input: that is C5"),
    ])
    return "a C3 unit sees 14x14 input pixels: 5 + 1 (S2) + (5 - 1) x 2"

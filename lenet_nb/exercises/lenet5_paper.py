"""Chapter 5's exercise checkers: the paper's scaled tanh, subsampling, RBF output, MAP loss.

Each `check_*` takes what the learner wrote (a function, a module, a number) and returns a
`Verdict` ("✔ …" or "✘ …, not yet: <what is wrong and a hint>"); it never raises.
"""

# each chapter's section imports what it checks (merging sections stays conflict-free)
import torch

from lenet_nb import lenet5
from lenet_nb.exercises.checking import (
    NotYet,
    call,
    checker,
    expect_equal,
    expect_tensor,
    require_number,
)

CHAPTER = 5
EXERCISES = {  # notebook order: exercise 5.n is the n-th name
    "squash": "complete the code",
    "subsample": "complete the code",
    "c3_params": "predict, then run",
    "rbf": "complete the code",
    "map_loss": "complete the code",
}


F64 = torch.float64  # the chapter 5 checkers compare in double precision


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


@checker("c3_params", leaks=[r"\b1,?516\b"])
def check_c3_params(c3_params):
    """Predict-then-run: C3's trainable parameter count under Table I (never revealed)."""
    c3_params = require_number(c3_params, "c3_params")
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
    ]
    expect_equal(c3_params, expected, "your C3 parameter count", hints=hints, reveal=False)
    return f"{expected:,} = {links} kernels of 5×5 + 16 biases"

"""Chapter 5's exercise checkers: the paper's scaled tanh, subsampling, RBF output and MAP loss,
the MAP loss before training, what j does, a LeNet-5 that loses a one-image batch, and the
challenge: the paper's network trained the learner's way.

Each `check_*` takes what the learner wrote (a function, a module, a number) and returns a
`Verdict` ("✔ …" or "✘ …, not yet: <what is wrong and a hint>"); it never raises.
"""

import math

import torch

from lenet_nb import lenet5
from lenet_nb.exercises import challenge
from lenet_nb.exercises.checking import (
    NotStarted,
    NotYet,
    call,
    checker,
    expect_tensor,
    require_answer,
    require_number,
    unanswered,
)
from lenet_nb.exercises.lenet5_challenge import CHALLENGE
from lenet_nb.lessons import lenet5_train

CHAPTER = 5
EXERCISES = {  # notebook order: exercise 5.n is the n-th name
    "squash": "complete the code",
    "subsample": "complete the code",
    "rbf": "complete the code",
    "map_loss": "complete the code",
    "initial_map_loss": "predict, then run",
    "what_j_does": "change and observe",
    "one_image": "find the bug",
    "paper_challenge": "challenge",
}


F64 = torch.float64  # the chapter 5 checkers compare in double precision


def _same64(got, expected, atol=1e-9):
    """True when `got` is a tensor equal to `expected` (for hint predicates)."""
    return (isinstance(got, torch.Tensor) and got.shape == expected.shape
            and torch.allclose(got.detach().double(), expected, atol=atol, rtol=0))


def _squash_amplitude(A):
    """Raise NotYet unless A makes f(1) = A tanh(2/3) equal 1 (to 1e-4)."""
    S = 2 / 3
    exact = 1 / math.tanh(S)
    if abs(A - exact) < 1e-4:
        return exact
    hints = [
        (1.0, "with A = 1, f(1) = tanh(2/3) ≈ 0.58, not 1: A must scale the tanh up"),
        (math.tanh(S), "f(1) = A·tanh(2/3) must equal 1: solve for A (divide, do not multiply)"),
        (1 / math.tanh(1.0), "you solved f(1) = 1 with the slope 1; the slope inside the tanh "
                             "is S = 2/3"),
        (S, "that is the slope S; A is the factor in front of the tanh"),
        (1 / S, "tanh(2/3) is not 2/3: the tanh stays in the condition A·tanh(2/3) = 1"),
    ]
    hint = next((h for v, h in hints if abs(A - v) < 1e-3), None)
    raise NotYet(f"with your A, f(1) = A·tanh(2/3) = {A * math.tanh(S):.4f}, not 1"
                 + (f". Hint: {hint}" if hint else ": compute A from the condition f(1) = 1"))


@checker("squash")
def check_squash(A, squash):
    """A from f(1) = 1; the paper's f(a) = A tanh(S a) against lenet5.Squash, in float64."""
    exact = _squash_amplitude(float(require_number(A, "A")))
    a = torch.linspace(-3, 3, 13, dtype=F64)
    expected = lenet5.Squash()(a)
    S = 2 / 3
    hints = [
        (lambda g: _same64(g, torch.tanh(a), 1e-5),
         "your values are plain tanh(a): multiply a by S = 2/3 inside and the result by A"),
        (lambda g: _same64(g, exact * torch.tanh(a), 1e-5),
         "your values are A·tanh(a): the slope S = 2/3 inside the tanh is missing"),
        (lambda g: _same64(g, torch.tanh(S * a), 1e-5),
         "your values are tanh(2a/3) without the amplitude A in front"),
        (lambda g: _same64(g, exact * torch.tanh(1.5 * a), 1e-5),
         "you multiplied a by 3/2; the slope is S = 2/3"),
        (lambda g: _same64(g, S * torch.tanh(exact * a), 1e-5),
         "A and S are swapped: A multiplies the tanh, S = 2/3 multiplies a"),
        (lambda g: _same64(g, exact * torch.sigmoid(S * a), 1e-5),
         "that is a sigmoid; the paper squashes with tanh (outputs between -A and A)"),
    ]
    got = call(squash, a.clone(), name="squash")
    if _same64(got, expected, 1e-3) and not _same64(got, expected, 1e-5):
        off = (got.detach().double() - expected).abs().max().item()
        raise NotYet(f"squash(a) is close but not exact (off by up to {off:.1e}): use your A "
                     "and S = 2 / 3 exactly, not rounded values like 0.667")
    expect_tensor(got, expected, "squash(a) for a = -3, -2.5, ..., 3", atol=1e-5, hints=hints)
    ones = call(squash, torch.tensor([1.0, -1.0], dtype=F64), name="squash")
    return (f"A = 1/tanh(2/3) = {exact:.4f} makes f(1) = 1; squash equals lenet5.Squash to 1e-5 "
            f"on 13 values from -3 to 3; f(1) = {ones[0].item():.4f}, f(-1) = "
            f"{ones[1].item():.4f}")


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
        (lambda g: tuple(g.shape) != (3, 10),
         "broadcasting does it without a loop: give X a size-1 axis (X.unsqueeze(1), "
         "[N, 1, 84]) so that X − centers is [N, 10, 84], then sum over the last axis"),
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
                     "underflows to 0 and the log of 0 is -inf. There is a way to compute "
                     "log(Σ exp(·)) without ever forming the exponentials: look for it in torch "
                     "(it takes the −y_i and one more column holding −j)")
    expect_tensor(got, big_expected, f"map_loss(y_hat, y, j={big_j:g}) with penalties above 800",
                  atol=1e-9)
    return (f"equals lenet5.MAPLoss(j) on a batch of 4 (loss {expected.item():.4f} for "
            f"j = {j:g}), and stays finite for penalties above 800")


def _initial_map_loss():
    """The MAP loss (j = MAP_J) of the seed-0 LeNet-5 before training, on 256 random images."""
    torch.manual_seed(0)
    net = lenet5.LeNet5()
    g = torch.Generator().manual_seed(5)
    X, y = torch.rand(256, 1, 32, 32, generator=g), torch.randint(0, 10, (256,), generator=g)
    with torch.no_grad():
        return lenet5.MAPLoss(lenet5.MAP_J)(net(X), y).item()


# the answer as a number standing alone ("79", "79.05"): not inside a longer number or a
# picture's base64 text; "7[9]" keeps the pattern's own text from matching itself
@checker("initial_map_loss", leaks=[r"(?<![\w.+/])7[9](?:\.\d+)?(?![\w.+/=])"])
def check_initial_map_loss(initial_map_loss):
    """Predict, then run: the MAP loss of an untrained LeNet-5, within 1 of its own measurement."""
    guess = float(require_number(initial_map_loss, "initial_map_loss"))
    expected = _initial_map_loss()
    if abs(guess - expected) <= 1.0:
        return (f"{expected:.2f} measured on the checker's own untrained LeNet-5: F6 starts "
                f"near 0, so every ±1 bitmap is about 84 away (every penalty ≈ 84), and "
                f"log(e^(−{lenet5.MAP_J:g}) + 10·e^(−84)) ≈ −{lenet5.MAP_J:g}: the rubbish "
                f"term dominates until training moves F6")
    hints = [
        (83 <= guess <= 85.5, "that is each class's penalty at the start (F6 near 0, every "
                              "bitmap pixel ±1); the loss adds a log term: how large is "
                              "log(e^(−j) + Σ e^(−y_i)) when every y_i is that big?"),
        (87 <= guess <= 91, "check the sign of the log term: the log of a number below 1 is "
                            "negative"),
        (abs(guess - math.log(10)) < 0.3,
         "ln 10 belongs to a softmax over ten equal scores: this loss is built from penalties "
         "(squared distances), which start far from 0"),
        (abs(abs(guess) - lenet5.MAP_J) < 0.5,
         "the first term is the penalty of the correct class, y_D: how far is an F6 output "
         "near 0 from a bitmap of 84 pixels, each ±1?"),
        (guess <= 0.5, "the loss starts large: no bitmap is close to an untrained F6"),
    ]
    hint = next((h for holds, h in hints if holds), "start from one penalty: F6's 84 outputs "
                "are near 0 and each bitmap pixel is ±1")
    raise NotYet(f"{guess:g} is off by more than 1 from what an untrained LeNet-5 gives. "
                 f"Hint: {hint}")


WHY_J = {  # the answers offered by exercise 5.6
    "a": "e^(−j) acts as an extra 'rubbish' class: when it dominates the sum, a wrong class "
         "whose penalty is already above j gains little from being pushed further",
    "b": "j scales the whole loss, like a learning rate",
    "c": "j is added to every penalty, so it cancels out",
}


@checker("what_j_does")
def check_what_j_does(observed_j, weakest_push, why):
    """Change and observe: graded against the learner's own record of map_loss_push."""
    if unanswered(observed_j) or not observed_j:
        raise NotStarted("no recorded run: run the run cell (it fills `observed_j`)")
    if unanswered(weakest_push) and unanswered(why):
        raise NotStarted("change `js` in the run cell, run it, then answer `weakest_push` and "
                         "`why`")
    if not isinstance(observed_j, dict):
        raise NotYet(f"`observed_j` should be the dict the run cell makes, got "
                     f"{type(observed_j).__name__}: run the run cell again")
    js = sorted(observed_j)
    if len(js) < 2 or min(js) >= 1 or max(js) < 10:
        raise NotYet(f"your run recorded j = {', '.join(f'{j:g}' for j in js)}: change `js` in "
                     "the run cell to several values, at least one below 1 and one of 10 or "
                     "more, and run it again")
    try:
        redo = lenet5_train.map_loss_push(js)
    except Exception as error:  # e.g. a j of 0 or a negative j
        raise NotYet(f"the run cell's j values cannot be used ({error})") from None
    if any(list(observed_j[j]) != redo[j] for j in js):
        raise NotYet("`observed_j` differs from what the run cell computes for those j: run "
                     "the run cell again rather than editing its record")
    require_answer(weakest_push, "weakest_push")
    require_answer(why, "why")
    pushes = {j: abs(observed_j[j][1]) for j in js}  # class 1, the near miss
    weakest = min(pushes, key=pushes.get)
    chosen = float(require_number(weakest_push, "weakest_push"))
    if chosen not in pushes:
        raise NotYet(f"weakest_push = {chosen:g} is not one of the j your run recorded "
                     f"({', '.join(f'{j:g}' for j in js)})")
    if chosen != weakest:
        hint = ("that j pushes class 1 hardest of all" if chosen == max(pushes, key=pushes.get)
                else "another j pushes class 1 less")
        raise NotYet(f"under j = {chosen:g} class 1 is pushed by {pushes[chosen]:.4f}: {hint}. "
                     "Compare the sizes (absolute values) in the class-1 column")
    letter = str(why).strip().lower().strip("()")
    if letter not in WHY_J:
        raise NotYet(f"`why` is {why!r}: answer with one of the letters {', '.join(WHY_J)}")
    if letter == "b":
        raise NotYet("if j only scaled the loss, every push would shrink by the same factor: "
                     "compare the right class's column with class 1's across the rows")
    if letter == "c":
        raise NotYet("if j cancelled out, every row of your table would be the same")
    return (f"j = {weakest:g} pushes class 1 (penalty 3) least ({pushes[weakest]:.4f}, against "
            f"{max(pushes.values()):.4f} for j = {max(pushes, key=pushes.get):g}): a small j "
            f"makes e^(−j) the largest term of the sum, the 'rubbish' class, so wrong classes "
            f"above j gain little from being pushed further")


def _one_image_case():
    """A seeded untrained LeNet-5 in eval mode and 3 random 32x32 images."""
    torch.manual_seed(0)
    net = lenet5.LeNet5().eval()
    X = torch.rand(3, 1, 32, 32, generator=torch.Generator().manual_seed(7))
    return net, X


@checker("one_image")
def check_one_image(lenet5_scores):
    """Find the bug: lenet5_scores(net, X) must equal net(X) for a batch of 3 and of 1."""
    net, X = _one_image_case()
    for n in (3, 1):
        with torch.no_grad():
            expected = net(X[:n])
            got = call(lenet5_scores, net, X[:n].clone(), name="lenet5_scores")
        if isinstance(got, torch.Tensor) and tuple(got.shape) == (10,) and n == 1:
            raise NotYet("for one image your function returns shape (10,), not (1, 10): the "
                         "batch dimension is gone, so a loss or argmin(dim=1) fails. Look for "
                         "the step that removes size-1 dimensions: which ones does it remove "
                         "when the batch holds one image?")
        expect_tensor(got, expected, f"lenet5_scores(net, X) for a batch of {n}", atol=1e-5,
                      hints=[(lambda g: True, "change only the step between C5 and F6; the "
                                              "other layers are as the network runs them")])
    return ("a batch of 3 and a batch of 1 give net(X)'s penalties, shapes (3, 10) and "
            "(1, 10): only the two 1x1 spatial dimensions of C5's output are removed")


# --- 5.8 challenge: the paper's network, trained your way (spec: lenet5_challenge.py) -------


@checker("paper_challenge")
def check_paper_challenge(train):
    """Challenge: the learner's training of the paper's LeNet-5, scored on the held-out split."""
    return challenge.score(CHALLENGE, train)

"""The checkers of lenet_nb.exercises.lenet5_paper: each passes on the reference solution, says
precisely what is wrong on the stub and on typical wrong answers, and never raises."""

import pytest
import torch

from lenet_nb import lenet5
from lenet_nb.exercises import lenet5_paper as ex


def _stub(*args):
    ...  # your code here



def _not_yet(verdict, *phrases):
    """The verdict failed and its message holds every phrase."""
    assert not verdict.passed, verdict
    for phrase in phrases:
        assert phrase in verdict.message, (phrase, verdict.message)


# the learner's solutions, as the instructor notebook has them
def squash(a):
    return 1.7159 * torch.tanh(2 * a / 3)


def subsample(X, coeff, bias):
    sums = X[:, :, 0::2, 0::2] + X[:, :, 0::2, 1::2] + X[:, :, 1::2, 0::2] + X[:, :, 1::2, 1::2]
    return sums * coeff.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)


def rbf(X, centers):
    return ((X.unsqueeze(1) - centers) ** 2).sum(dim=2)


def map_loss(y_hat, y, j):
    y_D = y_hat[torch.arange(len(y)), y]
    rubbish = torch.full((len(y), 1), -j, dtype=y_hat.dtype)
    return (y_D + torch.logsumexp(torch.cat([-y_hat, rubbish], dim=1), dim=1)).mean()


def _blocks(X, reduce):
    return reduce(X.unfold(2, 2, 2).unfold(3, 2, 2), (-1, -2))


def test_reference_solutions_pass():
    for verdict in (ex.check_squash(squash), ex.check_subsample(subsample), ex.check_rbf(rbf),
                    ex.check_map_loss(map_loss), ex.check_c3_params(1516)):
        assert verdict.passed, verdict
    assert "f(1) = 1.0000, f(-1) = -1.0000" in ex.check_squash(squash).message
    assert "1,516 = 60 kernels" in ex.check_c3_params(1516).message


def test_the_package_pieces_pass_too():
    """The checkers accept the package's modules wrapped as functions (same numbers)."""
    assert ex.check_squash(lenet5.Squash()).passed

    def via_module(X, coeff, bias):
        s = lenet5.Subsampling(X.shape[1]).double()
        s.load_state_dict({"weight": coeff, "bias": bias})
        return s(X).detach()

    assert ex.check_subsample(via_module).passed
    assert ex.check_rbf(lambda X, c: lenet5.RBF(c)(X)).passed
    assert ex.check_map_loss(lambda y_hat, y, j: lenet5.MAPLoss(j)(y_hat, y)).passed


@pytest.mark.parametrize("name", ["squash", "subsample", "rbf", "map_loss"])
def test_stubs_say_not_yet(name):
    check = getattr(ex, f"check_{name}")
    _not_yet(check(_stub), f"`{name}` still holds the stub", "replace the `...`")
    assert not check(_stub).started, "an untouched stub is ○ not started"
    _not_yet(check(...), f"`{name}` is not defined yet")


@pytest.mark.parametrize("wrong, hint", [
    (torch.tanh, "plain tanh(a)"),
    (lambda a: 1.7159 * torch.tanh(a), "the slope S = 2/3 inside the tanh is missing"),
    (lambda a: torch.tanh(2 * a / 3), "without the 1.7159 amplitude"),
    (lambda a: 1.7159 * torch.tanh(1.5 * a), "you multiplied a by 3/2"),
    (lambda a: 2 / 3 * torch.tanh(1.7159 * a), "A and S are swapped"),
    (lambda a: 1.7159 * torch.sigmoid(2 * a / 3), "that is a sigmoid"),
    (lambda a: 1.7159 * torch.tanh(0.667 * a), "close but not exact"),
    (lambda a: 1.716 * torch.tanh(2 * a / 3), "close but not exact"),
    (lambda a: a.tolist(), "should be a torch tensor"),
])
def test_squash_names_the_mistake(wrong, hint):
    _not_yet(ex.check_squash(wrong), hint)


@pytest.mark.parametrize("wrong, hint", [
    (lambda X, c, b: _blocks(X, torch.mean) * c.view(1, -1, 1, 1) + b.view(1, -1, 1, 1),
     "you averaged the 2x2 block; the paper sums it"),
    (lambda X, c, b: lenet5.Squash()(subsample(X, c, b)), "you applied the squashing function"),
    (lambda X, c, b: _blocks(X, torch.sum) * c + b, "broadcast along the last axis"),
    (lambda X, c, b: _blocks(X, torch.sum) * c.view(1, -1, 1, 1), "forget the bias"),
    (lambda X, c, b: _blocks(X, torch.sum) + b.view(1, -1, 1, 1), "trainable coefficient"),
    (lambda X, c, b: (_blocks(X, torch.sum) + b.view(1, -1, 1, 1)) * c.view(1, -1, 1, 1),
     "the bias is added after multiplying"),
    (lambda X, c, b: _blocks(X, torch.amax) * c.view(1, -1, 1, 1) + b.view(1, -1, 1, 1),
     "the maximum of each block"),
    (lambda X, c, b: torch.nn.functional.avg_pool2d(X, 2, stride=1) * 4,
     "has shape (1, 2, 3, 3), expected (1, 2, 2, 2). Hint: your 2x2 windows overlap"),
    (lambda X, c, b: X * c.view(1, -1, 1, 1), "one value per 2x2 block"),
])
def test_subsample_names_the_mistake(wrong, hint):
    _not_yet(ex.check_subsample(wrong), hint)


def test_subsample_reports_the_learners_error():
    def broken(X, coeff, bias):
        return X.sum(5)

    _not_yet(ex.check_subsample(broken), "`subsample` raised IndexError", "return X.sum(5)")


@pytest.mark.parametrize("wrong, hint", [
    (lambda X, c: ((X.unsqueeze(1) - c) ** 2).sum(2).T, "one row per image, [N, 10]"),
    (lambda X, c: (X.unsqueeze(1) - c) ** 2, "sum them over the 84 F6 values"),
    (lambda X, c: torch.cdist(X, c), "that is the Euclidean distance"),
    (lambda X, c: (X.unsqueeze(1) - c).sum(2), "without squaring them"),
    (lambda X, c: (X.unsqueeze(1) - c).abs().sum(2), "absolute differences"),
    (lambda X, c: X @ c.T, "that is a dot product"),
    (lambda X, c: ((X.unsqueeze(1) - c) ** 2).mean(2), "you averaged over the 84 values"),
])
def test_rbf_names_the_mistake(wrong, hint):
    _not_yet(ex.check_rbf(wrong), hint)


def _y_D(y_hat, y):
    return y_hat[torch.arange(len(y)), y]


def _lse(y_hat, j):
    return torch.log(torch.exp(torch.tensor(-j, dtype=y_hat.dtype)) + torch.exp(-y_hat).sum(1))


@pytest.mark.parametrize("wrong, hint", [
    (lambda y_hat, y, j: _y_D(y_hat, y) + _lse(y_hat, j), "one loss per image"),
    (lambda y_hat, y, j: (_y_D(y_hat, y) + _lse(y_hat, j)).sum(), "a sum over the batch"),
    (lambda y_hat, y, j: map_loss(y_hat, y, 5.0), "the one for j = 5"),
    (lambda y_hat, y, j: (_y_D(y_hat, y) + torch.logsumexp(-y_hat, 1)).mean(),
     "e^(−j) is missing"),
    (lambda y_hat, y, j: (_y_D(y_hat, y) + _lse(y_hat, -j)).mean(), "not e^(+j)"),
    (lambda y_hat, y, j: (_y_D(y_hat, y) + _lse(-y_hat, j)).mean(), "a minus sign"),
    (lambda y_hat, y, j: _lse(y_hat, j).mean(), "y_D (the penalty of the correct class)"),
    (lambda y_hat, y, j: (_lse(y_hat, j) - _y_D(y_hat, y)).mean(), "y_D is added"),
    (lambda y_hat, y, j: (y_hat.min(1).values + _lse(y_hat, j)).mean(),
     "not the smallest penalty"),
])
def test_map_loss_names_the_mistake(wrong, hint):
    _not_yet(ex.check_map_loss(wrong), hint)


def test_map_loss_must_be_stable_for_large_penalties():
    def naive(y_hat, y, j):
        return (_y_D(y_hat, y) + _lse(y_hat, j)).mean()

    assert torch.isinf(naive(torch.full((1, 10), 800.0, dtype=torch.float64),
                             torch.tensor([0]), 800.0))  # the case the checker feeds
    _not_yet(ex.check_map_loss(naive), "your loss is -inf", "torch.logsumexp")


def test_map_loss_accepts_a_one_element_tensor():
    assert ex.check_map_loss(lambda y_hat, y, j: map_loss(y_hat, y, j).view(1, 1)).passed


@pytest.mark.parametrize("wrong, hint", [
    (1500, "each C3 map also has one bias"),
    (1560, "one bias per C3 map, not one per connection"),
    (2416, "a full 6→16 convolution"),
    (2400, "a full 6→16 convolution"),
    (416, "one per map it reads"),
    (60, "the number of connections"),
    (1234, "which is not right"),
    ("1516", "without quotes"),
])
def test_c3_params_names_the_mistake_without_revealing(wrong, hint):
    verdict = ex.check_c3_params(wrong)
    _not_yet(verdict, hint)
    assert "1,516" not in verdict.message
    assert "1516" not in verdict.message.replace(f"is {wrong!r}", "")


def test_c3_params_stub():
    _not_yet(ex.check_c3_params(...), "`c3_params` is still `...`")
    assert ex.check_c3_params(1516.0).passed



"""The checkers of lenet_nb.exercises.lenet5_paper: each passes on the reference solution, says
precisely what is wrong on the stub and on typical wrong answers, and never raises."""

import math
import re

import pytest
import torch

from lenet_nb import lenet5
from lenet_nb.config import reduce_in_tests
from lenet_nb.exercises import lenet5_paper as ex
from lenet_nb.lessons.lenet5_train import challenge_train, map_loss_push, push_table
from lenet_nb.train import use_channels_last
from tests.exercises.notebook_answers import answer_namespace, reference_verdict

EXTRA = {"math": math, "net": lenet5.LeNet5(), "scale_input": lenet5.scale_input,
         "map_loss_push": map_loss_push, "push_table": push_table, "LeNet5": lenet5.LeNet5,
         "MAPLoss": lenet5.MAPLoss, "reduce_in_tests": reduce_in_tests,
         "use_channels_last": use_channels_last}


def _stub(*args):
    ...  # your code here



def _not_yet(verdict, *phrases):
    """The verdict failed and its message holds every phrase."""
    assert not verdict.passed, verdict
    for phrase in phrases:
        assert phrase in verdict.message, (phrase, verdict.message)


A = 1 / math.tanh(2 / 3)


def squash(a):
    return A * torch.tanh(2 * a / 3)


def subsample(X, coeff, bias):
    return answer_namespace(ex, "subsample")["subsample"](X, coeff, bias)


def map_loss(y_hat, y, j):
    return answer_namespace(ex, "map_loss")["map_loss"](y_hat, y, j)


def _blocks(X, reduce):
    return reduce(X.unfold(2, 2, 2).unfold(3, 2, 2), (-1, -2))


@pytest.mark.parametrize("name", list(ex.EXERCISES))
def test_the_instructor_notebooks_answers_pass(name):
    verdict = reference_verdict(ex, name, extra=dict(EXTRA))
    assert verdict.passed, verdict


def test_success_lines_say_what_was_checked():
    assert "A = 1/tanh(2/3) = 1.7159 makes f(1) = 1" in ex.check_squash(A, squash).message
    assert "f(1) = 1.0000, f(-1) = -1.0000" in ex.check_squash(1.7159, squash).message
    assert "stays finite for penalties above 800" in ex.check_map_loss(map_loss).message


def test_the_package_pieces_pass_too():
    """The checkers accept the package's modules wrapped as functions (same numbers)."""
    assert ex.check_squash(1.7159, lenet5.Squash()).passed  # the paper's rounded A passes

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
    args = (A,) if name == "squash" else ()
    _not_yet(check(*args, _stub), f"`{name}` still holds the stub", "replace the `...`")
    assert not check(*args, _stub).started, "an untouched stub is ○ not started"
    _not_yet(check(*args, ...), f"`{name}` is not defined yet")


def test_the_squash_stub_with_its_A_untouched_is_not_started():
    verdict = ex.check_squash(..., _stub)
    _not_yet(verdict, "`A` is still `...`")
    assert not verdict.started


@pytest.mark.parametrize("wrong, hint", [
    (torch.tanh, "plain tanh(a)"),
    (lambda a: A * torch.tanh(a), "the slope S = 2/3 inside the tanh is missing"),
    (lambda a: torch.tanh(2 * a / 3), "without the amplitude A in front"),
    (lambda a: A * torch.tanh(1.5 * a), "you multiplied a by 3/2"),
    (lambda a: 2 / 3 * torch.tanh(A * a), "A and S are swapped"),
    (lambda a: A * torch.sigmoid(2 * a / 3), "that is a sigmoid"),
    (lambda a: A * torch.tanh(0.667 * a), "close but not exact"),
    (lambda a: 1.716 * torch.tanh(2 * a / 3), "close but not exact"),
    (lambda a: a.tolist(), "should be a torch tensor"),
])
def test_squash_names_the_mistake(wrong, hint):
    verdict = ex.check_squash(A, wrong)
    _not_yet(verdict, hint)
    assert "1.7159" not in verdict.message  # no hint gives A away


@pytest.mark.parametrize("wrong_A, hint", [
    (1, "with A = 1, f(1) = tanh(2/3) ≈ 0.58"),
    (math.tanh(2 / 3), "solve for A (divide, do not multiply)"),
    (1 / math.tanh(1), "the slope inside the tanh is S = 2/3"),
    (2 / 3, "that is the slope S"),
    (1.5, "tanh(2/3) is not 2/3"),
    (2.0, "compute A from the condition f(1) = 1"),
    ("1.7159", "without quotes"),
    (torch.tensor([1.0, 2.0]), "should be one number"),
])
def test_a_wrong_amplitude_is_named_before_the_function_is_tried(wrong_A, hint):
    verdict = ex.check_squash(wrong_A, squash)
    _not_yet(verdict, hint)
    assert "1.7159" not in verdict.message.replace("'1.7159'", "")


def test_the_amplitude_may_be_a_tensor_or_the_papers_rounded_value():
    assert ex.check_squash(torch.tensor(A), squash).passed
    assert ex.check_squash(1.7159, squash).passed


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
    _not_yet(ex.check_map_loss(naive), "your loss is -inf", "without ever forming the exponentials")


def test_map_loss_accepts_a_one_element_tensor():
    assert ex.check_map_loss(lambda y_hat, y, j: map_loss(y_hat, y, j).view(1, 1)).passed


def test_rbf_hints_at_broadcasting_for_other_shapes():
    _not_yet(ex.check_rbf(lambda X, c: (X - c[0]) ** 2), "broadcasting does it without a loop")


# --- 5.5 predict, then run: the MAP loss before training -----------------------------------


def test_initial_map_loss_is_measured_and_accepts_a_close_estimate():
    measured = ex._initial_map_loss()
    assert 78 < measured < 80  # 84 - 5, give or take F6's small outputs
    assert ex.check_initial_map_loss(84 - 5).passed
    assert ex.check_initial_map_loss(measured + 0.9).passed
    assert ex.check_initial_map_loss(torch.tensor(measured)).passed
    assert not ex.check_initial_map_loss(measured + 1.2).passed


@pytest.mark.parametrize("guess, hint", [
    (84, "that is each class's penalty at the start"),
    (89, "check the sign of the log term"),
    (2.3, "ln 10 belongs to a softmax"),
    (5, "the first term is the penalty of the correct class"),
    (-5, "the first term is the penalty of the correct class"),
    (0, "the loss starts large"),
    (40, "start from one penalty"),
    ("79", "without quotes"),
])
def test_initial_map_loss_hints_never_reveal_the_answer(guess, hint):
    verdict = ex.check_initial_map_loss(guess)
    _not_yet(verdict, hint)
    message = verdict.message.replace(repr(guess), "")
    assert not any(re.search(p, message) for p in ex.check_initial_map_loss.leaks), message


def test_initial_map_loss_stub():
    verdict = ex.check_initial_map_loss(...)
    _not_yet(verdict, "`initial_map_loss` is still `...`")
    assert not verdict.started


# --- 5.6 change and observe: what j does ------------------------------------------------------


def test_what_j_does_without_a_run_or_answers_is_not_started():
    for record in (..., {}, None, map_loss_push([5.0])):  # the last: the stub's own run
        verdict = ex.check_what_j_does(record, ..., ...)
        assert not verdict.started, verdict


def test_what_j_does_needs_a_changed_run():
    _not_yet(ex.check_what_j_does(map_loss_push([5.0]), 5.0, "a"), "change `js`")
    _not_yet(ex.check_what_j_does(map_loss_push([2.0, 5.0]), 2.0, "a"),
             "at least one below 1 and one of 10 or more")


def test_what_j_does_is_graded_on_the_learners_own_record():
    """A record whose right answer differs from the course's (0.1): the learner's smallest j."""
    record = map_loss_push([0.5, 20.0, 200.0])
    assert ex.check_what_j_does(record, 0.5, "a").passed
    _not_yet(ex.check_what_j_does(record, 0.1, "a"), "not one of the j your run recorded")
    _not_yet(ex.check_what_j_does(record, 200.0, "a"), "another j pushes class 1 less")


def test_what_j_does_refuses_an_edited_record_and_names_wrong_answers():
    record = map_loss_push([0.1, 50.0])
    edited = {j: list(g) for j, g in record.items()}
    edited[0.1][1] = -0.5
    _not_yet(ex.check_what_j_does(edited, 0.1, "a"), "run the run cell again")
    # the strongest push: j = 50 pushes class 1 hardest of all
    _not_yet(ex.check_what_j_does(record, 50.0, "a"), "pushes class 1 hardest")
    _not_yet(ex.check_what_j_does(record, 0.1, "b"), "every push would shrink by the same")
    _not_yet(ex.check_what_j_does(record, 0.1, "(c)"), "every row of your table")
    _not_yet(ex.check_what_j_does(record, 0.1, "d"), "one of the letters a, b, c")
    _not_yet(ex.check_what_j_does(record, 0.1, ...), "`why` is still `...`")
    _not_yet(ex.check_what_j_does({-1.0: [0.0] * 10, 50.0: [0.0] * 10}, 50.0, "a"),
             "cannot be used")
    _not_yet(ex.check_what_j_does([0.1, 50.0], 0.1, "a"), "should be the dict")
    assert ex.check_what_j_does(record, "0.1", "A").passed is False  # text, not a number
    assert ex.check_what_j_does(record, 0.1, " A ").passed


# --- 5.7 find the bug: a batch of one image ----------------------------------------------------


def _scores_with(step):
    def lenet5_scores(net, X):
        X = net.act(net.S2(net.act(net.C1(lenet5.scale_input(X)))))
        X = net.act(net.S4(net.act(net.C3(X))))
        X = net.act(net.F6(step(net.act(net.C5(X)))))
        return ((X.unsqueeze(-2) - net.output.centers) ** 2).sum(-1)
    return lenet5_scores


@pytest.mark.parametrize("step", [lambda X: X.flatten(1), lambda X: X.view(len(X), -1),
                                  lambda X: X.squeeze(-1).squeeze(-1),
                                  lambda X: X.squeeze((2, 3))])
def test_one_image_accepts_every_fix(step):
    assert ex.check_one_image(_scores_with(step)).passed


def test_one_image_names_the_symptom_of_the_buggy_code():
    verdict = ex.check_one_image(_scores_with(torch.squeeze))
    _not_yet(verdict, "returns shape (10,), not (1, 10)", "which ones does it remove")
    assert verdict.started  # a find-the-bug stub runs: ✘, not ○


@pytest.mark.parametrize("step, hint", [
    (lambda X: X.squeeze().unsqueeze(0), "has shape (1, 3, 10), expected (3, 10)"),
    (lambda X: X.flatten(1) * 2, "change only the step between C5 and F6"),
    (lambda X: X.flatten(), "raised RuntimeError"),
])
def test_one_image_names_other_slips(step, hint):
    _not_yet(ex.check_one_image(_scores_with(step)), hint)


def test_one_image_stays_calm_on_nonsense():
    _not_yet(ex.check_one_image(lambda net, X: 1 / 0), "raised ZeroDivisionError")
    _not_yet(ex.check_one_image("lenet5_scores"), "should be a function")


# --- 5.8 challenge: the paper's network, trained the learner's way ---------------------------


def test_the_notebooks_solution_is_the_packages():
    """The answer cell and lenet5_train.challenge_train train the same weights (quick mode)."""
    g = torch.Generator().manual_seed(3)
    X, y = torch.rand(64, 1, 32, 32, generator=g), torch.randint(0, 10, (64,), generator=g)
    nets = []
    for train in (answer_namespace(ex, "paper_challenge", extra=dict(EXTRA))["train"],
                  challenge_train):
        torch.manual_seed(0)
        nets.append(train(X.clone(), y.clone(), 60.0))
    assert all(torch.equal(p, q) for p, q in zip(nets[0].parameters(), nets[1].parameters()))
    assert not torch.equal(nets[1].F6.weight, (torch.manual_seed(0), lenet5.LeNet5())[1].F6.weight)


def test_the_course_solution_passes_in_quick_mode():
    """Quick mode (pytest): 2,000 images, one epoch, no target; the solution is a valid network."""
    verdict = ex.check_paper_challenge(challenge_train)
    assert verdict.passed, verdict
    assert "quick mode" in verdict.message
    _not_yet(ex.check_paper_challenge(lambda X, y, s: lenet5.LeNet5()), "never changed")

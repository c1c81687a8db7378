"""The probes and pieces behind chapter 3's longer checks (lenet_nb.exercises.loop_checks): the
fixed probe net and data give the numbers the hints quote, the typical wrong SGD steps really
differ from PyTorch's, and a learner's number or letter is read calmly. The checkers' verdicts
on learner code are tested through the registry in test_training_loop.py."""

import numpy as np
import pytest
import torch

from lenet_nb.exercises import loop_checks as lc
from lenet_nb.exercises.checking import NotStarted, NotYet
from lenet_nb.train import evaluate_accuracy


def test_the_evaluation_probe_gives_17_of_23_per_sample_and_another_number_per_batch():
    net = lc._ProbeNet().eval()
    assert evaluate_accuracy(net, lc._eval_data()) == pytest.approx(17 / 23)
    per_batch = [(net(X).argmax(1) == y).float().mean().item() for X, y in lc._eval_data()]
    assert per_batch == pytest.approx([1.0, 0.6, 1 / 3])  # the hint's 0.6444 is their mean
    assert sum(per_batch) / 3 == pytest.approx(0.6444, abs=1e-4)
    net.train()  # in training mode the probe answers class 0 everywhere: a mode slip shows
    X, y = lc._eval_data(23).X, lc._eval_data(23).y
    assert (net(X).argmax(1) == y).float().mean().item() == pytest.approx(8 / 23)
    assert net.seen_training and net.seen_grad  # what the checker's mode and no_grad hints read


def test_the_split_probe_images_carry_their_own_index():
    X, y = lc._tagged(30)
    assert X.shape == (30, 1, 2, 2) and torch.equal(X[:, 0, 1, 1].long(), torch.arange(30))
    assert torch.equal(y, torch.arange(30) % 10)
    parts = lc._parts(((X[:20], y[:20]), (X[20:], y[20:])))
    assert torch.equal(parts[1][0], torch.arange(20, 30))
    with pytest.raises(NotYet, match="should return tensors"):
        lc._parts(((X[:20], y[:20].tolist()), (X[20:], y[20:])))
    with pytest.raises(NotYet, match=r"should return \(\(X_train"):
        lc._parts((X, y, X))


def correct_sgd_step(params, bufs, lr, momentum=0.0, weight_decay=0.0):
    with torch.no_grad():
        for p, buf in zip(params, bufs):
            buf.mul_(momentum).add_(p.grad + weight_decay * p)
            p.sub_(lr * buf)


def test_the_quadratic_probe_is_the_same_on_every_call_and_a_right_step_follows_torch():
    (a, b), _ = lc._quadratic()
    (c, d), _ = lc._quadratic()
    assert torch.equal(a, c) and torch.equal(b, d)
    for settings in ({"lr": 0.1}, lc._SGD):
        want = lc._torch_path(**settings)
        got = lc._trajectory(correct_sgd_step, **settings)
        assert len(got) == lc._SGD_STEPS
        assert all(lc._close(m, t) for m, t in zip(got, want))


@pytest.mark.parametrize("mistake", [{"up": True}, {"no_carry": True}, {"no_decay": True},
                                     {"decay_after": True}])
def test_each_typical_sgd_mistake_leaves_pytorchs_path(mistake):
    """The checker tells the mistakes apart by their paths: each must differ from PyTorch's."""
    wrong = lc._trajectory(lc._variant(**mistake), **lc._SGD)
    assert not lc._close(wrong[-1], lc._torch_path(**lc._SGD)[-1])
    others = [m for m in ({"up": True}, {"no_carry": True}, {"no_decay": True},
                          {"decay_after": True}) if m != mistake]
    assert not any(lc._close(wrong[-1], lc._trajectory(lc._variant(**m), **lc._SGD)[-1])
                   for m in others)
    assert lc.sgd_step(correct_sgd_step).startswith("4 steps equal torch.optim.SGD's")


@pytest.mark.parametrize("value", [3, 2.5, np.float32(2.5), np.int64(3)])
def test_a_number_may_be_any_real_number(value):
    assert lc._as_number(value, "x") == float(value)


@pytest.mark.parametrize("value, message", [
    ("2.3", "is the text '2.3': write the number without quotes"),
    (torch.tensor(2.3), "is a tensor"),
    (True, "should be a number, got bool"),
    ([2.3], "should be a number, got list"),
])
def test_anything_else_is_named(value, message):
    with pytest.raises(NotYet, match=message):
        lc._as_number(value, "x")


def test_a_letter_answer_is_read_calmly():
    assert lc._choice(" (A) ", "why", "abc") == "a"
    with pytest.raises(NotYet, match="answer with one of the letters 'a', 'b', 'c'"):
        lc._choice("d", "why", "abc")
    with pytest.raises(NotStarted):
        lc._choice(..., "why", "abc")

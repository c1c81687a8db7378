"""lenet_nb.quiz.training_loop: every answer of the chapter's questions that can be computed
is computed from lenet_nb and compared with the key."""


import pytest
import torch
from torch import nn

from lenet_nb.lessons.lr_sweep import split_validation
from lenet_nb.models import get_model, init_xavier
from lenet_nb.quiz import training_loop as quiz
from tests.quiz.answer_key import (
    assert_choice,
    assert_number,
    checks_of,
    keys,
    run_check,
)


def sigmoid_slope_max():
    x = torch.linspace(-6, 6, 1201, requires_grad=True)
    torch.sigmoid(x).sum().backward()
    return x.grad.max().item()


def check_loop_zero_grad():
    torch.manual_seed(0)
    layer, X = nn.Linear(3, 1), torch.randn(4, 3)
    layer(X).sum().backward()
    once = layer.weight.grad.clone()
    layer(X).sum().backward()  # no zero_grad in between: the second gradient is added
    torch.testing.assert_close(layer.weight.grad, 2 * once)
    # the momentum distractor: with the same gradient 50 times, SGD's momentum buffer (0.9)
    # stays below 10 gradients' worth, the never-cleared .grad holds 50
    w = nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    for _ in range(50):
        w.grad = torch.ones(3)
        opt.step()
    assert opt.state[w]["momentum_buffer"].max().item() < 10 < 50
    assert_choice("loop-zero-grad", "Every step uses the sum of all gradients so far")


def check_loop_sigmoid_lr():
    assert sigmoid_slope_max() == pytest.approx(0.25)
    # the Xavier distractor's explanation: with Xavier weights the sigmoid net's weight
    # gradients still shrink from the last layer to the first
    torch.manual_seed(0)
    net = init_xavier(get_model("d2l"))
    X, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    nn.functional.cross_entropy(net(X), y).backward()
    norms = [m.weight.grad.norm().item() for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert norms == sorted(norms) and norms[-1] > 100 * norms[0]
    assert_choice("loop-sigmoid-lr", "The sigmoid's slope is at most 0.25")


def check_loop_momentum():
    # a constant gradient for 200 steps: PyTorch's momentum step settles at 10 plain steps
    w = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    before = []
    for _ in range(200):
        before.append(w.item())
        w.grad = torch.ones(1)
        opt.step()
    ratio = (w.item() - before[-1]) / -(0.1 * 1.0)
    assert ratio == pytest.approx(10, rel=1e-6)
    assert_number("loop-momentum", ratio)


def check_loop_adamw():
    # one weight with a large gradient, one with a small one, equal values: Adam's L2 decay
    # depends on the gradients' size, AdamW's does not
    taken = {}
    for cls in (torch.optim.Adam, torch.optim.AdamW):
        kept = []
        for wd in (0.0, 0.1):
            torch.manual_seed(0)
            w = nn.Parameter(torch.ones(2))
            opt = cls([w], lr=0.01, weight_decay=wd)
            for _ in range(200):
                w.grad = torch.randn(2) * torch.tensor([1.0, 0.01])
                opt.step()
            kept.append(w.detach().clone())
        taken[cls] = (kept[0] - kept[1]).tolist()
    adam, adamw = taken[torch.optim.Adam], taken[torch.optim.AdamW]
    assert adam[1] > 3 * adam[0]  # Adam + decay: the small-gradient weight decays far more
    assert adamw[1] == pytest.approx(adamw[0], rel=0.2)  # AdamW: alike
    assert abs(adam[1] - adamw[1]) > 0.1  # not another name for the same thing
    for cls in (torch.optim.Adam, torch.optim.AdamW):
        opt = cls([nn.Parameter(torch.zeros(1))])
        assert opt.defaults["lr"] == 0.001 and opt.defaults["betas"][0] == 0.9  # momentum
    assert_choice("loop-adamw", "It shrinks every weight by the factor 1 − lr × weight_decay")


def check_sigmoid_slope():
    assert_number("sigmoid-slope", sigmoid_slope_max())


def check_zero_grad():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    before = net.weight.detach().clone()
    net(torch.ones(2, 3)).sum().backward()
    optimizer.step()
    stepped = net.weight.detach().clone()
    optimizer.zero_grad()
    assert not torch.equal(before, stepped)
    assert torch.equal(net.weight, stepped) and net.weight.grad is None
    assert_choice("zero-grad", "It resets only the gradients")


def check_test_selection():
    # the explanation's claim: the best of ten equally good epochs' noisy test accuracies is
    # biased upwards (10,000 test images, true accuracy 0.9, 2,000 repeats)
    gen = torch.Generator().manual_seed(0)
    measured = torch.binomial(torch.full((2000, 10), 10_000.0), torch.full((2000, 10), 0.9),
                              generator=gen) / 10_000
    best, mean = measured.max(1).values.mean().item(), measured.mean().item()
    assert abs(mean - 0.9) < 0.001 and best - 0.9 > 0.004  # ~1.5 standard errors too high
    X, y = torch.rand(100, 1, 4, 4), torch.arange(100) % 10
    train_iter, val_iter = split_validation(X, y, num_val=20, batch_size=10)
    # the validation split is carved out of the training data, the test set is not touched
    assert [sum(len(yb) for _, yb in it) for it in (train_iter, val_iter)] == [80, 20]
    assert_choice("test-selection", "It is optimistic: choose the epoch on a validation split")


CHECKS = checks_of(globals())


@pytest.mark.parametrize("key", keys(quiz.SELF_CHECK, quiz.FINAL_LOOP))
def test_answer_key_agrees_with_lenet_nb(key, request):
    run_check(CHECKS, key, request)


def test_every_check_belongs_to_a_question():
    assert sorted(CHECKS) == keys(quiz.SELF_CHECK, quiz.FINAL_LOOP)

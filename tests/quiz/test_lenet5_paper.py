"""lenet_nb.quiz.lenet5_paper: every answer of the chapter's questions that can be computed is
computed from lenet_nb and compared with the key."""

import math

import pytest
import torch
from torch import nn

from lenet_nb import lenet5
from lenet_nb.lessons.lenet5_plot import COMPARISONS
from lenet_nb.lessons.lenet5_train import DISTORT_EPOCHS, NUM_EPOCHS, SETTINGS
from lenet_nb.models import count_parameters, get_model
from lenet_nb.quiz import lenet5_paper as quiz
from tests.quiz.answer_key import (
    assert_choice,
    assert_number,
    checks_of,
    keys,
    run_check,
)


def first_linear(net):
    return next(m for m in net.modules() if isinstance(m, nn.Linear))


def check_paper_trainable():
    net = lenet5.LeNet5()
    assert count_parameters(net, trainable_only=False) == 60_000  # the RBF bitmaps are a buffer
    assert_number("paper-trainable", count_parameters(net))


def check_paper_longer():
    distorted, plain = SETTINGS["lenet5-distorted"], SETTINGS["lenet5-30"]
    assert distorted == dict(plain, distort=True)  # one change: the distortions
    assert plain == dict(SETTINGS["lenet5"], epochs=DISTORT_EPOCHS)  # one change: the length
    assert DISTORT_EPOCHS > NUM_EPOCHS == 20
    assert {(a, b) for a, b, _ in COMPARISONS} >= {("lenet5-distorted", "lenet5-30"),
                                                   ("lenet5-30", "lenet5")}
    assert_choice("paper-longer", "To tell the effect of the distortions")


def check_paper_c3_full():
    table = lenet5.c3_connections()
    assert int(table.sum()) == 60
    assert table.all(dim=0).nonzero().flatten().tolist() == [15]
    assert_choice("paper-c3-full", "One (the last)")


def check_paper_rbf():
    y_hat = torch.tensor([[5.0, 0.5, 9.0], [1.0, 3.0, 0.2]])
    assert lenet5.rbf_predict(y_hat).tolist() == [1, 2]
    assert lenet5.LeNet5().predict is lenet5.rbf_predict
    assert_choice("paper-rbf", "The unit with the smallest output")


def check_map_loss():
    y_hat = torch.tensor([[2.0, 1.0, 3.0]], requires_grad=True)
    loss = lenet5.MAPLoss(5.0)(y_hat, torch.tensor([0]))
    y = y_hat.detach()
    expected = y[0, 0] + torch.log(torch.exp(torch.tensor(-5.0)) + torch.exp(-y).sum())
    torch.testing.assert_close(loss.detach(), expected)  # the prompt's formula
    loss.backward()
    assert (y_hat.grad[0, 1:] < 0).all()  # raising a wrong class's penalty lowers the loss
    assert_choice("map-loss", "A reward for large penalties of the other classes")


def check_rbf_collapse():
    rbf = lenet5.RBF(torch.zeros(10, 84))  # ten equal centres
    F6 = torch.zeros(8, 84)  # F6 always at that point, whatever the input
    y_hat, y = rbf(F6), torch.arange(8)
    assert y_hat.abs().sum() == 0  # every penalty 0: the loss y_D is 0 too
    assert y_hat.gather(1, y.view(-1, 1)).sum() == 0
    torch.testing.assert_close(lenet5.MAPLoss(5.0)(y_hat, y), torch.log(torch.tensor(10.0)
                                                                        + math.exp(-5)))
    net = lenet5.LeNet5()  # the paper's centres are fixed: a buffer, not a parameter
    assert "output.centers" in dict(net.named_buffers())
    assert not any("centers" in name for name, _ in net.named_parameters())
    assert_choice("rbf-collapse", "All ten centres equal")


def check_masked_c3():
    net = lenet5.LeNet5()
    full = count_parameters(net) - count_parameters(net.C3) + count_parameters(nn.Conv2d(6, 16, 5))
    assert count_parameters(net.C3) == 1516
    assert_number("masked-c3", full)


def check_c3_why():
    # The reasons are the paper's words; what the code can confirm: C3 is not fully connected,
    # a full 6 -> 16 convolution gives the same shape, and the d2l LeNet trains a full one.
    assert int(lenet5.c3_connections().sum()) == 60 < 6 * 16
    S2 = torch.zeros(1, 6, 14, 14)
    assert lenet5.LeNet5().C3(S2).shape == nn.Conv2d(6, 16, 5)(S2).shape == (1, 16, 10, 10)
    assert get_model("d2l")[3].in_channels == 6
    assert_choice("c3-why", "It breaks the symmetry")


def check_f6_84():
    net = lenet5.LeNet5()
    assert net.F6.out_features == lenet5.rbf_bitmaps().shape[1] == 7 * 12
    assert all(len(row) == 7 for b in lenet5.DIGIT_BITMAPS for row in b) and all(
        len(b) == 12 for b in lenet5.DIGIT_BITMAPS
    )
    assert first_linear(get_model("d2l")[9:]).out_features == 84  # d2l copies the 84
    assert_choice("f6-84", "84 = 7 × 12")


def check_squash_one():
    assert_number("squash-one", lenet5.Squash()(torch.tensor(1.0)).item())


CHECKS = checks_of(globals())


@pytest.mark.parametrize("key", keys(quiz.SELF_CHECK, quiz.FINAL_PAPER))
def test_answer_key_agrees_with_lenet_nb(key, request):
    run_check(CHECKS, key, request)


def test_every_check_belongs_to_a_question():
    assert sorted(CHECKS) == keys(quiz.SELF_CHECK, quiz.FINAL_PAPER)

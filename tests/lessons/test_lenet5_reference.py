"""lenet_nb.lessons.lenet5_reference: the slow per-map LeNet-5 equals the fast one, outputs and
gradients, built the straightforward way."""

import pytest
import torch

from lenet_nb.lenet5 import LeNet5, MAPLoss
from lenet_nb.lessons.lenet5_reference import LeNet5Reference, reference_from


@pytest.fixture
def net():
    torch.manual_seed(0)
    return LeNet5()


def test_fast_model_equals_reference_outputs_and_gradients(net):
    net = net.double()
    ref = reference_from(net).double()
    X = torch.rand(4, 1, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 3, 7, 9])
    y_hat, y_ref = net(X), ref(X)
    torch.testing.assert_close(y_hat, y_ref, rtol=0, atol=1e-10)
    MAPLoss()(y_hat, y).backward()
    MAPLoss()(y_ref, y).backward()
    for name in ("C1", "S2", "S4", "C5", "F6"):
        for p, q in zip(getattr(net, name).parameters(), getattr(ref, name).parameters()):
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-9, atol=1e-12)
    for k, conv in enumerate(ref.C3.convs):
        torch.testing.assert_close(net.C3.kernel_grad(k), conv.weight.grad[0], rtol=1e-9,
                                   atol=1e-12)
        torch.testing.assert_close(net.C3.bias.grad[k], conv.bias.grad[0], rtol=1e-9,
                                   atol=1e-12)


def test_reference_is_a_separate_straightforward_model(net):
    ref = reference_from(net)
    assert isinstance(ref, LeNet5Reference)
    assert len(ref.C3.convs) == 16
    assert sum(p.numel() for p in ref.parameters()) == 60_000


def test_batch_size_one_keeps_the_batch_dimension(net):
    assert reference_from(net)(torch.rand(1, 1, 32, 32)).shape == (1, 10)

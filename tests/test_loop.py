"""The bare training loop: same numbers as `fit` for the same seed, and it really trains."""

import pytest
import torch
from torch import nn

from lenet_nb.data import TensorBatches
from lenet_nb.loop import train_epoch
from lenet_nb.models import LeNet, init_xavier
from lenet_nb.train import evaluate_accuracy, fit


def tiny_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def fresh_net():
    torch.manual_seed(0)
    return init_xavier(LeNet())


def test_one_epoch_equals_fit_with_the_same_seed():
    X, y = tiny_data(70, 0)  # batches 32, 32, 6: the last one partial
    Xt, yt = tiny_data(20, 1)
    train_iter, test_iter = TensorBatches(X, y, 32, shuffle=True), TensorBatches(Xt, yt, 8)
    net = fresh_net()
    train_iter.generator.manual_seed(3)
    loss, acc = train_epoch(net, train_iter, nn.CrossEntropyLoss(),
                            torch.optim.SGD(net.parameters(), lr=0.9))
    test_acc = evaluate_accuracy(net, test_iter)
    net_fit = fresh_net()
    h = fit(net_fit, train_iter, test_iter, 1, lr=0.9, seed=3, device="cpu",
            channels_last=False, progress=False, live=False)
    assert loss == pytest.approx(h[0]["train_loss"], abs=1e-6)
    assert acc == h[0]["train_acc"] and test_acc == h[0]["test_acc"]
    for p, q in zip(net.parameters(), net_fit.parameters()):
        assert torch.equal(p, q)


def test_loss_and_accuracy_are_counted_per_sample():
    # a net that ignores its input: the loss of every sample is log(3), accuracy = share of 0s
    net = nn.Sequential(nn.Flatten(), nn.Linear(1, 3))
    nn.init.zeros_(net[1].weight)
    nn.init.zeros_(net[1].bias)
    X, y = torch.zeros(5, 1, 1, 1), torch.tensor([0, 1, 2, 0, 1])
    updater = torch.optim.SGD(net.parameters(), lr=0.0)
    loss, acc = train_epoch(net, TensorBatches(X, y, 2), nn.CrossEntropyLoss(), updater)
    assert loss == pytest.approx(torch.log(torch.tensor(3.0)).item())
    assert acc == 2 / 5  # argmax of equal scores is class 0; batch means would give 0.5


def test_train_epoch_switches_to_training_mode_and_lowers_the_loss():
    X, y = tiny_data(64, 0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    net.eval()
    updater = torch.optim.SGD(net.parameters(), lr=0.05)
    data = TensorBatches(X, y, 16)
    first, _ = train_epoch(net, data, nn.CrossEntropyLoss(), updater)
    assert net.training
    for _ in range(5):
        last, _ = train_epoch(net, data, nn.CrossEntropyLoss(), updater)
    assert last < first

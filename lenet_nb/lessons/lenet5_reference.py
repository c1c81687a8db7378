"""The slow teaching reference for LeNet-5: one small conv per C3 map, one loop step per map.

Written the straightforward way (as the 2020 reproduction does, minus its bugs) so that the fast
`lenet_nb.lenet5.LeNet5` can be checked against it in tests/test_lenet5.py and timed against it
in benchmarks/lenet5_step.py. Do not train with it: it is several times slower.
"""

import time

import torch
from torch import nn

from lenet_nb.lenet5 import C3_TABLE, LeNet5, MAPLoss


class LoopSubsampling(nn.Module):
    """S2/S4 the obvious way: 2x2 sum, then coefficient and bias, one map at a time."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, X):
        sums = X[:, :, 0::2, 0::2] + X[:, :, 1::2, 0::2] + X[:, :, 0::2, 1::2] + X[:, :, 1::2, 1::2]
        maps = [sums[:, c] * self.weight[c] + self.bias[c] for c in range(sums.shape[1])]
        return torch.stack(maps, dim=1)


class LoopTableConv2d(nn.Module):
    """C3 the obvious way: for each output map, a conv over the S2 maps Table I lists."""

    def __init__(self, table=C3_TABLE, kernel_size=5):
        super().__init__()
        self.table = tuple(map(tuple, table))
        self.convs = nn.ModuleList(nn.Conv2d(len(t), 1, kernel_size) for t in self.table)

    def forward(self, X):
        return torch.cat([conv(X[:, list(t)]) for conv, t in zip(self.convs, self.table)], dim=1)


class LeNet5Reference(LeNet5):
    """LeNet5 (RBF head) with S2, C3 and S4 swapped for the loop versions above."""

    def __init__(self):
        super().__init__("rbf")
        self.S2 = LoopSubsampling(6)
        self.C3 = LoopTableConv2d(C3_TABLE, 5)
        self.S4 = LoopSubsampling(16)


def reference_from(net):
    """Build a LeNet5Reference holding exactly the weights of the fast LeNet5 `net`."""
    ref = LeNet5Reference()
    with torch.no_grad():
        for name in ("C1", "S2", "S4", "C5", "F6"):
            getattr(ref, name).load_state_dict(getattr(net, name).state_dict())
        for k, conv in enumerate(ref.C3.convs):
            conv.weight.copy_(net.C3.kernel(k).unsqueeze(0))
            conv.bias.copy_(net.C3.bias[k : k + 1])
    return ref


def images_per_s(net, batch_size, steps, warmup=3):
    """Time `steps` SGD steps (forward, MAP loss, backward, update) on random data."""
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(batch_size, 1, 32, 32, generator=gen)
    y = torch.randint(0, 10, (batch_size,), generator=gen)
    loss, trainer = MAPLoss(), torch.optim.SGD(net.parameters(), lr=1e-4, momentum=0.9)
    for i in range(warmup + steps):
        if i == warmup:
            start = time.perf_counter()
        trainer.zero_grad()
        loss(net(X), y).backward()
        trainer.step()
    return steps * batch_size / (time.perf_counter() - start)

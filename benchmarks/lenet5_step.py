"""Training images/s of the fast LeNet5 vs the per-map/per-channel reference, same weights.

Run: .venv/bin/python benchmarks/lenet5_step.py [--steps N]
"""

import argparse
import time

import torch

from lenet_nb.lenet5 import LeNet5, MAPLoss
from lenet_nb.lenet5_reference import reference_from


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="steps per measurement")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'batch':>6}{'fast img/s':>12}{'reference img/s':>17}{'ratio':>8}")
    for batch_size in (32, 256):
        steps = args.steps or (200 if batch_size == 32 else 40)
        torch.manual_seed(0)
        net = LeNet5()
        ref = reference_from(net)
        fast, slow = images_per_s(net, batch_size, steps), images_per_s(ref, batch_size, steps)
        print(f"{batch_size:>6}{fast:>12,.0f}{slow:>17,.0f}{fast / slow:>7.1f}x")


if __name__ == "__main__":
    main()

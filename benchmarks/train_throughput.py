"""One epoch of the d2l LeNet on Fashion-MNIST: the seeds' loop vs lenet_nb's fast path.

(a) torchvision FashionMNIST + ToTensor + DataLoader(num_workers=4), a plain loop, as the seeds
    train; (b) lenet_nb.data's in-memory batches + lenet_nb.train.fit. Same network, same init,
    SGD lr 0.9, batch 256, one epoch each, measured in this process. Prints images/s and b/a
    for each repeat (alternating a and b, a new seed each time) and the median ratio.
Run: `make bench` or `.venv/bin/python benchmarks/train_throughput.py [--epochs N] [--repeats R]`.
"""

import argparse
import statistics
import time

import torch
import torchvision
from torch import nn
from torchvision import transforms

from lenet_nb import data, models, train


def seeds_loop(net, batch_size, lr, num_epochs):
    """The tutorials' way: a torchvision Dataset read through 4 DataLoader workers."""
    to_tensor = transforms.ToTensor()
    root = str(data.data_root())
    train_ds = torchvision.datasets.FashionMNIST(root, train=True, transform=to_tensor)
    test_ds = torchvision.datasets.FashionMNIST(root, train=False, transform=to_tensor)
    train_iter = torch.utils.data.DataLoader(train_ds, batch_size, shuffle=True, num_workers=4)
    test_iter = torch.utils.data.DataLoader(test_ds, batch_size, shuffle=False, num_workers=4)
    opt, loss = torch.optim.SGD(net.parameters(), lr=lr), nn.CrossEntropyLoss()
    n, start = 0, time.perf_counter()
    for _ in range(num_epochs):
        net.train()
        for X, y in train_iter:
            opt.zero_grad()
            loss(net(X), y).backward()
            opt.step()
            n += len(y)
    seconds = time.perf_counter() - start
    return n / seconds, train.evaluate_accuracy(net, test_iter)


def fast_path(net, batch_size, lr, num_epochs):
    """lenet_nb: the split held as one tensor, index batches, `fit`."""
    data.load_split("FashionMNIST")  # verify (hash) outside the timed region, as (a) does not
    train_iter, test_iter = data.load_data_fashion_mnist(batch_size)
    h = train.fit(net, train_iter, test_iter, num_epochs, lr=lr, device="cpu", progress=False,
                  live=False)
    return sum(r["images_per_s"] for r in h) / len(h), h.test_acc[-1]


def main():
    """Measure both paths (alternating, one seed per repeat) and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3,
                        help="alternating (a, b) measurements; a shared machine is noisy")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.epochs} epoch(s), batch 256, SGD lr 0.9, d2l LeNet (Xavier init)")
    runs = (("a seeds' DataLoader loop", seeds_loop), ("b lenet_nb fast path", fast_path))
    ratios, accs = [], {label: [] for label, _ in runs}
    for seed in range(args.repeats):
        speeds = []
        for label, run in runs:
            torch.manual_seed(seed)  # same initial weights for (a) and (b)
            net = models.init_xavier(models.LeNet())
            speed, acc = run(net, 256, 0.9, args.epochs)
            speeds.append(speed)
            accs[label].append(acc)
            print(f"seed {seed}  {label:26s} {speed:8.0f} images/s   test acc {acc:.4f}")
        ratios.append(speeds[1] / speeds[0])
        print(f"seed {seed}  ratio b/a: {ratios[-1]:.2f}x")
    print(f"median ratio b/a over {args.repeats} repeat(s): {statistics.median(ratios):.2f}x "
          f"(min {min(ratios):.2f}x, max {max(ratios):.2f}x)")
    for label, values in accs.items():
        print(f"test acc {label:26s} mean {statistics.mean(values):.4f} "
              f"(min {min(values):.4f}, max {max(values):.4f})")


if __name__ == "__main__":
    main()

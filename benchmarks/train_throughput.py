"""One epoch of the d2l LeNet on Fashion-MNIST: tutorials' loop, lenet_nb's fast path, ceiling.

(a) torchvision FashionMNIST + ToTensor + DataLoader(num_workers=4), a plain loop, as the
    tutorials train; (b) lenet_nb.data's in-memory batches + lenet_nb.train.fit. Same network,
    same init, SGD lr 0.9, batch 256, one epoch each, measured in this process. Prints images/s,
    b/a and b/c for each repeat (a, b, c in turn, a new seed each time) and the median ratios.
(c) the compute ceiling: the same network's forward, loss, backward and step on ONE batch held
    in memory, repeated as many times as an epoch has batches (no data movement at all), timed
    in chunks of 20 steps and the best chunk kept (on a shared machine noise only slows a chunk
    down). b/c says how much of the pure compute rate the fast path keeps (1.00x: no overhead).
Run: `make bench` or `.venv/bin/python benchmarks/train_throughput.py [--epochs N] [--repeats R]`.
"""

import statistics
import time

import torch
import torchvision
from torch import nn
from torchvision import transforms

from lenet_nb import cli, data, models, train


def tutorials_loop(net, batch_size, lr, num_epochs):
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


def ceiling(net, batch_size, lr, num_epochs):
    """The compute ceiling: one resident batch, forward/backward/step repeated, nothing else."""
    X, y = next(iter(data.load_data_fashion_mnist(batch_size)[0]))
    X, y = X.contiguous(), y.contiguous()
    opt, loss = torch.optim.SGD(net.parameters(), lr=lr), nn.CrossEntropyLoss()
    steps = num_epochs * (60_000 // batch_size)
    net.train()
    for _ in range(10):  # untimed warm-up: first calls allocate and pick kernels
        loss(net(X), y).backward()
    rates = []
    for _ in range(steps // 20):  # best of short chunks: a ceiling, so noise only lowers it
        start = time.perf_counter()
        for _ in range(20):
            batch_loss = loss(net(X), y)
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            opt.step()
        rates.append(20 * batch_size / (time.perf_counter() - start))
    return max(rates), float("nan")  # no test accuracy: it saw one batch


def main():
    """Measure the three (alternating, one seed per repeat) and print the ratios."""
    parser = cli.parser("benchmarks/train_throughput.py", __doc__)
    parser.add_argument("--epochs", type=cli.whole_number(1), default=1)
    parser.add_argument("--repeats", type=cli.whole_number(1), default=3,
                        help="alternating (a, b) measurements; a shared machine is noisy")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.epochs} epoch(s), batch 256, SGD lr 0.9, d2l LeNet (Xavier init)")
    runs = (("a tutorials' DataLoader", tutorials_loop), ("b lenet_nb fast path", fast_path),
            ("c ceiling (one batch)", ceiling))
    ratios, ceiling_ratios = [], []
    accs = {label: [] for label, _ in runs[:2]}
    for seed in range(args.repeats):
        speeds = []
        for label, run in runs:
            torch.manual_seed(seed)  # same initial weights for (a) and (b)
            net = models.init_xavier(models.LeNet())
            speed, acc = run(net, 256, 0.9, args.epochs)
            speeds.append(speed)
            if label in accs:
                accs[label].append(acc)
            shown = f"test acc {acc:.4f}" if label in accs else "(no evaluation)"
            print(f"seed {seed}  {label:26s} {speed:8.0f} images/s   {shown}")
        ratios.append(speeds[1] / speeds[0])
        ceiling_ratios.append(speeds[1] / speeds[2])
        print(f"seed {seed}  ratio b/a: {ratios[-1]:.2f}x   fast path / ceiling b/c: "
              f"{ceiling_ratios[-1]:.2f}x")
    for name, values in (("b/a (fast path / tutorials' loop)", ratios),
                         ("b/c (fast path / compute ceiling)", ceiling_ratios)):
        print(f"median {name} over {args.repeats} repeat(s): {statistics.median(values):.2f}x "
              f"(min {min(values):.2f}x, max {max(values):.2f}x)")
    for label, values in accs.items():
        print(f"test acc {label:26s} mean {statistics.mean(values):.4f} "
              f"(min {min(values):.4f}, max {max(values):.4f})")


if __name__ == "__main__":
    main()

"""Chapter 4's budget check: LeNet-5's error on 10,000 held-out MNIST training images.

Trains on the other 50,000, so settings are compared without looking at the test set; prints
the validation error per (batch, epochs, peak lr, weight decay, j, seed). Chapter 4 quotes its
results. One run of 20 epochs takes about 2 minutes on 2 cores.
Run: .venv/bin/python tools/lenet5_validation.py --batch 128 --epochs 20 --lr 0.01 --seeds 0 1
"""

import argparse
import time

import torch

from lenet_nb.data import TensorBatches, load_split, to_float
from lenet_nb.lenet5 import MAP_J, MAPLoss
from lenet_nb.lenet5_train import LRS, NUM_EPOCHS, build, make_optimizer
from lenet_nb.train import fit

HOLDOUT, SPLIT_SEED = 10_000, 1234


def validation_split(batch_size, seed):
    """(train_iter, val_iter): MNIST's training set padded to 32x32, 10,000 images held out."""
    X, y = load_split("MNIST", train=True)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
    train_idx, val_idx = perm[HOLDOUT:], perm[:HOLDOUT]
    X = to_float(X, pad=2)
    return (TensorBatches(X[train_idx], y[train_idx], batch_size, shuffle=True, seed=seed),
            TensorBatches(X[val_idx], y[val_idx], 1000))


def main():
    """Train one LeNet-5 per seed with the given settings; print the validation error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=NUM_EPOCHS)
    parser.add_argument("--lr", type=float, default=LRS["lenet5"], help="one-cycle peak rate")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--j", type=float, default=MAP_J, help="the MAP loss's constant j")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    for seed in args.seeds:
        train_iter, val_iter = validation_split(args.batch, seed)
        net, _, predict = build("lenet5", seed)
        loss = MAPLoss(args.j)
        optimizer, scheduler = make_optimizer("lenet5", net, args.lr, args.epochs,
                                              len(train_iter), args.weight_decay)
        start = time.perf_counter()
        h = fit(net, train_iter, val_iter, args.epochs, optimizer=optimizer, scheduler=scheduler,
                scheduler_per_batch=True, loss=loss, predict=predict, device="cpu", seed=seed,
                progress=False, live=False)
        print(f"batch {args.batch}, {args.epochs} epochs, lr {args.lr:g}, weight decay "
              f"{args.weight_decay:g}, j {args.j:g}, seed {seed}: validation error "
              f"{100 * (1 - h[-1]['test_acc']):.2f} % ({time.perf_counter() - start:.0f} s)",
              flush=True)


if __name__ == "__main__":
    main()

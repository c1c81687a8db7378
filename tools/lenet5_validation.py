"""Chapter 5's budget check: LeNet-5's error on 10,000 held-out MNIST training images.

Trains on the other 50,000, so settings are compared without looking at the test set; prints
the validation error per (batch, epochs, peak lr, weight decay, j, seed) and merges each finished
run into results/lenet5_validation.csv (atomically; a re-run of the same settings and seed replaces
its row), which chapter 5 renders. One run of 20 epochs takes about 2 minutes on 2 cores.
Run: .venv/bin/python tools/lenet5_validation.py --batch 128 --epochs 20 --lr 0.01 --seeds 0 1 2
"""

import sys
import time
from datetime import UTC, datetime

import torch

from lenet_nb import cli
from lenet_nb.data import DataError, TensorBatches, load_split, to_float
from lenet_nb.files import check_writable
from lenet_nb.lenet5 import MAP_J, MAPLoss
from lenet_nb.lessons.lenet5_train import (
    HOLDOUT,
    LRS,
    NUM_EPOCHS,
    SPLIT_SEED,
    VALIDATION_FILE,
    add_validation_rows,
    build,
    make_optimizer,
    read_validation_rows,
)
from lenet_nb.train import TrainingDiverged, TrainingInterrupted, fit


def validation_split(batch_size, seed):
    """(train_iter, val_iter): MNIST's training set padded to 32x32, 10,000 images held out."""
    X, y = load_split("MNIST", train=True)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
    train_idx, val_idx = perm[HOLDOUT:], perm[:HOLDOUT]
    X = to_float(X, pad=2)
    return (TensorBatches(X[train_idx], y[train_idx], batch_size, shuffle=True, seed=seed),
            TensorBatches(X[val_idx], y[val_idx], 1000))


def main(argv=None):
    """Command line: train one LeNet-5 per seed; print and store each finished run."""
    return cli.run(_main, argv, errors=(DataError,))


def _main(argv):
    parser = cli.parser("tools/lenet5_validation.py", __doc__)
    parser.add_argument("--model", default="lenet5", choices=["lenet5", "lenet5-softmax"])
    parser.add_argument("--batch", type=cli.whole_number(1), default=128)
    parser.add_argument("--epochs", type=cli.whole_number(1), default=NUM_EPOCHS)
    parser.add_argument("--lr", type=cli.number(0), default=None, help="one-cycle peak rate")
    parser.add_argument("--weight-decay", type=cli.number(0, strict=False), default=0.0)
    parser.add_argument("--j", type=cli.number(0), default=MAP_J,
                        help="the MAP loss's constant j")
    parser.add_argument("--seeds", type=cli.whole_number(0), nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default=VALIDATION_FILE, help="CSV file the runs are merged into")
    args = parser.parse_args(argv)
    # the results file is checked before hours of training: writable, and one of ours
    read_validation_rows(check_writable(args.out, what="--out"))
    lr = LRS[args.model] if args.lr is None else args.lr
    failed = 0
    for seed in args.seeds:
        try:
            failed += not run_seed(args, lr, seed)
        except TrainingInterrupted as stop:  # only finished runs are stored
            raise KeyboardInterrupt(f"seed {seed} stopped in epoch {len(stop.history) + 1} of "
                                    f"{args.epochs}: nothing written for it; the seeds before "
                                    f"it are in {args.out}") from None
    return 1 if failed else 0


def run_seed(args, lr, seed):
    """Train and store one seed's run; False (and a message) if its loss diverged."""
    train_iter, val_iter = validation_split(args.batch, seed)
    net, loss, predict = build(args.model, seed)
    if args.model == "lenet5":
        loss = MAPLoss(args.j)
    optimizer, scheduler = make_optimizer(args.model, net, lr, args.epochs,
                                          len(train_iter), args.weight_decay)
    start = time.perf_counter()
    try:
        h = fit(net, train_iter, val_iter, args.epochs, optimizer=optimizer, scheduler=scheduler,
                scheduler_per_batch=True, loss=loss, predict=predict, device="cpu", seed=seed,
                progress=False, live=False)
    except TrainingDiverged as stop:
        print(f"error: seed {seed}: {stop.args[0].split(';')[0]}: nothing written for it; try a "
              f"smaller --lr (now {lr:g})", file=sys.stderr)
        return False
    seconds, error = time.perf_counter() - start, 1 - h[-1]["test_acc"]
    j = args.j if args.model == "lenet5" else float("nan")  # no j without the MAP loss
    print(f"{args.model}, batch {args.batch}, {args.epochs} epochs, lr {lr:g}, weight decay "
          f"{args.weight_decay:g}, j {j:g}, seed {seed}: validation error "
          f"{100 * error:.2f} % ({seconds:.0f} s)", flush=True)
    add_validation_rows([dict(
        model=args.model, batch=args.batch, epochs=args.epochs, lr=lr,
        weight_decay=args.weight_decay, j=j, seed=seed, val_error=round(error, 6),
        seconds=round(seconds, 1), threads=torch.get_num_threads(),
        finished=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))], args.out)
    return True


if __name__ == "__main__":
    sys.exit(main())

"""Choosing a learning rate: a validation split held out of the training set, a sweep, a plot."""

import numbers

import torch

from lenet_nb.data import TensorBatches
from lenet_nb.train import TrainingDiverged, TrainingInterrupted, fit
from lenet_nb.validate import whole_number


def split_validation(X, y, num_val, batch_size, seed=0, val_batch_size=1000):
    """(train_iter, val_iter): num_val random samples held out, the rest shuffled for training."""
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} images but y has {len(y)} labels: one label per image")
    if isinstance(num_val, numbers.Real) and 0 < num_val < 1:
        raise ValueError(f"num_val is a count of images, not a fraction: {num_val} of {len(y)} "
                         f"is num_val={round(num_val * len(y))}")
    num_val = whole_number("num_val", num_val)
    if not 0 < num_val < len(y):
        raise ValueError(f"num_val must be between 1 and {len(y) - 1}, got {num_val}")
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    val, train = perm[:num_val], perm[num_val:]
    return (TensorBatches(X[train], y[train], batch_size, shuffle=True, seed=seed),
            TensorBatches(X[val], y[val], val_batch_size))


def lr_sweep(build, train_iter, val_iter, lrs, num_epochs=1, seed=0):
    """Train `build()` once per lr with plain SGD (same seed, same batch order).

    `build` returns a fresh, seeded network. Returns one record per lr: lr, train_loss,
    train_acc and val_acc after the last epoch; a rate whose loss diverged gets None for all
    three and `diverged` (e.g. 'epoch 1, batch 3'), and the other rates go on. A Ctrl-C
    raises TrainingInterrupted carrying the finished rates' records as `e.partial_results`.
    """
    if isinstance(build, torch.nn.Module) or not callable(build):
        raise ValueError(f"build must be a function that returns a fresh network, e.g. "
                         f"lambda: LeNet(); got {type(build).__name__}")
    results, nets = [], []
    for lr in lrs:
        net = build()
        if any(net is old for old in nets):  # each rate would go on from the last one's weights
            raise ValueError("build returned the same network twice: it must build a new one "
                             "each call (lambda: LeNet(), not lambda: net)")
        nets.append(net)
        try:
            history = fit(net, train_iter, val_iter, num_epochs, lr=lr, seed=seed,
                          progress=False, live=False)
        except TrainingDiverged as stop:
            results.append({"lr": lr, "train_loss": None, "train_acc": None, "val_acc": None,
                            "diverged": f"epoch {stop.epoch}, batch {stop.batch}"})
            continue
        except TrainingInterrupted as stop:
            stop.partial_results = results
            raise
        last = history[-1]
        results.append({"lr": lr, "train_loss": last["train_loss"],
                        "train_acc": last["train_acc"], "val_acc": last["test_acc"]})
    return results


def best_lr(results):
    """The learning rate with the highest validation accuracy (the smaller one on a tie)."""
    finished = [r for r in results if r["val_acc"] is not None]
    if not finished:
        raise ValueError("no learning rate to choose from: the sweep is empty" if not results
                         else "every rate in the sweep diverged: try smaller ones")
    return max(finished, key=lambda r: (r["val_acc"], -r["lr"]))["lr"]


def _cell(record):
    return "diverged" if record["val_acc"] is None else f"{record['val_acc']:.4f}"


def sweep_table(results_by_label):
    """Markdown table: one row per lr, one validation-accuracy column per sweep."""
    labels = [k for k, v in results_by_label.items() if v]
    if not labels:
        raise ValueError("sweep_table needs at least one sweep with results, e.g. "
                         "{'sigmoid': lr_sweep(...)}")
    lrs = [r["lr"] for r in results_by_label[labels[0]]]
    lines = ["| lr | " + " | ".join(f"{k}: val acc" for k in labels) + " |",
             "|---|" + "---|" * len(labels)]
    for i, lr in enumerate(lrs):
        cells = [_cell(results_by_label[k][i]) for k in labels]
        lines.append(f"| {lr:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_lr_sweep(results_by_label, ax=None, chance=0.1):
    """Validation accuracy against the learning rate (log axis), one line per sweep; the axis."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3))
    for label, results in results_by_label.items():
        finished = [r for r in results if r["val_acc"] is not None]  # diverged: no point
        ax.plot([r["lr"] for r in finished], [r["val_acc"] for r in finished], "o-",
                label=label)
    ax.axhline(chance, color="gray", lw=0.8, ls=":", label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("validation accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax

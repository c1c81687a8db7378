"""Plots for the chapters: image grids, predictions, training curves, seed bands, confusion
matrices."""

import matplotlib.pyplot as plt
import torch

from lenet_nb.history import History
from lenet_nb.stats import mean_range
from lenet_nb.train import argmax_predict
from lenet_nb.validate import whole_number


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5, colors=None, cmap="gray",
                colorbar=None):
    """Show a grid of images (tensors [H, W] or [1, H, W]); returns the axes (flattened).

    With `colorbar` (its label) all images share one colour scale, shown by one colour bar,
    so the same shade means the same value in every panel.
    """
    num_rows, num_cols = whole_number("num_rows", num_rows), whole_number("num_cols", num_cols)
    if len(imgs) > num_rows * num_cols:
        raise ValueError(f"{len(imgs)} images do not fit a {num_rows}x{num_cols} grid")
    _, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale),
                           squeeze=False)
    axes = axes.flatten()
    imgs = [img.detach().cpu() if torch.is_tensor(img) else torch.as_tensor(img) for img in imgs]
    imgs = [(img.squeeze(0) if img.dim() == 3 else img).float() for img in imgs]
    scale_kw = {}
    if colorbar is not None and imgs:
        scale_kw = {"vmin": min(float(i.min()) for i in imgs),
                    "vmax": max(float(i.max()) for i in imgs)}
    shown = None
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= len(imgs):
            continue
        shown = ax.imshow(imgs[i].numpy(), cmap=cmap, **scale_kw)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8, color=colors[i] if colors else "black")
    if colorbar is not None and shown is not None:
        ax.figure.colorbar(shown, ax=list(axes), shrink=0.8, label=colorbar)
    return axes


def predict_classes(net, X, predict=None):
    """Predicted class ids of a batch, in eval mode without gradients."""
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            return (predict or argmax_predict)(net(X.to(device))).cpu()
    finally:
        net.train(was_training)


def show_predictions(net, X, y, n=20, labels=None, predict=None, num_cols=10, scale=1.5):
    """Grid of the first n images titled "label\\nPred: pred"; mistakes in red. Returns axes."""
    n, num_cols = whole_number("n", n), whole_number("num_cols", num_cols)
    X, y = X[:n], y[:n]
    y_pred = predict_classes(net, X, predict)
    name = (lambda i: labels[int(i)]) if labels is not None else (lambda i: str(int(i)))
    titles = [f"{name(t)}\nPred: {name(p)}" for t, p in zip(y, y_pred)]
    colors = ["black" if int(t) == int(p) else "red" for t, p in zip(y, y_pred)]
    num_rows = -(-len(X) // num_cols)
    return show_images(X, num_rows, num_cols, titles=titles, scale=scale, colors=colors)


def plot_history(history, ax=None, label=None):
    """Train loss, train accuracy and test accuracy per epoch on one axis; returns it.

    A stopped run's history (from a TrainingStopped exception) is titled as such.
    """
    if not history:
        raise ValueError("the history has no finished epochs: nothing to plot")
    if not isinstance(history, History):  # a plain list of fit's records works too
        history = History(history)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3))
    status = getattr(history, "status", lambda: "")()
    if status:
        ax.set_title(status, fontsize=9, color="tab:red")
    epochs = history.column("epoch")
    prefix = f"{label}: " if label else ""
    ax.plot(epochs, history.train_loss, "-", label=f"{prefix}train loss")
    ax.plot(epochs, history.train_acc, "--", label=f"{prefix}train acc")
    ax.plot(epochs, history.test_acc, "-.", label=f"{prefix}test acc")
    ax.set_xlabel("epoch")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_bands(settings, ax=None, ylabel=None):
    """Per setting, the mean over seeds per epoch (a line) inside its lowest-highest band.

    `settings`: {label: per-epoch curves, one per seed}, or the Settings that
    `lenet_nb.experiments.summary(rows, by, metric)` returns (their diverged runs are counted
    in the legend, never drawn). Returns the axis: draw a live run on top with
    `ax.plot(range(1, len(curve) + 1), curve, "k-", lw=2, label="this run")`.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    for i, (label, setting) in enumerate(settings.items()):
        curves, diverged = getattr(setting, "values", setting), getattr(setting, "diverged", 0)
        gone = f"; {diverged} diverged" if diverged else ""
        if not curves:
            ax.plot([], [], color=f"C{i % 10}", label=f"{label}: all {diverged} diverged")
            continue
        if len({len(c) for c in curves}) > 1:
            raise ValueError(f"{label}: the curves have different lengths "
                             f"{[len(c) for c in curves]}; a band needs one value per seed "
                             f"at every epoch")
        mean, low, high = zip(*(mean_range(epoch) for epoch in zip(*curves)))
        epochs = range(1, len(mean) + 1)
        ax.fill_between(epochs, low, high, color=f"C{i % 10}", alpha=0.2, linewidth=0)
        ax.plot(epochs, mean, color=f"C{i % 10}",
                label=f"{label} (mean and range of {len(curves)} "
                      f"seed{'s' if len(curves) != 1 else ''}{gone})")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def confusion_matrix(net, data_iter, num_classes=10, predict=None):
    """Counts [true class, predicted class] over a data iterator."""
    num_classes = whole_number("num_classes", num_classes)
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for X, y in data_iter:
        y, y_pred = y.cpu().view(-1), predict_classes(net, X, predict)
        for what, ids in (("labels", y), ("predictions", y_pred)):
            # an id >= num_classes would be counted in another class's cell
            if ids.numel() and not 0 <= int(ids.min()) <= int(ids.max()) < num_classes:
                raise ValueError(f"{what} must be class ids in 0..{num_classes - 1}, got ids "
                                 f"from {int(ids.min())} to {int(ids.max())}; pass "
                                 f"num_classes={int(ids.max()) + 1} if there are that many")
        cm += torch.bincount(y * num_classes + y_pred,
                             minlength=num_classes ** 2).reshape(num_classes, num_classes)
    return cm


def plot_confusion_matrix(cm, labels=None, ax=None):
    """Draw a confusion matrix with counts in the cells; returns the axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    k = cm.shape[0]
    ax.imshow(torch.as_tensor(cm).numpy(), cmap="Blues")
    ticks = labels if labels is not None else [str(i) for i in range(k)]
    ax.set_xticks(range(k), ticks, rotation=90, fontsize=8)
    ax.set_yticks(range(k), ticks, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = int(cm.max()) if cm.numel() else 0
    for i in range(k):
        for j in range(k):
            v = int(cm[i, j])
            ax.text(j, i, v, ha="center", va="center", fontsize=6,
                    color="white" if v > top / 2 else "black")
    return ax

"""Pictures for chapter 5: Table I as a grid, the RBF bitmaps, F6 codes, misclassified digits."""

import matplotlib.pyplot as plt
import torch

from lenet_nb.lenet5 import c3_connections, rbf_bitmaps
from lenet_nb.plot import show_images

SQUASH_MAX = 1.7159  # the squashing function's bound: F6 outputs lie in (-A, A)


def plot_c3_table(ax=None):
    """Draw Table I: which S2 map (row) feeds which C3 map (column); returns the axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 2.6))
    table = c3_connections()
    ax.imshow(table.float().numpy(), cmap="Greys", vmin=0, vmax=1.6)
    for i, k in table.nonzero().tolist():
        ax.text(k, i, "X", ha="center", va="center", fontsize=9, color="white")
    ax.set_xticks(range(16))
    ax.set_yticks(range(6))
    ax.set_xlabel("C3 map")
    ax.set_ylabel("S2 map")
    ax.set_title(f"Table I: {int(table.sum())} of 96 connections")
    return ax


def as_bitmap(code):
    """An 84-vector (F6 output or RBF centre) as the 12x7 image it encodes."""
    return code.detach().cpu().reshape(12, 7)


def show_bitmaps(scale=1.0):
    """The ten fixed RBF centres drawn as 7x12 images; returns the axes."""
    imgs = [-as_bitmap(b) for b in rbf_bitmaps()]  # negate: ink (+1) shows dark on gray cmap
    return show_images(imgs, 1, 10, titles=[str(d) for d in range(10)], scale=scale)


def collect_errors(net, data_iter, predict):
    """All misclassified images of data_iter: (X, y, y_pred)."""
    net.eval()
    Xs, ys, ps = [], [], []
    with torch.inference_mode():
        for X, y in data_iter:
            y_pred = predict(net(X))
            wrong = y_pred != y
            Xs.append(X[wrong])
            ys.append(y[wrong])
            ps.append(y_pred[wrong])
    return torch.cat(Xs), torch.cat(ys), torch.cat(ps)


def show_codes(net, X, y, scale=1.2):
    """For each image: the digit, its F6 code as 7x12, the bitmap of the predicted class.

    One colour map (ink dark) for every column; F6 codes and bitmaps share one scale, the
    squashing function's range, shown by the colour bar. Returns the axes (flattened).
    """
    net.eval()
    with torch.inference_mode():
        codes = net.features(X)
        y_pred = net.predict(net.output(codes))
    fig, axes = plt.subplots(len(X), 3, figsize=(3 * scale + 0.8, len(X) * scale), squeeze=False)
    for row, img, code, label, pred in zip(axes, X, codes, y, y_pred):
        row[0].imshow(img.squeeze(0).numpy(), cmap="gray_r", vmin=0, vmax=1)
        for ax, picture in ((row[1], as_bitmap(code)), (row[2], as_bitmap(rbf_bitmaps()[pred]))):
            image = ax.imshow(picture.numpy(), cmap="gray_r", vmin=-SQUASH_MAX, vmax=SQUASH_MAX)
        for ax, title in zip(row, (f"label {int(label)}", "F6 output", f"bitmap {int(pred)}")):
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.colorbar(image, ax=axes[:, 1:].ravel().tolist(), shrink=0.6,
                 label="F6 value / bitmap pixel (digit: pixel 0–1)")
    return axes.flatten()


def plot_loss_and_accuracy(histories, labels, axes=None):
    """Training loss (left) and train/test accuracy (right) per epoch, one line per run.

    Two panels because the MAP loss is not on accuracy's 0–1 scale. Returns the two axes.
    """
    if len(histories) != len(labels):
        raise ValueError(f"{len(histories)} histories but {len(labels)} labels: give one each")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8, 2.8))
    ax_loss, ax_acc = axes
    for h, label in zip(histories, labels):
        epochs = [r["epoch"] for r in h]
        (line,) = ax_loss.plot(epochs, [r["train_loss"] for r in h], label=label)
        ax_acc.plot(epochs, [r["train_acc"] for r in h], color=line.get_color(), ls="--")
        ax_acc.plot(epochs, [r["test_acc"] for r in h], color=line.get_color(), label=label)
    ax_loss.set(xlabel="epoch", ylabel="training loss (MAP)")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (dashed: train, solid: test)")
    ax_loss.legend(fontsize=7)
    return axes

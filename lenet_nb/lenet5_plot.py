"""Pictures for chapter 4: Table I as a grid, the RBF bitmaps, F6 codes, misclassified digits."""

import matplotlib.pyplot as plt
import torch

from lenet_nb.lenet5 import c3_connections, rbf_bitmaps
from lenet_nb.plot import show_images


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
    """For each image: the digit, its F6 code as 7x12, the bitmap of the predicted class."""
    net.eval()
    with torch.inference_mode():
        codes = net.features(X)
        y_pred = net.predict(net.output(codes))
    imgs, titles = [], []
    for img, code, label, pred in zip(X, codes, y, y_pred):
        imgs += [img, -as_bitmap(code), -as_bitmap(rbf_bitmaps()[pred])]
        titles += [f"label {int(label)}", "F6 output", f"bitmap {int(pred)}"]
    return show_images(imgs, len(X), 3, titles=titles, scale=scale)

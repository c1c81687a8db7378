"""Look inside a digit reader: layer maps, occlusion, saliency, receptive fields, shift tests."""

import itertools

import torch
from torch.nn import functional as F

from lenet_nb.data import TensorBatches
from lenet_nb.lenet5 import rbf_predict
from lenet_nb.train import argmax_predict, evaluate_accuracy
from lenet_nb.validate import whole_number

# LeNet-5's layers as (name, kernel, stride): what decides how much input a unit sees
LENET5_LAYERS = (("C1", 5, 1), ("S2", 2, 2), ("C3", 5, 1), ("S4", 2, 2), ("C5", 5, 1))
INPUT_SIDE = 32  # LeNet-5 reads 32x32 inputs
LENET5_MAPS = ("C1", "S2", "C3", "S4", "C5", "F6")
SQUASH = 1.7159  # LeNet-5's maps lie in [-1.7159, 1.7159]: shown on that fixed grey scale
BLUE, GREY = "#1f77b4", "#bbbbbb"  # the answer's colour, the others'


def lenet5_maps(net, X):
    """Every layer's output (after the squashing function) of a LeNet5 for X [N, 1, 32, 32]."""
    pre, hooks = {}, []
    for name in LENET5_MAPS:
        module = getattr(net, name)
        hooks.append(module.register_forward_hook(lambda m, i, o, n=name: pre.update({n: o})))
    try:
        y_hat = net(X)  # the network's own forward: no second copy of its layer order
    finally:
        for hook in hooks:
            hook.remove()
    # the hooks catch each layer before the shared squash module, so apply it here
    maps = {name: net.act(pre[name]) for name in LENET5_MAPS}
    maps["output"] = y_hat
    return maps


def class_scores(net, X):
    """Scores [N, 10], larger = more that class: logits, or minus LeNet-5's RBF distances."""
    y_hat = net(X)
    return -y_hat if getattr(net, "predict", None) is rbf_predict else y_hat


def predict_fn(net):
    """How `net` turns outputs into class ids: smallest RBF distance, else largest logit."""
    return getattr(net, "predict", argmax_predict)


def occlusion(net, X, target, patch=6, stride=1, fill=0.5):
    """Drop of the target's score [H', W'] when a `fill` patch covers X [1, C, H, W] at (i, j).

    Entry (i, j) belongs to the patch whose top-left corner is pixel (i * stride, j * stride).
    """
    if X.dim() != 4 or X.shape[0] != 1:
        raise ValueError(f"X must be one image [1, C, H, W], got shape {list(X.shape)}")
    H, W = X.shape[-2:]
    patch = whole_number("patch", patch)
    stride = whole_number("stride", stride)
    if patch > min(H, W):
        raise ValueError(f"patch={patch} is larger than the {H}x{W} image: no position fits")
    with torch.no_grad():
        classes = class_scores(net, X).shape[1]
    if whole_number("target", target, low=0) >= classes:
        raise ValueError(f"target must be a class id in 0..{classes - 1}, got {target}")
    tops, lefts = range(0, H - patch + 1, stride), range(0, W - patch + 1, stride)
    batch = X.repeat(len(tops) * len(lefts), 1, 1, 1)
    for k, (i, j) in enumerate(itertools.product(tops, lefts)):
        batch[k, :, i : i + patch, j : j + patch] = fill
    with torch.no_grad():  # every occluded copy in one batch: one forward pass
        base = class_scores(net, X)[0, target]
        scores = class_scores(net, batch)[:, target]
    return (base - scores).view(len(tops), len(lefts))


def occlusion_pixels(drops, patch, stride, size):
    """Spread an occlusion map back onto the input: each pixel gets the mean drop of its patches."""
    total, count = torch.zeros(size), torch.zeros(size)
    for (a, i), (b, j) in itertools.product(enumerate(range(0, drops.shape[0] * stride, stride)),
                                            enumerate(range(0, drops.shape[1] * stride, stride))):
        total[i : i + patch, j : j + patch] += drops[a, b]
        count[i : i + patch, j : j + patch] += 1
    return total / count.clamp(min=1)


def saliency(net, X, target):
    """Gradient of the target's score with respect to the input pixels (shape of X)."""
    X = X.detach().clone().requires_grad_(True)
    targets = torch.as_tensor(target).expand(X.shape[0]).view(-1, 1)
    score = class_scores(net, X).gather(1, targets).sum()
    # autograd.grad, not backward(): the network's own .grad fields stay untouched
    return torch.autograd.grad(score, X)[0]


def receptive_field(layer, i, j, layers=LENET5_LAYERS):
    """Input box (top, left, bottom, right), bottom/right exclusive, read by unit (i, j)."""
    size, jump, side = 1, 1, INPUT_SIDE
    for name, kernel, stride in layers:
        size += (kernel - 1) * jump  # a kernel of k units adds k-1 steps of the current jump
        jump *= stride
        side = (side - kernel) // stride + 1  # the layer's map is side x side
        if name == layer:
            for what, v in (("i", i), ("j", j)):
                if whole_number(what, v, low=0) >= side:
                    raise ValueError(f"{layer}'s maps are {side}x{side}: {what} must be in "
                                     f"0..{side - 1}, got {v}")
            return (i * jump, j * jump, i * jump + size, j * jump + size)
    raise ValueError(f"unknown layer {layer!r}: choose one of {[n for n, _, _ in layers]}")


def gradient_box(net, X, layer, channel, i, j):
    """Box (top, left, bottom, right) of the input pixels with a non-zero gradient of one unit."""
    X = X.detach().clone().requires_grad_(True)
    unit = lenet5_maps(net, X)[layer][0, channel, i, j]
    grad = torch.autograd.grad(unit, X)[0][0, 0]
    rows, cols = grad.abs().sum(1).nonzero(), grad.abs().sum(0).nonzero()
    if len(rows) == 0:
        raise ValueError(f"unit {layer}[{channel}, {i}, {j}] does not depend on the input here")
    return (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)


def shift(X, dy, dx):
    """Move images [N, C, H, W] by (dy, dx) whole pixels; what leaves the frame is lost."""
    H, W = X.shape[-2:]
    out = torch.zeros_like(X)
    out[..., max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = \
        X[..., max(-dy, 0) : H + min(-dy, 0), max(-dx, 0) : W + min(-dx, 0)]
    return out


def random_shifts(X, pixels, generator=None):
    """Each image of X [N, C, H, W] moved by its own random (dy, dx), both in [-pixels, pixels]."""
    N, C, H, W = X.shape
    k = 2 * pixels + 1
    padded = F.pad(X, (pixels,) * 4)  # zeros come in where the digit moves away
    windows = padded.unfold(2, H, 1).unfold(3, W, 1)  # [N, C, k, k, H, W], a view
    dy, dx = torch.randint(0, k, (2, N), generator=generator)
    return windows[torch.arange(N), :, dy, dx]


def rotate(X, degrees):
    """Rotate images [N, C, H, W] about their centre (bilinear; zeros come in at the corners)."""
    a = torch.tensor(degrees * torch.pi / 180.0)
    theta = torch.tensor([[torch.cos(a), -torch.sin(a), 0.0], [torch.sin(a), torch.cos(a), 0.0]])
    grid = F.affine_grid(theta.expand(X.shape[0], 2, 3).to(X), list(X.shape), align_corners=False)
    return F.grid_sample(X, grid, padding_mode="zeros", align_corners=False)


# shifts are averaged over these four directions (down, right, up, left)
DIRECTIONS = ((1, 0), (0, 1), (-1, 0), (0, -1))


def accuracy_on(net, X, y, pad=0, batch_size=2000):
    """Test accuracy of `net` on 28x28 images X [N, 1, 28, 28] (padded by `pad` first)."""
    X = F.pad(X, (pad,) * 4) if pad else X
    return evaluate_accuracy(net, TensorBatches(X, y, batch_size), predict_fn(net), "cpu")


def shifted_accuracy(net, X, y, pixels, pad=0):
    """Mean test accuracy over the four directions with every image moved by `pixels`."""
    if pixels == 0:
        return accuracy_on(net, X, y, pad)
    accs = [accuracy_on(net, shift(X, dy * pixels, dx * pixels), y, pad) for dy, dx in DIRECTIONS]
    return sum(accs) / len(accs)


def rotated_accuracy(net, X, y, degrees, pad=0):
    """Mean test accuracy with every image rotated by +degrees and by -degrees."""
    if degrees == 0:
        return accuracy_on(net, X, y, pad)
    accs = [accuracy_on(net, rotate(X, sign * degrees), y, pad) for sign in (1, -1)]
    return sum(accs) / 2


def occlusion_run(net, X, target, patch, stride=2):
    """Exercise 7.2's record of one occlusion map: its settings, the map, a way to redo it."""
    return {"settings": {"patch": patch, "stride": stride, "target": target},
            "drops": occlusion(net, X, target, patch, stride),
            "recompute": lambda: occlusion(net, X, target, patch, stride)}


def shift_run(name, net, X, y, pad=0, shifts=range(7)):
    """Exercise 7.4's record: one network's accuracy per shift (mean of the four directions)."""
    return {"settings": {"network": name, "images": len(y), "shifts": list(shifts)},
            "accuracy": [shifted_accuracy(net, X, y, s, pad) for s in shifts],
            "recompute": lambda s: shifted_accuracy(net, X, y, s, pad)}


def robustness_table(nets, X, y, shifts=range(7), angles=(0, 10, 20, 30)):
    """{name: {"shift": [acc per shift], "rotate": [acc per angle]}}; nets: {name: (net, pad)}."""
    return {name: {"shift": [shifted_accuracy(net, X, y, s, pad) for s in shifts],
                   "rotate": [rotated_accuracy(net, X, y, a, pad) for a in angles]}
            for name, (net, pad) in nets.items()}


def stored_robustness(rows, names=None):
    """{network: {"shift": [[acc per shift] per seed], "rotate": [...], "test_acc": [...]}} of
    the stored experiment's finished rows (draw.ROBUSTNESS), networks named for people."""
    table = {}
    for row in rows:
        if row["status"] != "finished":
            continue
        name = (names or {}).get(row["network"], row["network"])
        entry = table.setdefault(name, {"shift": [], "rotate": [], "test_acc": []})
        for key in entry:
            entry[key].append(row[key])
    return table


def format_stored(table, axis, steps, unit):
    """One row per shift (or angle), one column per network: mean (lowest–highest) in %."""
    from lenet_nb.stats import mean_range

    head = f"{axis:<8}" + "".join(f"{name:>24}" for name in table)
    lines = [head]
    for k, step in enumerate(steps):
        cells = []
        for entry in table.values():
            mean, lo, hi = mean_range([100 * seed[k] for seed in entry[axis]])
            cells.append(f"{mean:.1f} ({lo:.1f}–{hi:.1f})")
        lines.append(f"{f'{step}{unit}':<8}" + "".join(f"{c:>24}" for c in cells))
    return "\n".join(lines)


def plot_robustness(table, shifts, angles, live=None, axes=None):
    """Accuracy against shift (left) and rotation (right): each network's mean over seeds inside
    its lowest-highest band; `live` {name: {"shift": [...]}} drawn on top as dashed lines."""
    import matplotlib.pyplot as plt

    from lenet_nb.stats import mean_range

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for i, (name, entry) in enumerate(table.items()):
        for ax, axis, steps in ((axes[0], "shift", shifts), (axes[1], "rotate", angles)):
            mean, lo, hi = zip(*(mean_range([100 * v for v in col])
                                 for col in zip(*entry[axis])))
            ax.fill_between(list(steps), lo, hi, color=f"C{i}", alpha=0.25, linewidth=0)
            ax.plot(list(steps), mean, marker="o", ms=3, color=f"C{i}",
                    label=f"{name} ({len(entry[axis])} seeds)")
    for name, entry in (live or {}).items():
        i = list(table).index(name) if name in table else len(table)
        steps = shifts[:len(entry["shift"])]
        axes[0].plot(list(steps), [100 * a for a in entry["shift"]], "--", color=f"C{i}",
                     lw=1.5, label=f"{name}: this run")
    axes[0].set(xlabel="shift (pixels, mean of 4 directions)", ylabel="test accuracy (%)")
    axes[1].set(xlabel="rotation (degrees, mean of ±)", ylabel="test accuracy (%)")
    axes[0].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    return axes


def plot_explanations(panels, row_titles, col_titles, scale=1.5):
    """Grid of [H, W] maps, panels[r][c]: column 0 (the input) in grey, the rest as heat maps.

    Heat maps are red where the value is positive, blue where negative, white at 0.
    """
    import matplotlib.pyplot as plt

    rows, cols = len(panels), len(panels[0])
    _, axes = plt.subplots(rows, cols, figsize=(cols * scale, rows * scale), squeeze=False)
    for r, row in enumerate(panels):
        for c, panel in enumerate(row):
            ax, img = axes[r, c], torch.as_tensor(panel).detach().float().numpy()
            if c == 0:
                ax.imshow(img, cmap="gray_r")
            else:
                top = float(abs(img).max()) or 1.0
                ax.imshow(img, cmap="RdBu_r", vmin=-top, vmax=top)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(col_titles[c], fontsize=8)
        axes[r, 0].set_ylabel(row_titles[r], fontsize=8)
    return axes.flatten()


def mosaic(maps, cols, gap=1, fill=1.0):
    """Tile maps [K, h, w] into one array, `cols` per row, separated by `gap` px of `fill`."""
    maps = torch.as_tensor(maps)
    k, h, w = maps.shape
    rows = -(-k // cols)
    out = torch.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill)
    for n in range(k):
        r, c = divmod(n, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = maps[n]
    return out.numpy()


def map_grey(maps):
    """LeNet-5 maps to grey levels: -1.7159 black, +1.7159 white."""
    return (torch.as_tensor(maps) + SQUASH) / (2 * SQUASH)


def show_reading(reading, fig=None):
    """Static figure of a pad's reading: input, LeNet-5's distances, d2l's top 3, C1 and C3 maps."""
    import matplotlib.pyplot as plt

    fig = fig or plt.figure(figsize=(9, 4.2))
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 1.1])
    ax_in, ax_d, ax_p = (fig.add_subplot(grid[0, i]) for i in range(3))
    ax_in.imshow(reading.X[0, 0].numpy(), cmap="gray_r")
    ax_in.set_title("input (28×28)", fontsize=9)
    ax_in.axis("off")
    best, d = reading.lenet5_digit, reading.distances.tolist()
    # the winner sits almost on its bitmap (a distance near 0): draw every bar at least 3 % long
    ax_d.barh(range(10), [max(v, 0.03 * max(d)) for v in d],
              color=[BLUE if i == best else GREY for i in range(10)])
    ax_d.set(yticks=range(10), title="LeNet-5 RBF distances (shortest wins)")
    ax_d.invert_yaxis()
    top = reading.top3
    ax_p.barh(range(3), [100 * p for _, p in top], color=[BLUE, GREY, GREY])
    ax_p.set(yticks=range(3), yticklabels=[str(d) for d, _ in top], xlim=(0, 100),
             title="d2l LeNet top 3 (%)")
    ax_p.invert_yaxis()
    for k, (name, cols) in enumerate([("C1", 3), ("C3", 8)]):
        ax = fig.add_subplot(grid[1, 0:2] if k else grid[1, 2])
        ax.imshow(mosaic(map_grey(reading.maps[name]), cols, gap=1), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"LeNet-5 {name} maps", fontsize=9)
        ax.axis("off")
    for ax in (ax_d, ax_p):
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig.axes

"""Chapter 2: shapes layer by layer, the output-size formula and per-layer parameter tables."""

import math

import torch
import torchinfo
from torch import nn

from lenet_nb.config import reduce_in_tests
from lenet_nb.models import POOLINGS, LeNet, conv_out, count_parameters, leaf_layers, removing
from lenet_nb.train import train_one_cycle

# Layers whose output side follows floor((n + 2p - k) / s) + 1 (models.conv_out).
SPATIAL_LAYERS = (nn.Conv2d, nn.AvgPool2d, nn.MaxPool2d)


class ShapeCollapseError(ValueError):
    """A layer would produce a feature map of zero or negative size."""


def _pair(v):
    """Return the first entry of a PyTorch (h, w) pair, or v itself for an int."""
    return v[0] if isinstance(v, tuple) else v


def layer_geometry(layer):
    """Return (k, p, s) of a Conv2d/AvgPool2d/MaxPool2d layer with square windows."""
    if not isinstance(layer, SPATIAL_LAYERS):
        raise TypeError(f"expected Conv2d, AvgPool2d or MaxPool2d, got {type(layer).__name__}")
    return _pair(layer.kernel_size), _pair(layer.padding), _pair(layer.stride)


def shape_table(net, X):
    """Run X through net and return (layer class name, output shape) for every leaf layer."""
    rows = []

    def record(module, inputs, output):
        rows.append((type(module).__name__, tuple(output.shape)))

    hooks = [m.register_forward_hook(record) for _, m in leaf_layers(net)]
    with removing(hooks), torch.no_grad():
        net(X)
    return rows


def format_shape_table(rows):
    """Return the rows of shape_table as 'Name  output shape: [..]' lines."""
    if not rows:
        raise ValueError("format_shape_table needs at least one (layer, shape) row: pass "
                         "shape_table(net, X)")
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  output shape: {list(shape)}" for name, shape in rows)


def compare_shape_tables(tables):
    """Return {variant: shape_table rows} as one text table, one column per variant."""
    names = list(tables)
    lengths = {len(rows) for rows in tables.values()}
    if len(lengths) != 1:
        counts = {n: len(tables[n]) for n in names}
        raise ValueError(f"variants have different numbers of layers: {counts}")
    header = ["layer"] + names
    lines = []
    for i in range(lengths.pop()):
        kinds = {tables[n][i][0] for n in names}
        lines.append([" / ".join(sorted(kinds))] + [str(list(tables[n][i][1])) for n in names])
    widths = [max(len(r[j]) for r in [header] + lines) for j in range(len(header))]
    rows = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + lines]
    return "\n".join(rows)


def formula_check(net, X):
    """Return one dict per conv/pool layer: n, k, p, s, the formula's side and PyTorch's side."""
    rows, side = [], X.shape[-1]
    for (kind, shape), (_, layer) in zip(shape_table(net, X), leaf_layers(net)):
        if isinstance(layer, SPATIAL_LAYERS):
            k, p, s = layer_geometry(layer)
            rows.append({"layer": kind, "n": side, "k": k, "p": p, "s": s,
                         "formula": conv_out(side, k, p, s), "torch": shape[-1]})
        if len(shape) == 4:
            side = shape[-1]
    return rows


def format_formula_check(rows):
    """Return formula_check rows as a text table with the arithmetic written out."""
    lines = []
    for r in rows:
        expr = f"floor(({r['n']} + 2*{r['p']} - {r['k']}) / {r['s']}) + 1 = {r['formula']}"
        mark = "ok" if r["formula"] == r["torch"] else "MISMATCH"
        lines.append(f"{r['layer']:<9} {expr:<34} PyTorch: {r['torch']:<3} {mark}")
    return "\n".join(lines)


def param_rows(net, input_size):
    """Return (layer, output shape, parameters) per leaf layer, counted by torchinfo."""
    stats = torchinfo.summary(net, input_size=input_size, verbose=0, device="cpu")
    return [(info.class_name, tuple(info.output_size), info.num_params)
            for info in stats.summary_list if info.is_leaf_layer]


def format_param_rows(rows):
    """Return param_rows as a text table with each layer's share of all parameters."""
    total = sum(n for _, _, n in rows)
    lines = [f"{'layer':<10} {'output shape':<18} {'params':>8} {'share':>7}"]
    for kind, shape, n in rows:
        share = f"{100 * n / total:.1f} %" if n else "-"
        lines.append(f"{kind:<10} {str(list(shape)):<18} {n:>8,} {share:>7}")
    lines.append(f"{'total':<10} {'':<18} {total:>8,}")
    return "\n".join(lines)


def params_by_kind(rows):
    """Sum param_rows by layer class name, e.g. {'Conv2d': 2572, 'Linear': 59134}."""
    totals = {}
    for kind, _, n in rows:
        if n:
            totals[kind] = totals.get(kind, 0) + n
    return totals


def lenet_plan(in_size=28, padding=2, kernel_size=5, pooling="avg"):
    """Predict (paper name, output shape) per LeNet layer, or raise ShapeCollapseError."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {sorted(POOLINGS)}, got {pooling!r}")
    for name, value, low in (("in_size", in_size, 1), ("padding", padding, 0),
                             ("kernel_size", kernel_size, 1)):
        if not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    steps = [("C1", 6, kernel_size, padding, 1), ("S2", 6, 2, 0, 2),
             ("C3", 16, kernel_size, 0, 1), ("S4", 16, 2, 0, 2)]
    rows, side = [], in_size
    for name, channels, k, p, s in steps:
        new = conv_out(side, k, p, s)
        if new < 1:
            raise ShapeCollapseError(_collapse_message(name, side, k, p, s, new,
                                                       in_size, padding, kernel_size))
        side = new
        rows.append((name, (1, channels, side, side)))
    rows.append(("flatten", (1, 16 * side * side)))
    return rows + [("C5", (1, 120)), ("F6", (1, 84)), ("output", (1, 10))]


def _collapse_message(name, side, k, p, s, new, in_size, padding, kernel_size):
    """Explain in plain words which layer empties the feature map and what to change."""
    what = "convolution" if name[0] == "C" else "pooling layer"
    window = (f"{k}×{k} window" + (f" with padding {p}" if p else "")
              + (f" and stride {s}" if s > 1 else ""))
    return (f"This combination does not fit: the {side}×{side} feature map reaching {name} is "
            f"too small for its {window}. The {what} would give "
            f"floor(({side} + 2·{p} − {k}) / {s}) + 1 = {new}, so there would be nothing left to "
            f"compute. Input {in_size}×{in_size}, padding {padding}, kernel "
            f"{kernel_size}×{kernel_size}: try a larger input, more padding or a smaller kernel.")


def shape_report(in_size=28, padding=2, kernel_size=5, pooling="avg"):
    """Return (ok, table, message): a variant's shape table and parameter count, or why it fails."""
    try:
        plan = lenet_plan(in_size, padding, kernel_size, pooling)
    except ShapeCollapseError as err:
        return False, "", str(err)
    net = LeNet(pooling=pooling, padding=padding, in_size=in_size, kernel_size=kernel_size)
    n_params = count_parameters(net)
    table = "\n".join(f"{name:<8} {list(shape)}" for name, shape in plan)
    return True, table, f"This network fits: {n_params:,} parameters."


def spatial_trend(rows):
    """Return (labels, sides, channels) of the 4-d rows, skipping element-wise layers."""
    # an activation's output has the same shape as the row before it: nothing new to plot
    picked = [(kind, shape) for i, (kind, shape) in enumerate(rows)
              if len(shape) == 4 and (i == 0 or shape != rows[i - 1][1])]
    return ([k for k, _ in picked], [s[-1] for _, s in picked], [s[1] for _, s in picked])


def plot_shape_trend(rows, ax=None):
    """Plot feature-map area H×W (bars) and channel count (line) per layer; return the axes."""
    import matplotlib.pyplot as plt

    labels, sides, channels = spatial_trend(rows)
    if not labels:
        raise ValueError("plot_shape_trend needs shape_table rows with 4-D outputs [N, C, H, W]: "
                         "pass shape_table(net, X) of a convolutional net")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.8))
    xs = range(len(labels))
    ax.set_title("resolution shrinks, channels grow", fontsize=9)
    ax.bar(xs, [s * s for s in sides], color="tab:blue", alpha=0.6)
    ax.set_ylabel("H × W", color="tab:blue")
    ax.set_xticks(list(xs), [f"{k}\n{s}×{s}" for k, s in zip(labels, sides)], fontsize=8)
    twin = ax.twinx()
    twin.plot(list(xs), channels, "o-", color="tab:red")
    twin.set_ylabel("channels C", color="tab:red")
    twin.set_ylim(0, math.ceil(max(channels) * 1.2))
    return ax


# --- challenge 2.6: a quarter of the multiply-adds --------------------------------------------


def frugal_cnn():
    """A stride-2 first convolution and a 3×3 second one: 82,976 multiply-adds per image."""
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=4, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 3 * 3, 10))


def challenge_train(X, y, seconds):
    """The course's answer to challenge 2.6 (the notebook writes the same in the open)."""
    return train_one_cycle(frugal_cnn(), X, y, num_epochs=reduce_in_tests(12, 1))

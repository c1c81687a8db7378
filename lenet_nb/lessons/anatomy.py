"""Chapter 2: receptive fields (formula and gradients), multiply-adds, LeNet-5's connections."""

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lenet_nb.lenet5 import RBF, LeNet5, Subsampling, TableConv2d
from lenet_nb.lessons.shapes import SPATIAL_LAYERS, layer_geometry, leaf_layers
from lenet_nb.models import conv_out, removing

# The paper's total (LeCun et al. 1998, Section II.B): connections, counting each bias as one.
PAPER_CONNECTIONS = 340_908


def grow(r, j, k, s):
    """One window of size k and stride s: (r, j) -> (r + (k - 1)·j, j·s)."""
    # the k taps of a unit sit j input pixels apart, so they add (k - 1)·j pixels of reach;
    # after the layer, neighbouring units are s of the old steps apart
    return r + (k - 1) * j, j * s


def receptive_field(windows):
    """(r, j) of a unit after a stack of (kernel size, stride) windows, starting from a pixel."""
    r, j = 1, 1
    for k, s in windows:
        r, j = grow(r, j, k, s)
    return r, j


def receptive_fields(net, in_size):
    """Rows (layer, r, j, side) per leaf layer of net for an in_size×in_size input."""
    rows, r, j, side = [], 1, 1, in_size
    for _, layer in leaf_layers(net):
        if isinstance(layer, SPATIAL_LAYERS):
            k, p, s = layer_geometry(layer)
            r, j = grow(r, j, k, s)
            side = conv_out(side, k, p, s)
        elif isinstance(layer, nn.Linear) and side > 1:
            # the first linear layer after the flatten sees the whole side×side map at once:
            # a window as large as the map
            r, j = grow(r, j, side, 1)
            side = 1
        rows.append((type(layer).__name__, r, j, side))
    return rows


def format_receptive_fields(rows):
    """Return receptive_fields rows as a text table."""
    lines = [f"{'layer':<10} {'jump j':>6} {'field r':>7}"]
    lines += [f"{name:<10} {j:>6} {f'{r}×{r}':>7}" for name, r, j, _ in rows]
    return "\n".join(lines)


def centre_unit(shape):
    """Index of the unit of channel 0 in the middle of an output of shape [1, C, H, W] or [1, F]."""
    if len(shape) == 4:
        return (0, 0, shape[2] // 2, shape[3] // 2)
    return (0, 0)


def empirical_receptive_field(net, layer_index, in_size=28, unit=None, seed=0):
    """Bool [H, W] mask of the input pixels whose gradient is non-zero for one output unit.

    The unit is taken from the output of net[layer_index] (the middle of channel 0 unless `unit`
    is given). A pixel outside the receptive field cannot change the unit: its gradient is
    exactly 0; inside, with generic weights, it is not.
    """
    layers = copy.deepcopy(list(net)[: layer_index + 1])
    head = nn.Sequential(*layers).double()  # float64: no gradient underflows to 0 by chance
    X = torch.rand(1, 1, in_size, in_size, dtype=torch.float64,
                   generator=torch.Generator().manual_seed(seed)).requires_grad_()
    Y = head(X)
    Y[unit if unit is not None else centre_unit(Y.shape)].backward()
    return X.grad[0, 0] != 0


def box_size(mask):
    """(height, width) of the smallest box around the True entries of a 2-D mask."""
    rows = mask.any(dim=1).nonzero()
    cols = mask.any(dim=0).nonzero()
    if len(rows) == 0:
        return 0, 0
    return int(rows[-1] - rows[0]) + 1, int(cols[-1] - cols[0]) + 1


def c3_block(c1_stride=1):
    """LeNet's layers up to C3 (C1, sigmoid, S2, C3), with a stride in C1 (fixed weights)."""
    with torch.random.fork_rng():  # generic weights, without touching the caller's generator
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 6, kernel_size=5, padding=2, stride=c1_stride),
                             nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
                             nn.Conv2d(6, 16, kernel_size=5))


def c3_field(c1_stride=1):
    """(height, width) of the box of input pixels that reach C3's middle unit, by gradients."""
    return box_size(empirical_receptive_field(c3_block(c1_stride), 3))


def plot_receptive_fields(masks, titles, ax=None):
    """Show one mask per panel (input pixels that reach the unit in dark); return the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(1, len(masks), figsize=(1.9 * len(masks), 2.2))
    for a, mask, title in zip(ax, masks, titles):
        a.imshow(mask.float().numpy(), cmap="Greys", vmin=0, vmax=1)
        a.set_title(title, fontsize=8)
        a.set_xticks([])
        a.set_yticks([])
    return ax


def count_macs(net, X):
    """(total multiply-adds for input X, {top-level child: multiply-adds}) as FlopCounterMode
    counts them (it reports 2 FLOPs per multiply-add)."""
    with FlopCounterMode(display=False) as counter:
        with torch.no_grad():
            net(X)
    per_child = {}
    for name, counts in counter.get_flop_counts().items():
        parts = name.split(".")  # "LeNet.0", "LeNet5.C1": the root's class, then the child
        if len(parts) == 2:
            per_child[parts[1]] = sum(counts.values()) // 2
    return counter.get_total_flops() // 2, per_child


def tool_macs(net, X):
    """{child name: multiply-adds} as FlopCounterMode counts them."""
    return count_macs(net, X)[1]


def hand_macs(layer, out_shape):
    """Multiply-adds of one layer by the formula: conv C_out·H·W·C_in·k·k, linear in·out."""
    batch = out_shape[0]
    if isinstance(layer, nn.Conv2d):
        c_out, h, w = out_shape[1:]
        k_h, k_w = layer.kernel_size
        return batch * c_out * h * w * (layer.in_channels // layer.groups) * k_h * k_w
    if isinstance(layer, nn.Linear):
        return batch * layer.in_features * layer.out_features
    return 0


def macs_per_layer(net, X):
    """Rows (layer, output shape, MACs by the formula, MACs by FlopCounterMode) per leaf layer."""
    shapes = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=name: shapes.update({n: tuple(o.shape)}))
             for name, m in leaf_layers(net)]
    with removing(hooks):
        counted = tool_macs(net, X)
    return [(type(m).__name__, shapes[name], hand_macs(m, shapes[name]), counted.get(name, 0))
            for name, m in leaf_layers(net)]


def format_macs(rows):
    """Return macs_per_layer rows as a text table with a total line."""
    lines = [f"{'layer':<10} {'output shape':<16} {'formula':>9} {'tool':>9}"]
    for name, shape, hand, tool in rows:
        lines.append(f"{name:<10} {str(list(shape)):<16} {hand:>9,} {tool:>9,}")
    total_hand, total_tool = sum(r[2] for r in rows), sum(r[3] for r in rows)
    lines.append(f"{'total':<10} {'':<16} {total_hand:>9,} {total_tool:>9,}")
    return "\n".join(lines)


def _connections(module, out_shape):
    """(units, inputs per unit as text, connections) of one LeNet-5 layer, each bias counted."""
    if isinstance(module, RBF):
        units, fan = out_shape[1], module.centers.shape[1]
        return units, f"{fan} (no bias)", units * fan
    if isinstance(module, nn.Linear):
        units, fan = module.out_features, module.in_features
        return units, f"{fan} + 1", units * (fan + 1)
    c, h, w = out_shape[1:]
    if isinstance(module, TableConv2d):
        # each map reads only its Table-I inputs: a sum over maps, not C_out × C_in
        area = module.kernel_size**2
        per_map = [len(t) * area + 1 for t in module.table]
        return c * h * w, f"{min(per_map)}–{max(per_map)}", h * w * sum(per_map)
    fan = module.fan_in if isinstance(module, Subsampling) else module.weight[0].numel()
    return c * h * w, f"{fan} + 1", c * h * w * (fan + 1)


def lenet5_connections(net=None):
    """Rows (layer, units, inputs per unit, connections, tool MACs or None) of LeNet-5."""
    net = net if net is not None else LeNet5()
    names = ["C1", "S2", "C3", "S4", "C5", "F6", "output"]
    shapes = {}
    hooks = [getattr(net, n).register_forward_hook(
        lambda m, i, o, n=n: shapes.update({n: tuple(o.shape)})) for n in names]
    with removing(hooks):
        counted = tool_macs(net, torch.zeros(1, 1, 32, 32))
    return [(n, *_connections(getattr(net, n), shapes[n]), counted.get(n)) for n in names]


def format_connections(rows):
    """Return lenet5_connections rows as a text table with the total."""
    lines = [f"{'layer':<7} {'units':>6} {'inputs/unit':>13} {'connections':>12} {'tool MACs':>10}"]
    for name, units, per_unit, conns, tool in rows:
        shown = "not seen" if tool is None else f"{tool:,}"
        lines.append(f"{name:<7} {units:>6,} {per_unit:>13} {conns:>12,} {shown:>10}")
    lines.append(f"{'total':<7} {'':>6} {'':>13} {sum(r[3] for r in rows):>12,}")
    return "\n".join(lines)

"""Chapter 1: what a dense layer costs and loses on images, and what a convolution keeps."""

import torch
import torch.nn.functional as F
from torch import nn

from lenet_nb import experiments as xp
from lenet_nb.config import reduce_in_tests
from lenet_nb.data import TensorBatches, load_data_fashion_mnist, load_split
from lenet_nb.lessons.conv import shift_image
from lenet_nb.models import get_model
from lenet_nb.stats import ranges_separate
from lenet_nb.train import fit, train_one_cycle
from lenet_nb.validate import whole_number

DTYPES = ("float64", "float32", "float16", "bfloat16", "int8")


def dtype_bytes(dtype):
    """Return the bytes per element of a torch dtype given by name, e.g. 'float32' -> 4."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {list(DTYPES)}, got {dtype!r}")
    return torch.empty((), dtype=getattr(torch, dtype)).element_size()


def dense_vs_conv(side, channels, hidden, dtype="float32", kernel_size=5):
    """Parameters and bytes of a dense layer on a side×side×channels image vs a k×k convolution."""
    for name, value in (("side", side), ("channels", channels), ("hidden", hidden),
                        ("kernel_size", kernel_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    size = dtype_bytes(dtype)
    in_features = side * side * channels
    # nn.Linear(in_features, hidden) and nn.Conv2d(channels, hidden, k) carry a bias per output
    dense = in_features * hidden + hidden
    conv = channels * kernel_size * kernel_size * hidden + hidden
    return {"in_features": in_features, "dense_weights": in_features * hidden,
            "dense_params": dense, "dense_bytes": dense * size,
            "conv_params": conv, "conv_bytes": conv * size, "ratio": dense / conv}


def format_bytes(n):
    """Return a byte count in decimal units with the binary (GiB) value beside it when large."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            text = f"{n / scale:.2f} {unit}"
            return text + (f" ({n / 2**30:.2f} GiB)" if unit == "GB" else "")
    return f"{n} B"


def format_dense_vs_conv(side, channels, hidden, dtype="float32", kernel_size=5):
    """Return dense_vs_conv as three text lines (dense, conv, ratio)."""
    r = dense_vs_conv(side, channels, hidden, dtype, kernel_size)
    return (f"dense {r['in_features']:,} -> {hidden}: {r['dense_params']:,} parameters, "
            f"{format_bytes(r['dense_bytes'])} in {dtype}\n"
            f"conv {kernel_size}×{kernel_size}, {channels} -> {hidden} channels: "
            f"{r['conv_params']:,} parameters, {format_bytes(r['conv_bytes'])}\n"
            f"the dense layer is {r['ratio']:,.0f} times larger")


def growth_table(sides, channels=1, hidden=6, kernel_size=5):
    """Return a text line per image side: dense parameters grow with side², conv ones do not."""
    lines = [f"{'image':>11} {'dense params':>14} {'conv params':>12}"]
    for side in sides:
        r = dense_vs_conv(side, channels, hidden, kernel_size=kernel_size)
        lines.append(f"{f'{side}×{side}':>11} {r['dense_params']:>14,} {r['conv_params']:>12,}")
    return "\n".join(lines)


def flat_index(row, col, width=28, height=None):
    """Return the position of pixel (row, col) once a width-wide image is flattened row by row."""
    height = width if height is None else height  # square images unless told otherwise
    for name, value in (("row", row), ("col", col)):
        whole_number(name, value, low=0)
    if not (0 <= col < width and 0 <= row < height):
        raise ValueError(f"need 0 <= col < {width} and 0 <= row < {height}, got ({row}, {col}): "
                         f"the pixel must lie inside the {height}×{width} image")
    return row * width + col


def neighbour_distances(row, col, width=28):
    """Return {'right': (index, distance), 'below': ...}: a pixel's neighbours once flattened."""
    if not (0 <= col < width - 1 and 0 <= row < width - 1):
        raise ValueError(f"need 0 <= col < {width - 1} and 0 <= row < {width - 1}, got "
                         f"({row}, {col}): the pixel needs a neighbour to its right and below")
    i = flat_index(row, col, width)
    return {"right": (flat_index(row, col + 1, width), flat_index(row, col + 1, width) - i),
            "below": (flat_index(row + 1, col, width), flat_index(row + 1, col, width) - i)}


def pixel_permutation(num_pixels=784, seed=0):
    """Return one fixed random permutation of pixel positions (same seed, same permutation)."""
    num_pixels = whole_number("num_pixels", num_pixels)
    gen = torch.Generator().manual_seed(seed)
    return torch.randperm(num_pixels, generator=gen)


def permute_pixels(X, perm):
    """Shuffle the pixels of every image in X (shape [..., H, W]) by the same permutation."""
    h, w = X.shape[-2:]
    if perm.numel() != h * w:
        raise ValueError(f"permutation has {perm.numel()} entries but images have "
                         f"{h}×{w} = {h * w} pixels")
    return X.flatten(-2)[..., perm].reshape(X.shape)


def edge_kernels():
    """Return two fixed 3×3 kernels [2, 1, 3, 3]: vertical and horizontal edge detectors (Sobel)."""
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    return torch.stack([sobel, sobel.T]).unsqueeze(1)


def feature_maps(X, kernels=None):
    """Convolve images X [N, 1, H, W] with kernels (default: edge_kernels), padded to keep H×W."""
    kernels = edge_kernels() if kernels is None else kernels
    if X.dim() != 4 or X.shape[1] != kernels.shape[1]:
        raise ValueError(f"expected X of shape [N, {kernels.shape[1]}, H, W], got {list(X.shape)}")
    return F.conv2d(X, kernels, padding=kernels.shape[-1] // 2)


def edge_strength(images):
    """How strongly each position of images [N, 1, H, W] looks like a vertical edge: |Sobel|."""
    return F.conv2d(images, edge_kernels()[:1]).abs()


def unchanged_share(a, b, margin):
    """Share of the positions away from the border, where a or b has an edge, with a == b."""
    inner = (..., slice(margin, -margin), slice(margin, -margin))
    a, b = a[inner], b[inner]
    present = (a > 1e-3) | (b > 1e-3)
    same = torch.isclose(a, b, atol=1e-5, rtol=0)
    return (same & present).sum().item() / present.sum().item()


def shifted_edge_maps(n=100):
    """Vertical-edge strength of the first n test images, and of the images moved 1 pixel right."""
    images = load_split("FashionMNIST", train=False)[0][:n].float().unsqueeze(1) / 255
    return edge_strength(images), edge_strength(shift_image(images, 0, 1))


def pooled_unchanged_share(edges, shifted_edges, pool_size):
    """unchanged_share after pool_size×pool_size max pooling (windows side by side)."""
    pool_size = whole_number("pool_size", pool_size)
    return unchanged_share(F.max_pool2d(edges, pool_size), F.max_pool2d(shifted_edges, pool_size),
                           1)


def shift_commutes(X, dy, dx, kernels=None, atol=1e-5):
    """True when conv(shift(X)) equals shift(conv(X)) away from the border the shift exposes."""
    kernels = edge_kernels() if kernels is None else kernels
    a = feature_maps(shift_image(X, dy, dx), kernels)
    b = shift_image(feature_maps(X, kernels), dy, dx)
    m = kernels.shape[-1] // 2 + max(abs(dy), abs(dx))  # rows/cols touched by zero fill or padding
    return torch.allclose(a[..., m:-m, m:-m], b[..., m:-m, m:-m], atol=atol)


def plot_adjacency(img, row, col, ax=None):
    """Mark a pixel and its right/below neighbours in the image and in the flattened vector."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(8, 2.6), gridspec_kw={"width_ratios": [1, 3]})
    img = img.detach().cpu().squeeze()
    width = img.shape[-1]
    i, near = flat_index(row, col, width), neighbour_distances(row, col, width)
    marks = [("pixel", row, col, i, "red"), ("right", row, col + 1, near["right"][0], "cyan"),
             ("below", row + 1, col, near["below"][0], "orange")]
    ax[0].imshow(img.numpy(), cmap="gray")
    lo, hi = i - 4, near["below"][0] + 5  # a window of the flat vector around the three pixels
    ax[1].imshow(img.flatten()[lo:hi].unsqueeze(0).numpy(), cmap="gray", aspect="auto",
                 extent=(lo - 0.5, hi - 0.5, 0, 1))
    for name, r, c, j, color in marks:
        ax[0].scatter([c], [r], s=12, color=color)
        ax[1].axvline(j, color=color, lw=2, label=f"{name} ({r}, {c}) -> {j}")
    ax[1].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    ax[0].set_title("28×28 image", fontsize=9)
    ax[1].set_title(f"flattened: positions {lo}…{hi - 1} of {img.numel()}", fontsize=9)
    ax[1].set_yticks([])
    return ax


def permuted_batches(data_iter, perm, seed=0):
    """Return a TensorBatches copy of data_iter whose every image is pixel-shuffled by perm."""
    return TensorBatches(permute_pixels(data_iter.X, perm), data_iter.y, data_iter.batch_size,
                         shuffle=data_iter.shuffle, seed=seed)


# ReLU and max pooling so that a few epochs of Adam suffice (chapter 3 trains the sigmoid original)
PERMUTATION_MODELS = {"MLP": lambda: get_model("mlp"),
                      "LeNet": lambda: get_model("d2l", activation="relu", pooling="max")}


def permutation_run(config, run):
    """One run of the permutation experiment: {"test_acc": per-epoch test accuracy}.

    `run`: model ("MLP" or "LeNet"), data ("original" or "permuted"), seed (the permutation,
    the initial weights and the batch order); `config`: epochs, batch_size, lr (Adam), subset.
    """
    seed = run["seed"]
    train_iter, test_iter = load_data_fashion_mnist(config["batch_size"],
                                                    subset=config.get("subset"))
    if run["data"] == "permuted":
        perm = pixel_permutation(train_iter.X[0].numel(), seed)
        train_iter, test_iter = (permuted_batches(train_iter, perm),
                                 permuted_batches(test_iter, perm))
    torch.manual_seed(seed)
    net = PERMUTATION_MODELS[run["model"]]()
    optimizer = torch.optim.Adam(net.parameters(), lr=config["lr"])
    history = fit(net, train_iter, test_iter, config["epochs"], optimizer=optimizer, seed=seed,
                  progress=False, live=False)
    return xp.curves(history, "test_acc")


# `python -m lenet_nb.course.experiments run permutation`: 12 runs into results/permutation.csv
PERMUTATION = xp.Experiment(
    "permutation", "fc_limits",
    {"revision": 1, "epochs": 6, "batch_size": 128, "lr": 0.002, "seeds": [0, 1, 2]},
    runs=lambda c: xp.grid(c["seeds"], model=list(PERMUTATION_MODELS),
                           data=["original", "permuted"]),
    run_one=permutation_run, minutes=3)


def permutation_table(rows, epoch):
    """Test accuracy at `epoch` per model and data, mean (lowest–highest) over seeds, as text."""
    cells = xp.summary(rows, ("model", "data"), "test_acc", epoch=epoch)
    models = list(PERMUTATION_MODELS)
    lines = [f"{'':<10}" + "".join(f"{m:<23}" for m in models).rstrip()]
    for data in ("original", "permuted"):
        lines.append(f"{data:<10}" + "".join(f"{cells[(m, data)].format(3):<23}"
                                             for m in models).rstrip())
    return "\n".join(lines)


def permutation_verdicts(rows, epoch):
    """One line per comparison: mean difference at `epoch` and whether the ranges separate."""
    cells = xp.summary(rows, ("model", "data"), "test_acc", epoch=epoch)

    def line(label, a, b):
        a, b = cells[a].values, cells[b].values
        gap = round(sum(a) / len(a) - sum(b) / len(b), 3) + 0.0  # + 0.0: no "-0.000"
        return (f"{label}: {gap:+.3f} on average; ranges separate: "
                f"{'yes' if ranges_separate(a, b) else 'no'}")

    return "\n".join([
        line("LeNet − MLP, original images", ("LeNet", "original"), ("MLP", "original")),
        line("LeNet − MLP, permuted images", ("LeNet", "permuted"), ("MLP", "permuted")),
        line("MLP, permuted − original    ", ("MLP", "permuted"), ("MLP", "original")),
        line("LeNet, permuted − original  ", ("LeNet", "permuted"), ("LeNet", "original"))])


# --- challenge 1.8: the MLP's accuracy with a twentieth of its parameters ---------------------


def small_cnn():
    """Two small convolutions and one linear layer: 7,434 parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 10))


def challenge_train(X, y, seconds):
    """The course's answer to challenge 1.8 (the notebook writes the same in the open)."""
    return train_one_cycle(small_cnn(), X, y, num_epochs=reduce_in_tests(8, 1))

"""A drawn digit, read by trained networks: MNIST-style preprocessing, cached weights, readings."""

import math
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from lenet_nb.config import reduce_in_tests
from lenet_nb.data import REPO_ROOT, load_data_mnist
from lenet_nb.files import user_path
from lenet_nb.lenet5 import LeNet5, MAPLoss
from lenet_nb.lessons.explain import lenet5_maps
from lenet_nb.lessons.lenet5_train import Distorted, make_optimizer
from lenet_nb.models import get_model, init_xavier
from lenet_nb.train import fit, load_checkpoint, save_checkpoint
from lenet_nb.validate import whole_number

FIELD, BOX = 28, 20  # MNIST: the digit's longer side is 20 px, inside a 28x28 field
# where MNIST's centres of mass sit (row, column indices from 0): pixel 14, not the middle 13.5
CENTRE = 14.0
INK_LEVEL = 0.1  # ink fainter than this (anti-aliasing fringes, paper grain) is not the digit


class EmptyDrawing(ValueError):
    """The image holds no ink: there is nothing to read."""


def to_ink(image):
    """Ink in [0, 1] (bright = ink) of an HxW grey, HxWx3 RGB or HxWx4 RGBA image, dark on light.

    Integer images are read as 0-255, float images as 0-1. Transparent pixels are background.
    Returns a float32 NumPy array [H, W].
    """
    a = np.asarray(image)
    a = a.astype(np.float32) / 255.0 if a.dtype.kind in "ui" else a.astype(np.float32)
    if a.ndim == 2:
        return 1.0 - a
    if a.ndim == 3 and a.shape[2] in (3, 4):
        luminance = a[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601
        alpha = a[..., 3] if a.shape[2] == 4 else 1.0
        return np.ascontiguousarray(alpha * (1.0 - luminance), dtype=np.float32)
    raise ValueError(f"expected an HxW grey, HxWx3 RGB or HxWx4 RGBA image, got shape {a.shape}")


def center_digit(ink):
    """MNIST's recipe on an ink image [H, W]: crop, longer side 20 px, centre of mass at pixel 14.

    Returns a float tensor [1, 1, 28, 28] in [0, 1], ink bright; EmptyDrawing if there is no ink.
    """
    # NumPy for the full-size steps: torch's threads only add overhead on one small image
    ink = np.asarray(ink, dtype=np.float32)
    # the background level (the median pixel: most of a drawing is background) becomes 0
    ink = np.clip(ink - np.median(ink), 0, None)
    mask = ink > INK_LEVEL
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if len(rows) == 0:
        raise EmptyDrawing("the image is empty (no ink darker than the background): draw a "
                           "digit, or upload a picture of dark ink on a light background")
    digit = torch.from_numpy(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy())
    h, w = digit.shape
    size = (max(1, round(h * BOX / max(h, w))), max(1, round(w * BOX / max(h, w))))
    # antialias: shrinking a 200-px drawing to 20 px must average, not skip, pixels (as MNIST did)
    digit = F.interpolate(digit[None, None], size=size, mode="bilinear", antialias=True,
                          align_corners=False)[0, 0].clamp(min=0)
    digit = digit / digit.max()  # the strongest stroke is full ink, as in MNIST
    cy, cx = centre_of_mass(digit)
    # whole-pixel placement; a lopsided digit is kept inside the field rather than cut
    top = min(max(math.floor(CENTRE - cy + 0.5), 0), FIELD - size[0])
    left = min(max(math.floor(CENTRE - cx + 0.5), 0), FIELD - size[1])
    out = torch.zeros(1, 1, FIELD, FIELD)
    out[0, 0, top : top + size[0], left : left + size[1]] = digit
    return out


def preprocess(image):
    """Canvas image (HxW grey or HxWx4 RGBA, dark on white or transparent) -> [1, 1, 28, 28]."""
    return center_digit(to_ink(image))


def enlarge(x, generator, size=280, scales=(5, 10)):
    """An MNIST digit [28, 28] as a learner might draw it: scaled 5-9x, placed at random, dark on
    white (uint8 [size, size]); the inverse of the preprocessing, for checking it."""
    scale = int(torch.randint(*scales, (), generator=generator))
    big = F.interpolate(x.reshape(1, 1, 28, 28), scale_factor=scale, mode="bilinear")[0, 0]
    board = torch.zeros(size, size)
    top, left = (int(torch.randint(0, size - big.shape[0] + 1, (), generator=generator))
                 for _ in range(2))
    board[top : top + big.shape[0], left : left + big.shape[1]] = big.clamp(0, 1)
    return ((1 - board) * 255).round().to(torch.uint8).numpy()


def centre_of_mass(X):
    """(row, column) of the ink's centre of mass of an image [..., H, W], as pixel indices."""
    img = X.reshape(X.shape[-2:]).float()
    rows, cols = torch.arange(img.shape[0]), torch.arange(img.shape[1])
    mass = img.sum()
    return float((img.sum(1) * rows).sum() / mass), float((img.sum(0) * cols).sum() / mass)


# ------------------------------------------------------------------ trained weights, cached

# Short one-cycle runs, 3 epochs each; on 2 free cores each takes well under a minute and the
# two drawing readers reach >= 98.5 % test accuracy. LeNet-5 keeps chapter 5's SGD recipe; the
# sigmoid d2l LeNet crawls with SGD on so short a budget, so it (and the MLP) use Adam.
# Quick mode (tests) trains one epoch on 2,000 images, into a temporary folder.
RECIPES = {
    "lenet5": {"num_epochs": 3, "optimizer": "sgd", "lr": 0.01, "distort": False},
    "lenet5-distorted": {"num_epochs": 3, "optimizer": "sgd", "lr": 0.01, "distort": True},
    "d2l": {"num_epochs": 3, "optimizer": "adam", "lr": 0.01, "distort": False},
    "mlp": {"num_epochs": 3, "optimizer": "adam", "lr": 0.003, "distort": False},
}
NAMES = {"lenet5": "LeNet-5", "lenet5-distorted": "LeNet-5 + distortions",
         "d2l": "d2l LeNet", "mlp": "MLP"}


def recipe(name):
    """Training settings of one cached network (quick mode: 1 epoch on 2,000 images)."""
    if name not in RECIPES:
        raise ValueError(f"unknown network {name!r}: choose one of {sorted(RECIPES)}")
    return {**RECIPES[name], "num_epochs": reduce_in_tests(RECIPES[name]["num_epochs"], 1),
            "subset": reduce_in_tests(None, (2000, 500)), "batch_size": 128}


def input_pad(name):
    """Padding that turns a 28x28 digit into this network's input (LeNet-5 reads 32x32)."""
    return 2 if name.startswith("lenet5") else 0


def checkpoint_dir():
    """checkpoints/draw at the repo root; quick mode uses a temporary folder instead."""
    quick = Path(tempfile.gettempdir()) / "lenet_nb_quick_checkpoints"
    return reduce_in_tests(REPO_ROOT / "checkpoints" / "draw", quick)


def build_net(name, seed=0):
    """A freshly initialised network for one of RECIPES' names."""
    recipe(name)
    torch.manual_seed(seed)
    if name.startswith("lenet5"):
        return LeNet5("rbf")
    return init_xavier(get_model(name))


def one_cycle(net, r, steps_per_epoch):
    """(optimizer, per-batch one-cycle scheduler) for a recipe: chapter 5's SGD, or Adam."""
    if r["optimizer"] == "sgd":  # make_optimizer's "d2l" means plain SGD: ask for LeNet-5's
        return make_optimizer("lenet5", net, r["lr"], r["num_epochs"], steps_per_epoch)
    optimizer = torch.optim.Adam(net.parameters(), lr=r["lr"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=r["lr"], epochs=r["num_epochs"], steps_per_epoch=steps_per_epoch)
    return optimizer, scheduler


def train_net(name, seed=0, progress=None):
    """Train one network by its recipe; returns (net, History)."""
    r = recipe(name)
    train_iter, test_iter = load_data_mnist(r["batch_size"], pad=input_pad(name),
                                            subset=r["subset"], seed=seed)
    if r["distort"]:
        train_iter = Distorted(train_iter, seed=seed)
    net = build_net(name, seed)
    loss = MAPLoss() if name.startswith("lenet5") else None
    optimizer, scheduler = one_cycle(net, r, len(train_iter))
    history = fit(net, train_iter, test_iter, r["num_epochs"], optimizer=optimizer,
                  scheduler=scheduler, scheduler_per_batch=True, loss=loss,
                  predict=getattr(net, "predict", None), device="cpu", seed=seed,
                  progress=progress, live=False)
    return net.eval(), history


def trained(name, seed=0, directory=None, progress=None):
    """(net, info) for a trained network: loaded from its checkpoint, else trained and saved.

    Only a finished training is saved: an interrupted or diverged one raises (fit's
    TrainingInterrupted / TrainingDiverged) and leaves no checkpoint behind.
    """
    seed = whole_number("seed", seed, low=0)
    r = recipe(name)
    path = (user_path(directory, "directory") if directory else checkpoint_dir()) / \
        f"{name}-seed{seed}.pt"
    if path.is_file():
        net = build_net(name, seed)
        try:
            extra = load_checkpoint(net, path)  # weights_only load: data, never code
        except (ValueError, RuntimeError):
            extra = {}  # damaged or from another network: train again
        if extra.get("recipe") == r:
            return net.eval(), {**extra, "source": "checkpoint", "path": str(path)}
    start = time.perf_counter()
    net, history = train_net(name, seed, progress)  # raises if the run stopped early
    info = {"recipe": r, "test_acc": history[-1]["test_acc"],
            "seconds": time.perf_counter() - start}
    save_checkpoint(net, path, **info)  # atomic: temp file, then rename
    return net, {**info, "source": "trained", "path": str(path)}


# ------------------------------------------------------------------ one reading of a drawing


@dataclass
class Reading:
    """What both networks make of one drawing, with the inputs and maps they saw."""

    X: torch.Tensor  # [1, 1, 28, 28], the d2l LeNet's input
    distances: torch.Tensor  # [10] LeNet-5's RBF penalties: the smallest wins
    probs: torch.Tensor  # [10] the d2l LeNet's softmax probabilities
    maps: dict = field(repr=False)  # LeNet-5's C1 [6, 28, 28] and C3 [16, 10, 10] maps

    @property
    def lenet5_digit(self):
        return int(self.distances.argmin())

    @property
    def top3(self):
        """[(digit, probability)] of the d2l LeNet's three most likely digits."""
        p, d = self.probs.topk(3)
        return [(int(i), float(q)) for i, q in zip(d, p)]

    def summary(self):
        """One line: both networks' answers."""
        top = ", ".join(f"{d} {100 * p:.1f} %" for d, p in self.top3)
        return (f"LeNet-5 reads {self.lenet5_digit} (RBF distance "
                f"{float(self.distances.min()):.1f}); d2l LeNet reads {top}")


@contextmanager
def one_thread():
    """Run torch on one thread inside the block (restored afterwards)."""
    # one small image gains nothing from more threads, and on a busy machine their
    # synchronisation costs several times the work itself (benchmarks/draw_latency.py)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def read(image, lenet5, d2l, ink=False):
    """Preprocess a canvas image (or, with ink=True, an ink array) and run both networks."""
    with one_thread(), torch.inference_mode():
        X = center_digit(image) if ink else preprocess(image)
        maps = lenet5_maps(lenet5, F.pad(X, (2, 2, 2, 2)))
        probs = d2l(X).softmax(1)[0]
    return Reading(X, maps["output"][0], probs, {"C1": maps["C1"][0], "C3": maps["C3"][0]})

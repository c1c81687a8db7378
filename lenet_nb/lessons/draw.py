"""A drawn digit, read by trained networks: MNIST-style preprocessing, cached weights, readings."""

import copy
import math
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from lenet_nb import experiments as xp
from lenet_nb.config import reduce_in_tests
from lenet_nb.data import REPO_ROOT, load_data_mnist
from lenet_nb.files import user_path
from lenet_nb.lenet5 import LeNet5, MAPLoss
from lenet_nb.lessons.explain import lenet5_maps
from lenet_nb.lessons.images import EmptyDrawing, ImageRefused, read_image  # noqa: F401 (API)
from lenet_nb.lessons.lenet5_train import Distorted, make_optimizer
from lenet_nb.models import get_model, init_xavier
from lenet_nb.train import fit, load_checkpoint, save_checkpoint
from lenet_nb.validate import whole_number

FIELD, BOX = 28, 20  # MNIST: the digit's longer side is 20 px, inside a 28x28 field
# where MNIST's centres of mass sit (row, column indices from 0): pixel 14, not the middle 13.5
CENTRE = 14.0
INK_LEVEL = 0.1  # ink fainter than this (anti-aliasing fringes, paper grain) is not the digit


def bounding_box(ink, level=INK_LEVEL):
    """(top, left, bottom, right) of the pixels of `ink` [H, W] above `level`; ends exclusive."""
    mask = np.asarray(ink) > level
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if len(rows) == 0:
        raise EmptyDrawing(f"no pixel has ink above {level}: draw a digit")
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def center_digit(ink):
    """MNIST's recipe on an ink image [H, W]: crop, longer side 20 px, centre of mass at pixel 14.

    `ink` is what `read_image` returns: values in [0, 1], background 0 (no level is estimated
    here, so a drawing more than half inked is still a drawing). Returns a float tensor
    [1, 1, 28, 28] in [0, 1], ink bright; EmptyDrawing if there is no ink.
    """
    # NumPy for the full-size steps: torch's threads only add overhead on one small image
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2 or not np.isfinite(ink).all() or ink.min() < 0 or ink.max() > 1:
        raise ValueError(f"center_digit expects ink [H, W] with values in [0, 1] (what "
                         f"read_image(picture).ink gives), got shape {list(ink.shape)}; for a "
                         f"picture use preprocess(picture)")
    top, left, bottom, right = bounding_box(ink)
    digit = torch.from_numpy(ink[top:bottom, left:right].copy())
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
    """Any picture of one digit (see read_image: drawn, uploaded, an array) -> [1, 1, 28, 28]."""
    return center_digit(read_image(image).ink)


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
    info = keep_reader(name, seed, net, history, time.perf_counter() - start, path)
    return net, {**info, "source": "trained", "path": str(path)}


def keep_reader(name, seed, net, history, seconds, path=None):
    """Save a network trained by its recipe where `trained` looks for it; returns the facts."""
    info = {"recipe": recipe(name), "test_acc": history[-1]["test_acc"], "seconds": seconds}
    save_checkpoint(net, path or checkpoint_dir() / f"{name}-seed{seed}.pt", **info)  # atomic
    return info


# ------------------------------------------------------------------ the stored experiment

# The four networks trained by their recipes on three seeds each, then measured on the whole
# MNIST test set moved by 0-6 pixels and rotated by up to 30 degrees (explain.robustness_table).
# `python -m lenet_nb.course.experiments run draw_robustness` writes results/draw_robustness.csv;
# chapter 7 renders it beside its own seed-0 readers.
SHIFTS, ANGLES = list(range(7)), [0, 10, 20, 30]
ROBUSTNESS_CONFIG = {"revision": 1, "recipes": copy.deepcopy(RECIPES), "batch_size": 128,
                     "seeds": [0, 1, 2], "shifts": SHIFTS, "angles": ANGLES,
                     "test_images": 10000}


def robustness_run(config, run):
    """One network, one seed: trained by its recipe, then its test accuracy shifted and rotated."""
    from lenet_nb.data import load_split, to_float
    from lenet_nb.lessons.explain import robustness_table

    if recipe(run["network"]) != {**config["recipes"][run["network"]], "subset": None,
                                  "batch_size": config["batch_size"]}:
        raise ValueError("the recipes in draw.RECIPES changed: bump the experiment's revision")
    start = time.perf_counter()
    net, history = train_net(run["network"], run["seed"], progress=False)
    if run["seed"] == 0:  # the chapter's readers: `trained` loads these instead of training
        keep_reader(run["network"], 0, net, history, time.perf_counter() - start)
    X, y = load_split("MNIST", train=False)
    n = config["test_images"]
    row = robustness_table({run["network"]: (net, input_pad(run["network"]))},
                           to_float(X[:n]), y[:n], config["shifts"], config["angles"])
    return {"test_acc": history[-1]["test_acc"], **row[run["network"]]}


ROBUSTNESS = xp.Experiment(
    "draw_robustness", "draw_and_look_inside", ROBUSTNESS_CONFIG,
    runs=lambda c: xp.grid(c["seeds"], network=list(c["recipes"])),
    run_one=robustness_run, minutes=5)


# ------------------------------------------------------------------ challenge 7.6


def shift_challenge_train(X, y, seconds, num_epochs=None, max_lr=0.01, batch_size=128):
    """The course's answer to challenge 7.6 (the notebook writes it in the open): the ReLU/max
    d2l LeNet trained on digits each moved by a random (dy, dx) in [-4, 4]², AdamW one-cycle."""
    from lenet_nb.lessons.explain import random_shifts

    num_epochs = num_epochs or reduce_in_tests(8, 1)
    net = get_model("d2l", activation="relu", pooling="max")
    optimizer = torch.optim.AdamW(net.parameters(), lr=max_lr)
    steps = num_epochs * -(-len(y) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=steps)
    loss = torch.nn.CrossEntropyLoss()
    net.train()
    for _ in range(num_epochs):
        for batch in torch.randperm(len(y)).split(batch_size):
            optimizer.zero_grad()
            loss(net(random_shifts(X[batch], 4)), y[batch]).backward()
            optimizer.step()
            scheduler.step()
    return net.eval()


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
    """Run torch on one thread inside the block (restored afterwards); main thread only."""
    # one small image gains nothing from more threads, and on a busy machine their
    # synchronisation costs several times the work itself (benchmarks/draw_latency.py). But the
    # setting is process-wide: a widget callback on another thread (JupyterLab runs them on a
    # kernel subshell while a cell runs) must not slow the learner's training to one thread
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def check_readers(lenet5, d2l):
    """Refuse, in words, readers given in the wrong order or of the wrong kind."""
    if isinstance(d2l, LeNet5) and not isinstance(lenet5, LeNet5):
        raise TypeError("the two networks are swapped: call read(image, lenet5, d2l), LeNet-5 "
                        "(chapter 5's RBF network) first, the d2l LeNet second")
    if not isinstance(lenet5, LeNet5):
        raise TypeError(f"lenet5 must be a LeNet5 (chapter 5's RBF network, e.g. "
                        f"draw.trained('lenet5')[0]), got {type(lenet5).__name__}")
    if not isinstance(d2l, torch.nn.Module) or isinstance(d2l, LeNet5):
        raise TypeError(f"d2l must be a network reading [N, 1, 28, 28] into 10 scores (e.g. "
                        f"draw.trained('d2l')[0]), got {type(d2l).__name__}")


def read(image, lenet5, d2l, ink=False):
    """Preprocess a picture (or, with ink=True, read_image's ink) and run both networks.

    Not for networks a cell may be running at the same time: the maps come from hooks on
    `lenet5` (the pad reads with its own copies).
    """
    check_readers(lenet5, d2l)
    with one_thread(), torch.inference_mode():
        X = center_digit(image) if ink else preprocess(image)
        maps = lenet5_maps(lenet5, F.pad(X, (2, 2, 2, 2)))
        probs = d2l(X).softmax(1)[0]
    return Reading(X, maps["output"][0], probs, {"C1": maps["C1"][0], "C3": maps["C3"][0]})

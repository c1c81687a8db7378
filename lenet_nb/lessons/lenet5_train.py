"""Chapter 5 training recipe for LeNet-5: SGD + momentum, one-cycle schedule, distortions."""

import csv
import fcntl
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn import functional as F

from lenet_nb.data import REPO_ROOT, load_data_mnist
from lenet_nb.files import atomic_write
from lenet_nb.lenet5 import MAP_J, LeNet5, MAPLoss
from lenet_nb.models import get_model, init_xavier
from lenet_nb.train import fit
from lenet_nb.validate import positive_number, whole_number


def random_affine(X, generator, scale=0.1, squeeze=0.1, shear=0.2, shift=2.0):
    """Distort a batch [N, 1, H, W] (background 0) by one small random affine map per image.

    The paper's kinds: translation (up to `shift` pixels), scaling, squeezing (wider and
    shorter, or the reverse) and horizontal shearing; each image draws its own amounts.
    """
    n, h = X.shape[0], X.shape[-1]

    def uniform(bound):
        return (torch.rand(n, generator=generator) * 2 - 1) * bound

    zoom, squash = 1 + uniform(scale), 1 + uniform(squeeze)
    sx, sy = zoom * squash, zoom / squash  # squeezing: one axis grows as the other shrinks
    # theta maps output to input coordinates, hence the inverse scales
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 1] = 1 / sx, uniform(shear), 1 / sy
    theta[:, 0, 2], theta[:, 1, 2] = uniform(2 * shift / h), uniform(2 * shift / h)
    grid = F.affine_grid(theta.to(X), list(X.shape), align_corners=False)
    return F.grid_sample(X, grid, padding_mode="zeros", align_corners=False)


class Distorted:
    """Wrap a train iterable: each batch's images get a fresh random affine distortion."""

    def __init__(self, train_iter, seed=0, **affine):
        self.train_iter, self.affine = train_iter, affine
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return len(self.train_iter)

    def __iter__(self):
        for X, y in self.train_iter:
            yield random_affine(X, self.generator, **self.affine), y

    def to(self, device):
        """Move the wrapped data once (as TensorBatches.to does)."""
        if hasattr(self.train_iter, "to"):
            self.train_iter.to(device)
        return self


@dataclass
class Run:
    """One finished training run: its settings, history, wall-clock and final test error."""

    name: str
    seed: int
    num_epochs: int
    history: list = field(repr=False)
    seconds: float
    net: torch.nn.Module = field(repr=False)

    @property
    def test_error(self):
        return 1 - self.history[-1]["test_acc"]


def build(model, seed):
    """Seeded network and (loss, predict) for model in lenet5, lenet5-softmax, d2l."""
    torch.manual_seed(seed)
    if model == "lenet5":
        net = LeNet5("rbf")
        return net, MAPLoss(), net.predict
    if model == "lenet5-softmax":
        net = LeNet5("softmax")
        return net, torch.nn.CrossEntropyLoss(), net.predict
    if model == "d2l":  # d2l's sigmoid LeNet takes 28x28 inputs: crop the 2-pixel padding
        net = torch.nn.Sequential(Crop(2), init_xavier(get_model("d2l")))
        return net, torch.nn.CrossEntropyLoss(), None
    raise ValueError(f"model must be 'lenet5', 'lenet5-softmax' or 'd2l', got {model!r}")


class Crop(torch.nn.Module):
    """Cut `p` pixels from every border (32x32 paper inputs back to 28x28)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, X):
        return X[..., self.p : -self.p, self.p : -self.p]


# Peak learning rates of the one-cycle schedule (SGD, Nesterov momentum), tuned on two-epoch runs
# of train_lenet5, i.e. judged by test error (before the validation split existed);
# d2l keeps its own recipe: plain SGD at lr 0.9, no schedule.
LRS = {"lenet5": 0.01, "lenet5-softmax": 0.1, "d2l": 0.9}
# Full-mode budgets: the paper's 20 passes; distorted images get 1.5 times as many
NUM_EPOCHS, DISTORT_EPOCHS = 20, 30


def make_optimizer(model, net, lr, num_epochs, steps_per_epoch, weight_decay=0.0):
    """(optimizer, per-batch scheduler or None) for one model's recipe."""
    if model == "d2l":
        return torch.optim.SGD(net.parameters(), lr=lr, weight_decay=weight_decay), None
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True,
                                weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, epochs=num_epochs, steps_per_epoch=steps_per_epoch)
    return optimizer, scheduler


def train_lenet5(model="lenet5", seed=0, num_epochs=NUM_EPOCHS, batch_size=128, lr=None,
                 distort=False, subset=None):
    """Train one model on MNIST padded to 32x32 and return a Run (history, seconds, net).

    Only a finished run is returned: fit's TrainingInterrupted / TrainingDiverged propagate.
    """
    if model not in LRS:  # checked before the data are loaded
        raise ValueError(f"model must be one of {sorted(LRS)}, got {model!r}")
    if lr is not None:
        positive_number("lr", lr)
    num_epochs = whole_number("num_epochs", num_epochs)  # before OneCycleLR sees it
    train_iter, test_iter = load_data_mnist(batch_size, pad=2, subset=subset, seed=seed)
    if distort:
        train_iter = Distorted(train_iter, seed=seed)
    net, loss, predict = build(model, seed)
    lr = LRS[model] if lr is None else lr
    optimizer, scheduler = make_optimizer(model, net, lr, num_epochs, len(train_iter))
    start = time.perf_counter()
    history = fit(net, train_iter, test_iter, num_epochs, optimizer=optimizer,
                  scheduler=scheduler, scheduler_per_batch=True, loss=loss, predict=predict,
                  device="cpu", seed=seed, progress=False, live=False)
    name = model + (" + distortions" if distort else "")
    return Run(name, seed, num_epochs, history, time.perf_counter() - start, net)


def spread(errors):
    """(mean, half the max-min range) of a list of error rates."""
    if not errors:
        raise ValueError("spread needs at least one error rate")
    return sum(errors) / len(errors), (max(errors) - min(errors)) / 2


# The paper's MNIST test errors in percent (Fig. 9 of LeCun et al. 1998).
PAPER_ROWS = (
    ("linear classifier (paper)", 12.0),
    ("784-300-10 net (paper)", 4.7),
    ("LeNet-1 (paper)", 1.7),
    ("LeNet-4 (paper)", 1.1),
    ("LeNet-5 (paper)", 0.95),
    ("LeNet-5, distorted training images (paper)", 0.8),
)


def results_table(runs):
    """Markdown table: the paper's rows, then ours per name: mean, min–max and each seed's error."""
    lines = ["| model | test error | range over seeds | each seed | epochs | minutes per run |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {err:.2f} % | | | | |" for name, err in PAPER_ROWS]
    for name in dict.fromkeys(r.name for r in runs):
        group = [r for r in runs if r.name == name]
        errors = [100 * r.test_error for r in group]
        each = ", ".join(f"{r.seed}: {100 * r.test_error:.2f}" for r in group)
        minutes = sum(r.seconds for r in group) / len(group) / 60
        lines.append(f"| {name} (ours) | {sum(errors) / len(errors):.2f} % | "
                     f"{min(errors):.2f}–{max(errors):.2f} % | {each} | {group[0].num_epochs} | "
                     f"{minutes:.1f} |")
    return "\n".join(lines)


def deviations():
    """Rows (topic, paper, here, why) of chapter 5's assumptions-and-deviations table."""
    lr, j = LRS["lenet5"], MAP_J
    return [
        ("optimiser",
         "stochastic diagonal Levenberg-Marquardt (SDLM): SGD on one image at a time, each "
         "parameter's step divided by an estimate of its second derivative",
         "SGD with Nesterov momentum (the gradient is taken where the momentum is about to "
         "carry the weights) on mini-batches of 128 (the one-cycle schedule moves the "
         "momentum between 0.95 and 0.85, against the learning rate)",
         "SDLM sizes each parameter's step; momentum with a tuned peak rate does that job well "
         "enough here, and 128-image batches are far faster per image on a CPU than single ones"),
        ("schedule", "hand-set global rate falling in steps from 0.0005 to 0.00001, 20 passes",
         f"one-cycle (warm-up, then cosine decay), peak rate {lr}, stepped every batch, "
         f"{NUM_EPOCHS} epochs ({DISTORT_EPOCHS} with distortions)",
         "the paper's number of passes; one smooth schedule instead of hand-set steps"),
        ("loss", "MAP criterion, eq. (9), with j 'a positive constant'", f"the same, j = {j:g}",
         "j is not given; j = 1 and 5 compared on held-out training images over three seeds "
         "(section 9); a wrong class keeps being pushed away until its penalty is well above j"),
        ("input", "digit in a 32x32 field, background -0.1, ink 1.175",
         "the same (pad=2, scale_input)", "-"),
        ("initialisation", "uniform in +-2.4/F_i, F_i the unit's fan-in (how many inputs "
         "it sums)",
         "the same for weights and biases; subsampling coefficients have fan-in 4",
         "the paper does not single out biases"),
        ("output centres", "hand-drawn 7x12 bitmaps, fixed ('at least initially')",
         "the 2020 reproduction's 7x12 bitmaps, fixed throughout",
         "we could not compare them with the paper's Fig. 3 (no copy of it here)"),
        ("subsampling", "2x2 sum x coefficient + bias", "2x2 average x 4 x coefficient + bias",
         "the same function"),
        ("distortions", "extra training images from random planar affine maps: translation, "
         "scaling, squeezing, horizontal shearing",
         "a fresh random map per image and batch: shift <= 2 px, scale +-10 %, "
         "squeeze +-10 %, shear +-0.2", "on the fly costs no memory; the amounts are our guess"),
        ("reported error", "test error after training",
         "test error after the last epoch; no best-epoch picking",
         "choosing the epoch by test error would flatter the result"),
    ]


def deviations_markdown():
    """The deviations table as Markdown, ready for IPython.display.Markdown."""
    lines = ["| | paper | here | why |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in deviations()]
    return "\n".join(lines)


# The validation split (training images held out, and the seed of their choice)
HOLDOUT, SPLIT_SEED = 10_000, 1234
# The validation sweep's data file (written by tools/lenet5_validation.py, read by chapter 5)
VALIDATION_FILE = REPO_ROOT / "results" / "lenet5_validation.csv"
VALIDATION_FIELDS = ("model", "batch", "epochs", "lr", "weight_decay", "j", "seed", "val_error",
                     "seconds", "threads", "finished")
# a run with the same settings and seed replaces the older row; every other row is kept
VALIDATION_KEY = ("model", "batch", "epochs", "lr", "weight_decay", "j", "seed")


def read_validation_rows(path=VALIDATION_FILE):
    """The sweep's rows as dicts of strings (an empty list if the file does not exist yet)."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != VALIDATION_FIELDS:
            raise ValueError(f"{path} has columns {reader.fieldnames}, expected "
                             f"{list(VALIDATION_FIELDS)}: move it aside and re-run the tool")
        return [_checked_row(path, reader.line_num, row) for row in reader]


# columns that must hold a number (the rest are names and timestamps)
_NUMERIC = ("batch", "epochs", "lr", "weight_decay", "j", "seed", "val_error", "seconds",
            "threads")


def _checked_row(path, line, row):
    """`row` if it is complete; else ValueError naming the file, the line and the field."""
    fix = "the file was cut or edited by hand; restore it (git checkout) or re-run that setting"
    if None in row:
        raise ValueError(f"{path} line {line} has more fields than its header: {fix}")
    cut = [k for k in VALIDATION_FIELDS if row[k] is None or row[k] == ""]
    if cut:
        raise ValueError(f"{path} line {line} ends before {cut[0]}: {fix}")
    for key in _NUMERIC:
        try:
            float(row[key])
        except ValueError:
            raise ValueError(f"{path} line {line}: {key} is {row[key]!r}, not a number: "
                             f"{fix}") from None
    return row


def add_validation_rows(new_rows, path=VALIDATION_FILE):
    """Merge `new_rows` into the sweep file atomically (same settings and seed: newer wins)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the lock makes read-merge-write safe when two sweeps finish runs at the same moment;
    # opened to append, so a file of that name is never emptied
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = {}
        for row in read_validation_rows(path) + [_as_strings(r) for r in new_rows]:
            rows[tuple(row[k] for k in VALIDATION_KEY)] = row
        with atomic_write(path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=VALIDATION_FIELDS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows.values())
    return list(rows.values())


def _as_strings(row):
    missing = set(VALIDATION_FIELDS) - set(row)
    if missing:
        raise ValueError(f"a validation row needs {sorted(missing)}; got keys {sorted(row)}")
    return {k: row[k] if isinstance(row[k], str) else f"{row[k]:g}" if isinstance(row[k], float)
            else str(row[k]) for k in VALIDATION_FIELDS}


def validation_summary(rows):
    """One dict per group of runs with the same settings: seeds, errors, mean, min and max."""
    groups = {}
    for row in rows:
        key = tuple(row[k] for k in VALIDATION_KEY if k != "seed")
        groups.setdefault(key, []).append(row)
    summary = []
    for key, group in groups.items():
        group = sorted(group, key=lambda r: int(r["seed"]))
        errors = [float(r["val_error"]) for r in group]
        summary.append(dict(zip([k for k in VALIDATION_KEY if k != "seed"], key),
                            seeds=[int(r["seed"]) for r in group], errors=errors,
                            mean=sum(errors) / len(errors), low=min(errors), high=max(errors)))
    return summary


def validation_markdown(summary):
    """The sweep as a Markdown table, errors in percent with 2 decimals (1 image in 10,000)."""
    lines = ["| model | j | epochs | batch | peak lr | weight decay | seeds | "
             "validation error: mean | range | each seed |", "|---" * 10 + "|"]
    for g in summary:
        each = ", ".join(f"{100 * e:.2f}" for e in g["errors"])
        j = "–" if g["j"] == "nan" else g["j"]
        lines.append(f"| {g['model']} | {j} | {g['epochs']} | {g['batch']} | {g['lr']} | "
                     f"{g['weight_decay']} | {', '.join(map(str, g['seeds']))} | "
                     f"{100 * g['mean']:.2f} % | {100 * g['low']:.2f}–{100 * g['high']:.2f} % | "
                     f"{each} % |")
    return "\n".join(lines)


def ranges_overlap(a, b):
    """True when two summary groups' min–max ranges of validation error overlap."""
    return a["low"] <= b["high"] and b["low"] <= a["high"]

"""Chapter 5's training: the recipe (SGD with Nesterov momentum, one-cycle), distortions, and its
two stored experiments — `LENET5` (LeNet-5's seeds beside the softmax head, the d2l LeNet and the
distorted and longer runs) and `LENET5_VALIDATION` (the MAP loss's j on a validation split), run
by `python -m lenet_nb.course.experiments run NAME` into results/NAME.csv."""

import time
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from lenet_nb import experiments as xp
from lenet_nb.config import reduce_in_tests
from lenet_nb.data import load_data_mnist, load_split, to_float
from lenet_nb.lenet5 import MAP_J, LeNet5, MAPLoss
from lenet_nb.lessons.lr_sweep import split_validation
from lenet_nb.models import get_model, init_xavier
from lenet_nb.train import fit, train_one_cycle, use_channels_last
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
    """One finished training run: its settings, history, wall-clock and final error."""

    name: str
    seed: int
    num_epochs: int
    history: list = field(repr=False)
    seconds: float
    net: torch.nn.Module = field(repr=False)

    @property
    def test_error(self):
        """1 - accuracy after the last epoch (on the validation split for split='validation')."""
        return 1 - self.history[-1]["test_acc"]

    @property
    def errors(self):
        """The error after every epoch."""
        return [1 - r["test_acc"] for r in self.history]


class Crop(torch.nn.Module):
    """Cut `p` pixels from every border (32x32 paper inputs back to 28x28)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, X):
        return X[..., self.p : -self.p, self.p : -self.p]


def build(model, seed, j=MAP_J):
    """Seeded network and (loss, predict) for model in lenet5, lenet5-softmax, d2l."""
    torch.manual_seed(seed)
    if model == "lenet5":
        net = LeNet5("rbf")
        return net, MAPLoss(j), net.predict
    if model == "lenet5-softmax":
        net = LeNet5("softmax")
        return net, torch.nn.CrossEntropyLoss(), net.predict
    if model == "d2l":  # d2l's sigmoid LeNet takes 28x28 inputs: crop the 2-pixel padding
        net = torch.nn.Sequential(Crop(2), init_xavier(get_model("d2l")))
        return net, torch.nn.CrossEntropyLoss(), None
    raise ValueError(f"model must be 'lenet5', 'lenet5-softmax' or 'd2l', got {model!r}")


# Peak learning rates of the one-cycle schedule (SGD, Nesterov momentum), tuned on two-epoch runs
# judged by test error before a validation split existed (chapter 5 says so);
# d2l keeps its own recipe: plain SGD at lr 0.9, no schedule.
LRS = {"lenet5": 0.01, "lenet5-softmax": 0.1, "d2l": 0.9}
# Full-mode budgets: the paper's 20 passes; distorted images get 1.5 times as many
NUM_EPOCHS, DISTORT_EPOCHS = 20, 30
# The validation split: training images held out, and the seed of their choice
HOLDOUT, SPLIT_SEED = 10_000, 1234


def make_optimizer(model, net, lr, num_epochs, steps_per_epoch, weight_decay=0.0):
    """(optimizer, per-batch scheduler or None) for one model's recipe."""
    if model == "d2l":
        return torch.optim.SGD(net.parameters(), lr=lr, weight_decay=weight_decay), None
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True,
                                weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, epochs=num_epochs, steps_per_epoch=steps_per_epoch)
    return optimizer, scheduler


def lenet5_data(batch_size, seed=0, split="test", subset=None, holdout=HOLDOUT):
    """(train_iter, eval_iter) of MNIST padded to 32x32, pixels in [0, 1].

    split="test": the 60,000 training images and the 10,000 test images (`subset` as in
    load_data_mnist); split="validation": `holdout` training images held out (SPLIT_SEED) and
    the rest to train on; the test set is not read.
    """
    if split == "test":
        return load_data_mnist(batch_size, pad=2, subset=subset, seed=seed)
    if split != "validation":
        raise ValueError(f"split must be 'test' or 'validation', got {split!r}")
    X, y = load_split("MNIST", train=True)
    return split_validation(to_float(X, pad=2), y, holdout, batch_size, seed=SPLIT_SEED)


def train_lenet5(model="lenet5", seed=0, num_epochs=NUM_EPOCHS, batch_size=128, lr=None,
                 distort=False, subset=None, j=MAP_J, split="test", stop_after=None,
                 holdout=HOLDOUT):
    """Train one model on MNIST padded to 32x32 and return a Run (history, seconds, net).

    The one-cycle schedule spans `num_epochs`; `stop_after=k` trains only its first k epochs,
    which are those of the full run with the same seed (so a short live run can be compared
    with stored full runs at epoch k). `split`, `subset` and `holdout` as in `lenet5_data`.
    Only a finished run is returned: fit's TrainingInterrupted / TrainingDiverged propagate.
    """
    if model not in LRS:  # checked before the data are loaded
        raise ValueError(f"model must be one of {sorted(LRS)}, got {model!r}")
    if lr is not None:
        positive_number("lr", lr)
    num_epochs = whole_number("num_epochs", num_epochs)  # before OneCycleLR sees it
    stop_after = num_epochs if stop_after is None else whole_number("stop_after", stop_after)
    if stop_after > num_epochs:
        raise ValueError(f"stop_after ({stop_after}) must not exceed num_epochs ({num_epochs})")
    train_iter, eval_iter = lenet5_data(batch_size, seed, split, subset, holdout)
    if distort:
        train_iter = Distorted(train_iter, seed=seed)
    net, loss, predict = build(model, seed, j)
    lr = LRS[model] if lr is None else lr
    optimizer, scheduler = make_optimizer(model, net, lr, num_epochs, len(train_iter))
    start = time.perf_counter()
    history = fit(net, train_iter, eval_iter, stop_after, optimizer=optimizer,
                  scheduler=scheduler, scheduler_per_batch=True, loss=loss, predict=predict,
                  device="cpu", seed=seed, progress=False, live=False)
    xp.curves(history)  # an interrupted or diverged run raises here: only finished runs return
    name = model + (" + distortions" if distort else "")
    return Run(name, seed, stop_after, history, time.perf_counter() - start, net)


# --- the stored experiments ------------------------------------------------------------------

# LENET5's settings: the paper's network and recipe (20 epochs), two comparisons at the same
# budget, the distorted run (30 epochs) and the same network trained 30 epochs without
# distortions, so "distortions" and "longer" can be told apart.
SETTINGS = {
    "lenet5": {"model": "lenet5", "epochs": NUM_EPOCHS, "distort": False},
    "lenet5-softmax": {"model": "lenet5-softmax", "epochs": NUM_EPOCHS, "distort": False},
    "d2l": {"model": "d2l", "epochs": NUM_EPOCHS, "distort": False},
    "lenet5-30": {"model": "lenet5", "epochs": DISTORT_EPOCHS, "distort": False},
    "lenet5-distorted": {"model": "lenet5", "epochs": DISTORT_EPOCHS, "distort": True},
}
LABELS = {"lenet5": "LeNet-5, MAP loss", "lenet5-softmax": "LeNet-5, softmax head",
          "d2l": "d2l LeNet, its own recipe", "lenet5-30": "LeNet-5, 30 epochs",
          "lenet5-distorted": "LeNet-5, distortions, 30 epochs"}
RECIPE = ("SGD, Nesterov momentum 0.9, one-cycle stepped per batch (d2l: plain SGD, constant "
          "rate); MNIST padded to 32x32; evaluated after every epoch")


def _curves(run):
    """The metrics stored per run: error and training loss after every epoch."""
    return {"error": run.errors, "train_loss": run.history.column("train_loss")}


def lenet5_run(config, run):
    """One run of LENET5: the setting's network and recipe, on the test set."""
    s = config["settings"][run["setting"]]
    return _curves(train_lenet5(s["model"], seed=run["seed"], num_epochs=s["epochs"],
                                batch_size=config["batch_size"], lr=config["lrs"][s["model"]],
                                distort=s["distort"], j=config["j"]))


def validation_run(config, run):
    """One run of LENET5_VALIDATION: LeNet-5 with the run's j, evaluated on the held-out split."""
    return _curves(train_lenet5("lenet5", seed=run["seed"], num_epochs=config["epochs"],
                                batch_size=config["batch_size"], lr=config["lr"], j=run["j"],
                                split="validation", holdout=config["holdout"]))


LENET5 = xp.Experiment(
    "lenet5", "lenet5_paper",
    {"revision": 1, "recipe": RECIPE, "batch_size": 128, "lrs": LRS, "j": MAP_J,
     "settings": SETTINGS, "seeds": [0, 1, 2]},
    runs=lambda c: xp.grid(c["seeds"], setting=list(c["settings"])),
    run_one=lenet5_run, minutes=20)

LENET5_VALIDATION = xp.Experiment(
    "lenet5_validation", "lenet5_paper",
    {"revision": 1, "recipe": RECIPE, "batch_size": 128, "epochs": NUM_EPOCHS,
     "lr": LRS["lenet5"], "holdout": HOLDOUT, "split_seed": SPLIT_SEED, "js": [1.0, 5.0, 25.0],
     "seeds": [0, 1, 2]},
    runs=lambda c: xp.grid(c["seeds"], j=c["js"]),
    run_one=validation_run, minutes=26)


# --- the assumptions and deviations table ----------------------------------------------------


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
         f"one-cycle (warm-up, then cosine decay), peak rate {lr} ({LRS['lenet5-softmax']} for "
         f"the softmax head), stepped every batch, "
         f"{NUM_EPOCHS} epochs ({DISTORT_EPOCHS} with distortions)",
         "the paper's number of passes; one smooth schedule instead of hand-set steps; the "
         "peak rate was picked on two-epoch runs judged by test error"),
        ("loss", "MAP criterion, eq. (9), with j 'a positive constant'", f"the same, j = {j:g}",
         "j is not given; j = 1, 5 and 25 compared on held-out training images, three seeds "
         "each"),
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


# --- exercise 5.6: what j does to the MAP loss's push on each class ---------------------------

# One image of class 0 and its ten RBF penalties: the right class close, class 1 a near miss,
# the next ones farther, the last five at 84 (where an untrained F6 puts every class).
J_PENALTIES = (1.0, 3.0, 6.0, 12.0, 40.0, 84.0, 84.0, 84.0, 84.0, 84.0)


def map_loss_push(js, penalties=J_PENALTIES, label=0):
    """{j: the MAP loss's gradient with respect to each of the ten penalties} for one image.

    A negative gradient on a wrong class means gradient descent raises its penalty (pushes F6
    away from that bitmap); the larger its size, the harder the push. Rounded to 6 decimals.
    """
    observed = {}
    for j in js:
        y_hat = torch.tensor([penalties], dtype=torch.float64, requires_grad=True)
        MAPLoss(j)(y_hat, torch.tensor([label])).backward()
        observed[float(j)] = [round(g, 6) for g in y_hat.grad[0].tolist()]
    return observed


def push_table(observed, penalties=J_PENALTIES, label=0):
    """The gradients of `map_loss_push` as text: one row per j, one column per class whose
    penalty is below 84 (the others are named in a last line)."""
    shown = [c for c, p in enumerate(penalties) if p < 84]
    rest = [c for c in range(len(penalties)) if c not in shown]
    lines = [f"{'class (penalty):':>16}" + "".join(f"{f'{c} ({penalties[c]:g})':>10}"
                                                   for c in shown)]
    lines += [f"{f'j = {j:g}':>16}" + "".join(f"{grads[c]:>10.4f}" for c in shown)
              for j, grads in observed.items()]
    largest = max((abs(g[c]) for g in observed.values() for c in rest), default=0.0)
    return "\n".join(lines) + (f"\nclass {label} is the right one; negative = pushed away; "
                               f"classes {rest[0]}-{rest[-1]} (penalty 84): every gradient "
                               f"below {max(largest, 1e-6):.0e} in size")


# --- challenge 5.8: the paper's network, trained by the learner -------------------------------

CHALLENGE_EPOCHS = 6  # this chapter's recipe, cut to what fits the challenge's budget


def challenge_train(X, y, seconds):
    """The course's answer to challenge 5.8 (the notebook writes the same in the open): this
    chapter's recipe — LeNet-5, MAP loss, SGD with Nesterov momentum, one-cycle to 0.01, batch
    128 — for a few epochs; seeded by the caller (torch's global generator)."""
    net, loss = use_channels_last(LeNet5()), MAPLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    return train_one_cycle(net, X, y, reduce_in_tests(CHALLENGE_EPOCHS, 1), optimizer,
                           max_lr=0.01, batch_size=128, loss=loss)

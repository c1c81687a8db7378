"""Chapter 4's exercise checkers: the d2l page's number, the tutorials' training bugs (each fix
confirmed by what the fixed code does), the sigmoid plateau in the learner's own runs, the
recipe challenge. Each `check_*` returns a `Verdict` line (✔, ✘ or ○); it never raises."""

import contextlib
import io
import math

import torch
from torch import nn

from lenet_nb.exercises import challenge
from lenet_nb.exercises.checking import NotStarted, NotYet, call, checker, require_answer
from lenet_nb.lessons.recipes import recipe_train

CHAPTER = 4
EXERCISES = {  # notebook order: exercise 4.n is the n-th name
    "d2l_page": "predict, then run",
    "steplr": "find the bug",
    "keep_best": "find the bug",
    "eval_in_loop": "find the bug",
    "softmax_loss": "find the bug",
    "eval_mode": "find the bug",
    "plateau": "change and observe",
    "recipe_challenge": "challenge",
}

# --- 4.1 the d2l page as written ---------------------------------------------------------------

D2L_PAGE_OPTIONS = {"a": 0.10, "b": 0.779, "c": 0.8645}  # chance, d2l's number, the page's


def _option(value, name, options):
    require_answer(value, name)
    text = str(value).strip().strip("()").lower()
    if text not in options:
        raise NotYet(f"`{name}` is {value!r}: answer with one of "
                     f"{', '.join(repr(k) for k in options)}")
    return text


@checker("d2l_page", leaks=[r"d2l-page\b[^\n]*?\b0\.(0[5-9]|1[0-9])\d"])
def check_d2l_page(prediction):
    """Predict, then run: where the d2l page's recipe, run as written, ends (not revealed)."""
    from lenet_nb.lessons.recipe_runs import stored_final

    answer = _option(prediction, "prediction", D2L_PAGE_OPTIONS)
    values = stored_final("d2l-page")
    mean = sum(values) / len(values)
    expected = min(D2L_PAGE_OPTIONS, key=lambda k: abs(D2L_PAGE_OPTIONS[k] - mean))
    if answer != expected:
        raise NotYet("not what the stored runs show. Hint: chapter 3 measured how small the "
                     "early layers' gradients are at the start, and the d2l recipe needs its "
                     "large rate to leave the plateau within a few epochs: what does a rate "
                     "ninety times smaller do in ten?")
    return (f"the stored d2l-page runs end at {mean:.3f} ({min(values):.3f}–{max(values):.3f}) "
            f"after 10 epochs: plain SGD at lr 0.01 never leaves the plateau")


# --- 4.2 a learning rate that never changes ------------------------------------------------------

def _tiny_data(n=12, batch=4, features=4, classes=3, seed=0):
    from lenet_nb.data import TensorBatches

    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, features, generator=g)
    return TensorBatches(X, torch.arange(n) % classes, batch)


def _tiny_net(features=4, classes=3):
    torch.manual_seed(0)
    return nn.Linear(features, classes)


def _steplr_setup():
    net = _tiny_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
    rates = []
    optimizer.register_step_pre_hook(lambda opt, args, kw: rates.append(opt.param_groups[0]["lr"]))
    return net, optimizer, scheduler, rates


@checker("steplr")
def check_steplr(train_mnist_intro):
    """Find the bug: 12 epochs of 3 batches; epochs 1-10 at lr 0.001, 11-12 at 0.0001."""
    net, optimizer, scheduler, rates = _steplr_setup()
    call(train_mnist_intro, net, _tiny_data(), 12, optimizer, scheduler,
         name="train_mnist_intro")
    if len(rates) != 36:
        raise NotYet(f"your loop made {len(rates)} optimizer steps in 12 epochs of 3 batches: "
                     f"one step per batch, 36 in all")
    first_low = next((i for i, r in enumerate(rates) if r < 1e-3 * 0.99), None)
    if first_low is None:
        raise NotYet("every one of the 36 optimizer steps used lr 0.001: the StepLR was built "
                     "but the rate never changed. Hint: how does a scheduler learn that an "
                     "epoch has passed?")
    if first_low != 30 or not all(math.isclose(r, 1e-4) for r in rates[30:]):
        epoch = first_low // 3 + 1
        hint = ("StepLR counts the calls to scheduler.step(), and your loop calls it more "
                "than once per epoch" if epoch < 10 else
                "step the scheduler at the end of the epoch, after its optimizer steps")
        raise NotYet(f"your rate changed during epoch {epoch}, and the MNIST intro's StepLR(10, "
                     f"0.1) should keep lr 0.001 for epochs 1 to 10. Hint: {hint}")
    return "36 steps: epochs 1 to 10 at lr 0.001, epochs 11 and 12 at 0.0001"


# --- 4.3 keeping the best epoch ------------------------------------------------------------------

_VAL, _TEST = (0.80, 0.85, 0.84), (0.81, 0.83, 0.86)
_TEST_SHUFFLED = (0.99, 0.60, 0.70)  # the test scores alone changed: the choice must not move


class _EpochNet(nn.Module):
    """Counts its training epochs in a buffer, so reloading saved weights restores the count."""

    def __init__(self):
        super().__init__()
        self.register_buffer("epoch", torch.zeros((), dtype=torch.long))


class _Split:
    def __init__(self, name):
        self.name = name


def _scripted(val, test):
    """(net, train_one_epoch, evaluate, val_iter, test_iter): evaluate answers from tables."""
    val_iter, test_iter = _Split("validation"), _Split("test")

    def train_one_epoch(net):
        net.epoch += 1

    def evaluate(net, data_iter):
        if data_iter is not val_iter and data_iter is not test_iter:
            raise NotYet("`evaluate` got neither val_iter nor test_iter")
        epoch = int(net.epoch)
        if epoch < 1:
            return 0.1  # untrained
        return (val if data_iter is val_iter else test)[epoch - 1]

    return _EpochNet(), train_one_epoch, evaluate, val_iter, test_iter


def _kept(train_keep_best, test):
    got = call(train_keep_best, *_scripted(_VAL, test), 3, name="train_keep_best")
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise NotYet(f"`train_keep_best` should return a pair (kept epoch, its test accuracy), "
                     f"got {got!r}")
    epoch, acc = got
    try:
        return int(epoch), round(float(acc), 6)
    except (TypeError, ValueError):
        raise NotYet(f"return a whole-number epoch and a float accuracy, got {got!r}") from None


@checker("keep_best")
def check_keep_best(train_keep_best):
    """Find the bug: the epoch is chosen on validation, its test accuracy reported."""
    first = _kept(train_keep_best, _TEST)
    if first == (3, 0.86):
        raise NotYet("you keep epoch 3 and report 0.86: the epoch with the best test accuracy. "
                     "The test set chose the epoch, so that number is the luckiest of three "
                     "draws, not an estimate for new images")
    if first == (2, 0.85):
        raise NotYet("epoch 2 is the right one to keep, but 0.85 is its validation accuracy: "
                     "report the kept epoch's test accuracy")
    if first[0] == 1:
        raise NotYet("epochs count from 1: the first epoch trained is epoch 1")
    if first != (2, 0.83):
        raise NotYet(f"you return {first}; on validation accuracies {_VAL} and test accuracies "
                     f"{_TEST} the kept epoch and its test accuracy are something else")
    if _kept(train_keep_best, _TEST_SHUFFLED) != (2, 0.6):
        raise NotYet("your kept epoch moves when only the test accuracies change: the test set "
                     "still takes part in the choice")
    return ("keeps epoch 2 (best validation accuracy, 0.85) and reports its test accuracy, "
            "0.83; choosing on the test set would have reported 0.86")


# --- 4.4 a loop that prints too much --------------------------------------------------------------

def _loop_setup():
    net = _tiny_net()
    updater = torch.optim.SGD(net.parameters(), lr=0.1)
    steps, calls = [0], []
    updater.register_step_post_hook(lambda opt, args, kw: steps.__setitem__(0, steps[0] + 1))

    def evaluate(net, data_iter):
        calls.append(steps[0])
        return 0.5

    return net, updater, evaluate, calls


def _reference_loop(net, train_iter, num_epochs, updater):
    loss = nn.CrossEntropyLoss()
    for _ in range(num_epochs):
        for X, y in train_iter:
            updater.zero_grad()
            loss(net(X), y).backward()
            updater.step()
    return net


@checker("eval_in_loop")
def check_eval_in_loop(train_epochs):
    """Find the bug: 2 epochs of 3 batches evaluate the test set twice, after steps 3 and 6."""
    net, updater, evaluate, calls = _loop_setup()
    with contextlib.redirect_stdout(io.StringIO()):  # its progress lines: a check prints one
        call(train_epochs, net, _tiny_data(n=10), _tiny_data(n=4), 2, updater, evaluate,
             name="train_epochs")
    if not calls:
        raise NotYet("your loop no longer evaluates the test set: once per epoch is right")
    if len(calls) != 2:
        raise NotYet(f"your loop evaluated the test set {len(calls)} times in 2 epochs of 3 "
                     f"batches (after steps {calls})")
    if calls != [3, 6]:
        raise NotYet(f"the evaluations ran after steps {calls}: each should come after its "
                     f"epoch's last step (3 and 6)")
    ref_net = _tiny_net()
    _reference_loop(ref_net, _tiny_data(n=10), 2, torch.optim.SGD(ref_net.parameters(), lr=0.1))
    if not all(torch.allclose(p, q, atol=1e-6) for p, q in zip(net.parameters(),
                                                               ref_net.parameters())):
        raise NotYet("the test set is evaluated at the right time, but the weights differ from "
                     "the plain loop's: move the evaluation, change nothing else")
    return "the test set is evaluated once per epoch, after its last step; same weights"


# --- 4.5 a network that will not fit one batch ---------------------------------------------------

def probe_images(n=32):
    """The checker's own copy of the first n Fashion-MNIST training images and labels."""
    from lenet_nb.lessons.diagnostics import probe_batch

    X, y = probe_batch(n)
    return X.clone(), y.clone()


@checker("softmax_loss")
def check_softmax_loss(make_net, loss_fn):
    """Find the bug: the learner's network and loss fit 32 images (loss < 0.1, all right)."""
    from lenet_nb.lessons.pitfalls import fit_one_batch

    X, y = probe_images()
    net = call(make_net, name="make_net")
    if not isinstance(net, nn.Module) or net is call(make_net, name="make_net"):
        raise NotYet("`make_net` should build and return a new network each time it is called")
    if not callable(loss_fn):
        raise NotYet(f"`loss_fn` should be a loss such as nn.CrossEntropyLoss(), got "
                     f"{type(loss_fn).__name__}")
    out = net(X[:2])
    if tuple(out.shape) != (2, 10):
        raise NotYet(f"the network should give 10 scores per image, got shape {tuple(out.shape)}")
    acc, loss = fit_one_batch(net, loss_fn, X, y)
    if not math.isfinite(loss):
        raise NotYet("the loss became NaN or infinite on the checker's batch")
    if loss >= 0.1 or acc < 1.0:
        hint = ("compute the loss your setup gives for a perfect prediction: can it go lower "
                "than that?" if loss > 1.0 else
                "150 Adam steps fit 32 images with the plain network and cross-entropy")
        raise NotYet(f"after 150 Adam steps on 32 images your loss is {loss:.2f} and accuracy "
                     f"{acc:.2f}, where the plain network gets below 0.1 and 1.00. Hint: {hint}")
    usual = " (the usual form: raw scores into CrossEntropyLoss)" if isinstance(
        loss_fn, nn.CrossEntropyLoss) else ""
    return f"fits 32 images in 150 Adam steps: loss below 0.1, every image right{usual}"


# --- 4.6 training with progress checks -----------------------------------------------------------

class _ModeNet(nn.Module):
    """A linear layer that records, for every forward pass, (training mode, gradients on)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear, self.seen = nn.Linear(4, 3), []

    def forward(self, X):
        self.seen.append((self.training, torch.is_grad_enabled()))
        return self.linear(X)


@checker("eval_mode")
def check_eval_mode(train_with_checks):
    """Find the bug: every training step in train mode, every check in eval mode."""
    from lenet_nb.lessons.pitfalls import evaluate_in_eval_mode

    net = _ModeNet()
    updater = torch.optim.SGD(net.parameters(), lr=0.1)
    with contextlib.redirect_stdout(io.StringIO()):  # its progress lines: a check prints one
        call(train_with_checks, net, _tiny_data(n=20, batch=2), _tiny_data(n=4), 1, updater, 3,
             evaluate_in_eval_mode, name="train_with_checks")
    train = [mode for mode, grad in net.seen if grad]
    checks = [mode for mode, grad in net.seen if not grad]
    if len(train) != 10:
        raise NotYet(f"{len(train)} training forward passes for 10 batches: one per batch")
    if not checks:
        raise NotYet("your loop no longer checks the validation accuracy: keep the checks")
    if any(checks):
        raise NotYet("a check ran in training mode: `evaluate` must see the net in eval mode")
    wrong = [i for i, mode in enumerate(train, 1) if not mode]
    if wrong:
        raise NotYet(f"training batches {wrong[0]} to {wrong[-1]} ran in evaluation mode, from "
                     f"the first check on: dropout and batch norm then behave as at test time. "
                     f"Hint: which mode does `evaluate` leave the net in?")
    return (f"10 training batches in train mode, {len(checks)} forward passes of checks in "
            f"eval mode")


# --- 4.7 how long the sigmoid network stays on its plateau -----------------------------------

def _records(records):
    if not records:
        raise NotStarted("no runs recorded yet: run the cell with `lrs` above first")
    if not isinstance(records, dict):
        raise NotYet("pass the dict the run cell filled, `plateau_records`")
    first = next(iter(records.values()))
    for lr, rec in records.items():
        if not isinstance(rec, dict) or "val_acc" not in rec:
            raise NotYet(f"the record of lr {lr} is not one the run cell made: run it again")
        if any(rec.get(k) != first.get(k) for k in ("seed", "epochs", "images", "batch_size",
                                                    "activation", "pooling")):
            raise NotYet("your runs differ in more than the learning rate: change only `lrs`")
    if len(records) < 2:
        raise NotYet("one rate is not a comparison: add a smaller and a larger rate to `lrs` "
                     "(e.g. 0.3 and 3.0) and run the cell again")
    return records


def _rate(value, records, name):
    for lr in records:
        if isinstance(value, int | float) and not isinstance(value, bool) and \
                math.isclose(value, lr, rel_tol=1e-9):
            return lr
    raise NotYet(f"`{name}` holds {value!r}, which is not one of your rates "
                 f"{sorted(records)}")


@checker("plateau")
def check_plateau(leaves_first, stays, records):
    """Change and observe: graded against the learner's own recorded runs."""
    from lenet_nb.lessons.grid import leaves_plateau

    if leaves_first is Ellipsis or stays is Ellipsis:
        raise NotStarted("`leaves_first` and `stays` still hold `...`: answer from your runs")
    records = _records(records)
    left = {lr: leaves_plateau(rec) for lr, rec in records.items()}
    epochs = {lr: e for lr, e in left.items() if e is not None}
    if not isinstance(stays, list | tuple | set):
        raise NotYet(f"`stays` should be a list of rates, e.g. [0.3], got {stays!r}")
    stayed = {_rate(v, records, "stays") for v in stays}
    if leaves_first is None:
        if epochs:
            lr = min(epochs, key=epochs.get)
            raise NotYet(f"in your runs lr {lr:g} passes 0.2 in epoch {epochs[lr]}")
    else:
        lr = _rate(leaves_first, records, "leaves_first")
        if left[lr] is None:
            raise NotYet(f"in your runs lr {lr:g} never passes 0.2: it did not leave the "
                         f"plateau")
        if left[lr] > min(epochs.values()):
            other = min(epochs, key=epochs.get)
            raise NotYet(f"lr {lr:g} passes 0.2 in epoch {left[lr]}, lr {other:g} already in "
                         f"epoch {epochs[other]}")
    for lr in records:
        if lr in stayed and left[lr] is not None:
            raise NotYet(f"lr {lr:g} passes 0.2 in epoch {left[lr]}: it left the plateau")
        if lr not in stayed and left[lr] is None:
            raise NotYet(f"lr {lr:g} never passes 0.2 in your run: it belongs in `stays`")
    n = len(next(iter(records.values()))["val_acc"])
    never = f"not in {n} epoch{'s' if n != 1 else ''}"
    parts = [f"lr {lr:g}: " + (f"epoch {e}" if e else never) for lr, e in sorted(left.items())]
    return "first epoch above 0.2 (twice chance) in your runs: " + "; ".join(parts)


# --- 4.8 challenge: the best recipe for a LeNet-sized network -----------------------------------

def _recipe_hint(net, params, macs, value):
    """A hint for a miss: a sigmoid network spends its first epochs on a plateau."""
    sigmoid = any(isinstance(m, nn.Sigmoid) for m in net.modules())
    return ("the d2l LeNet's size is the cap" if value is None else
            "a sigmoid network spends its first epochs on a plateau" if sigmoid else None)


CHALLENGE = challenge.ChallengeSpec(
    "recipe_challenge", "recipes", "FashionMNIST", target=0.90, budget=120.0,
    solution=recipe_train, max_params=61_706, hint=_recipe_hint, minutes=4)


@checker("recipe_challenge")
def check_recipe_challenge(train):
    """Challenge: ≥ 0.90 validation accuracy, ≤ 61,706 parameters, 120 reference seconds."""
    return challenge.score(CHALLENGE, train)

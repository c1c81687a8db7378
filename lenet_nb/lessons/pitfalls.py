"""Small, measurable demonstrations of the mistakes in the source tutorials' training code."""

import io
import math
import os
import pickle
import time
import warnings

import torch
from torch import nn

from lenet_nb.files import write_bytes
from lenet_nb.train import accuracy, evaluate_accuracy
from lenet_nb.validate import whole_number

# --- 1. averaging accuracy over batches -------------------------------------------------


def correct_per_batch(net, data_iter):
    """Return (number correct, batch size) for every batch of `data_iter`."""
    net.eval()
    correct, sizes = [], []
    with torch.inference_mode():
        for X, y in data_iter:
            correct.append(accuracy(net(X), y))
            sizes.append(len(y))
    return correct, sizes


def accuracy_per_sample(correct, sizes):
    """The right accuracy: all correct predictions over all samples."""
    return sum(correct) / sum(sizes)


def accuracy_batch_mean(correct, sizes):
    """The MNIST intro's accuracy: mean of per-batch accuracies (a small last batch weighs
    too much)."""
    return sum(c / n for c, n in zip(correct, sizes)) / len(sizes)


def accuracy_full_batches(correct, sizes, batch_size):
    """Learn PyTorch (14)'s accuracy: correct predictions over batches * batch_size (counts
    samples that do not exist)."""
    return sum(correct) / (len(sizes) * batch_size)


def compare_accuracy_averaging(net, data_iter):
    """The three accuracies of `net` on `data_iter`: per sample, batch mean, full batches."""
    correct, sizes = correct_per_batch(net, data_iter)
    return {"per_sample": accuracy_per_sample(correct, sizes),
            "batch_mean": accuracy_batch_mean(correct, sizes),
            "full_batches": accuracy_full_batches(correct, sizes, max(sizes)),
            "num_batches": len(sizes), "last_batch": sizes[-1]}


# --- 2. evaluating the test set inside the batch loop (Boyu's indentation) ---------------


def train_epoch_boyu(net, train_iter, test_iter, lr, eval_inside_loop, max_batches=None):
    """One SGD epoch; with `eval_inside_loop` the test set is evaluated after every batch.

    Returns (test-set evaluations, seconds training, seconds evaluating). `max_batches`
    stops early so a notebook can time a few batches and extrapolate to an epoch.
    """
    loss = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    num_evals, train_s, eval_s = 0, 0.0, 0.0
    for i, (X, y) in enumerate(train_iter):
        if max_batches is not None and i >= max_batches:
            break
        start = time.perf_counter()
        net.train()
        optimizer.zero_grad()
        loss(net(X), y).backward()
        optimizer.step()
        train_s += time.perf_counter() - start
        if eval_inside_loop:  # Boyu's bug: this line sits one indentation level too deep
            start = time.perf_counter()
            evaluate_accuracy(net, test_iter)
            eval_s += time.perf_counter() - start
            num_evals += 1
    if not eval_inside_loop:
        start = time.perf_counter()
        evaluate_accuracy(net, test_iter)
        eval_s += time.perf_counter() - start
        num_evals += 1
    return num_evals, train_s, eval_s


def eval_in_loop_cost(net, train_iter, test_iter, lr, num_batches=5):
    """Time `num_batches` batches of the buggy loop and extrapolate both loops to one epoch."""
    num_batches = whole_number("num_batches", num_batches)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    num_evals, train_s, eval_s = train_epoch_boyu(net, train_iter, test_iter, lr, True,
                                                     num_batches)
    net.load_state_dict(state)  # the demonstration leaves the net as it found it
    n = len(train_iter)
    per_batch, per_eval = train_s / min(num_batches, n), eval_s / num_evals
    return {"batches_per_epoch": n, "seconds_per_batch": per_batch, "seconds_per_eval": per_eval,
            "epoch_fixed_s": n * per_batch + per_eval, "epoch_buggy_s": n * (per_batch + per_eval)}


# --- 3. softmax before CrossEntropyLoss ----------------------------------------------------


def double_softmax_floor(num_classes=10):
    """Lowest loss CrossEntropyLoss can reach when the net already ends in a softmax."""
    # Best case: softmax outputs exactly one-hot (1 for the right class, 0 elsewhere);
    # CrossEntropyLoss applies log-softmax again, giving log(e + k - 1) - 1.
    return math.log(math.e + num_classes - 1) - 1


def softmax_before_loss(logits, y):
    """Return (loss, loss with an extra Softmax layer, their gradient norms) on the same logits."""
    out = {}
    for name, head in (("plain", nn.Identity()), ("softmax", nn.Softmax(dim=1))):
        z = logits.detach().clone().requires_grad_(True)
        loss = nn.functional.cross_entropy(head(z), y)
        loss.backward()
        out[name] = (loss.item(), z.grad.norm().item())
    return out


def demo_batches(n=512, batch_size=64, seed=0):
    """The first n Fashion-MNIST training images in shuffled batches: a small, fixed data set
    for demonstrations that need real images but not a real training run."""
    from lenet_nb.data import TensorBatches
    from lenet_nb.lessons.diagnostics import probe_batch

    X, y = probe_batch(n)
    return TensorBatches(X, y, batch_size, shuffle=True, seed=seed)


def fit_one_batch(net, loss_fn, X, y, num_steps=150, lr=1e-3, seed=0):
    """Train `net` with Adam on the one batch (X, y) only; (accuracy, loss) on it afterwards.

    A network and loss that cannot fit 32 images in 150 steps have a bug, not a hard problem.
    """
    num_steps = whole_number("num_steps", num_steps)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(num_steps):
        optimizer.zero_grad()
        loss_fn(net(X), y).backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        scores = net(X)
        return accuracy(scores, y) / len(y), float(loss_fn(scores, y))


# --- a model left in evaluation mode --------------------------------------------------------------


def evaluate_in_eval_mode(net, data_iter):
    """Accuracy as the tutorials evaluate: switch the net to eval mode and leave it there (d2l's
    evaluate_accuracy does; `lenet_nb.train.evaluate_accuracy` restores the caller's mode)."""
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += accuracy(net(X), y)
            total += y.numel()
    return correct / total


class ModeCounter:
    """Counts a network's training forward passes (gradients on) by mode, while in a `with`."""

    def __init__(self, net):
        self.net, self.train_mode, self.eval_mode = net, 0, 0

    def _count(self, module, inputs):
        if torch.is_grad_enabled():  # a training step; checks run without gradients
            if module.training:
                self.train_mode += 1
            else:
                self.eval_mode += 1

    def __enter__(self):
        self.hook = self.net.register_forward_pre_hook(self._count)
        return self

    def __exit__(self, *exc):
        self.hook.remove()


# --- 4. DataLoader workers and a shuffled test loader ----------------------------------------


def suggested_workers(requested):
    """Number of workers worth using: never more than this machine's cores."""
    return max(0, min(requested, os.cpu_count() or 1))


def loader_warnings(dataset, num_workers, batch_size=256):
    """Return the warning texts PyTorch emits when iterating with `num_workers` workers."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size,
                                             num_workers=num_workers)
        next(iter(loader))
    return [str(w.message) for w in caught]


def time_loader_pass(loader):
    """Seconds for one full pass over a loader (no model)."""
    start = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - start


def loader_pass_seconds(dataset, num_workers, batch_size=256):
    """Seconds for one pass over `dataset` with a DataLoader of `num_workers` workers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the too-many-workers warning is shown separately
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size,
                                             num_workers=num_workers)
        return time_loader_pass(loader)


def first_labels(loader, n=10):
    """Labels of the first `n` samples a loader yields (to see whether its order is stable)."""
    _, y = next(iter(loader))
    return y[:n].tolist()


# --- 5. torch.load of a pickle ---------------------------------------------------------------

CALLS = []  # the "payload" below records here that it ran


def _record_call(message):
    """Harmless stand-in for a malicious payload: remember that unpickling ran our code."""
    CALLS.append(message)
    return message


class _Payload:
    """An object whose unpickling calls a function of the author's choosing."""

    def __reduce__(self):
        return (_record_call, ("code ran during torch.load",))


def _is_untrusted_demo(path):
    with open(path, "rb") as f:
        return b"_record_call" in f.read(65536)


_is_untrusted_demo.ours = "the demonstration file write_untrusted_checkpoint writes"


def write_untrusted_checkpoint(path):
    """Write a checkpoint that carries a payload next to ordinary weights (never over a file
    of yours: only over an earlier demonstration file)."""
    buf = io.BytesIO()
    torch.save({"weights": torch.zeros(2), "extra": _Payload()}, buf, pickle_protocol=2)
    return write_bytes(path, buf.getvalue(), owner=_is_untrusted_demo)


def try_load(path, weights_only):
    """Load `path` with torch.load; return (payload ran?, error text or None)."""
    before = len(CALLS)
    try:
        torch.load(path, weights_only=weights_only)
        error = None
    except pickle.UnpicklingError as exc:
        # keep the line that names the refused global (the message is long and changes)
        lines = [ln.strip() for ln in str(exc).splitlines()]
        error = next((ln for ln in lines if "Unsupported global" in ln), lines[0])
    return len(CALLS) > before, error

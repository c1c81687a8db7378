"""Training and evaluation: per-sample accuracy, seeded runs, atomic checkpoints, live feedback."""

import random
import sys
import time

import torch
from torch import nn

from lenet_nb.checkpoint import load_checkpoint, save_checkpoint  # noqa: F401 - public here too
from lenet_nb.config import is_quick
from lenet_nb.validate import positive_number, whole_number


def seed_everything(seed):
    """Seed Python, NumPy (if present) and torch so CPU runs repeat exactly."""
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:
        pass


def try_gpu():
    """CUDA device when one is usable, otherwise the CPU."""
    try:
        if torch.cuda.is_available():
            return torch.device("cuda")
    except RuntimeError:  # a CUDA build on a machine without a driver
        pass
    return torch.device("cpu")


def use_channels_last(net):
    """Store the 4-D (convolution) weights channels-last; same maths, faster CPU kernels."""
    # oneDNN's channels-last convolutions train LeNet-sized nets 1.3-2x faster on this CPU
    # (benchmarks/); Module.to keeps the Parameter objects, so existing optimizers still work
    return net.to(memory_format=torch.channels_last)


def argmax_predict(y_hat):
    """Class ids from scores: the largest output wins."""
    return y_hat.argmax(dim=1)


def accuracy(y_hat, y, predict=None):
    """Number of correct predictions in a batch (a count, so batches of any size add up)."""
    pred = (predict or argmax_predict)(y_hat)
    if y.dim() != 1 or pred.shape != y.shape:
        # a [N, 1] label tensor would broadcast against [N] predictions to N*N comparisons
        raise ValueError(f"labels must be a 1-D tensor of class ids, one per prediction: got "
                         f"labels of shape {list(y.shape)} for predictions of shape "
                         f"{list(pred.shape)}; flatten [N, 1] labels with y.view(-1)")
    return int((pred == y).sum())


def evaluate_accuracy(net, data_iter, predict=None, device=None):
    """Share of correctly classified samples, counted per sample, in eval mode."""
    device = device or next(net.parameters()).device
    was_training = net.training
    net.eval()
    correct = total = 0
    try:
        with torch.inference_mode():
            for X, y in data_iter:
                X, y = X.to(device), y.to(device)
                correct += accuracy(net(X), y, predict)
                total += y.numel()
    finally:  # also after an error or Ctrl-C: the caller's mode comes back
        net.train(was_training)
    if total == 0:
        raise ValueError("evaluate_accuracy got an empty data iterator")
    return correct / total


class History(list):
    """Per-epoch records (dicts) of a `fit` run, with column access."""

    interrupted = False  # Ctrl-C stopped the run
    diverged = False  # a non-finite loss stopped the run

    def column(self, key):
        """All epochs' values of one key."""
        return [r[key] for r in self]

    @property
    def train_loss(self):
        return self.column("train_loss")

    @property
    def train_acc(self):
        return self.column("train_acc")

    @property
    def test_acc(self):
        return self.column("test_acc")

    @property
    def best_test_acc(self):
        return max(self.test_acc) if self else float("nan")

    @property
    def val_acc(self):
        return self.column("val_acc")

    def best_epoch(self, key="val_acc"):
        """The epoch (1-based) with the highest `key`; the earlier one on a tie."""
        if not self:
            raise ValueError("the history has no finished epochs")
        values = self.column(key)
        return values.index(max(values)) + 1

    @property
    def total_seconds(self):
        return sum(self.column("seconds"))

    def summary(self):
        """One line: final loss and accuracies, speed."""
        if not self:
            return "no finished epochs"
        r = self[-1]
        return (f"loss {r['train_loss']:.3f}, train acc {r['train_acc']:.3f}, "
                f"test acc {r['test_acc']:.3f}, {r['images_per_s']:.0f} images/s")


def _in_notebook():
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _auto(flag):
    # progress bars and live plots only where a person watches: a kernel, not quick mode
    return (_in_notebook() and not is_quick()) if flag is None else bool(flag)


class NonFiniteLoss(ArithmeticError):
    """The training loss became NaN or infinite (at `batch`, with value `value`)."""

    def __init__(self, batch, value):
        super().__init__(f"loss {value} at batch {batch}")
        self.batch, self.value = batch, value


def _train_epoch(net, train_iter, loss, optimizer, scheduler_step, predict, device, bar):
    """One pass over train_iter; returns (loss sum, correct, samples)."""
    net.train()
    loss_sum, correct, n = torch.zeros((), device=device), 0, 0
    for batch, (X, y) in enumerate(train_iter, 1):
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        batch_loss = loss(y_hat, y)
        finite = torch.isfinite(batch_loss)
        if not bool(finite.all()):  # checked before the step spreads it to the weights
            raise NonFiniteLoss(batch, float(batch_loss.detach()[~finite].flatten()[0]))
        optimizer.zero_grad(set_to_none=True)
        batch_loss.backward()
        optimizer.step()
        if scheduler_step is not None:
            scheduler_step()
        with torch.no_grad():
            loss_sum += batch_loss.detach() * y.numel()  # the loss is a batch mean: weight by size
            correct += accuracy(y_hat, y, predict)
        n += y.numel()
        if bar is not None:
            bar.update(1)
    return float(loss_sum), correct, n


def _diverged_message(stop, epoch, num_batches, optimizer):
    """What happened when the loss became non-finite, where, and what to try."""
    of = f" of {num_batches}" if num_batches else ""
    lr = optimizer.param_groups[0].get("lr")
    return (f"training stopped: the loss became {stop.value} in epoch {epoch}, batch "
            f"{stop.batch}{of}. The history holds the {epoch - 1} finished epoch(s); epoch "
            f"{epoch} was not recorded or checkpointed, and the net's weights may be unusable "
            f"(rebuild it or reload a checkpoint). Try a smaller learning rate (now {lr}; e.g. "
            f"a tenth of it), inputs scaled to [0, 1] without NaN, or a loss that returns a "
            f"finite batch mean.")


def _check_fit_args(train_iter, num_epochs, lr, optimizer):
    """Validate fit's user values; return num_epochs as an int."""
    if optimizer is None and lr is None:
        raise ValueError("fit needs either lr (for plain SGD) or an optimizer")
    if lr is not None:
        positive_number("lr", lr)
    if hasattr(train_iter, "__len__") and len(train_iter) == 0:
        raise ValueError("train_iter has no batches: give fit a non-empty training set")
    return whole_number("num_epochs", num_epochs)


def fit(net, train_iter, test_iter, num_epochs, lr=None, optimizer=None, scheduler=None,
        loss=None, predict=None, device=None, checkpoint=None, progress=None, live=None,
        init=None, scheduler_per_batch=False, seed=None, channels_last=True, val_iter=None):
    """Train `net`, evaluate after every epoch and return a History of per-epoch records.

    `optimizer` defaults to SGD(lr); `scheduler` steps once per epoch, or once per batch with
    `scheduler_per_batch=True` (one-cycle). `loss` must return a batch mean (default
    cross-entropy); `predict` maps outputs to class ids (default argmax). `checkpoint=path`
    keeps the best weights by test accuracy, or by validation accuracy when `val_iter` (a split
    held out of the training set, evaluated after every epoch as `val_acc`) is given. `seed`
    reseeds torch and the batch order first.
    `channels_last` stores convolution weights channels-last on the CPU (see use_channels_last).
    """
    num_epochs = _check_fit_args(train_iter, num_epochs, lr, optimizer)
    if seed is not None:
        seed_everything(seed)
        if hasattr(train_iter, "generator"):
            train_iter.generator.manual_seed(seed)
    if init is not None:
        init(net)
    device = torch.device(device) if device is not None else try_gpu()
    net.to(device)
    if channels_last and device.type == "cpu":
        use_channels_last(net)
    for data_iter in (train_iter, test_iter, val_iter):
        if hasattr(data_iter, "to"):
            data_iter.to(device)  # in-memory batches: moved once, not per batch
    loss = loss or nn.CrossEntropyLoss()
    optimizer = optimizer or torch.optim.SGD(net.parameters(), lr=lr)
    step = scheduler.step if (scheduler is not None and scheduler_per_batch) else None
    show_bar, show_live = _auto(progress), _auto(live)
    animator = None
    if show_live:
        from lenet_nb.live import Animator  # matplotlib only when curves are drawn

        animator = Animator(num_epochs)
    history, best, bar = History(), -1.0, None
    try:
        for epoch in range(1, num_epochs + 1):
            bar = None
            if show_bar:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(train_iter), desc=f"epoch {epoch}/{num_epochs}",
                           leave=False)
            start = time.perf_counter()
            loss_sum, correct, n = _train_epoch(net, train_iter, loss, optimizer, step,
                                                predict, device, bar)
            train_seconds = time.perf_counter() - start
            if bar is not None:
                bar.close()
            if n == 0:  # e.g. a generator, used up after one epoch
                raise ValueError(f"train_iter gave no samples in epoch {epoch}: pass a "
                                 f"re-iterable (TensorBatches, DataLoader or a list), not a "
                                 f"generator")
            if scheduler is not None and not scheduler_per_batch:
                scheduler.step()
            test_acc = evaluate_accuracy(net, test_iter, predict, device)
            record = {"epoch": epoch, "train_loss": loss_sum / n, "train_acc": correct / n,
                      "test_acc": test_acc}
            if val_iter is not None:
                record["val_acc"] = evaluate_accuracy(net, val_iter, predict, device)
            record.update(seconds=time.perf_counter() - start, images_per_s=n / train_seconds)
            history.append(record)
            chosen = record["val_acc"] if val_iter is not None else test_acc
            if checkpoint is not None and chosen > best:
                best = chosen
                save_checkpoint(net, checkpoint, epoch=epoch,
                                **{"val_acc" if val_iter is not None else "test_acc": chosen})
            if animator is not None:
                animator.add(record)
    except KeyboardInterrupt:
        # keep what was learned so far: the caller gets the finished epochs back
        history.interrupted = True
        print(f"training interrupted after {len(history)} finished epoch(s); "
              f"the history so far is returned", file=sys.stderr)
    except NonFiniteLoss as stop:
        history.diverged = True
        if bar is not None:
            bar.close()
        num_batches = len(train_iter) if hasattr(train_iter, "__len__") else None
        print(_diverged_message(stop, epoch, num_batches, optimizer), file=sys.stderr)
    finally:
        if animator is not None:
            animator.close()
    return history

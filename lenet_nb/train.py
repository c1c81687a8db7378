"""Training and evaluation: per-sample accuracy, seeded runs, atomic checkpoints, live feedback."""

import contextlib
import random
import sys
import time

import torch
from torch import nn

from lenet_nb.checkpoint import load_checkpoint, save_checkpoint  # noqa: F401 - public here too
from lenet_nb.config import is_quick
from lenet_nb.files import check_writable
from lenet_nb.history import (  # noqa: F401 - public here too
    History,
    TrainingDiverged,
    TrainingInterrupted,
    TrainingStopped,
)
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


def _one_batch(name, data):
    """Refuse a single (X, y) pair where an iterable of batches is meant."""
    if (isinstance(data, (tuple, list)) and len(data) == 2
            and all(torch.is_tensor(t) for t in data)):
        raise ValueError(f"{name} is one (X, y) batch, not an iterable of batches: pass "
                         f"[(X, y)], or a TensorBatches(X, y, batch_size)")


def evaluate_accuracy(net, data_iter, predict=None, device=None):
    """Share of correctly classified samples, counted per sample, in eval mode."""
    _one_batch("data_iter", data_iter)
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


LAST_VALUE_HINT = ("the finished epochs are in the exception's .history (`except "
                   "TrainingStopped as e: e.history`; in a notebook, `sys.last_value.history` "
                   "in the next cell)")


def _diverged_message(stop, epoch, num_batches, lr):
    """What happened when the loss became non-finite, where, and what to try."""
    of = f" of {num_batches}" if num_batches else ""
    return (f"training diverged: the loss became {stop.value} in epoch {epoch}, batch "
            f"{stop.batch}{of}; {LAST_VALUE_HINT}. Epoch "
            f"{epoch} was not recorded or checkpointed, and the net's weights may be unusable "
            f"(rebuild it or reload a checkpoint). Try a smaller learning rate (now {lr}; e.g. "
            f"a tenth of it), inputs scaled to [0, 1] without NaN, or a loss that returns a "
            f"finite batch mean.")


def _reiterable(name, data):
    """Refuse a one-shot iterator (a generator): fit reads every split once per epoch."""
    _one_batch(name, data)
    if data is not None and iter(data) is data:
        raise ValueError(f"{name} is a {type(data).__name__}, used up after one pass: pass "
                         f"something fit can read every epoch, e.g. a list of (X, y) batches, "
                         f"a TensorBatches or a DataLoader")


def _device(device):
    """torch.device for fit: None picks the GPU if usable, else the CPU; names are checked."""
    if device is None:
        return try_gpu()
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'cpu' or 'cuda' (or None: the GPU if there is one), "
                         f"got {device!r}") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {str(device)!r}: fit trains on 'cpu' or 'cuda'")
    if device.type == "cuda" and try_gpu().type != "cuda":
        raise ValueError("device='cuda', but this machine has no usable GPU: pass device='cpu' "
                         "or leave device unset")
    return device


def _check_training_parts(optimizer, scheduler, loss, seed):
    """The optimizer, scheduler, loss and seed fit was given fit together (else ValueError)."""
    if scheduler is not None and getattr(scheduler, "optimizer", optimizer) is not optimizer:
        raise ValueError("the scheduler was built for another optimizer than fit's: pass that "
                         "optimizer too (optimizer=..., scheduler=...), or its lr would never "
                         "change")
    if getattr(loss, "reduction", "mean") != "mean":
        raise ValueError(f"loss must return the batch mean, got reduction={loss.reduction!r}: "
                         f"the recorded train_loss would be off by the batch size (use the "
                         f"default reduction='mean')")
    if seed is not None:
        whole_number("seed", seed, low=0)


def _check_fit_args(net, train_iter, test_iter, val_iter, num_epochs, lr, optimizer, checkpoint):
    """Validate fit's user values before any work; return (num_epochs, checkpoint path)."""
    from lenet_nb.checkpoint import is_checkpoint  # (train imports checkpoint already)

    num_epochs = whole_number("num_epochs", num_epochs)
    if optimizer is None and lr is None:
        raise ValueError("fit needs either lr (for plain SGD) or an optimizer")
    if optimizer is not None and lr is not None:
        raise ValueError("give fit either lr (plain SGD at that rate) or an optimizer, which "
                         "carries its own lr, not both: the lr would be ignored")
    if lr is not None:
        positive_number("lr", lr)
    if not isinstance(net, nn.Module):
        raise ValueError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    for name, data in (("train_iter", train_iter), ("test_iter", test_iter),
                       ("val_iter", val_iter)):
        _reiterable(name, data)
    if hasattr(train_iter, "__len__") and len(train_iter) == 0:
        raise ValueError("train_iter has no batches: give fit a non-empty training set")
    if checkpoint is not None:  # a bad path fails now, not after the first epoch
        checkpoint = check_writable(checkpoint, owner=is_checkpoint, what="checkpoint")
    return num_epochs, checkpoint


def _stopped(error, history, why):
    """Attach the finished epochs to `error` (any exception leaving fit) and say where."""
    history.stopped = why
    with contextlib.suppress(AttributeError, TypeError):
        error.history = history
        if not isinstance(error, TrainingStopped):
            error.add_note(f"fit stopped after {len(history)} of {history.planned_epochs} "
                           f"epoch(s): {LAST_VALUE_HINT}")
    return error


def fit(net, train_iter, test_iter, num_epochs, lr=None, optimizer=None, scheduler=None,
        loss=None, predict=None, device=None, checkpoint=None, progress=None, live=None,
        init=None, scheduler_per_batch=False, seed=None, channels_last=True, val_iter=None):
    """Train `net`, evaluate after every epoch and return a History of per-epoch records.

    Give either `lr` (plain SGD) or an `optimizer`; `scheduler` steps once per epoch, or once
    per batch with `scheduler_per_batch=True` (one-cycle). `loss` must return a batch mean
    (default cross-entropy); `predict` maps outputs to class ids (default argmax).
    `checkpoint=path` keeps the best weights by test accuracy, or by validation accuracy when
    `val_iter` (a split held out of the training set, evaluated after every epoch as
    `val_acc`) is given; it never replaces a file that is not a checkpoint. `seed` reseeds torch
    and the batch order first. `channels_last` stores convolution weights channels-last on the
    CPU (see use_channels_last).

    The contract: a returned History is complete (all `num_epochs` ran). A run that stops
    early raises, and the exception carries the finished epochs as `e.history`:
    `TrainingInterrupted` (Ctrl-C; a KeyboardInterrupt), `TrainingDiverged` (the loss became
    NaN or infinite; an ArithmeticError), or any other error (a full disk, a bad batch) with
    `.history` attached. Arguments are checked before the first epoch (the checkpoint path,
    one-shot generators, lr together with an optimizer, the device name).
    """
    num_epochs, checkpoint = _check_fit_args(net, train_iter, test_iter, val_iter, num_epochs,
                                             lr, optimizer, checkpoint)
    _check_training_parts(optimizer, scheduler, loss, seed)
    device = _device(device)
    if seed is not None:
        seed_everything(seed)  # also the global RNG a DataLoader's sampler draws from
        if getattr(train_iter, "generator", None) is not None:
            train_iter.generator.manual_seed(seed)
    if init is not None:
        init(net)
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
    history, best, bar, epoch = History(), -1.0, None, 0
    history.planned_epochs = num_epochs
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
            if n == 0:
                raise ValueError(f"train_iter gave no samples in epoch {epoch}: pass a "
                                 f"re-iterable (TensorBatches, DataLoader or a list)")
            if scheduler is not None and not scheduler_per_batch:
                scheduler.step()
            test_acc = evaluate_accuracy(net, test_iter, predict, device)
            record = {"epoch": epoch, "train_loss": loss_sum / n, "train_acc": correct / n,
                      "test_acc": test_acc}
            if val_iter is not None:
                record["val_acc"] = evaluate_accuracy(net, val_iter, predict, device)
            record.update(seconds=time.perf_counter() - start, images_per_s=n / train_seconds)
            chosen = record["val_acc"] if val_iter is not None else test_acc
            if checkpoint is not None and chosen > best:
                save_checkpoint(net, checkpoint, epoch=epoch,
                                **{"val_acc" if val_iter is not None else "test_acc": chosen})
                best = chosen
            history.append(record)
            if animator is not None:
                animator.add(record)
    except NonFiniteLoss as stop:
        lr_now = optimizer.param_groups[0].get("lr")
        num_batches = len(train_iter) if hasattr(train_iter, "__len__") else None
        error = TrainingDiverged(_diverged_message(stop, epoch, num_batches, lr_now),
                                 epoch=epoch, batch=stop.batch, value=stop.value, lr=lr_now)
        raise _stopped(error, history, "diverged") from None
    except KeyboardInterrupt:
        error = TrainingInterrupted(f"training interrupted in epoch {epoch} of {num_epochs}: "
                                    f"nothing of epoch {epoch} was kept; {LAST_VALUE_HINT}")
        raise _stopped(error, history, "interrupted") from None
    except BaseException as error:  # every error keeps the finished epochs
        _stopped(error, history, type(error).__name__)
        raise
    finally:
        if bar is not None:
            bar.close()
        if animator is not None:
            animator.close()
    return history


def train_one_cycle(net, X, y, num_epochs, optimizer=None, max_lr=0.01, batch_size=128,
                    loss=None):
    """Train `net` on resident tensors (X, y): a one-cycle rate peaking at `max_lr`, a fresh
    random order of batches every epoch (torch's global generator); return it.

    The loop of the challenges' course solutions. `optimizer` (built on net's parameters)
    defaults to AdamW at `max_lr`; `loss` to cross-entropy.
    """
    optimizer = optimizer or torch.optim.AdamW(net.parameters(), lr=max_lr)
    loss = loss or nn.CrossEntropyLoss()
    steps = num_epochs * -(-len(y) // batch_size)  # batches per epoch, the last one short
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=steps)
    net.train()
    for _ in range(num_epochs):
        for batch in torch.randperm(len(y)).split(batch_size):
            optimizer.zero_grad()
            loss(net(X[batch]), y[batch]).backward()
            optimizer.step()
            scheduler.step()
    return net

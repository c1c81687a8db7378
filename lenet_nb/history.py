"""The record of a training run (History) and how a run that stopped early says so."""


class History(list):
    """Per-epoch records (dicts) of a `fit` run, with column access.

    A History that `fit` returns is complete. A stopped run's History (carried by the
    exception, `e.history`) has `stopped` set ("interrupted", "diverged" or the error's name)
    and `planned_epochs` > len(history), and its summary says so.
    """

    planned_epochs = None  # the num_epochs fit was asked for
    stopped = None  # why the run ended before planned_epochs; None for a finished run

    @property
    def interrupted(self):
        """Ctrl-C stopped the run (see TrainingInterrupted)."""
        return self.stopped == "interrupted"

    @property
    def diverged(self):
        """A non-finite loss stopped the run (see TrainingDiverged)."""
        return self.stopped == "diverged"

    @property
    def finished(self):
        """True when every planned epoch ran."""
        return self.stopped is None and len(self) == (self.planned_epochs or len(self))

    def column(self, key):
        """All epochs' values of one key."""
        if self and key not in self[0]:
            hint = (": this run had no validation split (fit(..., val_iter=...)); use "
                    "'test_acc'" if key == "val_acc" else "")
            raise KeyError(f"the history has no {key!r}{hint}; its keys are {list(self[0])}")
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

    def status(self):
        """'' for a finished run, else e.g. 'stopped after 1 of 3 epochs: interrupted'."""
        if self.finished:
            return ""
        return (f"stopped after {len(self)} of {self.planned_epochs or '?'} epochs: "
                f"{self.stopped or 'unfinished'}")

    def summary(self):
        """One line: final loss and accuracies, speed (and, for a stopped run, that it stopped)."""
        if not self:
            return "no finished epochs" + (f" ({self.status()})" if self.stopped else "")
        r = self[-1]
        line = (f"loss {r['train_loss']:.3f}, train acc {r['train_acc']:.3f}, "
                f"test acc {r['test_acc']:.3f}, {r['images_per_s']:.0f} images/s")
        return f"{self.status()}; last finished epoch: {line}" if self.status() else line


class TrainingStopped(BaseException):
    """fit stopped before its last epoch; `history` holds the finished epochs (never lost).

    Catch `TrainingStopped` for both kinds. Not an Exception: an interrupt must not be
    swallowed by `except Exception`; TrainingDiverged is an Exception (an ArithmeticError).
    """

    history = None


class TrainingInterrupted(TrainingStopped, KeyboardInterrupt):
    """Ctrl-C (a kernel interrupt) stopped fit; still a KeyboardInterrupt, so loops stop too."""


class TrainingDiverged(TrainingStopped, ArithmeticError):
    """The loss became NaN or infinite in `epoch`, `batch` (with `value`, at rate `lr`)."""

    def __init__(self, message, epoch=None, batch=None, value=None, lr=None):
        super().__init__(message)
        self.epoch, self.batch, self.value, self.lr = epoch, batch, value, lr

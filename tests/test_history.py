"""History: columns, the best epoch, and a stopped run that says it stopped."""

import pytest

from lenet_nb.history import History, TrainingDiverged, TrainingInterrupted, TrainingStopped


def _records(n):
    return [{"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5, "test_acc": (4 + e) / 10,
             "seconds": 2.0, "images_per_s": 10.0} for e in range(1, n + 1)]


def test_history_columns():
    h = History(_records(2))
    assert h.test_acc == [0.5, 0.6] and h.best_test_acc == 0.6 and h.total_seconds == 4.0
    assert h.summary() == "loss 0.500, train acc 0.500, test acc 0.600, 10 images/s"
    assert h.finished and h.status() == "" and not h.interrupted and not h.diverged


def test_empty_history_summary():
    assert History().summary() == "no finished epochs"


def test_a_stopped_history_says_so_everywhere_it_is_shown():
    h = History(_records(1))
    h.planned_epochs, h.stopped = 3, "diverged"
    assert not h.finished and h.diverged and not h.interrupted
    assert h.status() == "stopped after 1 of 3 epochs: diverged"
    assert h.summary().startswith("stopped after 1 of 3 epochs: diverged; last finished epoch: "
                                  "loss 1.000")
    empty = History()
    empty.planned_epochs, empty.stopped = 2, "interrupted"
    assert empty.summary() == "no finished epochs (stopped after 0 of 2 epochs: interrupted)"


def test_best_epoch_without_a_validation_split_says_what_to_use():
    h = History([{"epoch": 1, "test_acc": 0.5}, {"epoch": 2, "test_acc": 0.7}])
    with pytest.raises(KeyError, match="no validation split.*use 'test_acc'"):
        h.best_epoch()
    with pytest.raises(KeyError, match="no 'val_loss'; its keys are"):
        h.column("val_loss")
    assert h.best_epoch("test_acc") == 2
    with pytest.raises(ValueError, match="no finished epochs"):
        History().best_epoch("test_acc")


def test_the_stop_classes_keep_an_interrupt_an_interrupt():
    interrupted = TrainingInterrupted("x")
    diverged = TrainingDiverged("y", epoch=2, batch=3, value=float("nan"), lr=0.1)
    assert all(isinstance(e, TrainingStopped) for e in (interrupted, diverged))
    assert isinstance(interrupted, KeyboardInterrupt) and isinstance(diverged, ArithmeticError)
    # a checker's or a notebook's `except Exception` never swallows a Ctrl-C
    assert isinstance(diverged, Exception) and not isinstance(interrupted, Exception)
    assert (diverged.epoch, diverged.batch, diverged.lr) == (2, 3, 0.1)

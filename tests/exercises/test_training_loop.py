"""The checkers of lenet_nb.exercises.training_loop: each passes on the reference solution, says
precisely what is wrong on the stub and on typical wrong answers, and never raises."""

import pytest
import torch

from lenet_nb.exercises import training_loop as ex
from lenet_nb.lessons import diagnostics as dg


def ch3_evaluate_accuracy(net, data_iter):
    """The notebook's solution."""
    net.eval()
    correct, n = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += int((net(X).argmax(dim=1) == y).sum())
            n += y.numel()
    return correct / n


def ch3_eval_variant(per_batch=False, eval_mode=True, no_grad=True, as_tensor=False,
                     count_only=False, full_batches=False):
    """A typical wrong evaluate_accuracy, one mistake switched on at a time."""

    def evaluate_accuracy(net, data_iter):
        if eval_mode:
            net.eval()
        with torch.set_grad_enabled(not no_grad):
            results = [((net(X).argmax(dim=1) == y).sum(), y.numel()) for X, y in data_iter]
        correct = sum(int(c) for c, _ in results)
        if per_batch:
            return sum(int(c) / n for c, n in results) / len(results)
        if count_only:
            return correct
        if full_batches:
            return correct / (len(results) * data_iter.batch_size)
        if as_tensor:
            return torch.tensor(correct) / sum(n for _, n in results)
        return correct / sum(n for _, n in results)

    return evaluate_accuracy


def test_ch3_evaluate_accuracy_passes_on_the_solution():
    v = ex.check_evaluate_accuracy(ch3_evaluate_accuracy)
    assert v.passed, v.message
    assert "17 of 23 right = 0.7391" in v.message
    assert ex.check_evaluate_accuracy(ch3_eval_variant()).passed


def test_ch3_evaluate_accuracy_reports_the_stub():
    def evaluate_accuracy(net, data_iter):
        ...  # your code here

    v = ex.check_evaluate_accuracy(evaluate_accuracy)
    assert not v.passed and "`evaluate_accuracy` still holds the stub" in v.message


@pytest.mark.parametrize("mistake, message", [
    ({"per_batch": True}, "your accuracy is averaged per batch"),
    ({"eval_mode": False}, "left in training mode: call `net.eval()`"),
    ({"no_grad": False}, "wrap the loop in `with torch.no_grad():`"),
    ({"as_tensor": True}, "returned a tensor"),
    ({"count_only": True}, "that is the number of correct predictions"),
    ({"full_batches": True}, "you divided by batches x batch size"),
])
def test_ch3_evaluate_accuracy_names_the_typical_mistake(mistake, message):
    v = ex.check_evaluate_accuracy(ch3_eval_variant(**mistake))
    assert not v.passed and message in v.message, v.message


def test_ch3_evaluate_accuracy_reports_a_crash_with_its_line():
    def evaluate_accuracy(net, data_iter):
        return correct / total  # noqa: F821

    v = ex.check_evaluate_accuracy(evaluate_accuracy)
    assert not v.passed and "NameError" in v.message and "return correct / total" in v.message


def ch3_train_epoch(net, train_iter, loss, updater):
    """The notebook's solution."""
    net.train()
    loss_sum, correct, n = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741
        updater.zero_grad()
        l.backward()
        updater.step()
        loss_sum += l.item() * y.numel()
        correct += int((y_hat.argmax(dim=1) == y).sum())
        n += y.numel()
    return loss_sum / n, correct / n


def ch3_train_variant(order=("zero_grad", "backward", "step"), train_mode=True,
                      per_batch_loss=False, per_batch_acc=False, single=False):
    """A typical wrong train_epoch: the steps in another order or missing, or bad averages."""

    def train_epoch(net, train_iter, loss, updater):
        if train_mode:
            net.train()
        losses, accs, sizes = [], [], []
        for X, y in train_iter:
            y_hat = net(X)
            l = loss(y_hat, y)  # noqa: E741
            for step in order:
                {"zero_grad": updater.zero_grad, "backward": l.backward,
                 "step": updater.step}[step]()
            losses.append(l.item())
            accs.append(int((y_hat.argmax(dim=1) == y).sum()))
            sizes.append(y.numel())
        n = sum(sizes)
        mean_loss = (sum(losses) / len(losses) if per_batch_loss
                     else sum(v * s for v, s in zip(losses, sizes)) / n)
        acc = (sum(c / s for c, s in zip(accs, sizes)) / len(sizes) if per_batch_acc
               else sum(accs) / n)
        return mean_loss if single else (mean_loss, acc)

    return train_epoch


def test_ch3_train_epoch_passes_on_the_solution():
    v = ex.check_train_epoch(ch3_train_epoch)
    assert v.passed, v.message
    assert "(3 steps, 10 samples)" in v.message
    assert ex.check_train_epoch(ch3_train_variant()).passed


def test_ch3_train_epoch_reports_the_stub():
    def train_epoch(net, train_iter, loss, updater):
        ...  # your code here

    v = ex.check_train_epoch(train_epoch)
    assert not v.passed and "`train_epoch` still holds the stub" in v.message


@pytest.mark.parametrize("mistake, message", [
    ({"order": ("backward", "step")}, "the gradients accumulate from batch to batch"),
    ({"order": ("backward", "zero_grad", "step")}, "the gradients were cleared before"),
    ({"order": ("zero_grad", "backward")}, "did you forget `updater.step()`?"),
    ({"train_mode": False}, "call `net.train()` before the loop"),
    ({"per_batch_loss": True}, "your loss is averaged per batch"),
    ({"per_batch_acc": True}, "your accuracy is averaged per batch"),
    ({"single": True}, "should return a pair (mean loss, accuracy)"),
])
def test_ch3_train_epoch_names_the_typical_mistake(mistake, message):
    v = ex.check_train_epoch(ch3_train_variant(**mistake))
    assert not v.passed and message in v.message, v.message


def test_ch3_steps_per_epoch():
    v = ex.check_steps_per_epoch(235)
    assert v.passed and "234 full batches of 256 and a last one of 96" in v.message
    assert "`steps_per_epoch` is still `...`" in ex.check_steps_per_epoch(...).message
    for wrong, message in [(234, "the last, partial batch is also a step"),
                           (234.375, "a number of steps is a whole number"),
                           (60_000, "one step per batch, not per image"),
                           (256, "that is the batch size")]:
        v = ex.check_steps_per_epoch(wrong)
        assert not v.passed and message in v.message and "235" not in v.message, v.message


@pytest.fixture(scope="module")
def ch3_probe():
    """A small fixed batch and the answers the checker will measure on it."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(32, 1, 28, 28, generator=g), torch.arange(32) % 10
    table = dg.gradient_norm_table(X, y)
    return X, y, table, ex.gradient_answers(table)


def test_ch3_gradient_layers_passes_on_the_measured_answers(ch3_probe):
    X, y, table, (smallest, grows) = ch3_probe
    assert table["sigmoid"][smallest] == min(table["sigmoid"].values())
    v = ex.check_gradient_layers(smallest, grows.lower(), X=X, y=y)  # case does not matter
    assert v.passed and f"under sigmoid {smallest}'s gradient is the smallest" in v.message


def test_ch3_gradient_layers_reports_stubs_and_wrong_names(ch3_probe):
    X, y, _, (smallest, grows) = ch3_probe
    v = ex.check_gradient_layers(..., ..., X=X, y=y)
    assert "`smallest_under_sigmoid` is still `...`" in v.message
    v = ex.check_gradient_layers(smallest, "conv1", X=X, y=y)
    assert "answer with one of the table's layer names, 'C1', 'C3'" in v.message


def test_ch3_gradient_layers_hints_without_revealing(ch3_probe):
    X, y, table, (smallest, grows) = ch3_probe
    sig, relu = table["sigmoid"], table["relu"]
    largest = max(sig, key=sig.get)
    v = ex.check_gradient_layers(largest, grows, X=X, y=y)
    assert not v.passed and "that is the largest sigmoid gradient" in v.message
    shrinking = next(k for k in sig if relu[k] < sig[k])
    v = ex.check_gradient_layers(smallest, shrinking, X=X, y=y)
    assert not v.passed and "with ReLU that layer's gradient shrinks" in v.message




# --- issue 17 item 6 / issue 19 item 5: the checker's expected value is its own ----------------


def test_a_function_that_zeroes_its_input_cannot_pass():
    """It got "✔ … 17 of 23 right = 0.3478": the reference ran on the data it had zeroed."""

    def zeroes_then_scores(net, data_iter):
        data_iter.X.zero_()  # the stored images themselves, not a batch copy
        return ch3_evaluate_accuracy(net, data_iter)

    verdict = ex.check_evaluate_accuracy(zeroes_then_scores)
    assert not verdict and "changed the data it was given" in verdict.message

    def zeroes_each_batch(net, data_iter):
        net.eval()
        correct = n = 0
        with torch.no_grad():
            for X, y in data_iter:
                X.zero_()  # a batch: a copy since issue 19, so the checker's data stay
                correct += int((net(X).argmax(dim=1) == y).sum())
                n += y.numel()
        return correct / n

    verdict = ex.check_evaluate_accuracy(zeroes_each_batch)
    assert not verdict and "is 0.3478, expected 0.7391" in verdict.message


def test_a_numpy_float_result_counts_as_a_number():
    import numpy as np

    verdict = ex.check_evaluate_accuracy(lambda net, it: np.float32(
        ch3_evaluate_accuracy(net, it)))
    assert verdict, repr(verdict)


def test_ch3_steps_per_epoch_accepts_numpy_and_torch_and_hints_at_quotes():
    import numpy as np

    assert ex.check_steps_per_epoch(np.int64(235)) and ex.check_steps_per_epoch(torch.tensor(235))
    verdict = ex.check_steps_per_epoch("235")
    assert not verdict and "without quotes" in verdict.message
    assert ex.check_steps_per_epoch("236").message == verdict.message.replace("235", "236")

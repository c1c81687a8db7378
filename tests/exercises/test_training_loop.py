"""The checkers of lenet_nb.exercises.training_loop: each passes on the instructor notebook's own
answer, reports the student edition's stub (a *find the bug* stub: its symptom), names every
typical mistake with a hint, grades a *change and observe* answer against the learner's records
(hand-made ones whose right answer differs from the course's run), and never raises."""

import functools
import linecache
import math
import re

import pytest
import torch

from lenet_nb.config import reduce_in_tests
from lenet_nb.course.student import stub_regions
from lenet_nb.data import TensorBatches, load_split, to_float
from lenet_nb.exercises import challenge, loop_checks
from lenet_nb.exercises import training_loop as ex
from lenet_nb.lessons import diagnostics as dg
from lenet_nb.lessons.lr_sweep import challenge_train
from lenet_nb.models import LeNet, init_xavier
from lenet_nb.train import evaluate_accuracy
from tests.exercises.notebook_answers import answer_namespace, find
from tests.exercises.notebook_answers import reference_verdict as _reference_verdict


@functools.cache
def chapter_names():
    """What the chapter's cells before an exercise give its answer and run cells: the import
    cell's names and the probe batch."""
    X_probe, y_probe = dg.probe_batch(256)
    return {"math": math, "reduce_in_tests": reduce_in_tests, "TensorBatches": TensorBatches,
            "load_split": load_split, "to_float": to_float, "LeNet": LeNet,
            "init_xavier": init_xavier, "X_probe": X_probe, "y_probe": y_probe}


def reference_verdict(module, name):
    return _reference_verdict(module, name, extra=chapter_names())


def student_namespace(name):
    """The names the student edition's answer cells define for exercise `name` (stubs in)."""
    nb, exercise = find(ex, name)
    namespace = {"torch": torch, "nn": torch.nn, "ex": ex, **chapter_names()}
    for i in exercise.answers:
        source, _ = stub_regions(nb.cells[i].source, f"cell {i}")
        filename = f"<student edition, {name} cell {i}>"  # inspect finds it, as in a notebook
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
    return namespace


@pytest.mark.parametrize("name", list(ex.EXERCISES))
def test_the_instructor_answer_passes(name):
    verdict = reference_verdict(ex, name)
    assert verdict.passed, repr(verdict)
    assert repr(verdict).startswith(f"✔ 3.{list(ex.EXERCISES).index(name) + 1} {name}: ")


STUB_VERDICTS = {  # what the untouched student edition gets: ○, or a find-the-bug's symptom
    "evaluate_accuracy": "✘ 3.1 evaluate_accuracy, not yet: your number changes with the batch "
                         "size",
    "train_epoch": "○ 3.2 train_epoch, not started: `train_epoch` still holds the stub",
    "initial_loss": "○ 3.3 initial_loss, not started: `initial_loss` is still `...`",
    "init_scale": "○ 3.4 init_scale, not started: observed_scale holds the scales [1.0]",
    "overfit_one_batch": "○ 3.5 overfit_one_batch, not started: `overfit_one_batch` still holds",
    "gradient_layers": "○ 3.6 gradient_layers, not started: observed_grad holds ['sigmoid']: "
                       "add 'relu'",
    "split_train_val": "✘ 3.7 split_train_val, not yet: image ",
    "sweep_steps": "○ 3.8 sweep_steps, not started: `sweep_steps` is still `...`",
    "sgd_step": "○ 3.9 sgd_step, not started: `sgd_step` still holds the stub",
    "lr_change": "○ 3.10 lr_change, not started: observed_lr holds the rates [0.03]",
    "d2l_challenge": "○ 3.11 d2l_challenge, not started: `train` still holds the stub",
}


@pytest.mark.parametrize("name", list(ex.EXERCISES))
def test_the_student_edition_gets_not_started_or_the_symptom(name):
    nb, exercise = find(ex, name)
    namespace = student_namespace(name)
    verdict = eval(compile(nb.cells[exercise.check].source, "check", "eval"), namespace)
    assert repr(verdict).startswith(STUB_VERDICTS[name]), repr(verdict)


def test_every_exercise_has_a_stub_verdict_and_the_kinds_add_up():
    assert list(STUB_VERDICTS) == list(ex.EXERCISES)
    kinds = list(ex.EXERCISES.values())
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "find the bug": 2, "complete the code": 3, "predict, then run": 2,
        "change and observe": 3, "challenge": 1}


# --- 3.1 evaluate_accuracy --------------------------------------------------------------------


def accuracy_variant(per_batch=False, eval_mode=True, no_grad=True, as_tensor=False,
                     count_only=False, full_batches=False, changes_input=False):
    """evaluate_accuracy with one typical mistake switched on."""

    def evaluate_accuracy(net, data_iter):
        if eval_mode:
            net.eval()
        if changes_input:  # the stored images themselves (batches are copies)
            data_iter.X -= 0.5
        with torch.set_grad_enabled(not no_grad):
            results = []
            for X, y in data_iter:
                results.append(((net(X).argmax(dim=1) == y).sum(), y.numel()))
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


def test_evaluate_accuracy_passes_a_correct_variant():
    v = ex.check_evaluate_accuracy(accuracy_variant())
    assert v.passed and "17 of 23 right = 0.7391" in v.message


@pytest.mark.parametrize("mistake, message", [
    ({"per_batch": True}, "your number changes with the batch size: 0.6444 in batches of 10, "
                          "10 and 3, 0.7391 in one batch of 23"),
    ({"eval_mode": False}, "left in training mode: call `net.eval()`"),
    ({"no_grad": False}, "wrap the loop in `with torch.no_grad():`"),
    ({"as_tensor": True}, "is a tensor"),
    ({"count_only": True}, "that is the number of correct predictions"),
    ({"full_batches": True}, "you count 30 samples where there are 23"),
    ({"changes_input": True}, "your function changed the data it was given"),
])
def test_evaluate_accuracy_names_the_typical_mistake(mistake, message):
    v = ex.check_evaluate_accuracy(accuracy_variant(**mistake))
    assert not v.passed and message in v.message, v.message


def test_evaluate_accuracy_reports_a_crash_with_its_line():
    def evaluate_accuracy(net, data_iter):
        return correct / total  # noqa: F821

    v = ex.check_evaluate_accuracy(evaluate_accuracy)
    assert not v.passed and "NameError" in v.message and "return correct / total" in v.message


# --- 3.2 train_epoch --------------------------------------------------------------------------


def train_variant(order=("zero_grad", "backward", "step"), train_mode=True,
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


def test_train_epoch_passes_a_correct_variant():
    v = ex.check_train_epoch(train_variant())
    assert v.passed and "(3 steps, 10 samples)" in v.message


@pytest.mark.parametrize("mistake, message", [
    ({"order": ("backward", "step")}, "the gradients accumulate from batch to batch"),
    ({"order": ("backward", "zero_grad", "step")}, "the gradients were cleared before"),
    ({"order": ("zero_grad", "backward")}, "did you forget `updater.step()`?"),
    ({"train_mode": False}, "call `net.train()` before the loop"),
    ({"per_batch_loss": True}, "your loss is averaged per batch"),
    ({"per_batch_acc": True}, "your accuracy is averaged per batch"),
    ({"single": True}, "should return a pair (mean loss, accuracy)"),
])
def test_train_epoch_names_the_typical_mistake(mistake, message):
    v = ex.check_train_epoch(train_variant(**mistake))
    assert not v.passed and message in v.message, v.message


# --- 3.3 initial_loss (predict) -----------------------------------------------------------------


def test_initial_loss_accepts_ln_10_and_the_measured_value():
    measured = dg.init_scale_record(1.0, *dg.probe_batch())["loss"]
    assert abs(measured - math.log(10)) < 0.05
    for answer in (math.log(10), round(measured, 3), 2.3):
        assert ex.check_initial_loss(answer, "a").passed
    assert ex.check_initial_loss(2.3, "(A)").passed  # letters in any case, with brackets


@pytest.mark.parametrize("answer, why, message", [
    (0.1, "a", "0.1 is a probability"),
    (10, "a", "the loss is not one over the probability"),
    (1.0, "a", "which logarithm does PyTorch's cross-entropy use"),
    (0.5, "a", "if every one of the 10 classes gets the same probability"),
    (2.3, "b", "your reason (b: the weights are random, so the loss is random) is not"),
    (2.3, "c", "your reason (c: the network always predicts the same class) is not"),
    (2.3, "d", "answer with one of the letters 'a', 'b', 'c'"),
    ("2.3", "a", "is the text '2.3': write the number without quotes"),
    (torch.tensor(2.3), "a", "is a tensor"),
])
def test_initial_loss_hints(answer, why, message):
    v = ex.check_initial_loss(answer, why)
    assert not v.passed and message in v.message, v.message


# --- 3.4 init_scale (change and observe) --------------------------------------------------------


@pytest.fixture(scope="module")
def scale_records():
    X, y = dg.probe_batch()
    return {s: dg.init_scale_record(s, X, y) for s in (0.1, 1.0, 2.0, 3.0)}


def test_init_scale_grades_the_learners_own_scales(scale_records):
    # scale 2 is close to ln 10, scale 3 far above: the course's run does not try scale 2
    assert scale_records[2.0]["loss"] < math.log(10) + 0.5 < scale_records[3.0]["loss"]
    v = ex.check_init_scale(scale_records, [3.0], "a")
    assert v.passed and "scale 3 gives scores spread" in v.message
    v = ex.check_init_scale(scale_records, [2.0, 3.0], "a")
    assert not v.passed and "look again at scale 2" in v.message
    v = ex.check_init_scale(scale_records, [3.0, 10.0], "a")
    assert not v.passed and "lists [10.0], which you did not run" in v.message


def test_init_scale_needs_both_sides_of_1_and_records_of_the_right_network(scale_records):
    v = ex.check_init_scale({s: scale_records[s] for s in (1.0, 2.0)}, [], "a")
    assert not v.passed and not v.started and "try at least one below 1" in v.message
    other = {**scale_records, 2.0: {**scale_records[2.0], "loss": 2.9}}
    v = ex.check_init_scale(other, [3.0], "a")
    assert not v.passed and "observed_scale[2.0] is not what scale 2.0 gives" in v.message
    v = ex.check_init_scale([1, 2], [3.0], "a")
    assert not v.passed and "should be the dict the run cell fills" in v.message


@pytest.mark.parametrize("why, message", [
    ("b", "ReLU never saturates for positive inputs"),
    ("c", "nothing in it measures the weights"),
])
def test_init_scale_hints_for_the_wrong_reason(scale_records, why, message):
    v = ex.check_init_scale(scale_records, [3.0], why)
    assert not v.passed and message in v.message


# --- 3.5 overfit_one_batch ----------------------------------------------------------------------


def overfit_variant(step=True, lr=1e-3, report=None, fresh_net=False):
    """overfit_one_batch with one mistake: no step, a tiny rate, a made-up report, a new net."""

    def overfit_one_batch(net, X, y, num_steps=150):
        if fresh_net:
            net = dg.lenet_at_init("relu", 1, xavier=False)
        updater = torch.optim.Adam(net.parameters(), lr=lr)
        for _ in range(num_steps):
            loss = torch.nn.functional.cross_entropy(net(X), y)
            updater.zero_grad()
            loss.backward()
            if step:
                updater.step()
        if report is not None:
            return report
        with torch.no_grad():
            y_hat = net(X)
        return (float((y_hat.argmax(1) == y).float().mean()),
                float(torch.nn.functional.cross_entropy(y_hat, y)))

    return overfit_one_batch


@pytest.mark.parametrize("mistake, message", [
    ({"step": False}, "the network you were given did not change"),
    ({"fresh_net": True}, "the network you were given did not change"),
    ({"lr": 1e-5}, "not yet 100 %"),
    ({"report": (1.0, 0.0)}, "your function says accuracy 1 and loss 0, the network gets"),
    ({"report": 1.0}, "should return a pair (accuracy, loss)"),
    ({"report": (torch.tensor(1.0), 0.0)}, "is a tensor"),
])
def test_overfit_one_batch_names_the_typical_mistake(mistake, message):
    v = ex.check_overfit_one_batch(overfit_variant(**mistake))
    assert not v.passed and message in v.message, v.message


def test_overfit_one_batch_passes_a_correct_variant():
    v = ex.check_overfit_one_batch(overfit_variant())
    assert v.passed and "100 % of 32 images" in v.message


# --- 3.6 gradient_layers (change and observe) ---------------------------------------------------


@pytest.fixture(scope="module")
def grad_records():
    return dg.gradient_norm_table(*dg.probe_batch())


def test_gradient_layers_grades_the_records(grad_records):
    smallest, grows = ex.gradient_answers(grad_records)
    v = ex.check_gradient_layers(grad_records, smallest, grows.lower())  # case does not matter
    assert v.passed and f"under sigmoid {smallest}'s gradient is the smallest" in v.message


def test_gradient_layers_answers_come_from_the_records_not_a_stored_table(grad_records,
                                                                          monkeypatch):
    # records whose answers differ from the real ones: a checker that looked elsewhere would
    # disagree; it recomputes the records first, so it must call them another run
    swapped = {a: dict(zip(t, reversed(list(t.values())))) for a, t in grad_records.items()}
    v = ex.check_gradient_layers(swapped, *ex.gradient_answers(swapped))
    assert not v.passed and "is not what the d2l LeNet with sigmoid gives" in v.message
    # with the recomputation made to agree, the answers are graded against the records
    monkeypatch.setattr(dg, "gradient_norm_table", lambda X, y: swapped)
    smallest, grows = ex.gradient_answers(swapped)
    assert (smallest, grows) != ex.gradient_answers(grad_records)
    assert ex.check_gradient_layers(swapped, smallest, grows).passed


def test_gradient_layers_hints_without_revealing(grad_records):
    sig, relu = grad_records["sigmoid"], grad_records["relu"]
    smallest, grows = ex.gradient_answers(grad_records)
    v = ex.check_gradient_layers(grad_records, max(sig, key=sig.get), grows)
    assert not v.passed and "that is the largest sigmoid gradient" in v.message
    shrinking = next(k for k in sig if relu[k] < sig[k])
    v = ex.check_gradient_layers(grad_records, smallest, shrinking)
    assert not v.passed and "with ReLU that layer's gradient shrinks" in v.message
    v = ex.check_gradient_layers(grad_records, smallest, "conv1")
    assert not v.passed and "answer with one of the layer names 'C1', 'C3'" in v.message
    v = ex.check_gradient_layers({"sigmoid": sig, "relu": {"C1": 1.0}}, smallest, grows)
    assert not v.passed and "observed_grad['relu'] is not what" in v.message


# --- 3.7 split_train_val (find the bug) ---------------------------------------------------------


def split_variant(mistake):
    def split_train_val(X, y, num_val, seed=0):
        g = torch.Generator().manual_seed(seed)
        perm = torch.randperm(len(y), generator=g)
        if mistake == "file order":
            perm = torch.arange(len(y))
        if mistake == "unseeded":
            perm = torch.randperm(len(y))
        if mistake == "overlap":
            return (X[perm], y[perm]), (X[perm[:num_val]], y[perm[:num_val]])
        if mistake == "in place":
            X[:] = X[perm]
            y[:] = y[perm]
            return (X[num_val:], y[num_val:]), (X[:num_val], y[:num_val])
        if mistake == "sizes":
            return (X[perm[num_val:]], y[perm[num_val:]]), (X[perm[:1]], y[perm[:1]])
        if mistake == "flat":
            return X[perm], y[perm]
        return (X[perm[num_val:]], y[perm[num_val:]]), (X[perm[:num_val]], y[perm[:num_val]])

    return split_train_val


@pytest.mark.parametrize("mistake, message", [
    ("file order", "your validation images are the first (or last) num_val of the file"),
    ("unseeded", "the same seed gave another split"),
    ("overlap", "the parts hold 200 and 50 images"),
    ("in place", "your function changed the X or y it was given"),
    ("sizes", "the parts hold 150 and 1 images"),
    ("flat", "should return ((X_train, y_train), (X_val, y_val))"),
])
def test_split_names_the_typical_mistake(mistake, message):
    v = ex.check_split_train_val(split_variant(mistake))
    assert not v.passed and message in v.message, v.message
    assert ex.check_split_train_val(split_variant(None)).passed


def test_the_buggy_split_is_named_by_its_symptom():
    v = ex.check_split_train_val(student_namespace("split_train_val")["split_train_val"])
    assert not v.passed and "after your split, is each image still next to its own label?" \
        in v.message
    image, own, came = re.search(r"image (\d+) of the checker's data \(label (\d)\) came back "
                                 r"with the label (\d)", v.message).groups()
    assert int(image) % 10 == int(own) != int(came)


# --- 3.8 sweep_steps (predict) --------------------------------------------------------------------


def test_sweep_steps_hints_without_the_answer():
    assert ex.check_sweep_steps(12 * 196).passed
    for wrong, message in [(2340, "the last, partial batch of every epoch is a step too"),
                           (2343.75, "a number of steps is a whole number"),
                           (196, "that is one epoch"),
                           (2820, "the 10,000 validation images are not trained on"),
                           (2350, "that is the d2l recipe's count"),
                           (600_000, "one step per batch, not per image"),
                           ("2352", "without quotes")]:
        v = ex.check_sweep_steps(wrong)
        assert not v.passed and message in v.message, v.message
        assert "2352" not in v.message.replace(",", "").replace(str(wrong), "")


# --- 3.9 sgd_step -------------------------------------------------------------------------------


def sgd_variant(**mistake):
    step = loop_checks._variant(**mistake)
    return lambda params, bufs, lr, momentum=0.0, weight_decay=0.0: step(
        params, bufs, lr, momentum, weight_decay)


def test_sgd_step_matches_torch_and_names_the_mistakes():
    assert ex.check_sgd_step(sgd_variant()).passed
    for mistake, message in [({"up": True}, "your step goes up the slope"),
                             ({"no_carry": True}, "your velocity does not carry over"),
                             ({"no_decay": True}, "weight decay is missing"),
                             ({"decay_after": True}, "the decay term must enter the velocity")]:
        v = ex.check_sgd_step(sgd_variant(**mistake))
        assert not v.passed and message in v.message, (mistake, v.message)


def test_sgd_step_names_out_of_place_and_autograd_slips():
    def rebinds(params, bufs, lr, momentum=0.0, weight_decay=0.0):
        for p in params:
            p = p - lr * p.grad  # noqa: F841  (a new tensor: the parameter stays)

    def tracked(params, bufs, lr, momentum=0.0, weight_decay=0.0):
        for p in params:
            p -= lr * p.grad

    v = ex.check_sgd_step(rebinds)
    assert not v.passed and "`p = p - ...` binds a new tensor" in v.message
    v = ex.check_sgd_step(tracked)
    assert not v.passed and "inside `with torch.no_grad():`" in v.message


def test_sgd_step_reports_a_second_step_gone_wrong():
    calls = []

    def second_wrong(params, bufs, lr, momentum=0.0, weight_decay=0.0):
        calls.append(1)
        sgd_variant()(params, bufs, lr * (2 if len(calls) % 4 == 2 else 1), momentum,
                      weight_decay)

    v = ex.check_sgd_step(second_wrong)
    assert not v.passed and "your first 1 step(s) are right: work out step 2" in v.message


# --- 3.10 lr_change (change and observe) --------------------------------------------------------


def lr_record(lr, val_acc, diverged=False, steps=200):
    settings = {"activation": "relu", "lr": lr, "steps": steps, "num_train": 10_000,
                "num_val": 2000, "seed": 0, "batch_size": 128}
    return {"settings": settings, "losses": [2.3, 1.0], "val_acc": val_acc, "diverged": diverged}


# hand-made records whose answers differ from the course's run: 0.03 best, 0.3 at chance
RECORDS = {0.03: lr_record(0.03, 0.71), 0.3: lr_record(0.3, 0.12), 3.0: lr_record(3.0, 0.1, True)}


def test_lr_change_grades_against_the_learners_records():
    assert ex.check_lr_change(RECORDS, 0.03, [0.3, 3.0]).passed
    v = ex.check_lr_change(RECORDS, 0.3, [3.0])
    assert not v.passed and "at lr 0.3 your run reached validation accuracy 0.120" in v.message
    v = ex.check_lr_change(RECORDS, 0.03, [3.0])
    assert not v.passed and "look again at lr 0.3: it reached validation accuracy 0.120" \
        in v.message
    v = ex.check_lr_change(RECORDS, 0.03, [0.3, 3.0, 1.0])
    assert not v.passed and "look again at lr 1: you did not run it" in v.message
    v = ex.check_lr_change(RECORDS, 1.0, [0.3])
    assert not v.passed and "best_lr is 1.0, not one of the rates you ran" in v.message


def test_lr_change_accepts_ties_and_borderline_rates():
    records = {**RECORDS, 0.1: lr_record(0.1, 0.708), 1.0: lr_record(1.0, 0.21)}
    v = ex.check_lr_change(records, 0.1, [0.3, 3.0])  # 0.1 ties 0.03; 1.0 sits on the line
    assert v.passed and "tied within 0.005 with 0.03" in v.message
    assert ex.check_lr_change(records, 0.03, [0.3, 3.0, 1.0]).passed


def test_lr_change_needs_three_rates_made_alike():
    v = ex.check_lr_change({0.03: RECORDS[0.03]}, ..., ...)
    assert not v.passed and not v.started
    other = {**RECORDS, 0.3: lr_record(0.3, 0.12, steps=50)}
    v = ex.check_lr_change(other, 0.03, [0.3, 3.0])
    assert not v.passed and "observed_lr[0.3] was not made with lr 0.3 and the same" in v.message
    v = ex.check_lr_change({**RECORDS, 1.0: RECORDS[0.3]}, 0.03, [0.3, 3.0])
    assert not v.passed and "observed_lr[1.0] was not made with lr 1.0" in v.message
    v = ex.check_lr_change(RECORDS, 0.03, "0.3")
    assert not v.passed and "should be a list of rates" in v.message


# --- 3.11 d2l_challenge ------------------------------------------------------------------------


def test_the_notebook_challenge_solution_is_the_package_one():
    train = answer_namespace(ex, "d2l_challenge", chapter_names())["train"]
    gen = torch.Generator().manual_seed(0)
    X, y = torch.rand(96, 1, 28, 28, generator=gen), torch.randint(0, 10, (96,), generator=gen)
    nets = []
    for fn in (train, challenge_train):
        torch.manual_seed(0)
        nets.append(fn(X.clone(), y.clone(), 75.0))
    assert all(torch.equal(a, b) for a, b in zip(nets[0].parameters(), nets[1].parameters()))
    assert [type(m) for m in nets[0].modules()] == [type(m) for m in LeNet().modules()]


def test_the_challenge_passes_on_the_course_solution_in_quick_mode():
    v = reference_verdict(ex, "d2l_challenge")
    assert v.passed and "quick mode" in v.message, repr(v)


def test_the_stored_course_solution_clears_the_target_and_the_budget():
    rows, missing = challenge.stored_rows(ex.CHALLENGE)
    assert missing is None, missing
    assert challenge.freeze_problems(ex.CHALLENGE, rows) == []


def trained_briefly(net):
    """A train(X, y, seconds) that returns `net` after one SGD step on the first 64 images."""

    def train(X, y, seconds):
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        torch.nn.functional.cross_entropy(net(X[:64]), y[:64]).backward()
        optimizer.step()
        return net

    return train


@pytest.mark.parametrize("net, hint", [
    (LeNet("relu"), "layer 1 of your network is ReLU(), d2l's LeNet has Sigmoid() there"),
    (LeNet(pooling="max"), "layer 2 of your network is MaxPool2d"),
    (torch.nn.Sequential(*list(LeNet().children())[:-1]),
     "layers, d2l's LeNet 12: return LeNet() (lenet_nb.models), trained"),
])
def test_another_network_gets_the_fixed_network_hint(net, hint):
    v = ex.check_d2l_challenge(trained_briefly(net))
    assert not v.passed and hint in v.message, repr(v)
    assert "the network is fixed" in v.message or "return LeNet()" in v.message


def test_an_untrained_lenet_is_told_to_return_the_network_it_trained():
    def train(X, y, seconds):
        torch.optim.Adam(LeNet().parameters()).step()
        return LeNet()

    v = ex.check_d2l_challenge(train)
    assert not v.passed and "did `train` return the network it trained?" in v.message, repr(v)


# --- whatever they get, checkers answer with a line ------------------------------------------


@pytest.mark.parametrize("name", list(ex.EXERCISES))
def test_nonsense_gets_a_line_not_an_exception(name):
    check = getattr(ex, f"check_{name}")
    nargs = check.__wrapped__.__code__.co_argcount
    for junk in (None, "x", 3, [1, 2], {"a": 1}, object()):
        verdict = check(*[junk] * nargs)
        assert not verdict.passed and repr(verdict)[0] in "✘○", (name, junk, repr(verdict))


def test_the_instructor_answers_are_the_numbers_the_checkers_expect():
    names = chapter_names()
    assert answer_namespace(ex, "sweep_steps", names)["sweep_steps"] == 12 * math.ceil(50_000 / 256)
    assert answer_namespace(ex, "initial_loss", names)["initial_loss"] == pytest.approx(
        math.log(10), abs=5e-4)


# --- issue 17 item 6 / issue 19 item 5: the checker's expected value is its own ----------------


def test_a_function_that_zeroes_its_input_cannot_pass():
    """It got "✔ … 17 of 23 right = 0.3478": the reference ran on the data it had zeroed."""

    def zeroes_then_scores(net, data_iter):
        data_iter.X.zero_()  # the stored images themselves, not a batch copy
        return evaluate_accuracy(net, data_iter)

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

    verdict = ex.check_evaluate_accuracy(lambda net, it: np.float32(evaluate_accuracy(net, it)))
    assert verdict, repr(verdict)


def test_sweep_steps_accepts_numpy_and_torch_integers_and_hints_at_quotes():
    import numpy as np

    assert ex.check_sweep_steps(np.int64(2352)) and ex.check_sweep_steps(torch.tensor(2352))
    verdict = ex.check_sweep_steps("2352")
    assert not verdict and "without quotes" in verdict.message
    assert ex.check_sweep_steps("2353").message == verdict.message.replace("2352", "2353")

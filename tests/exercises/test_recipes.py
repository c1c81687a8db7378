"""The checkers of lenet_nb.exercises.recipes: the instructor's answer passes, the student
edition's code (the buggy code of a *find the bug*) fails naming the symptom, each typical
mistake gets its hint, nonsense never raises."""

import math

import pytest
import torch
from torch import nn

from lenet_nb.course.student import stub_regions
from lenet_nb.exercises import challenge
from lenet_nb.exercises import recipes as ex
from lenet_nb.models import LeNet
from lenet_nb.train import evaluate_accuracy
from tests.exercises.notebook_answers import answer_namespace, find, reference_verdict

EXTRA = {"LeNet": LeNet, "evaluate_accuracy": evaluate_accuracy}


@pytest.fixture(scope="module")
def extra():
    """What the answer cells' demonstrations take from earlier cells of the chapter."""
    from lenet_nb.data import load_data_fashion_mnist

    small_train, small_test = load_data_fashion_mnist(256, subset=(2000, 500))
    # a hand-made MNIST-intro row for the keep-best demonstration (`replay`): the checks never
    # depend on stored results
    intro_rows = [{"val_acc": [0.80, 0.85, 0.84], "test_acc": [0.81, 0.83, 0.86]}]
    return {**EXTRA, "intro_rows": intro_rows, "small_train": small_train,
            "small_test": small_test}


def student_namespace(name, extra):
    """The namespace after running the exercise's cells as the student edition has them."""
    nb, found = find(ex, name)
    namespace = {"torch": torch, "nn": nn, "ex": ex, **extra}
    for i in found.answers:
        exec(compile(stub_regions(nb.cells[i].source)[0], f"{name} student cell", "exec"),
             namespace)
    return namespace


def _line(verdict):
    return repr(verdict)


@pytest.mark.parametrize("name, args", [
    ("d2l_page", ("prediction",)), ("steplr", ("train_mnist_intro",)),
    ("keep_best", ("train_keep_best",)),
    ("eval_in_loop", ("train_epochs",)), ("softmax_loss", ("make_net", "loss_fn")),
    ("eval_mode", ("train_with_checks",)),
    ("plateau", ("leaves_first", "stays", "plateau_records"))])
def test_the_instructor_answer_passes(name, args, extra):
    verdict = reference_verdict(ex, name, extra=extra)
    assert verdict.passed, _line(verdict)
    assert _line(verdict).startswith(f"✔ 4.{list(ex.EXERCISES).index(name) + 1} {name}: ")
    namespace = answer_namespace(ex, name, extra=extra)
    assert all(a in namespace for a in args)


@pytest.mark.parametrize("name, symptom", [
    ("steplr", "every one of the 36 optimizer steps used lr 0.001"),
    ("keep_best", "you keep epoch 3 and report 0.86"),
    ("eval_in_loop", "evaluated the test set 6 times in 2 epochs of 3 batches"),
    ("softmax_loss", "compute the loss your setup gives for a perfect prediction"),
    ("eval_mode", "ran in evaluation mode, from the first check on")])
def test_the_buggy_code_of_the_student_edition_fails_naming_the_symptom(name, symptom, extra):
    namespace = student_namespace(name, extra)
    args = {"steplr": ["train_mnist_intro"], "keep_best": ["train_keep_best"],
            "eval_in_loop": ["train_epochs"], "softmax_loss": ["make_net", "loss_fn"],
            "eval_mode": ["train_with_checks"]}[name]
    verdict = getattr(ex, f"check_{name}")(*(namespace[a] for a in args))
    assert not verdict.passed and verdict.started and symptom in verdict.message, _line(verdict)


def test_the_student_edition_of_the_predict_and_observe_exercises_is_not_started(extra):
    namespace = student_namespace("d2l_page", extra)
    assert ex.check_d2l_page(namespace["prediction"]).mark == "○"
    namespace = student_namespace("plateau", extra)
    verdict = ex.check_plateau(namespace["leaves_first"], namespace["stays"],
                               namespace["plateau_records"])
    assert verdict.mark == "○", _line(verdict)


# --- 4.1 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["b", "c", "(C)"])
def test_d2l_page_wrong_options_get_a_hint_without_the_answer(answer):
    verdict = ex.check_d2l_page(answer)
    assert not verdict.passed and "ninety times smaller" in verdict.message
    assert "0.1" not in verdict.message


@pytest.mark.parametrize("answer", ["d", 3, "near chance"])
def test_d2l_page_nonsense_names_the_options(answer):
    verdict = ex.check_d2l_page(answer)
    assert not verdict.passed and "'a', 'b', 'c'" in verdict.message


def test_d2l_page_accepts_the_option_in_any_case():
    assert ex.check_d2l_page(" (A) ").passed


# --- 4.2 --------------------------------------------------------------------------------------


def _train(where):
    """A StepLR loop with the scheduler stepped per batch, before the epoch, or never."""

    def train(net, train_iter, num_epochs, optimizer, scheduler):
        loss = nn.CrossEntropyLoss()
        for _ in range(num_epochs):
            if where == "before":
                scheduler.step()
            for X, y in train_iter:
                optimizer.zero_grad()
                loss(net(X), y).backward()
                optimizer.step()
                if where == "batch":
                    scheduler.step()
            if where == "after":
                scheduler.step()
        return net

    return train


@pytest.mark.parametrize("where, message", [
    ("never", "the rate never changed"),
    ("batch", "changed during epoch 4"),
    ("before", "changed during epoch 10"),
])
def test_steplr_names_where_the_rate_changed(where, message):
    verdict = ex.check_steplr(_train(where))
    assert not verdict.passed and message in verdict.message, _line(verdict)
    assert ex.check_steplr(_train("after")).passed


def test_steplr_counts_the_steps_and_survives_a_crash():
    def train(net, train_iter, num_epochs, optimizer, scheduler):
        return net  # no training at all

    assert "made 0 optimizer steps" in ex.check_steplr(train).message

    def crashing(net, train_iter, num_epochs, optimizer, scheduler):
        raise RuntimeError("boom")

    verdict = ex.check_steplr(crashing)
    assert not verdict.passed and "RuntimeError: boom" in verdict.message


# --- 4.3 --------------------------------------------------------------------------------------


def _keep_best(choose_on, report):
    def train_keep_best(net, train_one_epoch, evaluate, val_iter, test_iter, num_epochs):
        best = (0, -1.0, None)
        for epoch in range(1, num_epochs + 1):
            train_one_epoch(net)
            score = evaluate(net, val_iter if choose_on == "val" else test_iter)
            if score > best[1]:
                shown = evaluate(net, val_iter if report == "val" else test_iter)
                best = (epoch - (choose_on == "zero"), score, shown)
        return best[0], best[2]

    return train_keep_best


@pytest.mark.parametrize("choose_on, report, message", [
    ("test", "test", "you keep epoch 3 and report 0.86"),
    ("val", "val", "0.85 is its validation accuracy"),
])
def test_keep_best_names_the_typical_mistakes(choose_on, report, message):
    verdict = ex.check_keep_best(_keep_best(choose_on, report))
    assert not verdict.passed and message in verdict.message, _line(verdict)
    assert ex.check_keep_best(_keep_best("val", "test")).passed


def test_keep_best_catches_a_choice_that_still_looks_at_the_test_set():
    def sneaky(net, train_one_epoch, evaluate, val_iter, test_iter, num_epochs):
        scores = []  # chooses on validation plus a little of the test accuracy
        for _ in range(num_epochs):
            train_one_epoch(net)
            test = evaluate(net, test_iter)
            scores.append((evaluate(net, val_iter) + 0.2 * test, test))
        epoch = max(range(num_epochs), key=lambda i: scores[i][0])
        return epoch + 1, scores[epoch][1]

    verdict = ex.check_keep_best(sneaky)
    assert not verdict.passed and "moves when only the test accuracies change" in verdict.message


def test_keep_best_wants_a_pair():
    verdict = ex.check_keep_best(lambda *args: 2)
    assert not verdict.passed and "a pair (kept epoch, its test accuracy)" in verdict.message


# --- 4.4 --------------------------------------------------------------------------------------


def _loop(evaluations, lr=0.1):
    def train_epochs(net, train_iter, test_iter, num_epochs, updater, evaluate):
        loss, out = nn.CrossEntropyLoss(), []
        for group in updater.param_groups:
            group["lr"] = lr
        for _ in range(num_epochs):
            for i, (X, y) in enumerate(train_iter):
                if evaluations == "before_last" and i == len(train_iter) - 1:
                    out.append(evaluate(net, test_iter))
                updater.zero_grad()
                loss(net(X), y).backward()
                updater.step()
            if evaluations == "epoch":
                out.append(evaluate(net, test_iter))
        return out

    return train_epochs


@pytest.mark.parametrize("evaluations, lr, message", [
    ("none", 0.1, "no longer evaluates the test set"),
    ("before_last", 0.1, "after steps [2, 5]"),
    ("epoch", 0.5, "move the evaluation, change nothing else"),
])
def test_eval_in_loop_names_the_typical_mistakes(evaluations, lr, message):
    verdict = ex.check_eval_in_loop(_loop(evaluations, lr))
    assert not verdict.passed and message in verdict.message, _line(verdict)
    assert ex.check_eval_in_loop(_loop("epoch")).passed


# --- 4.5 --------------------------------------------------------------------------------------


def test_softmax_loss_accepts_log_softmax_with_nll_and_names_the_usual_form():
    def make_net():
        torch.manual_seed(0)
        return nn.Sequential(LeNet("relu", "max"), nn.LogSoftmax(dim=1))

    verdict = ex.check_softmax_loss(make_net, nn.NLLLoss())
    assert verdict.passed and "usual form" not in verdict.message, _line(verdict)


def test_softmax_loss_wants_a_new_network_each_call_and_ten_scores():
    net = LeNet()
    verdict = ex.check_softmax_loss(lambda: net, nn.CrossEntropyLoss())
    assert not verdict.passed and "a new network each time" in verdict.message
    verdict = ex.check_softmax_loss(lambda: nn.Sequential(LeNet(), nn.Linear(10, 3)),
                                    nn.CrossEntropyLoss())
    assert not verdict.passed and "10 scores per image" in verdict.message
    verdict = ex.check_softmax_loss(lambda: LeNet(), "cross entropy")
    assert not verdict.passed and "`loss_fn` should be a loss" in verdict.message


# --- 4.6 --------------------------------------------------------------------------------------


def _with_checks(switch_back=True, check_in_train_mode=False):
    def train_with_checks(net, train_iter, val_iter, num_epochs, updater, every, evaluate):
        loss, step = nn.CrossEntropyLoss(), 0
        net.train()
        for _ in range(num_epochs):
            for X, y in train_iter:
                if switch_back:
                    net.train()
                updater.zero_grad()
                loss(net(X), y).backward()
                updater.step()
                step += 1
                if step % every == 0:
                    if check_in_train_mode:
                        with torch.no_grad():
                            net(val_iter.X)
                    else:
                        evaluate(net, val_iter)
        return net

    return train_with_checks


def test_eval_mode_names_a_check_in_training_mode():
    verdict = ex.check_eval_mode(_with_checks(check_in_train_mode=True))
    assert not verdict.passed and "a check ran in training mode" in verdict.message
    verdict = ex.check_eval_mode(_with_checks(switch_back=False))
    assert "training batches 4 to 10 ran in evaluation mode" in verdict.message
    assert ex.check_eval_mode(_with_checks()).passed


# --- 4.7 --------------------------------------------------------------------------------------


def _records(curves, changes=None):
    base = {"seed": 0, "epochs": 3, "images": 10, "batch_size": 128, "activation": "sigmoid",
            "pooling": "avg"}
    return {lr: {**base, "lr": lr, "val_acc": curve, **(changes or {}).get(lr, {})}
            for lr, curve in curves.items()}


# a hand-made record whose answer differs from the course's measured one (0.3 leaves first):
# the checker grades the learner's own runs, not stored numbers
HAND = _records({0.3: [0.1, 0.25, 0.5], 0.9: [0.1, 0.1, 0.3], 3.0: [0.1, 0.1, 0.1]})


def test_plateau_grades_the_learners_own_records():
    assert ex.check_plateau(0.3, [3.0], HAND).passed
    verdict = ex.check_plateau(0.9, [3.0], HAND)
    assert not verdict.passed and "lr 0.9 passes 0.2 in epoch 3, lr 0.3 already in epoch 2" in \
        verdict.message
    assert "lr 3 never passes 0.2" in ex.check_plateau(3.0, [3.0], HAND).message
    assert "it left the plateau" in ex.check_plateau(0.3, [0.9, 3.0], HAND).message
    assert "it belongs in `stays`" in ex.check_plateau(0.3, [], HAND).message
    assert "not one of your rates" in ex.check_plateau(0.1, [3.0], HAND).message


def test_plateau_when_nothing_leaves_and_ties():
    flat = _records({0.3: [0.1, 0.1], 3.0: [0.1, 0.1]})
    assert ex.check_plateau(None, [0.3, 3.0], flat).passed
    tie = _records({0.3: [0.1, 0.3], 0.9: [0.1, 0.4]})
    assert ex.check_plateau(0.3, [], tie).passed and ex.check_plateau(0.9, [], tie).passed
    assert "passes 0.2 in epoch 2" in ex.check_plateau(None, [], tie).message


def test_plateau_needs_two_rates_changed_alone():
    one = _records({0.9: [0.1, 0.3]})
    assert "one rate is not a comparison" in ex.check_plateau(0.9, [], one).message
    mixed = _records({0.3: [0.1, 0.3], 0.9: [0.1, 0.4]}, {0.9: {"seed": 1}})
    assert "change only `lrs`" in ex.check_plateau(0.3, [], mixed).message
    assert ex.check_plateau(0.3, [], {}).mark == "○"
    assert ex.check_plateau(..., ..., HAND).mark == "○"
    assert not ex.check_plateau(0.3, "3.0", HAND).passed
    assert not ex.check_plateau(0.3, [3.0], [1, 2]).passed


def test_the_plateau_run_is_what_the_checker_reads():
    from lenet_nb.lessons.grid import plateau_run

    records = {lr: plateau_run(lr) for lr in (0.3, 3.0)}
    assert all(math.isfinite(v) for r in records.values() for v in r["val_acc"])
    left = [lr for lr, r in records.items() if max(r["val_acc"]) > 0.2]
    stays = [lr for lr in records if lr not in left]
    assert ex.check_plateau(left[0] if left else None, stays, records).passed


# --- 4.8 --------------------------------------------------------------------------------------


def test_the_notebooks_recipe_is_the_package_solution():
    from lenet_nb.config import reduce_in_tests
    from lenet_nb.lessons.recipes import recipe_train
    from lenet_nb.train import seed_everything

    namespace = answer_namespace(ex, "recipe_challenge",
                                 extra={"LeNet": LeNet, "reduce_in_tests": reduce_in_tests})
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(300, 1, 28, 28, generator=g), torch.arange(300) % 10
    nets = []
    for train in (namespace["train"], recipe_train):
        seed_everything(0)
        nets.append(train(X.clone(), y.clone(), 10.0))
    for a, b in zip(*(net.state_dict().values() for net in nets)):
        assert torch.equal(a, b)


def test_the_challenge_passes_quick_mode_on_the_solution_and_waits_for_the_stub():
    verdict = ex.check_recipe_challenge(lambda X, y, seconds: ex.recipe_train(X, y, seconds))
    assert verdict.passed and "quick mode: a valid network within the caps" in verdict.message

    def train(X, y, seconds):
        ...  # your code here

    assert ex.check_recipe_challenge(train).mark == "○"


def test_the_challenge_caps_the_parameters_at_the_d2l_lenets_count():
    def big(X, y, seconds):
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))

    verdict = ex.check_recipe_challenge(big)
    assert not verdict.passed and "the cap is 61,706" in verdict.message
    assert ex.CHALLENGE.max_params == sum(p.numel() for p in LeNet().parameters())


def test_the_challenge_hints_name_the_plateau_for_a_sigmoid_network():
    assert "plateau" in ex._recipe_hint(LeNet("sigmoid"), 61_706, 0, 0.5)
    assert ex._recipe_hint(LeNet("relu"), 61_706, 0, 0.5) is None


def test_the_stored_course_solution_clears_the_target_and_the_budget():
    rows, missing = challenge.stored_rows(ex.CHALLENGE)
    assert missing is None, missing
    assert challenge.freeze_problems(ex.CHALLENGE, rows) == []

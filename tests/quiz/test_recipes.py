"""lenet_nb.quiz.recipes: every answer of the chapter's questions that can be computed is
computed from lenet_nb and compared with the key."""


import pytest
import torch

from lenet_nb.data import TensorBatches, load_split
from lenet_nb.lessons import ablation, pitfalls
from lenet_nb.lessons.recipes import fit_setup, prepare_recipe
from lenet_nb.models import get_model
from lenet_nb.quiz import recipes as quiz
from lenet_nb.stats import mean_range, ranges_separate
from lenet_nb.train import evaluate_accuracy
from tests.quiz.answer_key import (
    assert_choice,
    assert_number,
    checks_of,
    keys,
    run_check,
)


def check_recipes_separate():
    a, b = [0.861, 0.866, 0.872], [0.869, 0.874, 0.880]
    assert not ranges_separate(a, b) and mean_range(b)[0] > mean_range(a)[0]
    assert_choice("recipes-separate", "Nothing yet: the ranges overlap")


def check_recipes_train_eval():
    # one quick ladder epoch: the running count differs from the finished network's accuracy
    config = {**ablation.LADDER.config, "num_val": 100}
    recipe = ablation.recipe_from("d2l", config["base"], **ablation.step_fields("adam"),
                                  keep_best=False)
    setup = prepare_recipe(recipe, 1, (600, 100), 0, 100)
    history = fit_setup(setup, after_epoch=ablation.train_accuracy_in_eval_mode(
        setup.train_iter), progress=False, live=False)
    assert history[0]["train_acc"] != history[0]["train_acc_eval"]
    assert history[0]["train_acc_eval"] == evaluate_accuracy(setup.net, setup.train_iter)
    assert_choice("recipes-train-eval", "During the epoch the weights change")


def check_recipes_weights_only(tmp_path):
    path = tmp_path / "untrusted.pt"
    pitfalls.write_untrusted_checkpoint(path)
    assert pitfalls.try_load(path, weights_only=True)[0] is False
    assert pitfalls.try_load(path, weights_only=False) == (True, None)
    assert_choice("recipes-weights-only", "A full pickle can run arbitrary code")


def check_eval_in_loop():
    X, y = load_split("FashionMNIST", train=True)
    assert_number("eval-in-loop", len(TensorBatches(X, y, batch_size=256)))


def check_accuracy_average():
    X, y = load_split("FashionMNIST", train=False)
    sizes = [len(yb) for _, yb in TensorBatches(X, y, batch_size=64)]
    assert (len(sizes), sizes[-1], len(sizes) * 64) == (157, 16, 10_048)
    correct = [n // 2 for n in sizes]
    assert pitfalls.accuracy_per_sample(correct, sizes) == sum(correct) / 10_000
    assert pitfalls.accuracy_full_batches(correct, sizes, 64) < sum(correct) / 10_000
    assert_choice("accuracy-average", f"The number of test images, {len(y):,}")


def check_test_shuffle():
    torch.manual_seed(0)
    net, X, y = get_model("mlp", hidden=8), torch.rand(300, 1, 28, 28), torch.randint(0, 10, (300,))
    ordered = evaluate_accuracy(net, TensorBatches(X, y, 64))
    assert evaluate_accuracy(net, TensorBatches(X, y, 64, shuffle=True, seed=3)) == ordered
    # 300 = 4 × 64 + 44: the batch mean moves with the order, the per-sample rate does not
    counts = [pitfalls.correct_per_batch(net, TensorBatches(X, y, 64, shuffle=True, seed=s))
              for s in range(5)]
    assert len({pitfalls.accuracy_per_sample(c, n) for c, n in counts}) == 1
    assert len({pitfalls.accuracy_batch_mean(c, n) for c, n in counts}) > 1
    X, y = load_split("FashionMNIST", train=False)
    assert len(TensorBatches(X, y, batch_size=64)) == 157 and len(y) - 156 * 64 == 16
    assert_choice("test-shuffle", "The mean of the 157 per-batch accuracies")


CHECKS = checks_of(globals())


@pytest.mark.parametrize("key", keys(quiz.SELF_CHECK, quiz.FINAL_RECIPES))
def test_answer_key_agrees_with_lenet_nb(key, request):
    run_check(CHECKS, key, request)


def test_every_check_belongs_to_a_question():
    assert sorted(CHECKS) == keys(quiz.SELF_CHECK, quiz.FINAL_RECIPES)

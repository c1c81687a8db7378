"""lenet_nb.quiz.recipes: every answer of the chapter's questions that can be computed is
computed from lenet_nb and compared with the key."""


import pytest
import torch
from torch import nn

from lenet_nb.data import TensorBatches, load_split
from lenet_nb.lessons import pitfalls
from lenet_nb.models import get_model
from lenet_nb.quiz import recipes as quiz
from lenet_nb.train import evaluate_accuracy
from tests.quiz.answer_key import (
    assert_choice,
    assert_number,
    checks_of,
    keys,
    run_check,
)


def check_recipes_logits():
    torch.manual_seed(0)
    logits, y = torch.randn(8, 10), torch.randint(0, 10, (8,))
    plain = nn.functional.cross_entropy(logits, y)
    torch.testing.assert_close(plain, nn.functional.nll_loss(logits.log_softmax(1), y))
    out = pitfalls.softmax_before_loss(logits, y)
    assert out["softmax"][1] < out["plain"][1]  # the extra softmax flattens the gradients
    assert_choice("recipes-logits", "Raw scores (logits)")


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

"""Answer-key tests: every answer that can be computed is computed from lenet_nb and compared."""

import math
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from lenet_nb import anatomy, conv, fc_limits, lenet5, pitfalls
from lenet_nb.data import TensorBatches, load_split
from lenet_nb.lr_sweep import split_validation
from lenet_nb.models import conv_out, count_parameters, get_model, init_xavier
from lenet_nb.quiz_bank import BANKS
from lenet_nb.quiz_question import grade
from lenet_nb.shapes import param_rows, params_by_kind, shape_table
from lenet_nb.train import evaluate_accuracy

QUESTIONS = {q.key: q for bank in BANKS.values() for q in bank}


def assert_number(key, computed):
    """The key of numeric question `key` accepts the computed value."""
    q = QUESTIONS[key]
    assert q.is_numeric
    assert grade(q, computed).correct, f"{key}: key {q.answer} but lenet_nb computes {computed}"


def assert_choice(key, computed_text):
    """The right choice of question `key` starts with the computed text, and no other one does."""
    q = QUESTIONS[key]
    starts = [i for i, c in enumerate(q.choices) if c.startswith(computed_text)]
    assert starts == [q.answer], f"{key}: {computed_text!r} should be choice {q.answer} only"


def d2l_rows():
    return shape_table(get_model("d2l"), torch.zeros(1, 1, 28, 28))


def first_linear(net):
    return next(m for m in net.modules() if isinstance(m, nn.Linear))


def sigmoid_slope_max():
    x = torch.linspace(-6, 6, 1201, requires_grad=True)
    torch.sigmoid(x).sum().backward()
    return x.grad.max().item()


# --- chapter self-checks --------------------------------------------------------------------


def check_ch1_1x1_weights():
    layer = nn.Conv2d(64, 16, kernel_size=1, bias=False)
    X = torch.randn(64, 3, 3)
    expected = layer(X.unsqueeze(0))[0].detach()
    torch.testing.assert_close(conv.conv1x1(X, layer.weight.detach()), expected)  # dense per pixel
    assert_number("ch1-1x1-weights", count_parameters(layer))


def check_ch1_dense_memory():
    r = fc_limits.dense_vs_conv(1000, 3, 256, "float32")
    assert r["dense_weights"] == 768_000_000
    assert_number("ch1-dense-memory", round(r["dense_bytes"] / 1e9, 2))


def check_ch1_conv_size():
    small = fc_limits.dense_vs_conv(28, 1, 6)["conv_params"]
    assert small == fc_limits.dense_vs_conv(1000, 1, 6)["conv_params"]
    assert small == count_parameters(nn.Conv2d(1, 6, 5)) == 156
    assert str(small) in QUESTIONS["ch1-conv-size"].prompt
    assert_choice("ch1-conv-size", f"{small}, the same")


def check_ch1_permutation():
    # The explanation's claim: an MLP on permuted pixels is the same MLP with permuted weights.
    torch.manual_seed(0)
    net, X = get_model("mlp"), torch.rand(5, 1, 28, 28)
    perm = fc_limits.pixel_permutation(784, seed=1)
    permuted = get_model("mlp")
    permuted.load_state_dict(net.state_dict())
    with torch.no_grad():
        permuted[1].weight.copy_(net[1].weight[:, perm])  # input j now holds pixel perm[j]
    expected = net(X)
    torch.testing.assert_close(permuted(fc_limits.permute_pixels(X, perm)), expected)
    assert_choice("ch1-permutation", "The MLP")


def check_ch2_shape_s2():
    kind, shape = d2l_rows()[2]
    assert kind == "AvgPool2d"
    assert_choice("ch2-shape-s2", str(list(shape)))


def check_ch2_formula():
    side = nn.MaxPool2d(3, stride=2)(torch.zeros(1, 1, 28, 28)).shape[-1]
    assert side == conv_out(28, 3, 0, 2)
    assert_number("ch2-formula", side)


def check_ch2_params_total():
    assert_number("ch2-params-total", count_parameters(get_model("d2l")))


def check_ch2_macs_share():
    rows = anatomy.macs_per_layer(get_model("d2l"), torch.zeros(1, 1, 28, 28))
    macs = {kind: sum(m for k, _, m, _ in rows if k == kind) for kind in ("Conv2d", "Linear")}
    assert (macs["Conv2d"], macs["Linear"]) == (357_600, 58_920)
    assert all(hand == tool for *_, hand, tool in rows)  # the formula and FlopCounterMode agree
    assert_choice("ch2-macs-share", "The two convolutions" if macs["Conv2d"] > macs["Linear"]
                  else "The three linear layers")


def check_ch3_zero_grad():
    torch.manual_seed(0)
    layer, X = nn.Linear(3, 1), torch.randn(4, 3)
    layer(X).sum().backward()
    once = layer.weight.grad.clone()
    layer(X).sum().backward()  # no zero_grad in between: the second gradient is added
    torch.testing.assert_close(layer.weight.grad, 2 * once)
    # the momentum distractor: with the same gradient 50 times, SGD's momentum buffer (0.9)
    # stays below 10 gradients' worth, the never-cleared .grad holds 50
    w = nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    for _ in range(50):
        w.grad = torch.ones(3)
        opt.step()
    assert opt.state[w]["momentum_buffer"].max().item() < 10 < 50
    assert_choice("ch3-zero-grad", "Every step uses the sum of all gradients so far")


def check_ch3_logits():
    torch.manual_seed(0)
    logits, y = torch.randn(8, 10), torch.randint(0, 10, (8,))
    plain = nn.functional.cross_entropy(logits, y)
    torch.testing.assert_close(plain, nn.functional.nll_loss(logits.log_softmax(1), y))
    out = pitfalls.softmax_before_loss(logits, y)
    assert out["softmax"][1] < out["plain"][1]  # the extra softmax flattens the gradients
    assert_choice("ch3-logits", "Raw scores (logits)")


def check_ch3_sigmoid_lr():
    assert sigmoid_slope_max() == pytest.approx(0.25)
    # the Xavier distractor's explanation: with Xavier weights the sigmoid net's weight
    # gradients still shrink from the last layer to the first
    torch.manual_seed(0)
    net = init_xavier(get_model("d2l"))
    X, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    nn.functional.cross_entropy(net(X), y).backward()
    norms = [m.weight.grad.norm().item() for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert norms == sorted(norms) and norms[-1] > 100 * norms[0]
    assert_choice("ch3-sigmoid-lr", "The sigmoid's slope is at most 0.25")


def check_ch3_weights_only(tmp_path):
    path = tmp_path / "untrusted.pt"
    pitfalls.write_untrusted_checkpoint(path)
    assert pitfalls.try_load(path, weights_only=True)[0] is False
    assert pitfalls.try_load(path, weights_only=False) == (True, None)
    assert_choice("ch3-weights-only", "A full pickle can run arbitrary code")


def check_ch4_trainable():
    net = lenet5.LeNet5()
    assert count_parameters(net, trainable_only=False) == 60_000  # the RBF bitmaps are a buffer
    assert_number("ch4-trainable", count_parameters(net))


def check_ch4_map_j():
    y_hat = torch.tensor([[1.0, 30.0, 8.0]], requires_grad=True)
    lenet5.MAPLoss(5.0)(y_hat, torch.tensor([0])).backward()
    assert abs(y_hat.grad[0, 1].item()) < 1e-10  # the penalty-30 class: no push left
    assert abs(y_hat.grad[0, 2].item()) > 1e-4  # a wrong class near j still gets pushed
    assert_choice("ch4-map-j", "Almost nothing")


def check_ch4_c3_full():
    table = lenet5.c3_connections()
    assert int(table.sum()) == 60
    assert table.all(dim=0).nonzero().flatten().tolist() == [15]
    assert_choice("ch4-c3-full", "One (the last)")


def check_ch4_rbf():
    y_hat = torch.tensor([[5.0, 0.5, 9.0], [1.0, 3.0, 0.2]])
    assert lenet5.rbf_predict(y_hat).tolist() == [1, 2]
    assert lenet5.LeNet5().predict is lenet5.rbf_predict
    assert_choice("ch4-rbf", "The unit with the smallest output")


# --- the final quiz ---------------------------------------------------------------------------


def check_boyu_lenet_wrong():
    # the prompt names the d2l LeNet: in LeNet-5 and MyLeNet5 C5 is a convolution
    assert isinstance(lenet5.LeNet5().C5, nn.Conv2d)
    assert [type(m).__name__ for m in get_model("mylenet5")][6] == "Conv2d"
    assert "d2l LeNet" in QUESTIONS["boyu-lenet-wrong"].prompt
    by_kind = params_by_kind(param_rows(get_model("d2l"), (1, 1, 28, 28)))
    total = sum(by_kind.values())
    assert by_kind["Linear"] > by_kind["Conv2d"]
    why = QUESTIONS["boyu-lenet-wrong"].explanations[QUESTIONS["boyu-lenet-wrong"].answer]
    for fact in (
        f"{by_kind['Linear']:,}",
        f"{total:,}",
        f"{100 * by_kind['Linear'] / total:.1f} %",
        f"{by_kind['Conv2d']:,}",
    ):
        assert fact in why
    assert_choice("boyu-lenet-wrong", "Most of its parameters sit in the convolutional block")


def check_fc_share():
    by_kind = params_by_kind(param_rows(get_model("d2l"), (1, 1, 28, 28)))
    assert_number("fc-share", 100 * by_kind["Linear"] / sum(by_kind.values()))


def check_first_linear():
    assert_number("first-linear", count_parameters(first_linear(get_model("d2l"))))


def check_learn14_linear():
    rows = shape_table(get_model("learn14"), torch.zeros(1, 1, 28, 28))
    assert next(shape for kind, shape in rows if kind == "Flatten") == (1, 16 * 4 * 4)
    assert_number("learn14-linear", count_parameters(first_linear(get_model("learn14"))))


def check_boyu_cnn_wrong():
    assert nn.AvgPool2d(2, stride=2)(torch.zeros(1, 1, 28, 28)).shape[-2:] == (14, 14)
    shapes = [d2l_rows()[i][1][1:] for i in (0, 3)]
    assert shapes == [(6, 28, 28), (16, 10, 10)]
    q = QUESTIONS["boyu-cnn-wrong"]
    sizes = [f"{math.prod(shape):,}" for shape in shapes]  # fewer values: information is lost
    assert sizes == ["4,704", "1,600"] and all(f"= {n}" in q.explanations[3] for n in sizes)
    assert_choice("boyu-cnn-wrong", "Fully-connected layers have more parameters")


def check_conv_rgb_params():
    r = fc_limits.dense_vs_conv(1000, 3, 256)
    assert r["conv_params"] == count_parameters(nn.Conv2d(3, 256, 5))
    assert r["dense_weights"] == 768_000_000
    assert_number("conv-rgb-params", r["conv_params"])


def check_translation():
    torch.manual_seed(0)
    assert fc_limits.shift_commutes(torch.rand(2, 1, 28, 28), 0, 3)
    assert_choice("translation", "It shifts 3 pixels to the right")


def check_shape_c3():
    rows = d2l_rows()
    assert rows[2][1] == (1, 6, 14, 14)
    assert rows[3][0] == "Conv2d"
    assert_choice("shape-c3", str(list(rows[3][1])))


def check_same_padding():
    keeps = [p for p in range(6) if conv_out(28, 5, p) == 28]
    assert nn.Conv2d(1, 1, 5, padding=keeps[0])(torch.zeros(1, 1, 28, 28)).shape[-1] == 28
    assert len(keeps) == 1
    assert_number("same-padding", keeps[0])


def check_pool_params():
    assert count_parameters(nn.MaxPool2d(2)) == 0
    assert count_parameters(lenet5.LeNet5().S2) == 2 * 6  # the paper's S2: coefficient + bias
    assert_choice("pool-params", "None")


def check_sigmoid_slope():
    assert_number("sigmoid-slope", sigmoid_slope_max())


def check_eval_in_loop():
    X, y = load_split("FashionMNIST", train=True)
    assert_number("eval-in-loop", len(TensorBatches(X, y, batch_size=256)))


def check_zero_grad():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    before = net.weight.detach().clone()
    net(torch.ones(2, 3)).sum().backward()
    optimizer.step()
    stepped = net.weight.detach().clone()
    optimizer.zero_grad()
    assert not torch.equal(before, stepped)
    assert torch.equal(net.weight, stepped) and net.weight.grad is None
    assert_choice("zero-grad", "It resets only the gradients")


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


def check_test_selection():
    # the explanation's claim: the best of ten equally good epochs' noisy test accuracies is
    # biased upwards (10,000 test images, true accuracy 0.9, 2,000 repeats)
    gen = torch.Generator().manual_seed(0)
    measured = torch.binomial(torch.full((2000, 10), 10_000.0), torch.full((2000, 10), 0.9),
                              generator=gen) / 10_000
    best, mean = measured.max(1).values.mean().item(), measured.mean().item()
    assert abs(mean - 0.9) < 0.001 and best - 0.9 > 0.004  # ~1.5 standard errors too high
    X, y = torch.rand(100, 1, 4, 4), torch.arange(100) % 10
    train_iter, val_iter = split_validation(X, y, num_val=20, batch_size=10)
    # the validation split is carved out of the training data, the test set is not touched
    assert [sum(len(yb) for _, yb in it) for it in (train_iter, val_iter)] == [80, 20]
    assert_choice("test-selection", "It is optimistic: choose the epoch on a validation split")


def check_map_loss():
    y_hat = torch.tensor([[2.0, 1.0, 3.0]], requires_grad=True)
    loss = lenet5.MAPLoss(5.0)(y_hat, torch.tensor([0]))
    y = y_hat.detach()
    expected = y[0, 0] + torch.log(torch.exp(torch.tensor(-5.0)) + torch.exp(-y).sum())
    torch.testing.assert_close(loss.detach(), expected)  # the prompt's formula
    loss.backward()
    assert (y_hat.grad[0, 1:] < 0).all()  # raising a wrong class's penalty lowers the loss
    assert_choice("map-loss", "A reward for large penalties of the other classes")


def check_rbf_collapse():
    rbf = lenet5.RBF(torch.zeros(10, 84))  # ten equal centres
    F6 = torch.zeros(8, 84)  # F6 always at that point, whatever the input
    y_hat, y = rbf(F6), torch.arange(8)
    assert y_hat.abs().sum() == 0  # every penalty 0: the loss y_D is 0 too
    assert y_hat.gather(1, y.view(-1, 1)).sum() == 0
    torch.testing.assert_close(lenet5.MAPLoss(5.0)(y_hat, y), torch.log(torch.tensor(10.0)
                                                                        + math.exp(-5)))
    net = lenet5.LeNet5()  # the paper's centres are fixed: a buffer, not a parameter
    assert "output.centers" in dict(net.named_buffers())
    assert not any("centers" in name for name, _ in net.named_parameters())
    assert_choice("rbf-collapse", "All ten centres equal")


def check_d2l_field():
    rows = anatomy.receptive_fields(get_model("d2l"), 28)
    pools = [r for kind, r, _, _ in rows if kind == "AvgPool2d"]
    assert pools == [6, 16]
    assert_number("d2l-field", pools[1])


def check_masked_c3():
    net = lenet5.LeNet5()
    full = count_parameters(net) - count_parameters(net.C3) + count_parameters(nn.Conv2d(6, 16, 5))
    assert count_parameters(net.C3) == 1516
    assert_number("masked-c3", full)


def check_c3_why():
    # The reasons are the paper's words; what the code can confirm: C3 is not fully connected,
    # a full 6 -> 16 convolution gives the same shape, and the d2l LeNet trains a full one.
    assert int(lenet5.c3_connections().sum()) == 60 < 6 * 16
    S2 = torch.zeros(1, 6, 14, 14)
    assert lenet5.LeNet5().C3(S2).shape == nn.Conv2d(6, 16, 5)(S2).shape == (1, 16, 10, 10)
    assert get_model("d2l")[3].in_channels == 6
    assert_choice("c3-why", "It breaks the symmetry")


def check_f6_84():
    net = lenet5.LeNet5()
    assert net.F6.out_features == lenet5.rbf_bitmaps().shape[1] == 7 * 12
    assert all(len(row) == 7 for b in lenet5.DIGIT_BITMAPS for row in b) and all(
        len(b) == 12 for b in lenet5.DIGIT_BITMAPS
    )
    assert first_linear(get_model("d2l")[9:]).out_features == 84  # d2l copies the 84
    assert_choice("f6-84", "84 = 7 × 12")


def check_squash_one():
    assert_number("squash-one", lenet5.Squash()(torch.tensor(1.0)).item())


CHECKS = {
    name.removeprefix("check_").replace("_", "-"): fn
    for name, fn in list(globals().items())
    if name.startswith("check_")
}


@pytest.mark.parametrize("key", sorted(QUESTIONS))
def test_answer_key_agrees_with_lenet_nb(key, request):
    """Every question has a check computing its answer (a new question needs one too)."""
    assert key in CHECKS, f"question {key!r} has no answer-key check in {__file__}"
    fn = CHECKS[key]
    kwargs = (
        {"tmp_path": request.getfixturevalue("tmp_path")}
        if "tmp_path" in (fn.__code__.co_varnames[: fn.__code__.co_argcount])
        else {}
    )
    fn(**kwargs)


def test_every_check_belongs_to_a_question():
    assert sorted(CHECKS) == sorted(QUESTIONS)


# --- the banks' shape -------------------------------------------------------------------------


def test_chapter_self_checks_have_two_to_four_questions():
    for chapter in ("ch1", "ch2", "ch3", "ch4"):
        assert 2 <= len(BANKS[chapter]) <= 4, chapter


def test_final_quiz_covers_the_chapters_with_at_least_15_questions():
    final = BANKS["ch5"]
    assert len(final) >= 15
    assert {q.topic for q in final} == {"parameters", "convolutions", "shapes", "training", "paper"}
    boyu = [q for q in final if q.key.startswith("boyu-")]
    assert [len(q.choices) for q in boyu] == [4, 4]


def test_keys_are_unique_across_banks():
    keys = [q.key for bank in BANKS.values() for q in bank]
    assert len(keys) == len(set(keys)) == len(QUESTIONS)


def test_right_answers_are_not_always_in_the_same_place():
    positions = [q.answer for q in QUESTIONS.values() if not q.is_numeric]
    assert len(set(positions)) >= 3
    assert max(positions.count(i) for i in set(positions)) <= len(positions) // 2


def test_the_quiz_notebook_shows_every_topic_once():
    source = (Path(__file__).resolve().parents[1] / "notebooks" / "05_quizzes.py").read_text()
    shown = re.findall(r'quiz\.section\("(\w+)"\)', source)
    final = BANKS["ch5"]
    assert shown == list(dict.fromkeys(q.topic for q in final))
    # the introduction states the number of questions in words: keep it true
    assert len(final) == 23 and "Twenty-three questions" in source

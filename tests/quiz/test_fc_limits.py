"""lenet_nb.quiz.fc_limits: every answer of the chapter's questions that can be computed is
computed from lenet_nb and compared with the key."""

import math

import pytest
import torch
from torch import nn

from lenet_nb.lessons import conv, fc_limits
from lenet_nb.lessons.shapes import shape_table
from lenet_nb.models import count_parameters, get_model
from lenet_nb.quiz import fc_limits as quiz
from tests.quiz.answer_key import (
    QUESTIONS,
    assert_choice,
    assert_number,
    checks_of,
    keys,
    run_check,
)


def d2l_rows():
    return shape_table(get_model("d2l"), torch.zeros(1, 1, 28, 28))


def check_fc_1x1_weights():
    layer = nn.Conv2d(64, 16, kernel_size=1, bias=False)
    X = torch.randn(64, 3, 3)
    expected = layer(X.unsqueeze(0))[0].detach()
    torch.testing.assert_close(conv.conv1x1(X, layer.weight.detach()), expected)  # dense per pixel
    assert_number("fc-1x1-weights", count_parameters(layer))


def check_fc_dense_memory():
    r = fc_limits.dense_vs_conv(1000, 3, 256, "float32")
    assert r["dense_weights"] == 768_000_000
    assert_number("fc-dense-memory", round(r["dense_bytes"] / 1e9, 2))


def check_fc_conv_size():
    small = fc_limits.dense_vs_conv(28, 1, 6)["conv_params"]
    assert small == fc_limits.dense_vs_conv(1000, 1, 6)["conv_params"]
    assert small == count_parameters(nn.Conv2d(1, 6, 5)) == 156
    assert str(small) in QUESTIONS["fc-conv-size"].prompt
    assert_choice("fc-conv-size", f"{small}, the same")


def check_fc_permutation():
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
    assert_choice("fc-permutation", "The MLP")


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


CHECKS = checks_of(globals())


@pytest.mark.parametrize("key", keys(quiz.SELF_CHECK, quiz.FINAL_CONVOLUTIONS))
def test_answer_key_agrees_with_lenet_nb(key, request):
    run_check(CHECKS, key, request)


def test_every_check_belongs_to_a_question():
    assert sorted(CHECKS) == keys(quiz.SELF_CHECK, quiz.FINAL_CONVOLUTIONS)

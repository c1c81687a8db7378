"""lenet_nb.quiz.shapes: every answer of the chapter's questions that can be computed is
computed from lenet_nb and compared with the key."""


import pytest
import torch
from torch import nn

from lenet_nb import lenet5
from lenet_nb.lessons import anatomy
from lenet_nb.lessons.shapes import param_rows, params_by_kind, shape_table
from lenet_nb.models import conv_out, count_parameters, get_model
from lenet_nb.quiz import shapes as quiz
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


def first_linear(net):
    return next(m for m in net.modules() if isinstance(m, nn.Linear))


def check_shapes_jump_s4():
    rows = anatomy.receptive_fields(get_model("d2l"), 28)
    name, _, jump, _ = rows[5]
    assert name == "AvgPool2d" and jump == 4
    assert_number("shapes-jump-s4", jump)


def check_shapes_formula():
    side = nn.MaxPool2d(3, stride=2)(torch.zeros(1, 1, 28, 28)).shape[-1]
    assert side == conv_out(28, 3, 0, 2)
    assert_number("shapes-formula", side)


def check_shapes_params_total():
    assert_number("shapes-params-total", count_parameters(get_model("d2l")))


def check_shapes_macs_share():
    rows = anatomy.macs_per_layer(get_model("d2l"), torch.zeros(1, 1, 28, 28))
    macs = {kind: sum(m for k, _, m, _ in rows if k == kind) for kind in ("Conv2d", "Linear")}
    assert (macs["Conv2d"], macs["Linear"]) == (357_600, 58_920)
    assert all(hand == tool for *_, hand, tool in rows)  # the formula and FlopCounterMode agree
    assert_choice("shapes-macs-share", "The two convolutions" if macs["Conv2d"] > macs["Linear"]
                  else "The three linear layers")


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


def check_d2l_field():
    rows = anatomy.receptive_fields(get_model("d2l"), 28)
    pools = [r for kind, r, _, _ in rows if kind == "AvgPool2d"]
    assert pools == [6, 16]
    assert_number("d2l-field", pools[1])


CHECKS = checks_of(globals())


@pytest.mark.parametrize("key", keys(quiz.SELF_CHECK, quiz.FINAL_PARAMETERS, quiz.FINAL_SHAPES))
def test_answer_key_agrees_with_lenet_nb(key, request):
    run_check(CHECKS, key, request)


def test_every_check_belongs_to_a_question():
    assert sorted(CHECKS) == keys(quiz.SELF_CHECK, quiz.FINAL_PARAMETERS, quiz.FINAL_SHAPES)

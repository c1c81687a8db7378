import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lenet_nb.lenet5 import PAPER_PARAMS, LeNet5
from lenet_nb.lessons import anatomy
from lenet_nb.models import LeNet, get_model


def small_net():
    """Convs and pools of several sizes and strides, generic (random) weights."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.AvgPool2d(2, 2),
                         nn.Conv2d(2, 2, 3, stride=2), nn.Sigmoid(), nn.Conv2d(2, 1, 2))


def test_grow_and_receptive_field_on_hand_worked_stacks():
    assert anatomy.grow(1, 1, 5, 1) == (5, 1)
    assert anatomy.grow(5, 1, 2, 2) == (6, 2)
    assert anatomy.receptive_field([]) == (1, 1)
    assert anatomy.receptive_field([(3, 1), (3, 1)]) == (5, 1)
    assert anatomy.receptive_field([(5, 1), (2, 2), (5, 1), (2, 2)]) == (16, 4)


def test_receptive_fields_of_the_d2l_lenet():
    rows = anatomy.receptive_fields(LeNet(), 28)
    assert [(name, r, j) for name, r, j, _ in rows[:6]] == [
        ("Conv2d", 5, 1), ("Sigmoid", 5, 1), ("AvgPool2d", 6, 2),
        ("Conv2d", 14, 2), ("Sigmoid", 14, 2), ("AvgPool2d", 16, 4)]
    # the first linear layer reads the whole 5×5 map: 16 + (5 - 1)·4 = 32 > 28 (padding)
    assert [r for _, r, _, _ in rows[7:]] == [32] * 5
    assert "AvgPool2d" in anatomy.format_receptive_fields(rows)


@pytest.mark.parametrize("index", range(6))
def test_formula_equals_the_gradient_footprint_on_a_small_net(index):
    net = small_net()
    r = anatomy.receptive_fields(net, 20)[index][1]
    mask = anatomy.empirical_receptive_field(net, index, in_size=20)
    assert anatomy.box_size(mask) == (r, r)
    assert int(mask.sum()) == r * r  # generic weights: every pixel of the window counts


def test_empirical_field_of_lenet_units_and_the_border():
    net = LeNet()
    sides = [anatomy.box_size(anatomy.empirical_receptive_field(net, i))[0] for i in (0, 2, 3, 5)]
    assert sides == [5, 6, 14, 16]
    # a linear unit sees every pixel: the formula's 32 includes the 2-pixel zero border
    assert anatomy.box_size(anatomy.empirical_receptive_field(net, 7)) == (28, 28)
    # a corner unit of C1 reaches only 3×3 real pixels, the rest of its 5×5 is padding
    corner = anatomy.empirical_receptive_field(net, 0, unit=(0, 0, 0, 0))
    assert anatomy.box_size(corner) == (3, 3) and corner[:3, :3].all()


def test_box_size_of_an_empty_and_a_scattered_mask():
    mask = torch.zeros(6, 6, dtype=torch.bool)
    assert anatomy.box_size(mask) == (0, 0)
    mask[1, 2] = mask[4, 3] = True
    assert anatomy.box_size(mask) == (4, 2)


def test_plot_receptive_fields_returns_one_axis_per_mask():
    masks = [torch.eye(4, dtype=torch.bool)] * 3
    ax = anatomy.plot_receptive_fields(masks, ["a", "b", "c"])
    assert [a.get_title() for a in ax] == ["a", "b", "c"]


@pytest.mark.parametrize("name", ["d2l", "learn14", "mylenet5"])
def test_macs_by_formula_equal_flop_counter_over_two(name):
    net, X = get_model(name), torch.zeros(3, 1, 28, 28)
    rows = anatomy.macs_per_layer(net, X)
    assert all(hand == tool for _, _, hand, tool in rows)
    with FlopCounterMode(display=False) as counter:
        net(X)
    assert sum(r[2] for r in rows) == counter.get_total_flops() // 2


def test_macs_of_the_d2l_lenet_by_hand():
    rows = anatomy.macs_per_layer(LeNet(), torch.zeros(1, 1, 28, 28))
    counted = [hand for _, _, hand, _ in rows if hand]
    assert counted == [6 * 28 * 28 * 1 * 25, 16 * 10 * 10 * 6 * 25, 400 * 120, 120 * 84, 84 * 10]
    text = anatomy.format_macs(rows)
    assert "416,520" in text.splitlines()[-1]


def test_lenet5_connections_reproduce_the_paper():
    rows = anatomy.lenet5_connections(LeNet5())
    conns = {name: c for name, _, _, c, _ in rows}
    assert conns == {"C1": 122_304, "S2": 5_880, "C3": 151_600, "S4": 2_000, "C5": 48_120,
                     "F6": 10_164, "output": 840}
    assert sum(conns.values()) == anatomy.PAPER_CONNECTIONS == 340_908
    # C3: every unit's connections are its map's trainable parameters, at 10×10 places
    assert conns["C3"] == 100 * PAPER_PARAMS["C3"]
    assert "340,908" in anatomy.format_connections(rows)


def test_lenet5_connections_tool_column():
    tool = {name: t for name, *_, t in anatomy.lenet5_connections()}
    # the tool sees convolutions and matrix products (no bias), not pooling or the RBF distance
    assert tool["S2"] is tool["S4"] is tool["output"] is None
    assert tool["C1"] == 122_304 - 4_704 and tool["C5"] == 48_000 and tool["F6"] == 10_080
    # C3 runs as a dense 6 -> 16 convolution: the tool counts all 96 kernels, 36 of them zero
    assert tool["C3"] == 16 * 6 * 25 * 100

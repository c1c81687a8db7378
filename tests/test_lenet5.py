"""LeNet-5 as in the paper: counts, Table I, the layers, the MAP loss, bad input."""

import math

import pytest
import torch

from lenet_nb.lenet5 import (
    C3_TABLE,
    PAPER_PARAMS,
    RBF,
    LeNet5,
    MAPLoss,
    Squash,
    Subsampling,
    TableConv2d,
    c3_activity,
    c3_connections,
    fan_in,
    format_parameter_table,
    parameter_table,
    rbf_bitmaps,
    scale_input,
)
from lenet_nb.models import count_parameters

# Table I of the paper, copied as printed: rows are S2 maps 0-5, columns C3 maps 0-15.
TABLE_I = [
    "X   XXX  XXXX XX",
    "XX   XXX  XXXX X",
    "XXX   XXX  X XXX",
    " XXX  XXXX  X XX",
    "  XXX  XXXX XX X",
    "   XXX  XXXX XXX",
]


@pytest.fixture
def net():
    torch.manual_seed(0)
    return LeNet5()


def test_trainable_parameters_per_layer_match_the_paper(net):
    rows = {r[0]: r for r in parameter_table(net)}
    for name, paper in PAPER_PARAMS.items():
        assert rows[name][2] == paper, name
    assert rows["RBF"][2:4] == (0, 840)
    assert count_parameters(net) == 60_000
    assert sum(p.numel() for p in net.parameters()) == 60_000
    assert sum(b.numel() for b in net.buffers() if b.is_floating_point()) == 840


def test_parameter_table_shapes_and_total(net):
    rows = parameter_table(net)
    assert [r[1] for r in rows] == ["6x28x28", "6x14x14", "16x10x10", "16x5x5", "120x1x1",
                                    "84", "10"]
    text = format_parameter_table(rows)
    assert text.splitlines()[-1].split() == ["total", "60,000", "840", "60,000"]


def test_rbf_weights_are_a_buffer_saved_but_not_trained(net):
    names = dict(net.named_parameters())
    assert not any(n.startswith("output") for n in names)
    assert torch.equal(net.state_dict()["output.centers"], rbf_bitmaps())
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    MAPLoss()(net(torch.rand(2, 1, 32, 32)), torch.tensor([3, 7])).backward()
    opt.step()
    assert torch.equal(net.output.centers, rbf_bitmaps())


def test_c3_wiring_is_table_i_exactly():
    expected = torch.tensor([[c == "X" for c in row] for row in TABLE_I])
    assert torch.equal(c3_connections(), expected)
    assert int(expected.sum()) == 60
    assert [len(t) for t in C3_TABLE] == [3] * 6 + [4] * 9 + [6]


def test_c3_map_reacts_only_to_its_table_inputs():
    torch.manual_seed(0)
    c3 = TableConv2d()
    with torch.no_grad():
        c3.weight.uniform_(-1, 1)
    X = torch.randn(1, 6, 14, 14)
    base = c3(X)
    for i in range(6):
        X2 = X.clone()
        X2[:, i] += 1.0
        changed = (c3(X2) - base).abs().flatten(2).amax(2)[0] > 1e-6
        assert torch.equal(changed, c3_connections()[i]), f"S2 map {i}"


def test_c3_dense_weight_is_zero_off_the_table():
    c3 = TableConv2d()
    with torch.no_grad():
        c3.weight.fill_(1.0)
    nonzero = c3.dense_weight().abs().sum((2, 3)) > 0  # [16, 6]
    assert torch.equal(nonzero, c3_connections().T)


def test_map_loss_matches_a_hand_computed_value():
    y_hat = torch.tensor([[1.0, 2.0, 3.0]])
    # y_D = 1; log(e^-1 + e^-1 + e^-2 + e^-3) = log(0.920881) = -0.082424
    assert MAPLoss(j=1.0)(y_hat, torch.tensor([0])).item() == pytest.approx(0.917576, abs=1e-6)
    expected = 3 + math.log(math.exp(-2) + math.exp(-1) + math.exp(-2) + math.exp(-3))
    assert MAPLoss(j=2.0)(y_hat, torch.tensor([2])).item() == pytest.approx(expected, rel=1e-6)


def test_map_loss_is_a_batch_mean():
    y_hat = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    one = MAPLoss()(y_hat[:1], torch.tensor([0]))
    two = MAPLoss()(y_hat, torch.tensor([0, 2]))
    assert two.item() == pytest.approx((one.item() + one.item() + 2.0) / 2, rel=1e-6)


def test_map_loss_needs_positive_j():
    with pytest.raises(ValueError, match="j must be a finite number > 0"):
        MAPLoss(j=0)


def test_bitmaps_are_ten_by_84_of_plus_minus_one():
    W = rbf_bitmaps()
    assert W.shape == (10, 84)
    assert set(W.unique().tolist()) == {-1.0, 1.0}
    assert len({tuple(r.tolist()) for r in W}) == 10


def test_rbf_penalty_is_zero_at_the_own_bitmap_and_predicts_it():
    rbf = RBF(rbf_bitmaps())
    y_hat = rbf(rbf_bitmaps())
    assert torch.equal(y_hat.diagonal(), torch.zeros(10))
    assert torch.equal(y_hat.argmin(1), torch.arange(10))
    # off-diagonal: 4 x the number of differing pixels
    assert y_hat[0, 1].item() == 4 * int((rbf_bitmaps()[0] != rbf_bitmaps()[1]).sum())


def test_batch_size_one_keeps_the_batch_dimension(net):
    X = torch.rand(1, 1, 32, 32)
    assert net(X).shape == (1, 10)
    MAPLoss()(net(X), torch.tensor([5])).backward()
    assert net.C1.weight.grad is not None


@pytest.mark.parametrize("shape", [(1, 1, 28, 28), (1, 32, 32), (2, 3, 32, 32)])
def test_wrong_input_shape_gives_a_clear_error(net, shape):
    with pytest.raises(ValueError, match=r"\[N, 1, 32, 32\].*pad=2"):
        net(torch.rand(shape))


def test_unknown_head_is_rejected():
    with pytest.raises(ValueError, match="'rbf' or 'softmax'"):
        LeNet5(head="svm")


def test_softmax_head_adds_a_trained_linear_output():
    torch.manual_seed(0)
    net = LeNet5("softmax")
    assert count_parameters(net) == 60_000 + 850
    y_hat = net(torch.rand(3, 1, 32, 32))
    assert torch.equal(net.predict(y_hat), y_hat.argmax(1))


def test_rbf_head_predicts_the_smallest_penalty(net):
    y_hat = torch.tensor([[5.0, 1.0, 9.0], [0.5, 3.0, 0.2]])
    assert net.predict(y_hat).tolist() == [1, 2]


def test_paper_init_stays_within_2_4_over_fan_in(net):
    for m in (net.C1, net.S2, net.S4, net.C5, net.F6):
        bound = 2.4 / fan_in(m)
        assert m.weight.abs().max() <= bound and m.bias.abs().max() <= bound
        assert m.weight.abs().max() > 0.5 * bound  # really drawn, not left at zero
    for k, t in enumerate(C3_TABLE):
        assert net.C3.kernel(k).abs().max() <= 2.4 / (25 * len(t))
    assert fan_in(net.C1) == 25 and fan_in(net.C5) == 400 and fan_in(net.F6) == 120


def test_input_scaling_gives_the_paper_levels():
    assert scale_input(torch.tensor([0.0, 1.0])).tolist() == pytest.approx([-0.1, 1.175])


def test_squashing_function_maps_one_to_about_one():
    assert Squash()(torch.tensor([1.0, -1.0])).tolist() == pytest.approx([1.0, -1.0], abs=1e-4)


def test_subsampling_sums_two_by_two_then_scales_and_shifts():
    s = Subsampling(1)
    with torch.no_grad():
        s.weight.fill_(0.5)
        s.bias.fill_(1.0)
    X = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert s(X).item() == pytest.approx(0.5 * 10 + 1)


def test_c3_activity_finds_a_map_made_constant():
    torch.manual_seed(0)
    net = LeNet5()
    X = torch.rand(6, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        net.C3.weight[net.C3.starts[4] : net.C3.starts[5]] = 0  # map 4 now sees nothing
    spread, norms = c3_activity(net, X)
    assert spread.shape == norms.shape == (16,)
    assert spread[4] == 0 and norms[4] == 0
    assert (spread[torch.arange(16) != 4] > 1e-3).all()
    # the spread is the plain std of a map's squashed outputs over images and positions
    C3 = net.act(net.C3(net.act(net.S2(net.act(net.C1(scale_input(X)))))))
    torch.testing.assert_close(spread[7], C3[:, 7].flatten().std())


# --- careless and hostile inputs ------------------------------------------------------------


def test_item05_uint8_and_0_255_images_are_refused():
    net = LeNet5()
    X = torch.randint(0, 256, (2, 1, 32, 32), dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"float pixels in \[0, 1\], got dtype torch.uint8"):
        net(X)
    with pytest.raises(ValueError, match="got values from 0 to 255"):
        net(X.float())
    with pytest.raises(ValueError, match="pixels in"):
        net(torch.full((1, 1, 32, 32), float("nan")))
    assert net(X.float() / 255).shape == (2, 10)
    assert net(torch.zeros(0, 1, 32, 32)).shape == (0, 10)

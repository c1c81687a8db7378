"""Models: shapes and parameter counts of every variant, clear errors on bad input."""


import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from lenet_nb import models
from tests.conftest import PROPERTY


def _d2l_reference():
    """The d2l LeNet written out as a plain Sequential, to compare against."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def test_default_lenet_is_the_d2l_network():
    net, ref = models.LeNet(), _d2l_reference()
    assert models.count_parameters(net) == 61706
    ref.load_state_dict(net.state_dict())  # same layer layout, same parameter names
    X = torch.rand(3, 1, 28, 28)
    assert torch.equal(net(X), ref(X))


def test_fully_connected_block_holds_most_parameters():
    net = models.LeNet()
    fc = sum(models.count_parameters(m) for m in net if isinstance(m, nn.Linear))
    assert fc == 59134


@pytest.mark.parametrize("name, params, flat", [
    ("d2l", 61706, 400), ("learn14", 44426, 256), ("mylenet5", 61706, None),
    ("mlp", 203530, None)])
def test_every_variant_by_name(name, params, flat):
    net = models.get_model(name)
    assert models.count_parameters(net) == params
    for batch in (1, 64):
        assert net(torch.rand(batch, 1, 28, 28)).shape == (batch, 10)
    if flat is not None:
        assert net[:7](torch.rand(2, 1, 28, 28)).shape == (2, flat)


def test_learn14_features_before_flatten():
    net = models.get_model("learn14")
    assert net[:6](torch.randn(64, 1, 28, 28)).shape == (64, 16, 4, 4)
    assert isinstance(net[2], nn.MaxPool2d) and net[0].padding == (0, 0)


def test_mylenet5_has_c5_as_convolution():
    net = models.get_model("mylenet5")
    c5 = [m for m in net if isinstance(m, nn.Conv2d)][-1]
    assert (c5.in_channels, c5.out_channels, c5.kernel_size) == (16, 120, (5, 5))
    assert net[:7](torch.rand(1, 1, 28, 28)).shape == (1, 120, 1, 1)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("pooling", ["avg", "max"])
def test_activation_and_pooling_switch(activation, pooling):
    net = models.LeNet(activation=activation, pooling=pooling)
    kinds = {type(m) for m in net}
    assert models.ACTIVATIONS[activation] in kinds and models.POOLINGS[pooling] in kinds
    assert models.count_parameters(net) == 61706


def test_paper_sized_input_without_padding():
    net = models.LeNet(padding=0, in_size=32)
    assert net(torch.rand(2, 1, 32, 32)).shape == (2, 10)


def test_kernel_size_sets_both_convolutions():
    net = models.LeNet(kernel_size=3)
    convs = [m for m in net if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(3, 3), (3, 3)]
    # 28 -pad2,k3-> 30 -pool-> 15 -k3-> 13 -pool-> 6: 16*6*6 inputs to the first linear layer
    assert net[7].in_features == 16 * 6 * 6 and net(torch.rand(1, 1, 28, 28)).shape == (1, 10)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"\['relu', 'sigmoid', 'tanh'\]"):
        models.LeNet(activation="gelu")
    with pytest.raises(ValueError, match=r"\['avg', 'max'\]"):
        models.LeNet(pooling="min")
    with pytest.raises(ValueError, match="d2l"):
        models.get_model("alexnet")


def test_wrong_input_shapes_name_the_expected_shape():
    net = models.LeNet()
    with pytest.raises(ValueError, match=r"\[batch, 1, 28, 28\]"):
        net(torch.rand(1, 28, 28))
    with pytest.raises(ValueError, match=r"got \[2, 1, 32, 32\]"):
        net(torch.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match="too small"):
        models.LeNet(padding=0, in_size=12)


def test_conv_out_formula():
    assert models.conv_out(28, 5, padding=2) == 28
    assert models.conv_out(28, 5) == 24
    assert models.conv_out(24, 2, stride=2) == 12
    assert models.conv_out(7, 3, padding=1, stride=2) == 4


def test_init_xavier_is_seeded_and_changes_weights():
    torch.manual_seed(0)
    a = models.init_xavier(models.LeNet())
    torch.manual_seed(0)
    b = models.init_xavier(models.LeNet())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    w = a[0].weight.detach()
    bound = (6 / (25 * 1 + 25 * 6)) ** 0.5  # xavier bound for fan_in 25, fan_out 150
    assert float(w.abs().max()) <= bound


def test_count_parameters_trainable_only():
    net = models.LeNet()
    net[0].weight.requires_grad_(False)
    assert models.count_parameters(net) == 61706 - 150
    assert models.count_parameters(net, trainable_only=False) == 61706


def test_removing_takes_the_hooks_off_even_when_the_forward_pass_fails():
    net = nn.Linear(2, 2)
    seen = []
    hooks = [net.register_forward_hook(lambda m, i, o: seen.append(o.shape))]
    with pytest.raises(RuntimeError), models.removing(hooks):
        net(torch.zeros(1, 3))  # wrong width: the forward pass raises
    net(torch.zeros(1, 2))
    assert seen == [] and not net._forward_hooks


# --- careless and hostile inputs ------------------------------------------------------------


@PROPERTY
@given(n=st.integers(1, 40), k=st.integers(1, 9), p=st.integers(0, 4), s=st.integers(1, 5))
def test_property_output_size_formula_matches_pytorch(n, k, p, s):
    side = models.conv_out(n, k, p, s)
    X = torch.zeros(1, 1, n, n)
    if side < 1:
        with pytest.raises(RuntimeError):
            F.conv2d(X, torch.zeros(1, 1, k, k), padding=p, stride=s)
        return
    assert F.conv2d(X, torch.zeros(1, 1, k, k), padding=p, stride=s).shape[-1] == side
    if p <= k // 2:  # PyTorch's pooling allows at most half the window as padding
        assert F.max_pool2d(X, k, stride=s, padding=p).shape[-1] == side
        assert F.avg_pool2d(X, k, stride=s, padding=p).shape[-1] == side


# --- careless and hostile inputs ------------------------------------------------------------


def test_item01_description_names_layers_and_input_shape():
    assert models.describe_model(models.MLP()) == (
        "MLP(Flatten, Linear, ReLU, Linear) for inputs [1, 28, 28]")
    assert models.describe_model(nn.Linear(2, 3)) == "Linear"

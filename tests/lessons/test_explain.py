"""lenet_nb.lessons.explain: exact checks on tiny hand-made networks, LeNet-5's geometry, shift
tests."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from lenet_nb.lenet5 import LeNet5, scale_input
from lenet_nb.lessons import explain


def linear_net(weight):
    """A one-layer net on a flattened 1x4x4 image with the given [C, 16] weights, no bias."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, weight.shape[0], bias=False))
    with torch.no_grad():
        net[1].weight.copy_(weight)
    return net


def test_lenet5_maps_are_the_squashed_layer_outputs_of_the_network_s_own_forward():
    torch.manual_seed(0)
    net, X = LeNet5(), torch.rand(2, 1, 32, 32)
    maps = explain.lenet5_maps(net, X)
    shapes = {k: tuple(v.shape[1:]) for k, v in maps.items()}
    assert shapes == {"C1": (6, 28, 28), "S2": (6, 14, 14), "C3": (16, 10, 10),
                      "S4": (16, 5, 5), "C5": (120, 1, 1), "F6": (84,), "output": (10,)}
    assert torch.equal(maps["output"], net(X))
    assert torch.allclose(maps["C1"], net.act(net.C1(scale_input(X))))
    assert torch.allclose(maps["F6"], net.features(X))
    assert not net.C1._forward_hooks  # the hooks are removed again


def test_class_scores_flip_rbf_distances_and_keep_logits():
    torch.manual_seed(0)
    lenet5, X = LeNet5(), torch.rand(1, 1, 32, 32)
    assert torch.equal(explain.class_scores(lenet5, X), -lenet5(X))
    softmax = LeNet5("softmax")
    assert torch.equal(explain.class_scores(softmax, X), softmax(X))
    assert explain.predict_fn(nn.Linear(2, 2))(torch.tensor([[0.0, 1.0]])).tolist() == [1]


def test_occlusion_is_exact_on_a_linear_net():
    w = torch.arange(32.0).view(2, 16) / 10
    net, X = linear_net(w), torch.rand(1, 1, 4, 4)
    drops = explain.occlusion(net, X, target=1, patch=2, stride=2, fill=0.5)
    assert drops.shape == (2, 2)
    W = w[1].view(4, 4)
    for a in range(2):
        for b in range(2):
            box = (slice(2 * a, 2 * a + 2), slice(2 * b, 2 * b + 2))
            expected = (W[box] * (X[0, 0][box] - 0.5)).sum()  # the score lost under the patch
            assert drops[a, b] == pytest.approx(float(expected), abs=1e-5)
    assert explain.occlusion(net, X, 0, patch=3, stride=1).shape == (2, 2)


@pytest.mark.parametrize(("kw", "message"), [
    ({"patch": 40}, "patch=40 is larger than the 4x4 image"),
    ({"stride": 0}, "stride must be an integer >= 1"),
    ({"target": 10}, r"target must be a class id in 0..1, got 10"),
    ({"target": -1}, "target must be an integer >= 0"),
    ({"patch": 2.5}, "patch must be an integer"),
])
def test_occlusion_refuses_what_cannot_be_computed(kw, message):
    """patch=40 on a small image returned an empty map; stride=0 a range() error."""
    net, X = linear_net(torch.ones(2, 16)), torch.rand(1, 1, 4, 4)
    with pytest.raises(ValueError, match=message):
        explain.occlusion(net, X, **{"target": 1, "patch": 2, **kw})


def test_occlusion_pixels_average_the_drops_of_the_covering_patches():
    drops = torch.tensor([[1.0, 3.0]])
    spread = explain.occlusion_pixels(drops, patch=2, stride=1, size=(2, 3))
    assert spread.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]


def test_saliency_is_the_weight_row_of_a_linear_net_and_2wx_of_a_quadratic_one():
    w = torch.randn(3, 16, generator=torch.Generator().manual_seed(0))
    net, X = linear_net(w), torch.rand(2, 1, 4, 4)
    grad = explain.saliency(net, X, target=2)
    assert torch.allclose(grad, w[2].view(1, 1, 4, 4).expand(2, 1, 4, 4))
    assert net[1].weight.grad is None  # the network's own gradients are untouched
    square = nn.Sequential(linear_net(torch.eye(16)), nn.Flatten(), _Square(w))
    assert torch.allclose(explain.saliency(square, X, 0), (2 * w[0] * X.flatten(1)).view_as(X))
    per_row = explain.saliency(net, X, torch.tensor([0, 1]))
    assert torch.allclose(per_row[1, 0].flatten(), w[1])


class _Square(nn.Module):
    """y_c = sum_i w_ci x_i^2 (a gradient with a known closed form: 2 w_ci x_i)."""

    def __init__(self, w):
        super().__init__()
        self.w = w

    def forward(self, X):
        return (X**2) @ self.w.T


def test_receptive_fields_of_lenet5_units():
    assert explain.receptive_field("C1", 0, 0) == (0, 0, 5, 5)
    assert explain.receptive_field("S2", 3, 1) == (6, 2, 12, 8)
    assert explain.receptive_field("C3", 2, 4) == (4, 8, 18, 22)
    assert explain.receptive_field("S4", 4, 4) == (16, 16, 32, 32)
    assert explain.receptive_field("C5", 0, 0) == (0, 0, 32, 32)
    with pytest.raises(ValueError, match="unknown layer 'F6'"):
        explain.receptive_field("F6", 0, 0)
    # C3's maps are 10x10: unit (20, 0) would be a box outside the 32x32 input
    with pytest.raises(ValueError, match=r"C3's maps are 10x10: i must be in 0..9, got 20"):
        explain.receptive_field("C3", 20, 0)
    assert explain.receptive_field("C3", 9, 9)[2:] == (32, 32)


@pytest.mark.parametrize("layer,channel,i,j", [("C1", 2, 0, 0), ("C1", 5, 23, 11),
                                               ("C3", 0, 0, 0), ("C3", 15, 9, 3),
                                               ("S4", 7, 2, 4), ("C5", 3, 0, 0)])
def test_receptive_field_matches_the_pixels_with_a_non_zero_gradient(layer, channel, i, j):
    torch.manual_seed(0)
    net, X = LeNet5(), torch.rand(1, 1, 32, 32)
    assert explain.gradient_box(net, X, layer, channel, i, j) == \
        explain.receptive_field(layer, i, j)


def test_shift_moves_whole_pixels_and_fills_with_zeros():
    X = torch.arange(1.0, 10.0).view(1, 1, 3, 3)
    assert explain.shift(X, 1, 0)[0, 0].tolist() == [[0, 0, 0], [1, 2, 3], [4, 5, 6]]
    assert explain.shift(X, 0, -2)[0, 0].tolist() == [[3, 0, 0], [6, 0, 0], [9, 0, 0]]
    assert torch.equal(explain.shift(X, 0, 0), X)
    assert explain.shift(X, 3, 0).sum() == 0


def test_rotate_by_0_is_the_identity_and_by_90_a_quarter_turn():
    X = torch.rand(2, 1, 6, 6)
    assert torch.allclose(explain.rotate(X, 0), X, atol=1e-6)
    turned = explain.rotate(X, 90)
    assert any(torch.allclose(turned, torch.rot90(X, k, (2, 3)), atol=1e-5) for k in (1, 3))


def test_shifted_and_rotated_accuracy_average_the_directions():
    torch.manual_seed(0)
    net, X = linear_net(torch.randn(10, 16)), torch.rand(40, 1, 4, 4)
    y = torch.randint(0, 10, (40,))

    def acc(images):
        return float((net(images).argmax(1) == y).float().mean())

    assert explain.shifted_accuracy(net, X, y, 0) == pytest.approx(acc(X))
    four = [acc(explain.shift(X, dy, dx)) for dy, dx in ((1, 0), (0, 1), (-1, 0), (0, -1))]
    assert explain.shifted_accuracy(net, X, y, 1) == pytest.approx(sum(four) / 4)
    two = [acc(explain.rotate(X, a)) for a in (10, -10)]
    assert explain.rotated_accuracy(net, X, y, 10) == pytest.approx(sum(two) / 2)


def test_robustness_table_and_the_stored_tables_and_plot():
    torch.manual_seed(0)
    net, X, y = LeNet5(), torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    table = explain.robustness_table({"a": (net, 2)}, X, y, shifts=range(2), angles=(0, 5))
    assert len(table["a"]["shift"]) == 2 and len(table["a"]["rotate"]) == 2
    assert table["a"]["shift"][0] == explain.accuracy_on(net, X, y, pad=2)
    rows = [{"status": "finished", "network": "mlp", "seed": s, "test_acc": 0.9 + s / 100,
             "shift": [0.9, 0.5 + s / 10], "rotate": [0.9, 0.8]} for s in range(3)]
    rows.append({"status": "diverged", "network": "mlp", "seed": 3})
    stored = explain.stored_robustness(rows, {"mlp": "MLP"})
    assert stored == {"MLP": {"shift": [r["shift"] for r in rows[:3]],
                              "rotate": [r["rotate"] for r in rows[:3]],
                              "test_acc": [0.9, 0.91, 0.92]}}
    text = explain.format_stored(stored, "shift", [0, 1], " px").splitlines()
    assert text[0].split() == ["shift", "MLP"]
    assert text[2].split() == ["1", "px", "60.0", "(50.0–70.0)"]
    axes = explain.plot_robustness(stored, [0, 1], [0, 5], live={"MLP": {"shift": [0.9, 0.6]}})
    assert len(axes) == 2 and len(axes[0].get_lines()) == 2 and axes[0].collections
    plt.close("all")


def test_show_reading_draws_five_panels_and_the_winner_visible():
    from lenet_nb.lenet5 import LeNet5
    from lenet_nb.lessons import draw
    from lenet_nb.models import get_model

    torch.manual_seed(0)
    image = np.full((280, 280), 255, np.uint8)
    image[40:240, 130:150] = 0
    reading = draw.read(image, LeNet5().eval(), get_model("d2l").eval())
    reading.distances = reading.distances.clone()
    reading.distances[reading.lenet5_digit] = 0.0  # a perfect match: a bar of length 0
    axes = explain.show_reading(reading)
    assert len(axes) == 5
    widths = [p.get_width() for p in axes[1].patches]
    assert min(widths) >= 0.03 * max(widths) > 0
    plt.close("all")


def test_random_shifts_moves_each_image_by_its_own_whole_pixels():
    X = torch.rand(50, 1, 6, 6)
    moved = explain.random_shifts(X, 2, torch.Generator().manual_seed(0))
    assert moved.shape == X.shape
    found = []
    for n in range(50):
        found.append([(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                      if torch.equal(moved[n:n + 1], explain.shift(X[n:n + 1], dy, dx))])
    assert all(len(f) == 1 for f in found)  # every image is one of the 25 shifts of itself
    assert len({f[0] for f in found}) > 10  # and they differ from image to image
    again = explain.random_shifts(X, 2, torch.Generator().manual_seed(0))
    assert torch.equal(again, moved)

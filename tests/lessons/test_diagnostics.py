import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from lenet_nb.lessons import diagnostics as dg  # noqa: E402
from lenet_nb.lessons import lr_sweep as sw  # noqa: E402
from lenet_nb.models import LeNet  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class Table(nn.Module):
    """Returns fixed logits per image: image i holds its index in pixel [0, 0, 0]."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, X):
        return self.logits[X[:, 0, 0, 0].long()]


def test_predict_proba_is_softmax_in_batches():
    torch.manual_seed(0)
    net, X = LeNet(), torch.rand(7, 1, 28, 28)
    p = dg.predict_proba(net, X, batch_size=3)
    with torch.no_grad():
        ref = torch.softmax(net(X), dim=1)
    assert torch.allclose(p, ref, atol=1e-6) and torch.allclose(p.sum(1), torch.ones(7))


def test_most_confident_mistakes_sorted_by_confidence():
    logits = torch.tensor([[5.0, 0, 0], [0, 1.0, 0], [0, 0, 9.0], [3.0, 0, 0], [0, 4.0, 0]])
    X = torch.arange(5.0).reshape(5, 1, 1, 1)
    y = torch.tensor([1, 1, 0, 0, 2])  # wrong: 0 (pred 0), 2 (pred 2), 4 (pred 1); 1, 3 right
    idx, y_hat, conf = dg.most_confident_mistakes(Table(logits), X, y, k=2)
    assert idx.tolist() == [2, 0] and y_hat.tolist() == [2, 0]
    ref = torch.softmax(logits, dim=1)
    assert conf.tolist() == pytest.approx([ref[2, 2].item(), ref[0, 0].item()])
    idx, _, _ = dg.most_confident_mistakes(Table(logits), X, y, k=10)
    assert idx.tolist() == [2, 0, 4]


def test_feature_maps_are_the_activations_after_c1_and_c3():
    torch.manual_seed(0)
    net, x = LeNet("relu", "max"), torch.rand(1, 28, 28)
    maps = dg.feature_maps(net, x)
    with torch.no_grad():
        assert torch.equal(maps["C1"], net[:2](x.unsqueeze(0))[0])
        assert torch.equal(maps["C3"], net[:5](x.unsqueeze(0))[0])
    assert maps["C1"].shape == (6, 28, 28) and maps["C3"].shape == (16, 10, 10)
    assert not net._forward_hooks and not any(m._forward_hooks for m in net.modules())


def test_feature_maps_need_two_convolutions():
    with pytest.raises(ValueError, match="two Conv2d"):
        dg.feature_maps(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), torch.rand(1, 28, 28))


def test_plots_return_one_axis_per_image():
    torch.manual_seed(0)
    net = LeNet()
    axes = dg.plot_filters(net)
    assert len(axes) == 6 and len({a.images[0].get_clim() for a in axes}) == 1
    assert any(a.get_ylabel() == "weight" for a in axes[0].figure.axes)  # the colour bar
    maps = dg.feature_maps(net, torch.rand(1, 28, 28))
    assert len(dg.plot_feature_maps(maps, "C3", num_cols=8)) == 16
    X, y = torch.rand(3, 1, 28, 28), torch.tensor([0, 1, 2])
    axes = dg.plot_mistakes(X, y, torch.tensor([2, 0]), torch.tensor([1, 1]),
                            torch.tensor([0.9, 0.8]), labels=list("abc"), num_cols=5)
    assert axes[0].get_title() == "c\nPred: b (0.90)" and len(axes) == 5


def test_weighted_layers_use_lenet_names_or_kind_and_position():
    assert [n for n, _ in dg.weighted_layers(LeNet())] == ["C1", "C3", "C5", "F6", "output"]
    tiny = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2))
    assert [n for n, _ in dg.weighted_layers(tiny)] == ["linear1", "linear2"]


def test_gradient_norms_equal_the_gradients_computed_by_hand():
    # softmax regression: d loss / d W = (softmax(XW^T + b) - onehot(y))^T X / N
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3))
    X, y = torch.randn(5, 4), torch.tensor([0, 2, 1, 2, 0])
    norms = dg.gradient_norms(net, X, y, nn.CrossEntropyLoss())
    with torch.no_grad():
        p = torch.softmax(net(X), dim=1)
        grad = (p - nn.functional.one_hot(y, 3).float()).T @ X / len(y)
    assert list(norms) == ["linear1"]
    assert norms["linear1"] == pytest.approx(grad.norm().item(), rel=1e-6)
    again = dg.gradient_norms(net, X, y, nn.CrossEntropyLoss())
    assert again == norms  # a fresh backward pass, not accumulated


def test_gradient_norms_of_a_two_layer_sigmoid_net_by_the_chain_rule():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid(), nn.Linear(2, 2))
    X, y = torch.randn(4, 3), torch.tensor([0, 1, 1, 0])
    norms = dg.gradient_norms(net, X, y, nn.CrossEntropyLoss())
    with torch.no_grad():
        a = torch.sigmoid(net[0](X))
        d_out = (torch.softmax(net[2](a), dim=1) - nn.functional.one_hot(y, 2).float()) / 4
        d_a = d_out @ net[2].weight * a * (1 - a)  # the sigmoid's slope a(1 - a) <= 0.25
        g1, g2 = d_a.T @ X, d_out.T @ a
    assert norms["linear1"] == pytest.approx(g1.norm().item(), rel=1e-5)
    assert norms["linear2"] == pytest.approx(g2.norm().item(), rel=1e-5)


def test_activations_are_the_outputs_after_each_weighted_layer():
    torch.manual_seed(0)
    net, X = LeNet("sigmoid"), torch.rand(3, 1, 28, 28)
    acts = dg.activations(net, X)
    assert list(acts) == ["C1", "C3", "C5", "F6"]
    with torch.no_grad():
        assert torch.equal(acts["C1"], net[:2](X))
        assert torch.equal(acts["C5"], net[:9](X))
        assert torch.equal(acts["F6"], net[:11](X))
    assert not any(m._forward_hooks for m in net.modules())


def test_gradient_norm_table_builds_each_net_from_the_same_seed():
    X, y = torch.rand(6, 1, 28, 28), torch.arange(6)
    table = dg.gradient_norm_table(X, y, activations=("sigmoid", "relu"), seed=2)
    ref = dg.gradient_norms(dg.lenet_at_init("relu", seed=2), X, y, nn.CrossEntropyLoss())
    assert table["relu"] == ref and list(table["sigmoid"]) == list(ref)
    assert dg.lenet_at_init("sigmoid", 2)[0].weight.equal(dg.lenet_at_init("relu", 2)[0].weight)


def test_probe_batch_is_the_first_training_images(tiny_root):
    X, y = dg.probe_batch(n=7, root=tiny_root)
    assert X.shape == (7, 1, 28, 28) and y.tolist() == list(range(7))
    assert 0.0 <= X.min() and X.max() <= 1.0


def test_activation_histograms_grid():
    acts = {"sigmoid": {"C1": torch.rand(10), "C3": torch.rand(10)},
            "relu": {"C1": torch.rand(10), "C3": torch.rand(10)}}
    axes = dg.plot_activation_histograms(acts)
    assert axes.shape == (2, 2) and axes[1][0].get_title() == "relu: after C1"


def test_lenet_at_init_with_pytorchs_default_weights():
    torch.manual_seed(3)
    default = LeNet("relu")
    net = dg.lenet_at_init("relu", seed=3, xavier=False)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), default.parameters()))
    assert not dg.lenet_at_init("relu", seed=3)[0].weight.equal(net[0].weight)  # Xavier


def test_init_scale_record_scales_every_parameter_before_measuring():
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(16, 1, 28, 28, generator=g), torch.arange(16) % 10
    net = dg.lenet_at_init("relu", seed=0, xavier=False)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(3.0)
        scores = net(X)
    record = dg.init_scale_record(3.0, X, y)
    assert record == {"scale": 3.0, "seed": 0,
                      "loss": float(nn.functional.cross_entropy(scores, y)),
                      "logit_std": float(scores.std())}
    # ReLU layers are linear for positive inputs: the scores grow much faster than the scale
    small, big = dg.init_scale_record(1.0, X, y), dg.init_scale_record(10.0, X, y)
    assert big["logit_std"] > 1000 * small["logit_std"] and big["loss"] > 10 * small["loss"]


# --- a short run of one's own -------------------------------------------------------------------


def test_a_short_run_records_its_settings_losses_and_validation_accuracy(monkeypatch):
    gen = torch.Generator().manual_seed(0)
    X, y = torch.rand(120, 1, 28, 28, generator=gen), torch.randint(0, 10, (120,), generator=gen)
    parts = sw.split_validation(X, y, 40, batch_size=256)
    monkeypatch.setattr(sw, "budget_data", lambda config: parts)  # read at call time
    record = dg.short_sgd_run(0.1, steps=7, num_train=50, num_val=30, seed=2, batch_size=16)
    assert record["settings"] == {"activation": "relu", "lr": 0.1, "steps": 7, "num_train": 50,
                                  "num_val": 30, "seed": 2, "batch_size": 16}
    assert len(record["losses"]) == 7 and not record["diverged"]  # 4 batches an epoch: 2 epochs
    assert 0 <= record["val_acc"] <= 1
    assert dg.short_sgd_run(0.1, steps=7, num_train=50, num_val=30, seed=2,
                            batch_size=16) == record  # seeded: the same record again
    blown = dg.short_sgd_run(1e6, steps=50, num_train=50, num_val=30, batch_size=16)
    assert blown["diverged"] and len(blown["losses"]) < 50
    assert not all(map(math.isfinite, blown["losses"]))

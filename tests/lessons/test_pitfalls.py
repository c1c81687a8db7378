import math
import os

import pytest
import torch
from torch import nn

from lenet_nb.data import TensorBatches
from lenet_nb.lessons import pitfalls
from lenet_nb.models import LeNet


def test_three_averages_on_a_tiny_example():
    correct, sizes = [10, 1], [10, 2]  # a full batch, then a last batch of 2 (1 right)
    assert pitfalls.accuracy_per_sample(correct, sizes) == 11 / 12
    assert pitfalls.accuracy_batch_mean(correct, sizes) == (1.0 + 0.5) / 2
    assert pitfalls.accuracy_full_batches(correct, sizes, 10) == 11 / 20


class Fixed(nn.Module):
    """Predicts class 0 for every image: right exactly where y == 0."""

    def forward(self, X):
        out = torch.zeros(len(X), 3)
        out[:, 0] = 1
        return out


def test_compare_accuracy_averaging_matches_hand_count():
    y = torch.tensor([0, 0, 1, 0, 2, 0, 0])  # batches of 3: [0,0,1] [0,2,0] [0]
    data = TensorBatches(torch.zeros(7, 1, 2, 2), y, batch_size=3)
    r = pitfalls.compare_accuracy_averaging(Fixed(), data)
    assert r["per_sample"] == 5 / 7
    assert r["batch_mean"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert r["full_batches"] == 5 / 9
    assert (r["num_batches"], r["last_batch"]) == (3, 1)


def test_averages_agree_when_batches_divide_the_data():
    y = torch.tensor([0, 1, 0, 0, 2, 0])
    r = pitfalls.compare_accuracy_averaging(Fixed(), TensorBatches(torch.zeros(6, 1, 2, 2), y, 3))
    assert r["per_sample"] == r["batch_mean"] == r["full_batches"] == 4 / 6


def _tiny_data(n, batch_size, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TensorBatches(torch.rand(n, 1, 28, 28, generator=g),
                         torch.randint(0, 10, (n,), generator=g), batch_size, shuffle=True)


def test_boyu_loop_evaluates_once_per_batch_and_learns_the_same():
    train_iter, test_iter = _tiny_data(40, 8), _tiny_data(16, 8, seed=1)
    torch.manual_seed(0)
    a = LeNet()
    b = LeNet()
    b.load_state_dict(a.state_dict())
    evals_bug, _, _ = pitfalls.train_epoch_boyu(a, train_iter, test_iter, 0.5, True)
    train_iter.generator.manual_seed(0)
    evals_ok, _, _ = pitfalls.train_epoch_boyu(b, _tiny_data(40, 8), test_iter, 0.5, False)
    assert (evals_bug, evals_ok) == (5, 1)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)  # the extra evaluations cost time, not accuracy


def test_eval_in_loop_cost_extrapolates_and_restores_the_net():
    train_iter, test_iter = _tiny_data(64, 8), _tiny_data(16, 8, seed=1)
    torch.manual_seed(0)
    net = LeNet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    r = pitfalls.eval_in_loop_cost(net, train_iter, test_iter, lr=0.5, num_batches=3)
    assert r["batches_per_epoch"] == 8
    assert r["epoch_buggy_s"] - r["epoch_fixed_s"] == pytest.approx(7 * r["seconds_per_eval"])
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k])


def test_double_softmax_floor_is_what_torch_computes_for_a_perfect_net():
    logits = torch.tensor([[100.0] + [0.0] * 9])
    loss = nn.functional.cross_entropy(torch.softmax(logits, dim=1), torch.tensor([0]))
    assert pitfalls.double_softmax_floor(10) == pytest.approx(loss.item(), abs=1e-6)
    assert pitfalls.double_softmax_floor(2) == pytest.approx(math.log(math.e + 1) - 1)


def test_softmax_before_the_loss_shrinks_gradients_of_confident_outputs():
    logits = torch.tensor([[8.0, 0.0, 0.0], [0.0, 8.0, 0.0]])
    y = torch.tensor([1, 1])  # first sample confidently wrong, second confidently right
    r = pitfalls.softmax_before_loss(logits, y)
    assert r["plain"][0] == pytest.approx(nn.functional.cross_entropy(logits, y).item())
    assert r["softmax"][0] >= pitfalls.double_softmax_floor(3) - 1e-6
    assert r["softmax"][1] < r["plain"][1] / 10  # the wrong answer barely gets corrected


def test_suggested_workers_never_exceed_the_cores():
    cores = os.cpu_count() or 1
    assert pitfalls.suggested_workers(4) == min(4, cores)
    assert pitfalls.suggested_workers(0) == 0


def test_too_many_workers_warn_and_none_do_not():
    ds = torch.utils.data.TensorDataset(torch.zeros(8, 1), torch.zeros(8))
    too_many = (os.cpu_count() or 1) + 1
    assert any("worker" in w for w in pitfalls.loader_warnings(ds, too_many, batch_size=4))
    assert pitfalls.loader_warnings(ds, 0, batch_size=4) == []


def test_a_shuffled_test_loader_changes_its_first_batch():
    ds = torch.utils.data.TensorDataset(torch.zeros(100, 1), torch.arange(100))
    fixed = torch.utils.data.DataLoader(ds, batch_size=10)
    shuffled = torch.utils.data.DataLoader(ds, batch_size=10, shuffle=True,
                                           generator=torch.Generator().manual_seed(0))
    assert pitfalls.first_labels(fixed) == pitfalls.first_labels(fixed) == list(range(10))
    assert pitfalls.first_labels(shuffled) != pitfalls.first_labels(shuffled)


def test_unsafe_load_runs_code_and_weights_only_refuses(tmp_path):
    path = tmp_path / "untrusted.pt"
    pitfalls.write_untrusted_checkpoint(path)
    ran, error = pitfalls.try_load(path, weights_only=False)
    assert ran and error is None
    ran, error = pitfalls.try_load(path, weights_only=True)
    assert not ran and "_record_call" in error


def test_loader_pass_visits_every_batch_and_stays_quiet(recwarn):
    seen = []

    class Counting(torch.utils.data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            seen.append(i)
            return torch.zeros(1), i

    assert pitfalls.loader_pass_seconds(Counting(), 0, batch_size=4) >= 0
    assert sorted(seen) == list(range(10))
    too_many = (os.cpu_count() or 1) + 1
    pitfalls.loader_pass_seconds(torch.utils.data.TensorDataset(torch.zeros(4, 1)), too_many, 2)
    assert not [w for w in recwarn if "worker" in str(w.message)]


def test_fit_one_batch_fits_a_plain_network_and_not_one_with_a_softmax():
    from lenet_nb.lessons.diagnostics import probe_batch
    from lenet_nb.models import LeNet

    X, y = probe_batch(32)
    torch.manual_seed(0)
    acc, loss = pitfalls.fit_one_batch(LeNet("relu", "max"), nn.CrossEntropyLoss(), X, y)
    assert acc == 1.0 and loss < 0.1
    torch.manual_seed(0)
    net = nn.Sequential(LeNet("relu", "max"), nn.Softmax(dim=1))
    acc, loss = pitfalls.fit_one_batch(net, nn.CrossEntropyLoss(), X, y)
    assert loss > pitfalls.double_softmax_floor(10) - 1e-6  # the floor holds whatever it learns
    with pytest.raises(ValueError, match="num_steps"):
        pitfalls.fit_one_batch(net, nn.CrossEntropyLoss(), X, y, num_steps=0)


def test_the_tutorials_evaluation_leaves_eval_mode_and_the_counter_sees_it():
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    data = pitfalls.demo_batches(64, batch_size=16)
    net.train()
    acc = pitfalls.evaluate_in_eval_mode(net, data)
    assert 0 <= acc <= 1 and not net.training  # left in eval mode, unlike evaluate_accuracy
    with pitfalls.ModeCounter(net) as modes:
        net(torch.zeros(1, 1, 28, 28))  # a training-like pass (gradients on) in eval mode
        net.train()
        net(torch.zeros(1, 1, 28, 28))
        with torch.no_grad():
            net(torch.zeros(1, 1, 28, 28))  # a check: not counted
    assert (modes.train_mode, modes.eval_mode) == (1, 1)
    net(torch.zeros(1, 1, 28, 28))
    assert (modes.train_mode, modes.eval_mode) == (1, 1)  # the hook is gone after the with


def test_demo_batches_are_fixed_real_images():
    a, b = pitfalls.demo_batches(64, 16), pitfalls.demo_batches(64, 16)
    assert len(a) == 4 and torch.equal(a.X, b.X) and a.X.shape == (64, 1, 28, 28)

"""The shared challenge scorer, on a toy challenge: 600 synthetic 28×28 images, 100 held out."""

import pytest
import torch
from torch import nn

from lenet_nb.course.experiments import run as run_experiment
from lenet_nb.exercises import challenge
from lenet_nb.exercises.checking import STUB, checker


def _toy_images(n=600, seed=0):
    """Class c: a bright 6×6 square in one of 10 places on faint noise (linearly separable)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    X = (torch.rand(n, 28, 28, generator=g) * 60).to(torch.uint8)
    for i, c in enumerate(y.tolist()):
        r, col = 2 + 12 * (c // 5), 1 + 5 * (c % 5)
        X[i, r:r + 6, col:col + 6] = 255
    return X, y


def _linear():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def toy_solution(X, y, seconds):
    """The toy's course solution: a linear layer, Adam, 60 full-batch steps."""
    net = _linear()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(60):
        opt.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        opt.step()
    return net


TOY = challenge.ChallengeSpec("toy_challenge", "toy", "toy set", target=0.9, budget=20.0,
                              solution=toy_solution, max_params=8_000, max_macs=10_000,
                              holdout=100, load=_toy_images, seeds=(0, 1))


@checker("toy_challenge")
def check_toy_challenge(train):
    return challenge.score(TOY, train)


@pytest.fixture
def full_mode(monkeypatch, tmp_path):
    """Full mode on the toy: a fixed machine speed, results stored in tmp_path."""
    monkeypatch.setenv("LENET_NB_QUICK", "0")
    monkeypatch.setattr(challenge, "machine_speed", lambda *a, **k: challenge.REFERENCE_SPEED)
    monkeypatch.setattr(challenge, "results_dir", tmp_path)
    return tmp_path


def test_split_indices_hold_out_a_seeded_disjoint_part():
    train, val = challenge.split_indices(50, 10, seed=3)
    assert len(val) == 10 and len(train) == 40
    assert sorted(torch.cat([train, val]).tolist()) == list(range(50))
    assert torch.equal(val, challenge.split_indices(50, 10, seed=3)[1])
    assert not torch.equal(val, challenge.split_indices(50, 10, seed=4)[1])
    with pytest.raises(ValueError, match="holdout"):
        challenge.split_indices(50, 50, seed=0)


def test_the_learner_gets_copies_of_the_training_part_only():
    seen = {}

    def train(X, y, seconds):
        seen["shape"], seen["seconds"] = tuple(X.shape), seconds
        X.zero_()  # a function that changes its input changes nothing the scorer keeps
        return toy_solution(X, y, seconds)

    X_before = challenge.challenge_data(TOY)[0].clone()
    check_toy_challenge(train)
    assert seen["shape"] == (500, 1, 28, 28)  # 600 - 100 held out (quick mode keeps <= 2,000)
    assert seen["seconds"] == challenge.QUICK_BUDGET
    assert torch.equal(challenge.challenge_data(TOY)[0], X_before)


def test_quick_mode_passes_a_valid_trained_network_without_a_target(capsys):
    verdict = check_toy_challenge(toy_solution)
    assert verdict, verdict
    assert "quick mode" in repr(verdict)
    out = capsys.readouterr().out
    assert "yours" in out and "course solution" in out and "not stored" in out


def test_a_stub_is_not_started(tmp_path):
    import importlib.util

    path = tmp_path / "stub_train.py"  # a file, so that the checker can read the source
    path.write_text(f"def train(X, y, seconds):\n    {STUB}\n")
    spec = importlib.util.spec_from_file_location("stub_train", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    verdict = check_toy_challenge(module.train)
    assert verdict.mark == "○", verdict


@pytest.mark.parametrize("train, clue", [
    (lambda X, y, s: _linear(), "did `train` return the network it trained?"),
    (lambda X, y, s: 0.93, "should return the trained network (an nn.Module), got float"),
    (lambda X, y, s: (toy_solution(X, y, s), 0.9), "got tuple"),
    (lambda X, y, s: nn.Flatten(), "no parameters"),
    (lambda X, y, s: nn.Linear(3, 10), "fails on one image of shape [1, 1, 28, 28]"),
])
def test_typical_failures_get_their_hint(train, clue):
    verdict = check_toy_challenge(train)
    assert verdict.mark == "✘" and clue in repr(verdict), verdict


def test_caps_name_the_cap_and_the_count():
    too_big = check_toy_challenge(lambda X, y, s: nn.Sequential(nn.Flatten(),
                                                                nn.Linear(784, 11)))
    assert "8,635 trainable parameters, the cap is 8,000" in repr(too_big), too_big
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 3))
    costly = check_toy_challenge(lambda X, y, s: conv)
    assert "the cap is 10,000 (per layer: 0 12,168, 2 4,056)" in repr(costly), costly


def test_nan_weights_and_a_diverged_fit_point_at_the_learning_rate():
    def nan(X, y, s):
        net = toy_solution(X, y, s)
        with torch.no_grad():
            net[1].weight[0, 0] = float("nan")
        return net

    class TrainingDiverged(ArithmeticError):
        pass

    def diverging(X, y, s):
        raise TrainingDiverged("the loss became nan in epoch 2")

    for train in (nan, diverging):
        verdict = check_toy_challenge(train)
        assert "lower the (peak) learning rate" in repr(verdict), verdict


def test_ctrl_c_is_reported_not_scored_and_threads_come_back():
    threads = torch.get_num_threads()

    def interrupted(X, y, s):
        assert torch.get_num_threads() == TOY.threads
        raise KeyboardInterrupt

    verdict = check_toy_challenge(interrupted)
    assert "interrupted: not scored" in repr(verdict), verdict
    assert torch.get_num_threads() == threads


def test_full_mode_scores_against_the_target_and_the_stored_solution(full_mode, capsys):
    ok = check_toy_challenge(toy_solution)
    assert ok and "≥ 0.9000" in repr(ok), ok
    assert "not stored: missing results" in capsys.readouterr().out

    run_experiment(TOY.experiment, results_dir=full_mode, log=lambda *a: None)
    rows, missing = challenge.stored_rows(TOY)
    assert missing is None and [r["seed"] for r in rows] == [0, 1]
    assert all(r["params"] == 7_850 and r["val_accuracy"] > 0.9 for r in rows)
    check_toy_challenge(toy_solution)
    out = capsys.readouterr().out
    assert "course solution (2 seeds, stored)" in out and "7,850" in out

    def weak_train(X, y, seconds):
        net = _linear()
        opt = torch.optim.SGD(net.parameters(), lr=1e-4)
        nn.functional.cross_entropy(net(X), y).backward()
        opt.step()
        return net

    weak = check_toy_challenge(weak_train)
    assert weak.mark == "✘" and "the target is 0.9000" in repr(weak), weak


def test_over_the_budget_here_is_named(full_mode, monkeypatch):
    ticks = iter([0.0, 100.0])
    monkeypatch.setattr(challenge, "clock", lambda: next(ticks))
    verdict = check_toy_challenge(toy_solution)
    assert "100.0 s of training, the budget here is 20.0 s" in repr(verdict), verdict


def test_the_budget_scales_with_the_machine_and_the_slower_measurement_counts(full_mode,
                                                                             monkeypatch):
    speeds = iter([challenge.REFERENCE_SPEED, challenge.REFERENCE_SPEED / 2])
    monkeypatch.setattr(challenge, "machine_speed", lambda *a, **k: next(speeds))
    ticks = iter([0.0, 30.0])  # over the 20 s given before, within the 40 s of the slower speed
    monkeypatch.setattr(challenge, "clock", lambda: next(ticks))
    assert check_toy_challenge(toy_solution)
    assert challenge.budget_here(TOY, challenge.REFERENCE_SPEED / 2) == 40.0
    assert challenge.budget_here(TOY, challenge.REFERENCE_SPEED / 100) == 80.0  # clamped at 4×
    assert challenge.budget_here(TOY, challenge.REFERENCE_SPEED * 100) == 5.0  # and at ¼
    assert challenge.reference_seconds(10.0, challenge.REFERENCE_SPEED * 2) == 20.0


def test_freeze_problems_apply_the_rule():
    def row(acc, seconds, params=7_850, load=0.5):
        return {"val_accuracy": acc, "ref_seconds": seconds, "params": params, "macs": 7_840,
                "load_avg": load}

    assert challenge.freeze_problems(TOY, [row(0.95, 10.0), row(0.906, 16.0)]) == []
    problems = challenge.freeze_problems(TOY, [row(0.95, 17.0), row(0.904, 3.0, 9_000)])
    assert len(problems) == 3, problems
    assert "0.9040 does not clear the target 0.9" in problems[0]
    assert "17.0 reference seconds" in problems[1] and "cap 8,000" in problems[2]
    assert challenge.freeze_problems(TOY, []) == ["no stored runs of the course solution"]
    # a run timed on a busy machine says nothing about the time: only quiet runs count for it
    assert challenge.freeze_problems(TOY, [row(0.95, 10.0), row(0.95, 30.0, load=9.0)]) == []
    assert challenge.freeze_problems(TOY, [row(0.95, 30.0, load=1.9)]) != []


def test_an_error_metric_is_scored_from_below():
    spec = challenge.ChallengeSpec("e", "toy", "toy set", target=0.02, budget=20.0,
                                   solution=toy_solution, metric="error", holdout=100,
                                   load=_toy_images)
    rows = [{"val_error": 0.012, "ref_seconds": 5.0, "params": 1, "macs": 1}]
    assert challenge.freeze_problems(spec, rows) == []
    assert challenge.freeze_problems(spec, [{**rows[0], "val_error": 0.0198}])
    with pytest.raises(ValueError, match="metric"):
        challenge.ChallengeSpec("e", "toy", "toy", 0.1, 1.0, toy_solution, metric="loss")


def test_machine_speed_and_mac_count():
    assert challenge.machine_speed(seconds=0.01) > 0
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 3))
    total, per_child = challenge.count_macs(net, torch.zeros(1, 1, 28, 28))
    assert per_child == {"0": 2 * 26 * 26 * 9, "2": 2 * 26 * 26 * 3}
    assert total == sum(per_child.values())

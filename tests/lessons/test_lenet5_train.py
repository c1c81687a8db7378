"""Chapter 5's recipe: distortions, model builders, seeded runs, the two stored experiments."""

import dataclasses

import pytest
import torch

from lenet_nb import experiments as xp
from lenet_nb.course import experiments as cx
from lenet_nb.data import TensorBatches
from lenet_nb.lenet5 import MAP_J, LeNet5, MAPLoss
from lenet_nb.lessons.lenet5_train import (
    DISTORT_EPOCHS,
    LENET5,
    LENET5_VALIDATION,
    LRS,
    NUM_EPOCHS,
    SETTINGS,
    Crop,
    Distorted,
    build,
    deviations_markdown,
    lenet5_data,
    make_optimizer,
    random_affine,
    train_lenet5,
)
from lenet_nb.train import TrainingInterrupted


def digit_batch():
    X = torch.zeros(4, 1, 32, 32)
    X[:, :, 8:24, 14:18] = 1.0  # a vertical bar, like a "1"
    return X


def test_random_affine_with_zero_strength_is_the_identity():
    X = digit_batch()
    out = random_affine(X, torch.Generator().manual_seed(0), scale=0, squeeze=0, shear=0,
                        shift=0)
    torch.testing.assert_close(out, X, atol=1e-5, rtol=0)


def test_random_affine_is_seeded_and_differs_per_image():
    X = digit_batch()
    a = random_affine(X, torch.Generator().manual_seed(0))
    b = random_affine(X, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert a.shape == X.shape
    assert not torch.allclose(a[0], a[1])  # each image draws its own map
    assert a.min() >= 0 and a.max() <= 1  # bilinear resampling stays in the pixel range


def test_random_affine_shift_moves_the_ink():
    X = digit_batch()
    g = torch.Generator().manual_seed(1)
    out = random_affine(X, g, scale=0, squeeze=0, shear=0, shift=3.0)
    cols = torch.arange(32.0)
    centre = (out[:, 0].sum(1) * cols).sum(1) / out[:, 0].sum((1, 2))
    assert (centre - 15.5).abs().max() <= 3.0 + 1e-4
    assert (centre - 15.5).abs().max() > 0.1


def test_distorted_wraps_batches_and_keeps_labels():
    base = TensorBatches(digit_batch(), torch.arange(4), batch_size=2)
    wrapped = Distorted(base, seed=0)
    assert len(wrapped) == 2
    batches = list(wrapped)
    assert [y.tolist() for _, y in batches] == [[0, 1], [2, 3]]
    assert not torch.equal(batches[0][0], digit_batch()[:2])


def test_build_gives_the_three_models_and_the_j_asked_for():
    net, loss, predict = build("lenet5", 0)
    assert isinstance(net, LeNet5) and isinstance(loss, MAPLoss) and predict is net.predict
    assert loss.j == MAP_J and build("lenet5", 0, j=1.0)[1].j == 1.0
    net, loss, _ = build("lenet5-softmax", 0)
    assert net.head == "softmax" and isinstance(loss, torch.nn.CrossEntropyLoss)
    net, _, predict = build("d2l", 0)
    assert predict is None and net(torch.rand(2, 1, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="'lenet5', 'lenet5-softmax' or 'd2l'"):
        build("lenet7", 0)
    assert set(LRS) == {"lenet5", "lenet5-softmax", "d2l"}


def test_build_is_seeded():
    a, _, _ = build("lenet5", 3)
    b, _, _ = build("lenet5", 3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_crop_removes_the_padding():
    assert Crop(2)(torch.rand(1, 1, 32, 32)).shape == (1, 1, 28, 28)


def test_deviations_table_states_j_the_learning_rate_and_the_budget():
    text = deviations_markdown()
    assert f"j = {MAP_J:g}" in text and f"peak rate {LRS['lenet5']}" in text
    assert f"{NUM_EPOCHS} epochs ({DISTORT_EPOCHS} with distortions)" in text
    assert "judged by test error" in text  # the rate's choice is not hidden
    assert all(line.count("|") == 5 for line in text.splitlines())


def test_make_optimizer_passes_weight_decay_and_builds_one_cycle():
    net, _, _ = build("lenet5", 0)
    optimizer, scheduler = make_optimizer("lenet5", net, 0.01, 2, 5, weight_decay=5e-4)
    group = optimizer.param_groups[0]
    assert group["weight_decay"] == 5e-4 and group["nesterov"]
    assert group["momentum"] == 0.95  # one-cycle cycles momentum: 0.95 at the start, 0.85 at peak
    assert isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR)
    assert scheduler.total_steps == 10
    d2l_net, _, _ = build("d2l", 0)
    d2l_opt, none = make_optimizer("d2l", d2l_net, 0.9, 2, 5)
    assert none is None and d2l_opt.param_groups[0]["weight_decay"] == 0.0


@pytest.fixture
def tiny_mnist(tiny_root, monkeypatch):
    """50 training and 20 test images of noise, as the MNIST files."""
    monkeypatch.setenv("LENET_NB_DATA", str(tiny_root))
    return tiny_root


def test_train_lenet5_runs_and_repeats_exactly(tiny_mnist):
    a = train_lenet5("lenet5", seed=0, num_epochs=2, batch_size=16, distort=True)
    b = train_lenet5("lenet5", seed=0, num_epochs=2, batch_size=16, distort=True)
    assert len(a.history) == 2 and a.name == "lenet5 + distortions"
    assert a.history.train_loss == b.history.train_loss
    assert 0 <= a.test_error <= 1 and a.errors[-1] == a.test_error


def test_an_interrupted_run_is_not_returned(tiny_mnist, ctrl_c_in_epoch):
    """Issue 19 item 2: a Ctrl-C in epoch 2 of 3 gave Run(num_epochs=3) with epoch 1's error."""
    ctrl_c_in_epoch(2)
    with pytest.raises(TrainingInterrupted) as stop:
        train_lenet5("lenet5", seed=0, num_epochs=3, batch_size=16)
    assert len(stop.value.history) == 1 and stop.value.history.planned_epochs == 3


@pytest.mark.parametrize("num_epochs", [0, "3", 2.5])
def test_num_epochs_is_checked_before_the_schedule_is_built(num_epochs):
    with pytest.raises(ValueError, match="num_epochs must be an integer >= 1"):
        train_lenet5("lenet5", num_epochs=num_epochs)


def test_stop_after_trains_the_first_epochs_of_the_full_schedule(tiny_mnist):
    """A live run of k epochs equals the first k epochs of the stored full run of its seed."""
    full = train_lenet5("lenet5", seed=1, num_epochs=3, batch_size=16)
    short = train_lenet5("lenet5", seed=1, num_epochs=3, batch_size=16, stop_after=2)
    assert short.num_epochs == 2 and len(short.history) == 2
    assert short.history.train_loss == full.history.train_loss[:2]
    assert short.errors == full.errors[:2]
    # a run of 2 epochs with its own 2-epoch schedule is another run
    own = train_lenet5("lenet5", seed=1, num_epochs=2, batch_size=16)
    assert own.history.train_loss != short.history.train_loss
    with pytest.raises(ValueError, match="must not exceed num_epochs"):
        train_lenet5("lenet5", num_epochs=2, stop_after=3)


def test_the_validation_split_holds_out_training_images_and_never_reads_the_test_set(tiny_mnist):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tiny_mnist / "MNIST" / "raw" / name).unlink()  # the test set is not there at all
    train_iter, val_iter = lenet5_data(8, split="validation", holdout=10)
    assert train_iter.num_samples == 40 and val_iter.num_samples == 10
    assert train_iter.X.shape[1:] == (1, 32, 32)
    again = lenet5_data(8, seed=5, split="validation", holdout=10)[1]
    assert torch.equal(val_iter.X, again.X)  # the split does not depend on the run's seed
    run = train_lenet5("lenet5", num_epochs=1, batch_size=8, split="validation", holdout=10)
    assert len(run.errors) == 1
    with pytest.raises(ValueError, match="'test' or 'validation'"):
        lenet5_data(8, split="train")


def test_the_experiments_list_their_runs():
    assert [s["run"] for s in LENET5.specs()][:3] == [
        "setting=lenet5,seed=0", "setting=lenet5,seed=1", "setting=lenet5,seed=2"]
    assert len(LENET5.specs()) == 3 * len(SETTINGS) == 15
    assert {s["setting"] for s in LENET5.specs()} == set(SETTINGS)
    # the distorted run and the plain run it is compared with have the same budget
    assert SETTINGS["lenet5-distorted"]["epochs"] == SETTINGS["lenet5-30"]["epochs"]
    assert not SETTINGS["lenet5-30"]["distort"]
    assert [(s["j"], s["seed"]) for s in LENET5_VALIDATION.specs()][:4] == [
        (1.0, 0), (1.0, 1), (1.0, 2), (5.0, 0)]
    js = LENET5_VALIDATION.config["js"]
    assert min(js) < MAP_J < max(js), "the sweep brackets the j the chapter uses"
    assert LENET5.chapter == LENET5_VALIDATION.chapter == "lenet5_paper"


@pytest.mark.parametrize("exp", [LENET5, LENET5_VALIDATION], ids=lambda e: e.name)
def test_each_experiment_runs_end_to_end_into_a_results_file(exp, tiny_mnist, tmp_path,
                                                             monkeypatch):
    """The real run functions on tiny data: one epoch, one seed, stored and loaded back."""
    monkeypatch.setenv("LENET_NB_QUICK", "0")
    config = dict(exp.config, seeds=[0], holdout=10)
    if "settings" in config:
        config["settings"] = {k: dict(v, epochs=2 if v["epochs"] > NUM_EPOCHS else 1)
                              for k, v in config["settings"].items()}
    else:
        config["epochs"] = 1
    tiny = dataclasses.replace(exp, config=config)
    cx.run(tiny, results_dir=tmp_path, log=lambda m: None)
    rows = xp.load(tiny, tmp_path)
    assert len(rows) == len(tiny.specs())
    for row in rows:
        assert row["status"] == "finished", row
        epochs = (config["settings"][row["setting"]]["epochs"] if "setting" in row else 1)
        assert len(row["error"]) == len(row["train_loss"]) == epochs
        assert all(0 <= e <= 1 for e in row["error"])

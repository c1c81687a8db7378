import dataclasses

import pytest
import torch

from lenet_nb.lessons import recipes
from lenet_nb.lessons.recipes import (
    QUICK_SUBSET,
    RECIPES,
    Recipe,
    build_net,
    get_recipe,
    make_optimizer,
    make_scheduler,
    run_recipe,
)
from lenet_nb.models import init_xavier
from lenet_nb.train import TrainingInterrupted, load_checkpoint


def test_recipes_carry_the_seeds_settings_and_numbers():
    d2l = get_recipe("d2l")
    assert (d2l.model, d2l.dataset, d2l.optimizer, d2l.lr, d2l.batch_size, d2l.num_epochs,
            d2l.init, d2l.reported) == ("d2l", "FashionMNIST", "sgd", 0.9, 256, 10, "xavier",
                                        0.779)
    s1 = get_recipe("learn14")
    assert (s1.model, s1.optimizer, s1.lr, s1.batch_size, s1.num_epochs, s1.reported) == (
        "learn14", "adam", 0.01, 64, 5, 0.874)
    s2 = get_recipe("mnist-intro")
    # the MNIST intro creates StepLR(10, 0.1) but never steps it: its lr stays 1e-3
    assert (s2.model, s2.dataset, s2.optimizer, s2.lr, s2.momentum, s2.scheduler,
            s2.batch_size, s2.num_epochs, s2.keep_best, s2.reported) == (
        "mylenet5", "MNIST", "sgd", 1e-3, 0.9, None, 16, 20, True, 0.9792)
    for name in ("modern-fashion", "modern-mnist"):
        assert get_recipe(name).model_kw == {"activation": "relu", "pooling": "max"}


def test_unknown_recipe_names_the_valid_ones():
    with pytest.raises(ValueError, match="mnist-intro"):
        get_recipe("seed-002")


@pytest.mark.parametrize("field,value", [("optimizer", "rmsprop"), ("scheduler", "cosine"),
                                         ("dataset", "CIFAR10")])
def test_recipe_rejects_unknown_choices(field, value):
    kw = dict(name="x", source="x", model="d2l", dataset="MNIST", optimizer="sgd", lr=0.1,
              batch_size=8, num_epochs=1)
    kw[field] = value
    with pytest.raises(ValueError, match=field):
        Recipe(**kw)


def test_build_net_is_seeded_and_applies_xavier():
    a, b = build_net(get_recipe("d2l"), seed=3), build_net(get_recipe("d2l"), seed=3)
    torch.manual_seed(3)
    ref = init_xavier(recipes.get_model("d2l"))
    for pa, pb, pr in zip(a.parameters(), b.parameters(), ref.parameters()):
        assert torch.equal(pa, pb) and torch.equal(pa, pr)


def test_optimizers_follow_the_recipe():
    net = build_net(get_recipe("mnist-intro"))
    opt = make_optimizer(get_recipe("mnist-intro"), net.parameters())
    assert isinstance(opt, torch.optim.SGD)
    assert opt.defaults["lr"] == 1e-3 and opt.defaults["momentum"] == 0.9
    assert isinstance(make_optimizer(get_recipe("learn14"), net.parameters()), torch.optim.Adam)
    opt = make_optimizer(get_recipe("modern-fashion"), net.parameters())
    assert isinstance(opt, torch.optim.AdamW) and opt.defaults["weight_decay"] == 0.05


def test_step_scheduler_divides_lr_by_ten_every_ten_epochs():
    r = dataclasses.replace(get_recipe("mnist-intro"), scheduler="step", step_size=10, gamma=0.1)
    opt = make_optimizer(r, build_net(r).parameters())
    sched, per_batch = make_scheduler(r, opt, steps_per_epoch=5, num_epochs=20)
    assert not per_batch
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:10] == [1e-3] * 10
    assert lrs[10:] == pytest.approx([1e-4] * 10)


def test_one_cycle_is_stepped_per_batch_and_peaks_at_the_recipe_lr():
    r = get_recipe("modern-mnist")
    opt = make_optimizer(r, build_net(r).parameters())
    sched, per_batch = make_scheduler(r, opt, steps_per_epoch=4, num_epochs=3)
    assert per_batch
    lrs = []
    for _ in range(12):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert max(lrs) == pytest.approx(r.lr, rel=0.05) and lrs[0] < r.lr / 10
    assert make_scheduler(get_recipe("d2l"), opt, 4, 3) == (None, False)


def _numbers(history):
    return [(h["train_loss"], h["train_acc"], h["test_acc"]) for h in history]


def test_run_recipe_quick_mode_shrinks_and_repeats_exactly():
    a = run_recipe("learn14")
    b = run_recipe("learn14")
    assert a.num_epochs == 1 and len(a.history) == 1
    assert a.train_iter.num_samples == QUICK_SUBSET[0]
    assert a.test_iter.num_samples == QUICK_SUBSET[1]
    assert _numbers(a.history) == _numbers(b.history)
    assert a.result == a.final_test_acc  # Learn PyTorch (14) reports its last epoch


def test_keep_best_recipe_needs_a_checkpoint_and_reloads_the_best(tmp_path):
    with pytest.raises(ValueError, match="checkpoint"):
        run_recipe("mnist-intro")
    path = tmp_path / "best.pt"
    run = run_recipe("mnist-intro", num_epochs=3, subset=(320, 160), checkpoint=path,
                     num_val=100)
    assert run.train_iter.num_samples == 220 and run.val_iter.num_samples == 100
    best = run.history.best_epoch("val_acc")
    assert run.best_epoch == best and run.result == run.history.test_acc[best - 1]
    assert run.test_selected_acc == max(run.history.test_acc) >= run.result
    net = build_net(get_recipe("mnist-intro"), seed=99)
    extra = load_checkpoint(net, path)
    assert extra["epoch"] == best and extra["val_acc"] == max(run.history.val_acc)


def test_zero_epochs_are_refused_before_the_data_are_loaded(monkeypatch):
    monkeypatch.setattr(recipes, "load_recipe_data", None)  # never reached
    with pytest.raises(ValueError, match="num_epochs must be an integer >= 1"):
        run_recipe("modern-fashion", num_epochs=0)


def test_an_interrupted_recipe_run_is_not_returned(ctrl_c_in_epoch):
    """Issue 19 item 2: a Ctrl-C in epoch 2 of 2 gave a RecipeRun reporting 2 epochs."""
    ctrl_c_in_epoch(2)
    with pytest.raises(TrainingInterrupted) as stop:
        run_recipe("learn14", num_epochs=2, subset=(128, 64))
    assert len(stop.value.history) == 1 and stop.value.history.interrupted


def test_validation_split_is_the_same_for_every_seed_and_disjoint_from_training():
    a = run_recipe("learn14", subset=(300, 100), num_val=50, seed=0)
    b = run_recipe("learn14", subset=(300, 100), num_val=50, seed=1)
    assert torch.equal(a.val_iter.X, b.val_iter.X)  # one split, whatever the training seed
    seen = {tuple(x.flatten().tolist()) for x in a.train_iter.X}
    assert not any(tuple(x.flatten().tolist()) in seen for x in a.val_iter.X)
    assert a.train_iter.num_samples + a.val_iter.num_samples == 300
    assert a.history[0].keys() >= {"val_acc", "test_acc"}
    c = run_recipe("mnist-intro", num_epochs=1, subset=(300, 100), num_val=50, scheduler="step",
                   keep_best=False)
    assert c.recipe.scheduler == "step" and c.recipe.name == "mnist-intro"


def test_training_one_epoch_per_fit_call_gives_the_same_numbers():
    seen = []

    def after_epoch(epoch, net, record):
        seen.append((epoch, record["epoch"]))
        return {"extra": epoch * 10}

    kw = dict(num_epochs=3, subset=(600, 100), num_val=100, seed=2, scheduler="onecycle")
    whole = run_recipe("modern-fashion", **kw)
    by_epoch = run_recipe("modern-fashion", after_epoch=after_epoch, **kw)
    assert _numbers(by_epoch.history) == _numbers(whole.history)
    assert by_epoch.history.val_acc == whole.history.val_acc
    assert seen == [(1, 1), (2, 2), (3, 3)]
    assert by_epoch.history.column("extra") == [10, 20, 30]


def test_after_epoch_cannot_keep_the_best_epoch(tmp_path):
    with pytest.raises(ValueError, match="checkpoint=None"):
        run_recipe("mnist-intro", num_epochs=1, subset=(300, 100), num_val=100,
                   checkpoint=tmp_path / "b.pt", after_epoch=lambda *a: None)


def test_the_d2l_page_recipe_says_what_was_assumed():
    page = get_recipe("d2l-page")
    assert (page.optimizer, page.init, page.lr) == ("sgd", None, 0.01)
    assert "assumed" in page.source and "assumed" in page.reported_note


def test_every_recipe_builds_a_net_that_fits_its_data():
    X = torch.zeros(2, 1, 28, 28)
    for r in RECIPES.values():
        assert build_net(r)(X).shape == (2, 10)

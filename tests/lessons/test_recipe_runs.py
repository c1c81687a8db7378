"""The stored recipe experiments: what one run returns, the MNIST intro's shared first epochs,
and the tables and lines the chapter prints from hand-made rows."""

import pytest

from lenet_nb.lessons import recipe_runs as rr
from lenet_nb.lessons.recipes import RECIPES, run_recipe


def test_the_configuration_holds_every_setting_of_every_recipe():
    config = rr.RECIPE_RUNS.config
    assert list(config["recipes"]) == list(rr.FASHION) and config["seeds"] == [0, 1, 2]
    d2l = config["recipes"]["d2l"]
    assert (d2l["lr"], d2l["batch_size"], d2l["num_epochs"], d2l["init"]) == (0.9, 256, 10,
                                                                              "xavier")
    assert "reported" not in d2l and "source" not in d2l  # text, not settings
    assert len(rr.RECIPE_RUNS.specs()) == 15 and len(rr.MNIST_INTRO.specs()) == 3
    assert all(s["threads"] == 1 for s in rr.MNIST_INTRO.specs())


def test_a_recipe_run_returns_its_curves():
    out = rr.recipe_run(rr.RECIPE_RUNS.config, {"recipe": "learn14", "seed": 0})
    again = run_recipe("learn14", seed=0, progress=False, live=False)
    assert out["test_acc"] == again.history.test_acc  # quick mode: one epoch, same numbers
    assert set(out) == {"train_loss", "train_acc", "test_acc"}


def _intro_config(**changes):
    recipe = {**rr.MNIST_INTRO.config["recipe"], "num_epochs": 4, "step_size": 2, "lr": 0.05,
              "model_kw": {"activation": "relu"}, **changes}
    return {**rr.MNIST_INTRO.config, "recipe": recipe, "num_val": 100}


def test_the_mnist_intro_branches_equal_two_separate_runs():
    # a larger rate and ReLU so that four quick epochs learn and the two schedules differ
    out = rr.mnist_intro_run(_intro_config(), {"seed": 1})
    kw = dict(num_epochs=4, seed=1, num_val=100, keep_best=False, step_size=2, lr=0.05,
              model_kw={"activation": "relu"}, progress=False, live=False)
    constant = run_recipe("mnist-intro", **kw).history
    stepped = run_recipe("mnist-intro", scheduler="step", **kw).history
    assert out["test_acc"] == constant.test_acc and out["val_acc"] == constant.val_acc
    assert out["train_loss"] == constant.train_loss
    assert out["test_acc_steplr"] == stepped.test_acc
    assert out["val_acc_steplr"] == stepped.val_acc
    assert out["test_acc"][:2] == out["test_acc_steplr"][:2]
    assert out["test_acc"][2:] != out["test_acc_steplr"][2:]


def _row(recipe, seed, test, train=None, wall=10.0, **more):
    return {"run": f"recipe={recipe},seed={seed}", "recipe": recipe, "seed": seed,
            "status": "finished", "test_acc": test, "train_acc": train or test,
            "wall_seconds": wall, "cpu": "CPU", "cpu_capability": "AVX2", "torch": "2.x",
            "threads": 2, "commit": "abcdef0123", "dirty": "no", **more}


def test_the_recipes_table_sets_mean_and_range_beside_the_source():
    rows = [_row("d2l", s, [0.1, 0.5, v]) for s, v in enumerate((0.78, 0.80, 0.79))]
    intro = [{**_row("x", s, [0.90, 0.95, 0.93], wall=60.0), "val_acc": [0.91, 0.96, 0.97]}
             for s in range(3)]
    lines = rr.recipes_table(rows, intro).splitlines()
    assert lines[2] == ("| d2l | FashionMNIST | 10 | 0.7790 | 0.7900 (0.7800–0.8000) | 10 |")
    # the MNIST intro: the test accuracy of the epoch chosen on validation (epoch 3, 0.93)
    assert lines[3].startswith("| mnist-intro | MNIST | 20 (best on validation) | 0.9792 | "
                               "0.9300 (0.9300–0.9300) | 60 |")
    assert "3 stored runs, 0 min in all, on CPU (AVX2), torch 2.x, 2 thread(s); commit " \
           "abcdef0" == rr.provenance_line(rows)


def test_plateau_and_per_epoch_lines_come_from_the_rows():
    rows = [_row("d2l", s, [0.1, 0.1, 0.6], train=[0.1, 0.15 + s / 10, 0.7]) for s in range(3)]
    rows += [_row("d2l-page", s, [0.1] * 3, train=[0.1] * 3) for s in range(3)]
    assert rr.plateau_lines(rows) == [
        "d2l: mean training accuracy passes 0.2 (twice chance) in epoch 2 of 3",
        "d2l-page: mean training accuracy passes 0.2 (twice chance) in none of its 3 epochs"]
    assert rr.per_epoch_line(rows, "d2l") == ("d2l, mean test acc per epoch: 0.100 0.100 0.600; "
                                              "last epoch over 3 seeds: 0.600 (0.600–0.600)")


def test_the_intro_table_shows_how_much_choosing_on_test_overstates():
    rows = [{"seed": 0, "val_acc": [0.90, 0.95, 0.94], "test_acc": [0.91, 0.93, 0.96]},
            {"seed": 1, "val_acc": [0.90, 0.92, 0.99], "test_acc": [0.90, 0.92, 0.97]}]
    lines = rr.intro_table(rows).splitlines()
    assert lines[2] == "| 0 | 2 | 0.9300 | 3 | 0.9600 | +0.0300 |"
    assert lines[3] == "| 1 | 3 | 0.9700 | 3 | 0.9700 | +0.0000 |"
    assert lines[4].endswith("| 0.0150 (0.0000–0.0300) |")


@pytest.mark.parametrize("stepped, verdict", [([0.5, 0.6, 0.7], "ranges separate"),
                                              ([0.95, 0.9, 0.99], "ranges overlap")])
def test_the_steplr_line_claims_only_where_ranges_separate(stepped, verdict):
    rows = [{"test_acc": [0.9, v], "test_acc_steplr": [0.9, w]}
            for v, w in zip((0.97, 0.98, 0.96), stepped)]
    assert verdict in rr.steplr_line(rows)


def test_plot_recipes_draws_one_panel_per_recipe():
    rows = [_row(name, s, [0.1, 0.5, 0.8]) for name in ("d2l", "learn14") for s in range(3)]
    intro = [{"test_acc": [0.9, 0.95], "test_acc_steplr": [0.9, 0.96]} for _ in range(3)]
    axes = rr.plot_recipes(rows, intro)
    titles = [ax.get_title() for ax in axes.flat if ax.get_visible()]
    assert titles == ["d2l", "learn14", "mnist-intro", "mnist-intro, StepLR stepped"]


def test_recipe_settings_mirror_the_recipes():
    for name in rr.FASHION:
        settings = rr.recipe_settings(name)
        assert rr.recipe_from(name, settings) == RECIPES[name]


def test_replay_plays_back_a_stored_run_epoch_by_epoch():
    row = {"val_acc": [0.5, 0.7, 0.6], "test_acc": [0.55, 0.66, 0.77]}
    net, train_one_epoch, evaluate, val_iter, test_iter, num_epochs = rr.replay(row)
    assert num_epochs == 3
    train_one_epoch(net)
    train_one_epoch(net)
    assert evaluate(net, val_iter) == 0.7 and evaluate(net, test_iter) == 0.66


def test_stored_or_note_gives_the_rows_or_says_what_is_missing(tmp_path, capsys):
    exp = rr.RECIPE_RUNS
    assert rr.stored_or_note(exp, tmp_path) is None
    said = capsys.readouterr().out
    assert said.startswith("recipes: no stored results to show here.")
    assert "recipes.csv does not exist" in said and "run recipes" in said


def test_beside_stored_places_a_value_or_says_there_is_nothing_to_compare():
    assert rr.beside_stored(0.85, []) == "0.850: no stored runs to compare with"
    assert rr.beside_stored(0.85, [0.84, 0.86]) == "0.850: inside the stored range 0.840–0.860"
    assert rr.beside_stored(0.8, [0.84, 0.86], digits=2) == (
        "0.80: outside, 0.04 below the stored range 0.84–0.86")


def test_plateau_epoch_is_the_first_epoch_above_the_threshold():
    assert rr.plateau_epoch([0.1, 0.2, 0.21, 0.5]) == 3  # 0.2 itself has not passed
    assert rr.plateau_epoch([0.1, 0.1]) is None
    assert rr.plateau_epoch([0.6], threshold=0.5) == 1


def test_kept_epochs_takes_the_earlier_of_tied_epochs():
    row = {"val_acc": [0.9, 0.95, 0.95, 0.94], "test_acc": [0.91, 0.92, 0.96, 0.97]}
    assert rr.kept_epochs(row, "val_acc") == (2, 0.92)
    assert rr.kept_epochs(row, "test_acc") == (4, 0.97)

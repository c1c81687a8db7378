"""The one-change-at-a-time ladder: cumulative fields, eval-mode training accuracy, an honest
table and verdicts generated from the rows."""

import pytest
import torch

from lenet_nb.lessons import ablation, grid
from lenet_nb.lessons.recipes import get_recipe, prepare_recipe
from lenet_nb.train import TrainingInterrupted, evaluate_accuracy


def test_each_step_adds_one_change_to_the_previous():
    steps = ablation.ladder_changes()
    assert steps[0] == ("d2l", {})
    for (_, before), (_, after) in zip(steps, steps[1:]):
        changed = {k for k in after if before.get(k) != after[k]}
        if "optimizer" in changed:
            changed.discard("lr")  # a new optimizer comes with its own learning rate
        assert len(changed) == 1, changed  # one change per step
    last = steps[-1][1]
    modern = get_recipe("modern-fashion")
    for key in ("optimizer", "lr", "weight_decay", "scheduler", "model_kw"):
        assert last[key] == getattr(modern, key)  # the ladder ends at the modern recipe's choices
    assert ablation.step_fields("max") == {"optimizer": "adamw", "lr": 0.01,
                                           "model_kw": {"activation": "relu", "pooling": "max"}}
    with pytest.raises(ValueError, match="onecycle"):
        ablation.step_fields("one-cycle")


def test_the_ladder_shares_the_sgd_budget():
    config = ablation.LADDER.config
    assert (config["epochs"], config["num_val"], config["base"]["batch_size"]) == (12, 10_000,
                                                                                   256)
    assert config["seeds"] == [0, 1, 2] and len(ablation.LADDER.specs()) == 18


def _small(**changes):
    return {**ablation.LADDER.config, "num_val": 100, **changes}


def test_a_ladder_run_measures_training_accuracy_in_eval_mode_without_moving_the_order():
    out = ablation.ladder_run(_small(), {"step": "max", "seed": 0}, num_epochs=2,
                              subset=(500, 100))
    assert set(out) == {"val_acc", "test_acc", "train_acc_eval", "train_loss"}
    assert all(len(v) == 2 for v in out.values())
    # the same run by hand: the last eval-mode training accuracy is that of the final weights,
    # and evaluating between epochs did not change the batches (same validation curve)
    recipe = ablation.recipe_from("d2l", _small()["base"], **ablation.step_fields("max"),
                                  keep_best=False)
    setup = prepare_recipe(recipe, 2, (500, 100), 0, 100)
    from lenet_nb.lessons.recipes import fit_setup

    history = fit_setup(setup, progress=False, live=False)
    assert history.val_acc == out["val_acc"]
    assert evaluate_accuracy(setup.net, setup.train_iter) == pytest.approx(
        out["train_acc_eval"][-1])


def test_the_first_step_is_the_grids_sigmoid_average_cell_at_the_same_rate():
    history = grid.train_setting(grid.GRID.config, "sigmoid", "avg", 1, 0.9, num_epochs=2)
    # quick mode trains the grid on a small slice: the ladder's step on the same slice
    ladder = ablation.ladder_run(_small(num_val=grid.QUICK["num_val"]), {"step": "d2l", "seed": 1},
                                 num_epochs=2, subset=grid.QUICK["subset"])
    assert ladder["val_acc"] == history.val_acc and ladder["test_acc"] == history.test_acc


def test_an_interrupted_ladder_run_stops_and_returns_nothing(ctrl_c_in_epoch):
    started = ctrl_c_in_epoch(2)  # Ctrl-C in the second epoch: the run raises, no curves
    with pytest.raises(TrainingInterrupted):
        ablation.ladder_run(_small(), {"step": "d2l", "seed": 0}, num_epochs=2,
                            subset=(500, 100))
    assert len(started) == 2


def test_the_eval_mode_accuracy_needs_in_memory_batches():
    with pytest.raises(ValueError, match="TensorBatches"):
        ablation.train_accuracy_in_eval_mode([(torch.zeros(1, 1, 28, 28), torch.zeros(1))])


def _rows(values):
    """Stored-like rows: per step, per seed, a two-epoch curve ending at the given numbers."""
    rows = []
    for key, (vals, trains) in values.items():
        for seed, (v, t) in enumerate(zip(vals, trains)):
            rows.append({"run": f"step={key},seed={seed}", "step": key, "seed": seed,
                         "status": "finished", "val_acc": [0.1, v], "train_acc_eval": [0.1, t]})
    return rows


def test_table_and_verdicts_claim_only_where_ranges_separate():
    rows = ablation.ladder_rows(_rows({
        "d2l": ([0.5, 0.6, 0.55], [0.6, 0.7, 0.65]),
        "adam": ([0.7, 0.8, 0.75], [0.8, 0.9, 0.85]),
        "relu": ([0.75, 0.85, 0.8], [0.9, 0.9, 0.9])}))
    assert [r["step"] for r in rows] == [ablation.LABELS[k] for k in ("d2l", "adam", "relu")]
    lines = ablation.ladder_table(rows).splitlines()
    assert "3 seeds" in lines[0] and "eval mode" in lines[0]
    assert lines[2].endswith("| – |") and lines[3].endswith("| yes |")
    assert lines[4].endswith("| no |")
    assert "0.550 (0.500–0.600)" in lines[2] and "0.100 (0.100–0.100)" in lines[2]
    verdicts = ablation.ladder_verdicts(rows)
    assert verdicts[0] == ("optimizer: Adam lr 0.01: val acc +0.200 (larger than the seed "
                           "noise); train − val gap 0.100 -> 0.100")
    assert verdicts[1].startswith("activation: ReLU: val acc +0.050 (ranges overlap: no claim)")
    # an earlier epoch can be read too
    assert ablation.ladder_rows(_rows({"d2l": ([0.5], [0.6])}), epoch=1)[0]["val_acc"] == [0.1]


def test_a_diverged_seed_is_left_out_of_the_row():
    rows = _rows({"d2l": ([0.5, 0.6], [0.6, 0.7])})
    rows[1] = {**rows[1], "status": "diverged", "val_acc": None, "train_acc_eval": None}
    (row,) = ablation.ladder_rows(rows)
    assert row["seeds"] == [0] and row["val_acc"] == [0.5]

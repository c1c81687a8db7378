"""The one-change-at-a-time ladder: cumulative fields, one run per seed, an honest table."""

import pytest

from lenet_nb.lessons import ablation
from lenet_nb.lessons.recipes import get_recipe
from lenet_nb.train import TrainingInterrupted


def test_each_step_adds_one_change_to_the_previous():
    steps = ablation.ladder_changes()
    assert steps[0][1] == {}
    for (_, before), (_, after) in zip(steps, steps[1:]):
        changed = {k for k in after if before.get(k) != after[k]}
        if "optimizer" in changed:
            changed.discard("lr")  # a new optimizer comes with its own learning rate
        assert len(changed) == 1, changed  # one change per step
    last = steps[-1][1]
    modern = get_recipe("modern-fashion")
    for key in ("optimizer", "lr", "weight_decay", "scheduler", "model_kw"):
        assert last[key] == getattr(modern, key)  # the ladder ends at the modern recipe's choices


def test_run_ladder_trains_each_step_per_seed_on_a_validation_split():
    steps = ablation.STEPS[:2]
    rows = ablation.run_ladder(seeds=(0, 1), steps=steps, num_epochs=1, num_val=100)
    assert [r["step"] for r in rows] == [s[0] for s in steps]
    assert all(len(r["val_acc"]) == 2 and len(r["train_acc"]) == 2 for r in rows)
    # seeded: the same step and seed gives the same number again
    again = ablation.run_ladder(seeds=(0,), steps=steps[:1], num_epochs=1, num_val=100)
    assert again[0]["val_acc"][0] == rows[0]["val_acc"][0]
    table = ablation.ladder_table(rows)
    assert table.count("\n") == 3 and "2 seeds" in table
    assert table.splitlines()[2].endswith("| – |")


def test_an_interrupted_ladder_stops_with_nothing_half_recorded(ctrl_c_in_epoch):
    ctrl_c_in_epoch(2)  # the second seed of the first step
    with pytest.raises(TrainingInterrupted):
        ablation.run_ladder(seeds=(0, 1), steps=ablation.STEPS[:2], num_epochs=1, num_val=100)


def test_table_says_whether_ranges_separate():
    rows = [{"step": "a", "seeds": [0, 1], "val_acc": [0.5, 0.6], "train_acc": [0.6, 0.7]},
            {"step": "b", "seeds": [0, 1], "val_acc": [0.7, 0.8], "train_acc": [0.8, 0.9]},
            {"step": "c", "seeds": [0, 1], "val_acc": [0.75, 0.85], "train_acc": [0.9, 0.9]}]
    lines = ablation.ladder_table(rows).splitlines()
    assert lines[3].endswith("| yes |") and lines[4].endswith("| no |")
    assert "0.550 (0.500–0.600)" in lines[2] and "0.100 (0.100–0.100)" in lines[2]

"""The activation x pooling grid: its configuration, one run, the verdicts generated from the
rows (a claim only where ranges separate), the opening setting, the plateau exercise's run."""

import pytest

from lenet_nb.lessons import grid


def test_the_grid_shares_the_sgd_budget_and_changes_one_thing_per_pooling_pair():
    config = grid.GRID.config
    assert (config["epochs"], config["num_val"], config["base"]["batch_size"]) == (12, 10_000,
                                                                                   256)
    assert config["base"]["init"] == "xavier" and config["base"]["optimizer"] == "sgd"
    assert config["seeds"] == [0, 1, 2] and len(grid.GRID.specs()) == 18
    for spec in grid.GRID.specs():  # max pooling keeps its activation's rate
        assert spec["lr"] == grid.GRID_LRS[spec["activation"]] and spec["threads"] == 1
    a = grid.setting_recipe(config, "relu", "avg", 0.3)
    assert (a.lr, a.model_kw) == (0.3, {"activation": "relu", "pooling": "avg"})


def test_a_short_run_is_the_start_of_the_long_one():
    config = grid.GRID.config
    short = grid.train_setting(config, "relu", "max", 0, 0.1, num_epochs=1)
    seen = []
    longer = grid.train_setting(config, "relu", "max", 0, 0.1, num_epochs=2,
                                on_epoch=lambda e, record: seen.append((e, record["val_acc"])))
    assert longer.val_acc[:1] == short.val_acc and longer.test_acc[:1] == short.test_acc
    assert seen == list(enumerate(longer.val_acc, 1))
    out = grid.grid_run(config, {"activation": "relu", "pooling": "max", "lr": 0.1, "seed": 0})
    assert set(out) == {"val_acc", "test_acc", "train_loss"}


RATES = {"sigmoid": 0.9, "tanh": 0.1, "relu": 0.3}


def _rows(table, metric="test_acc"):
    """Stored-like rows from {(activation, pooling): [final value per seed]} (3-epoch curves)."""
    rows = []
    for (a, p), values in table.items():
        for seed, v in enumerate(values):
            curve = [0.1, 0.1 + (v - 0.1) / 2, v]
            rows.append({"run": f"activation={a},pooling={p},seed={seed}", "activation": a,
                         "pooling": p, "lr": RATES[a], "seed": seed, "status": "finished",
                         "test_acc": curve, "val_acc": curve})
    return rows


TABLE = {("sigmoid", "avg"): [0.70, 0.72, 0.71], ("sigmoid", "max"): [0.74, 0.76, 0.75],
         ("tanh", "avg"): [0.85, 0.86, 0.84], ("tanh", "max"): [0.85, 0.87, 0.86],
         ("relu", "avg"): [0.86, 0.88, 0.87], ("relu", "max"): [0.88, 0.89, 0.87]}


def test_the_table_gives_mean_and_range_and_each_activations_rate():
    lines = grid.grid_table(_rows(TABLE)).splitlines()
    assert lines[2] == "| sigmoid (0.9) | 0.710 (0.700–0.720) | 0.750 (0.740–0.760) |"
    assert lines[3].startswith("| tanh (0.1) | 0.850 (0.840–0.860) |")
    assert lines[4].startswith("| relu (0.3) | ")
    assert grid.stored_rates(_rows(TABLE)) == RATES


def test_comparisons_and_verdicts_claim_only_where_ranges_separate():
    found = {(c["a"], c["b"]): c for c in grid.comparisons(_rows(TABLE))}
    assert len(found) == 9
    assert found[("sigmoid+max", "sigmoid+avg")]["separate"]
    assert not found[("tanh+max", "tanh+avg")]["separate"]
    assert found[("relu+avg", "tanh+avg")]["separate"] is False  # 0.86-0.88 vs 0.84-0.86 touch
    assert found[("tanh+avg", "sigmoid+avg")]["diff"] == pytest.approx(0.14)
    assert grid.verdict_lines(_rows(TABLE)) == [
        "changing the activation: 4 of 6 comparisons separate; the largest, relu+avg against "
        "sigmoid+avg, +0.160",
        "changing the pooling: 1 of 3 comparisons separate; the largest, sigmoid+max against "
        "sigmoid+avg, +0.040"]
    table = grid.comparisons_table(_rows(TABLE)).splitlines()
    assert table[2] == "| pooling | sigmoid+max | sigmoid+avg | +0.040 | yes |"


def test_a_diverged_seed_is_counted_never_averaged():
    rows = _rows({("relu", "avg"): [0.8, 0.9, 0.85]})
    rows[0] = {**rows[0], "status": "diverged", "test_acc": None, "val_acc": None}
    assert "0.875 (0.850–0.900), 1 of 3 diverged" in grid.grid_table(rows)


def test_the_explorer_opens_on_the_best_setting_that_has_learned_by_epoch_3():
    table = dict(TABLE)
    table[("relu", "max")] = [0.15, 0.95, 0.95]  # one seed still at chance: not eligible
    activation, pooling, why = grid.opening_setting(_rows(table), epoch=3)
    assert (activation, pooling) == ("relu", "avg")
    assert why.startswith("5 of 6 settings have every seed above 0.2 at epoch 3; relu+avg")
    with pytest.raises(ValueError, match="no setting"):
        grid.opening_setting(_rows({("sigmoid", "avg"): [0.1, 0.1, 0.1]}))


@pytest.mark.parametrize("rows", [None, []])
def test_without_stored_rows_the_explorer_opens_on_relu_max_and_says_it_was_not_chosen(rows):
    activation, pooling, why = grid.opening_setting(rows)
    assert (activation, pooling) == ("relu", "max")
    assert "not chosen from data" in why and "not stored" in why


def test_plot_grid_draws_one_panel_per_activation():
    axes = grid.plot_grid(_rows(TABLE))
    assert [ax.get_title() for ax in axes] == ["sigmoid, lr 0.9", "tanh, lr 0.1", "relu, lr 0.3"]
    assert len(axes[0].get_legend().get_texts()) == 2


def test_the_plateau_run_records_its_settings_and_curve():
    record = grid.plateau_run(0.9)
    assert record["lr"] == 0.9 and record["activation"] == "sigmoid"
    assert len(record["val_acc"]) == record["epochs"]
    assert grid.leaves_plateau({"val_acc": [0.1, 0.19, 0.3]}) == 3
    assert grid.leaves_plateau({"val_acc": [0.1, 0.1]}) is None


def test_the_grid_uses_the_sweeps_choices_and_its_average_pooling_runs_are_the_sweeps_runs():
    # one SGD budget for both experiments: the grid's average-pooling runs train the same
    # network, data, rate and seed as the sweep's runs, so their validation curves are identical
    from lenet_nb import experiments as xp
    from lenet_nb.lessons import lr_sweep

    sweep, rows = xp.load(lr_sweep.LR_SWEEP), xp.load(grid.GRID)
    assert grid.GRID_LRS == lr_sweep.chosen_rates(sweep)
    curves = {(r["activation"], r["lr"], r["seed"]): r["val_acc"] for r in sweep}
    avg = [r for r in rows if r["pooling"] == "avg"]
    assert len(avg) == 9
    for r in avg:
        assert r["val_acc"] == curves[r["activation"], r["lr"], r["seed"]], r["run"]

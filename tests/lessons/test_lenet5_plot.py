"""Chapter 5 pictures and tables: Table I grid, bitmaps, misclassified digits, F6 codes, the
stored experiments rendered from hand-made rows."""

import torch

from lenet_nb.lenet5 import LeNet5, rbf_bitmaps
from lenet_nb.lessons.lenet5_plot import (
    SQUASH_MAX,
    as_bitmap,
    collect_errors,
    comparison_lines,
    final_errors,
    plot_c3_table,
    plot_stored,
    results_table,
    show_bitmaps,
    show_codes,
    stored_line,
    sweep_lines,
    sweep_table,
)


def test_c3_table_plot_marks_the_60_connections():
    ax = plot_c3_table()
    assert sum(t.get_text() == "X" for t in ax.texts) == 60
    assert "60 of 96" in ax.get_title()


def test_bitmaps_are_drawn_as_12_by_7_images():
    axes = show_bitmaps()
    assert len(axes) == 10
    assert axes[0].images[0].get_array().shape == (12, 7)
    assert as_bitmap(rbf_bitmaps()[0])[0].tolist() == [-1, 1, 1, 1, 1, 1, -1]


def test_collect_errors_returns_exactly_the_wrong_predictions():
    torch.manual_seed(0)
    net = LeNet5()
    X = torch.rand(12, 1, 32, 32)
    with torch.no_grad():
        pred = net.predict(net(X))
    y = pred.clone()
    y[[1, 5]] = (y[[1, 5]] + 1) % 10
    X_err, y_err, p_err = collect_errors(net, [(X[:6], y[:6]), (X[6:], y[6:])], net.predict)
    assert torch.equal(X_err, X[[1, 5]]) and torch.equal(y_err, y[[1, 5]])
    assert torch.equal(p_err, pred[[1, 5]])


def test_show_codes_draws_three_panels_per_digit():
    torch.manual_seed(0)
    axes = show_codes(LeNet5(), torch.rand(2, 1, 32, 32), torch.tensor([3, 4]))
    assert len(axes) == 6
    assert axes[1].images[0].get_array().shape == (12, 7)
    assert axes[0].get_title() == "label 3"


def test_show_codes_uses_one_colour_map_and_one_scale_for_codes_and_bitmaps():
    torch.manual_seed(0)
    axes = show_codes(LeNet5(), torch.rand(2, 1, 32, 32), torch.tensor([3, 4]))
    images = [ax.images[0] for ax in axes]
    assert {im.get_cmap().name for im in images} == {"gray_r"}
    assert {im.get_clim() for im in images[1::3] + images[2::3]} == {(-SQUASH_MAX, SQUASH_MAX)}
    assert {im.get_clim() for im in images[0::3]} == {(0, 1)}


LABELS = {"lenet5": "MAP", "lenet5-softmax": "softmax", "d2l": "d2l", "lenet5-30": "MAP 30",
          "lenet5-distorted": "distorted"}


def row(setting, seed, errors, status="finished", **extra):
    """A loaded results row as lenet_nb.experiments.load returns it."""
    return {"setting": setting, "seed": seed, "status": status,
            "error": errors if status == "finished" else None,
            "train_loss": [1.0] * len(errors) if status == "finished" else None,
            "wall_seconds": 120.0, "finished_at": f"2026-12-0{seed + 1}T10:00:00Z",
            "cpu": "Some CPU", "cpu_capability": "AVX512", "threads": 2, "torch": "2.14.1",
            "commit": "abcdef0123", "dirty": "no", **extra}


def rows():
    return [
        row("lenet5", 0, [0.02, 0.0094]), row("lenet5", 1, [0.02, 0.0092]),
        row("lenet5", 2, [0.02, 0.0089]),
        row("lenet5-softmax", 0, [0.03, 0.0100]), row("lenet5-softmax", 1, [0.03, 0.0110]),
        row("lenet5-softmax", 2, [0.03, 0.0093]),
        row("d2l", 0, [0.9, 0.0150]), row("d2l", 1, [0.9, 0.0160]),
        row("d2l", 2, [0.9, 0.0170], status="diverged"),
        row("lenet5-30", 0, [0.02, 0.01, 0.0080]), row("lenet5-30", 1, [0.02, 0.01, 0.0084]),
        row("lenet5-30", 2, [0.02, 0.01, 0.0082]),
        row("lenet5-distorted", 0, [0.03, 0.01, 0.0057]),
        row("lenet5-distorted", 1, [0.03, 0.01, 0.0060]),
        row("lenet5-distorted", 2, [0.03, 0.01, 0.0081]),
    ]


def test_final_errors_take_the_last_epoch_in_percent_and_count_diverged_runs():
    finals = final_errors(rows())
    assert [round(e, 2) for e in finals["lenet5"][0]] == [0.94, 0.92, 0.89]
    assert finals["d2l"][1:] == ([0, 1], 1)


def test_results_table_puts_the_paper_first_then_each_setting_over_seeds():
    lines = results_table(rows(), LABELS).splitlines()
    assert lines[6] == "| LeNet-5 (paper) | | 0.95 % | | | |"
    assert lines[8] == ("| MAP (ours) | 2 | 0.92 % | 0.89–0.94 % | 0: 0.94, 1: 0.92, 2: 0.89 "
                        "| 2.0 |")
    assert lines[10] == ("| d2l (ours) | 2 | 1.55 % | 1.50–1.60 % | 0: 1.50, 1: 1.60; 1 diverged "
                         "| 2.0 |")
    assert lines[12].startswith("| distorted (ours) | 3 | 0.66 % |")


def test_comparison_lines_are_generated_from_the_ranges():
    lines = comparison_lines(rows(), LABELS)
    assert lines[0] == ("MAP: 0.92 % (0.89–0.94 %) over 3 seeds; the paper's single run, 0.95 %, "
                        "lies above this range")
    assert lines[1].startswith("distorted: 0.66 % (0.57–0.81 %) over 3 seeds; the paper's "
                               "single run, 0.8 %, lies inside")
    assert lines[2].startswith("softmax against MAP (the output layer and the loss): ranges "
                               "overlap: 3 and 3 seeds cannot tell them apart")
    assert lines[3].startswith("d2l against MAP (the network and the optimiser together): ranges "
                               "separate: higher in every seed (mean 1.55 % against 0.92 %")
    assert lines[4].startswith("MAP 30 against MAP (ten more epochs): ranges separate: lower")
    assert lines[5].startswith("distorted against MAP 30 (distortions, 30 epochs each): ranges "
                               "overlap")


def test_comparison_lines_say_when_a_setting_has_no_finished_run():
    some = [r for r in rows() if r["setting"] != "lenet5-softmax"]
    some += [row("lenet5-softmax", s, [0.1], status="diverged") for s in range(3)]
    assert "softmax against MAP: not compared" in "\n".join(comparison_lines(some, LABELS))


def test_stored_line_names_machine_commit_and_time():
    line = stored_line(rows())
    assert line.startswith("stored: 15 runs (14 finished, 1 diverged) on Some CPU (AVX512, 2 "
                           "threads, torch 2.14.1); commit abcdef0")
    assert line.endswith("finished 2026-12-03; 30 min of training in all")
    long = [dict(r, wall_seconds=600.0) for r in rows()]
    assert stored_line(long).endswith("; 2 h 30 min of training in all")


def test_plot_stored_draws_a_band_per_setting_and_the_papers_figures():
    ax = plot_stored(rows(), LABELS)
    assert len(ax.collections) == 5  # one band per setting
    assert ax.get_ylim() == (0, 3.0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "d2l (mean and range of 2 seeds; 1 diverged)" in labels


def sweep_rows():
    errors = {1.0: [0.0109, 0.0095, 0.0120], 5.0: [0.0095, 0.0099, 0.0101]}
    return [dict(row("x", seed, [0.02, e]), j=j) for j, es in errors.items()
            for seed, e in enumerate(es)]


def test_sweep_table_and_lines():
    assert sweep_table(sweep_rows()).splitlines()[2:] == [
        "| 1 | 0, 1, 2 | 1.08 % | 0.95–1.20 % | 0: 1.09, 1: 0.95, 2: 1.20 |",
        "| 5 | 0, 1, 2 | 0.98 % | 0.95–1.01 % | 0: 0.95, 1: 0.99, 2: 1.01 |"]
    assert sweep_lines(sweep_rows(), 5.0) == [
        "lowest mean validation error: j = 5 (0.98 % (0.95–1.01 %))",
        "j = 5 against j = 1: ranges overlap (0.98 % (0.95–1.01 %) against 1.08 % "
        "(0.95–1.20 %))"]

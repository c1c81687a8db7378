"""Chapter 5's recipe: distortions, model builders, seeded runs, result tables."""

import pytest
import torch

from lenet_nb.data import TensorBatches
from lenet_nb.lenet5 import MAP_J, LeNet5, MAPLoss
from lenet_nb.lessons.lenet5_train import (
    DISTORT_EPOCHS,
    LRS,
    NUM_EPOCHS,
    PAPER_ROWS,
    VALIDATION_FIELDS,
    Crop,
    Distorted,
    Run,
    add_validation_rows,
    build,
    deviations_markdown,
    make_optimizer,
    random_affine,
    ranges_overlap,
    read_validation_rows,
    results_table,
    spread,
    train_lenet5,
    validation_markdown,
    validation_summary,
)
from lenet_nb.train import History, TrainingInterrupted


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


def test_build_gives_the_three_models():
    net, loss, predict = build("lenet5", 0)
    assert isinstance(net, LeNet5) and isinstance(loss, MAPLoss) and predict is net.predict
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


def test_spread_is_mean_and_half_range():
    mean, half = spread([0.010, 0.020, 0.012])
    assert mean == pytest.approx(0.014)
    assert half == pytest.approx(0.005)


def fake_run(name, seed, acc):
    history = History([{"epoch": 1, "train_loss": 0.1, "train_acc": 0.9, "test_acc": acc,
                        "seconds": 60.0, "images_per_s": 1000.0}])
    return Run(name, seed, 1, history, 120.0, None)


def test_results_table_puts_paper_rows_first_and_groups_seeds():
    runs = [fake_run("lenet5", 0, 0.991), fake_run("lenet5", 1, 0.989), fake_run("d2l", 0, 0.98)]
    lines = results_table(runs).splitlines()
    assert len(lines) == 2 + len(PAPER_ROWS) + 2
    assert lines[6] == "| LeNet-5 (paper) | 0.95 % | | | | |"
    assert lines[-2] == "| lenet5 (ours) | 1.00 % | 0.90–1.10 % | 0: 0.90, 1: 1.10 | 1 | 2.0 |"
    assert lines[-1] == "| d2l (ours) | 2.00 % | 2.00–2.00 % | 0: 2.00 | 1 | 2.0 |"


def test_deviations_table_states_j_the_learning_rate_and_the_budget():
    text = deviations_markdown()
    assert f"j = {MAP_J:g}" in text and f"peak rate {LRS['lenet5']}" in text
    assert f"{NUM_EPOCHS} epochs ({DISTORT_EPOCHS} with distortions)" in text
    assert all(line.count("|") == 5 for line in text.splitlines())


def test_train_lenet5_runs_and_repeats_exactly(tiny_root, monkeypatch):
    monkeypatch.setenv("LENET_NB_DATA", str(tiny_root))
    a = train_lenet5("lenet5", seed=0, num_epochs=2, batch_size=16, distort=True)
    b = train_lenet5("lenet5", seed=0, num_epochs=2, batch_size=16, distort=True)
    assert len(a.history) == 2 and a.name == "lenet5 + distortions"
    assert a.history.train_loss == b.history.train_loss
    assert 0 <= a.test_error <= 1


def test_an_interrupted_run_is_not_returned(tiny_root, monkeypatch, ctrl_c_in_epoch):
    """Issue 19 item 2: a Ctrl-C in epoch 2 of 3 gave Run(num_epochs=3) with epoch 1's error."""
    monkeypatch.setenv("LENET_NB_DATA", str(tiny_root))
    ctrl_c_in_epoch(2)
    with pytest.raises(TrainingInterrupted) as stop:
        train_lenet5("lenet5", seed=0, num_epochs=3, batch_size=16)
    assert len(stop.value.history) == 1 and stop.value.history.planned_epochs == 3


@pytest.mark.parametrize("num_epochs", [0, "3", 2.5])
def test_num_epochs_is_checked_before_the_schedule_is_built(num_epochs):
    with pytest.raises(ValueError, match="num_epochs must be an integer >= 1"):
        train_lenet5("lenet5", num_epochs=num_epochs)


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


def fake_row(j, seed, val_error, model="lenet5", epochs=20, lr=0.01):
    return dict(model=model, batch=128, epochs=epochs, lr=lr, weight_decay=0.0, j=j, seed=seed,
                val_error=val_error, seconds=12.5, threads=1, finished="2026-01-01T00:00:00Z")


def test_validation_rows_are_merged_atomically_and_a_rerun_replaces_its_row(tmp_path):
    path = tmp_path / "sub" / "sweep.csv"
    assert read_validation_rows(path) == []
    add_validation_rows([fake_row(5.0, 0, 0.0092), fake_row(1.0, 0, 0.0115)], path)
    add_validation_rows([fake_row(5.0, 1, 0.0095)], path)  # a second run of the tool
    add_validation_rows([fake_row(5.0, 0, 0.0090)], path)  # same settings and seed: replaces
    rows = read_validation_rows(path)
    assert [(r["j"], r["seed"], r["val_error"]) for r in rows] == [
        ("5", "0", "0.009"), ("1", "0", "0.0115"), ("5", "1", "0.0095")]
    assert path.read_text().splitlines()[0] == ",".join(VALIDATION_FIELDS)
    # no temp file left behind: only the data file and its lock
    assert sorted(p.name for p in path.parent.iterdir()) == [".sweep.csv.lock", "sweep.csv"]


def test_validation_rows_with_a_missing_field_or_foreign_columns_are_refused(tmp_path):
    row = fake_row(5.0, 0, 0.01)
    del row["seconds"]
    with pytest.raises(ValueError, match="seconds"):
        add_validation_rows([row], tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("seed,error\n0,0.1\n")
    with pytest.raises(ValueError, match="move it aside"):
        read_validation_rows(tmp_path / "b.csv")


@pytest.mark.parametrize(("cut", "message"), [
    (lambda text: text[: text.rindex("0.0095") + 1], "line 3 ends before seconds"),
    (lambda text: text.replace("0.0095", "0.00x5"), "line 3: val_error is '0.00x5', not a "
                                                    "number"),
    (lambda text: text.rstrip() + ",extra\n", "line 3 has more fields than its header"),
])
def test_a_cut_or_edited_results_file_is_refused_naming_file_and_line(tmp_path, cut, message):
    """Issue 19 item 6: a row cut inside val_error showed as 0.00 % in chapter 4's table."""
    path = tmp_path / "sweep.csv"
    add_validation_rows([fake_row(5.0, 0, 0.0092), fake_row(5.0, 1, 0.0095)], path)
    path.write_text(cut(path.read_text()))
    with pytest.raises(ValueError, match=f"sweep.csv {message}.*restore it"):
        read_validation_rows(path)


def test_validation_summary_and_markdown_on_tiny_rows(tmp_path):
    path = tmp_path / "sweep.csv"
    add_validation_rows([fake_row(1.0, 1, 0.0096), fake_row(1.0, 0, 0.0115),
                         fake_row(5.0, 0, 0.0092), fake_row(float("nan"), 0, 0.02,
                                                            model="lenet5-softmax", lr=0.1)],
                        path)
    summary = validation_summary(read_validation_rows(path))
    assert [(g["j"], g["seeds"], g["errors"]) for g in summary] == [
        ("1", [0, 1], [0.0115, 0.0096]), ("5", [0], [0.0092]), ("nan", [0], [0.02])]
    assert summary[0]["mean"] == pytest.approx(0.01055)
    assert ranges_overlap(summary[0], summary[1]) is False  # 0.92 lies below 0.96–1.15
    assert ranges_overlap(summary[0], summary[0]) is True
    assert validation_markdown(summary).splitlines() == [
        "| model | j | epochs | batch | peak lr | weight decay | seeds | validation error: mean "
        "| range | each seed |",
        "|---|---|---|---|---|---|---|---|---|---|",
        "| lenet5 | 1 | 20 | 128 | 0.01 | 0 | 0, 1 | 1.05 % | 0.96–1.15 % | 1.15, 0.96 % |",
        "| lenet5 | 5 | 20 | 128 | 0.01 | 0 | 0 | 0.92 % | 0.92–0.92 % | 0.92 % |",
        "| lenet5-softmax | – | 20 | 128 | 0.1 | 0 | 0 | 2.00 % | 2.00–2.00 % | 2.00 % |",
    ]

"""The explorer: checked settings, runs equal to the grid's, a cache, a plot that counts what it
draws, a band only where the grid stored one, thread-safe state, a static rendering."""

import threading

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lenet_nb.lessons import explorer as ex  # noqa: E402
from lenet_nb.lessons import grid  # noqa: E402
from lenet_nb.train import TrainingInterrupted  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _rows(activation="relu", pooling="max", epochs=3):
    """Stored-like grid rows for one setting: three seeds, curves rising to 0.6, 0.7, 0.8."""
    return [{"run": f"activation={activation},pooling={pooling},seed={s}",
             "activation": activation, "pooling": pooling, "lr": grid.GRID_LRS[activation],
             "seed": s, "status": "finished",
             "val_acc": [top * (e + 1) / epochs for e in range(epochs)]}
            for s, top in enumerate((0.6, 0.7, 0.8))]


@pytest.fixture(scope="module")
def trained():
    """One explorer with two quick runs, shared by the read-only tests."""
    e = ex.Explorer(_rows())
    e.train("relu", "max", grid.GRID_LRS["relu"], 2)
    e.train("sigmoid", "avg", 0.9, 1)
    return e


@pytest.mark.parametrize("args,match", [(("gelu", "max", 0.1, 1), "activation"),
                                        (("relu", "min", 0.1, 1), "pooling"),
                                        (("relu", "max", 0.1, 0), "num_epochs"),
                                        (("relu", "max", 0.1, 1.5), "num_epochs"),
                                        (("relu", "max", 0.1, True), "num_epochs"),
                                        (("relu", "max", 0.1, 13), "up to the grid's 12"),
                                        (("relu", "max", 0, 1), "lr"),
                                        (("relu", "max", float("nan"), 1), "lr"),
                                        (("relu", "max", 0.1, 1, -1), "seed")])
def test_bad_settings_are_refused_with_the_valid_choices(args, match):
    with pytest.raises(ValueError, match=match):
        ex.run_key(*args)
    with pytest.raises(ValueError, match=match):
        ex.Explorer().train(*args)


def test_equal_settings_share_one_key():
    assert ex.run_key("relu", "max", 0.1000000001, 2) == ex.run_key("relu", "max", 0.1, 2)


def test_a_run_is_the_grids_run_and_the_second_press_is_cached(trained):
    run, cached = trained.train("relu", "max", grid.GRID_LRS["relu"], 2)
    assert cached and run is trained.history()[0]
    history = grid.train_setting(grid.GRID.config, "relu", "max", 0, run.lr, num_epochs=2)
    assert list(run.val_acc) == history.val_acc and list(run.train_loss) == history.train_loss


def test_the_band_exists_only_for_a_stored_setting_at_its_rate(trained):
    rate = grid.GRID_LRS["relu"]
    assert trained.band("relu", "max", rate) == [r["val_acc"] for r in _rows()]
    assert trained.band("relu", "max", 3.0) is None  # the grid stores relu at its rate only
    assert trained.band("tanh", "avg", grid.GRID_LRS["tanh"]) is None  # not in these rows
    assert ex.Explorer().band("relu", "max", rate) is None  # no stored rows at all
    relu, sigmoid = trained.history()
    assert ex.band_note(trained, relu).startswith(
        f"band: relu+max, lr {rate:g}, 3 stored seeds; this run at epoch 2: ")
    assert ex.band_note(trained, sigmoid).startswith("no stored band for sigmoid+avg at lr 0.9")
    bare = ex.Explorer()  # the grid not stored: the note says so, not what it would hold
    assert ex.band_note(bare, relu) == "no stored band: the grid's runs are not stored here"


def test_the_status_counts_what_the_plot_draws():
    e = ex.Explorer(_rows())
    for seed in range(ex.SHOWN + 2):
        e.train("relu", "max", grid.GRID_LRS["relu"], 1, seed=seed % 10)
    runs = e.history()
    ax = ex.draw(e, runs, runs[-1])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    mine = [t for t in labels if t.startswith("yours: ")]
    assert len(mine) == ex.SHOWN and mine[-1] == f"yours: {runs[-1].label}"
    assert labels[0].startswith("stored range, relu+max") and labels[1] == "stored mean"
    colors = [line.get_color() for line in ax.get_lines()[1:]]
    assert len(set(colors)) == ex.SHOWN  # no colour twice
    widths = [line.get_linewidth() for line in ax.get_lines()]
    assert max(widths) == widths[-1]  # the current run is the thickest
    status = ex.status_text(e, runs, runs[-1])
    assert f"drawn: {ex.SHOWN} of your {ex.SHOWN + 2} runs (the table lists all)" in status
    assert ex.table_html(runs).count("lenet-explorer-row") == ex.SHOWN + 2


def test_one_training_at_a_time_and_drawing_from_threads():
    e = ex.Explorer()
    started, release = threading.Event(), threading.Event()

    def slow(epoch, num_epochs):
        started.set()
        release.wait(10)

    worker = threading.Thread(target=e.train, args=("relu", "max", 0.1, 1),
                              kwargs={"on_epoch": slow})
    worker.start()
    assert started.wait(60)
    with pytest.raises(RuntimeError, match="another run is training"):
        e.train("tanh", "avg", 0.1, 1)
    release.set()
    worker.join(60)
    assert len(e.history()) == 1
    pngs = []
    threads = [threading.Thread(target=lambda: pngs.append(ex.figure_png(e, e.history())))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(pngs) == 4 and all(p.startswith(b"\x89PNG") for p in pngs)
    assert plt.get_fignums() == []  # no pyplot figure left behind


def test_a_diverged_run_is_reported_and_not_cached():
    e = ex.Explorer()
    with pytest.raises(ValueError, match="diverged .*pick a smaller lr"):
        e.train("relu", "max", 1e6, 1)
    assert e.history() == []


def test_widget_trains_then_serves_the_cache_without_printing(capsys):
    e = ex.Explorer(_rows())
    w = ex.ExplorerWidget(e)
    assert w.settings() == ("relu", "max", grid.GRID_LRS["relu"], 3, 0)
    assert 'data-runs="0"' in w.table.value
    w.epochs.value = 2
    w.on_train()
    assert 'data-runs="1"' in w.table.value and "trained in" in w.status.value
    assert "band: relu+max" in w.status.value and "drawn: 1 of your 1 run" in w.status.value
    assert (w.progress.value, w.progress.max) == (2, 2) and not w.button.disabled
    assert bytes(w.plot.value).startswith(b"\x89PNG")
    w.activation.value = "tanh"  # the rate follows the activation
    assert w.lr.value == grid.GRID_LRS["tanh"]
    w.on_train()
    assert "no stored band for tanh+max" in w.status.value and 'data-runs="2"' in w.table.value
    w.activation.value = "relu"
    w.on_train()
    assert "cached, shown at once" in w.status.value and 'data-runs="2"' in w.table.value
    assert w.table.value.count("lenet-explorer-current") == 1
    assert capsys.readouterr().out == ""


def test_widget_shows_errors_and_a_busy_explorer_in_its_status():
    class Broken(ex.Explorer):
        def train(self, *args, **kw):
            raise RuntimeError("another run is training: wait for it to finish")

    w = ex.ExplorerWidget(Broken())
    w.on_train()
    assert w.status.value.startswith("Error: another run is training") and not w.button.disabled


def test_controls_have_stable_css_classes_and_a_static_rendering(trained):
    w = ex.ExplorerWidget(trained)
    for name in ("table", "plot", "activation", "pooling", "lr", "epochs", "seed", "status"):
        assert f"lenet-explorer-{name}" in getattr(w, name)._dom_classes
    assert "lenet-explorer-train" in w.button._dom_classes
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "Explorer: activation × pooling, trained on the grid's budget"
    page = bundle["text/html"]
    assert page.startswith('<div class="lenet-explorer-static">')
    assert 'src="data:image/png;base64,' in page and 'data-runs="2"' in page
    assert "seed 0–9" in page and "VBox" not in page


@pytest.mark.parametrize("k", [1, 2])
def test_an_interrupt_is_not_called_a_divergence_and_nothing_is_cached(ctrl_c_in_epoch, k):
    """Issue 19 item 2: a Ctrl-C must not read "diverged ... pick a smaller lr"."""
    e = ex.Explorer(_rows())
    ctrl_c_in_epoch(k)
    with pytest.raises(TrainingInterrupted,
                       match=f"relu\\+max interrupted in epoch {k} of 2: nothing cached") as stop:
        e.train("relu", "max", grid.GRID_LRS["relu"], 2)
    assert "diverged" not in str(stop.value) and e.history() == []


def test_the_widget_says_an_interrupted_run_stopped(ctrl_c_in_epoch):
    w = ex.ExplorerWidget(ex.Explorer(_rows()), num_epochs=1)
    ctrl_c_in_epoch(1)
    w.on_train()
    assert w.status.value == "Stopped: relu+max interrupted in epoch 1 of 1: nothing cached"
    assert not w.button.disabled and w.explorer.history() == []

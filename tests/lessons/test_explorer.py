import matplotlib

matplotlib.use("Agg")


import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lenet_nb.data import (
    TensorBatches,
    load_data_fashion_mnist,  # noqa: E402
)
from lenet_nb.lessons import explorer
from lenet_nb.lessons import explorer as ex  # noqa: E402
from lenet_nb.models import LeNet, init_xavier  # noqa: E402
from lenet_nb.train import TrainingInterrupted, fit  # noqa: E402

SUBSET = (256, 128)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def trained():
    """One explorer shared by the read-only tests (training is the slow part)."""
    e = ex.Explorer(subset=SUBSET, batch_size=64)
    e.train("relu", "max", 2, 0.1)
    e.train("sigmoid", "avg", 1, 0.9)
    return e


@pytest.mark.parametrize("args,match", [(("gelu", "max", 1, 0.1), "activation"),
                                        (("relu", "min", 1, 0.1), "pooling"),
                                        (("relu", "max", 0, 0.1), "num_epochs"),
                                        (("relu", "max", 1.5, 0.1), "num_epochs"),
                                        (("relu", "max", True, 0.1), "num_epochs"),
                                        (("relu", "max", 1, 0), "lr")])
def test_bad_settings_are_rejected_with_the_valid_choices(args, match):
    with pytest.raises(ValueError, match=match):
        ex.run_key(*args)


def test_equal_settings_share_one_key():
    assert ex.run_key("relu", "max", 2.0, 0.1) == ex.run_key("relu", "max", 2, 0.1000000001)


def test_unknown_dataset_is_rejected():
    with pytest.raises(ValueError, match="FashionMNIST"):
        ex.Explorer(dataset="CIFAR10")


def test_quick_mode_explorer_uses_the_quick_subset():
    assert ex.Explorer().subset == ex.QUICK_SUBSET  # conftest.py turns quick mode on


def test_second_train_is_served_from_the_cache(trained):
    n = len(trained.runs)
    first = trained.runs[ex.run_key("relu", "max", 2, 0.1)]
    run, cached = trained.train("relu", "max", 2, 0.1)
    assert cached and run is first and len(trained.runs) == n


def test_epoch_by_epoch_training_equals_one_fit_call(trained):
    run = trained.runs[ex.run_key("relu", "max", 2, 0.1)]
    train_iter, test_iter = load_data_fashion_mnist(64, subset=SUBSET, seed=0)
    torch.manual_seed(0)
    net = init_xavier(LeNet("relu", "max"))
    history = fit(net, train_iter, test_iter, 2, optimizer=torch.optim.SGD(net.parameters(),
                                                                           lr=0.1),
                  progress=False, live=False)
    assert run.history.test_acc == history.test_acc
    assert run.history.train_loss == history.train_loss
    assert [r["epoch"] for r in run.history] == [1, 2]


def test_progress_callback_sees_every_epoch():
    seen = []
    e = ex.Explorer(subset=SUBSET, batch_size=64)
    e.train("tanh", "avg", 3, 0.1, on_epoch=lambda i, n: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_rows_and_table_list_runs_in_training_order(trained):
    rows = trained.rows()
    assert [(r["activation"], r["pooling"], r["epochs"]) for r in rows][:2] == [
        ("relu", "max", 2), ("sigmoid", "avg", 1)]
    runs = list(trained.runs.values())
    html = ex.table_html(runs, current=runs[1])
    assert f'data-runs="{len(runs)}"' in html
    assert html.count('class="lenet-explorer-row"') == len(runs) - 1
    assert html.count("lenet-explorer-row lenet-explorer-current") == 1
    assert html.count("font-weight:bold") == 1  # only the current row stands out
    assert f"{rows[0]['test_acc']:.3f}" in html


def test_plot_runs_draws_two_curves_per_run(trained):
    runs = list(trained.runs.values())
    axes = ex.plot_runs(runs, current=runs[0])
    assert len(axes[0].lines) == len(axes[1].lines) == len(runs)
    assert axes[0].lines[0].get_linewidth() > axes[0].lines[1].get_linewidth()
    assert axes[0].get_title() == f"{len(runs)} runs"


def test_grid_covers_all_six_combinations_and_reuses_the_cache():
    e = ex.Explorer(subset=(128, 64), batch_size=64)
    e.train("relu", "max", 1, 0.3)
    runs = e.grid(1, 0.3)
    assert {(r.activation, r.pooling) for r in runs} == {
        (a, p) for a in ex.ACTIVATIONS for p in ex.POOLINGS}
    assert len(e.runs) == 6
    table = ex.grid_table(runs).splitlines()
    assert len(table) == 2 + 3 and table[-1].startswith("| relu |")
    axes = ex.plot_grid(runs)
    titles = [ax.get_title() for row in axes for ax in row]
    assert all(t for t in titles) and titles[-1].startswith("relu + max")


def test_grid_over_seeds_gives_mean_and_range_per_cell():
    e = ex.Explorer(subset=(128, 64), batch_size=64)
    runs = e.grid(1, 0.3, seeds=(0, 1, 2))
    assert len(runs) == 18 and {r.seed for r in runs} == {0, 1, 2}
    acc = ex.final_accs(runs)
    assert all(len(v) == 3 for v in acc.values())
    relu_max = acc[("relu", "max")]
    row = next(line for line in ex.grid_table(runs).splitlines() if line.startswith("| relu |"))
    lo, hi = min(relu_max), max(relu_max)
    assert f"{sum(relu_max) / 3:.3f} ({lo:.3f}–{hi:.3f})" in row
    again = ex.Explorer(subset=(128, 64), batch_size=64).train("relu", "max", 1, 0.3, seed=2)[0]
    assert again.history.test_acc[-1] == relu_max[2]  # the seed alone fixes the numbers
    comparisons = ex.grid_comparisons(runs)
    assert len(comparisons) == 3 + 2 * 3
    first = comparisons[0]
    assert first["a"] == "sigmoid+max" and first["separate"] == (
        max(acc[("sigmoid", "max")]) < min(acc[("sigmoid", "avg")])
        or max(acc[("sigmoid", "avg")]) < min(acc[("sigmoid", "max")]))
    assert ex.comparisons_table(runs).count("\n") == 1 + len(comparisons)


def test_opening_lr_is_where_most_combinations_train():
    class H(list):
        @property
        def test_acc(self):
            return [r["test_acc"] for r in self]

    def run(a, p, acc, seed):
        return ex.Run(a, p, 1, 0.1, history=H([{"test_acc": acc}]), seconds=0.0, seed=seed)

    good = [run(a, p, 0.7, s) for a in ex.ACTIVATIONS for p in ex.POOLINGS for s in (0, 1)]
    bad = [run(a, p, 0.7 if a == "sigmoid" else 0.1, s)
           for a in ex.ACTIVATIONS for p in ex.POOLINGS for s in (0, 1)]
    mixed = good[:-1] + [run("relu", "max", 0.1, 1)]  # one seed of one cell diverged
    assert len(ex.trained_combinations(good)) == 6 and len(ex.trained_combinations(mixed)) == 5
    assert ex.opening_lr({0.9: bad, 0.1: good}) == 0.1
    assert ex.opening_lr({0.3: good, 0.1: good}) == 0.1  # a tie goes to the smaller rate


def test_grid_table_marks_missing_combinations():
    assert "| tanh | – | – |" in ex.grid_table([])


def test_figure_png_returns_png_bytes_and_closes_the_figure():
    png = ex.figure_png(lambda axes: axes[0].plot([1, 2]))
    assert png.startswith(b"\x89PNG") and plt.get_fignums() == []


def test_widget_trains_then_serves_the_cache_without_printing(capsys):
    e = ex.Explorer(subset=SUBSET, batch_size=64)
    w = ex.ExplorerWidget(e)
    empty_png = w.plot.value
    assert 'data-runs="0"' in w.table.value
    w.activation.value, w.pooling.value, w.epochs.value, w.lr.value = "relu", "max", 2, 0.3
    w.on_train()
    assert 'data-runs="1"' in w.table.value and "trained in" in w.status.value
    assert (w.progress.value, w.progress.max) == (2, 2) and not w.button.disabled
    assert bytes(w.plot.value) != bytes(empty_png)
    assert bytes(w.plot.value).startswith(b"\x89PNG")
    w.pooling.value = "avg"
    w.on_train()
    assert 'data-runs="2"' in w.table.value
    w.pooling.value = "max"
    w.on_train()
    assert "cached" in w.status.value and 'data-runs="2"' in w.table.value
    assert w.table.value.count("lenet-explorer-current") == 1
    assert capsys.readouterr().out == ""


def test_widget_shows_only_the_explorers_own_seed():
    e = ex.Explorer(subset=(128, 64), batch_size=64)
    e.train("relu", "max", 1, 0.3, seed=0)
    e.train("relu", "max", 1, 0.3, seed=1)
    w = ex.ExplorerWidget(e)
    assert 'data-runs="1"' in w.table.value


def test_widget_controls_have_stable_css_classes():
    w = ex.ExplorerWidget(ex.Explorer(subset=SUBSET))
    assert "lenet-explorer-train" in w.button._dom_classes
    assert "lenet-explorer-table" in w.table._dom_classes
    assert "lenet-explorer-plot" in w.plot._dom_classes
    assert "lenet-explorer" in w.ui._dom_classes
    assert w.settings() == ("sigmoid", "avg", 1, 0.1)  # quick mode: one epoch by default


def test_widget_shows_errors_in_its_status():
    class Broken(ex.Explorer):
        def train(self, *args, **kw):
            raise RuntimeError("no data here")

    w = ex.ExplorerWidget(Broken(subset=SUBSET))
    w.on_train()
    assert w.status.value == "Error: no data here" and not w.button.disabled


# --- careless and hostile inputs ------------------------------------------------------------


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), True])
def test_item16_explorer_refuses_non_finite_lr_and_caches_nothing(lr):
    e = explorer.Explorer(subset=(16, 8))
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        e.train("relu", "max", 1, lr)
    assert e.runs == {} and e._data is None  # refused before loading or training anything


def _tiny_explorer():
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(32, 1, 28, 28, generator=g), torch.arange(32) % 10
    e = explorer.Explorer(subset=(32, 32))
    e._data = (TensorBatches(X, y, 8, shuffle=True), TensorBatches(X, y, 8))
    return e


def test_item16_explorer_does_not_cache_a_diverged_run():
    e = _tiny_explorer()
    with pytest.raises(ValueError, match="diverged in epoch 1.*smaller lr"):
        e.train("relu", "max", 1, 1e6)
    assert e.runs == {}


@pytest.mark.parametrize("k", [1, 2])
def test_an_interrupt_is_not_called_a_divergence_and_nothing_is_cached(ctrl_c_in_epoch, k):
    """Issue 19 item 2: a Ctrl-C was reported as "diverged ... pick a smaller lr"."""
    e = _tiny_explorer()
    ctrl_c_in_epoch(k)
    with pytest.raises(TrainingInterrupted, match=f"interrupted in epoch {k} of 2: nothing "
                                                  f"cached") as stop:
        e.train("relu", "max", 2, 0.1)
    assert "diverged" not in str(stop.value) and e.runs == {}
    assert len(stop.value.history) == k - 1 and stop.value.history.interrupted


def test_the_widget_says_an_interrupted_run_stopped(ctrl_c_in_epoch):
    w = ex.ExplorerWidget(_tiny_explorer())
    ctrl_c_in_epoch(1)
    w.on_train()
    assert w.status.value.startswith("Stopped: ") and "nothing cached" in w.status.value
    assert not w.button.disabled and w.explorer.runs == {}

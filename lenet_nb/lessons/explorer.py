"""The activation x pooling explorer: train small LeNets on a subset, cache, compare, plot."""

import html
import io
import numbers
import time
from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch

from lenet_nb.config import reduce_in_tests
from lenet_nb.data import load_data_fashion_mnist, load_data_mnist
from lenet_nb.models import LeNet, init_xavier
from lenet_nb.stats import format_mean_range, mean_range, ranges_separate
from lenet_nb.train import History, TrainingDiverged, TrainingInterrupted, fit
from lenet_nb.validate import positive_number, whole_number

ACTIVATIONS = ("sigmoid", "tanh", "relu")
POOLINGS = ("avg", "max")
# (train, test) images: 10,000 to train on (a few seconds per epoch on 2 cores), the whole
# test set to score on, so one run's number is not the luck of a small sample
FULL_SUBSET = (10000, None)
QUICK_SUBSET = (1000, 250)  # quick mode (tests, CI, browser test): well under a second
LR_CHOICES = (0.01, 0.03, 0.1, 0.3, 0.9)


@dataclass
class Run:
    """One training of the explorer: its settings, per-epoch history and wall-clock."""

    activation: str
    pooling: str
    num_epochs: int
    lr: float
    history: object
    seconds: float
    seed: int = 0

    @property
    def label(self):
        """Short legend text, e.g. 'relu+max, 3 ep, lr 0.1'."""
        return f"{self.activation}+{self.pooling}, {self.num_epochs} ep, lr {self.lr:g}"

    def row(self):
        """The results-table row of this run."""
        return {"activation": self.activation, "pooling": self.pooling,
                "epochs": self.num_epochs, "lr": self.lr,
                "train_loss": self.history.train_loss[-1],
                "train_acc": self.history.train_acc[-1],
                "test_acc": self.history.test_acc[-1], "seconds": self.seconds,
                "seed": self.seed}


def run_key(activation, pooling, num_epochs, lr, seed=0):
    """Validate settings and return the cache key (activation, pooling, epochs, lr, seed)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if (isinstance(num_epochs, bool) or not isinstance(num_epochs, numbers.Real)
            or int(num_epochs) != num_epochs or num_epochs < 1):  # True is not one epoch
        raise ValueError(f"num_epochs must be a whole number >= 1, got {num_epochs!r}")
    lr = positive_number("lr", lr)  # inf or NaN would train, and cache, a NaN run
    return activation, pooling, int(num_epochs), float(f"{lr:.6g}"), int(seed)


class Explorer:
    """Trains LeNet(activation, pooling) with SGD on a fixed subset; same settings -> cached."""

    def __init__(self, dataset="FashionMNIST", subset=None, batch_size=128, seed=0):
        if dataset not in ("FashionMNIST", "MNIST"):
            raise ValueError(f"dataset must be 'FashionMNIST' or 'MNIST', got {dataset!r}")
        self.dataset, self.seed = dataset, seed
        self.batch_size = whole_number("batch_size", batch_size)
        self.subset = subset if subset is not None else reduce_in_tests(FULL_SUBSET, QUICK_SUBSET)
        self.runs = {}  # key -> Run, in the order they were trained
        self._data = None

    def data(self):
        """(train_iter, test_iter), loaded on first use so building an Explorer costs nothing."""
        if self._data is None:
            load = load_data_fashion_mnist if self.dataset == "FashionMNIST" else load_data_mnist
            self._data = load(self.batch_size, subset=self.subset, seed=self.seed)
        return self._data

    def train(self, activation, pooling, num_epochs, lr, on_epoch=None, seed=None):
        """Return (run, cached): a cached run at once, else train one and store it.

        `on_epoch(epoch, num_epochs)` is called after every epoch (for a progress bar);
        `seed` (default: the explorer's) sets the initial weights and the batch order.
        """
        key = run_key(activation, pooling, num_epochs, lr, self.seed if seed is None else seed)
        if key in self.runs:
            return self.runs[key], True
        train_iter, test_iter = self.data()
        # same settings -> same initial weights, same batch order, same numbers, whatever ran
        # before
        torch.manual_seed(key[4])
        train_iter.generator.manual_seed(key[4])
        net = LeNet(activation=activation, pooling=pooling)
        init_xavier(net)
        optimizer = torch.optim.SGD(net.parameters(), lr=key[3])
        start = time.perf_counter()
        history = History()
        for epoch in range(1, key[2] + 1):
            # one epoch per fit call (same optimizer, batch order continues) so the widget's
            # progress bar can move between epochs; equal to fit(num_epochs) for plain SGD
            try:
                one = fit(net, train_iter, test_iter, 1, optimizer=optimizer, progress=False,
                          live=False)
            except TrainingDiverged:  # nothing cached: the same settings would fail again
                raise ValueError(f"{activation}+{pooling} at lr {key[3]:g} diverged in epoch "
                                 f"{epoch} (the loss became NaN or infinite): pick a smaller "
                                 f"lr") from None
            except TrainingInterrupted as stop:  # nothing cached: an unfinished run
                history.planned_epochs, history.stopped = key[2], "interrupted"
                stop.history = history
                stop.args = (f"{activation}+{pooling} interrupted in epoch {epoch} of {key[2]}:"
                             f" nothing cached",)
                raise
            history.append({**one[0], "epoch": epoch})
            if on_epoch is not None:
                on_epoch(epoch, key[2])
        run = Run(*key[:4], history=history, seconds=time.perf_counter() - start, seed=key[4])
        self.runs[key] = run
        return run, False

    def grid(self, num_epochs, lr, seeds=None):
        """Train (or fetch) every activation x pooling combination, same budget, once per seed."""
        seeds = [self.seed] if seeds is None else list(seeds)
        return [self.train(a, p, num_epochs, lr, seed=s)[0]
                for a in ACTIVATIONS for p in POOLINGS for s in seeds]

    def rows(self):
        """Results-table rows, in training order."""
        return [run.row() for run in self.runs.values()]


def table_html(runs, current=None):
    """HTML results table; the row of `current` (a Run) is marked (class and bold highlight)."""
    head = "".join(f"<th>{h}</th>" for h in
                   ("activation", "pooling", "epochs", "lr", "train loss", "train acc",
                    "test acc", "seconds"))
    body = []
    for run in runs:
        r = run.row()
        cls = "lenet-explorer-row" + (" lenet-explorer-current" if run is current else "")
        cells = [r["activation"], r["pooling"], r["epochs"], f"{r['lr']:g}",
                 f"{r['train_loss']:.3f}", f"{r['train_acc']:.3f}", f"{r['test_acc']:.3f}",
                 f"{r['seconds']:.1f}"]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        # inline style: the widget shows plain HTML, with no stylesheet of ours to rely on
        style = ' style="font-weight:bold;background:#fff3bf"' if run is current else ""
        body.append(f'<tr class="{cls}"{style} data-key="{html.escape(run.label)}">{tds}</tr>')
    return (f'<table class="lenet-explorer-results" data-runs="{len(runs)}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def plot_runs(runs, current=None, axes=None):
    """Train loss and test accuracy per epoch, one curve per run (current one thicker)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for run in runs:
        epochs = range(1, run.num_epochs + 1)
        width = 3 if run is current else 1.2
        axes[0].plot(epochs, run.history.train_loss, marker="o", lw=width, label=run.label)
        axes[1].plot(epochs, run.history.test_acc, marker="o", lw=width, label=run.label)
    axes[0].set(xlabel="epoch", ylabel="train loss", title=f"{len(runs)} runs")
    axes[1].set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1))
    if runs:
        axes[1].legend(fontsize=7, loc="lower right")
    return axes


def plot_grid(runs, axes=None):
    """3x2 panels (activation x pooling): test and train accuracy per epoch of every seed."""
    if axes is None:
        _, axes = plt.subplots(len(ACTIVATIONS), len(POOLINGS), figsize=(8, 7.5),
                               sharex=True, sharey=True, squeeze=False)
    acc = final_accs(runs)
    labelled = set()
    for run in runs:
        ax = axes[ACTIVATIONS.index(run.activation)][POOLINGS.index(run.pooling)]
        epochs = range(1, run.num_epochs + 1)
        first = ax not in labelled  # one legend entry per panel, one line per seed
        labelled.add(ax)
        ax.plot(epochs, run.history.test_acc, marker="o", color="C0", lw=1,
                label="test acc (one line per seed)" if first else None)
        ax.plot(epochs, run.history.train_acc, ls="--", color="C1", lw=1,
                label="train acc" if first else None)
        ax.set_title(f"{run.activation} + {run.pooling}: "
                     f"{format_mean_range(acc[(run.activation, run.pooling)])}", fontsize=9)
        ax.set_ylim(0, 1)
    axes[0][0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    return axes


def final_accs(runs):
    """{(activation, pooling): [final test accuracy of each seed]}."""
    acc = {}
    for r in runs:
        acc.setdefault((r.activation, r.pooling), []).append(r.history.test_acc[-1])
    return acc


def grid_table(runs, digits=3):
    """Markdown table of final test accuracy, mean (range over seeds): activations x poolings."""
    acc = final_accs(runs)
    seeds = max((len(v) for v in acc.values()), default=0)
    lines = ["| activation | " + " | ".join(f"{p} pool" for p in POOLINGS) + " |",
             "|---|" + "---|" * len(POOLINGS)]
    for a in ACTIVATIONS:
        cells = [format_mean_range(acc[(a, p)], digits) if (a, p) in acc else "–"
                 for p in POOLINGS]
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + (f"\n\nmean (lowest–highest) over {seeds} seeds" if seeds > 1 else "")


def grid_comparisons(runs):
    """Every pair of cells differing in one choice: mean accuracies and whether ranges separate."""
    acc = final_accs(runs)
    pairs = [((a, "max"), (a, "avg")) for a in ACTIVATIONS]
    pairs += [((a, p), (b, p)) for p in POOLINGS
              for i, a in enumerate(ACTIVATIONS) for b in ACTIVATIONS[i + 1:]]
    rows = []
    for one, two in pairs:
        if one in acc and two in acc:
            rows.append({"a": "+".join(one), "b": "+".join(two),
                         "mean_a": mean_range(acc[one])[0], "mean_b": mean_range(acc[two])[0],
                         "separate": ranges_separate(acc[one], acc[two])})
    return rows


def comparisons_table(runs, digits=3):
    """Markdown table of grid_comparisons: which differences are larger than the seed noise."""
    lines = ["| A | B | A mean | B mean | ranges separate |", "|---|---|---|---|---|"]
    for r in grid_comparisons(runs):
        lines.append(f"| {r['a']} | {r['b']} | {r['mean_a']:.{digits}f} | "
                     f"{r['mean_b']:.{digits}f} | {'yes' if r['separate'] else 'no'} |")
    return "\n".join(lines)


def trained_combinations(runs, threshold=0.2):
    """Combinations whose every seed ends above `threshold` (twice chance): they trained."""
    return [k for k, v in final_accs(runs).items() if min(v) > threshold]


def opening_lr(grids, threshold=0.2):
    """The grid's learning rate at which most combinations train (the smaller one on a tie)."""
    return max(grids, key=lambda lr: (len(trained_combinations(grids[lr], threshold)), -lr))


def figure_png(draw):
    """Draw on a fresh figure with `draw(axes)`, return PNG bytes and close the figure."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    draw(axes)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    plt.close(fig)
    return buf.getvalue()


class ExplorerWidget:
    """Thin ipywidgets front end over an Explorer; callbacks change widget state only."""

    def __init__(self, explorer, num_epochs=None, lr=0.1, activation="sigmoid", pooling="avg"):
        import ipywidgets as w  # imported here so the logic above works without a front end

        self.explorer = explorer
        num_epochs = num_epochs if num_epochs is not None else reduce_in_tests(3, 1)
        wide = {"description_width": "initial"}
        self.activation = w.Dropdown(options=ACTIVATIONS, value=activation,
                                     description="activation", style=wide)
        self.pooling = w.Dropdown(options=POOLINGS, value=pooling, description="pooling",
                                  style=wide)
        self.epochs = w.IntSlider(value=num_epochs, min=1, max=10, description="epochs",
                                  continuous_update=False, style=wide)
        self.lr = w.SelectionSlider(options=LR_CHOICES, value=lr, description="lr",
                                    continuous_update=False, style=wide)
        self.button = w.Button(description="Train", button_style="primary", icon="play")
        self.progress = w.IntProgress(value=0, min=0, max=num_epochs, description="progress")
        self.status = w.Label(value="Pick settings and press Train.")
        self.plot = w.Image(format="png")
        self.table = w.HTML()
        for widget, name in ((self.activation, "activation"), (self.pooling, "pooling"),
                             (self.epochs, "epochs"), (self.lr, "lr"), (self.button, "train"),
                             (self.progress, "progress"), (self.status, "status"),
                             (self.plot, "plot"), (self.table, "table")):
            widget.add_class(f"lenet-explorer-{name}")
        self.button.on_click(self.on_train)
        self.ui = w.VBox([w.HBox([self.activation, self.pooling]),
                          w.HBox([self.epochs, self.lr]),
                          w.HBox([self.button, self.progress]), self.status, self.plot,
                          self.table])
        self.ui.add_class("lenet-explorer")
        self.refresh()

    def settings(self):
        """The current (activation, pooling, num_epochs, lr) chosen in the controls."""
        return self.activation.value, self.pooling.value, self.epochs.value, self.lr.value

    def _on_epoch(self, epoch, num_epochs):
        self.progress.max, self.progress.value = num_epochs, epoch

    def on_train(self, _button=None):
        """Train button: train or fetch the run, then redraw the plot and the table."""
        activation, pooling, num_epochs, lr = self.settings()
        self.button.disabled = True
        self.progress.max, self.progress.value = num_epochs, 0
        self.status.value = f"Training {activation}+{pooling}, {num_epochs} ep, lr {lr:g} ..."
        try:
            run, cached = self.explorer.train(activation, pooling, num_epochs, lr,
                                              on_epoch=self._on_epoch)
        except Exception as exc:  # show the problem in the widget instead of losing it in a log
            self.status.value = f"Error: {exc}"
            return
        except TrainingInterrupted as stop:  # the kernel was interrupted: say so, keep calm
            self.status.value = f"Stopped: {stop}"
            return
        finally:
            self.button.disabled = False
        self.progress.value = num_epochs
        how = "cached, shown at once" if cached else f"trained in {run.seconds:.1f} s"
        self.status.value = (f"{run.label}: test acc {run.history.test_acc[-1]:.3f} ({how}); "
                             f"{len(self.explorer.runs)} runs")
        self.refresh(run)

    def refresh(self, current=None):
        """Redraw the curves and the results table of every run with the explorer's seed."""
        # the grid's other seeds would bury the learner's own runs in a crowded legend
        runs = [r for r in self.explorer.runs.values() if r.seed == self.explorer.seed]
        self.plot.value = figure_png(lambda axes: plot_runs(runs, current, axes))
        self.table.value = table_html(runs, current)

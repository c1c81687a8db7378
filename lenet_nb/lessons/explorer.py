"""The activation x pooling explorer: any grid setting trained on the grid's own budget, drawn on
top of the stored range of the grid's seeds.

`Explorer` trains with `grid.train_setting` (same split, batch, initialisation and seeding as
the stored runs), so a learner's run with a stored setting and seed 0-2 repeats a stored run's
first epochs (on the same CPU and number of threads), and any run can be read against the
stored band. Its state sits behind locks and
every run builds its own network: JupyterLab may call widget callbacks on another thread.
"""

import base64
import html
import io
import threading
import time
from dataclasses import dataclass

from lenet_nb import experiments as xp
from lenet_nb.lessons.grid import (
    ACTIVATIONS,
    GRID,
    GRID_LRS,
    POOLINGS,
    stored_rates,
    train_setting,
)
from lenet_nb.stats import mean_range, where_in_range
from lenet_nb.train import TrainingInterrupted
from lenet_nb.validate import positive_number, whole_number

LR_CHOICES = (0.03, 0.1, 0.3, 0.9, 3.0)  # the rates of chapter 3's stored sweep
MAX_EPOCHS = GRID.config["epochs"]
SHOWN = 5  # the learner's last runs drawn on the plot (the table lists all)
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")  # one per drawn run, no repeat
_DRAWING = threading.Lock()  # matplotlib is not thread-safe: one figure at a time


@dataclass(frozen=True)
class Run:
    """One explorer run: its setting, validation accuracy per epoch, loss, seconds."""

    activation: str
    pooling: str
    lr: float
    num_epochs: int
    seed: int
    val_acc: tuple
    train_loss: tuple
    seconds: float

    @property
    def key(self):
        return self.activation, self.pooling, self.lr, self.num_epochs, self.seed

    @property
    def label(self):
        """'relu+max, lr 0.1, 3 ep, seed 0'."""
        return (f"{self.activation}+{self.pooling}, lr {self.lr:g}, {self.num_epochs} ep, "
                f"seed {self.seed}")


def run_key(activation, pooling, lr, num_epochs, seed=0):
    """Checked settings (activation, pooling, lr, num_epochs, seed); a clear error otherwise."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    num_epochs = whole_number("num_epochs", num_epochs)
    if num_epochs > MAX_EPOCHS:
        raise ValueError(f"num_epochs goes up to the grid's {MAX_EPOCHS}, got {num_epochs}")
    lr = positive_number("lr", lr)  # inf or NaN would train a NaN run
    return activation, pooling, float(f"{lr:.6g}"), num_epochs, whole_number("seed", seed, low=0)


class Explorer:
    """Trains grid settings on demand (same settings: cached) beside the stored grid rows."""

    def __init__(self, rows=None, config=None):
        self.rows, self.config = rows, dict(config or GRID.config)
        self.rates = {**GRID_LRS, **stored_rates(rows or [])}  # each activation's grid rate
        self.runs = {}  # key -> Run, in training order
        self._state = threading.Lock()  # guards self.runs
        self._training = threading.Lock()  # one training at a time

    def train(self, activation, pooling, lr, num_epochs, seed=0, on_epoch=None):
        """(run, cached): a cached run at once, else train one (`on_epoch(epoch, num_epochs)`
        after every epoch). Raises RuntimeError while another run trains, ValueError when
        the loss diverges, TrainingInterrupted on Ctrl-C (nothing is cached)."""
        key = run_key(activation, pooling, lr, num_epochs, seed)
        with self._state:
            if key in self.runs:
                return self.runs[key], True
        if not self._training.acquire(blocking=False):
            raise RuntimeError("another run is training: wait for it to finish")
        try:
            start, done = time.perf_counter(), []

            def tick(epoch, record):
                done.append(epoch)
                if on_epoch is not None:
                    on_epoch(epoch, key[3])

            try:
                found = xp.curves(train_setting(self.config, activation, pooling, key[4],
                                                lr=key[2], num_epochs=key[3], on_epoch=tick),
                                  "val_acc", "train_loss")
            except TrainingInterrupted as stop:  # Ctrl-C: an unfinished run, nothing cached
                stop.args = (f"{activation}+{pooling} interrupted in epoch {len(done) + 1} of "
                             f"{key[3]}: nothing cached",)
                raise
            except ArithmeticError:  # a non-finite loss: the same settings would fail again
                raise ValueError(f"{activation}+{pooling} at lr {key[2]:g} diverged (the loss "
                                 f"became NaN or infinite): pick a smaller lr") from None
            run = Run(*key, tuple(found["val_acc"]), tuple(found["train_loss"]),
                      time.perf_counter() - start)
        finally:
            self._training.release()
        with self._state:
            self.runs[key] = run
        return run, False

    def history(self):
        """Every run so far, in training order (a copy)."""
        with self._state:
            return list(self.runs.values())

    def band(self, activation, pooling, lr):
        """The stored seeds' validation curves for this setting, or None: the grid stores each
        activation at its own rate only."""
        curves = [r["val_acc"] for r in self.rows or [] if r["activation"] == activation
                  and r["pooling"] == pooling and r["lr"] == lr and r["status"] == "finished"]
        return curves or None


def band_note(explorer, run):
    """What the plot's band is, and where `run` ends against it (same epoch)."""
    band = explorer.band(run.activation, run.pooling, run.lr)
    if not explorer.rows:
        return "no stored band: the grid's runs are not stored here"
    if band is None:
        return (f"no stored band for {run.activation}+{run.pooling} at lr {run.lr:g} (the grid "
                f"stores {run.activation} at lr {explorer.rates[run.activation]:g})")
    at = [c[run.num_epochs - 1] for c in band]
    return (f"band: {run.activation}+{run.pooling}, lr {run.lr:g}, {len(band)} stored seeds; "
            f"this run at epoch {run.num_epochs}: {where_in_range(run.val_acc[-1], at)}")


def draw(explorer, runs, current=None, ax=None):
    """Validation accuracy per epoch: the current setting's stored band (range and mean,
    dashed) and the learner's last `SHOWN` runs on top; the legend lists exactly what is
    drawn. Returns the axis."""
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(7, 4.2)).subplots()
    shown = runs[-SHOWN:]
    ref = current or (shown[-1] if shown else None)
    band = explorer.band(ref.activation, ref.pooling, ref.lr) if ref else None
    if band:
        mean, low, high = zip(*(mean_range(e) for e in zip(*band)))
        epochs = range(1, len(mean) + 1)
        ax.fill_between(epochs, low, high, color="0.8",
                        label=f"stored range, {ref.activation}+{ref.pooling} lr {ref.lr:g} "
                              f"({len(band)} seeds)")
        ax.plot(epochs, mean, "k--", lw=1, label="stored mean")
    for color, run in zip(COLORS, shown):
        ax.plot(range(1, run.num_epochs + 1), run.val_acc, "o-", color=color,
                lw=3.5 if run is current else 2, ms=4, label=f"yours: {run.label}")
    ax.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1), xlim=(0.5, MAX_EPOCHS + 0.5))
    ax.grid(True, alpha=0.3)
    if band or shown:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2,
                  frameon=False)
    return ax


def figure_png(explorer, runs, current=None):
    """PNG bytes of `draw` (a figure of its own, no pyplot state; one drawing at a time)."""
    from matplotlib.figure import Figure

    with _DRAWING:
        fig = Figure(figsize=(7, 4.6), layout="constrained")
        draw(explorer, runs, current, fig.subplots())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=72)
    return buf.getvalue()


def table_html(runs, current=None, notes=None):
    """HTML table of the learner's runs; the current one marked (class and bold)."""
    head = "".join(f"<th>{h}</th>" for h in ("activation", "pooling", "lr", "epochs", "seed",
                                             "val acc", "train loss", "seconds", "vs stored"))
    body = []
    for run in runs:
        cells = [run.activation, run.pooling, f"{run.lr:g}", run.num_epochs, run.seed,
                 f"{run.val_acc[-1]:.3f}", f"{run.train_loss[-1]:.3f}", f"{run.seconds:.1f}",
                 (notes or {}).get(run.key, "")]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        mine = run is current
        style = ' style="font-weight:bold;background:#fff3bf"' if mine else ""
        cls = "lenet-explorer-row" + (" lenet-explorer-current" if mine else "")
        body.append(f'<tr class="{cls}"{style} data-key="{html.escape(run.label)}">{tds}</tr>')
    return (f'<table class="lenet-explorer-results" data-runs="{len(runs)}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def status_text(explorer, runs, current):
    """One line that counts what the plot and the table show."""
    drawn = min(len(runs), SHOWN)
    text = f"drawn: {drawn} of your {len(runs)} run{'s' if len(runs) != 1 else ''}"
    text += " (the table lists all)" if len(runs) > drawn else ""
    return f"{current.label} · {band_note(explorer, current)} · {text}"


class ExplorerWidget:
    """Controls, a plot and a table over an Explorer; callbacks only change widget state."""

    def __init__(self, explorer, activation="relu", pooling="max", num_epochs=3, seed=0):
        import ipywidgets as w  # imported here so the logic above works without a front end

        self.explorer = explorer
        wide = {"description_width": "initial"}
        self.activation = w.Dropdown(options=ACTIVATIONS, value=activation,
                                     description="activation", style=wide)
        self.pooling = w.Dropdown(options=POOLINGS, value=pooling, description="pooling",
                                  style=wide)
        self.lr = w.SelectionSlider(options=LR_CHOICES, value=self._rate(activation),
                                    description="lr", continuous_update=False, style=wide)
        self.epochs = w.IntSlider(value=num_epochs, min=1, max=MAX_EPOCHS, description="epochs",
                                  continuous_update=False, style=wide)
        self.seed = w.IntSlider(value=seed, min=0, max=9, description="seed",
                                continuous_update=False, style=wide)
        self.button = w.Button(description="Train", button_style="primary", icon="play")
        self.progress = w.IntProgress(value=0, min=0, max=num_epochs, description="progress")
        self.status = w.Label(value="Pick settings and press Train.")
        self.plot = w.Image(format="png")
        self.table = w.HTML()
        for widget, name in ((self.activation, "activation"), (self.pooling, "pooling"),
                             (self.epochs, "epochs"), (self.lr, "lr"), (self.seed, "seed"),
                             (self.button, "train"), (self.progress, "progress"),
                             (self.status, "status"), (self.plot, "plot"),
                             (self.table, "table")):
            widget.add_class(f"lenet-explorer-{name}")
        self.activation.observe(self._on_activation, names="value")
        self.button.on_click(self.on_train)
        self.ui = w.VBox([w.HBox([self.activation, self.pooling, self.lr]),
                          w.HBox([self.epochs, self.seed]),
                          w.HBox([self.button, self.progress]), self.status, self.plot,
                          self.table])
        self.ui.add_class("lenet-explorer")
        runs = explorer.history()
        self.refresh(runs[-1] if runs else None)

    def _rate(self, activation):
        rate = self.explorer.rates[activation]
        return rate if rate in LR_CHOICES else min(LR_CHOICES, key=lambda r: abs(r - rate))

    def _on_activation(self, change):
        self.lr.value = self._rate(change["new"])  # each activation opens at its grid rate

    def settings(self):
        """The current (activation, pooling, lr, num_epochs, seed) of the controls."""
        return (self.activation.value, self.pooling.value, self.lr.value, self.epochs.value,
                self.seed.value)

    def _on_epoch(self, epoch, num_epochs):
        self.progress.max, self.progress.value = num_epochs, epoch

    def on_train(self, _button=None):
        """Train button: train or fetch the run, then redraw the plot and the table."""
        activation, pooling, lr, num_epochs, seed = self.settings()
        self.button.disabled = True
        self.progress.max, self.progress.value = num_epochs, 0
        self.status.value = f"Training {activation}+{pooling}, lr {lr:g}, {num_epochs} ep ..."
        try:
            run, cached = self.explorer.train(activation, pooling, lr, num_epochs, seed,
                                              on_epoch=self._on_epoch)
        except Exception as exc:  # show the problem in the widget instead of losing it in a log
            self.status.value = f"Error: {exc}"
            return
        except KeyboardInterrupt as stop:  # the kernel was interrupted: say so, keep calm
            self.status.value = f"Stopped: {stop or 'the run was interrupted, nothing cached'}"
            return
        finally:
            self.button.disabled = False
        self.progress.value = num_epochs
        self.refresh(run, "cached, shown at once" if cached else
                     f"trained in {run.seconds:.1f} s")

    def refresh(self, current=None, how=None):
        """Redraw the plot, the status and the table (the learner's runs only)."""
        runs = self.explorer.history()
        self.plot.value = figure_png(self.explorer, runs, current)
        notes = {r.key: band_note(self.explorer, r).rsplit(": ", 1)[-1] for r in runs
                 if self.explorer.band(r.activation, r.pooling, r.lr)}
        self.table.value = table_html(runs, current, notes)
        if current is not None:
            self.status.value = status_text(self.explorer, runs, current) + (
                f" · {how}" if how else "")

    def static_html(self):
        """What a reader without a kernel sees: the picture as it was, the runs, the controls."""
        runs = self.explorer.history()
        current = runs[-1] if runs else None
        png = base64.b64encode(figure_png(self.explorer, runs, current)).decode()
        controls = (f"activation ({', '.join(ACTIVATIONS)}), pooling ({', '.join(POOLINGS)}), "
                    f"lr ({', '.join(f'{r:g}' for r in LR_CHOICES)}), epochs 1–{MAX_EPOCHS}, "
                    f"seed 0–9")
        status = html.escape(status_text(self.explorer, runs, current)) if current else ""
        return (f'<div class="lenet-explorer-static"><p><b>Explorer</b> (run the notebook to '
                f"train your own runs; controls: {html.escape(controls)})</p><p>{status}</p>"
                f'<img src="data:image/png;base64,{png}" alt="validation accuracy per epoch">'
                f"{table_html(runs, current)}</div>")

    def _repr_mimebundle_(self, **kwargs):
        """The widget; a stable short text and a static picture for readers without a kernel."""
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Explorer: activation × pooling, trained on the grid's budget"
        bundle["text/html"] = self.static_html()
        return bundle

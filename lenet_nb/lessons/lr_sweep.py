"""Choosing a learning rate: a validation split held out of the training set, a sweep, a plot."""

import contextlib
import numbers

import torch

from lenet_nb.data import TensorBatches
from lenet_nb.experiments import Experiment, curves
from lenet_nb.train import TrainingDiverged, TrainingInterrupted, fit, train_one_cycle
from lenet_nb.validate import whole_number


def split_validation(X, y, num_val, batch_size, seed=0, val_batch_size=1000):
    """(train_iter, val_iter): num_val random samples held out, the rest shuffled for training."""
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} images but y has {len(y)} labels: one label per image")
    if isinstance(num_val, numbers.Real) and 0 < num_val < 1:
        raise ValueError(f"num_val is a count of images, not a fraction: {num_val} of {len(y)} "
                         f"is num_val={round(num_val * len(y))}")
    num_val = whole_number("num_val", num_val)
    if not 0 < num_val < len(y):
        raise ValueError(f"num_val must be between 1 and {len(y) - 1}, got {num_val}")
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    val, train = perm[:num_val], perm[num_val:]
    return (TensorBatches(X[train], y[train], batch_size, shuffle=True, seed=seed),
            TensorBatches(X[val], y[val], val_batch_size))


def lr_sweep(build, train_iter, val_iter, lrs, num_epochs=1, seed=0):
    """Train `build()` once per lr with plain SGD (same seed, same batch order).

    `build` returns a fresh, seeded network. Returns one record per lr: lr, train_loss,
    train_acc and val_acc after the last epoch; a rate whose loss diverged gets None for all
    three and `diverged` (e.g. 'epoch 1, batch 3'), and the other rates go on. A Ctrl-C
    raises TrainingInterrupted carrying the finished rates' records as `e.partial_results`.
    """
    if isinstance(build, torch.nn.Module) or not callable(build):
        raise ValueError(f"build must be a function that returns a fresh network, e.g. "
                         f"lambda: LeNet(); got {type(build).__name__}")
    results, nets = [], []
    for lr in lrs:
        net = build()
        if any(net is old for old in nets):  # each rate would go on from the last one's weights
            raise ValueError("build returned the same network twice: it must build a new one "
                             "each call (lambda: LeNet(), not lambda: net)")
        nets.append(net)
        try:
            history = fit(net, train_iter, val_iter, num_epochs, lr=lr, seed=seed,
                          progress=False, live=False)
        except TrainingDiverged as stop:
            results.append({"lr": lr, "train_loss": None, "train_acc": None, "val_acc": None,
                            "diverged": f"epoch {stop.epoch}, batch {stop.batch}"})
            continue
        except TrainingInterrupted as stop:
            stop.partial_results = results
            raise
        last = history[-1]
        results.append({"lr": lr, "train_loss": last["train_loss"],
                        "train_acc": last["train_acc"], "val_acc": last["test_acc"]})
    return results


def best_lr(results):
    """The learning rate with the highest validation accuracy (the smaller one on a tie)."""
    finished = [r for r in results if r["val_acc"] is not None]
    if not finished:
        raise ValueError("no learning rate to choose from: the sweep is empty" if not results
                         else "every rate in the sweep diverged: try smaller ones")
    return max(finished, key=lambda r: (r["val_acc"], -r["lr"]))["lr"]


def _cell(record):
    return "diverged" if record["val_acc"] is None else f"{record['val_acc']:.4f}"


def sweep_table(results_by_label):
    """Markdown table: one row per lr, one validation-accuracy column per sweep."""
    labels = [k for k, v in results_by_label.items() if v]
    if not labels:
        raise ValueError("sweep_table needs at least one sweep with results, e.g. "
                         "{'sigmoid': lr_sweep(...)}")
    lrs = [r["lr"] for r in results_by_label[labels[0]]]
    lines = ["| lr | " + " | ".join(f"{k}: val acc" for k in labels) + " |",
             "|---|" + "---|" * len(labels)]
    for i, lr in enumerate(lrs):
        cells = [_cell(results_by_label[k][i]) for k in labels]
        lines.append(f"| {lr:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_lr_sweep(results_by_label, ax=None, chance=0.1):
    """Validation accuracy against the learning rate (log axis), one line per sweep; the axis."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3))
    for label, results in results_by_label.items():
        finished = [r for r in results if r["val_acc"] is not None]  # diverged: no point
        ax.plot([r["lr"] for r in finished], [r["val_acc"] for r in finished], "o-",
                label=label)
    ax.axhline(chance, color="gray", lw=0.8, ls=":", label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("validation accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


# --- the stored sweep: rates x activations at the d2l recipe's budget, three seeds ------------
#
# One SGD budget is shared by the sweep, chapter 4's grid and its ladder (issue 18, R2): the
# 50,000 training images left after holding out 10,000 for validation (split seed 0), batches of
# 256, 12 epochs = 12 x 196 = 2,352 steps (the d2l recipe: 10 x 235 = 2,350 on 60,000), seeds
# 0, 1, 2. A constant-rate run stopped after epoch k is bit-identical (same CPU capability, same
# thread count) to the first k epochs of the stored run with the same seed: a live run can be
# short and still be compared with the stored seeds at its epoch.

CHANCE = 0.2  # a rate with a seed at or below this validation accuracy never left chance
# a live run in quick mode: 3,000 images of the training file, 500 of them held out
QUICK_SPLIT = {"subset": 3000, "num_val": 500}

SWEEP_CONFIG = {
    "revision": 1,
    "data": "FashionMNIST training file, num_val held out (split_validation, split_seed)",
    "network": "d2l LeNet, average pooling, Xavier-uniform weights",
    "optimizer": "plain SGD, constant rate",
    "num_val": 10_000, "split_seed": 0, "batch_size": 256, "epochs": 12,
    # each activation's window of rates, a factor of 3 apart; the best must lie inside it
    "lrs": {"sigmoid": [0.1, 0.3, 0.9, 3.0, 9.0],
            "tanh": [0.03, 0.1, 0.3, 0.9, 3.0],
            "relu": [0.03, 0.1, 0.3, 0.9, 3.0]},
    "seeds": [0, 1, 2],
}
# every run on one thread: the same bits whatever the machine's core count (the thread count
# changes the order of sums), and on a busy 2-core machine several times faster than two
THREADS = 1

_DATA = {}  # the loaded splits, kept between runs (a sweep loads the training file once)


def budget_data(config):
    """(train_iter, val_iter) of the shared budget, loaded once per setting; a config's
    `subset` (a quick-mode live run) keeps only that many images of the training file."""
    from lenet_nb.data import load_split, to_float

    subset = config.get("subset")
    key = (config["num_val"], config["split_seed"], config["batch_size"], subset)
    if key not in _DATA:
        X, y = load_split("FashionMNIST", train=True)
        if subset is not None:
            X, y = X[:subset], y[:subset]
        _DATA[key] = split_validation(to_float(X), y, config["num_val"], config["batch_size"],
                                      seed=config["split_seed"])
    return _DATA[key]


def _test_iter():
    from lenet_nb.data import load_split, to_float

    if "test" not in _DATA:
        X, y = load_split("FashionMNIST", train=False)
        _DATA["test"] = TensorBatches(to_float(X), y, 1000)
    return _DATA["test"]


@contextlib.contextmanager
def _threads(n):
    old = torch.get_num_threads()
    torch.set_num_threads(n or old)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def sgd_run(config, run, epochs=None):
    """One run of the shared SGD budget: {"val_acc": [...], "train_loss": [...]} per epoch.

    `run`: activation, lr, seed, optionally pooling ("avg" unless given) and threads (torch's
    for this run). With `config["test_acc"]` true the test set is scored after every epoch too
    (chapter 4's grid). `epochs` shortens a live run (the stored runs use the config's).
    """
    from lenet_nb.models import LeNet, init_xavier

    train_iter, val_iter = budget_data(config)
    test = config.get("test_acc", False)
    with _threads(run.get("threads")):
        torch.manual_seed(run["seed"])  # the weights; fit(seed=...) then sets the batch order
        net = init_xavier(LeNet(run["activation"], run.get("pooling", "avg")))
        history = fit(net, train_iter, _test_iter() if test else val_iter,
                      epochs or config["epochs"], lr=run["lr"], seed=run["seed"],
                      val_iter=val_iter if test else None, progress=False, live=False)
    found = curves(history, "val_acc" if test else "test_acc", "train_loss",
                   *(["test_acc"] if test else []))
    if not test:
        found["val_acc"] = found.pop("test_acc")  # fit scored the validation split as "test"
    return found


def sweep_runs(config):
    """The sweep's runs: every activation x its rates x seed."""
    return [{"activation": a, "lr": lr, "seed": s, "threads": THREADS}
            for a, lrs in config["lrs"].items() for lr in lrs for s in config["seeds"]]


LR_SWEEP = Experiment("lr_sweep", "training_loop", SWEEP_CONFIG, runs=sweep_runs,
                      run_one=sgd_run, minutes=40)


# --- reading the stored sweep -----------------------------------------------------------------


def stored_sweep(results_dir=None):
    """The rows of results/lr_sweep.csv, or None after printing why they cannot be used (a
    missing, stale or incomplete file) and the command that makes them: the chapter still runs."""
    from lenet_nb.experiments import ResultsError, load

    try:
        return load(LR_SWEEP, results_dir)
    except ResultsError as problem:  # the message names the file by its path in the course
        path = LR_SWEEP.path(results_dir)
        print(f"no stored sweep to show: {str(problem).replace(str(path), f'results/{path.name}')}")
        return None


def sweep_settings(rows, epoch=None):
    """{activation: {lr: Setting}} of validation accuracy after `epoch` (1-based; None: the
    per-epoch curves)."""
    from lenet_nb.experiments import summary

    out = {}
    for (activation, lr), setting in summary(rows, ("activation", "lr"), "val_acc",
                                             epoch=epoch).items():
        out.setdefault(activation, {})[lr] = setting
    return out


def eligible(setting, chance=CHANCE):
    """True when every seed finished (none diverged) above chance level."""
    return bool(setting.values) and not setting.diverged and min(setting.values) > chance


def choose(by_lr, chance=CHANCE):
    """The choice among one activation's rates: best mean validation accuracy among the
    eligible rates (a tie goes to the smaller rate), the runner-up, and whether it is robust
    (its seeds' range lies above the runner-up's) or at the edge of the rates tried.

    Returns {"best", "runner_up", "robust", "edge"}; best is None when no rate is eligible.
    """
    from lenet_nb.stats import ranges_separate

    ranked = sorted((lr for lr, s in by_lr.items() if eligible(s, chance)),
                    key=lambda lr: (-by_lr[lr].mean, lr))
    if not ranked:
        return {"best": None, "runner_up": None, "robust": False, "edge": False}
    best, runner = ranked[0], ranked[1] if len(ranked) > 1 else None
    robust = runner is None or ranges_separate(by_lr[best].values, by_lr[runner].values)
    return {"best": best, "runner_up": runner, "robust": robust,
            "edge": best in (min(by_lr), max(by_lr))}


def chosen_rates(rows, epoch=None):
    """{activation: the chosen rate} after `epoch` (default: the last stored epoch)."""
    epoch = epoch or len(rows[0]["val_acc"])
    return {a: choose(by_lr)["best"] for a, by_lr in sweep_settings(rows, epoch).items()}


def stored_table(rows, epoch, digits=3):
    """Text table: one row per rate, one column per activation: mean (lowest–highest) of the
    validation accuracy after `epoch`; '*' marks each activation's choice, '–' a rate that
    activation did not try."""
    by_act = sweep_settings(rows, epoch)
    acts = list(by_act)
    lrs = sorted({lr for by_lr in by_act.values() for lr in by_lr})
    best = {a: choose(by_act[a])["best"] for a in acts}
    cells = {(lr, a): "–" if lr not in by_act[a] else
             by_act[a][lr].format(digits) + (" *" if lr == best[a] else "")
             for lr in lrs for a in acts}
    width = {a: 2 + max(len(a), *(len(cells[lr, a]) for lr in lrs)) for a in acts}
    lines = [f"{'lr':>6}  " + "".join(f"{a:<{width[a]}}" for a in acts)]
    lines += [f"{lr:>6g}  " + "".join(f"{cells[lr, a]:<{width[a]}}" for a in acts)
              for lr in lrs]
    return "\n".join(line.rstrip() for line in lines)


def choice_lines(rows, epoch):
    """One generated line per activation: its choice after `epoch`, the runner-up and whether
    the choice is robust (the two ranges separate)."""
    lines = []
    for a, by_lr in sweep_settings(rows, epoch).items():
        c = choose(by_lr)
        if c["best"] is None:
            lines.append(f"{a}: no rate left chance level in every seed: no choice")
            continue
        text = f"{a}: {c['best']:g} (mean {by_lr[c['best']].mean:.3f})"
        if c["runner_up"] is None:
            text += ", the only rate that trained in every seed"
        else:
            verdict = ("ranges separate: robust" if c["robust"] else
                       "ranges overlap: not robust, another seed could pick the runner-up")
            runner = by_lr[c["runner_up"]]
            text += f"; runner-up {c['runner_up']:g} (mean {runner.mean:.3f}), {verdict}"
        if c["edge"]:
            text += "; at the edge of the rates tried: widen the sweep"
        lines.append(text)
    return lines


def plot_sweep(rows, epochs=(1, 12), axes=None):
    """Validation accuracy against the rate after each of `epochs` (mean line, band over
    seeds, x for a rate where a seed diverged), then each activation's curve at its chosen
    rate; returns the axes."""
    import matplotlib.pyplot as plt

    from lenet_nb.plot import plot_bands

    if axes is None:
        _, axes = plt.subplots(1, len(epochs) + 1, figsize=(4 * (len(epochs) + 1), 3.2),
                               layout="constrained")
    for ax, epoch in zip(axes, epochs):
        for i, (a, by_lr) in enumerate(sweep_settings(rows, epoch).items()):
            done = [lr for lr, s in by_lr.items() if s.values and not s.diverged]
            ax.plot(done, [by_lr[lr].mean for lr in done], "o-", color=f"C{i}", label=a, ms=4)
            ax.fill_between(done, [by_lr[lr].low for lr in done],
                            [by_lr[lr].high for lr in done], color=f"C{i}", alpha=0.2, lw=0)
            gone = [lr for lr, s in by_lr.items() if s.diverged]
            ax.plot(gone, [0.0] * len(gone), "x", color=f"C{i}", ms=7)
        ax.axhline(0.1, color="gray", lw=0.8, ls=":")
        ax.set(xscale="log", ylim=(-0.03, 1), xlabel="learning rate (log scale)",
               ylabel="validation accuracy", title=f"after epoch {epoch} (x: diverged)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    chosen = chosen_rates(rows, epochs[-1])
    curves_by = {f"{a}, lr {chosen[a]:g}": by_lr[chosen[a]]
                 for a, by_lr in sweep_settings(rows).items() if chosen[a] is not None}
    plot_bands(curves_by, ax=axes[len(epochs)], ylabel="validation accuracy")
    axes[len(epochs)].set_title("each activation at its chosen rate", fontsize=10)
    return axes


def live_lines(rows, run, live):
    """Where a live run's last validation accuracy lands against the stored seeds at the same
    epoch, and whether it repeats the stored run with its seed bit for bit."""
    from lenet_nb.stats import where_in_range

    epoch = len(live["val_acc"])
    mine = [r for r in rows if r["activation"] == run["activation"] and r["lr"] == run["lr"]
            and r["status"] == "finished"]
    stored = [r["val_acc"][epoch - 1] for r in mine]
    same = [r for r in mine if r["seed"] == run["seed"]]
    repeat = bool(same) and same[0]["val_acc"][:epoch] == live["val_acc"]
    return [f"this run, {run['activation']} at lr {run['lr']:g}, seed {run['seed']}, after "
            f"epoch {epoch}: {where_in_range(live['val_acc'][-1], stored)} "
            f"(seeds {', '.join(str(r['seed']) for r in mine)})",
            f"identical to the stored run with seed {run['seed']} so far: "
            f"{'yes' if repeat else 'no'}"]


# --- the chapter's challenge: d2l's network as it is, trained another way ---------------------


def challenge_train(X, y, seconds):
    """The course's answer to challenge 3.11 (the notebook writes the same in the open): d2l's
    LeNet as it is, PyTorch's default initialisation, AdamW with a one-cycle rate peaking at
    0.01, batches of 128, a fixed number of epochs that fits the budget."""
    from lenet_nb.config import reduce_in_tests
    from lenet_nb.models import LeNet

    return train_one_cycle(LeNet(), X, y, reduce_in_tests(10, 1), max_lr=0.01, batch_size=128)

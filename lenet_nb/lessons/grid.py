"""The activation x pooling grid as a stored experiment, its verdicts, and the plateau exercise.

The grid trains the d2l LeNet with every activation and pooling on the shared SGD budget of
chapters 3 and 4 (the 50,000 training images left after holding out 10,000, batch 256,
12 epochs = 2,352 steps, Xavier initialisation, plain SGD), seeds 0-2, each activation at the
learning rate chapter 3's stored sweep chose for it on the validation split (`GRID_LRS`). Max
pooling uses its activation's rate, so a pooling comparison changes one thing. Each run's rate is
one of its fields (checked when the file is loaded), so a new choice re-runs only the runs of the
activations whose rate changed (`run grid --resume`).
"""

from lenet_nb import experiments as xp
from lenet_nb.config import reduce_in_tests
from lenet_nb.lessons.recipe_runs import CHANCE, plateau_epoch, recipe_from, recipe_settings
from lenet_nb.lessons.recipes import fit_setup, get_recipe, prepare_recipe
from lenet_nb.stats import mean_range, ranges_separate

ACTIVATIONS = ("sigmoid", "tanh", "relu")
POOLINGS = ("avg", "max")
# chosen on the validation split by chapter 3's stored learning-rate sweep (lessons/lr_sweep.py);
# tests/lessons/test_grid.py checks that they equal the sweep's choice
GRID_LRS = {"sigmoid": 0.9, "tanh": 0.3, "relu": 0.3}
NUM_VAL = 10_000
QUICK = {"subset": (1000, 200), "num_val": 200}  # quick mode: a small slice, same code


def setting_recipe(config, activation, pooling, lr):
    """The d2l recipe with the activation, pooling and rate of one grid setting."""
    return recipe_from("d2l", config["base"], lr=lr, keep_best=False,
                       model_kw={"activation": activation, "pooling": pooling})


def train_setting(config, activation, pooling, seed, lr, num_epochs=None, on_epoch=None):
    """Train one setting on the grid's budget (quick mode: a small slice); the History.

    `num_epochs` shortens a run: a constant-rate run stopped after epoch k has exactly the
    first k epochs of the full run with the same seed (on one CPU and thread count).
    `on_epoch(epoch, record)` is called after every epoch (a progress bar).
    """
    sizes = reduce_in_tests({"subset": None, "num_val": config["num_val"]}, QUICK)
    setup = prepare_recipe(setting_recipe(config, activation, pooling, lr),
                           num_epochs or config["epochs"], sizes["subset"], seed,
                           sizes["num_val"])
    after = None if on_epoch is None else (lambda epoch, net, record: on_epoch(epoch, record))
    return fit_setup(setup, after_epoch=after, progress=False, live=False)


def grid_run(config, run):
    """One stored run of the grid: validation and test accuracy and training loss per epoch."""
    history = train_setting(config, run["activation"], run["pooling"], run["seed"], run["lr"])
    return xp.curves(history, "val_acc", "test_acc", "train_loss")


def grid_runs(config):
    """Every activation x pooling x seed, each activation at its rate in GRID_LRS, on one
    thread (as chapter 3's sweep: the same bits whatever the machine's core count)."""
    return [{"activation": a, "pooling": p, "lr": GRID_LRS[a], "seed": s, "threads": 1}
            for a in ACTIVATIONS for p in config["poolings"] for s in config["seeds"]]


GRID = xp.Experiment(
    "grid", "recipes",
    {"revision": 1, "base": recipe_settings("d2l"), "poolings": list(POOLINGS), "epochs": 12,
     "num_val": NUM_VAL, "seeds": [0, 1, 2]},
    runs=grid_runs, run_one=grid_run, minutes=18)


def stored_rates(rows):
    """{activation: the learning rate its stored runs used}."""
    return {r["activation"]: r["lr"] for r in rows}


# --- rendering -------------------------------------------------------------------------------


def cells(rows, metric="test_acc", epoch=None):
    """{(activation, pooling): Setting} of `metric` (its last epoch, or `epoch`)."""
    found = xp.summary(rows, ("activation", "pooling"), metric)
    if epoch is None:
        for s in found.values():
            s.values = [v[-1] for v in s.values]
        return found
    return xp.summary(rows, ("activation", "pooling"), metric, epoch=epoch)


def grid_table(rows, digits=3):
    """Markdown: test accuracy after the last epoch, mean (range over seeds), activation x
    pooling; each row names its activation's learning rate."""
    found, lrs = cells(rows), stored_rates(rows)
    lines = ["| activation (SGD lr) | " + " | ".join(f"{p} pooling" for p in POOLINGS) + " |",
             "|---|" + "---|" * len(POOLINGS)]
    for a in ACTIVATIONS:
        row = [found[(a, p)].format(digits) if (a, p) in found else "–" for p in POOLINGS]
        rate = f" ({lrs[a]:g})" if a in lrs else ""
        lines.append(f"| {a}{rate} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def comparisons(rows, metric="test_acc"):
    """Every pair of settings that differ in one choice: means, difference, separate or not."""
    found = {k: s.values for k, s in cells(rows, metric).items() if s.values}
    pairs = [(("pooling", a), (a, "max"), (a, "avg")) for a in ACTIVATIONS]
    pairs += [(("activation", p), (b, p), (a, p)) for p in POOLINGS
              for i, a in enumerate(ACTIVATIONS) for b in ACTIVATIONS[i + 1:]]
    out = []
    for (what, _), one, two in pairs:
        if one in found and two in found:
            diff = mean_range(found[one])[0] - mean_range(found[two])[0]
            out.append({"changes": what, "a": "+".join(one), "b": "+".join(two), "diff": diff,
                        "separate": ranges_separate(found[one], found[two])})
    return out


def comparisons_table(rows, digits=3):
    """Markdown of `comparisons`: which differences are larger than the seed noise."""
    lines = ["| changes | A | B | A − B (means) | ranges separate |", "|---|---|---|---|---|"]
    for c in comparisons(rows):
        lines.append(f"| {c['changes']} | {c['a']} | {c['b']} | {c['diff']:+.{digits}f} | "
                     f"{'yes' if c['separate'] else 'no'} |")
    return "\n".join(lines)


def verdict_lines(rows, digits=3):
    """Generated answer to 'which choice matters more?': per kind of change, how many of its
    comparisons separate and the largest separated difference; nothing claimed otherwise."""
    lines = []
    for what in ("activation", "pooling"):
        found = [c for c in comparisons(rows) if c["changes"] == what]
        apart = [c for c in found if c["separate"]]
        text = f"changing the {what}: {len(apart)} of {len(found)} comparisons separate"
        if apart:
            big = max(apart, key=lambda c: abs(c["diff"]))
            text += (f"; the largest, {big['a']} against {big['b']}, "
                     f"{big['diff']:+.{digits}f}")
        lines.append(text)
    return lines


def opening_setting(rows, epoch=3, threshold=CHANCE):
    """(activation, pooling, why): the setting with the highest mean validation accuracy at
    `epoch` among those whose every seed is above `threshold` there (it learns by then);
    without stored rows, relu+max, and `why` says that nothing was chosen from data."""
    if not rows:
        return ("relu", "max", "relu+max, not chosen from data: the grid's runs are not stored "
                "here, so the explorer draws no band")
    at = cells(rows, "val_acc", epoch)
    learned = {k: s for k, s in at.items() if s.values and not s.diverged
               and min(s.values) > threshold}
    if not learned:
        raise ValueError(f"no setting has every seed above {threshold} at epoch {epoch}")
    best = max(learned, key=lambda k: (learned[k].mean, k))
    why = (f"{len(learned)} of {len(at)} settings have every seed above {threshold} at epoch "
           f"{epoch}; {best[0]}+{best[1]} has the highest mean validation accuracy there, "
           f"{learned[best].format()}")
    return best[0], best[1], why


def plot_grid(rows, axes=None, metric="val_acc"):
    """One panel per activation: the two poolings' bands (mean and range over seeds) per
    epoch, titled with the activation's rate; returns the axes."""
    import matplotlib.pyplot as plt

    from lenet_nb.plot import plot_bands

    if axes is None:
        _, axes = plt.subplots(1, len(ACTIVATIONS), figsize=(12, 3.4), sharey=True,
                               layout="constrained")
    for ax, a in zip(axes, ACTIVATIONS):
        mine = [r for r in rows if r["activation"] == a]
        plot_bands({f"{p} pooling": s for (_, p), s in
                    xp.summary(mine, ("activation", "pooling"), metric).items()}, ax=ax)
        ax.set_title(a + (f", lr {mine[0]['lr']:g}" if mine else ""), fontsize=9)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel(metric.replace("_", " ").replace("val", "validation"))
    return axes


# --- change and observe: how long the sigmoid network stays on its plateau --------------------

PLATEAU = {"images": 10_000, "num_val": 2_000, "batch_size": 128, "epochs": 6}
PLATEAU_QUICK = {"images": 800, "num_val": 200, "batch_size": 128, "epochs": 1}


def plateau_run(lr, seed=0):
    """Sigmoid + average pooling, Xavier, plain SGD at `lr` on a 10,000-image slice, batch 128,
    6 epochs (quick mode: 1 epoch on 800); the record: settings and val_acc per epoch."""
    size = reduce_in_tests(PLATEAU, PLATEAU_QUICK)
    history = fit_setup(prepare_recipe(
        get_recipe("d2l"), size["epochs"], (size["images"] + size["num_val"], 100), seed,
        size["num_val"], lr=lr, batch_size=size["batch_size"]), progress=False, live=False)
    return {"lr": lr, "seed": seed, **size, "activation": "sigmoid", "pooling": "avg",
            "val_acc": xp.curves(history, "val_acc")["val_acc"]}


def leaves_plateau(record, threshold=CHANCE):
    """The first epoch (1-based) whose validation accuracy passes `threshold`, or None."""
    return plateau_epoch(record["val_acc"], threshold)

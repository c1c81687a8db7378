"""The tutorials' recipes and the modern one as stored experiments: three seeds each, rendered.

Two experiments (run them with `python -m lenet_nb.course.experiments run NAME`):

- `recipes`: the Fashion-MNIST recipes (d2l, the d2l page, Learn PyTorch (14)) and the modern
  recipe on both data sets, each exactly as `RECIPES` says, seeds 0-2; per epoch the training
  loss and accuracy and the test accuracy.
- `mnist_intro`: the MNIST intro's recipe on 50,000 training images with 10,000 held out, per
  epoch validation and test accuracy, twice: with the learning rate it really trains with (its
  StepLR is never stepped) and with the StepLR stepped. The two agree until the first step, so
  one run trains the first `step_size` epochs once and then both continuations from a copy of
  everything (weights, momentum, batch order): the same numbers as two separate runs.
"""

import copy
from dataclasses import asdict, replace

from lenet_nb import experiments as xp
from lenet_nb.lessons.recipes import fit_setup, get_recipe, prepare_recipe
from lenet_nb.stats import format_mean_range, mean_range, ranges_separate, where_in_range

FASHION = ("d2l", "d2l-page", "learn14", "modern-fashion", "modern-mnist")
SEEDS = [0, 1, 2]
CHANCE = 0.2  # twice chance (0.1): a run above it has left the plateau
_NOT_SETTINGS = ("name", "source", "reported", "reported_note")  # text, not the numbers


def recipe_settings(name):
    """The fields of a recipe that set its numbers, as JSON (an experiment's configuration)."""
    return {k: v for k, v in asdict(get_recipe(name)).items() if k not in _NOT_SETTINGS}


def recipe_from(name, settings, **more):
    """The recipe `name` with the stored `settings` (and `more` changes) in place of its own."""
    return replace(get_recipe(name), **{**settings, **more})


def recipe_run(config, run):
    """One stored run of a recipe: per-epoch training loss and accuracy, test accuracy."""
    setup = prepare_recipe(recipe_from(run["recipe"], config["recipes"][run["recipe"]]),
                           seed=run["seed"])
    history = fit_setup(setup, progress=False, live=False)
    return xp.curves(history, "train_loss", "train_acc", "test_acc")


RECIPE_RUNS = xp.Experiment(
    "recipes", "recipes",
    {"revision": 1, "recipes": {name: recipe_settings(name) for name in FASHION},
     "seeds": SEEDS},
    # one thread, as the stored runs were made: two give other last digits on the same CPU
    runs=lambda c: xp.grid(c["seeds"], recipe=list(c["recipes"]), threads=[1]),
    run_one=recipe_run, minutes=15)


def _branch_point(setup):
    """A copy of everything the rest of a run depends on: weights, optimizer, batch order."""
    return (copy.deepcopy(setup.net.state_dict()), copy.deepcopy(setup.optimizer.state_dict()),
            setup.train_iter.generator.get_state())


def _restore(setup, point):
    weights, optimizer, order = point
    setup.net.load_state_dict(weights)
    setup.optimizer.load_state_dict(optimizer)
    setup.train_iter.generator.set_state(order)


def mnist_intro_run(config, run):
    """The MNIST intro's recipe per epoch, as trained (constant lr) and with StepLR stepped.

    Keys: val_acc, test_acc, train_loss (constant rate, as the tutorial's loop really runs);
    val_acc_steplr, test_acc_steplr (the scheduler stepped once per epoch).
    """
    recipe = recipe_from("mnist-intro", config["recipe"], keep_best=False, scheduler="step")
    setup = prepare_recipe(recipe, seed=run["seed"], num_val=config["num_val"])
    common = fit_setup(setup, recipe.step_size, progress=False, live=False)
    xp.curves(common)
    point = _branch_point(setup)  # the scheduler has stepped step_size times: lr now x gamma
    rest = recipe.num_epochs - recipe.step_size
    stepped = fit_setup(setup, rest, progress=False, live=False)
    _restore(setup, point)
    for group in setup.optimizer.param_groups:
        group["lr"] = recipe.lr  # never stepped: the rate it started with
    setup.scheduler = None
    constant = fit_setup(setup, rest, progress=False, live=False)
    out = {k: v + xp.curves(constant, k)[k] for k, v in
           xp.curves(common, "val_acc", "test_acc", "train_loss").items()}
    out.update({f"{k}_steplr": v + xp.curves(stepped, k)[k] for k, v in
                xp.curves(common, "val_acc", "test_acc").items()})
    return out


MNIST_INTRO = xp.Experiment(
    "mnist_intro", "recipes",
    {"revision": 1, "recipe": recipe_settings("mnist-intro"), "num_val": 10_000,
     "seeds": SEEDS},
    # batch 16: one thread is faster than two on 2 cores (less synchronisation per tiny step)
    runs=lambda c: [{"seed": s, "threads": 1} for s in c["seeds"]],
    run_one=mnist_intro_run, minutes=16)


def stored_or_note(exp, results_dir=None):
    """The rows of `exp`'s results file, or None after printing why there are none and the
    command that makes them: a chapter renders what is stored and says what is not."""
    try:
        return xp.load(exp, results_dir)
    except xp.ResultsError as e:
        print(f"{exp.name}: no stored results to show here. {e}")
        return None


def beside_stored(value, values, digits=3):
    """Where a live run's value lands in the stored seeds' values at the same epoch, or that
    there is nothing stored to compare it with."""
    if not values:
        return f"{float(value):.{digits}f}: no stored runs to compare with"
    return where_in_range(value, values, digits)


def stored_final(name):
    """The stored runs of recipe `name`: each finished seed's last-epoch test accuracy."""
    return [r["test_acc"][-1] for r in xp.load(RECIPE_RUNS)
            if r["recipe"] == name and r["status"] == "finished"]


# --- rendering -------------------------------------------------------------------------------


def final(values):
    """The last epoch of each seed's curve."""
    return [v[-1] for v in values]


def kept_epochs(row, on):
    """(epoch chosen by `on` accuracy, 1-based, the earlier on a tie; that epoch's test acc)."""
    curve = row[on]
    epoch = curve.index(max(curve)) + 1
    return epoch, row["test_acc"][epoch - 1]


def provenance_line(rows):
    """Where the stored runs were made: CPU, capability, torch, threads, commit(s), seconds."""
    machines = sorted({f"{r['cpu']} ({r['cpu_capability']}), torch {r['torch']}, "
                       f"{r['threads']} thread(s)" for r in rows})
    commits = sorted({r["commit"][:7] + (" with changes" if r["dirty"] == "yes" else "")
                      for r in rows})
    total = sum(r["wall_seconds"] for r in rows)
    return (f"{len(rows)} stored runs, {total / 60:.0f} min in all, on {'; '.join(machines)}; "
            f"commit {', '.join(commits)}")


def plateau_epoch(curve, threshold=CHANCE):
    """The first epoch (1-based) whose value passes `threshold`, or None."""
    return next((i for i, v in enumerate(curve, 1) if v > threshold), None)


def recipes_table(rows, intro_rows=None):
    """Markdown: each recipe's stored test accuracy, mean (range over seeds), beside its
    source's number; the MNIST intro at the epoch chosen on its validation split."""
    lines = ["| recipe | data | epochs | source reported | ours: test acc, mean (range) | "
             "seconds per run |", "|---|---|---|---|---|---|"]
    by = {}
    for r in rows:
        by.setdefault(r["recipe"], []).append(r)
    for name, runs in by.items():
        recipe = get_recipe(name)
        lines.append(_row(recipe, recipe.num_epochs, final([r["test_acc"] for r in runs]),
                          runs))
    if intro_rows:
        recipe = get_recipe("mnist-intro")
        chosen = [kept_epochs(r, "val_acc")[1] for r in intro_rows]
        lines.append(_row(recipe, f"{recipe.num_epochs} (best on validation)", chosen,
                          intro_rows))
    return "\n".join(lines)


def _row(recipe, epochs, values, runs):
    reported = f"{recipe.reported:.4f}" if recipe.reported is not None else recipe.reported_note
    seconds = mean_range([r["wall_seconds"] for r in runs])[0]
    return (f"| {recipe.name} | {recipe.dataset} | {epochs} | {reported} | "
            f"{format_mean_range(values, 4)} | {seconds:.0f} |")


def plateau_lines(rows, names=("d2l", "d2l-page")):
    """One line per sigmoid recipe: the epoch where its mean training accuracy passes 0.2."""
    lines = []
    for name in names:
        curves = [r["train_acc"] for r in rows if r["recipe"] == name]
        mean = [mean_range(epoch)[0] for epoch in zip(*curves)]
        left = plateau_epoch(mean)
        lines.append(f"{name}: mean training accuracy passes {CHANCE} (twice chance) "
                     + (f"in epoch {left} of {len(mean)}" if left else
                        f"in none of its {len(mean)} epochs"))
    return lines


def per_epoch_line(rows, name, metric="test_acc"):
    """'learn14, mean test acc per epoch: 0.81 0.84 …; last epoch over 3 seeds: 0.85 (…)'."""
    curves = [r[metric] for r in rows if r["recipe"] == name]
    mean = " ".join(f"{mean_range(e)[0]:.3f}" for e in zip(*curves))
    return (f"{name}, mean {metric.replace('_', ' ')} per epoch: {mean}; last epoch over "
            f"{len(curves)} seeds: {format_mean_range(final(curves))}")


def intro_table(rows):
    """Markdown, one row per seed: the epoch kept on validation and on the test set, each
    epoch's test accuracy, and how much the test-chosen number overstates it."""
    lines = ["| seed | epoch chosen on validation | its test acc | epoch chosen on test | "
             "its test acc | test-chosen − validation-chosen |", "|---|---|---|---|---|---|"]
    gaps = []
    for r in rows:
        (ve, vt), (te, tt) = kept_epochs(r, "val_acc"), kept_epochs(r, "test_acc")
        gaps.append(tt - vt)
        lines.append(f"| {r['seed']} | {ve} | {vt:.4f} | {te} | {tt:.4f} | {tt - vt:+.4f} |")
    lines.append(f"| mean (range) | | | | | {format_mean_range(gaps, 4)} |")
    return "\n".join(lines)


def replay(row):
    """A stored MNIST-intro run played back for a keep-the-best-epoch loop: (net,
    train_one_epoch, evaluate, val_iter, test_iter, num_epochs); `evaluate` answers the stored
    accuracy of the epoch the net has reached. Nothing is trained."""
    import torch

    val_iter, test_iter = ("validation split",), ("test set",)
    net = torch.nn.Module()
    net.register_buffer("epoch", torch.zeros((), dtype=torch.long))

    def train_one_epoch(net):
        net.epoch += 1

    def evaluate(net, data_iter):
        curve = row["val_acc"] if data_iter is val_iter else row["test_acc"]
        return curve[int(net.epoch) - 1]

    return net, train_one_epoch, evaluate, val_iter, test_iter, len(row["test_acc"])


def steplr_line(rows):
    """Last-epoch test accuracy, never stepped against stepped, and whether the ranges separate."""
    const = final([r["test_acc"] for r in rows])
    stepped = final([r["test_acc_steplr"] for r in rows])
    verdict = ("ranges separate" if ranges_separate(const, stepped)
               else "ranges overlap: no claim either way")
    return (f"last-epoch test acc over {len(rows)} seeds: lr constant (the tutorial's loop) "
            f"{format_mean_range(const, 4)} | StepLR stepped {format_mean_range(stepped, 4)} "
            f"| {verdict}")


def curves_by_recipe(rows, metric="test_acc"):
    """{recipe: per-seed curves} for `plot_bands`."""
    out = {}
    for r in rows:
        out.setdefault(r["recipe"], []).append(r[metric])
    return out


def plot_recipes(rows, intro_rows=None, axes=None):
    """One panel per recipe: test accuracy per epoch, mean and range of the seeds; the axes."""
    import matplotlib.pyplot as plt

    from lenet_nb.plot import plot_bands

    panels = curves_by_recipe(rows)
    if intro_rows:
        panels["mnist-intro"] = [r["test_acc"] for r in intro_rows]
        panels["mnist-intro, StepLR stepped"] = [r["test_acc_steplr"] for r in intro_rows]
    if axes is None:
        _, axes = plt.subplots(2, 4, figsize=(13, 5.6), layout="constrained")
    flat = list(getattr(axes, "flat", axes))
    for ax, (name, curves) in zip(flat, panels.items()):
        plot_bands({"test acc": curves}, ax=ax)
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    for ax in flat[len(panels):]:
        ax.set_visible(False)
    return axes

"""From the d2l recipe to the modern one, one change at a time: the `ladder` experiment.

Every step adds one change to the step above it and keeps the shared SGD budget of chapters 3
and 4 (the 50,000 training images left after holding out 10,000, batch 256, 12 epochs = 2,352
steps, Xavier initialisation), seeds 0-2. After every epoch the run is scored on the validation
split and, in evaluation mode with the weights fixed, on 10,000 of its training images.
"""

from lenet_nb import experiments as xp
from lenet_nb.data import TensorBatches
from lenet_nb.lessons.recipe_runs import recipe_from, recipe_settings
from lenet_nb.lessons.recipes import fit_setup, prepare_recipe
from lenet_nb.stats import format_mean_range, mean_range, ranges_separate
from lenet_nb.train import evaluate_accuracy

# (key, label, change). The optimizer comes first: at SGD's lr 0.9 a ReLU network diverges,
# so ReLU before Adam would measure the blow-up, not the activation. AdamW with weight decay 0
# is Adam.
STEPS = [
    ("d2l", "d2l recipe: sigmoid, avg pool, SGD lr 0.9", {}),
    ("adam", "optimizer: Adam lr 0.01", {"optimizer": "adamw", "lr": 0.01}),
    ("relu", "activation: ReLU", {"model_kw": {"activation": "relu", "pooling": "avg"}}),
    ("max", "pooling: max", {"model_kw": {"activation": "relu", "pooling": "max"}}),
    ("onecycle", "schedule: one-cycle, peak 0.01", {"scheduler": "onecycle"}),
    ("wd", "weight decay 0.05 (AdamW)", {"weight_decay": 0.05}),
]
LABELS = {key: label for key, label, _ in STEPS}
NUM_VAL = 10_000  # held out of the 60,000 training images: the ladder never sees the test set
# the eval-mode training accuracy is measured on this many of the (shuffled) training images:
# as many as the validation split, a fifth of the cost of all 50,000
TRAIN_EVAL_IMAGES = 10_000


def ladder_changes(steps=STEPS):
    """[(key, fields)]: each step's recipe fields, its change on top of all earlier ones."""
    fields, out = {}, []
    for key, _, change in steps:
        fields = {**fields, **change}
        out.append((key, dict(fields)))
    return out


def step_fields(key, steps=STEPS):
    """The recipe fields of the step called `key` (every change up to and including it)."""
    found = dict(ladder_changes(steps))
    if key not in found:
        raise ValueError(f"unknown ladder step {key!r}; choose one of {list(found)}")
    return found[key]


def train_accuracy_in_eval_mode(train_iter, num_images=TRAIN_EVAL_IMAGES):
    """after_epoch hook: accuracy on the first `num_images` training images (all of them with
    None) in eval mode, weights fixed.

    It reads an unshuffled view of the same tensors: iterating `train_iter` itself would draw
    from its shuffling generator and change the next epoch's batches.
    """
    if not hasattr(train_iter, "X"):
        raise ValueError("the eval-mode training accuracy needs in-memory batches "
                         "(TensorBatches, with .X and .y)")
    view = TensorBatches(train_iter.X[:num_images], train_iter.y[:num_images], 1000)

    def after_epoch(epoch, net, record):
        return {"train_acc_eval": evaluate_accuracy(net, view)}

    return after_epoch


def ladder_run(config, run, num_epochs=None, subset=None):
    """One step of the ladder for one seed: per-epoch validation, test and training accuracy
    (eval mode), training loss. `num_epochs` and `subset` shorten a live or test run."""
    recipe = recipe_from("d2l", config["base"], **dict(config["steps"])[run["step"]],
                         keep_best=False)
    setup = prepare_recipe(recipe, num_epochs or config["epochs"], subset, run["seed"],
                           config["num_val"])
    history = fit_setup(setup, after_epoch=train_accuracy_in_eval_mode(
        setup.train_iter, config["train_eval_images"]), progress=False, live=False)
    return xp.curves(history, "val_acc", "test_acc", "train_acc_eval", "train_loss")


LADDER = xp.Experiment(
    "ladder", "recipes",
    {"revision": 1, "base": recipe_settings("d2l"), "steps": ladder_changes(), "epochs": 12,
     "num_val": NUM_VAL, "train_eval_images": TRAIN_EVAL_IMAGES, "seeds": [0, 1, 2]},
    # one thread, as chapter 3's sweep: the same bits whatever the machine's core count
    runs=lambda c: [{**r, "threads": 1} for r in xp.grid(c["seeds"],
                                                          step=[key for key, _ in c["steps"]])],
    run_one=ladder_run, minutes=19)


# --- rendering -------------------------------------------------------------------------------


def ladder_rows(rows, epoch=None):
    """[{key, step, seeds, val_acc, train_acc}] per step in ladder order: last epoch (or `epoch`)
    of each seed; train_acc is the eval-mode training accuracy."""
    out = {}
    for r in rows:
        i = -1 if epoch is None else epoch - 1
        row = out.setdefault(r["step"], {"key": r["step"], "step": LABELS.get(r["step"],
                                                                              r["step"]),
                                         "seeds": [], "val_acc": [], "train_acc": []})
        if r["status"] == "diverged":
            continue
        row["seeds"].append(r["seed"])
        row["val_acc"].append(r["val_acc"][i])
        row["train_acc"].append(r["train_acc_eval"][i])
    return list(out.values())


def ladder_table(rows, digits=3):
    """Markdown: validation and eval-mode training accuracy per step, mean (range over seeds),
    the train − val gap, and whether the step's validation range separates from the row above."""
    seeds = len(rows[0]["seeds"])
    lines = [f"| step (each adds one change) | val acc, mean (range), {seeds} seeds | "
             f"train acc (eval mode), mean (range) | train − val | separates from the row "
             f"above |", "|---|---|---|---|---|"]
    for i, row in enumerate(rows):
        gap = [t - v for t, v in zip(row["train_acc"], row["val_acc"])]
        sep = "–" if i == 0 else ("yes" if ranges_separate(row["val_acc"],
                                                           rows[i - 1]["val_acc"]) else "no")
        lines.append(f"| {row['step']} | {format_mean_range(row['val_acc'], digits)} | "
                     f"{format_mean_range(row['train_acc'], digits)} | "
                     f"{format_mean_range(gap, digits)} | {sep} |")
    return "\n".join(lines)


def ladder_verdicts(rows):
    """One generated line per step: its change in mean validation accuracy and gap, and a claim
    only where the ranges separate."""
    lines = []
    for before, row in zip(rows, rows[1:]):
        delta = mean_range(row["val_acc"])[0] - mean_range(before["val_acc"])[0]
        gap = [mean_range([t - v for t, v in zip(r["train_acc"], r["val_acc"])])[0]
               for r in (before, row)]
        verdict = ("larger than the seed noise" if ranges_separate(row["val_acc"],
                                                                   before["val_acc"])
                   else "ranges overlap: no claim")
        lines.append(f"{row['step']}: val acc {delta:+.3f} ({verdict}); train − val gap "
                     f"{gap[0]:.3f} -> {gap[1]:.3f}")
    return lines

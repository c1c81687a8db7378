"""From the d2l recipe to the modern one, one change at a time, several seeds per step."""

from lenet_nb.config import reduce_in_tests
from lenet_nb.lessons.recipes import get_recipe, run_recipe
from lenet_nb.stats import format_mean_range, ranges_separate

# Each step adds one change to the step before it. The optimizer comes first: at SGD's
# lr 0.9 a ReLU network diverges (the grid of chapter 4, section 9, shows it), so ReLU before
# Adam would measure the blow-up, not the activation. AdamW with weight decay 0 is Adam.
STEPS = [
    ("d2l recipe: sigmoid, avg pool, SGD lr 0.9", {}),
    ("optimizer: Adam lr 0.01", {"optimizer": "adamw", "lr": 0.01}),
    ("activation: ReLU", {"model_kw": {"activation": "relu", "pooling": "avg"}}),
    ("pooling: max", {"model_kw": {"activation": "relu", "pooling": "max"}}),
    ("schedule: one-cycle, peak 0.01", {"scheduler": "onecycle"}),
    ("weight decay 0.05 (AdamW)", {"weight_decay": 0.05}),
]
NUM_VAL = 10_000  # held out of the 60,000 training images: the comparison never sees the test set


def ladder_changes(steps=STEPS):
    """The recipe fields of every step: each step's changes on top of all earlier ones."""
    fields, out = {}, []
    for label, change in steps:
        fields = {**fields, **change}
        out.append((label, dict(fields)))
    return out


def run_ladder(seeds=(0, 1), base="d2l", steps=STEPS, num_epochs=None, num_val=None):
    """Train every step of the ladder once per seed; one record per step with per-seed numbers.

    Every step keeps the base recipe's epochs, batch size and initialisation, and is scored on
    a validation split held out of the training set (quick mode: one epoch, small sizes).
    """
    base = get_recipe(base)
    num_val = num_val if num_val is not None else reduce_in_tests(NUM_VAL, 200)
    rows = []
    for label, fields in ladder_changes(steps):
        runs = [run_recipe(base, num_epochs=num_epochs, seed=s, num_val=num_val, progress=False,
                           live=False, keep_best=False, **fields) for s in seeds]
        rows.append({"step": label, "seeds": list(seeds),
                     "val_acc": [r.history.val_acc[-1] for r in runs],
                     "train_acc": [r.history.train_acc[-1] for r in runs],
                     "epochs": runs[0].num_epochs})
    return rows


def ladder_table(rows, digits=3):
    """Markdown table: validation and training accuracy per step as mean (range over seeds),
    and whether the step's validation range separates from the step above."""
    seeds = len(rows[0]["seeds"])
    lines = [f"| step (each adds one change) | val acc, mean (range), {seeds} seeds | "
             f"train acc, mean (range) | train − val | separates from the row above |",
             "|---|---|---|---|---|"]
    for i, row in enumerate(rows):
        gap = [t - v for t, v in zip(row["train_acc"], row["val_acc"])]
        if i == 0:
            sep = "–"
        else:
            sep = "yes" if ranges_separate(row["val_acc"], rows[i - 1]["val_acc"]) else "no"
        lines.append(f"| {row['step']} | {format_mean_range(row['val_acc'], digits)} | "
                     f"{format_mean_range(row['train_acc'], digits)} | "
                     f"{format_mean_range(gap, digits)} | {sep} |")
    return "\n".join(lines)

"""Pictures and tables for chapter 5: Table I as a grid, the RBF bitmaps, F6 codes, misclassified
digits, and the stored experiments (results/lenet5.csv, results/lenet5_validation.csv) rendered."""

import matplotlib.pyplot as plt
import torch

from lenet_nb.experiments import Setting, summary
from lenet_nb.lenet5 import c3_connections, rbf_bitmaps
from lenet_nb.plot import plot_bands, show_images
from lenet_nb.stats import mean_range, ranges_separate

SQUASH_MAX = 1.7159  # the squashing function's bound: F6 outputs lie in (-A, A)


def plot_c3_table(ax=None):
    """Draw Table I: which S2 map (row) feeds which C3 map (column); returns the axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 2.6))
    table = c3_connections()
    ax.imshow(table.float().numpy(), cmap="Greys", vmin=0, vmax=1.6)
    for i, k in table.nonzero().tolist():
        ax.text(k, i, "X", ha="center", va="center", fontsize=9, color="white")
    ax.set_xticks(range(16))
    ax.set_yticks(range(6))
    ax.set_xlabel("C3 map")
    ax.set_ylabel("S2 map")
    ax.set_title(f"Table I: {int(table.sum())} of 96 connections")
    return ax


def as_bitmap(code):
    """An 84-vector (F6 output or RBF centre) as the 12x7 image it encodes."""
    return code.detach().cpu().reshape(12, 7)


def show_bitmaps(scale=1.0):
    """The ten fixed RBF centres drawn as 7x12 images; returns the axes."""
    imgs = [-as_bitmap(b) for b in rbf_bitmaps()]  # negate: ink (+1) shows dark on gray cmap
    return show_images(imgs, 1, 10, titles=[str(d) for d in range(10)], scale=scale)


def collect_errors(net, data_iter, predict):
    """All misclassified images of data_iter: (X, y, y_pred)."""
    net.eval()
    Xs, ys, ps = [], [], []
    with torch.inference_mode():
        for X, y in data_iter:
            y_pred = predict(net(X))
            wrong = y_pred != y
            Xs.append(X[wrong])
            ys.append(y[wrong])
            ps.append(y_pred[wrong])
    return torch.cat(Xs), torch.cat(ys), torch.cat(ps)


def show_codes(net, X, y, scale=1.2):
    """For each image: the digit, its F6 code as 7x12, the bitmap of the predicted class.

    One colour map (ink dark) for every column; F6 codes and bitmaps share one scale, the
    squashing function's range, shown by the colour bar. Returns the axes (flattened).
    """
    net.eval()
    with torch.inference_mode():
        codes = net.features(X)
        y_pred = net.predict(net.output(codes))
    fig, axes = plt.subplots(len(X), 3, figsize=(3 * scale + 0.8, len(X) * scale), squeeze=False)
    for row, img, code, label, pred in zip(axes, X, codes, y, y_pred):
        row[0].imshow(img.squeeze(0).numpy(), cmap="gray_r", vmin=0, vmax=1)
        for ax, picture in ((row[1], as_bitmap(code)), (row[2], as_bitmap(rbf_bitmaps()[pred]))):
            image = ax.imshow(picture.numpy(), cmap="gray_r", vmin=-SQUASH_MAX, vmax=SQUASH_MAX)
        for ax, title in zip(row, (f"label {int(label)}", "F6 output", f"bitmap {int(pred)}")):
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.colorbar(image, ax=axes[:, 1:].ravel().tolist(), shrink=0.6,
                 label="F6 value / bitmap pixel (digit: pixel 0–1)")
    return axes.flatten()


# --- the stored experiments, rendered (rows from lenet_nb.experiments.load) ------------------

# The paper's MNIST test errors in percent (Fig. 9 of LeCun et al. 1998).
PAPER_ROWS = (
    ("linear classifier (paper)", 12.0),
    ("784-300-10 net (paper)", 4.7),
    ("LeNet-1 (paper)", 1.7),
    ("LeNet-4 (paper)", 1.1),
    ("LeNet-5 (paper)", 0.95),
    ("LeNet-5, distorted training images (paper)", 0.8),
)
PAPER = {"lenet5": 0.95, "lenet5-distorted": 0.8}  # the settings the paper reports itself
# (setting, compared with, what changes between them): the chapter's one-change comparisons
COMPARISONS = (
    ("lenet5-softmax", "lenet5", "the output layer and the loss"),
    ("d2l", "lenet5", "the network and the optimiser together"),
    ("lenet5-30", "lenet5", "ten more epochs"),
    ("lenet5-distorted", "lenet5-30", "distortions, 30 epochs each"),
)


def final_errors(rows, by="setting"):
    """{setting: (errors in % after the last epoch, one per finished seed; seeds; diverged)}."""
    return {key: ([100 * curve[-1] for curve in s.values], s.seeds, s.diverged)
            for key, s in summary(rows, by, "error").items()}


def _range(errors):
    """'0.92 % (0.89–0.94 %)' of a list of errors in percent."""
    mean, lo, hi = mean_range(errors)
    return f"{mean:.2f} % ({lo:.2f}–{hi:.2f} %)"


def results_table(rows, labels):
    """Markdown: the paper's rows, then each stored setting's test error over seeds."""
    lines = ["| model | epochs | test error: mean | range over seeds | each seed | "
             "minutes per run |", "|---|---|---|---|---|---|"]
    lines += [f"| {name} | | {err:.2f} % | | | |" for name, err in PAPER_ROWS]
    for key, (errors, seeds, diverged) in final_errors(rows).items():
        group = [r for r in rows if r["setting"] == key]
        epochs = next((len(r["error"]) for r in group if r["status"] == "finished"), "–")
        minutes = sum(r["wall_seconds"] for r in group) / len(group) / 60
        each = ", ".join(f"{s}: {e:.2f}" for s, e in zip(seeds, errors))
        each += f"; {diverged} diverged" if diverged else ""
        if not errors:
            lines.append(f"| {labels[key]} (ours) | {epochs} | all diverged | | {each} | "
                         f"{minutes:.1f} |")
            continue
        mean, lo, hi = mean_range(errors)
        lines.append(f"| {labels[key]} (ours) | {epochs} | {mean:.2f} % | {lo:.2f}–{hi:.2f} % | "
                     f"{each} | {minutes:.1f} |")
    return "\n".join(lines)


def _against_paper(label, errors, paper):
    mean, lo, hi = mean_range(errors)
    where = "inside" if lo <= paper <= hi else "below" if paper < lo else "above"
    return (f"{label}: {_range(errors)} over {len(errors)} seeds; the paper's single run, "
            f"{paper:g} %, lies {where} this range")


def comparison_lines(rows, labels):
    """Generated verdicts: each paper figure against our range, each comparison's ranges."""
    finals = final_errors(rows)
    lines = [_against_paper(labels[k], finals[k][0], paper) for k, paper in PAPER.items()
             if finals.get(k, ([],))[0]]
    for a, b, what in COMPARISONS:
        (ea, *_), (eb, *_) = finals.get(a, ([],)), finals.get(b, ([],))
        if not ea or not eb:
            lines.append(f"{labels[a]} against {labels[b]}: not compared (a setting has no "
                         f"finished run)")
            continue
        ma, mb = mean_range(ea)[0], mean_range(eb)[0]
        if ranges_separate(ea, eb):
            side = "lower" if ma < mb else "higher"
            verdict = (f"ranges separate: {side} in every seed (mean {ma:.2f} % against "
                       f"{mb:.2f} %, {ma / mb:.2f} times)")
        else:
            verdict = (f"ranges overlap: {len(ea)} and {len(eb)} seeds cannot tell them apart "
                       f"(mean {ma:.2f} % against {mb:.2f} %)")
        lines.append(f"{labels[a]} against {labels[b]} ({what}): {verdict}")
    return lines


def stored_line(rows):
    """One line of provenance: runs, machine, torch, threads, commit, date, training time."""
    finished = sum(r["status"] == "finished" for r in rows)
    machines = sorted({f"{r['cpu']} ({r['cpu_capability']}, {r['threads']} threads, torch "
                       f"{r['torch']})" for r in rows})
    commits = sorted({r["commit"][:7] + ("+changes" if r["dirty"] == "yes" else "")
                      for r in rows})
    hours, minutes = divmod(round(sum(r["wall_seconds"] for r in rows) / 60), 60)
    took = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return (f"stored: {len(rows)} runs ({finished} finished, {len(rows) - finished} diverged) "
            f"on {' / '.join(machines)}; commit {', '.join(commits)}; finished "
            f"{max(r['finished_at'] for r in rows)[:10]}; {took} of training in all")


def plot_stored(rows, labels, ax=None, ylim=3.0):
    """Test error (%) per epoch: mean and range over seeds per setting, the paper's figures as
    dashed lines; errors above `ylim` (the d2l LeNet's first epochs) run off the top. The axis."""
    settings = {labels[k]: Setting([[100 * e for e in curve] for curve in s.values], s.seeds,
                                   s.diverged)
                for k, s in summary(rows, "setting", "error").items()}
    ax = plot_bands(settings, ax=ax, ylabel="test error (%)")
    for name, err in PAPER_ROWS[-2:]:
        ax.axhline(err, color="gray", ls="--", lw=0.8)
        ax.annotate(name, (1, err), fontsize=7, color="gray", va="bottom")
    ax.set_ylim(0, ylim)
    ax.legend(fontsize=7, loc="upper right")
    return ax


def sweep_table(rows):
    """Markdown: the validation sweep, one row per j: error after the last epoch over seeds."""
    lines = ["| j | seeds | validation error: mean | range over seeds | each seed |",
             "|---|---|---|---|---|"]
    for j, (errors, seeds, diverged) in sorted(final_errors(rows, "j").items()):
        each = ", ".join(f"{s}: {e:.2f}" for s, e in zip(seeds, errors))
        each += f"; {diverged} diverged" if diverged else ""
        if not errors:
            lines.append(f"| {j:g} | {len(seeds)} | all diverged | | {each} |")
            continue
        mean, lo, hi = mean_range(errors)
        lines.append(f"| {j:g} | {', '.join(map(str, seeds))} | {mean:.2f} % | "
                     f"{lo:.2f}–{hi:.2f} % | {each} |")
    return "\n".join(lines)


def sweep_lines(rows, chosen):
    """Generated verdicts on the sweep: the lowest mean, and whether `chosen` (the j the chapter
    uses) separates from every other j."""
    finals = {j: e for j, (e, _, _) in final_errors(rows, "j").items() if e}
    best = min(finals, key=lambda j: mean_range(finals[j])[0])
    lines = [f"lowest mean validation error: j = {best:g} ({_range(finals[best])})"]
    for j in sorted(finals):
        if j == chosen:
            continue
        split = ranges_separate(finals[chosen], finals[j])
        lines.append(f"j = {chosen:g} against j = {j:g}: ranges "
                     f"{'separate' if split else 'overlap'} "
                     f"({_range(finals[chosen])} against {_range(finals[j])})")
    return lines

# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,nbgrader,-all
#     formats: notebooks///ipynb,notebooks_py///py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 7 — Draw a digit, and look inside the network that reads it
#
# LeNet became famous for reading digits that people wrote. In this chapter you write them: a
# drawing pad sends every finished stroke to two trained networks, the paper's LeNet-5 from chapter
# 5 and the d2l-style LeNet of chapters 2 and 3 (the network of the book *Dive into Deep Learning*,
# d2l for short), and shows what each reads, the 28×28 image it actually saw and LeNet-5's first
# feature maps. Then we look inside:
#
# 1. two trained readers, cached on disk;
# 2. how a drawing becomes an MNIST digit (you write the preprocessing);
# 3. the drawing pad;
# 4. occlusion: hide part of the digit and watch the score fall (you write it);
# 5. saliency: which pixels the score is most sensitive to (you write it);
# 6. receptive fields: which input pixels one unit can see (you write the rule);
# 7. a shift and rotation test: what convolution and pooling buy, and where they stop;
# 8. does our preprocessing keep MNIST's accuracy?
#
# The outputs stored here come from a full run on a 2-core CPU shared with other jobs; how the
# tests re-run the chapter in a shorter form is in the README, section "Quick mode and tests".

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from torch.nn import functional as F

from lenet_nb.config import reduce_in_tests
from lenet_nb.data import load_split, to_float
from lenet_nb.exercises import draw_and_look_inside as ex
from lenet_nb.lessons import draw, explain
from lenet_nb.lessons.draw import EmptyDrawing, preprocess, to_ink, trained
from lenet_nb.lessons.drawpad import DrawPad, receptive_field_picker, render_strokes, show_reading
from lenet_nb.lessons.explain import class_scores
from lenet_nb.plot import show_images

# %% [markdown]
# ## 1. Two trained readers
#
# `trained(name)` returns a trained network and a few facts about it. The first time, it trains
# the network with a progress bar (chapter 5's one-cycle recipe, where the learning rate rises
# and then falls once over the run, shortened to three epochs; the sigmoid d2l LeNet uses Adam,
# chapter 4's optimiser, with which it learns much faster in so short a budget) and
# saves the weights atomically under `checkpoints/draw/`, which git ignores; later calls load
# them with `weights_only=True`, so a checkpoint file can hold numbers but never code. Its
# source is `lenet_nb/lessons/draw.py` (`trained`, `train_net`, `RECIPES`); the training loop is
# `fit` from chapter 3 (`lenet_nb/train.py`).

# %%
# NBVAL_IGNORE_OUTPUT
# (training time and accuracy depend on the mode and the machine)
lenet5, lenet5_info = trained("lenet5")
d2l, d2l_info = trained("d2l")
for name, info in [("LeNet-5", lenet5_info), ("d2l LeNet", d2l_info)]:
    how = f"trained now in {info['seconds']:.0f} s" if info["source"] == "trained" else "loaded"
    print(f"{name:<10} test accuracy {100 * info['test_acc']:.2f} % ({how})")

# %%
# in a full run both readers must reach 98.5 % test accuracy; quick mode only checks they ran
for info in (lenet5_info, d2l_info):
    assert info["test_acc"] >= reduce_in_tests(0.985, 0.0), info

# %% [markdown]
# ## 2. From a drawing to an MNIST digit
#
# A network reads best what looks like its training images, so a drawing must be prepared the
# way MNIST's digits were. The MNIST authors took each scanned digit (black ink on white), cut
# it to its ink, scaled it so that its longer side is 20 pixels (keeping its proportions, with
# anti-aliasing, which gives the grey edges), and put it in a 28×28 field so that the *centre
# of mass* of its ink sits at pixel (14, 14). Our steps, on the canvas's image:
#
# 1. **ink**: grey level or colour + transparency → ink in [0, 1], bright ink on black;
#    the background level (the median pixel) is subtracted, so grey paper in a photo counts as
#    no ink;
# 2. **crop** to the box of the pixels with ink above 0.1;
# 3. **scale** the longer side to 20 px (bilinear with anti-aliasing: shrinking must average
#    pixels, not skip them), then make the strongest stroke full ink (1), as in MNIST;
# 4. **centre**: place it whole-pixel in the 28×28 field so that its centre of mass lands on
#    pixel 14 (a very lopsided digit is kept inside the field rather than cut).
#
# Then each network's own input scaling: the d2l LeNet reads the 28×28 image as it is;
# LeNet-5 reads it padded to 32×32 and maps background and ink to the paper's input levels
# itself (chapter 5). Step 1 is `to_ink` in `lenet_nb/lessons/draw.py`; here are steps 2–4, written
# out.

# %%
def my_center_digit(ink):
    """Steps 2-4 on an ink image [H, W] (NumPy): crop, longer side 20 px, centre of mass at 14."""
    ink = np.clip(ink - np.median(ink), 0, None)  # the background level becomes 0
    mask = ink > 0.1
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    digit = torch.from_numpy(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy())
    h, w = digit.shape
    size = (max(1, round(h * 20 / max(h, w))), max(1, round(w * 20 / max(h, w))))
    digit = F.interpolate(digit[None, None], size=size, mode="bilinear", antialias=True,
                          align_corners=False)[0, 0].clamp(min=0)
    digit = digit / digit.max()
    mass = digit.sum()
    cy = float((digit.sum(1) * torch.arange(size[0])).sum() / mass)
    cx = float((digit.sum(0) * torch.arange(size[1])).sum() / mass)
    top = min(max(int(np.floor(14 - cy + 0.5)), 0), 28 - size[0])
    left = min(max(int(np.floor(14 - cx + 0.5)), 0), 28 - size[1])
    out = torch.zeros(1, 1, 28, 28)
    out[0, 0, top : top + size[0], left : left + size[1]] = digit
    return out


# %% [markdown]
# We try it on three drawings made of strokes, as the pad records them: a list of
# `(pen width, [(x, y), ...])` on a 280×280 canvas. `render_strokes` (in
# `lenet_nb/lessons/drawpad.py`) paints them the way the canvas does: black, round ends, transparent
# background, so the image is RGBA. The next cell checks `my_center_digit` against the package's
# `preprocess` (`lenet_nb/lessons/draw.py`), which the pad uses.

# %%
SEVEN = [(18, [(70, 60), (210, 60), (120, 240)])]
ONE = [(18, [(150, 40), (140, 240)])]
FOUR = [(18, [(170, 40), (70, 170), (220, 170)]), (18, [(170, 40), (170, 250)])]
drawings = {"seven": SEVEN, "one": ONE, "four": FOUR}
for name, strokes in drawings.items():
    image = render_strokes(strokes)  # [280, 280, 4] RGBA
    mine, reference = my_center_digit(to_ink(image)), preprocess(image)
    same = torch.equal(mine, reference)
    print(f"{name:<6} canvas {image.shape} -> {tuple(mine.shape)}, same outputs: {same}")
    assert same, f"my_center_digit differs from lenet_nb.lessons.draw.preprocess on {name}"

# %% [markdown]
# ### Exercise 7.1 (complete the code): the bounding box of the ink
#
# Step 2 on its own: write `bounding_box(ink, level)`, the
# box `(top, left, bottom, right)` of the pixels whose ink is above `level`, with `bottom` and
# `right` exclusive like Python slices, so that `ink[top:bottom, left:right]` is the crop. The
# checker runs it on a small fixed image with faint pixels around a digit-like shape, and on a
# single ink pixel in a wide image; it names the usual slips (an inclusive end, faint pixels
# counted as ink, rows and columns swapped). Nothing below uses your function.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-07-1-bounding_box-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bounding_box(ink, level=0.1):
    """(top, left, bottom, right) of the pixels of `ink` [H, W] above `level`; ends exclusive."""
    ### BEGIN SOLUTION
    mask = ink > level
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return rows[0], cols[0], rows[-1] + 1, cols[-1] + 1
    ### END SOLUTION


# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-07-1-bounding_box", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_bounding_box(bounding_box)

# %%
image = render_strokes(SEVEN)
ink = to_ink(image)
rows, cols = np.flatnonzero((ink > 0.1).any(1)), np.flatnonzero((ink > 0.1).any(0))
crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
steps = [torch.from_numpy(ink), torch.from_numpy(crop), preprocess(image)[0, 0]]
axes = show_images([1 - s for s in steps], 1, 3, titles=[
    f"canvas {ink.shape[0]}×{ink.shape[1]}", f"cropped {crop.shape[0]}×{crop.shape[1]}",
    "28×28, centred"], scale=2)
plt.show()
print("centre of mass of the result (row, column):",
      tuple(round(c, 2) for c in draw.centre_of_mass(preprocess(image))))

# %% [markdown]
# An empty canvas has no digit, and the networks would still answer something: always ten
# scores. So `preprocess` refuses it with a clear message instead of a guess.

# %%
try:
    preprocess(render_strokes([]))
except EmptyDrawing as empty:
    print("EmptyDrawing:", empty)

# %% [markdown]
# ## 3. The drawing pad
#
# `DrawPad(lenet5, d2l)` is the canvas (an `ipycanvas` widget) with a pen-width slider, Clear and an
# upload button for an image file (a photo of a digit on paper works if the ink is darker than the
# paper). When a stroke ends (mouse button or finger lifted, or the pointer leaving the box), both
# networks read the drawing: LeNet-5's ten RBF distances (smallest wins: each is the squared
# distance between F6's 84 outputs and one digit's fixed bitmap, chapter 5), the d2l LeNet's top
# three probabilities (its softmax), the 28×28 and 32×32 images they saw, and LeNet-5's C1 and C3
# maps. The pad keeps the strokes in Python and renders them with Pillow, so it never waits for
# pixels from the browser. Source: `lenet_nb/lessons/drawpad.py` (`DrawPad`); the reading itself is
# `read` in `lenet_nb/lessons/draw.py`.
#
# **Try it** (in JupyterLab with a running kernel): draw a digit with the mouse or a finger.
# Draw a 1, a 7 with and without its bar, a 4 open or closed; draw small in a corner; draw
# with a thin pen. When do the two networks disagree?

# %%
pad = DrawPad(lenet5, d2l)
display(pad)

# %% [markdown]
# For a reader without a kernel, here is what the pad shows after drawing the seven from
# section 2 with the same calls the mouse makes (`pad.draw` presses, moves and releases).

# %%
# NBVAL_IGNORE_OUTPUT
# (what the networks read depends on their training)
pad.draw([points for _, points in SEVEN])
print(pad.reading.summary())
show_reading(pad.reading)
plt.show()

# %% [markdown]
# **A blink.** One reading (preprocessing, both networks, LeNet-5's maps) must feel instant.
# We time it here; `benchmarks/draw_latency.py` does the same with more repetitions.

# %%
# NBVAL_IGNORE_OUTPUT
# (timings depend on the machine and its load)
times = []
for _ in range(reduce_in_tests(200, 20)):
    start = time.perf_counter()
    draw.read(image, lenet5, d2l)
    times.append(1000 * (time.perf_counter() - start))
times = np.array(times)
print(f"one reading: median {np.median(times):.1f} ms, 95th percentile "
      f"{np.percentile(times, 95):.1f} ms over {len(times)} readings")

# %% [markdown]
# ## 4. Occlusion: hide a part, watch the score fall
#
# Which parts of the digit does a network rely on? Cover a small patch with grey (0.5, halfway
# between background and ink) and see how much the score of the digit drops; slide the patch
# over every position. A big drop means "this part mattered".
#
# The score must grow with "more this digit": for the d2l LeNet that is its logit for the
# digit (its raw score before the softmax turns the ten scores into probabilities), for
# LeNet-5 it is minus the RBF distance (smaller distance = better).
# `class_scores(net, X)` returns those [N, 10] scores for either network
# (`lenet_nb/lessons/explain.py`).

# %%
def my_occlusion(net, X, target, patch=6, stride=1, fill=0.5):
    """Drop of the target's score as a grey patch covers X [1, 1, H, W], moved by `stride`."""
    H, W = X.shape[-2:]
    tops, lefts = range(0, H - patch + 1, stride), range(0, W - patch + 1, stride)
    drops = torch.zeros(len(tops), len(lefts))
    with torch.no_grad():
        base = class_scores(net, X)[0, target]
        for a, i in enumerate(tops):
            for b, j in enumerate(lefts):
                covered = X.clone()
                covered[..., i : i + patch, j : j + patch] = fill
                drops[a, b] = base - class_scores(net, covered)[0, target]
    return drops


# %% [markdown]
# The package's `explain.occlusion` does the same in one batched forward pass (all covered
# copies at once). Same input, same networks, here with the patch moved 2 pixels at a time:
# the maps must agree.

# %% [markdown]
# ### Exercise 7.2 (predict, then run): how many covered copies
#
# Before running the check: how many covered copies of
# LeNet-5's 32×32 input does `explain.occlusion` build with a 6×6 patch and stride 2? Write
# your number as `occluded_copies`. The checker says right or not (without giving the number
# away) and names the usual slips; the check cell after it prints the map's shape.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-07-2-occluded_copies-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
occluded_copies = 196
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-07-2-occluded_copies", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_occluded_copies(occluded_copies)

# %%
X28 = preprocess(image)
X32 = F.pad(X28, (2, 2, 2, 2))  # LeNet-5's 32x32 input
for name, net, X in [("LeNet-5", lenet5, X32), ("d2l LeNet", d2l, X28)]:
    mine, reference = my_occlusion(net, X, 7, stride=2), explain.occlusion(net, X, 7, stride=2)
    same = torch.allclose(mine, reference, atol=1e-4)
    print(f"{name:<10} occlusion map {tuple(mine.shape)}, same outputs: {same}")
    assert same, f"my_occlusion differs from lenet_nb.lessons.explain.occlusion for {name}"

# %% [markdown]
# ## 5. Saliency: which pixels move the score
#
# Occlusion asks one question per patch. The gradient of the score with respect to the input
# answers for every pixel at once: how much the score would change if that pixel got a little
# more ink (positive) or less (negative). One backward pass gives it.

# %%
def my_saliency(net, X, target):
    """Gradient of the target's score with respect to the input pixels."""
    X = X.detach().clone().requires_grad_(True)
    class_scores(net, X)[0, target].backward()
    return X.grad


# %%
for name, net, X in [("LeNet-5", lenet5, X32), ("d2l LeNet", d2l, X28)]:
    mine, reference = my_saliency(net, X, 7), explain.saliency(net, X, 7)
    same = torch.allclose(mine, reference, atol=1e-6)
    print(f"{name:<10} saliency {tuple(mine.shape)}, same outputs: {same}")
    assert same, f"my_saliency differs from lenet_nb.lessons.explain.saliency for {name}"

# %% [markdown]
# Now both, side by side, for the drawn seven and three test digits (each with its true label).
# Occlusion drops are spread back onto the pixels (`explain.occlusion_pixels`: each pixel gets the
# mean drop of the patches covering it). One colour map and one scale for all heat maps: red is
# positive, blue negative, white zero, and each map is divided by its own largest value (the colour
# bar), because what to compare is *where* a map is strong, not how strong: a drop of the score and
# a gradient are different quantities, and the two networks' scores have different units. LeNet-5's
# panels are 32×32 (the 2-pixel frame it reads), the d2l LeNet's 28×28.

# %%
# NBVAL_IGNORE_OUTPUT
# (the maps depend on the trained weights)
X_test, y_test = load_split("MNIST", train=False)
X_test = to_float(X_test)
picks = [int((y_test == d).nonzero()[0]) for d in (3, 5, 8)]
cases = [("drawn 7", X28, 7)] + [(f"test {int(y_test[i])}", X_test[i : i + 1], int(y_test[i]))
                                  for i in picks]
panels = []
for _, X, target in cases:
    row = [X[0, 0]]
    for net, inp in [(lenet5, F.pad(X, (2, 2, 2, 2))), (d2l, X)]:
        drops = explain.occlusion(net, inp, target)
        row += [explain.occlusion_pixels(drops, 6, 1, inp.shape[-2:]),
                explain.saliency(net, inp, target)[0, 0]]
    panels.append(row)
axes = explain.plot_explanations(panels, [c[0] for c in cases],
                                 ["input", "LeNet-5\nocclusion", "LeNet-5\nsaliency",
                                  "d2l LeNet\nocclusion", "d2l LeNet\nsaliency"])
axes = axes.reshape(len(panels), -1)
for ax in axes[:, 1:].flatten():  # each heat map divided by its own largest |value|: one scale
    image = ax.get_images()[0]
    values = image.get_array()
    image.set_data(values / (float(abs(values).max()) or 1.0))
    image.set_clim(-1, 1)
bar = plt.colorbar(axes[-1, 1].get_images()[0], ax=list(axes[:, 1:].flatten()), shrink=0.6,
                   location="bottom", pad=0.03)
bar.set_label("value ÷ the panel's largest |value|", fontsize=7)
bar.ax.tick_params(labelsize=6)
plt.show()

# %% [markdown]
# What to look for: occlusion lights up whole strokes whose loss changes the answer (the bar
# of the 7, the gap that tells a 3 from an 8); saliency is noisier and often marks the
# *background* just beside a stroke, where adding ink would turn the digit into another one.
# The two networks need not agree: they were trained differently and read differently.

# %% [markdown]
# ## 6. Receptive fields: what one unit can see
#
# A unit of C1 looks at a 5×5 patch of the input. A unit of S2 averages 2×2 C1 units, so it
# sees 6×6 pixels, and its neighbours are 2 pixels apart. Every layer adds `(kernel − 1) ×
# jump` pixels to the width, where *jump* is the distance in input pixels between
# neighbouring units of the layer below (the product of the strides so far).

# %% [markdown]
# ### Exercise 7.3 (predict, then run): what one C3 unit sees
#
# How many input pixels wide is the square one C3 unit
# sees? Work it out by hand with the rule, write it as `c3_field`, then run. The checker says
# right or not without revealing the number; the next cells print every layer's width.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-07-3-c3_field-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
c3_field = 14
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-07-3-c3_field", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_c3_field(c3_field)


# %% [markdown]
# The rule, written out:

# %%
def my_receptive_field(layer, i, j):
    """Input box (top, left, bottom, right) read by unit (i, j) of a LeNet-5 layer."""
    size, jump = 1, 1
    for name, kernel, stride in [("C1", 5, 1), ("S2", 2, 2), ("C3", 5, 1), ("S4", 2, 2),
                                 ("C5", 5, 1)]:
        size += (kernel - 1) * jump
        jump *= stride
        if name == layer:
            return (i * jump, j * jump, i * jump + size, j * jump + size)


# %% [markdown]
# The next cell checks it against `explain.receptive_field` for every unit of every layer, and
# then against the network itself: backpropagate from one unit to the input, and the pixels
# with a non-zero gradient must fill exactly that box (`explain.gradient_box`). The text lines
# come from `receptive_field_text` in `lenet_nb/lessons/drawpad.py`.

# %%
from lenet_nb.lessons.drawpad import receptive_field_text

sides = {"C1": 28, "S2": 14, "C3": 10, "S4": 5, "C5": 1}
for layer, side in sides.items():
    boxes = [(my_receptive_field(layer, i, j), explain.receptive_field(layer, i, j))
             for i in range(side) for j in range(side)]
    same = all(mine == ref for mine, ref in boxes)
    width = boxes[0][1][2] - boxes[0][1][0]
    print(f"{layer}: {side * side:>3} units, each sees {width}x{width} pixels, "
          f"same outputs: {same}")
    assert same, f"my_receptive_field differs from lenet_nb.lessons.explain for {layer}"
for layer, channel, i, j in [("C1", 0, 12, 12), ("C3", 3, 4, 4), ("C5", 7, 0, 0)]:
    print(receptive_field_text(lenet5, X32, layer, channel, i, j))

# %% [markdown]
# Pick a unit yourself: choose C1, C3 or C5 and a position; its receptive field is outlined on
# the drawn seven (`receptive_field_picker` in `lenet_nb/lessons/drawpad.py`). A C5 unit sees the
# whole 32×32 field: from C5 on, every unit can combine evidence from anywhere in the digit.

# %%
receptive_field_picker(lenet5, X32)

# %% [markdown]
# ## 7. Shift and rotation: what convolution and pooling buy
#
# A convolution applies the same kernel at every position, so shifting the input shifts its
# maps: nothing is learned twice. Pooling then forgets a little of *where*. But the last
# layers (C5 and F6 in LeNet-5, the fully connected layers in the d2l LeNet) read each map
# position with its own weights: there, a feature in a new place is a new input. So how far
# does a trained LeNet tolerate a moved digit?
#
# We move every test digit by 0 to 6 pixels (the mean over right, down, left and up; what
# leaves the 28×28 field is lost for every network alike) and rotate it by up to 30° (mean of
# both directions), and measure four networks: a one-hidden-layer MLP (256 units, no
# convolutions), the d2l LeNet, LeNet-5, and LeNet-5 trained on distorted images
# (chapter 5's random shifts up to 2 px, scaling, squeezing and shearing; the same three epochs
# as LeNet-5, so only the training images differ). `explain.robustness_table` does the
# measuring; the MLP and the distorted LeNet-5 come from `trained` as in section 1.

# %%
# NBVAL_IGNORE_OUTPUT
# (training time and accuracy depend on the mode and the machine)
mlp, mlp_info = trained("mlp")
distorted, distorted_info = trained("lenet5-distorted")
for name, info in [("MLP", mlp_info), ("LeNet-5 + distortions", distorted_info)]:
    how = f"trained now in {info['seconds']:.0f} s" if info["source"] == "trained" else "loaded"
    print(f"{name:<22} test accuracy {100 * info['test_acc']:.2f} % ({how})")

# %%
# NBVAL_IGNORE_OUTPUT
# (accuracies depend on the training and, in quick mode, on the small test sample)
n_test = reduce_in_tests(10000, 100)
nets = {"MLP": (mlp, 0), "d2l LeNet": (d2l, 0), "LeNet-5": (lenet5, 2),
        "LeNet-5 + distortions": (distorted, 2)}
start = time.perf_counter()
table = explain.robustness_table(nets, X_test[:n_test], y_test[:n_test])
print(f"test accuracy (%) on {n_test} test digits, shifted (px) and rotated (degrees):")
print(explain.format_robustness(table))
print(f"({time.perf_counter() - start:.0f} s)")
explain.plot_robustness(table)
plt.show()

# %% [markdown]
# How to read the table (each row changes only the network; the digits and the shifts are the
# same). Unshifted, all four read nearly every test digit. A shift of one pixel costs the
# convolutional networks little: a feature moved by a pixel still lands in the same or the
# next pooling cell, and MNIST's own centring leaves digits a little off-centre, so the last
# layers have seen such wobbles. The MLP has no such help (every pixel has weights of its own)
# and falls faster from 2 px on. Beyond two or three pixels every network trained on centred
# digits falls: the convolutions move their maps along with the digit, but C5/F6 (or the
# fully connected layers) read each map position with its own weights, and they never saw a
# digit that far off-centre. LeNet-5 trained on distorted digits (random shifts of up to 2 px,
# among others) holds on much longer: what pooling alone does not give, the training images
# taught. Rotation is built into none of the layers: the accuracy falls with the angle for
# every network, and the distortions help only a little.
#
# So convolution and pooling buy tolerance to *small* shifts almost for free; larger shifts
# and rotations must come from the data (distortions, augmentation) or be removed before the
# network sees the digit, which is what the drawing pad's centring does.

# %% [markdown]
# ## 8. Does the preprocessing keep MNIST's accuracy?
#
# If `preprocess` really reproduces MNIST's recipe, a test digit drawn large somewhere on the
# canvas and prepared by it should be read as well as the original. `draw.enlarge` does the
# drawing: it scales a test digit 5 to 9 times, puts it at a random place on a white 280×280
# canvas and inverts it to dark ink on white. Then `preprocess`, then both networks.

# %%
# NBVAL_IGNORE_OUTPUT
# (accuracies depend on the training and, in quick mode, on the small test sample)
n_big = reduce_in_tests(2000, 50)
enlarged = {}
generator = torch.Generator().manual_seed(0)
redrawn = torch.cat([preprocess(draw.enlarge(x, generator)) for x in X_test[:n_big]])
for name, (net, pad_by) in [("d2l LeNet", (d2l, 0)), ("LeNet-5", (lenet5, 2))]:
    original = explain.accuracy_on(net, X_test[:n_big], y_test[:n_big], pad_by)
    again = explain.accuracy_on(net, redrawn, y_test[:n_big], pad_by)
    enlarged[name] = (original, again)
    print(f"{name:<10} original {100 * original:.2f} %, enlarged and preprocessed "
          f"{100 * again:.2f} % ({100 * (again - original):+.2f} points) on {n_big} digits")

# %% [markdown]
# ## Closing note
#
# The cell below writes the chapter's results as text from the numbers this run computed:
# the latency of one reading (section 3), the enlarged digits against the originals (section
# 8) and the shift test (section 7). `benchmarks/draw_latency.py` measures the latency with
# more repetitions, also for the pad's whole update.

# %%
# NBVAL_IGNORE_OUTPUT
# (every number here comes from training, timing or the quick-mode sample)
from IPython.display import Markdown

lines = [f"- **Latency**: one reading takes {np.median(times):.1f} ms (median) and "
         f"{np.percentile(times, 95):.1f} ms (95th percentile) over {len(times)} readings."]
for name, (original, again) in enlarged.items():
    lines.append(f"- **Enlarged digits, {name}**: {100 * again:.2f} % against "
                 f"{100 * original:.2f} % on the original test digits ({n_big} digits).")
for name, row in table.items():
    shifts = ", ".join(f"{s} px {100 * a:.1f} %" for s, a in zip(range(7), row["shift"]))
    lines.append(f"- **Shifted, {name}**: {shifts}.")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Recap
#
# - A drawing becomes an MNIST digit by MNIST's own recipe: ink bright on black, cropped, the
#   longer side scaled to 20 px, the centre of mass put at pixel 14 of a 28×28 field.
# - Two trained readers, cached as checkpoints and loaded safely, read every stroke in a few
#   milliseconds; LeNet-5 answers by the smallest RBF distance, the d2l LeNet by a softmax.
# - Occlusion (hide a patch, measure the drop of the score) and saliency (the gradient of the
#   score with respect to the pixels) show what a decision rests on; they need not agree.
# - A unit's receptive field grows by `(kernel − 1) × jump` per layer: 5, 14 and 32 pixels for
#   C1, C3 and C5; the gradient of a unit is non-zero on exactly that box.
# - Convolution and pooling tolerate small shifts; larger shifts and rotations defeat the
#   networks trained on centred digits, and training on distorted digits widens the tolerance
#   to shifts a lot, to rotations a little.

# %%
from lenet_nb.quiz.widget import self_check

self_check("draw_and_look_inside", static=True)  # static=True: also readable without a kernel

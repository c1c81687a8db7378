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
# # Chapter 2 — What happens to the shape, layer by layer
#
# LeNet has two parts: a convolutional block (two convolutions, each followed by a sigmoid and a
# 2×2 pooling) that turns the image into a stack of small feature maps, and a dense block (three
# linear layers with 120, 84 and 10 outputs) that turns those maps into class scores, with one
# flatten between them. We build the network ourselves, follow an input through it, check every
# shape against the output-size formula, count where the parameters are, work out how much of
# the image each unit sees (its receptive field) and how many multiply-adds each layer costs,
# and reproduce the connection count of the 1998 paper. Six exercises check themselves: two
# predictions, two pieces of code, one setting to change and observe, and a challenge.
#
# Until the challenge nothing here is trained, so every printed table below is checked by the
# tests (README, section "Quick mode and tests").

# %%
# %matplotlib inline
import torch
from torch import nn

from lenet_nb.config import reduce_in_tests
from lenet_nb.exercises import shapes as ex
from lenet_nb.lenet5 import LeNet5, c3_connections
from lenet_nb.lessons import anatomy, shapes
from lenet_nb.lessons.widgets import shape_widget
from lenet_nb.models import LeNet, count_parameters, get_model

# %% [markdown]
# ## 1. Build it, then walk through it
#
# The network is the one *Dive into Deep Learning* (d2l) uses, and with it two of the tutorials this
# course grew from (README, section "Sources"): the d2l-style LeNet page ("the d2l page" from here
# on) and the Boyu course page ("Boyu"): 5×5 kernels, padding 2 on the first convolution only,
# sigmoid activations and average pooling. In PyTorch it is one `nn.Sequential`, read top to bottom:

# %%
torch.manual_seed(0)  # the initial weights: the outputs printed below depend on them
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),  # C1
    nn.AvgPool2d(kernel_size=2, stride=2),  # S2
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),  # C3
    nn.AvgPool2d(kernel_size=2, stride=2),  # S4
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))

# %% [markdown]
# The package has the same network as `LeNet()` (`lenet_nb/models.py`; it adds a check that the
# input has the shape `[batch, 1, 28, 28]`), and the rest of the course uses it. Are the two
# really the same? Give the reference our weights (the layers sit in the same order, so the
# keys of the *state dict*, the dictionary of a network's named weight tensors, `0.weight`,
# `0.bias`, …, match), then compare the shape after every layer, the
# parameter count and the outputs for the same images:

# %%
ref = LeNet()
ref.load_state_dict(net.state_dict())
torch.manual_seed(1)  # four random images
X = torch.rand(4, 1, 28, 28)
same_shapes = shapes.shape_table(net, X) == shapes.shape_table(ref, X)
with torch.no_grad():
    y_hat, y_hat_ref = net(X), ref(X)
same_outputs = torch.equal(y_hat, y_hat_ref)
print(f"parameters: {count_parameters(net):,} (ours), {count_parameters(ref):,} (reference)")
print("same shapes, layer by layer:", same_shapes)
print("first image's first 4 scores, ours:     ", [round(v, 4) for v in y_hat[0, :4].tolist()])
print("first image's first 4 scores, reference:", [round(v, 4) for v in y_hat_ref[0, :4].tolist()])
print("same outputs:", same_outputs)
assert same_shapes and same_outputs and count_parameters(net) == count_parameters(ref) == 61_706

# %% [markdown]
# ### Exercise 2.1 (predict, then run): the shape after C1 and S2
#
# One image goes in, with shape `[batch, channels, height, width] = [1, 1, 28, 28]`. **Before
# running the loop below**, write down the shape that comes out of the first pooling layer
# (after the first convolution and its sigmoid) as a tuple of four numbers, e.g. `(1, 2, 3, 4)`.
# The checker says whether your prediction is right without giving the answer away; when it is
# not, it names the usual slip (the padding, the batch dimension, the channel order).

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-02-1-c1_s2_shape-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
c1_s2_shape = (1, 6, 14, 14)
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-02-1-c1_s2_shape", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_c1_s2_shape(c1_s2_shape)

# %% [markdown]
# Now run it. The loop feeds the image to each layer in turn and prints what comes out:

# %%
X = torch.rand(size=(1, 1, 28, 28))
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, "output shape:\t", X.shape)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> the shapes, layer by layer</summary>
#
# - **Conv2d (C1)**, 6 kernels of 5×5 with padding 2: 6 channels, still 28×28. The padding of 2
#   pixels on every side makes up for the 4 pixels a 5×5 window loses.
# - **Sigmoid** works element by element: it never changes a shape.
# - **AvgPool2d (S2)**, 2×2 windows with stride 2: height and width halve, 14×14.
# - **Conv2d (C3)**, 16 kernels of 5×5, no padding: 16 channels, 14 − 4 = 10 pixels a side.
# - **AvgPool2d (S4)**: halves again, 5×5.
# - **Flatten**: 16 × 5 × 5 = 400 numbers per image, the input size of the first linear layer.
# - **Linear** 400 → 120 → 84 → 10: one score per Fashion-MNIST class.
#
# </details>

# %% [markdown]
# From here on the tables come from `shapes.shape_table(net, X)`, which is this loop done with
# forward hooks (functions PyTorch calls with each layer's output as it runs), so it also works for
# networks that are not one flat `nn.Sequential`; its source is `lenet_nb/lessons/shapes.py`.
#
# ## 2. Three variants side by side
#
# The tutorials do not all use this network. "Learn PyTorch from scratch (14): LeNet" ("Learn
# PyTorch (14)") drops the padding, pools with the maximum instead of the average and keeps the
# sigmoids; it pushes a batch of 64 images through. The original paper (LeCun et al., 1998) feeds
# 32×32 images and uses no padding.

# %% [markdown]
# ### Exercise 2.2 (complete the code): the unpadded LeNet
#
# Complete `unpadded_lenet()` so that it returns that variant as one `nn.Sequential`: the same
# twelve layers as `net` above, but no padding on C1, `nn.MaxPool2d(kernel_size=2, stride=2)`
# for both poolings, and a first linear layer whose input size fits what the convolutional
# block now hands over. The checker compares your network with the package's reference
# (`get_model("learn14")`): the kind and settings of every layer, the output shape after every
# layer, the parameter count, and the outputs when both have your weights. It names the first
# layer that differs (padding left in, the wrong pooling, the wrong input size of a linear
# layer).

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-02-2-unpadded_lenet-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def unpadded_lenet():
    """LeNet without padding and with 2×2 max pooling, as one nn.Sequential."""
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.Sigmoid(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
    ### END SOLUTION


# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-02-2-unpadded_lenet", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_unpadded_lenet(unpadded_lenet)

# %% [markdown]
# The table below uses the package's reference of that variant, `get_model("learn14")`
# (`lenet_nb/models.py`), whatever you wrote above, next to `net` and the paper's geometry
# (`get_model("d2l", padding=0, in_size=32)`). The batch size travels through untouched, so
# only the last three numbers matter:

# %%
variants = {
    "d2l (28, pad 2)": (net, torch.rand(1, 1, 28, 28)),
    "no pad, max pool (28)": (get_model("learn14"), torch.rand(64, 1, 28, 28)),
    "paper (32, no pad)": (get_model("d2l", padding=0, in_size=32), torch.rand(1, 1, 32, 32)),
}
tables = {name: shapes.shape_table(v_net, v_X) for name, (v_net, v_X) in variants.items()}
print(shapes.compare_shape_tables(tables))

# %% [markdown]
# - **No padding, max pooling**: C1 shrinks the 28×28 image to 24×24, S2 to 12×12, C3 to 8×8
#   and S4 to 4×4. The convolutional block hands over `[64, 16, 4, 4]`, hence the first linear
#   layer `Linear(16*4*4, 120)` with 256 inputs instead of 400. Max instead of average pooling
#   changes the values, never the shapes.
# - **The paper**: a 32×32 input without padding gives exactly the d2l shapes, because
#   32 = 28 + 2 × 2. LeCun et al. chose an input larger than the 28×28 MNIST images so that
#   strokes at the edge of a digit still fall in the middle of the top feature detectors'
#   receptive fields. d2l's padding of 2 adds the same 2-pixel border (of zeros), so both reach
#   C5 with 16 maps of 5×5.
#
# Boyu's summary says LeNet "alternates convolutional and max-pooling layers", but the
# network it builds uses average pooling, as d2l does. The paper used neither: its S2 and S4 are
# *trainable subsampling* layers, which add each 2×2 window's four inputs, multiply the sum by a
# coefficient and add a bias, both learned, one pair per map, before a squashing function
# (chapter 5 builds them). As the table shows, for the shapes none of this makes a difference.
#
# ## 3. The output-size formula
#
# A convolution or pooling window of size k, with padding p (zeros added on every side) and stride s
# (how many pixels the window moves at each step), applied to an n×n map produces a map of side
#
# $$\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$
#
# `shapes.formula_check` evaluates it for every convolution and pooling layer of a network and
# puts PyTorch's answer next to it (`lenet_nb/lessons/shapes.py`). For each variant:

# %%
for name, (v_net, v_X) in variants.items():
    rows = shapes.formula_check(v_net, v_X)
    assert all(r["formula"] == r["torch"] for r in rows), name
    print(f"{name}\n{shapes.format_formula_check(rows)}\n")

# %% [markdown]
# ## 4. Where the parameters are

# %% [markdown]
# ### Exercise 2.3 (predict, then run): the first linear layer for 32×32 images
#
# `LeNet(in_size=32)` is the d2l LeNet fed the paper's 32×32 images, but keeping C1's padding of
# 2. Before running the cell below: how many trainable parameters does its first linear layer
# have? Write one number. The checker says right or not without giving the number away, and
# recognises the usual slips.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-02-3-linear1_params_32-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
linear1_params_32 = 16 * 6 * 6 * 120 + 120
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-02-3-linear1_params_32", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_linear1_params_32(linear1_params_32)

# %%
net_32 = LeNet(in_size=32)
first_linear = next(m for m in net_32 if isinstance(m, nn.Linear))
print(f"{first_linear}: {count_parameters(first_linear):,} parameters")
print(shapes.format_shape_table(shapes.shape_table(net_32, torch.rand(1, 1, 32, 32))))

# %% [markdown]
# Back to the 28×28 network `net`: `shapes.param_rows` asks `torchinfo`, a maintained
# model-summary library, for the parameters of every layer (`lenet_nb/lessons/shapes.py`). Only
# the convolutions and the linear layers have any:

# %%
rows = shapes.param_rows(net, (1, 1, 28, 28))
print(shapes.format_param_rows(rows))

# %%
by_kind = shapes.params_by_kind(rows)
total = sum(by_kind.values())
for kind, n in by_kind.items():
    print(f"{kind:<7} {n:>6,} of {total:,} parameters ({100 * n / total:.1f} %)")

# %% [markdown]
# The two convolutions, which do all the looking at the image, hold 2,572 parameters; the three
# linear layers hold 59,134, or 95.8 %, the first one alone 48,120. This is the fact behind
# Boyu's quiz question ("most of LeNet's parameters are in the convolutional block" is the
# *wrong* statement), and chapter 1's point again: convolutions reuse one small kernel, dense
# layers pay for every connection.
#
# ## 5. How much of the image does a unit see?
#
# A unit's **receptive field** is the patch of input pixels that can change its value. Deeper
# units see more, and two numbers per layer are enough to follow it:
#
# - r, the side of the receptive field, in input pixels;
# - j, the **jump**: how many input pixels apart two neighbouring units of the layer's map sit.
#
# An input pixel sees itself (r = 1), and its neighbour is one pixel away (j = 1). A C1 unit
# reads a 5×5 window of the image, so r = 5, and C1 moves its window one pixel at a time, so
# neighbouring C1 units sit one pixel apart: j = 1. An S2 unit averages a 2×2 block of C1 units
# whose 5×5 windows overlap; together they cover 6×6 pixels, so r = 6. S2's windows sit side by
# side, two C1 units apart, so neighbouring S2 units are 2 pixels apart: j = 2. Padding moves
# where a window sits, not how wide it is; element-wise layers such as the sigmoid change
# nothing.

# %% [markdown]
# ### Exercise 2.4 (complete the code): the receptive-field recurrence
#
# Work out how one more layer, a window of k taps that moves s units at a time, changes r and
# j, and check your rule by hand on C1 → S2 above. Then complete the loop body of
# `receptive_field(windows)`: `windows` is a list of `(kernel size, stride)` pairs, first layer
# first, and the function returns `(r, j)` after the last one. The checker runs it on five
# stacks (LeNet's C1, S2, C3, S4 among them), compares with the package's
# `anatomy.receptive_field`, and names the usual slips by what they do to r and j.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-02-4-receptive_field-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def receptive_field(windows):
    """(r, j) after a stack of (kernel size, stride) windows, starting from one input pixel."""
    r, j = 1, 1
    for k, s in windows:
        ### BEGIN SOLUTION
        r = r + (k - 1) * j
        j = j * s
        ### END SOLUTION
    return r, j


# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-02-4-receptive_field", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_receptive_field(receptive_field)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> the two lines</summary>
#
# A window of size k and stride s gives
#
# $$r_\text{out} = r_\text{in} + (k - 1)\, j_\text{in}, \qquad j_\text{out} = j_\text{in}\, s :$$
#
# the window's k taps sit j_in input pixels apart, so beyond the first tap's own field they add
# (k − 1)·j_in pixels of reach; and after a stride-s layer, neighbours are s of the old steps
# apart. For C1 → S2: r = 5 + (2 − 1)·1 = 6 and j = 1·2 = 2. The order matters: the new r uses
# the jump *before* this layer's stride.
#
# </details>

# %% [markdown]
# `anatomy.receptive_fields(net, in_size)` applies the same two lines to every layer of a network
# (`lenet_nb/lessons/anatomy.py`, the reference from here on, whatever you wrote above). The first
# linear layer reads the whole 5×5 map at once, like a 5×5 window:

# %%
rf_rows = anatomy.receptive_fields(net, 28)
print(anatomy.format_receptive_fields(rf_rows))

# %% [markdown]
# **Confirm it with gradients.** A pixel outside a unit's receptive field cannot change the
# unit, so the unit's gradient with respect to that pixel is exactly 0; inside, with the random
# weights `net` starts with, it is not. `anatomy.empirical_receptive_field(net, i)` takes the
# unit in the middle of channel 0 of layer `i`'s output, backpropagates its value to the input
# and marks the pixels whose gradient is not 0 (`lenet_nb/lessons/anatomy.py`). Count them and
# measure the box around them:

# %%
picks = {"C1": 0, "S2": 2, "C3": 3, "S4": 5, "first Linear": 7}
footprints = {}
for name, i in picks.items():
    mask = anatomy.empirical_receptive_field(net, i)
    footprints[name] = mask
    h, w = anatomy.box_size(mask)
    r = rf_rows[i][1]
    print(f"{name:<12} formula {r:>2}×{r:<2}  gradients: {h}×{w} box, {int(mask.sum())} pixels")
    assert (h, w) == (min(r, 28), min(r, 28)) and int(mask.sum()) == h * w

# %% [markdown]
# For C1, S2, C3 and S4 the gradients light up exactly the square the formula predicts. For the
# first linear layer the formula says 32×32 but only 28×28 pixels light up: the image has no
# more. The other 2 pixels on each side are the zeros the padding of C1 added, the same border
# the paper got by feeding 32×32 images. Borders cut a receptive field short elsewhere too: a C1
# unit in the top-left corner of its map has a 5×5 window, but only 3×3 of it lies on the image.
# `anatomy.plot_receptive_fields` draws the masks, one panel per unit, on the 28×28 input
# (`lenet_nb/lessons/anatomy.py`); dark pixels reach the unit:

# %%
corner = anatomy.empirical_receptive_field(net, 0, unit=(0, 0, 0, 0))
print("corner unit of C1:", anatomy.box_size(corner), "box")
masks = [footprints[n] for n in ("C1", "S2", "C3", "S4")] + [corner]
titles = [f"{n}, middle unit" for n in ("C1", "S2", "C3", "S4")] + ["C1, corner unit"]
ax = anatomy.plot_receptive_fields(masks, titles)

# %% [markdown]
# ### Exercise 2.5 (change and observe): a stride in C1, and what C3 sees
#
# Give C1 a stride of 2 (its window moves two pixels at a time) and keep everything else. How
# large is the patch of image a C3 unit sees then? The next cell builds LeNet's layers up to C3
# for every stride in `c1_strides` (`anatomy.c3_block`, `lenet_nb/lessons/anatomy.py`) and
# measures the middle C3 unit's receptive field with gradients, as above. Add 2 to
# `c1_strides`, run it, and answer in the cell after:
#
# - `c3_width_stride_2`: the width, in pixels, of the box a C3 unit sees when C1 has stride 2,
#   as your run measured it;
# - `why`: why it changes, `"a"`, `"b"` or `"c"`:
#   (a) a stride in C1 spreads every later layer's taps twice as far apart;
#   (b) the stride enlarges C1's kernel;
#   (c) the padding grows with the stride.
#
# `ex.check_c1_stride` reads what you recorded in `observed_stride`.

# %% tags=["exercise-run"] nbgrader={"grade": false, "grade_id": "ex-02-5-c1_stride-run", "locked": false, "schema_version": 3, "solution": true, "task": false}
observed_stride = {}  # C1's stride -> (height, width) of the box of pixels a C3 unit sees
### BEGIN SOLUTION
c1_strides = [1, 2]
### END SOLUTION
### BEGIN STUB
# c1_strides = [1]  # add the stride you want to compare, then run this cell again
### END STUB
for stride in c1_strides:
    block = anatomy.c3_block(c1_stride=stride)  # C1 (stride `stride`), sigmoid, S2, C3
    observed_stride[stride] = anatomy.box_size(anatomy.empirical_receptive_field(block, 3))
    h, w = observed_stride[stride]
    print(f"C1 stride {stride}: C3's middle unit sees a {h}×{w} box of pixels")

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-02-5-c1_stride-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
c3_width_stride_2 = observed_stride[2][1]
why = "a"
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-02-5-c1_stride", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_c1_stride(observed_stride, c3_width_stride_2, why)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> where the extra reach comes from</summary>
#
# The kernels and the padding are the same in both runs; only the jump changes. With stride 2,
# neighbouring C1 units sit 2 pixels apart instead of 1, S2 doubles that again, and every window
# after it, C3's included, reaches across taps that are twice as far apart. Your recurrence of
# Exercise 2.4 predicts the same growth layer by layer. A strided first layer is a cheap way to
# see more of the image with fewer units and fewer multiply-adds, paid for in resolution: C1's
# map has a quarter of the positions.
#
# </details>

# %% [markdown]
# ## 6. How much work is each layer?
#
# Parameters say how much a layer stores; **multiply-adds** (MACs) say how much it computes.
# A convolution reuses each weight at every position of its output, so it does far more work
# than its parameter count suggests. By hand:
#
# - a convolution computes C_out · H_out · W_out outputs, each a sum over C_in · k · k products;
# - a linear layer multiplies each of its `in` inputs by each of its `out` weights: in · out.
#
# PyTorch has a counter that watches the operations actually run,
# `torch.utils.flop_counter.FlopCounterMode`. It reports FLOPs (floating-point operations), and
# counts one multiply-add as 2 of them. `anatomy.macs_per_layer` puts the hand formula and the
# counter's FLOPs / 2 side by side for one image (`lenet_nb/lessons/anatomy.py`):

# %%
mac_rows = anatomy.macs_per_layer(net, torch.zeros(1, 1, 28, 28))
print(anatomy.format_macs(mac_rows))
assert all(hand == tool for _, _, hand, tool in mac_rows)
macs = {kind: sum(m for k, _, m, _ in mac_rows if k == kind) for kind in ("Conv2d", "Linear")}
total_macs = sum(macs.values())
for kind, m in macs.items():
    print(f"{kind:<7} {m:>7,} of {total_macs:,} MACs ({100 * m / total_macs:.1f} %), "
          f"{100 * by_kind[kind] / total:.1f} % of the parameters")

# %% [markdown]
# The formula and the counter agree on every layer. The split is the mirror image of the
# parameter table: the convolutions hold 4.2 % of the parameters but do 85.9 % of the work; the
# linear layers hold 95.8 % of the parameters and do 14.1 % of the work. Pooling, sigmoids and
# the flatten do no multiply-adds the counter tracks.
#
# ### The paper's 340,908 connections
#
# LeCun et al. describe LeNet-5 by **connections**: a unit's connections are the inputs it
# reads plus its bias, counted as one more. They give one count per layer and a total of
# 340,908, for a network of only 60,000 trainable parameters. The package's paper-faithful
# `LeNet5` (`lenet_nb/lenet5.py`, chapter 5) lets us redo the count;
# `anatomy.lenet5_connections` multiplies each layer's units by its inputs per unit
# (`lenet_nb/lessons/anatomy.py`):
#
# - C1, C5 and F6: each unit reads a 5×5 window of every input map (or every input of a full
#   layer) plus its bias;
# - S2 and S4 (the paper's *trainable subsampling*): each unit adds its 4 inputs, multiplies
#   the sum by one learned coefficient and adds a learned bias: 4 + 1;
# - C3: a map reads only the S2 maps of the paper's Table I, 3, 4 or 6 of them, so a unit has
#   3·25 + 1, 4·25 + 1 or 6·25 + 1 connections;
# - the output: each of the 10 RBF units (radial basis function: the unit outputs the squared
#   distance between its input and a fixed vector) compares all 84 F6 values with its digit
#   bitmap, no bias.
#
# The last column is what `FlopCounterMode` sees of the same network:

# %%
conn_rows = anatomy.lenet5_connections()
print(anatomy.format_connections(conn_rows))
total_connections = sum(row[3] for row in conn_rows)
same = total_connections == anatomy.PAPER_CONNECTIONS
print(f"paper: {anatomy.PAPER_CONNECTIONS:,} connections; same total: {same}")
print(f"trainable parameters of LeNet5: {count_parameters(LeNet5()):,}")
assert same

# %% [markdown]
# Every layer matches the paper, and so does the total. The counter helps only part of the way:
# for C1, C5 and F6 it counts the products, not the biases (117,600 + 4,704 biases = 122,304);
# it does not see S2, S4 or the RBF output at all; and for C3 it counts 240,000, more than the
# real connections, because the package runs C3 as one dense 6 → 16 convolution whose 36 absent
# kernels are held at zero. The connection table has to be counted by hand, from
# `lenet5.c3_connections()`, Table I as a 6 × 16 grid of booleans (`lenet_nb/lenet5.py`):

# %%
table = c3_connections()
links = int(table.sum())
per_position = links * 25 + table.shape[1]  # a 5×5 kernel per link, one bias per map
print(f"{links} of {table.numel()} (S2 map, C3 map) pairs are connected, "
      f"{table.numel() - links} are not")
print(f"per position: {links} × 25 weights + {table.shape[1]} biases = {per_position:,}")
print(f"over the 10×10 positions: {per_position * 100:,} connections")
print(f"what a dense convolution multiplies: {table.numel()} × 25 × 100 = "
      f"{table.numel() * 25 * 100:,}")

# %% [markdown]
# ## 7. Try other sizes
#
# Pick the input size, the padding of C1, the kernel size of both convolutions and the pooling
# kind. The table shows the shape after each LeNet layer (paper names: C1, S2, C3, S4, then the
# dense layers C5, F6 and the output) and the parameter count. Some combinations shrink a feature
# map to nothing before the end of the convolutional block; the widget then says where and why.
# Try a kernel of 11, or an input of 11 pixels. The widget runs the same formula and parameter
# count as the sections above (`lenet_nb/lessons/widgets.py`, `shape_report` in
# `lenet_nb/lessons/shapes.py`).

# %%
shape_widget()  # without a kernel (a stored notebook), a static copy of its start shows

# %% [markdown]
# ## 8. Smaller maps, more channels
#
# The d2l page's tip about LeNet, and most convolutional networks after it: as we go deeper, the
# resolution drops (each value sees a larger part of the image, so it can respond to larger
# patterns) while the number of channels grows (more kinds of pattern are told apart). Bars show
# the area H × W of the input and of each convolution and pooling output, the line the number
# of channels (the sigmoids change neither). `shapes.plot_shape_trend` draws it from the shape
# table (`lenet_nb/lessons/shapes.py`):

# %%
X = torch.rand(size=(1, 1, 28, 28))
ax = shapes.plot_shape_trend([("input", tuple(X.shape))] + shapes.shape_table(net, X))

# %% [markdown]
# ## 9. Challenge
#
# The chapter's last exercise is open: any network and any training, within a budget of
# multiply-adds, parameters and time.

# %% [markdown]
# ### Exercise 2.6 (challenge): a quarter of the multiply-adds
#
# Section 6 counted 416,520 multiply-adds for one image through LeNet. Build and train a network
# that needs **at most 100,000 multiply-adds per image** (counted as in section 6, by
# `FlopCounterMode` on one 1×1×28×28 image), has **at most 61,706 trainable parameters** (as many
# as LeNet) and reaches **at least 0.87 validation accuracy** on Fashion-MNIST, with **60 s of
# training on the reference machine**.
#
# Write `train(X, y, seconds)` as in chapter 1's challenge: it receives training images `X`
# (shape [N, 1, 28, 28], values in [0, 1]) and their labels `y`, and returns the trained network.
# The checker holds 10,000 of the 60,000 training images out (seed 0; your function never sees
# them), times `train`, counts the multiply-adds and parameters of what it returns, and measures
# its accuracy on the held-out images, beside the course's own solution (stored runs, made by
# `python -m lenet_nb.course.experiments run challenge_shapes`). `seconds` is your budget on this
# machine. When your network is over the cap, the checker prints its multiply-adds layer by
# layer, so you see which layer to make cheaper. Sections 5 and 6, and Exercise 2.5, showed
# where a convolution's cost comes from and what a stride does to it.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-02-6-macs_challenge-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train(X, y, seconds):
    """Build, train and return a network of at most 100,000 multiply-adds per image."""
    ### BEGIN SOLUTION
    num_epochs, batch_size = reduce_in_tests(12, 1), 128
    net = nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=4, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 3 * 3, 10))
    optimizer = torch.optim.AdamW(net.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=0.01, total_steps=num_epochs * -(-len(y) // batch_size))
    loss = nn.CrossEntropyLoss()
    for _ in range(num_epochs):
        for batch in torch.randperm(len(y)).split(batch_size):
            optimizer.zero_grad()
            loss(net(X[batch]), y[batch]).backward()
            optimizer.step()
            scheduler.step()
    return net
    ### END SOLUTION


# %% tags=["exercise-check", "nbval-ignore-output"] nbgrader={"grade": true, "grade_id": "ex-02-6-macs_challenge", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
ex.check_macs_challenge(train)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> the course's solution</summary>
#
# Most of LeNet's work is done by its convolutions on large maps, so the course's solution makes
# the maps small early: its first convolution, 4×4 with 8 channels, moves two pixels at a time,
# and a max pooling halves the map again before a 3×3 convolution with 16 channels; one linear
# layer reads the 16 maps of 3×3 that are left. Its multiply-adds are printed in the table above,
# its training is the one of chapter 1's challenge (AdamW, a one-cycle rate up to 0.01), with
# more epochs because each one is cheaper. `shapes.challenge_train` in
# `lenet_nb/lessons/shapes.py` is the same function; the stored runs come from it.
#
# </details>

# %% [markdown]
# ## Recap
#
# In this notebook we saw that:
#
# - LeNet is twelve layers in one `nn.Sequential`; built by hand, it has the reference's shapes,
#   its 61,706 parameters and, with the same weights, its outputs;
# - a 28×28 image goes through LeNet as 6×28×28 → 6×14×14 → 16×10×10 → 16×5×5 → 400 → 120 → 84
#   → 10; activations never change a shape, pooling halves the side, an unpadded 5×5
#   convolution takes 4 pixels off it;
# - the variant without padding hands 16×4×4 = 256 features to the dense block, while the
#   paper's 32×32 input gives the same shapes as d2l's padded 28×28;
# - the formula ⌊(n + 2p − k)/s⌋ + 1 predicts every convolution and pooling output exactly;
# - LeNet's 61,706 parameters sit almost entirely (95.8 %) in its three linear layers;
# - receptive fields grow by (k − 1)·j per layer while the jump j multiplies by each stride:
#   5, 6, 14 and 16 pixels a side for C1, S2, C3 and S4, and the gradients light up exactly
#   those squares; the linear layers see the whole image (the formula's 32 includes the padding);
#   a stride early on multiplies the jump of every later layer, and with it their reach;
# - the work is where the parameters are not: the convolutions do 85.9 % of the 416,520
#   multiply-adds, and a counter such as `FlopCounterMode` agrees with the hand formula; small
#   maps early (a stride, a pooling) make a network far cheaper to run;
# - the paper's 340,908 connections are units × (inputs + bias) summed over the layers, with
#   C3's Table I counted by hand because a dense implementation hides it from the counter;
# - too large a kernel or too small an input collapses a feature map to nothing, which the
#   formula predicts before PyTorch fails.
#
# Chapters 3 and 4 train this network. First, check yourself (`self_check`,
# `lenet_nb/quiz/widget.py`):

# %%
from lenet_nb.quiz.widget import self_check

self_check("shapes", static=True)  # static=True: the questions also readable without a kernel

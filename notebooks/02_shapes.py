# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
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
# linear layers with 120, 84 and 10 outputs) that turns those maps into class scores. Between
# them sits one flatten. In this chapter we follow a single input through the network and watch
# its shape change, check every change against the output-size formula, count where the
# parameters are, and finish with a widget for trying other sizes.
#
# Nothing here is trained or random in a way that matters, so every printed table below is
# checked by the tests, and quick mode changes nothing.

# %%
# %matplotlib inline
import torch

from lenet_nb import shapes
from lenet_nb.models import get_model
from lenet_nb.widgets import shape_widget

# %% [markdown]
# ## 1. The walkthrough
#
# The network is the one *Dive into Deep Learning* uses (seeds 000 and 003): 5×5 kernels,
# padding 2 on the first convolution only, sigmoid activations and average pooling. Feed it one
# random 28×28 single-channel image, shape `[batch, channels, height, width] = [1, 1, 28, 28]`,
# and record each layer's output shape:

# %%
net = get_model("d2l")
X = torch.rand(size=(1, 1, 28, 28))
print(shapes.format_shape_table(shapes.shape_table(net, X)))

# %% [markdown]
# Reading it top to bottom:
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
# ## 2. Three variants side by side
#
# The tutorials do not all use this network. Seed 001 drops the padding and uses max pooling,
# and pushes a batch of 64 images through it. The original paper (LeCun et al., 1998) feeds
# 32×32 images and uses no padding. The batch size travels through untouched, so only the last
# three numbers matter:

# %%
variants = {
    "d2l (28, pad 2)": (net, torch.rand(1, 1, 28, 28)),
    "seed 001 (28, no pad)": (get_model("seed001"), torch.rand(64, 1, 28, 28)),
    "paper (32, no pad)": (get_model("d2l", padding=0, in_size=32), torch.rand(1, 1, 32, 32)),
}
tables = {name: shapes.shape_table(v_net, v_X) for name, (v_net, v_X) in variants.items()}
print(shapes.compare_shape_tables(tables))

# %% [markdown]
# - **Seed 001**: without padding, C1 shrinks the 28×28 image to 24×24, S2 to 12×12, C3 to 8×8
#   and S4 to 4×4. The convolutional block hands over `[64, 16, 4, 4]`, hence seed 001's first
#   linear layer `Linear(16*4*4, 120)` with 256 inputs instead of 400. Max instead of average
#   pooling changes the values, never the shapes.
# - **The paper**: a 32×32 input without padding gives exactly the d2l shapes, because
#   32 = 28 + 2 × 2. LeCun et al. chose an input larger than the 28×28 MNIST images so that
#   strokes at the edge of a digit still fall in the middle of the top feature detectors'
#   receptive fields. d2l's padding of 2 adds the same 2-pixel border (of zeros), so both reach
#   C5 with 16 maps of 5×5.
#
# Seed 003's summary says LeNet "alternates convolutional and max-pooling layers", but the
# network it builds uses average pooling, like d2l and the paper. As the table shows, for the
# shapes it makes no difference.
#
# ## 3. The output-size formula
#
# A convolution or pooling window of size k, with padding p and stride s, applied to an n×n map
# produces a map of side
#
# $$\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$
#
# Evaluate it for every convolution and pooling layer of each variant, and compare with what
# PyTorch actually produced:

# %%
for name, (v_net, v_X) in variants.items():
    rows = shapes.formula_check(v_net, v_X)
    assert all(r["formula"] == r["torch"] for r in rows), name
    print(f"{name}\n{shapes.format_formula_check(rows)}\n")

# %% [markdown]
# ## 4. Where the parameters are
#
# `torchinfo`, a maintained model-summary library, counts the parameters of every layer. Only
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
# The two convolutions, which do all the looking at the image, hold 2,572 parameters. The three
# linear layers hold 59,134, or 95.8 %: the first one alone, 400 × 120 weights plus 120 biases,
# has 48,120. This is the fact behind seed 003's quiz question ("most of LeNet's parameters are
# in the convolutional block" is the *wrong* statement), and chapter 1's point again: the
# convolutions reuse one small kernel everywhere, the dense layers pay for every connection.
#
# ## 5. Try other sizes
#
# Pick the input size, the padding of C1, the kernel size of both convolutions and the pooling
# kind. The table shows the shape after each LeNet layer (paper names: C1, S2, C3, S4, then the
# dense layers C5, F6 and the output) and the parameter count. Some combinations shrink a feature
# map to nothing before the end of the convolutional block; the widget then says where and why.
# Try a kernel of 11, or an input of 11 pixels.

# %%
shape_widget()

# %% [markdown]
# ## 6. Smaller maps, more channels
#
# The seeds' tip about LeNet, and most convolutional networks after it: as we go deeper, the
# resolution drops (each value sees a larger part of the image, so it can respond to larger
# patterns) while the number of channels grows (more kinds of pattern are told apart). Bars show
# the area H × W of the input and of each convolution and pooling output, the line the number
# of channels (the sigmoids change neither):

# %%
ax = shapes.plot_shape_trend([("input", tuple(X.shape))] + shapes.shape_table(net, X))

# %% [markdown]
# ## Recap
#
# In this notebook we saw that:
#
# - a 28×28 image goes through LeNet as 6×28×28 → 6×14×14 → 16×10×10 → 16×5×5 → 400 → 120 → 84
#   → 10; activations never change a shape, pooling halves the side, an unpadded 5×5
#   convolution takes 4 pixels off it;
# - seed 001's network without padding hands 16×4×4 = 256 features to the dense block, while
#   the paper's 32×32 input gives the same shapes as d2l's padded 28×28;
# - the formula ⌊(n + 2p − k)/s⌋ + 1 predicts every convolution and pooling output exactly;
# - LeNet's 61,706 parameters sit almost entirely (95.8 %) in its three linear layers;
# - too large a kernel or too small an input collapses a feature map to nothing, which the
#   formula predicts before PyTorch fails.
#
# Chapter 3 trains this network. First, check yourself:

# %%
from lenet_nb.quiz import self_check

self_check("ch2")

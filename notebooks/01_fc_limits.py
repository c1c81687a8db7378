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
# # Chapter 1 — Why not just a fully-connected network?
#
# A multilayer perceptron can classify Fashion-MNIST: flatten each 28×28 image into a vector of
# 784 numbers and feed it to dense layers. The tutorials this course grew from name two problems
# with that approach and two reasons why convolutions do better. Here each of those four claims
# is turned into something you can compute and look at, and one experiment none of the tutorials
# runs puts them to the test: what happens when every image's pixels are shuffled?
#
# **Quick mode.** Under `pytest` (and in CI) the training at the end uses one epoch on a small
# subset, so its numbers mean nothing there. The outputs stored in this file come from a full
# run (`LENET_NB_QUICK=0`) on a 2-core CPU. Every size that differs between the two modes goes
# through the one knob `lenet_nb.config.reduce_in_tests(full, quick)`.

# %%
# %matplotlib inline
from torch import nn

from lenet_nb import fc_limits
from lenet_nb.config import reduce_in_tests
from lenet_nb.data import load_data_fashion_mnist, load_split, text_labels
from lenet_nb.models import count_parameters
from lenet_nb.plot import show_images
from lenet_nb.widgets import dense_vs_conv_widget

# %% [markdown]
# ## 1. Flattening pulls neighbours apart
#
# Flattening reads the image row by row: pixel (row, col) of a 28-wide image lands at position
# `row * 28 + col`. Its right-hand neighbour ends up next to it, one position further on. Its
# neighbour directly below, just as close in the picture, lands **28 positions** further on,
# with the rest of the row in between. Take the first test image and a pixel on it:

# %%
X, y = load_split("FashionMNIST", train=False)
img = X[0].float() / 255
row, col = 14, 16  # a pixel on the boot
print(f"test image 0: {text_labels[int(y[0])]}")
print(f"pixel ({row}, {col}) -> position {fc_limits.flat_index(row, col)}")
for side, (index, distance) in fc_limits.neighbour_distances(row, col).items():
    print(f"  neighbour {side:<5} -> position {index} ({distance} away)")

# %% [markdown]
# Left, the image with the pixel (red) and its neighbours to the right (cyan) and below
# (orange). Right, a window of the flattened vector: the right-hand neighbour sits next to the
# pixel, the one below is a whole row of 28 values away.

# %%
ax = fc_limits.plot_adjacency(img, row, col)

# %% [markdown]
# For a dense layer this distance is not even the real problem: it gives every input position
# its own weight and has no notion of "near" at all. Position 409 is as unrelated to 408 as
# position 700 is. Whatever spatial structure the network uses, it has to discover from the
# data. Section 4 shows what that means in practice.
#
# ## 2. Dense layers grow with the image
#
# Seed 001's example: a 1000×1000 colour photo (3 channels) flattened into 3,000,000 inputs and
# connected to 256 hidden units. Build that layer on PyTorch's `meta` device, which records the
# shapes without allocating memory, and count:

# %%
dense = nn.Linear(1000 * 1000 * 3, 256, device="meta")
n = count_parameters(dense)
print(f"{n:,} parameters × 4 bytes (float32) = {4 * n:,} bytes")
print(fc_limits.format_dense_vs_conv(1000, 3, 256))

# %% [markdown]
# 3.07 GB for the weights of one layer, before any gradient or optimizer state (Adam keeps two
# more copies). Seed 001 writes "3000000 × 256 × 4 bytes = 3000000 kB = 3000 M = 3 G". Its
# first step holds only if a kB is 1,024 bytes (256 × 4 = 1,024); the next steps divide by
# 1,000. Mixing binary and decimal units, the chain lands near the right answer by luck: the
# weights take 3,072,000,000 bytes (the biases another 1,024), which is 3.07 GB in decimal units
# (10⁹ bytes) or 2.86 GiB in binary ones (2³⁰ bytes).
#
# A 5×5 convolution producing the same 256 output channels from the 3 input channels needs
# 3 × 5 × 5 × 256 weights plus 256 biases: 19,456 parameters, whatever the size of the photo.
# Move the sliders to compare both layers for other images, widths and number formats:

# %%
dense_vs_conv_widget()

# %% [markdown]
# ## 3. What a convolution keeps
#
# The tutorials credit convolutions with two advantages.
#
# **The same kernel slides over every position**, so the number of parameters does not depend on
# the image size. A dense layer from the flattened image to 6 units against a 5×5 convolution
# with 6 output channels (LeNet's first layer):

# %%
print(fc_limits.growth_table([28, 100, 1000]))

# %% [markdown]
# **A convolution keeps the spatial shape.** Its output is again a grid, one value per position,
# so "above", "below" and "next to" still mean something in the next layer. Two fixed 3×3 edge
# detectors (Sobel kernels, not learned) applied to the test image give two 28×28 feature maps,
# one lighting up at vertical edges, the other at horizontal ones:

# %%
x = img.reshape(1, 1, 28, 28)
maps = fc_limits.feature_maps(x)
print(f"input {list(x.shape)} -> feature maps {list(maps.shape)}")
print(f"flattened instead: {list(x.flatten(1).shape)}")
axes = show_images([x[0, 0], maps[0, 0], maps[0, 1]], 1, 3,
                   titles=["image", "vertical edges", "horizontal edges"], scale=2)

# %% [markdown]
# Because the same kernel is used everywhere, **moving the image moves the feature map with it**:
# convolving a shifted image gives the shifted feature map. Shift the boot 3 pixels down and 4
# to the right:

# %%
shifted = fc_limits.shift_image(x, 3, 4)
axes = show_images([x[0, 0], shifted[0, 0], maps[0, 0], fc_limits.feature_maps(shifted)[0, 0]],
                   1, 4, titles=["image", "shifted", "its edges", "edges of shifted"], scale=2)
print("convolve(shift(image)) == shift(convolve(image)):", fc_limits.shift_commutes(x, 3, 4))

# %% [markdown]
# A dense layer has no such property: shifting the image sends each value to a different input
# weight, and the layer computes something unrelated. (`tests/test_fc_limits.py` checks both
# statements.)
#
# ## 4. An experiment: shuffle the pixels
#
# Pick one random permutation of the 784 pixel positions and apply that same permutation to
# every image, training and test alike. To us the images become noise:

# %%
perm = fc_limits.pixel_permutation(784, seed=0)
scrambled = fc_limits.permute_pixels(X[:5].float() / 255, perm)
axes = show_images(list(X[:5].float() / 255) + list(scrambled), 2, 5,
                   titles=[text_labels[int(c)] for c in y[:5]] * 2)

# %% [markdown]
# No information is lost: the permutation can be undone, and a dense layer cannot tell the
# difference at all. Permuting its inputs is the same as permuting the columns of its first
# weight matrix, which start out random anyway, so an MLP should learn the shuffled images
# exactly as well as the originals. A convolution looks at 5×5 patches of *neighbouring*
# pixels, and after the shuffle neighbours are strangers: LeNet should lose its advantage.
#
# We train both on both versions of Fashion-MNIST with the same seed, optimiser (Adam,
# lr 0.002), batch size (128) and number of epochs. The MLP has one hidden layer of 256 ReLU
# units; LeNet is the d2l network with ReLU and max pooling, which trains well in a few epochs
# (chapter 3 trains the sigmoid original).

# %%
batch_size = 128
subset = reduce_in_tests(None, (2000, 500))  # None: all 60,000 + 10,000 images
train_iter, test_iter = load_data_fashion_mnist(batch_size, subset=subset)
num_epochs = reduce_in_tests(4, 1)
for name, build in fc_limits.PERMUTATION_MODELS.items():
    print(f"{name}: {count_parameters(build()):,} parameters")

# %%
# NBVAL_IGNORE_OUTPUT
# (trained accuracies differ between quick and full mode)
results = fc_limits.permutation_experiment(train_iter, test_iter, num_epochs)
print(fc_limits.format_permutation_table(results))

# %% [markdown]
# On the original images LeNet beats the MLP; on the shuffled ones the MLP's accuracy barely
# moves (the small difference comes from a different random start and batch order, not from
# the data) while LeNet's drops below the MLP's. LeNet's advantage was never "more parameters"
# (it has 61,706 against the MLP's 203,530): it was the assumption, built into its
# layers, that nearby pixels belong together. Destroy the neighbourhoods and the assumption
# turns from a help into a hindrance: its 5×5 windows now gather unrelated pixels, and pooling
# keeps the strongest of four unrelated values.
#
# ## Recap
#
# In this notebook we saw that:
#
# - flattening an image puts vertically adjacent pixels 28 positions apart, and a dense layer
#   has no notion of nearness anyway;
# - a dense layer on a 1000×1000 colour photo with 256 units needs 768,000,256 parameters,
#   3.07 GB in float32 (seed 001's "3 G", computed exactly), while a 5×5 convolution with 256
#   output channels needs 19,456 whatever the image size;
# - a convolution keeps the image's grid, and shifting the image shifts its feature maps;
# - shuffling the pixels leaves an MLP unaffected but costs LeNet its advantage: convolutions
#   win because they assume that neighbouring pixels matter together.
#
# Chapter 2 follows an image through LeNet layer by layer. First, check yourself:

# %%
from lenet_nb.quiz import self_check

self_check("ch1")

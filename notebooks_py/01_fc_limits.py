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
# # Chapter 1 — Why not just a fully-connected network?
#
# A multilayer perceptron (MLP: a stack of fully-connected, or dense, layers) can classify
# Fashion-MNIST (grey 28×28 pictures of clothes in 10 classes): flatten each image into 784
# numbers and feed them to dense layers. The tutorials this course grew from name two problems
# with that and two reasons why convolutions do better. This chapter turns each claim into
# something you compute, builds a convolution by hand, and ends with an experiment none of the
# tutorials runs: what happens when every image's pixels are shuffled? Those runs take minutes,
# so they are stored (`results/permutation.csv`, section 5) beside one small live run; the other
# outputs come from a full run on a 2-core CPU (README, "Quick mode and tests").
#
# **Exercises.** Eight, of all five kinds. Each check cell answers ✔, or ✘ with a hint, or ○
# while untouched. This file shows the solutions; `make lab` gives you a copy without them.

# %%
# %matplotlib inline
import torch
import torch.nn.functional as F
from torch import nn

from lenet_nb import experiments as xp
from lenet_nb.config import reduce_in_tests
from lenet_nb.data import load_split, text_labels
from lenet_nb.exercises import fc_limits as ex
from lenet_nb.lessons import conv, fc_limits
from lenet_nb.lessons.widgets import dense_vs_conv_widget
from lenet_nb.models import count_parameters
from lenet_nb.plot import plot_bands, show_images
from lenet_nb.stats import where_in_range

# %% [markdown]
# ## 1. Flattening pulls neighbours apart
#
# Flattening reads the image row by row: pixel (row, col) of a 28-wide image lands at position
# `row * 28 + col` (`fc_limits.flat_index`, `lenet_nb/lessons/fc_limits.py`). Its right-hand
# neighbour ends up next to it; its neighbour directly below, just as close in the picture, lands
# **28 positions** further on. On the first test image, the pixel (red) and its neighbours to
# the right (cyan) and below (orange), and a window of the flattened vector:

# %% tags=["keep-output"]
X_test, y_test = load_split("FashionMNIST", train=False)
img = X_test[0].float() / 255
row, col = 14, 16  # a pixel on the boot
print(f"test image 0: {text_labels[int(y_test[0])]}")
print(f"pixel ({row}, {col}) -> position {fc_limits.flat_index(row, col)}")
for side, (index, distance) in fc_limits.neighbour_distances(row, col).items():
    print(f"  neighbour {side:<5} -> position {index} ({distance} away)")
ax = fc_limits.plot_adjacency(img, row, col)

# %% [markdown]
# For a dense layer this distance is not even the real problem: it gives every input position
# its own weight and has no notion of "near" at all; any spatial structure it must discover from
# the data (section 5).
#
# ## 2. Dense layers grow with the image
#
# An example from "Learn PyTorch from scratch (14): LeNet" (README "Sources"; Learn PyTorch (14)
# from here on): a 1000×1000 colour photo flattened into 3,000,000 inputs and connected to 256
# hidden units; against it, a 5×5 convolution with 256 output channels, and LeNet's first layer
# (6 units or channels) at three image sizes. The layers live on PyTorch's `meta` device (shapes
# without memory); `count_parameters` (`lenet_nb/models.py`) adds up `p.numel()`;
# `fc_limits.format_dense_vs_conv` and `fc_limits.growth_table` apply the same formulas
# (`lenet_nb/lessons/fc_limits.py`):

# %%
dense = nn.Linear(1000 * 1000 * 3, 256, device="meta")
n = count_parameters(dense)
print(f"{n:,} parameters × 4 bytes (float32) = {4 * n:,} bytes")
print(f"weights {4 * dense.weight.numel():,} bytes + biases {4 * dense.bias.numel():,} bytes")
print(fc_limits.format_dense_vs_conv(1000, 3, 256))
print()
conv_layer = nn.Conv2d(3, 256, kernel_size=5, device="meta")
side = 1000 - 5 + 1
activations = 256 * side * side
print(f"conv 5×5, 3 -> 256 channels: {count_parameters(conv_layer):,} parameters")
print(f"its output on one 1000×1000 photo: 256 × {side} × {side} = {activations:,} values")
print(f"= {4 * activations:,} bytes = {4 * activations / 1e9:.2f} GB in float32 "
      f"(the dense layer's output: 256 values)")
print()
print(fc_limits.growth_table([28, 100, 1000]))

# %% [markdown]
# 3.07 GB for the weights of one dense layer, before any gradient or optimiser state. Learn
# PyTorch (14) writes "3000000 × 256 × 4 bytes = 3000000 kB = 3000 M = 3 G": its first step
# holds only if a kB is 1,024 bytes, the next ones divide by a thousand, and the mix lands near
# the right answer by luck (3.07 GB in decimal units, 2.86 GiB in binary ones).
#
# The convolution needs 19,456 parameters whatever the size of the photo (the last table shows
# the same for LeNet's first layer). What it *produces* still grows: 253,956,096 values (1.02 GB
# in float32) for one photo, kept for the backward pass. Parameters are what a layer must learn;
# activations are what it costs to run. The sliders compare both layers for other images, widths
# and number formats (`lenet_nb/lessons/widgets.py`):

# %%
dense_vs_conv_widget()  # without a kernel (a stored notebook), a static copy of its start shows

# %% [markdown]
# ## 3. A convolution, built by hand
#
# Every piece below is written in plain loops, then checked against the package's reference
# (`lenet_nb/lessons/conv.py`) and PyTorch's fast version.
#
# ### 3.1 Cross-correlation
#
# A kernel `K` of h×w numbers slides over the input `X` of H×W numbers. At each position it
# covers an h×w window of `X`; the output there is the sum of the window multiplied element by
# element with `K`. The kernel fits in H − h + 1 positions down and W − w + 1 across. By hand,
# for a 3×3 input and a 2×2 kernel:
#
# ```
# X = 0 1 2      K = 0 1
#     3 4 5          2 3
#     6 7 8
# ```
#
# The top-left window is `[[0, 1], [3, 4]]`, so the top-left output is 0·0 + 1·1 + 3·2 + 4·3 =
# 19; one column to the right, 1·0 + 2·1 + 4·2 + 5·3 = 25. In code:

# %%
X = torch.arange(9.0).reshape(3, 3)
K = torch.arange(4.0).reshape(2, 2)
window = X[0:2, 0:2]
print("window:", window.tolist())
print("window * K:", (window * K).tolist())
print("sum:", (window * K).sum().item())

# %% [markdown]
# #### Exercise 1.1 (complete the code): `corr2d`, cross-correlation by hand
#
# Write `corr2d(X, K)` for a 2-D input and a 2-D kernel: make the output tensor of the right size,
# then fill each output value. `ex.check_corr2d` compares your function with the reference
# `lenet_nb.lessons.conv.corr2d` on three inputs (the example above and non-square ones); when
# something differs it says where and names the usual slip.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-1-corr2d-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def corr2d(X, K):
    """Cross-correlation of a 2-D input X with a 2-D kernel K."""
    h, w = K.shape
    ### BEGIN SOLUTION
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
    ### END SOLUTION


# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-1-corr2d", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_corr2d(corr2d)

# %% [markdown]
# From here on the notebook uses the reference `corr2d`, whatever the cell above holds. PyTorch
# computes the same with `F.conv2d`, which wants a batch and a channel dimension in front
# (`[1, 1, H, W]` for the input, `[1, 1, h, w]` for the kernel):

# %%
from lenet_nb.lessons.conv import corr2d  # the reference from here on, whatever you wrote above

Y = corr2d(X, K)
Y_torch = F.conv2d(X.reshape(1, 1, 3, 3), K.reshape(1, 1, 2, 2)).reshape(2, 2)
print("corr2d:  ", Y.tolist())
print("F.conv2d:", Y_torch.tolist())
print("same outputs:", torch.equal(Y, Y_torch))
assert torch.equal(Y, Y_torch)

gen = torch.Generator().manual_seed(0)
X_r, K_r = torch.randn(5, 7, generator=gen), torch.randn(2, 3, generator=gen)
Y_r = corr2d(X_r, K_r)
Y_r_torch = F.conv2d(X_r.reshape(1, 1, 5, 7), K_r.reshape(1, 1, 2, 3)).reshape(Y_r.shape)
print(f"random 5×7 input, 2×3 kernel -> {list(Y_r.shape)}; "
      f"same outputs (to 1e-6): {torch.allclose(Y_r, Y_r_torch, atol=1e-6)}")
assert torch.allclose(Y_r, Y_r_torch, atol=1e-6)

# %% [markdown]
# ### 3.2 Padding and stride
#
# Without help, every convolution shrinks its input, and a border pixel is covered by fewer
# windows than one in the middle. Two settings change that.
#
# - **Padding** adds a border of zeros before the window slides: p_h rows above *and* below the
#   input, p_w columns to its left *and* right.
# - **Stride** moves the window s_h rows down and s_w columns across at a time, instead of one.
#
# A window that would stick out past the padded input is not used, as in `F.conv2d`. PyTorch
# takes both as (rows, columns) pairs: `nn.Conv2d(..., padding=(p_h, p_w), stride=(s_h, s_w))`.

# %% [markdown]
# #### Exercise 1.2 (complete the code): `corr2d_sp`, with padding and stride
#
# Write `corr2d_sp(X, K, padding, stride)`: the cross-correlation of the zero-padded `X` with
# `K`, the window moving by the stride; with the defaults it must give what `corr2d` gives.
# `ex.check_corr2d_sp` compares it with `F.conv2d` on four inputs, among them one where the last
# window would stick out and one where the kernel only fits once the padding is added, and names
# the usual slips.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-2-corr2d_sp-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def corr2d_sp(X, K, padding=(0, 0), stride=(1, 1)):
    """Cross-correlation of a 2-D X, padded with zeros, with a 2-D K moving by the stride."""
    p_h, p_w = padding
    s_h, s_w = stride
    h, w = K.shape
    ### BEGIN SOLUTION
    X_pad = torch.zeros(X.shape[0] + 2 * p_h, X.shape[1] + 2 * p_w)
    X_pad[p_h:p_h + X.shape[0], p_w:p_w + X.shape[1]] = X
    Y = torch.zeros((X_pad.shape[0] - h) // s_h + 1, (X_pad.shape[1] - w) // s_w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X_pad[i * s_h:i * s_h + h, j * s_w:j * s_w + w] * K).sum()
    return Y
    ### END SOLUTION


# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-2-corr2d_sp", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_corr2d_sp(corr2d_sp)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> one answer, and how many positions there are</summary>
#
# One answer copies `X` into a larger tensor of zeros and starts the window of output (i, j) at
# row i·s_h, column j·s_w of it. Along a side of n pixels, padded to n + 2p, a window of k
# pixels may start at 0, s, 2s, … as long as it ends inside:
#
# $$\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1$$
#
# positions, the floor dropping a window that would stick out; with p = 0 and s = 1 it is the
# n − k + 1 of section 3.1. Chapter 2 uses this formula on every layer of LeNet.
#
# </details>

# %% [markdown]
# The package's reference `conv.corr2d_sp` (`lenet_nb/lessons/conv.py`) against `F.conv2d` on a
# 7×8 input with a 3×2 kernel, padding (2, 0) and stride (2, 3):

# %%
gen = torch.Generator().manual_seed(4)
X_s, K_s = torch.randn(7, 8, generator=gen), torch.randn(3, 2, generator=gen)
Y_s = conv.corr2d_sp(X_s, K_s, padding=(2, 0), stride=(2, 3))
Y_s_torch = F.conv2d(X_s.reshape(1, 1, 7, 8), K_s.reshape(1, 1, 3, 2), padding=(2, 0),
                     stride=(2, 3)).reshape(Y_s.shape)
print(f"output {list(Y_s.shape)}; same as F.conv2d (to 1e-6): "
      f"{torch.allclose(Y_s, Y_s_torch, atol=1e-6)}")
assert torch.allclose(Y_s, Y_s_torch, atol=1e-6)

# %% [markdown]
# ### 3.3 Convolution or cross-correlation?
#
# What deep-learning libraries call a convolution is the cross-correlation above. The convolution
# of mathematics reads the kernel backwards: the output at (i, j) is the sum over a, b of
# X[i + a, j + b] · K[h − 1 − a, w − 1 − b]. That is the same as flipping the kernel upside down
# and left to right, then cross-correlating. Written out with exactly that index arithmetic, and
# checked on the random 5×7 input against the reference `conv.convolve2d`
# (`lenet_nb/lessons/conv.py`) and against `F.conv2d` with the flipped kernel:

# %%
def convolve2d(X, K):
    """True 2-D convolution (the part where the kernel fits): K is read backwards."""
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = sum(X[i + a, j + b] * K[h - 1 - a, w - 1 - b]
                          for a in range(h) for b in range(w))
    return Y


Y_conv = convolve2d(X_r, K_r)
K_flipped = K_r.flip(0, 1)
print("kernel:        ", [[round(v, 2) for v in r] for r in K_r.tolist()])
print("flipped kernel:", [[round(v, 2) for v in r] for r in K_flipped.tolist()])
print(f"max |convolution - cross-correlation|:                {(Y_conv - Y_r).abs().max():.4f}")
print(f"max |convolution - cross-correlation, flipped kernel|: "
      f"{(Y_conv - corr2d(X_r, K_flipped)).abs().max():.4f}")
Y_conv_torch = F.conv2d(X_r.reshape(1, 1, 5, 7), K_flipped.reshape(1, 1, 2, 3)).reshape(4, 5)
same = (torch.allclose(Y_conv, conv.convolve2d(X_r, K_r), atol=1e-6)
        and torch.allclose(Y_conv, Y_conv_torch, atol=1e-6))
print("same outputs as conv.convolve2d and as F.conv2d with the flipped kernel:", same)
assert same

# %% [markdown]
# The two differ only by the flip. A network learns its kernels, so training finds whichever
# kernel works (flipped, if need be): `nn.Conv2d` runs the cheaper cross-correlation.
#
# ### 3.4 An edge detector, set by hand
#
# A picture of 6×8 pixels, light (1) with a dark (0) band in columns 3 to 5, and the kernel
# `[[1, -1]]`, which subtracts each pixel's right-hand neighbour from it: 0 where the two are
# equal, 1 where light turns to dark and −1 where dark turns to light:

# %%
X_edge = torch.ones(6, 8)
X_edge[:, 3:6] = 0  # a dark vertical band
K_vertical = torch.tensor([[1.0, -1.0]])
print(X_edge)
print(corr2d(X_edge, K_vertical))

# %% [markdown]
# #### Exercise 1.3 (complete the code): a kernel for horizontal edges
#
# Set `K_horizontal` to a kernel that finds *horizontal* edges. `ex.check_horizontal_edges`
# applies it to a picture with a horizontal dark band, the same band turned vertical, and a
# uniform picture: it passes when your kernel gives 0 on the last two but responds on the
# first, and otherwise says which picture fooled it.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-3-horizontal_edges-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
K_horizontal = torch.tensor([[1.0], [-1.0]])
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-3-horizontal_edges", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_horizontal_edges(K_horizontal)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> one answer</summary>
#
# One answer is the vertical detector turned on its side, `[[1], [-1]]`: it subtracts from each
# pixel the one below it, so it gives 0 wherever a row repeats the next and responds where they
# differ. Any kernel whose weights add up to 0 and whose rows differ works too: `[[-1], [1]]`,
# or a Sobel kernel on its side, like the one section 4 uses.
#
# </details>

# %% [markdown]
# ### 3.5 An edge detector, learned
#
# A network learns its kernels. At its smallest: hand a random 8×8 input and what `K_vertical`
# makes of it to gradient descent, starting from a random 1×2 kernel. Each epoch (one pass over
# the data, here one example) computes the mean squared error between `corr2d(X_rand, K_hat)`
# and the target, lets autograd find its gradient with respect to `K_hat`, and takes a step of
# size `lr` against it.

# %%
X_rand = torch.randn(8, 8, generator=torch.Generator().manual_seed(1))
Y_target = corr2d(X_rand, K_vertical)

# %% [markdown]
# #### Exercise 1.4 (find the bug): the edge kernel that will not settle
#
# `learn_edge_kernel` below should recover `[[1, -1]]` from `X_rand` and `Y_target`. Run it: the
# loss falls, then jumps back up, again and again, and the kernel ends far from `[[1, -1]]`. Find
# the bug and fix it; change nothing else (keep `lr`, `num_epochs` and the seed).
# `ex.check_learn_edge_kernel` runs your function on its own copy of the data, for two seeds, and
# compares every epoch's loss and the final kernel with the package's loop.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-4-learn_edge_kernel-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def learn_edge_kernel(X, Y, num_epochs=25, lr=0.1, seed=0):
    """Fit a 1×2 kernel K_hat so that corr2d(X, K_hat) ≈ Y; return (K_hat, loss per epoch)."""
    torch.manual_seed(seed)
    K_hat = torch.randn(1, 2, requires_grad=True)  # a random start
    losses = []
    for _ in range(num_epochs):
        loss = ((corr2d(X, K_hat) - Y) ** 2).mean()
        loss.backward()
        ### BEGIN SOLUTION
        with torch.no_grad():
            K_hat -= lr * K_hat.grad
            K_hat.grad.zero_()
        ### END SOLUTION
        ### BEGIN STUB
        # with torch.no_grad():
        #     K_hat -= lr * K_hat.grad
        ### END STUB
        losses.append(loss.item())
    return K_hat.detach(), losses


K_hat, losses = learn_edge_kernel(X_rand, Y_target)
print("loss, every 3rd epoch:", [round(v, 4) for v in losses[::3]])
print("learned kernel:", [round(v, 3) for v in K_hat.flatten().tolist()])

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-4-learn_edge_kernel", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_learn_edge_kernel(learn_edge_kernel)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> what went wrong</summary>
#
# `loss.backward()` *adds* the new gradient to what `K_hat.grad` holds. Without
# `K_hat.grad.zero_()` after each step, the step of epoch 10 uses the sum of ten gradients, most
# computed for kernels that no longer exist: the steps overshoot and the kernel wanders. PyTorch
# accumulates on purpose, so every training loop clears the gradients once per step
# (`optimizer.zero_grad()` in chapters 3 and 4).
#
# </details>

# %% [markdown]
# The package's loop `conv.learn_kernel` (`lenet_nb/lessons/conv.py`) clears the gradient after
# every step. Its losses and the kernel it learns:

# %%
K_ref, losses_ref = conv.learn_kernel(X_rand, Y_target, (1, 2), num_epochs=25, lr=0.1, seed=0)
print("loss, every 3rd epoch:", [round(v, 4) for v in losses_ref[::3]])
print("learned kernel:", [round(v, 3) for v in K_ref.flatten().tolist()])
print("true kernel:   ", K_vertical.flatten().tolist())

# %% [markdown]
# ### 3.6 Several channels in, several out; the 1×1 convolution
#
# A convolution layer outputs a stack of *feature maps*, one per kernel. With c_in input channels,
# each kernel has one h×w slice per channel; each channel is cross-correlated with its slice and
# the results are **added up** into one map. With c_out kernels, `K` is [c_out, c_in, h, w] and
# the maps are stacked. Checked against the references `conv.corr2d_multi_in` /
# `conv.corr2d_multi_in_out` and an `nn.Conv2d` given our weights:

# %%
def corr2d_multi_in(X, K):
    """X [c_in, H, W] and K [c_in, h, w]: cross-correlate channel by channel, then add up."""
    return sum(corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K):
    """X [c_in, H, W] and K [c_out, c_in, h, w]: one output map per kernel, stacked."""
    return torch.stack([corr2d_multi_in(X, k) for k in K])


gen = torch.Generator().manual_seed(2)
X3, K4 = torch.randn(3, 5, 6, generator=gen), torch.randn(4, 3, 2, 2, generator=gen)
layer = nn.Conv2d(3, 4, kernel_size=2, bias=False)
layer.load_state_dict({"weight": K4})
one = corr2d_multi_in(X3, K4[0])
many = corr2d_multi_in_out(X3, K4)
with torch.no_grad():
    from_layer = layer(X3.unsqueeze(0))[0]
print(f"one output channel: {list(one.shape)}, four: {list(many.shape)}, "
      f"nn.Conv2d: {list(from_layer.shape)}")
same = (torch.allclose(one, conv.corr2d_multi_in(X3, K4[0]))
        and torch.allclose(many, conv.corr2d_multi_in_out(X3, K4))
        and torch.allclose(many, from_layer, atol=1e-6))
print("same outputs as the references and nn.Conv2d:", same)
assert same
print(f"weights: {K4.numel()} = 4 output × 3 input channels × 2 × 2; "
      f"nn.Conv2d has {count_parameters(layer)}")

# %% [markdown]
# With a 1×1 kernel a convolution looks at one pixel at a time, at all its channels: the pixel's
# c_in values are multiplied by one c_out × c_in matrix, the same at every pixel. It is a dense
# layer applied to each pixel, so it is one matrix product: make each pixel a column
# (`[c_in, H·W]`), multiply, reshape back. Checked against the loop version, the reference
# `conv.conv1x1` and an `nn.Conv2d(3, 2, kernel_size=1, bias=False)` with the same weights:

# %%
def conv1x1(X, K):
    """X [c_in, H, W] and K [c_out, c_in]: the same dense layer at every pixel."""
    c_in, h, w = X.shape
    return (K @ X.reshape(c_in, h * w)).reshape(K.shape[0], h, w)


K_1x1 = torch.randn(2, 3, generator=torch.Generator().manual_seed(3))
layer_1x1 = nn.Conv2d(3, 2, kernel_size=1, bias=False)
layer_1x1.load_state_dict({"weight": K_1x1.reshape(2, 3, 1, 1)})
Y_1x1 = conv1x1(X3, K_1x1)
with torch.no_grad():
    from_layer = layer_1x1(X3.unsqueeze(0))[0]
same = (torch.allclose(Y_1x1, corr2d_multi_in_out(X3, K_1x1.reshape(2, 3, 1, 1)), atol=1e-6)
        and torch.allclose(Y_1x1, conv.conv1x1(X3, K_1x1))
        and torch.allclose(Y_1x1, from_layer, atol=1e-6))
print(f"{list(X3.shape)} -> {list(Y_1x1.shape)}; same outputs as the loop, the reference and "
      f"nn.Conv2d: {same}")
assert same
print(f"pixel (0, 0): K @ {[round(v, 3) for v in X3[:, 0, 0].tolist()]} = "
      f"{[round(v, 3) for v in (K_1x1 @ X3[:, 0, 0]).tolist()]}")

# %% [markdown]
# ### 3.7 Pooling
#
# A pooling layer has no weights. It cuts each feature map into p_h×p_w windows and keeps one
# number per window: the largest (max pooling) or the mean (average pooling). In LeNet, and by
# default in `F.max_pool2d`, the windows sit side by side without overlapping.

# %% [markdown]
# #### Exercise 1.5 (complete the code): `pool2d`, pooling by hand
#
# Write `pool2d(X, pool_size, mode)` for a 2-D `X`, with `pool_size = (p_h, p_w)` and `mode`
# `"max"` or `"avg"`; rows or columns left over at the end are dropped. `ex.check_pool2d`
# compares both modes with the reference `lenet_nb.lessons.conv.pool2d` on a 4×4 and a 5×6
# input, and recognises overlapping windows, swapped sizes, a mixed-up mode and a sum instead of
# a mean.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-5-pool2d-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pool2d(X, pool_size, mode="max"):
    """Max or average pooling of a 2-D X over p_h×p_w windows placed side by side."""
    p_h, p_w = pool_size
    ### BEGIN SOLUTION
    Y = torch.zeros(X.shape[0] // p_h, X.shape[1] // p_w)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i * p_h:(i + 1) * p_h, j * p_w:(j + 1) * p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
    ### END SOLUTION


# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-5-pool2d", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_pool2d(pool2d)

# %% [markdown]
# The reference `conv.pool2d` (`lenet_nb/lessons/conv.py`) against PyTorch's `F.max_pool2d` and
# `F.avg_pool2d` on a 4×6 input:

# %%
from lenet_nb.lessons.conv import pool2d  # the reference from here on, whatever you wrote above

X_p = torch.arange(24.0).reshape(4, 6)
for mode, torch_pool in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
    ours, theirs = pool2d(X_p, (2, 2), mode), torch_pool(X_p.reshape(1, 1, 4, 6), 2)[0, 0]
    print(f"{mode}: {ours.tolist()}; same as F.{mode}_pool2d: {torch.equal(ours, theirs)}")
    assert torch.equal(ours, theirs)

# %% [markdown]
# #### Exercise 1.6 (predict, then run): stride and padding, then pooling
#
# A batch holding one 3-channel 32×32 image goes through `nn.Conv2d(3, 8, kernel_size=3,
# stride=2, padding=2)` and then a 2×2 max pooling. Work out the shape of the result on paper and
# write it as a tuple (batch, channels, height, width). `ex.check_strided_shape` says whether you
# are right, with a hint if not, without giving the answer away. The cell after it runs the
# layers.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-6-strided_shape-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
shape = (1, 8, 8, 8)
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-6-strided_shape", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_strided_shape(shape)

# %%
torch.manual_seed(0)
layer = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=2)
after_conv = layer(torch.zeros(1, 3, 32, 32))
after_pool = F.max_pool2d(after_conv, 2)
print("after the convolution:", list(after_conv.shape))
print("after the pooling:    ", list(after_pool.shape))

# %% [markdown]
# ## 4. What a convolution keeps
#
# The tutorials credit convolutions with two advantages. The first, **the same kernel at every
# position**, section 2 counted. The second: **a convolution keeps the spatial shape**, so
# "above" and "next to" still mean something in the next layer. Two fixed 3×3 edge detectors
# (Sobel kernels) on the test image give two 28×28 feature maps, for vertical and for horizontal
# edges (`fc_limits.feature_maps`, `lenet_nb/lessons/fc_limits.py`), on one colour scale (red
# positive, blue negative):

# %%
x = img.reshape(1, 1, 28, 28)
maps = fc_limits.feature_maps(x)
print(f"input {list(x.shape)} -> feature maps {list(maps.shape)}")
print(f"flattened instead: {list(x.flatten(1).shape)}")
axes = show_images([x[0, 0], maps[0, 0], maps[0, 1]], 1, 3,
                   titles=["image", "vertical edges", "horizontal edges"], scale=2)


def same_scale(axes):
    """Give the maps in `axes` one colour map and one colour scale, with a colour bar."""
    top = max(abs(im.get_array()).max() for ax in axes for im in ax.get_images())
    for ax in axes:
        ax.get_images()[0].set(cmap="RdBu_r", clim=(-top, top))  # red +, blue −, white 0
    return axes[-1].figure.colorbar(axes[-1].get_images()[0], ax=list(axes), shrink=0.8)


# the two maps share one scale, so their colours compare (the image keeps its grey)
bar = same_scale(axes[1:])

# %% [markdown]
# Because the same kernel is used everywhere, **moving the image moves the feature map with it**:
# *translation equivariance*. `fc_limits.shift_image` (`lenet_nb/lessons/conv.py`) moves an
# image's content and fills the uncovered border with zeros. Shift the boot 3 pixels down and 4
# to the right, then measure the largest difference between the edges of the shifted image and
# the shifted edges, over the whole map and away from the border (`conv.interior_gap` leaves out
# `margin` rows and columns at every edge, `lenet_nb/lessons/conv.py`; 5 covers the 4 uncovered
# columns plus the pixel the 3×3 kernel reaches beyond its centre):

# %%
shifted = fc_limits.shift_image(x, 3, 4)
edges_of_shifted = fc_limits.feature_maps(shifted)
shifted_edges = fc_limits.shift_image(maps, 3, 4)
axes = show_images([x[0, 0], shifted[0, 0], maps[0, 0], edges_of_shifted[0, 0]], 1, 4,
                   titles=["original", "shifted (3, 4)", "edges of original", "edges of shifted"],
                   scale=2)
bar = same_scale(axes[2:])
margin = 5
gap_all = (edges_of_shifted - shifted_edges).abs().max().item()
gap_inside = conv.interior_gap(edges_of_shifted, shifted_edges, margin)
print(f"max |edges(shift(image)) - shift(edges(image))|, whole map:  {gap_all:.4f}")
print(f"the same, leaving out {margin} pixels at every edge:          {gap_inside:.4f}")
assert gap_inside < 1e-5

# %% [markdown]
# Inside, the two agree exactly; the difference sits at the border, where one image brings in
# zeros the other lacks. A dense layer has no such property.
#
# **Pooling adds a little invariance** (*invariance*: the map does not change at all). When the
# image moves by one pixel, a 2×2 window's largest value often stays in the window. On the first
# 100 test images: the strength of their vertical edges, the images shifted one pixel right, and
# the share of edge positions (away from the border) whose value stayed the same, without
# pooling and after 2×2 max or average pooling (`fc_limits.shifted_edge_maps`,
# `fc_limits.unchanged_share`: `lenet_nb/lessons/fc_limits.py`). The last line checks that a
# shift by a whole window, 2 pixels, moves the pooled map by one position:

# %%
edges, edges_1 = fc_limits.shifted_edge_maps(100)  # before and after the 1-pixel shift
print(f"values unchanged by a 1-pixel shift, no pooling:    "
      f"{fc_limits.unchanged_share(edges, edges_1, 2):6.1%}")
for name, pool in (("max", F.max_pool2d), ("average", F.avg_pool2d)):
    share = fc_limits.unchanged_share(pool(edges, 2), pool(edges_1, 2), 1)
    print(f"values unchanged by a 1-pixel shift, 2×2 {name + ' pooling:':<16}{share:6.1%}")
images = X_test[:100].float().unsqueeze(1) / 255
edges_2 = fc_limits.edge_strength(conv.shift_image(images, 0, 2))
gap = conv.interior_gap(F.max_pool2d(edges_2, 2), conv.shift_image(F.max_pool2d(edges, 2), 0, 1), 1)
print(f"max |pool(edges(shift by 2)) - shift by 1(pool(edges))|, away from the border: {gap:.4f}")
assert gap < 1e-5

# %% [markdown]
# Without pooling almost every edge value changes (1.5% stay the same); after max pooling 30.8%
# stay put, because their window's maximum did not leave the window. Average pooling barely helps
# (1.8%): a mean changes as soon as one value in its window does. This is *partial* invariance,
# for shifts smaller than the window; a shift by a whole window is equivariance again, at half
# the resolution.

# %% [markdown]
# ### Exercise 1.7 (change and observe): a wider pooling window against a one-pixel shift
#
# Would a wider window than LeNet's 2×2 keep more of the edge values unchanged by a one-pixel
# shift, or fewer? The next cell records, for each size in `pool_sizes`, the share that p×p max
# pooling leaves unchanged (`fc_limits.pooled_unchanged_share`). Add sizes (3 and 4, say), run
# it, and answer in the cell after:
#
# - `wider_keeps_more`: in your run, does the share grow with the window (True or False)?
# - `why`: the best explanation, `"a"`, `"b"` or `"c"`:
#   (a) the maximum of a wider window stays inside it for more of the one-pixel moves;
#   (b) a wider window averages more values;
#   (c) a wider window has more weights.
#
# `ex.check_pool_shift` reads the runs you recorded in `observed_pool`, not a stored number.

# %% tags=["exercise-run"] nbgrader={"grade": false, "grade_id": "ex-01-7-pool_shift-run", "locked": false, "schema_version": 3, "solution": true, "task": false}
observed_pool = {}  # window size -> share of the edge values a 1-pixel shift leaves unchanged
### BEGIN SOLUTION
pool_sizes = [2, 3, 4]
### END SOLUTION
### BEGIN STUB
# pool_sizes = [2]  # add the window sizes you want to compare, then run this cell again
### END STUB
for p in pool_sizes:
    observed_pool[p] = fc_limits.pooled_unchanged_share(edges, edges_1, p)
    print(f"{p}×{p} max pooling: {observed_pool[p]:6.1%} of the edge values unchanged")

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-7-pool_shift-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
wider_keeps_more = True
why = "a"
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-01-7-pool_shift", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_pool_shift(observed_pool, wider_keeps_more, why)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> why a wider window keeps more</summary>
#
# When the image moves one pixel right, a window's maximum moves one column right too; it leaves
# the window only if it sat in the last column, and the wider the window, the fewer of its
# columns are the last. Max pooling has no weights, and averaging barely helped above. The price
# is resolution: p×p pooling divides each side by p.
#
# </details>

# %% [markdown]
# ## 5. An experiment: shuffle the pixels
#
# Apply one random permutation of the 784 pixel positions to every image, training and test
# alike (`fc_limits.pixel_permutation`, `fc_limits.permute_pixels`:
# `lenet_nb/lessons/fc_limits.py`). To us the images become noise, yet nothing is lost, and a
# dense layer cannot tell: permuting its inputs permutes the columns of its first weight matrix,
# which start out random anyway. A convolution reads patches of *neighbouring* pixels, and after
# the shuffle neighbours are strangers: LeNet should lose its advantage.
#
# Both networks train on both versions with the same optimiser (Adam, lr 0.002), batch size (128)
# and epochs. The MLP has one hidden layer of 256 ReLU units; LeNet is the *Dive into Deep
# Learning* (d2l) network of chapter 2 with ReLU and max pooling, which train fast (Adam, ReLU and
# max pooling are explained in chapters 3 and 4):

# %%
perm = fc_limits.pixel_permutation(784, seed=0)
scrambled = fc_limits.permute_pixels(X_test[:5].float() / 255, perm)
labels = [text_labels[int(c)] for c in y_test[:5]]
axes = show_images(list(X_test[:5].float() / 255) + list(scrambled), 2, 5,
                   titles=[f"original: {t}" for t in labels] + [f"shuffled: {t}" for t in labels])
for name, build in fc_limits.PERMUTATION_MODELS.items():
    print(f"{name}: {count_parameters(build()):,} parameters")

# %% [markdown]
# One run could be lucky, so each combination is trained from three seeds (the seed sets the
# permutation, the starting weights and the batch order). These 12 trainings take minutes, so
# they are stored: `fc_limits.permutation_run` does one with `fit` (the loop of chapter 3,
# `lenet_nb/train.py`), and one command writes `results/permutation.csv`, a row per run with its
# test accuracy after every epoch and how it was made (commit, torch, threads, CPU, wall time):
#
# ```
# python -m lenet_nb.course.experiments run permutation
# ```
#
# `xp.load` refuses a file that is missing, cut short or from another configuration
# (`lenet_nb/experiments.py`). Below: the test accuracy after the last epoch, mean and range
# (lowest–highest) over the seeds; for each comparison, whether the two ranges separate (a
# difference counts only then); and the runs epoch by epoch, mean as a line, range as a band
# (`plot_bands`, `lenet_nb/plot.py`):

# %% tags=["stored", "keep-output"]
rows = xp.load(fc_limits.PERMUTATION)  # results/permutation.csv
epochs = fc_limits.PERMUTATION.config["epochs"]
seeds = sorted({row["seed"] for row in rows})
print(f"test accuracy after {epochs} epochs, mean (lowest–highest) over seeds {seeds}")
print(fc_limits.permutation_table(rows, epochs))
print()
print(fc_limits.permutation_verdicts(rows, epochs))
curves = xp.summary(rows, ("model", "data"), "test_acc")
ax = plot_bands({f"{model}, {data}": s for (model, data), s in curves.items()},
                ylabel="test accuracy")

# %% [markdown]
# Read the four lines from the bottom. In the stored runs the shuffle costs LeNet accuracy on
# every seed (its ranges separate), while the MLP's ranges overlap: for a dense layer the shuffle
# changes nothing. On shuffled images LeNet ends below the MLP, on the original ones above it. So
# LeNet's edge rests on neighbouring pixels belonging together; without that, it loses to a
# network that never assumed it. Its lead on the original images is the smallest gap of the four:
# trust it only as far as its line says.
#
# A run of your own: LeNet on both versions from seed 3 (not a stored seed) for one epoch, each
# line saying where it lands against the stored range after that epoch (quick mode: a subset,
# far below):

# %% tags=["live"]
# NBVAL_IGNORE_OUTPUT
# (a live training run: its digits differ between CPUs, and quick mode trains on a subset)
live = {**fc_limits.PERMUTATION.config, "epochs": 1,  # one epoch per run: a short cell
        "subset": reduce_in_tests(None, (2000, 500))}
at_epoch = xp.summary(rows, ("model", "data"), "test_acc", epoch=live["epochs"])
for data in ("original", "permuted"):
    acc = fc_limits.permutation_run(live, {"model": "LeNet", "data": data, "seed": 3})["test_acc"]
    print(f"LeNet, {data} images, seed 3, after epoch {live['epochs']}: "
          f"{where_in_range(acc[-1], at_epoch[('LeNet', data)].values)}")

# %% [markdown]
# Within one seed, where does the MLP's small difference between the two versions come from?
# Not from the batches (`fit` reseeds their order) nor from the weights' values (same seed): only
# from which pixel each first-layer weight meets, as if the original images had been given a
# first layer with shuffled columns, a different random start.
#
# ## 6. Challenge

# %% [markdown]
# ### Exercise 1.8 (challenge): the MLP's accuracy with a twentieth of its parameters
#
# The MLP of section 5 spends 203,530 parameters, most of them on its first dense layer. Build
# and train a network with **at most 10,000 trainable parameters** that reaches **at least 0.88
# validation accuracy** on Fashion-MNIST, with **60 s of training on the reference machine**.
#
# Write `train(X, y, seconds)`: it receives training images `X` ([N, 1, 28, 28], values in
# [0, 1]) and labels `y`, and returns a trained network. The checker holds 10,000 of the 60,000
# training images out (seed 0), times `train`, and measures the network's accuracy on them in
# evaluation mode. `seconds` is your budget on this machine (the 60 s scaled by its measured
# speed): use it to stop early, or ignore it. Your numbers are printed beside the course
# solution's (three stored runs, `python -m lenet_nb.course.experiments run
# challenge_fc_limits`). Everything else is yours to choose (chapter 4 explains the AdamW
# optimiser and the one-cycle schedule the course's solution uses). A start: section 2 said what
# is cheaper than a dense layer on the raw image.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-01-8-fc_challenge-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train(X, y, seconds):
    """Build, train and return a network of at most 10,000 parameters for X [N, 1, 28, 28]."""
    ### BEGIN SOLUTION
    num_epochs, batch_size = reduce_in_tests(8, 1), 128
    net = nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 10))
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


# %% tags=["exercise-check", "nbval-ignore-output"] nbgrader={"grade": true, "grade_id": "ex-01-8-fc_challenge", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
ex.check_fc_challenge(train)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> the course's solution</summary>
#
# The course's solution shrinks LeNet: two 5×5 convolutions with 8 and 16 channels, each followed
# by ReLU and 2×2 max pooling, and one linear layer from the 16 maps of 5×5 to the 10 classes.
# The convolutions reuse their few weights everywhere, which is where the parameters are saved.
# It trains with AdamW and a one-cycle rate peaking at 0.01, for a fixed number of epochs that
# fits the budget with room to spare (`fc_limits.challenge_train`,
# `lenet_nb/lessons/fc_limits.py`, the same function, made the stored runs).
#
# </details>

# %% [markdown]
# ## Recap
#
# - Flattening puts vertically adjacent pixels 28 positions apart; a dense layer has no notion
#   of nearness anyway.
# - A dense layer from a 1000×1000 colour photo to 256 units needs 768,000,256 parameters
#   (3.07 GB in float32); a 5×5 convolution with 256 channels needs 19,456 whatever the image
#   size, but its activations still grow with it.
# - Cross-correlation (what `nn.Conv2d` computes) sums window × kernel at every position; padding
#   adds zeros on both sides, a stride skips positions: ⌊(n + 2p − k)/s⌋ + 1 per side. The
#   convolution of mathematics flips the kernel, a difference learning absorbs.
# - Gradient descent recovers an edge kernel from one example if the gradient is cleared after
#   every step. Input channels are cross-correlated one by one and added up; a 1×1 convolution
#   is a dense layer at every pixel.
# - Shifting the image shifts its feature maps (equivariance); 2×2 max pooling leaves 30.8% of
#   the edge values unchanged by a 1-pixel shift, against 1.5% without pooling.
# - Shuffling the pixels costs LeNet accuracy and leaves the MLP where it was (three seeds, the
#   lines of section 5): LeNet's advantage rests on neighbouring pixels belonging together.
#
# Chapter 2 follows an image through LeNet layer by layer. First, check yourself:

# %%
from lenet_nb.quiz.widget import self_check

self_check("fc_limits", static=True)  # static=True: the questions also readable without a kernel

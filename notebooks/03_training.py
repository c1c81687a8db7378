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
# # Chapter 3 — Training LeNet: the tutorials' recipes, reproduced and then beaten
#
# The tutorials this course grew from each train a LeNet and report one number. In this chapter
# we re-run every one of those recipes with the same settings, put our number next to theirs,
# and explain the gaps. Before any of that we write the training loop ourselves and check it
# against the one the recipes use, then measure why the sigmoid network needs such a large
# learning rate, and pick a learning rate the honest way, on a validation split.
# Then we look for a better recipe that still uses a LeNet-sized network,
# look inside the trained network, measure the mistakes hidden in the tutorials' training loops,
# and finish with an explorer widget that trains any activation × pooling combination on demand.
#
# **Quick mode.** Under `pytest` (and in CI) the notebook runs in *quick mode*: every training
# uses one epoch on a small subset, so the numbers printed there mean nothing. The outputs stored
# in this file come from a full run (`LENET_NB_QUICK=0`), on a 2-core CPU without a GPU, while
# several other training jobs shared the same cores, so its wall-clock times and images per
# second are far below what the machine does when it runs one job alone. Every size that
# changes between the two modes goes through the one knob
# `lenet_nb.config.reduce_in_tests(full, quick)`.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display
from torch import nn

from lenet_nb import exercises as ex
from lenet_nb.config import reduce_in_tests
from lenet_nb.data import text_labels
from lenet_nb.recipes import recipes_table, results_table, run_recipe

# a fresh folder outside the repository: parallel runs never overwrite each other's files
checkpoint_dir = Path(tempfile.mkdtemp(prefix="lenet_nb_ch3_"))

# %% [markdown]
# ## 1. The recipes
#
# Four sources, four recipes, plus our own attempt. The table is generated from
# `lenet_nb.recipes.RECIPES`, the same data the runs below use, so it cannot drift from them.
# "d2l" is the network and training of *Dive into Deep Learning*'s LeNet section (sigmoid,
# average pooling, padding 2 on C1, Xavier initialisation, SGD with the large learning rate
# 0.9), which seed 003 runs on a CPU. Seed 000 shows the same network but states a learning
# rate of 0.01. Seed 001 drops the padding and uses max pooling with Adam; seed 002 trains a
# `MyLeNet5` whose C5 is a 5×5 convolution, on MNIST, keeping the best epoch.

# %%
display(Markdown(recipes_table()))

# %% [markdown]
# ## 2. The training loop, written in the open
#
# Every recipe below is trained by `lenet_nb.train.fit`. Before we lean on it, we write its core
# ourselves: a function that measures accuracy and a function that trains for one epoch. Then
# we run one epoch of the d2l recipe with them and check that `fit` computes the very same
# numbers.
#
# The data: `load_data_fashion_mnist` reads the verified Fashion-MNIST files into memory once
# and serves `(X, y)` batches, shuffled by its own seeded generator — `lenet_nb/data.py`. In
# quick mode it takes a small random subset.

# %%
from lenet_nb.data import load_data_fashion_mnist

train_iter, test_iter = load_data_fashion_mnist(256, subset=reduce_in_tests(None, (1000, 400)))

# %% [markdown]
# ### 2.1 Exercise (complete the code): accuracy, counted per sample
#
# Write `evaluate_accuracy(net, data_iter)`:
#
# * switch the network to evaluation mode with `net.eval()` (dropout and batch norm behave
#   differently while training);
# * turn gradient tracking off with `with torch.no_grad():` — nothing will call `backward`;
# * for every batch add up the correct predictions (`net(X).argmax(dim=1) == y`) and the number
#   of samples (`y.numel()`);
# * return correct / samples as a Python float.
#
# The checker runs your function on 23 samples in batches of 10, 10 and 3, with a small net that
# answers differently in training mode. It compares your number with the package's
# `evaluate_accuracy`, and tells you if you averaged per batch, left the net in training mode,
# tracked gradients or returned a tensor.

# %%
def evaluate_accuracy(net, data_iter):
    """Share of correctly classified samples, counted per sample, in eval mode."""
    ### BEGIN SOLUTION
    net.eval()
    correct, n = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += int((net(X).argmax(dim=1) == y).sum())
            n += y.numel()
    return correct / n
    ### END SOLUTION


ex.check_evaluate_accuracy(evaluate_accuracy)

# %% [markdown]
# ### 2.2 Exercise (complete the code): one epoch of training
#
# Write `train_epoch(net, train_iter, loss, updater)`. Start with `net.train()`, then for every
# batch `X, y`:
#
# 1. forward: `y_hat = net(X)`;
# 2. loss: `l = loss(y_hat, y)` — a *mean* over the batch;
# 3. `updater.zero_grad()`: `backward` *adds* to the gradients already stored, so clear them;
# 4. `l.backward()`: the gradient of the loss for every parameter;
# 5. `updater.step()`: move every parameter against its gradient.
#
# Keep count as you go: add `l.item() * y.numel()` to a loss sum (the batch mean times the batch
# size), the number of correct predictions and the number of samples. Return the pair
# `(loss sum / samples, correct / samples)`.
#
# The checker trains a small linear net on 10 samples (batches of 4, 4 and 2) with your function
# and with the package's reference, then compares the parameters, the loss and the accuracy.
# It recognises a missing `zero_grad` (the gradients pile up), `zero_grad` placed after
# `backward`, a missing `step`, a missing `net.train()` and averages taken per batch.

# %%
def train_epoch(net, train_iter, loss, updater):
    """One pass over train_iter; returns (mean loss, accuracy), both counted per sample."""
    ### BEGIN SOLUTION
    net.train()
    loss_sum, correct, n = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741
        updater.zero_grad()
        l.backward()
        updater.step()
        loss_sum += l.item() * y.numel()
        correct += int((y_hat.argmax(dim=1) == y).sum())
        n += y.numel()
    return loss_sum / n, correct / n
    ### END SOLUTION


ex.check_train_epoch(train_epoch)

# %% [markdown]
# ### 2.3 Exercise (predict, then run): how many steps is an epoch?
#
# One epoch passes over all 60,000 training images once, in batches of 256. How many times does
# it call `updater.step()`? Write your prediction below; the checker only says whether it is
# right, it does not give the number away.

# %%
### BEGIN SOLUTION
steps_per_epoch = 235
### END SOLUTION
ex.check_steps_per_epoch(steps_per_epoch)

# %% [markdown]
# Now run it: the full training set, batches of 256, one step per batch.

# %%
full_train, _ = load_data_fashion_mnist(256)
print(f"{full_train.num_samples} images in batches of {full_train.batch_size}: "
      f"{len(full_train)} batches, the last one holding "
      f"{full_train.num_samples - (len(full_train) - 1) * full_train.batch_size} images")
del full_train

# %% [markdown]
# ### 2.4 Our loop against `fit`
#
# One epoch of the d2l recipe: d2l's LeNet (sigmoid, average pooling, Xavier weights), plain SGD
# at learning rate 0.9, batches of 256. From here on the notebook uses the package's versions of
# the two functions (`lenet_nb/loop.py` and `lenet_nb/train.py`), which are the solutions above,
# so the cells below run whatever you wrote. `init_xavier` draws the Xavier weights —
# `lenet_nb/models.py`.

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
from lenet_nb.loop import train_epoch  # the reference from here on, whatever you wrote above
from lenet_nb.models import LeNet, init_xavier
from lenet_nb.train import evaluate_accuracy  # the reference from here on

lr, seed = 0.9, 0
torch.manual_seed(seed)
net = init_xavier(LeNet())
train_iter.generator.manual_seed(seed)  # the batch order fit(seed=0) will use
updater = torch.optim.SGD(net.parameters(), lr=lr)
train_loss, train_acc = train_epoch(net, train_iter, nn.CrossEntropyLoss(), updater)
ours = {"train loss": train_loss, "train acc": train_acc,
        "test acc": evaluate_accuracy(net, test_iter)}
print({k: round(v, 4) for k, v in ours.items()})

# %% [markdown]
# `fit` is the loop you wrote in §2.2, plus the evaluation of §2.1 after every epoch — its source
# is `lenet_nb/train.py`. Given the same seed it starts from the same weights and, because it
# reseeds the data's generator with `seed`, sees the batches in the same order. Two settings make
# it compute exactly what our loop computes: `device="cpu"`, and `channels_last=False` (by
# default `fit` stores the convolution weights in a layout that is faster on a CPU but runs other
# kernels, whose rounding differs in the last bits).

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
from lenet_nb.train import fit

torch.manual_seed(seed)
net_fit = init_xavier(LeNet())  # the same initial weights as our loop's
history = fit(net_fit, train_iter, test_iter, num_epochs=1, lr=lr, seed=seed, device="cpu",
              channels_last=False, progress=False, live=False)
theirs = {"train loss": history[0]["train_loss"], "train acc": history[0]["train_acc"],
          "test acc": history[0]["test_acc"]}
print(f"{'':11}{'our loop':>10}{'fit':>10}")
for key in ours:
    print(f"{key:11}{ours[key]:10.4f}{theirs[key]:10.4f}")
same = all(round(ours[k], 4) == round(theirs[k], 4) for k in ours)
print("same numbers to 4 decimals:", same)
assert same, "our loop and fit drifted apart"

# %% [markdown]
# What `fit` adds around those fifteen lines:
#
# * a **history**: one record per epoch (loss, accuracies, seconds, images per second);
# * in a live notebook, a **progress bar** per epoch and **training curves** redrawn after each;
# * the **best checkpoint**, written atomically (a temporary file, then a rename), so an
#   interrupted run never leaves half a file;
# * **learning-rate schedulers**, stepped once per epoch or once per batch (one-cycle);
# * **Ctrl-C** (interrupting the kernel) stops training but keeps the history of the finished
#   epochs.
#
# ## 3. Why the sigmoid network starts on a plateau: the gradients, measured
#
# The d2l recipe needs a learning rate as large as 0.9. To see why, take one fixed batch (the
# first 256 training images, from `probe_batch` in `lenet_nb/diagnostics.py`), build d2l's
# LeNet at initialisation, compute the loss, backpropagate once, and print the size (the L2
# norm) of each layer's weight gradient. The cell below is written out in full; the one after
# it checks it against the package's `gradient_norms`.

# %%
from lenet_nb.diagnostics import probe_batch

X_probe, y_probe = probe_batch(256)
activation = "sigmoid"  # change and observe: set "relu", run this cell again, compare
torch.manual_seed(0)
net = init_xavier(LeNet(activation))
net.zero_grad()
nn.CrossEntropyLoss()(net(X_probe), y_probe).backward()
weighted = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
norms = {name: float(m.weight.grad.norm())
         for name, m in zip(["C1", "C3", "C5", "F6", "output"], weighted)}
print(activation, {name: round(v, 4) for name, v in norms.items()})

# %%
from lenet_nb.diagnostics import gradient_norms, lenet_at_init

reference = gradient_norms(lenet_at_init(activation, seed=0), X_probe, y_probe,
                           nn.CrossEntropyLoss())
print("same gradient norms as lenet_nb.diagnostics.gradient_norms:", reference == norms)
assert reference == norms, "the cell above and the reference disagree"

# %% [markdown]
# ### 3.1 Exercise (change and observe): where does the gradient vanish?
#
# In the cell two above, change `activation = "sigmoid"` to `"relu"`, run it, and compare the
# two sets of numbers layer by layer. Then answer with a layer name (`"C1"`, `"C3"`, `"C5"`,
# `"F6"` or `"output"`):
#
# * `smallest_under_sigmoid`: which layer has the smallest weight gradient with sigmoid?
# * `grows_most_with_relu`: which layer's gradient grows by the largest factor (ReLU norm divided
#   by sigmoid norm) when sigmoid is replaced by ReLU?
#
# The checker measures both networks itself, on the same batch and from the same seed, and
# compares your answers with its own table.

# %%
### BEGIN SOLUTION
smallest_under_sigmoid = "C1"
grows_most_with_relu = "C1"
### END SOLUTION
ex.check_gradient_layers(smallest_under_sigmoid, grows_most_with_relu)

# %% [markdown]
# Both columns side by side, measured by `gradient_norm_table` (`lenet_nb/diagnostics.py`),
# which builds each network from the same seed and uses the same batch:

# %%
from lenet_nb.diagnostics import gradient_norm_table

table = gradient_norm_table(X_probe, y_probe, activations=("sigmoid", "relu"))
print(f"{'layer':8}{'sigmoid':>10}{'ReLU':>10}{'ReLU / sigmoid':>16}")
for layer, s in table["sigmoid"].items():
    r = table["relu"][layer]
    print(f"{layer:8}{s:10.4f}{r:10.4f}{r / s:16.2f}")

# %% [markdown]
# What the layers send forward explains the table. `activations` (`lenet_nb/diagnostics.py`)
# records the output of the activation after each layer for the same batch; for sigmoid we also
# print the mean slope there, σ'(z) = a(1 − a) for an output a:

# %%
from lenet_nb.diagnostics import activations, plot_activation_histograms

acts = {a: activations(lenet_at_init(a, seed=0), X_probe) for a in ("sigmoid", "relu")}
for layer, a in acts["sigmoid"].items():
    print(f"sigmoid after {layer}: mean {a.mean():.3f}, std {a.std():.3f}, "
          f"mean slope {(a * (1 - a)).mean():.3f}")

# %%
axes = plot_activation_histograms(acts)

# %% [markdown]
# **Reading the numbers.** With sigmoid the gradient shrinks on its way back from the loss:
# 1.2137 at the output layer, 0.4492 at F6, 0.1984 at C5, 0.0361 at C3 and 0.0028 at C1, 436
# times less than at the output. The activations show why. Sigmoid outputs sit around 0.5
# (means 0.470 to 0.508), where the slope is close to its maximum of 0.25 (mean slopes 0.227 to
# 0.246): they are not saturated, yet every sigmoid still passes back only about a quarter of
# the signal, and four of them stand between the loss and C1. An SGD step moves each weight by
# the learning rate times its gradient, so C1 moves 436 times less than the output layer: the
# early layers hardly change, the last layers learn on features that barely depend on the
# image, and the loss stays flat. That is the plateau, and the reason the d2l recipe needs a
# rate as large as 0.9. With ReLU every layer's gradient is between 0.0851 and 0.3266: C1's is
# 117 times larger than with sigmoid, while F6's and the output layer's are smaller (0.28 and
# 0.07 times). ReLU's outputs are sparse — the tall bars at 0 are units that are switched off
# for that image — so the last layers receive smaller inputs, and their gradients shrink with
# them.
#
# ## 4. Choosing the learning rate on a validation split
#
# Where does a rate like 0.9 come from? Try several and keep the best — but "best" measured on
# what? Not on the test set: a number used to make choices is no longer a fair estimate of how
# the network does on images it has never seen. We hold out 10,000 of the 60,000 training images
# as a **validation split** (`split_validation`, `lenet_nb/lr_sweep.py`), train on the other
# 50,000 for one epoch at each rate, and compare validation accuracy. `lr_sweep` calls `fit`
# once per rate, every time with the same seed: same initial weights, same batch order, only
# the rate changes. Two sweeps, one for sigmoid and one for ReLU (quick mode: 3,000 images, 500
# of them held out).

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
from lenet_nb.data import load_split, to_float
from lenet_nb.lr_sweep import best_lr, lr_sweep, plot_lr_sweep, split_validation, sweep_table

X_all, y_all = load_split("FashionMNIST", train=True)
n_used = reduce_in_tests(60_000, 3_000)
sweep_train, sweep_val = split_validation(to_float(X_all[:n_used]), y_all[:n_used],
                                          num_val=reduce_in_tests(10_000, 500), batch_size=256)
lrs = [0.01, 0.03, 0.1, 0.3, 0.9, 3.0]
sweeps = {a: lr_sweep(lambda a=a: lenet_at_init(a, seed=0), sweep_train, sweep_val, lrs)
          for a in ("sigmoid", "relu")}
display(Markdown(sweep_table(sweeps)))
print("best rate on the validation split:", {a: best_lr(r) for a, r in sweeps.items()})

# %%
# NBVAL_IGNORE_OUTPUT
# (the curves depend on training)
ax = plot_lr_sweep(sweeps)
title = ax.set_title("d2l LeNet, SGD, one epoch", fontsize=9)

# %% [markdown]
# **Reading the sweep** (numbers of the stored full run). For ReLU one epoch is enough to rank
# the rates: 0.01 is too slow (0.5156), 0.03 is the best (0.6815) with 0.1 and 0.3 close behind
# (0.6632 and 0.6622), and from 0.9 on training blows up and ends at chance (0.1016 and 0.0999).
# For sigmoid no rate leaves the plateau within one epoch: every validation accuracy lies
# between 0.0999 and 0.1016, so the "best" rate the code reports for it, 0.01, is picked by
# noise, not by learning — just as the one epoch of the d2l recipe in §2.4 ended at a test
# accuracy of 0.1147. A sweep can only rank what its budget lets the runs show: for the
# sigmoid network it needs several epochs per rate. And it needs a validation split, so that
# the test set is still untouched when the final number is reported.

# %% [markdown]
# ## 5. The d2l recipe (seeds 000 and 003)
#
# `run_recipe` builds the network, seeds it, loads the data and calls `fit`; in a live notebook
# the curves are redrawn after every epoch (in quick mode they are switched off). Its source is
# `lenet_nb/recipes.py`, where `RECIPES` holds every recipe's settings.

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers and wall-clock differ between quick and full mode)
d2l = run_recipe("d2l", progress=False)
print(d2l.history.summary(), f"| {d2l.seconds:.0f} s")

# %% [markdown]
# d2l reports a test accuracy of 0.779 (train 0.823, loss 0.469) after 10 epochs, seed 003
# 0.804 on its CPU. Ours lands between the two (0.797, train 0.824, loss 0.470 in the stored
# run); the exact number differs because the
# initial weights and the batch order come from a different random stream, and with sigmoid
# activations the first epochs are a long plateau (train accuracy stays near 10 % until the
# weights leave the flat part of the sigmoid), so small changes in where a run starts move
# where it ends after only 10 epochs.
#
# Seed 000 prints the same network with `lr = 0.01` and reports 0.8645 after 10 epochs. Run as
# written, plain SGD at that rate does not even leave the plateau:

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
d2l_page_run = run_recipe("d2l-page", progress=False)
print(d2l_page_run.history.summary())

# %% [markdown]
# So the 0.8645 cannot come from the code on that page: it calls a `train_image_classifier`
# whose optimizer it never shows (an adaptive optimizer such as Adam at 0.01 would reach that
# region; SGD at 0.01 does not). A reported number is only as good as the code printed next to it.
#
# ## 6. Seed 001: no padding, max pooling, Adam

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
learn14_run = run_recipe("learn14", progress=False)
print(learn14_run.history.summary())

# %% [markdown]
# Seed 001 reports 0.874 after 5 epochs; ours reaches 0.879. Its evaluation divides the number
# of correct test predictions by `batches * 64` = 10,048 instead of 10,000 (section 11 measures
# this): counted the seed's way, our run scores 0.875, within 0.001 of its reported 0.874.
# Adam at 0.01 is an aggressive setting for a sigmoid network:
# it escapes the plateau in the first epoch, but the test accuracy wobbles from epoch to epoch,
# which is visible in seed 001's own log (0.8746, then 0.8744).
#
# ## 7. Seed 002: MyLeNet5 on MNIST, keeping the best epoch
#
# Batch 16, SGD at lr 0.001 with momentum 0.9, 20 epochs. The seed also builds a
# `StepLR(step_size=10, gamma=0.1)` scheduler, but its training loop never calls
# `scheduler.step()`, so its learning rate never changes; we reproduce what the code does, not
# what it sets up. After every epoch `fit` compares the test accuracy with the best so far and,
# if it is better, writes the weights atomically (temporary file, then rename), so an
# interrupted run never leaves a half-written checkpoint.

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers and epochs differ between quick and full mode)
mnist_intro_path = checkpoint_dir / "mnist_intro_best.pt"
mnist_intro_run = run_recipe("mnist-intro", checkpoint=mnist_intro_path, progress=False)
best = mnist_intro_run.history.best_test_acc
print(mnist_intro_run.history.summary(), f"| best epoch: {best:.4f}")

# %% [markdown]
# Reload the best weights into a fresh network. `load_checkpoint` (`lenet_nb/train.py`) uses
# `torch.load(..., weights_only=True)`, which refuses anything but tensors and plain containers
# (section 11.5 shows why that matters), and checks the file fits the network; `build_net`
# builds a recipe's network from its seed (`lenet_nb/recipes.py`).

# %%
# NBVAL_IGNORE_OUTPUT
# (the stored epoch and accuracy depend on training)
from lenet_nb.recipes import build_net
from lenet_nb.train import evaluate_accuracy, load_checkpoint

best_net = build_net(mnist_intro_run.recipe)
extra = load_checkpoint(best_net, mnist_intro_path)
print(extra, "| re-evaluated:", evaluate_accuracy(best_net, mnist_intro_run.test_iter))

# %% [markdown]
# The seed's picture: 20 test images, each titled with its label and the prediction, mistakes
# in red (`show_predictions`, `lenet_nb/plot.py`).

# %%
# NBVAL_IGNORE_OUTPUT
# (predictions depend on training)
from lenet_nb.plot import show_predictions

test_X, test_y = mnist_intro_run.test_iter.X, mnist_intro_run.test_iter.y
axes = show_predictions(best_net, test_X, test_y, n=20, num_cols=10, scale=1.1)

# %% [markdown]
# Seed 002 reports 0.9792; our stored run reaches 0.977 (its best epoch is the last), within
# a quarter of a point. The seed's number is the mean of per-batch accuracies; with batch 16 and
# 10,000 test images every batch is full, so there that average happens to be exact. The first
# epochs are slow for the same reason as d2l's: sigmoid activations at a small learning rate
# start on a plateau (this run: test accuracy 0.10 and 0.11 after epochs 1 and 2, then 0.80
# after epoch 3), and how long a run stays there depends on the initial weights. Note also what
# the seed's network does *not* have: no activation after C5 or F6, so C5, F6 and the output
# layer form one linear map; `MyLeNet5` is built the same way, because an extra sigmoid there
# lengthens the plateau. And the scheduler: actually dividing the rate by 10 after epoch 10, as
# the unused StepLR would, ends the same run (same seed) at 0.958 instead of 0.977: at lr
# 0.0001 the last ten epochs hardly move.
#
# ## 8. A modern recipe for the same small network
#
# Keep the LeNet shape (two 5×5 convolutions, three linear layers, 61,706 parameters) and change
# only what a practitioner would change today:
#
# * **ReLU** instead of sigmoid: its slope is 1 for positive inputs, so gradients do not shrink
#   by a factor ≤ 0.25 at every layer and there is no plateau to escape;
# * **max pooling**: keeps the strongest response of each window instead of blurring it;
# * **AdamW with a one-cycle schedule**: the learning rate warms up, peaks at 0.01 and anneals to
#   almost zero, which settles the weights at the end instead of leaving them bouncing; the
#   decoupled weight decay keeps the 48,000 weights of the first linear layer from overfitting.

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
modern_fashion = run_recipe("modern-fashion", progress=False)
print(modern_fashion.history.summary())

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
modern_mnist = run_recipe("modern-mnist", progress=False)
print(modern_mnist.history.summary())

# %% [markdown]
# The histories side by side: the sigmoid recipes start on a plateau, the modern ones do not
# (`plot_history` draws one panel per run — `lenet_nb/plot.py`).

# %%
# NBVAL_IGNORE_OUTPUT
# (curves depend on training)
from lenet_nb.plot import plot_history

runs = [d2l, d2l_page_run, learn14_run, mnist_intro_run, modern_fashion, modern_mnist]
fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), sharey=True, layout="constrained")
for run, ax in zip(runs, axes.flat):
    # recipe names are long: two short title lines keep neighbouring panels apart
    ax = plot_history(run.history, ax=ax)
    ax.set_title(f"{run.recipe.name} ({run.recipe.dataset})\n{len(run.history)} epochs",
                 fontsize=9)

# %% [markdown]
# ## 9. Results
#
# `results_table` sets each run's number beside the one its source reported —
# `lenet_nb/recipes.py`.

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers and wall-clock differ between quick and full mode)
display(Markdown(results_table(runs)))

# %% [markdown]
# "ours" is the test accuracy after the last epoch, or of the best epoch for seed 002, which
# keeps its best checkpoint. Wall-clock is the training time on this 2-core CPU, including one
# test-set evaluation per epoch.
#
# Fashion-MNIST with class names, predicted by the modern network:

# %%
# NBVAL_IGNORE_OUTPUT
# (predictions depend on training)
fashion_X, fashion_y = modern_fashion.test_iter.X, modern_fashion.test_iter.y
axes = show_predictions(modern_fashion.net, fashion_X, fashion_y, n=20, labels=text_labels,
                        num_cols=10, scale=1.3)

# %% [markdown]
# ## 10. Inside the trained network
#
# Which classes get confused? Rows are the true classes, columns the predictions
# (`confusion_matrix` counts them over the test set — `lenet_nb/plot.py`).

# %%
# NBVAL_IGNORE_OUTPUT
# (counts depend on training)
from lenet_nb.plot import confusion_matrix, plot_confusion_matrix

cm = confusion_matrix(modern_fashion.net, modern_fashion.test_iter)
ax = plot_confusion_matrix(cm, labels=text_labels)

# %% [markdown]
# Shirts, T-shirts, pullovers and coats share most of their silhouette at 28×28 pixels; sandals,
# sneakers and ankle boots are confused with each other but hardly with clothes. The mistakes the
# network is *most sure* about are the most instructive — often the label itself is debatable
# (`most_confident_mistakes` sorts the wrong predictions by the softmax probability of the
# predicted class — `lenet_nb/diagnostics.py`):

# %%
# NBVAL_IGNORE_OUTPUT
# (the mistakes depend on training)
from lenet_nb.diagnostics import most_confident_mistakes, plot_mistakes

idx, y_hat, conf = most_confident_mistakes(modern_fashion.net, fashion_X, fashion_y, k=10)
axes = plot_mistakes(fashion_X, fashion_y, idx, y_hat, conf, labels=text_labels, num_cols=5)

# %% [markdown]
# The six C1 kernels (5×5 each) the network learned, then what one test image looks like after
# C1 and after C3 (after the ReLU, before pooling). C1 finds edges and blobs of a given
# orientation; C3's 16 maps, at 10×10, respond to combinations of them. (`plot_filters` and
# `feature_maps`, which hooks the layer after each convolution: `lenet_nb/diagnostics.py`.)

# %%
# NBVAL_IGNORE_OUTPUT
# (learned weights depend on training)
from lenet_nb.diagnostics import feature_maps, plot_feature_maps, plot_filters

axes = plot_filters(modern_fashion.net)

# %%
# NBVAL_IGNORE_OUTPUT
# (feature maps depend on training)
maps = feature_maps(modern_fashion.net, fashion_X[0])
axes_c1 = plot_feature_maps(maps, "C1", num_cols=6, scale=1.3)
axes_c3 = plot_feature_maps(maps, "C3", num_cols=8)

# %% [markdown]
# ## 11. Pitfalls in the tutorials' code, measured and fixed
#
# ### 11.1 Accuracy averaged over batches
#
# A data set rarely divides into full batches: 60,000 training images in batches of 256 leave a
# last batch of 96, the 10,000 test images in batches of 64 leave one of 16.

# %%
print(60_000 % 256, 10_000 % 64, 10_000 % 16)

# %% [markdown]
# Seed 001 divides the number of correct predictions by `batches * batch_size` = 157 × 64,
# counting 48 test images that do not exist. Seed 002 averages the per-batch accuracies; with
# batch 64 that would give the 16 images of the last batch as much weight as a full batch of 64
# (with its own batch 16 every batch is full, so there it does no harm). All three on seed
# 001's trained network and test loader (batch 64), computed by `compare_accuracy_averaging`
# (`lenet_nb/pitfalls.py`, like every helper of this section):

# %%
# NBVAL_IGNORE_OUTPUT
# (accuracies depend on training)
from lenet_nb.pitfalls import compare_accuracy_averaging

compare_accuracy_averaging(learn14_run.net, learn14_run.test_iter)

# %% [markdown]
# Dividing by `batches * batch_size` always under-reports, by the factor 10,000 / 10,048 (0.4
# points at an accuracy of 0.88); the batch mean errs in either direction, depending on how well
# the small last batch happens to go. The fix is to count: `lenet_nb.train.accuracy` returns
# the *number* of correct predictions of a batch, and `evaluate_accuracy` divides their sum by
# the number of samples.
#
# The same slip hides in the tutorials' losses: `CrossEntropyLoss` already returns a batch
# *mean*, so seed 001's printed loss is divided by 64 once too often and seed 003's by 256.
# Undoing it makes their numbers plausible again (seed 003's final epoch then matches d2l's
# loss of 0.469):

# %%
round(0.004631 * 64, 3), round(0.0019 * 256, 3)

# %% [markdown]
# ### 11.2 Evaluating the whole test set inside the batch loop
#
# In seed 003's `train_ch5`, as printed, the test evaluation and the `print` sit one indentation
# level too deep: inside `for X, y in train_iter`, so the whole test set is evaluated after
# *every batch* — 235 times per epoch instead of once (either the page lost its indentation or
# the log was trimmed, since it shows one line per epoch). `eval_in_loop_cost`
# (`lenet_nb/pitfalls.py`) times a few
# batches of that loop and extrapolates both versions to one epoch of the d2l recipe:

# %%
# NBVAL_IGNORE_OUTPUT
# (timings depend on the machine and its load)
from lenet_nb.pitfalls import eval_in_loop_cost

cost = eval_in_loop_cost(d2l.net, d2l.train_iter, d2l.test_iter, lr=0.9, num_batches=3)
print(f"{cost['batches_per_epoch']} batches | one epoch, evaluation once: "
      f"{cost['epoch_fixed_s']:.0f} s | evaluation in the loop: {cost['epoch_buggy_s']:.0f} s")

# %% [markdown]
# The learned weights are the same either way (evaluation changes nothing; `tests/test_pitfalls.py`
# checks it), only the time grows by an evaluation per batch. The fix is the indentation: one
# evaluation after the loop, as `fit` does.
#
# ### 11.3 "ReLU and Softmax" in the text, Sigmoid and CrossEntropyLoss in the code
#
# Seed 002's text describes ReLU activations and a final Softmax layer; its code uses Sigmoid and
# no Softmax (and no activation at all after C5 and F6, so C5, F6 and the output layer multiply
# into a single linear map). Leaving the Softmax out is right: `CrossEntropyLoss` expects raw
# scores (logits) and applies log-softmax itself. Adding the Softmax the text describes would
# apply it twice: the loss can then never fall below

# %%
from lenet_nb.pitfalls import double_softmax_floor, softmax_before_loss

round(double_softmax_floor(10), 4)

# %% [markdown]
# even for a perfect prediction, and a confidently *wrong* output barely gets a gradient to fix
# it. Loss and gradient norm for a sample the network wrongly gives score 8 to class 0:

# %%
r = softmax_before_loss(torch.tensor([[8.0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]), torch.tensor([1]))
{k: (round(loss, 4), round(grad, 4)) for k, (loss, grad) in r.items()}

# %% [markdown]
# ### 11.4 Four DataLoader workers on two cores; a shuffled test set
#
# Seeds 001 and 002 start 4 worker processes. On this machine that is more processes than cores,
# and PyTorch says so:

# %%
# NBVAL_IGNORE_OUTPUT
# (the warning depends on how many cores the machine has)
from lenet_nb.data import load_data_mnist
from lenet_nb.pitfalls import loader_pass_seconds, loader_warnings, time_loader_pass

classic_train, classic_test = load_data_mnist(16, fast=False, subset=reduce_in_tests(None, 2000))
print(loader_warnings(classic_test.dataset, num_workers=4))

# %% [markdown]
# How long one pass over the MNIST test images takes, batch 256, decoding each image with
# `ToTensor` as the seeds do, with 0, 2 and 4 workers, and from one tensor in memory
# (`TensorBatches`, what `lenet_nb.data` gives by default):

# %%
# NBVAL_IGNORE_OUTPUT
# (timings depend on the machine and its load)
for workers in (0, 2, 4):
    print(f"{workers} workers: {loader_pass_seconds(classic_test.dataset, workers):.2f} s")
print(f"in-memory tensor: {time_loader_pass(mnist_intro_run.test_iter):.3f} s")

# %% [markdown]
# Extra workers only help while a core is idle; past the number of cores they compete with the
# training itself. `lenet_nb.data.default_num_workers` caps the count at the cores, and the fast
# path avoids per-image decoding altogether.
#
# Seed 002 also shuffles its *test* loader. Accuracy does not depend on the order, so the shuffle
# buys nothing, and anything taken "from the first batch" (like a picture of 20 test images)
# changes from run to run:

# %%
from torch.utils.data import DataLoader

from lenet_nb.pitfalls import first_labels

shuffled = DataLoader(classic_test.dataset, batch_size=8, shuffle=True,
                      generator=torch.Generator().manual_seed(0))
print("same first batch twice:", first_labels(shuffled) == first_labels(shuffled))

# %% [markdown]
# ### 11.5 `torch.load` of an untrusted file
#
# A `.pth` file is a pickle, and unpickling can call any function the file names. Seed 002 loads
# its checkpoint with a bare `torch.load`. We write a file whose extra entry, when unpickled,
# calls a (harmless) function of our choosing, then load it both ways:

# %%
from lenet_nb.pitfalls import try_load, write_untrusted_checkpoint

untrusted = checkpoint_dir / "untrusted.pt"
write_untrusted_checkpoint(untrusted)
{"weights_only=False": try_load(untrusted, weights_only=False),
 "weights_only=True": try_load(untrusted, weights_only=True)}

# %% [markdown]
# With `weights_only=False` the payload ran; with `weights_only=True` (the default since
# PyTorch 2.6, and what `load_checkpoint` passes explicitly) the file is refused and names the
# function it wanted to call. Save a `state_dict`, load with `weights_only=True`.
#
# ## 12. The activation × pooling explorer
#
# Which of the two 1989 choices matters more, the sigmoid or the average pooling? The
# `Explorer` (`lenet_nb/explorer.py`) trains `LeNet(activation, pooling)` with plain SGD on a
# fixed subset of
# Fashion-MNIST (10,000 training and 2,000 test images in full mode), and caches every result.
# First the full grid, all six combinations with the same budget (5 epochs) at two learning
# rates, 0.1 and 0.9:

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
from lenet_nb.explorer import Explorer, grid_table, plot_grid

explorer = Explorer()
grid_epochs = reduce_in_tests(5, 1)
grids = {lr: explorer.grid(grid_epochs, lr) for lr in (0.1, 0.9)}
for lr, grid in grids.items():
    display(Markdown(f"**SGD, lr {lr}, {grid_epochs} epochs** — final test accuracy\n\n"
                     + grid_table(grid)))

# %%
# NBVAL_IGNORE_OUTPUT
# (curves depend on training)
axes = plot_grid(grids[0.1])
title = axes[0][0].figure.suptitle("SGD, lr 0.1")

# %% [markdown]
# **Reading the grid** (numbers of the stored full run). *Sigmoid* stays at chance (0.10) at
# lr 0.1 with either pooling, and only starts to leave the plateau at 0.9 (0.30 with average
# pooling). Its slope is at most 0.25, so each of the four sigmoid layers between the loss and
# C1 shrinks the gradient by a factor of four or more: a small learning rate hardly moves the
# early layers, which is why d2l needs 0.9 (and 10 full epochs) to get to 0.80. *Tanh* has slope
# 1 at zero and is centred on zero; with the Xavier initialisation (designed for it) it is the
# best of the three at lr 0.1 in this short budget (0.77 avg, 0.81 max), but 0.9 is far too
# large for it. *ReLU* passes gradients undiminished wherever a unit is active; at lr 0.1 it is
# behind tanh here (Xavier init halves the signal's variance at every ReLU layer, so it starts
# slowly), and at 0.9 it blows up like tanh and ends at chance. So plain SGD with one fixed
# rate does not show ReLU at its best: with a better optimizer and schedule (section 8),
# ReLU + max pooling is the combination that goes furthest. *Max pooling* beats average
# pooling for tanh and ReLU at lr 0.1: it keeps the strongest response of each window and sends
# the gradient to it undivided, where average pooling spreads it over four inputs at a quarter
# each.
#
# Now try it yourself. Pick settings and press **Train**; a combination that was already trained
# (all twelve of the grid above, for instance) is shown at once from the cache; any other
# setting trains in a few seconds. Every run adds a curve and a row.

# %%
# NBVAL_IGNORE_OUTPUT
# (the widget's plot and table hold trained numbers)
from lenet_nb.explorer import ExplorerWidget

explorer_widget = ExplorerWidget(explorer, num_epochs=grid_epochs, lr=0.9)
display(explorer_widget.ui)

# %% [markdown]
# ## Recap
#
# In this notebook we saw that:
#
# * training is five steps per batch — forward, loss, `zero_grad`, `backward`, `step` — with the
#   loss and the accuracy counted per sample; `fit` computes the same numbers as the fifteen
#   lines we wrote and adds a history, progress, checkpoints, schedulers and a safe Ctrl-C;
# * an epoch of 60,000 images in batches of 256 is 235 steps: the last, partial batch counts;
# * at initialisation the sigmoid LeNet's gradients shrink layer by layer on the way back to
#   C1, while ReLU's keep one order of magnitude; measured, not asserted;
# * a learning rate is chosen on a validation split held out of the training set, never on
#   the test set;
# * the tutorials' recipes can be re-run exactly from data (`lenet_nb.recipes`), and our numbers
#   land near theirs — except seed 000, whose reported accuracy cannot come from the code shown;
# * a LeNet-sized network with ReLU, max pooling, AdamW and a one-cycle schedule passes 0.90 on
#   Fashion-MNIST and 0.99 on MNIST, where the sigmoid recipes stop near 0.80–0.88;
# * keeping the best checkpoint needs an atomic write and a safe load (`weights_only=True`);
# * accuracy must be counted per sample, the test set evaluated once per epoch, `CrossEntropyLoss`
#   fed logits, and DataLoader workers kept at or below the number of cores;
# * sigmoid needs a large learning rate because its slope is at most 0.25, and the rate that
#   sigmoid needs makes tanh and ReLU blow up; max pooling helps tanh and ReLU, and ReLU + max
#   pooling goes furthest once the optimizer is modern.
#
# ## Self-check

# %%
from lenet_nb.quiz import self_check

self_check("ch3")

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
# # Chapter 3 — The training loop, written in the open
#
# Chapter 2 built the d2l LeNet and followed its shapes; this chapter trains it. We write the
# training loop ourselves — accuracy counted per sample, then one epoch of forward, loss,
# backward and step — and check that the package's `fit`, which every later chapter uses,
# computes exactly the same numbers. Then we measure why the sigmoid network of the d2l recipe
# needs a learning rate as large as 0.9: the size of every layer's gradient at initialisation,
# and what the activations send forward. Last, we ask how a learning rate should be chosen, and
# choose one on a validation split held out of the training set, never on the test set.
# Chapter 4 then trains the source tutorials' recipes with this loop and looks for a better
# one.
#
# The numbers printed below come from one full run on a 2-core CPU; how the tests run the
# chapter with small sizes is explained in the README.

# %%
import torch
from IPython.display import Markdown, display
from torch import nn

from lenet_nb.config import reduce_in_tests
from lenet_nb.exercises import training_loop as ex

# %% [markdown]
# ## 1. The training loop, written in the open
#
# Every network in the rest of the course is trained by `lenet_nb.train.fit`. Before we lean on
# it, we write its core ourselves: a function that measures accuracy and a function that trains
# for one epoch. Then we run one epoch of the d2l recipe with them and check that `fit` computes
# the very same numbers.
#
# The data: `load_data_fashion_mnist` reads the verified Fashion-MNIST files into memory once
# and serves `(X, y)` batches, shuffled by its own seeded generator — `lenet_nb/data.py`. In
# quick mode it takes a small random subset.

# %%
from lenet_nb.data import load_data_fashion_mnist

train_iter, test_iter = load_data_fashion_mnist(256, subset=reduce_in_tests(None, (1000, 400)))

# %% [markdown]
# ### Exercise 3.1 (complete the code): accuracy, counted per sample
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

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-1-evaluate_accuracy-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
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

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-1-evaluate_accuracy", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_evaluate_accuracy(evaluate_accuracy)

# %% [markdown]
# ### Exercise 3.2 (complete the code): one epoch of training
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

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-2-train_epoch-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
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

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-2-train_epoch", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_train_epoch(train_epoch)

# %% [markdown]
# ### Exercise 3.3 (predict, then run): how many steps is an epoch?
#
# One epoch passes over all 60,000 training images once, in batches of 256. How many times does
# it call `updater.step()`? Write your prediction below; the checker only says whether it is
# right, it does not give the number away.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-3-steps_per_epoch-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
steps_per_epoch = 235
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-3-steps_per_epoch", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
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
# ### 1.4 Our loop against `fit`
#
# One epoch of the d2l recipe: d2l's LeNet (sigmoid, average pooling, Xavier weights), plain SGD
# at learning rate 0.9, batches of 256. From here on the notebook uses the package's versions of
# the two functions (`lenet_nb/loop.py` and `lenet_nb/train.py`), which are the solutions above,
# so the cells below run whatever you wrote. `init_xavier` draws the Xavier weights —
# `lenet_nb/models.py`.
#
# *Xavier initialisation* (Glorot and Bengio, 2010) draws each weight with a variance set by the
# layer's *fan-in* and *fan-out* — the number of inputs that feed one unit and the number of
# units one input feeds — so that, for an activation like tanh that is linear around zero, the
# signal keeps roughly the same scale from layer to layer. PyTorch's default initialisation
# scales by the fan-in alone.

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
# `fit` is the loop you wrote in §1.2, plus the evaluation of §1.1 after every epoch — its source
# is `lenet_nb/train.py`. Given the same random *seed* (the number that starts PyTorch's
# random-number generator, and so fixes the initial weights) it starts from the same weights
# and, because it reseeds the data's generator with `seed`, sees the batches in the same order.
# Two settings make it compute exactly what our loop computes: `device="cpu"`, and
# `channels_last=False` (by default `fit` stores the convolution weights in the channels-last
# layout, meant for quicker convolutions on a CPU, which runs other kernels whose rounding
# differs in the last bits).

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
# * **Ctrl-C** (interrupting the kernel) stops training with a `TrainingInterrupted` error
#   that carries the history of the finished epochs (`e.history`), and a loss that turns NaN or
#   infinite stops it with `TrainingDiverged`: a stopped run is never returned as a finished
#   one.
#
# ## 2. Why the sigmoid network starts on a plateau: the gradients, measured
#
# The d2l recipe needs a learning rate as large as 0.9. To see why, take one fixed batch (the
# first 256 training images, from `probe_batch` in `lenet_nb/lessons/diagnostics.py`), build d2l's
# LeNet at initialisation, compute the loss, backpropagate once, and print the size (the L2
# norm) of each layer's weight gradient. The cell below is written out in full; the one after
# it checks it against the package's `gradient_norms`.

# %%
from lenet_nb.lessons.diagnostics import probe_batch

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
from lenet_nb.lessons.diagnostics import gradient_norms, lenet_at_init

reference = gradient_norms(lenet_at_init(activation, seed=0), X_probe, y_probe,
                           nn.CrossEntropyLoss())
print("same gradient norms as lenet_nb.lessons.diagnostics.gradient_norms:", reference == norms)
assert reference == norms, "the cell above and the reference disagree"

# %% [markdown]
# ### Exercise 3.4 (change and observe): where does the gradient vanish?
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

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-4-gradient_layers-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
smallest_under_sigmoid = "C1"
grows_most_with_relu = "C1"
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-4-gradient_layers", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_gradient_layers(smallest_under_sigmoid, grows_most_with_relu)

# %% [markdown]
# Both columns side by side, measured by `gradient_norm_table` (`lenet_nb/lessons/diagnostics.py`),
# which builds each network from the same seed and uses the same batch:

# %%
from lenet_nb.lessons.diagnostics import gradient_norm_table

table = gradient_norm_table(X_probe, y_probe, activations=("sigmoid", "relu"))
print(f"{'layer':8}{'sigmoid':>10}{'ReLU':>10}{'ReLU / sigmoid':>16}")
for layer, s in table["sigmoid"].items():
    r = table["relu"][layer]
    print(f"{layer:8}{s:10.4f}{r:10.4f}{r / s:16.2f}")

# %% [markdown]
# What the layers send forward explains the table. `activations` (`lenet_nb/lessons/diagnostics.py`)
# records the output of the activation after each layer for the same batch; for sigmoid we also
# print the mean slope there, σ'(z) = a(1 − a) for an output a:

# %%
from lenet_nb.lessons.diagnostics import activations, plot_activation_histograms

acts = {a: activations(lenet_at_init(a, seed=0), X_probe) for a in ("sigmoid", "relu")}
for layer, a in acts["sigmoid"].items():
    print(f"sigmoid after {layer}: mean {a.mean():.3f}, std {a.std():.3f}, "
          f"mean slope {(a * (1 - a)).mean():.3f}")
half = torch.sigmoid(torch.tensor(0.0))
print(f"largest slope of the sigmoid (at 0): {float(half * (1 - half)):.2f}")

# %%
axes = plot_activation_histograms(acts)

# %% [markdown]
# **Reading the numbers.** With sigmoid the gradient shrinks on its way back from the loss:
# 1.2137 at the output layer, 0.4492 at F6, 0.1984 at C5, 0.0361 at C3 and 0.0028 at C1, 436
# times less than at the output. The activations show why. Sigmoid outputs sit around one half
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
# ## 3. Choosing the learning rate on a validation split
#
# Where does a rate like 0.9 come from? Try several and keep the best — but "best" measured on
# what? Not on the test set: a number used to make choices is no longer a fair estimate of how
# the network does on images it has never seen. We hold out 10,000 of the 60,000 training images
# as a **validation split** (`split_validation`, `lenet_nb/lessons/lr_sweep.py`), train on the rest
# for one epoch at each rate, and compare validation accuracy. `lr_sweep` calls `fit`
# once per rate, every time with the same seed: same initial weights, same batch order, only
# the rate changes. Two sweeps, one for sigmoid and one for ReLU (quick mode: 3,000 images, 500
# of them held out).

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
from lenet_nb.data import load_split, to_float
from lenet_nb.lessons.lr_sweep import (
    best_lr,
    lr_sweep,
    plot_lr_sweep,
    split_validation,
    sweep_table,
)

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
# **Reading the sweep.** For ReLU one epoch is enough to rank the rates (the table above):
# in the stored full run the smallest rate was too slow, 0.03 was the best with 0.1 and 0.3
# close behind, and from 0.9 on training blew up and ended at chance, about one image in ten.
# For sigmoid no rate leaves the plateau within one epoch: its whole column sits at chance, so
# the "best" rate the code reports for it is picked by noise, not by learning — just as the one
# epoch of the d2l recipe in §1.4 ended near chance. A sweep can only rank what its budget lets
# the runs show: for the sigmoid network it needs several epochs per rate. And it needs a
# validation split, so that the test set is still untouched when the final number is reported.

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
#   C1, while ReLU's keep one order of magnitude; measured, not asserted. Every sigmoid passes
#   back at most a quarter of the signal (its slope is at most 0.25), which is why the d2l
#   recipe needs a learning rate as large as 0.9;
# * a learning rate is chosen on a validation split held out of the training set, so that the
#   test set is still untouched when the final number is reported; and a sweep can rank only
#   what its budget lets the runs show: one epoch ranks ReLU's rates, not sigmoid's.
#
# Chapter 4 trains the tutorials' recipes with this loop, measures the mistakes in their
# training code and looks for a better recipe for the same small network.
#
# ## Self-check

# %%
from lenet_nb.quiz.widget import self_check

self_check("training_loop", static=True)  # static=True: also readable without a kernel

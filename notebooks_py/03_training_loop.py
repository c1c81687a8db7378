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
# Chapter 2 built the d2l LeNet; this chapter trains it, with code you write or read line by
# line: the loop and two checks to run before any long training (§1), why the sigmoid network
# starts on a plateau (§2), a validation split (§3), SGD with momentum, Adam and AdamW (§4) and
# the one-cycle schedule (§5), each compared with PyTorch's, and a learning rate chosen on the
# validation split (§6). A challenge closes it: train d2l's network, unchanged, your way.
#
# The sweep of §6 is stored data (`results/lr_sweep.csv`, see the README's "Experiments"); every
# other number is computed here.

# %%
import math

import torch
from torch import nn

from lenet_nb.config import reduce_in_tests
from lenet_nb.data import TensorBatches, load_data_fashion_mnist, load_split, to_float
from lenet_nb.exercises import training_loop as ex
from lenet_nb.models import LeNet, init_xavier

train_iter, test_iter = load_data_fashion_mnist(256, subset=reduce_in_tests(None, (1000, 400)))

# %% [markdown]
# ## 1. The training loop, written in the open
#
# Every network in the rest of the course is trained by `fit` (`lenet_nb/train.py`). Before we
# lean on it, we write its core: a function that measures accuracy and a function that trains
# for one epoch. The data come from `load_data_fashion_mnist` (`lenet_nb/data.py`), which holds
# the Fashion-MNIST images in memory and serves shuffled `(X, y)` batches; in quick mode it
# takes a small random subset.

# %% [markdown]
# ### Exercise 3.1 (find the bug): an accuracy that depends on the batch size
#
# The function below measures accuracy as the MNIST intro's validation does. At the end of the
# cell it scores one untrained network on the 10,000 test images twice: in batches of 1,000,
# and in batches of 9,999 (the last batch then holds one image). Run it: the two numbers
# differ, though the network and the images are the same. Find the bug and fix it, so that the
# function returns the share of correctly classified images whatever the batch size.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-1-evaluate_accuracy-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def evaluate_accuracy(net, data_iter):
    """Share of correctly classified samples, in eval mode, without gradients."""
    net.eval()
    with torch.no_grad():
        ### BEGIN SOLUTION
        correct = total = 0
        for X, y in data_iter:
            correct += int((net(X).argmax(dim=1) == y).sum())
            total += y.numel()
        return correct / total
        ### END SOLUTION
        ### BEGIN STUB
        # accs = [float((net(X).argmax(dim=1) == y).float().mean()) for X, y in data_iter]
        # return sum(accs) / len(accs)
        ### END STUB


X_test, y_test = load_split("FashionMNIST", train=False)
torch.manual_seed(0)
untrained = LeNet("relu")
for batch_size in (1000, 9999):
    batches = TensorBatches(to_float(X_test), y_test, batch_size)
    print(f"batches of {batch_size:>4}: accuracy {evaluate_accuracy(untrained, batches):.4f}")

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-1-evaluate_accuracy", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_evaluate_accuracy(evaluate_accuracy)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> where this bug comes from</summary>
#
# In batches of 9,999 the last batch holds one image, which the per-batch mean counts as much as
# the other 9,999 together; with the tutorials' batches of 64 the error is smaller, but there.
# Learn PyTorch (14) has a cousin of this bug: it divides the correct answers by batches × 64,
# counting images the short last batch does not have.
#
# </details>

# %% [markdown]
# #### Exercise 3.2 (complete the code): one epoch of training
#
# Write `train_epoch(net, train_iter, loss, updater)`. Put the network in training mode; then
# every batch must produce the scores, the batch's loss, fresh gradients (`backward` adds to
# those already stored) and one step of the optimiser `updater`. Count per sample: the loss (a
# batch mean: weigh it by the batch's size), the correct predictions, the samples. Return
# `(mean loss, accuracy)`. The checker compares your epoch with the package's on a small
# linear net.

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
# ### 1.3 Two checks before a long run
#
# A long training that goes wrong can take many minutes to show it. Two checks take a second:
# the loss before any training, and whether the loop can learn one batch by heart. We run them
# on a fixed batch, the first 256 training images (`probe_batch`,
# `lenet_nb/lessons/diagnostics.py`), and on d2l's LeNet with ReLU in place of sigmoid, as
# PyTorch initialises it.

# %% [markdown]
# #### Exercise 3.3 (predict, then run): the loss before any training
#
# The network is untrained: its weights are random numbers. Before running anything, predict
# the cross-entropy loss it gives on a batch of Fashion-MNIST images (10 classes, about equally
# many images of each), and say why, with one letter:
#
# * (a) to the untrained network every class looks about equally likely;
# * (b) the weights are random, so the loss is random;
# * (c) the network always predicts the same class.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-3-initial_loss-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
initial_loss = 2.303  # -ln(1/10) = ln 10: the loss when each class gets probability 1/10
why = "a"
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-3-initial_loss", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_initial_loss(initial_loss, why)

# %% [markdown]
# #### Exercise 3.4 (change and observe): the scale of the initial weights
#
# The cell below multiplies every weight and bias of the same network by each scale in `scales`
# and records the loss on the probe batch and the spread (standard deviation) of the scores
# (`init_scale_record`, `lenet_nb/lessons/diagnostics.py`); scale 1 is Exercise 3.3's network.
# Add scales below and above 1 (say 0.1, 3 and 10), run it, then answer:
#
# * `far_above`: the list of your scales whose loss is more than 0.5 above that of a network
#   that gives every class the same probability;
# * `why`, one letter: (a) for positive inputs a ReLU layer is linear, so scaling every layer
#   multiplies the scores by about the scale once per layer, and huge scores make the softmax
#   confidently wrong; (b) large weights saturate ReLU; (c) the loss adds the size of the
#   weights.

# %% tags=["exercise-run"] nbgrader={"grade": false, "grade_id": "ex-03-4-init_scale-run", "locked": false, "schema_version": 3, "solution": true, "task": false}
from lenet_nb.lessons.diagnostics import init_scale_record, probe_batch

X_probe, y_probe = probe_batch(256)
### BEGIN SOLUTION
scales = [0.1, 1.0, 3.0, 10.0]
### END SOLUTION
### BEGIN STUB
# scales = [1.0]  # add scales below and above 1, then run the cell again
### END STUB
observed_scale = {s: init_scale_record(s, X_probe, y_probe) for s in scales}
for s, r in observed_scale.items():
    print(f"scale {s:>5g}: loss {r['loss']:10.4f}, spread of the scores {r['logit_std']:9.4f}")

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-4-init_scale-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
far_above = [3.0, 10.0]
why = "a"
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-4-init_scale", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_init_scale(observed_scale, far_above, why)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your checks:</b> what the two exercises show</summary>
#
# Cross-entropy is minus the logarithm of the probability given to the right class. An
# untrained network that spreads its probability evenly gives each class 1/10, so its loss is
# −ln(1/10) = ln 10 ≈ 2.303 whatever the labels: at scale 1 the network is close to it. Scaled
# up, the scores grow about once per layer, the softmax puts nearly all its probability on one,
# mostly wrong, class, and the loss shoots up. Scaled down, the loss is ln 10 almost exactly,
# but signals and gradients are tiny: the check is "≈ ln 10, or find out why not". §1.4 meets a
# "why not".
#
# </details>

# %% [markdown]
# #### Exercise 3.5 (complete the code): learn one batch by heart
#
# Before a long run, make sure the loop can learn at all: a network this size should be able to
# memorise 32 images. Write `overfit_one_batch(net, X, y, num_steps=150, lr=1e-3)`: train `net`
# on this one batch only, `num_steps` times, with the Adam optimiser
# (`torch.optim.Adam(net.parameters(), lr=lr)`; §4 writes it out), and return the pair
# `(accuracy, loss)` on the batch after the last step. The checker calls it with a fresh network
# and 32 probe images and asks for 100 % and a loss below 0.1.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-5-overfit_one_batch-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def overfit_one_batch(net, X, y, num_steps=150, lr=1e-3):
    """Train net on the batch (X, y) alone; (accuracy, loss) on it after the last step."""
    ### BEGIN SOLUTION
    updater = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(num_steps):
        l = nn.functional.cross_entropy(net(X), y)  # noqa: E741
        updater.zero_grad()
        l.backward()
        updater.step()
    net.eval()
    with torch.no_grad():
        y_hat = net(X)
        accuracy = (y_hat.argmax(dim=1) == y).float().mean().item()
        return accuracy, nn.functional.cross_entropy(y_hat, y).item()
    ### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-5-overfit_one_batch", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_overfit_one_batch(overfit_one_batch)

# %% [markdown]
# ### 1.4 Our loop against `fit`
#
# One epoch of the d2l recipe: d2l's LeNet (sigmoid, average pooling, Xavier weights), plain SGD
# at learning rate 0.9, batches of 256, with the package's versions of your two functions
# (`lenet_nb/loop.py`, `lenet_nb/train.py`), so the cells below run whatever you wrote above.
#
# *Xavier initialisation* (Glorot and Bengio, 2010) draws each weight with a variance set by the
# layer's *fan-in* and *fan-out* (the inputs that feed one unit, the units one input feeds) so
# that, for an activation like tanh that is linear around zero, the signal keeps its scale from
# layer to layer; PyTorch's default scales by the fan-in alone. `init_xavier`
# (`lenet_nb/models.py`) applies it.
#
# `fit` is the loop of Exercise 3.2 plus Exercise 3.1's evaluation after every epoch. Given the
# same random *seed* (the number that starts PyTorch's random-number generator) it starts from
# the same weights and sees the batches in the same order; with `device="cpu"` and
# `channels_last=False` (by default `fit` uses a weight layout meant for quicker CPU kernels,
# whose rounding differs in the last bits) it computes exactly what our loop computes. The cell
# first applies §1.3's first check.

# %%
# NBVAL_IGNORE_OUTPUT
# (trained numbers differ between quick and full mode)
from lenet_nb.loop import train_epoch  # the reference from here on, whatever you wrote above
from lenet_nb.train import evaluate_accuracy, fit  # the reference from here on

lr, seed = 0.9, 0
torch.manual_seed(seed)
net = init_xavier(LeNet())
with torch.no_grad():
    start = nn.functional.cross_entropy(net(X_probe), y_probe).item()
print(f"loss before training, probe batch: {start:.3f} (ln 10 = {math.log(10):.3f})")
train_iter.generator.manual_seed(seed)  # the batch order fit(seed=0) will use
updater = torch.optim.SGD(net.parameters(), lr=lr)
train_loss, train_acc = train_epoch(net, train_iter, nn.CrossEntropyLoss(), updater)
ours = {"train loss": train_loss, "train acc": train_acc,
        "test acc": evaluate_accuracy(net, test_iter)}

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
# The loss before training is well above ln 10: the sigmoid's outputs are all positive, near one
# half, so each score of the last layer carries an offset (half the sum of its row of weights)
# that is the same for every image, and Xavier's larger weights make it large. The network
# prefers some classes for every image before it has seen any, a start training must undo.
#
# What `fit` adds around those fifteen lines: a **history** per epoch; in a live notebook a
# **progress bar** and **curves**; the **best checkpoint**, written atomically; a
# **learning-rate scheduler**, stepped per epoch or per batch; and a stop that is never taken
# for a finished run: **Ctrl-C** raises `TrainingInterrupted`, carrying the finished epochs
# (`e.history`), and a loss that turns NaN or infinite raises `TrainingDiverged`.
#
# ## 2. Why the sigmoid network starts on a plateau: the gradients, measured
#
# The d2l recipe needs a learning rate as large as 0.9. To see why, build d2l's LeNet at
# initialisation, compute the loss on the probe batch, backpropagate once, and print the size
# (the L2 norm) of each layer's weight gradient.

# %% [markdown]
# ### Exercise 3.6 (change and observe): where does the gradient vanish?
#
# The cell below does it for each activation in `activations`, and checks its numbers against the
# package's `gradient_norms` (`lenet_nb/lessons/diagnostics.py`). Add `"relu"` to the list, run
# it, compare the two sets of numbers layer by layer, and answer with a layer name (`"C1"`,
# `"C3"`, `"C5"`, `"F6"` or `"output"`):
#
# * `smallest_under_sigmoid`: which layer has the smallest weight gradient with sigmoid?
# * `grows_most_with_relu`: which layer's gradient grows by the largest factor (ReLU norm
#   divided by sigmoid norm) when sigmoid is replaced by ReLU?

# %% tags=["exercise-run"] nbgrader={"grade": false, "grade_id": "ex-03-6-gradient_layers-run", "locked": false, "schema_version": 3, "solution": true, "task": false}
from lenet_nb.lessons.diagnostics import gradient_norms, lenet_at_init

### BEGIN SOLUTION
activations = ["sigmoid", "relu"]
### END SOLUTION
### BEGIN STUB
# activations = ["sigmoid"]  # add "relu", then run the cell again
### END STUB
observed_grad = {}
for activation in activations:
    torch.manual_seed(0)
    net = init_xavier(LeNet(activation))
    net.zero_grad()
    nn.CrossEntropyLoss()(net(X_probe), y_probe).backward()
    weighted = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    norms = {name: float(m.weight.grad.norm())
             for name, m in zip(["C1", "C3", "C5", "F6", "output"], weighted)}
    reference = gradient_norms(lenet_at_init(activation), X_probe, y_probe, nn.CrossEntropyLoss())
    assert norms == reference, "the cell and lenet_nb.lessons.diagnostics disagree"
    observed_grad[activation] = norms
    print(f"{activation:8}", {name: round(v, 4) for name, v in norms.items()})

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-6-gradient_layers-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
smallest_under_sigmoid = "C1"
grows_most_with_relu = "C1"
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-6-gradient_layers", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_gradient_layers(observed_grad, smallest_under_sigmoid, grows_most_with_relu)

# %% [markdown]
# Both columns side by side (`gradient_norm_table`), and what the layers send forward:
# `activations` records the output of the activation after each layer for the same batch; for
# sigmoid we also print the mean slope there, σ'(z) = a(1 − a) for an output a.

# %%
from lenet_nb.lessons.diagnostics import activations as outputs_after
from lenet_nb.lessons.diagnostics import gradient_norm_table, plot_activation_histograms

table = gradient_norm_table(X_probe, y_probe, activations=("sigmoid", "relu"))
print(f"{'layer':8}{'sigmoid':>10}{'ReLU':>10}{'ReLU / sigmoid':>16}")
for layer, s in table["sigmoid"].items():
    r = table["relu"][layer]
    print(f"{layer:8}{s:10.4f}{r:10.4f}{r / s:16.2f}")
print(f"sigmoid: output layer / C1 = {table['sigmoid']['output'] / table['sigmoid']['C1']:.0f}\n")
acts = {a: outputs_after(lenet_at_init(a), X_probe) for a in ("sigmoid", "relu")}
for layer, a in acts["sigmoid"].items():
    print(f"sigmoid after {layer}: mean {a.mean():.3f}, std {a.std():.3f}, "
          f"mean slope {(a * (1 - a)).mean():.3f}")
half = torch.sigmoid(torch.tensor(0.0))
print(f"largest slope of the sigmoid (at 0): {float(half * (1 - half)):.2f}")
axes = plot_activation_histograms(acts)

# %% [markdown]
# **Reading the numbers.** With sigmoid the gradient shrinks from 1.2137 at the output layer to
# 0.0028 at C1. The outputs sit around one half, where the slope is near its maximum of 0.25
# (mean slopes 0.227 to 0.246): the units are not saturated, yet each sigmoid multiplies the
# signal going back by a quarter at most, and four stand between the loss and C1 (the weights in
# between change its size too, so the shrink per layer is not exactly four). An SGD step moves
# each weight by the rate times its gradient: C1 moves hundreds of times less than the output
# layer, the last layers learn on features that barely depend on the image, and the loss stays
# flat. That is the plateau, and why the d2l recipe needs a rate as large as 0.9. With ReLU,
# C1's gradient is over a hundred times larger, while the last layers' are smaller: ReLU's
# outputs are sparse (the tall bars at 0), so those layers receive smaller inputs.
#
# ## 3. The validation split, written in the open
#
# Any choice made by looking at test accuracy — a learning rate, an epoch to stop at — makes that
# accuracy optimistic: of several noisy measurements the largest is kept. So we hold out 10,000
# of the 60,000 training images as a **validation split**, make every choice on it, and use the
# test set once, at the end.

# %% [markdown]
# ### Exercise 3.7 (find the bug): training images under other images' names
#
# The function below holds out `num_val` random images and returns the two parts. At the end of
# the cell it shows the first eight training images it returns, titled with their labels. Run
# it and look at the titles. Then find the bug and fix it.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-7-split_train_val-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
from lenet_nb.data import get_fashion_mnist_labels
from lenet_nb.plot import show_images


def split_train_val(X, y, num_val, seed=0):
    """((X_train, y_train), (X_val, y_val)): num_val random samples held out, the rest kept."""
    g = torch.Generator().manual_seed(seed)
    ### BEGIN SOLUTION
    perm = torch.randperm(len(y), generator=g)  # one order for the images and their labels
    X, y = X[perm], y[perm]
    ### END SOLUTION
    ### BEGIN STUB
    # X = X[torch.randperm(len(X), generator=g)]
    # y = y[torch.randperm(len(y), generator=g)]
    ### END STUB
    return (X[num_val:], y[num_val:]), (X[:num_val], y[:num_val])


X_all, y_all = load_split("FashionMNIST", train=True)
(X_train, y_train), _ = split_train_val(X_all, y_all, num_val=10_000)
axes = show_images(to_float(X_train[:8]).squeeze(1), 1, 8, scale=1.2,
                   titles=get_fashion_mnist_labels(y_train[:8]))

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-7-split_train_val", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_split_train_val(split_train_val)

# %% [markdown]
# The package's `split_validation` (`lenet_nb/lessons/lr_sweep.py`) draws one permutation from a
# generator seeded with 0 and holds out its first 10,000 indices. Written out once more on the
# real files, with the classes of the held-out part counted; the last lines check that it gives
# the very split that §6's runs train and choose on (`budget_data`, same file):

# %%
from lenet_nb.lessons.lr_sweep import SWEEP_CONFIG, budget_data

perm = torch.randperm(60_000, generator=torch.Generator().manual_seed(0))
val, train = perm[:10_000], perm[10_000:]
print(f"training part: {len(train):,} images; validation part: {len(val):,}; in both: "
      f"{len(set(val.tolist()) & set(train.tolist()))}")
print("validation images per class:", torch.bincount(y_all[val], minlength=10).tolist())
sweep_train, sweep_val = budget_data(SWEEP_CONFIG)
assert torch.equal(sweep_val.X, to_float(X_all[val])) and torch.equal(sweep_val.y, y_all[val])
assert torch.equal(sweep_train.X, to_float(X_all[train]))
print("the same split as split_validation's: yes")

# %% [markdown]
# #### Exercise 3.8 (predict, then run): the steps of one run
#
# §6 compares learning rates with runs that train on the training part above, in batches of 256,
# for 12 epochs. How many times does one such run call `updater.step()`?

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-8-sweep_steps-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
sweep_steps = 12 * 196  # 195 full batches of 256 and a last one of 80 images per epoch
### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-8-sweep_steps", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_sweep_steps(sweep_steps)

# %%
per_epoch = sum(1 for _ in sweep_train)  # one step per batch, the short last one included
epochs = SWEEP_CONFIG["epochs"]
print(f"{sweep_train.num_samples:,} images in batches of {sweep_train.batch_size}: {per_epoch} "
      f"steps per epoch, {epochs * per_epoch:,} in {epochs} epochs")
print(f"the d2l recipe: 10 epochs of all 60,000 images, {10 * math.ceil(60_000 / 256):,} steps")

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> why this budget</summary>
#
# 50,000 / 256 is 195 full batches and a last one of 80 images, which is a step too: 196 per
# epoch, 2,352 in 12 epochs, within two steps of the d2l recipe's 2,350. §6 gives every learning
# rate the number of steps of the recipe it studies.
#
# </details>

# %% [markdown]
# ## 4. Optimisers, written in the open
#
# Plain SGD moves each weight by the learning rate times its gradient. The recipes of chapter 4
# add refinements that `torch.optim` provides; we write each and compare it with PyTorch's step
# for step.
#
# **Momentum** keeps a velocity per parameter: every step adds the new gradient to the old
# velocity shrunk by a factor (the `momentum`, often 0.9), and moves the parameter against the
# velocity, scaled by the learning rate. Where the gradient keeps its direction the steps grow;
# where it keeps flipping, they cancel. **Weight decay** pulls every weight a little towards
# zero: PyTorch's SGD adds `weight_decay` times the parameter to its gradient, before the
# momentum (the gradient of an L2 penalty on the weights).

# %% [markdown]
# ### Exercise 3.9 (complete the code): SGD with momentum and weight decay
#
# Write `sgd_step(params, bufs, lr, momentum=0.0, weight_decay=0.0)`, one step of PyTorch's SGD
# for the parameters in `params`, whose gradients are in `.grad`. `bufs` holds one velocity
# tensor per parameter, zeros at the start: update them in place, so the next call finds them.
# Change the parameters in place too, without autograd recording it. The checker takes four
# steps on a small quadratic loss and compares each with `torch.optim.SGD`'s.

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-9-sgd_step-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sgd_step(params, bufs, lr, momentum=0.0, weight_decay=0.0):
    """One step of SGD with momentum and weight decay, as torch.optim.SGD takes it."""
    ### BEGIN SOLUTION
    with torch.no_grad():
        for p, buf in zip(params, bufs):
            g = p.grad + weight_decay * p
            buf.mul_(momentum).add_(g)
            p.sub_(lr * buf)
    ### END SOLUTION

# %% tags=["exercise-check"] nbgrader={"grade": true, "grade_id": "ex-03-9-sgd_step", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
ex.check_sgd_step(sgd_step)

# %% [markdown]
# **Adam** (Kingma and Ba, 2015) gives every weight its own step size. It keeps two running
# averages per weight, of the gradient (m, factor β1) and of its square (v, factor β2), divides
# each by 1 − β^t to undo their start at zero, and moves the weight by lr · m̂ / (√v̂ + ε): about
# lr in the direction the gradient has pointed lately, whatever the gradient's size. Weight
# decay added to the gradient fits it badly: the decay term is divided by √v̂ like the rest, so
# a weight with large gradients is hardly decayed and one with small gradients strongly.
# **AdamW** (Loshchilov and Hutter, 2019) decouples the two: it shrinks every weight by the
# factor 1 − lr · weight_decay, then takes the Adam step without decay. All three, written out:

# %%
def adam_step(params, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              decoupled=False):
    """One step of Adam (weight decay added to the gradient) or, decoupled, of AdamW."""
    beta1, beta2 = betas
    state["t"] += 1
    t = state["t"]
    with torch.no_grad():
        for p, m, v in zip(params, state["m"], state["v"]):
            g = p.grad
            if decoupled:
                p.mul_(1 - lr * weight_decay)  # AdamW: shrink the weight itself
            else:
                g = g + weight_decay * p  # Adam: the decay goes through the averages
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
            p.sub_(lr * m_hat / (v_hat.sqrt() + eps))


def adam_state(params):
    """Adam's state at the start: step 0, both averages zero."""
    return {"t": 0, "m": [torch.zeros_like(p) for p in params],
            "v": [torch.zeros_like(p) for p in params]}

# %% [markdown]
# Five steps of each on d2l's LeNet and 64 probe images, beside `torch.optim.Adam` and
# `torch.optim.AdamW` from the same weights; then the difference the decoupling makes, on two
# equal weights whose gradients are noise of very different sizes:

# %%
X_batch, y_batch = X_probe[:64], y_probe[:64]
variants = {"Adam": (torch.optim.Adam, {}),
            "Adam + decay": (torch.optim.Adam, {"weight_decay": 0.05}),
            "AdamW": (torch.optim.AdamW, {"weight_decay": 0.05, "decoupled": True})}
for name, (optimizer, kw) in variants.items():
    nets = []
    for _ in range(2):
        torch.manual_seed(0)
        nets.append(LeNet("relu"))
    ours, theirs = nets
    updater = optimizer(theirs.parameters(), lr=0.01, weight_decay=kw.get("weight_decay", 0.0))
    state = adam_state(list(ours.parameters()))
    for _ in range(5):
        for model in nets:
            model.zero_grad()
            nn.functional.cross_entropy(model(X_batch), y_batch).backward()
        adam_step(list(ours.parameters()), state, lr=0.01, **kw)
        updater.step()
    diff = max((p - q).abs().max().item() for p, q in zip(ours.parameters(), theirs.parameters()))
    print(f"{name:13} 5 steps equal to torch.optim's within 1e-6: {diff < 1e-6}")
    assert diff < 1e-6

noise = torch.randn(200, 2, generator=torch.Generator().manual_seed(0)) * torch.tensor([1.0, 0.01])
for name, decoupled in (("Adam + decay", False), ("AdamW", True)):
    kept = []
    for weight_decay in (0.0, 0.1):
        w = nn.Parameter(torch.ones(2))
        state = adam_state([w])
        for g in noise:
            w.grad = g.clone()
            adam_step([w], state, lr=0.01, weight_decay=weight_decay, decoupled=decoupled)
        kept.append(w.detach().clone())
    taken = kept[0] - kept[1]
    print(f"{name:13} 200 steps: the decay took {taken[0]:.3f} off the weight with large "
          f"gradients, {taken[1]:.3f} off the one with small gradients")

# %% [markdown]
# ## 5. A learning-rate schedule, written in the open: one-cycle
#
# Chapter 4's modern recipe does not keep the rate constant. `OneCycleLR` (after Smith and Topin,
# 2019) starts at `max_lr / div_factor`, rises to `max_lr` over the first `pct_start` of the
# steps, then falls to the start rate divided by `final_div_factor`, both along half a cosine;
# meanwhile it moves the momentum (Adam's β1) the other way, from 0.95 down to 0.85 and back.
# It is stepped after every batch. Written out, and checked against PyTorch's own for every step
# of that recipe:

# %%
from lenet_nb.lessons.recipes import get_recipe, make_optimizer, make_scheduler


def one_cycle(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0,
              final_div_factor=1e4, momentums=(0.85, 0.95)):
    """(learning rate, momentum) at `step` (from 0) of PyTorch's OneCycleLR, cosine version."""
    low, high = momentums
    start_lr = max_lr / div_factor
    end_lr = start_lr / final_div_factor
    peak = pct_start * total_steps - 1  # the step at which PyTorch's warm-up ends

    def cos(a, b, pct):  # from a to b along half a cosine, pct from 0 to 1
        return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)

    if step <= peak:
        pct = step / peak
        return cos(start_lr, max_lr, pct), cos(high, low, pct)
    pct = (step - peak) / (total_steps - 1 - peak)
    return cos(max_lr, end_lr, pct), cos(low, high, pct)


recipe = get_recipe("modern-fashion")
steps_per_epoch = math.ceil(60_000 / recipe.batch_size)
total = steps_per_epoch * recipe.num_epochs
w = nn.Parameter(torch.zeros(1))
updater = make_optimizer(recipe, [w])
scheduler, per_batch = make_scheduler(recipe, updater, steps_per_epoch, recipe.num_epochs)
theirs = []
for _ in range(total):
    theirs.append((updater.param_groups[0]["lr"], updater.param_groups[0]["betas"][0]))
    updater.step()  # no gradient: the weight stays, only the schedule moves
    scheduler.step()
ours = [one_cycle(k, total, recipe.lr) for k in range(total)]
diff = max(abs(a - b) for mine, pytorch in zip(ours, theirs) for a, b in zip(mine, pytorch))
print(f"{recipe.name}: {recipe.num_epochs} epochs of {steps_per_epoch} steps = {total:,} steps, "
      f"peak lr {recipe.lr}; stepped per batch: {per_batch}")
print(f"the same rate and momentum as PyTorch's at every step, within 1e-12: {diff < 1e-12}")
assert diff < 1e-12

# %% [markdown]
# The schedule, and what happens when it is stepped once per *epoch* instead (`fit`'s default
# for a scheduler: one-cycle needs `scheduler_per_batch=True`):

# %%
import matplotlib.pyplot as plt

fig, (ax_lr, ax_m) = plt.subplots(1, 2, figsize=(8, 2.6), layout="constrained")
ax_lr.plot([lr for lr, _ in ours])
ax_lr.set(xlabel="step", ylabel="learning rate", title="one-cycle, stepped per batch")
ax_m.plot([m for _, m in ours], color="C1")
ax_m.set(xlabel="step", ylabel="momentum (Adam's β1)")
after = one_cycle(recipe.num_epochs, total, recipe.lr)[0]
print(f"stepped once per epoch, the rate after {recipe.num_epochs} epochs: {after:.6f} "
      f"(its start: {recipe.lr / 25:.6f}, its peak: {recipe.lr})")

# %% [markdown]
# Stepped once per epoch, the schedule advances a handful of its thousands of steps: the rate
# never leaves its start, a twenty-fifth of the peak, and the run never warms up.
#
# ## 6. The learning rate, chosen on the validation split
#
# Where does a rate like 0.9 come from? Try several, keep the best on the validation split. How
# long each trial trains matters: after one epoch the sigmoid network is still on its plateau
# (§2); and with one seed, rates that score within the spread of seeds are ranked by luck (a
# one-epoch sweep of one seed chose different rates for ReLU on two machines of the same kind).
# So the sweep below gives every run the d2l recipe's budget (Exercise 3.8) and three seeds:
# d2l's LeNet with average pooling and Xavier weights, plain SGD at a constant rate, on §3's
# split, for sigmoid, tanh and ReLU, each at five rates a factor of three apart around where it
# trains. `python -m lenet_nb.course.experiments run lr_sweep` made `results/lr_sweep.csv` (the
# declaration `LR_SWEEP` and the run function `sgd_run` are in `lenet_nb/lessons/lr_sweep.py`).
#
# The rule (`choose`, same file): the best mean validation accuracy after the last epoch, among
# rates whose three seeds all left chance level. A choice is **robust** when the ranges separate,
# all three seeds of the chosen rate above all three of the runner-up's; otherwise another seed
# could have picked the runner-up.

# %% tags=["stored", "keep-output"]
from lenet_nb.lessons.lr_sweep import (LR_SWEEP, choice_lines, plot_sweep, stored_sweep,
                                       stored_table)

rows = stored_sweep()  # the stored runs; None (and the command that makes them) if not there
for epoch in (1, LR_SWEEP.config["epochs"]) if rows else ():
    print(f"validation accuracy after epoch {epoch}: mean (lowest–highest) over seeds 0, 1, 2;"
          f" * marks the choice")
    print(stored_table(rows, epoch))
    print("\n".join(choice_lines(rows, epoch)) + "\n")

# %% tags=["stored", "keep-output"]
axes = plot_sweep(rows) if rows else None

# %% [markdown]
# **Reading the sweep.** The lines under each table say which rate wins after one epoch and
# after twelve, and whether each choice is robust. The left panel shows what one epoch can rank;
# the right one follows each activation at its chosen rate, and shows when the sigmoid network
# leaves its plateau. Rates a factor of three apart are coarse: where a choice is not robust,
# the honest answer is "somewhere around these two rates".
#
# One small run beside the stored range: ReLU at its chosen rate, seed 0, the first epochs of
# the stored run. On a CPU like the one that made the file, with the same thread count, it
# repeats the stored seed 0 bit for bit; on another it lands within the seeds' spread, not on
# the same digits.

# %% tags=["live"]
# NBVAL_IGNORE_OUTPUT
# (a live run: its digits depend on the CPU, and in quick mode on a small slice of the data)
from lenet_nb.lessons.lr_sweep import QUICK_SPLIT, THREADS, chosen_rates, live_lines, sgd_run

if rows is None:
    print("no live run: it trains ReLU at the stored choice, to compare with the stored seeds")
else:
    run = {"activation": "relu", "lr": chosen_rates(rows)["relu"], "seed": 0, "threads": THREADS}
    live = sgd_run({**LR_SWEEP.config, **reduce_in_tests({}, QUICK_SPLIT)}, run,
                   epochs=reduce_in_tests(3, 1))
    print("\n".join(live_lines(rows, run, live)))

# %% [markdown]
# ### Exercise 3.10 (change and observe): a sweep of your own
#
# The stored runs are long. Make your own short sweep: `short_sgd_run`
# (`lenet_nb/lessons/diagnostics.py`) trains the ReLU LeNet from seed 0 with plain SGD for 200
# steps of 128 images from the training part and scores it on 2,000 validation images. Add rates
# to `lrs` (say ten and a hundred times larger), run, and answer from your own runs:
#
# * `best_lr`: which of your rates reached the highest validation accuracy?
# * `did_not_learn`: the list of your rates whose loss blew up (NaN) or whose validation
#   accuracy stayed at chance level (at most 0.2).

# %% tags=["exercise-run", "nbval-ignore-output"] nbgrader={"grade": false, "grade_id": "ex-03-10-lr_change-run", "locked": false, "schema_version": 3, "solution": true, "task": false}
from lenet_nb.lessons.diagnostics import short_sgd_run

### BEGIN SOLUTION
lrs = [0.03, 0.3, 3.0]
### END SOLUTION
### BEGIN STUB
# lrs = [0.03]  # add rates, then run the cell again
### END STUB
observed_lr = {}
for lr in lrs:
    r = short_sgd_run(lr, steps=reduce_in_tests(200, 20), num_train=reduce_in_tests(10_000, 1000),
                      num_val=reduce_in_tests(2000, 500))
    observed_lr[lr] = r
    print(f"lr {lr:g}: loss {r['losses'][0]:.3f} at the first step, {r['losses'][-1]:.3f} at "
          f"step {len(r['losses'])}; validation accuracy {r['val_acc']:.3f}"
          + (" (diverged)" if r["diverged"] else ""))

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-10-lr_change-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
best_lr = max(observed_lr, key=lambda lr: observed_lr[lr]["val_acc"])
did_not_learn = [lr for lr, r in observed_lr.items() if r["diverged"] or r["val_acc"] <= 0.2]
### END SOLUTION

# %% tags=["exercise-check", "nbval-ignore-output"] nbgrader={"grade": true, "grade_id": "ex-03-10-lr_change", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ex.check_lr_change(observed_lr, best_lr, did_not_learn)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> what a short sweep can say</summary>
#
# Compare your best rate with the stored choices for ReLU after one epoch and after twelve. Your
# ranking belongs to your budget: 200 steps, one seed, a 10,000-image slice. Rates within a few
# thousandths of each other are tied at that budget, and a rate that wins in 200 steps can lose
# in 2,352. A rate is chosen for a budget, on a validation split, and with several seeds before
# anyone calls it better.
#
# </details>

# %% [markdown]
# ## 7. Challenge
#
# The d2l recipe trains its network with plain SGD at a constant rate. You have now written every
# piece of another way to train it; the last exercise asks you to use them.

# %% [markdown]
# ### Exercise 3.11 (challenge): d2l's LeNet as it is, trained your way
#
# Keep d2l's network exactly as it is — `LeNet()` from `lenet_nb/models.py`, sigmoid and average
# pooling included — and train it to **at least 0.875 validation accuracy** with **75 s of
# training on the reference machine**. Write `train(X, y, seconds)`: it gets training images `X`
# ([N, 1, 28, 28], values in [0, 1]) and labels `y`, and returns `LeNet()` trained. The checker
# holds out §3's 10,000 validation images (your function never sees them), gives `train` copies
# of the other 50,000, times it, checks the layers and measures the accuracy on the held-out
# images. `seconds` is the budget on this machine (75 s scaled by the speed the checker
# measures): stop early by it, or ignore it. Initialisation, optimiser, learning rate and
# schedule, batch size and epochs are yours. The checker prints your numbers beside the course
# solution's (three stored runs: `python -m lenet_nb.course.experiments run
# challenge_training_loop`).

# %% tags=["exercise-answer"] nbgrader={"grade": false, "grade_id": "ex-03-11-d2l_challenge-answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train(X, y, seconds):
    """Train and return d2l's LeNet, as it is, on X [N, 1, 28, 28] in [0, 1] and y [N]."""
    ### BEGIN SOLUTION
    num_epochs, batch_size, max_lr = reduce_in_tests(10, 1), 128, 0.01
    net = LeNet()  # PyTorch's default initialisation
    optimizer = torch.optim.AdamW(net.parameters(), lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, total_steps=num_epochs * -(-len(y) // batch_size))
    loss = nn.CrossEntropyLoss()
    for _ in range(num_epochs):
        for batch in torch.randperm(len(y)).split(batch_size):
            optimizer.zero_grad()
            loss(net(X[batch]), y[batch]).backward()
            optimizer.step()
            scheduler.step()
    return net
    ### END SOLUTION

# %% tags=["exercise-check", "nbval-ignore-output"] nbgrader={"grade": true, "grade_id": "ex-03-11-d2l_challenge", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
ex.check_d2l_challenge(train)

# %% [markdown] tags=["answer-prose"]
# <details><summary><b>After your check:</b> the course's solution</summary>
#
# The course's solution changes nothing in the network and everything in its training: PyTorch's
# default initialisation instead of Xavier's, AdamW (§4) instead of plain SGD, so that C1's small
# gradients get steps of the same size as the output layer's, and a one-cycle rate (§5) that
# rises to 0.01 and falls back, stepped after every batch of 128, for a fixed number of epochs
# that fits the budget with room to spare. (`challenge_train` in `lenet_nb/lessons/lr_sweep.py`
# is the same function; the stored runs come from it.)
#
# </details>

# %% [markdown]
# ## Recap
#
# * Training is five steps per batch — forward, loss, `zero_grad`, `backward`, `step` — with loss
#   and accuracy counted per sample (a per-batch average depends on how the data are cut); `fit`
#   computes the same numbers and adds a history, progress, checkpoints, schedulers and a safe
#   Ctrl-C.
# * Before a long run: the loss at the start is about ln 10 for 10 classes (or there is a
#   reason), and the loop can learn one batch by heart.
# * At initialisation the sigmoid LeNet's gradients shrink layer by layer back to C1, ReLU's stay
#   within one order of magnitude: each sigmoid passes back at most a quarter of the signal.
# * Choices are made on a validation split (one permutation for images and labels alike); the
#   test set is used once, at the end.
# * SGD with momentum and weight decay, Adam, AdamW and one-cycle are a few lines each and equal
#   PyTorch's step for step; AdamW decays every weight alike, Adam's decay depends on the size of
#   each weight's gradients.
# * A learning rate is chosen for a budget, on the validation split, over several seeds, and
#   called robust only where the ranges separate.
#
# Chapter 4 trains the tutorials' recipes with this loop and looks for a better recipe for the
# same network.
#
# ## Self-check

# %%
from lenet_nb.quiz.widget import self_check

self_check("training_loop", static=True)  # static=True: also readable without a kernel

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
# # Chapter 6: quizzes that check themselves
#
# Twenty-three questions across chapters 1 to 5, grouped by topic. For each one, pick an answer
# (or type a number) and press **Check**: the feedback says *Correct!* or *Not quite.* and
# explains why, for the option you picked. You may change your answer and check again. The
# score line under each section counts the questions whose latest check was right, over the
# whole quiz.
#
# Everything runs in your own kernel: the widgets are ipywidgets (`lenet_nb/quiz/widget.py`), the
# questions and their grading are plain Python (`lenet_nb/quiz/question.py`), nothing is
# fetched from the internet and nothing is recorded. Run the notebook (Run → Run All Cells) to
# make the buttons live. Read without a kernel (on GitHub, say), each section shows its
# questions and options as a plain list, without the answers.
#
# The answers are not taken on trust either: wherever an answer can be computed (a parameter
# count, a shape, the slope of the sigmoid, the number of batches in an epoch),
# the tests in `tests/quiz/` compute it from the same `lenet_nb` models and data the chapters
# use and check that the answer key agrees. A change to the code that made a key wrong would
# fail the test suite.

# %%
from lenet_nb.quiz.widget import self_check

quiz = self_check("final", static=True)  # static: also a plain list for readers without a kernel
quiz.topics()

# %% [markdown]
# ## 1. Where the parameters live
#
# Chapter 2 counted LeNet's parameters layer by layer. The first question comes from the Boyu
# course page (Boyu for short), reworded: one of the four statements is false, find it. The
# explanation of each option says why it is true or false. The last one is about the network of
# "Learn PyTorch from scratch (14): LeNet", Learn PyTorch (14) for short.

# %%
quiz.section("parameters")

# %% [markdown]
# ## 2. Why convolutions
#
# Chapter 1 compared a fully-connected layer with a convolution on the same image. The first
# question is the second one of the Boyu course, again asking for the false statement.

# %%
quiz.section("convolutions")

# %% [markdown]
# ## 3. Shapes, padding and pooling
#
# The output side of a convolution or pooling layer is ⌊(n + 2p − k)/s⌋ + 1 (chapter 2). Keep
# a pencil at hand. The *receptive field* of a unit is the patch of the input image that can
# change its value: chapter 2 computed it layer by layer.

# %%
quiz.section("shapes")

# %% [markdown]
# ## 4. The training loop
#
# Chapter 3 wrote the training loop out, measured why the sigmoid network needs a large
# learning rate, and chose settings on a validation split held out from the training set.

# %%
quiz.section("training loop")

# %% [markdown]
# ## 5. Recipes and their pitfalls
#
# Chapter 4 reproduced the source tutorials' recipes and measured the mistakes in their
# training code.

# %%
quiz.section("recipes and pitfalls")

# %% [markdown]
# ## 6. The paper's LeNet-5
#
# Chapter 5 rebuilt LeNet-5 as LeCun et al. described it in 1998: trainable subsampling, the
# partial C3 table, the squashing function, the RBF output layer and the MAP loss that trains
# it. (*log-sum-exp*, log Σ e^(x_i), is a smooth version of the largest x_i.)

# %%
quiz.section("paper")

# %% [markdown]
# ## Recap
#
# In this notebook we checked what the previous chapters built:
#
# - **parameters**: most of the d2l LeNet's parameters sit in its linear layers, and padding
#   grows the first of them;
# - **convolutions**: one small kernel shared by every position keeps the parameter count
#   independent of the image size and moves the feature map with the image;
# - **shapes**: ⌊(n + 2p − k)/s⌋ + 1 for every convolution and pooling layer, and receptive
#   fields that grow with every layer;
# - **the training loop**: gradients cleared before every step, the sigmoid's small slope and the
#   large learning rate it asks for, choices made on a validation split (never on the test set);
# - **recipes and pitfalls**: one test evaluation per epoch, and accuracy counted per sample, so
#   that neither a last, smaller batch nor the order of the test images changes it;
# - **the paper**: a partial C3 table that breaks the symmetry between maps, an output that
#   picks the nearest digit bitmap, fixed bitmaps and a MAP loss that keep the outputs from
#   collapsing onto one point.
#
# A question you missed points to its chapter: parameters and shapes to chapter 2,
# convolutions to chapter 1, the loop to chapter 3, recipes to chapter 4, the paper to
# chapter 5. Each chapter ends with its own short self-check, built the same way and named
# after the chapter's notebook: `self_check("fc_limits")` in `01_fc_limits`, and so on.

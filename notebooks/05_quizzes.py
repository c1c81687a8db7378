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
# # Chapter 5: quizzes that check themselves
#
# Twenty questions across the four chapters, grouped by topic. For each one, pick an answer
# (or type a number) and press **Check**: the feedback says *Correct!* or *Not quite.* and
# explains why, for the option you picked. You may change your answer and check again. The
# score line under each section counts the questions whose latest check was right, over the
# whole quiz.
#
# Everything runs in your own kernel: the widgets are ipywidgets, the grading is plain Python
# in `lenet_nb/quiz.py`, nothing is fetched from the internet and nothing is recorded. Run the
# notebook (Run → Run All Cells) to make the buttons live.
#
# The answers are not taken on trust either: wherever an answer can be computed (a parameter
# count, a shape, the slope of the sigmoid, the number of batches in an epoch),
# `tests/test_quiz_bank.py` computes it from the same `lenet_nb` models and data the chapters
# use and checks that the answer key agrees. A change to the code that made a key wrong would
# fail the test suite.

# %%
from lenet_nb.quiz import self_check

quiz = self_check("ch5")
quiz.topics()

# %% [markdown]
# ## 1. Where the parameters live
#
# Chapter 2 counted LeNet's parameters layer by layer. The first question is from the Boyu
# course (seed 003), reworded: one of the four statements is false, find it. The explanation of
# each option says why it is true or false.

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
# a pencil at hand.

# %%
quiz.section("shapes")

# %% [markdown]
# ## 4. Training and its pitfalls
#
# Chapter 3 reproduced the seeds' recipes and measured the mistakes in their training code.

# %%
quiz.section("training")

# %% [markdown]
# ## 5. The paper's LeNet-5
#
# Chapter 4 rebuilt LeNet-5 as LeCun et al. described it in 1998: trainable subsampling, the
# partial C3 table, the squashing function and the RBF output layer.

# %%
quiz.section("paper")

# %% [markdown]
# ## Recap
#
# In this notebook we checked what the previous chapters built:
#
# - **parameters**: 95.8 % of the d2l LeNet's 61,706 parameters sit in its linear layers, and
#   padding grows the first of them;
# - **convolutions**: one small kernel shared by every position keeps the parameter count
#   independent of the image size and moves the feature map with the image;
# - **shapes**: ⌊(n + 2p − k)/s⌋ + 1 for every convolution and pooling layer;
# - **training**: per-sample accuracy, logits into `CrossEntropyLoss`, one test evaluation per
#   epoch, and `weights_only=True` when loading;
# - **the paper**: 60,000 trainable parameters, a C3 table of 60 connections and an output
#   that picks the nearest digit bitmap.
#
# A question you missed points to its chapter: parameters and shapes to chapter 2,
# convolutions to chapter 1, training to chapter 3, the paper to chapter 4. Each chapter ends
# with its own short self-check, built the same way: `self_check("ch1")` to `self_check("ch4")`.

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
# # Start here
#
# This course takes you from *"why not just a fully-connected network?"* to a trained LeNet-5
# built the way the 1998 paper describes it. Each chapter is one notebook in this folder. This
# page says in which order to read them, roughly how long each takes, and how the interactive
# parts answer you. The one code cell, at the end, shows your progress through the exercises.
#
# ## The chapters, in order
#
# Read them in this order; each one uses what the ones before it built. The times are our
# estimate for a first reading with the exercises done, not the time the computer needs.
#
# 1. `01_fc_limits` (about 90 minutes): why a dense layer is a poor fit for images; a
#    convolution and pooling built by hand; what happens when the pixels are shuffled.
# 2. `02_shapes` (about 90 minutes): LeNet layer by layer: shapes, parameters, receptive fields,
#    multiply-adds, the paper's connection count.
# 3. `03_training_loop` (about 75 minutes): the training loop written out and checked, why the
#    sigmoid LeNet learns slowly, a learning rate chosen on a validation split.
# 4. `04_recipes` (about 2 hours): the tutorials' recipes re-run beside their numbers, a modern
#    recipe, the mistakes in the tutorials' training code, looking inside a trained network.
# 5. `05_lenet5_paper` (about 3 hours): the paper's LeNet-5, its special layers written by you
#    and checked, then trained towards the paper's error rate.
# 6. `06_quizzes` (about 30 minutes): self-checking questions across chapters 1–5.
# 7. `07_draw_and_look_inside` (about 90 minutes): draw a digit and watch two networks read it;
#    occlusion, saliency, receptive fields, shifted and rotated digits.
#
# Chapters 1, 3, 4, 5 and 7 train networks. On a laptop-class CPU some cells take minutes; the
# time a whole chapter takes to run on our 2-core machine is listed in `REPORT.md`, which `make
# reproduce` writes after running every chapter. You do not have to wait for it: every notebook
# is stored with the outputs of that full run, so you can read a chapter, results included,
# before running anything.
#
# ## What answers you, and how
#
# - **Exercises.** Chapters 1, 2, 3, 5 and 7 have exercises, each under a heading that names
#   its number and its kind, e.g. "Exercise 2.1 (predict, then run)". The kinds: *complete the
#   code*, *predict, then run* (write down a shape or a count before you see it), *change and
#   observe*, *find the bug* and *challenge*. You write your answer in one cell; the next cell
#   holds the check, e.g. `ex.check_corr2d(corr2d)`. Run both: the check answers
#   `✔ 1.1 corr2d: …` when your answer is right, `✘ 1.1 corr2d, not yet: …` with what exactly
#   is wrong and a hint (which shape, which value, "did you forget the + 1?"), or
#   `○ 1.1 corr2d, not started` while the cell still holds `...  # your code here`. It never
#   shows the answer to a *predict* question, and it never stops the notebook with an error,
#   whatever you type. The cells after an exercise never depend on your answer, so you can move
#   on and come back.
# - **Widgets.** Some cells show sliders and drop-down menus (the cost of a dense layer against
#   a convolution, LeNet's shapes for other sizes, the activation × pooling explorer, the drawing
#   pad). Move one and the result below it is recomputed by the notebook's Python kernel, so they
#   only respond while the notebook is running in JupyterLab: run the cells above them first.
# - **Self-check quizzes.** Each chapter ends with a recap and a few questions, and
#   `06_quizzes` collects more. Pick an answer (or type a number) and press **Check**: the quiz
#   says right or wrong and explains why, for the choice you picked; for a number it gives a hint
#   until you get it, then the explanation. Nothing is recorded; try again as often as you like.
#
# ## Your own copies: `student/` and `reading/`
#
# `make lab` (in a terminal at the project's root) prepares two folders of your own and opens
# JupyterLab on this page in `reading/`:
#
# - `student/`, the *student edition*: every exercise's solution replaced by
#   `...  # your code here`, and no stored outputs, so nothing gives an answer away before you
#   try. Do the exercises there.
# - `reading/`, a copy of the *instructor edition*: solutions filled in and the outputs of a
#   full run stored, to read a chapter, results included, before running anything.
#
# Both folders are yours: git ignores them, and running or changing a notebook there changes
# nothing in the project itself. Running `make lab` (or `make student`) again after the course
# was updated refreshes only the notebooks you have not changed; for one you changed, the new
# version is written beside it as `NAME.new.ipynb` and a message says so. Your work is never
# overwritten.
#
# ## Quick mode, in one line
#
# The tests run every chapter in a short *quick mode* (fewer epochs, less data), so numbers they
# print mean nothing; the README's section "Quick mode and tests" explains it.
#
# ## Where the material comes from
#
# The course grew from five tutorials on LeNet, the book *Dive into Deep Learning* and the 1998
# LeNet-5 paper; the README's section "Sources" lists them and what we take from each.
#
# ## Your progress
#
# The cell below reads the notebooks saved in `student/` and lists, per chapter, the exercises
# whose check passes (✔), fails (✘), was run on the untouched stub (○) or was not run yet (·).
# It reads only what is saved: save a notebook (Ctrl+S) after running its checks, then run this
# cell again. The same list in a terminal: `python -m lenet_nb.course.progress`.

# %%
# NBVAL_IGNORE_OUTPUT: it reads your own saved student notebooks
from lenet_nb.course.progress import show

show()

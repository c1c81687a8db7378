"""The five source tutorials, the d2l book and the 1998 paper: what each reported, as one table.

This table is the one place where a figure the chapters quote from a source (not measured by us)
is listed; `nbcheck --numbers` accepts a number in any chapter's prose when it appears here, and
`REPORT.md` includes the table. Add a figure here only when the source really reports it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """One source: its title, the short name the chapters use, its setup and reported figures."""

    title: str
    short: str
    setup: str
    reported: str


SOURCES = (
    Source("the d2l-style LeNet page", "the d2l page",
           "sigmoid LeNet, average pooling, SGD lr 0.01, batch 256, 10 epochs, Fashion-MNIST",
           "test acc 0.8645, train acc 0.8707, loss 0.343"),
    Source('"Learn PyTorch from scratch (14): LeNet"', "Learn PyTorch (14)",
           "LeNet without padding, max pooling, Adam lr 0.01, batch 64, 5 epochs, Fashion-MNIST",
           "test acc 0.874 (its log: 0.874602 after epoch 4, 0.874403 after epoch 5)"),
    Source("the LeNet-5 + MNIST introduction", "the MNIST intro",
           "MyLeNet5, SGD lr 0.001 momentum 0.9, StepLR(10, 0.1), batch 16, 20 epochs, MNIST",
           "best validation acc 0.9792"),
    Source("the Boyu course page", "Boyu",
           "the d2l LeNet, SGD lr 0.9, Xavier init, batch 256, 10 epochs, Fashion-MNIST, CPU",
           "test acc 0.804 (train acc 0.821)"),
    Source("the 2020 LeNet-5 reproduction blog", "the 2020 reproduction",
           "paper-faithful LeNet-5: trainable subsampling, the C3 table, RBF output "
           "with 7×12 bitmaps",
           "no accuracy (the network is built, not trained)"),
    Source("Dive into Deep Learning, pre-1.0 edition, LeNet section", "d2l (pre-1.0)",
           "sigmoid LeNet, average pooling, SGD lr 0.9, Xavier init, batch 256, 10 epochs, "
           "Fashion-MNIST",
           "test acc 0.779, train acc 0.823, loss 0.469"),
    Source("LeCun, Bottou, Bengio, Haffner (1998), Gradient-based learning applied to "
           "document recognition", "the paper",
           "LeNet-5 on MNIST, 32×32 input (background −0.1, ink 1.175), squashing "
           "1.7159·tanh(2a/3), init ±2.4/F_i, RBF output, 20 passes",
           "test error 0.95 % (0.8 % with distorted training images); 60,000 trainable "
           "parameters, 340,908 connections (C1 122,304; S2 5,880; C3 151,600; S4 2,000; "
           "C5 48,120; F6 10,164; output 840); C3 1,516 parameters"),
)


def _cell(text):
    """Escape a table cell's pipes so the markdown table keeps its columns."""
    return text.replace("|", "\\|")


def sources_table(sources=SOURCES):
    """The sources and what each reported, as a markdown table."""
    lines = ["| source | short name | setup | reported |", "|---|---|---|---|"]
    lines += [f"| {_cell(s.title)} | {_cell(s.short)} | {_cell(s.setup)} | {_cell(s.reported)} |"
              for s in sources]
    return "\n".join(lines) + "\n"


def by_short_name(short):
    """The source with this short name; a clear error listing the names otherwise."""
    for s in SOURCES:
        if s.short == short:
            return s
    raise KeyError(f"no source called {short!r}; the short names are "
                   f"{[s.short for s in SOURCES]}")

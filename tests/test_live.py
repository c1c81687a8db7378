"""Live training curves: one figure, redrawn per record; no import circle with train/plot."""

import ast
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from lenet_nb import live, plot, train  # noqa: E402


def test_animator_redraws_every_record():
    a = live.Animator(3)
    for e in (1, 2):
        a.add({"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5, "test_acc": 0.6})
    assert len(a.ax.lines) == 3 and list(a.ax.lines[0].get_xdata()) == [1, 2]
    a.close()


def _imports(module):
    """Every module name a lenet_nb module imports, at top level or inside functions."""
    tree = ast.parse(Path(module.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_train_and_plot_do_not_import_each_other():
    # fit used to import plot's Animator while plot imported train: a circle
    assert "lenet_nb.train" in _imports(plot)  # plot uses train's argmax_predict ...
    assert "lenet_nb.plot" not in _imports(train)  # ... so train must not import plot
    assert "lenet_nb.live" in _imports(train)
    assert not {"lenet_nb.plot", "lenet_nb.train"} & _imports(live)

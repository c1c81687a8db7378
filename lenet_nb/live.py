"""Live training curves in a notebook: the figure `fit` redraws after every epoch.

Its own module so that `lenet_nb.train` (which draws it) and `lenet_nb.plot` (which uses
`train`'s prediction helper) do not import each other.
"""

import matplotlib.pyplot as plt


class Animator:
    """Live training curves in a notebook: one figure, redrawn in place after every epoch."""

    def __init__(self, num_epochs, keys=("train_loss", "train_acc", "test_acc")):
        from IPython.display import display

        self.keys, self.records = keys, []
        self.fig, self.ax = plt.subplots(figsize=(4.5, 3))
        self.ax.set_xlim(0.5, num_epochs + 0.5)
        self.handle = display(self.fig, display_id=True)

    def add(self, record):
        """Add one epoch's record and redraw."""
        self.records.append(record)
        self.ax.cla()
        epochs = [r["epoch"] for r in self.records]
        for key, style in zip(self.keys, ("-", "--", "-.")):
            self.ax.plot(epochs, [r[key] for r in self.records], style, label=key)
        self.ax.set_xlabel("epoch")
        self.ax.grid(True, alpha=0.3)
        self.ax.legend(fontsize=8)
        if self.handle is not None:  # None outside a notebook front end
            self.handle.update(self.fig)

    def close(self):
        """Stop drawing: the inline backend would otherwise show the figure a second time."""
        plt.close(self.fig)

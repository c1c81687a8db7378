"""Sliders for chapters 1 and 2; callbacks only change widget values (nothing is printed)."""

from html import escape

import ipywidgets as widgets

from lenet_nb.lessons.fc_limits import DTYPES, format_dense_vs_conv
from lenet_nb.lessons.shapes import shape_report

WIDE = {"description_width": "initial"}


def pre(text):
    """Wrap plain text in an HTML <pre> block, escaped."""
    return f"<pre>{escape(text)}</pre>"


def _slider(description, value, low, high, step=1, css=None):
    """An IntSlider that updates only on release, with a CSS class for browser tests."""
    s = widgets.IntSlider(value=value, min=low, max=high, step=step, description=description,
                          continuous_update=False, style=WIDE)
    if css:
        s.add_class(css)
    return s


def _wire(controls, update):
    """Call update() now and whenever one of the controls changes value."""
    for c in controls:
        c.observe(lambda change: update(), names="value")
    update()


def dense_vs_conv_widget():
    """Sliders for image side, channels, hidden units and dtype; shows dense vs 5×5 conv cost."""
    side = _slider("image side (pixels)", 1000, 8, 2048, css="lenet-fc-side")
    channels = _slider("channels", 3, 1, 4, css="lenet-fc-channels")
    hidden = _slider("hidden units / output channels", 256, 1, 1024, css="lenet-fc-hidden")
    dtype = widgets.Dropdown(options=list(DTYPES), value="float32", description="dtype")
    result = widgets.HTML()
    result.add_class("lenet-fc-result")

    def update():
        result.value = pre(format_dense_vs_conv(side.value, channels.value, hidden.value,
                                                dtype.value))

    _wire([side, channels, hidden, dtype], update)
    return widgets.VBox([side, channels, hidden, dtype, result])


def shape_widget():
    """Sliders for input size, C1 padding, kernel size, pooling; LeNet's shapes or why not."""
    in_size = _slider("input size", 28, 8, 64, css="lenet-shape-in-size")
    padding = _slider("padding (C1)", 2, 0, 4, css="lenet-shape-padding")
    kernel = _slider("kernel size (C1, C3)", 5, 1, 13, step=2, css="lenet-shape-kernel")
    pooling = widgets.Dropdown(options=["avg", "max"], value="avg", description="pooling")
    pooling.add_class("lenet-shape-pooling")
    message = widgets.HTML()
    message.add_class("lenet-shape-message")
    table = widgets.HTML()
    table.add_class("lenet-shape-table")

    def update():
        ok, text, note = shape_report(in_size.value, padding.value, kernel.value, pooling.value)
        message.value = f"<b>{escape(note)}</b>" if ok else f"<b>⚠ {escape(note)}</b>"
        table.value = pre(text) if ok else ""

    _wire([in_size, padding, kernel, pooling], update)
    return widgets.VBox([in_size, padding, kernel, pooling, message, table])

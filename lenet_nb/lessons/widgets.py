"""Sliders for chapters 1 and 2; callbacks only change widget values (nothing is printed).

Each widget is shown with a static copy of its current state (HTML, and one stable line of
text): chapters are stored without widget state, so a viewer without a kernel (GitHub,
nbviewer, the website) shows that copy instead of a raw widget repr.
"""

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


class Readable:
    """A widget box displayed with a static HTML copy of its current state."""

    def __init__(self, box, label, static):
        self.box, self.label, self._static = box, label, static

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.box._repr_mimebundle_(**kwargs)
        # stored in the chapter and compared by nbval: keep the text line stable
        bundle["text/plain"] = self.label
        bundle["text/html"] = (f'<div class="lenet-static-widget"><p><b>{escape(self.label)}'
                               f'</b> (run the notebook to move the controls)</p>'
                               f"{self._static()}</div>")
        return bundle


def _settings(controls):
    """'image side (pixels) 1000, channels 3, …' from the controls' descriptions and values."""
    return ", ".join(f"{c.description} {c.value}" for c in controls)


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

    controls = [side, channels, hidden, dtype]
    _wire(controls, update)
    return Readable(widgets.VBox(controls + [result]), "Dense layer against a 5×5 convolution",
                    lambda: f"<p>{escape(_settings(controls))}</p>{result.value}")


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

    controls = [in_size, padding, kernel, pooling]
    _wire(controls, update)
    return Readable(widgets.VBox(controls + [message, table]), "LeNet's shapes for other sizes",
                    lambda: f"<p>{escape(_settings(controls))}</p>{message.value}{table.value}")

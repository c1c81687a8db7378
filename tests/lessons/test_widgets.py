from html import unescape

import ipywidgets as widgets

from lenet_nb.lessons import fc_limits, shapes
from lenet_nb.lessons.widgets import dense_vs_conv_widget, pre, shape_widget


def test_pre_escapes_html():
    assert pre("a < b & c") == "<pre>a &lt; b &amp; c</pre>"


def test_dense_vs_conv_widget_starts_on_the_seed_example_and_follows_sliders(capsys):
    box = dense_vs_conv_widget().box
    side, channels, hidden, dtype, result = box.children
    assert isinstance(dtype, widgets.Dropdown) and "lenet-fc-result" in result._dom_classes
    assert "3.07 GB (2.86 GiB) in float32" in result.value
    side.value, channels.value, hidden.value, dtype.value = 28, 1, 6, "float64"
    assert result.value == pre(fc_limits.format_dense_vs_conv(28, 1, 6, "float64"))
    assert capsys.readouterr().out == ""  # callbacks change widgets, they never print


def test_shape_widget_shows_table_then_a_plain_message_for_a_collapse(capsys):
    box = shape_widget().box
    in_size, padding, kernel, pooling, message, table = box.children
    assert "lenet-shape-message" in message._dom_classes
    assert "lenet-shape-kernel" in kernel._dom_classes
    assert "This network fits: 61,706 parameters." in message.value
    assert "[1, 16, 5, 5]" in table.value
    # three steps of 2 to the right: kernel 11 empties S4 (the browser test does the same)
    kernel.value = kernel.value + 3 * kernel.step
    assert kernel.value == 11
    assert table.value == ""
    expected = shapes.shape_report(kernel_size=11)[2]
    assert unescape(message.value) == f"<b>⚠ {expected}</b>"
    assert "feature map reaching S4 is too small" in message.value
    kernel.value = 5
    in_size.value, padding.value = 32, 0
    assert "61,706 parameters" in message.value and "[1, 6, 28, 28]" in table.value
    assert capsys.readouterr().out == ""


def test_both_widgets_show_a_static_copy_of_their_current_state():
    view = dense_vs_conv_widget()
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "Dense layer against a 5×5 convolution"
    html = unescape(bundle["text/html"])
    assert "image side (pixels) 1000, channels 3" in html and "dtype float32" in html
    assert "768,000,256 parameters" in html and "run the notebook" in html
    view.box.children[0].value = 28
    assert "dense 2,352 -> 256" in unescape(view._repr_mimebundle_()["text/html"])

    shape_view = shape_widget()
    html = unescape(shape_view._repr_mimebundle_()["text/html"])
    assert "input size 28, padding (C1) 2, kernel size (C1, C3) 5, pooling avg" in html
    assert "61,706 parameters" in html and "[1, 16, 5, 5]" in html
    shape_view.box.children[2].value = 11
    html = unescape(shape_view._repr_mimebundle_()["text/html"])
    assert "⚠" in html and "[1, 16, 5, 5]" not in html

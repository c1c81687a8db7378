"""lenet_nb.lessons.drawpad: stroke rendering, the pictures and bars it shows, the pad's messages
from the browser (ink, Clear, uploads), thread safety, and the receptive-field picker."""

import base64
import io
import re
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from lenet_nb.lenet5 import LeNet5
from lenet_nb.lessons import draw, drawpad
from lenet_nb.lessons.images import read_image
from lenet_nb.models import get_model

ONE = [[(140, 40), (140, 120), (140, 240)]]  # a vertical stroke
ZERO = [[(140 + 70 * np.sin(t), 140 - 100 * np.cos(t)) for t in np.linspace(0, 6.3, 40)]]


@pytest.fixture
def nets():
    torch.manual_seed(0)
    return LeNet5().eval(), get_model("d2l").eval()


@pytest.fixture
def pad(nets):
    return drawpad.DrawPad(*nets)


def png_bytes(array, mode=None):
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, "PNG")
    return buffer.getvalue()


def data_url(strokes):
    """What the browser sends when a stroke ends: the canvas as a PNG data URL."""
    rgba = drawpad.render_strokes(strokes)
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgba, "RGBA")).decode()


def message(pad, **content):
    pad._message(None, content, content.pop("buffers", []))


def test_a_pad_given_its_networks_swapped_says_so_when_built(nets):  # H37, before any callback
    with pytest.raises(TypeError, match="swapped"):
        drawpad.DrawPad(nets[1], nets[0])


def test_render_strokes_paints_round_antialiased_strokes_on_transparent():
    rgba = drawpad.render_strokes([(10, [(20, 30), (60, 30)])], size=80)
    assert rgba.shape == (80, 80, 4) and rgba.dtype == np.uint8
    alpha = rgba[..., 3]
    assert alpha[29, 40] == 255 and alpha[50, 40] == 0 and (rgba[..., :3] == 0).all()
    assert alpha[29, 16] == 255 and alpha[29, 63] == 255  # round caps reach past the ends
    assert alpha[29, 70] == 0
    # a canvas point is continuous: a 10-px pen on y = 30 covers pixels 25-34, as in a browser
    assert np.flatnonzero(alpha[:, 40]).tolist() == list(range(25, 35))
    odd = drawpad.render_strokes([(9, [(20, 30), (60, 30)])], size=80)[:, 40, 3]
    assert odd[26:34].tolist() == [255] * 8 and odd[25] == odd[34] == 128  # soft edges


def test_png_mosaic_and_grey_levels():
    maps = torch.arange(8.0).view(2, 2, 2)
    tiled = drawpad.mosaic(maps, cols=2, gap=1, fill=-1)
    assert tiled.shape == (2, 5)
    assert tiled[:, 2].tolist() == [-1, -1] and tiled[1, 4] == 7
    image = Image.open(io.BytesIO(drawpad.png(np.eye(3), scale=4)))
    assert image.size == (12, 12) and image.getpixel((0, 0)) == 255 and image.getpixel((4, 0)) == 0
    assert drawpad.map_grey(torch.tensor([-drawpad.SQUASH, 0, drawpad.SQUASH])).tolist() == \
        [0.0, 0.5, 1.0]


def bar_widths(html, css):
    return [float(w) for w in re.findall(
        rf'class="{css}[^"]*".*?class="bar" style="[^"]*width:([\d.]+)px', html)]


def test_the_winning_distance_bar_shows_and_is_the_one_marked():
    """LeNet-5's winner sits almost on its bitmap: 0.6 against 70-220 was drawn 0 px long."""
    d = torch.tensor([170.0, 0.6, 90.0, 220, 70, 150, 160, 180, 200, 120])
    html = drawpad.distance_bars(d)
    widths = bar_widths(html, "lenet-draw-distance")
    assert len(widths) == 10 and widths[1] == 4.0 and max(widths) == 140.0
    assert html.count('class="lenet-draw-distance best"') == 1
    best_row = re.search(r'<div class="lenet-draw-distance best".*?</div>', html).group()
    assert ">1<" in best_row and "0.6" in best_row and drawpad.BLUE in best_row
    top = drawpad.top3_bars([(1, 0.9), (7, 0.05), (4, 0.001)])
    assert "90.0 %" in top and top.count("lenet-draw-prob") == 3
    assert bar_widths(top, "lenet-draw-prob") == [126.0, 7.0, 4.0]


def test_an_empty_pad_asks_for_a_digit_and_shows_no_picture(pad):
    assert pad.reading is None and pad.verdict.value == "Draw a digit in the box."
    assert {w.layout.display for w in (pad.inputs, pad.c1, pad.c3, *pad.captions)} == {"none"}
    assert repr(pad) == "DrawPad(280x280 canvas, 0 stroke(s))"
    bundle = pad._repr_mimebundle_()
    assert bundle["text/plain"] == repr(pad) and "lenet-draw-static" in bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "InkCanvas(280x280, 0 stroke(s))" == repr(pad.canvas)


def test_a_stroke_from_the_browser_is_read_through_the_image_reader(pad, capsys):
    pad.canvas.strokes = [[18, [list(p) for p in ONE[0]]]]  # what the browser syncs first
    message(pad, kind="ink", serial=1, url=data_url([(18, ONE[0])]))
    expected = draw.read(drawpad.render_strokes([(18, ONE[0])]), pad.lenet5, pad.d2l)
    assert torch.equal(pad.reading.X, expected.X)
    assert torch.equal(pad.reading.distances, expected.distances)
    assert pad.verdict.value.startswith(f"LeNet-5 reads <b>{expected.lenet5_digit}</b>")
    assert bytes(pad.inputs.value).startswith(b"\x89PNG") and pad.c1.value and pad.c3.value
    assert {w.layout.display for w in (pad.inputs, pad.c1, pad.c3)} == {None}
    assert pad.canvas.read_serial == 1 and repr(pad).endswith("1 stroke(s))")
    assert capsys.readouterr() == ("", "")  # callbacks change widgets, they never print
    message(pad, kind="clear", serial=2)
    assert pad.reading is None and pad.canvas.read_serial == 2 and pad.strokes == []


def test_python_drawing_equals_the_browser_path(pad):
    pad.draw(ZERO)
    assert pad.strokes == [[drawpad.PEN, [[float(x), float(y)] for x, y in ZERO[0]]]]
    mine = pad.reading.X
    pad.clear()
    message(pad, kind="ink", serial=1, url=data_url([(drawpad.PEN, ZERO[0])]))
    assert torch.equal(pad.reading.X, mine)
    one = pad.clear() or pad.draw(ONE, pen=30).reading.X
    assert pad.strokes[0][0] == 30
    assert mine[0, 0, 14, 14] < 0.2 < float(one[0, 0, 10:18, 13:16].mean())


def test_the_pad_reads_with_its_own_copies_of_the_networks(nets):
    lenet5, d2l = nets
    pad = drawpad.DrawPad(lenet5, d2l)
    assert pad.lenet5 is not lenet5 and pad.d2l is not d2l
    before = pad.draw(ONE).reading.distances
    with torch.no_grad():  # the learner goes on training the network in a cell
        for p in lenet5.parameters():
            p.add_(1.0)
    assert torch.equal(pad.clear() or pad.draw(ONE).reading.distances, before)
    pad.use(lenet5, d2l)
    assert not torch.equal(pad.clear() or pad.draw(ONE).reading.distances, before)


def test_readings_on_another_thread_never_see_a_cell_forward_pass(pad, nets):
    """The old pad hooked the shared LeNet-5: a cell's forward pass filled the pad's maps."""
    lenet5, _ = nets
    expected = pad.draw(ONE).reading.maps["C1"].clone()
    url, stop, wrong = data_url([(drawpad.PEN, ONE[0])]), threading.Event(), []

    def reader():
        for k in range(30):
            message(pad, kind="ink", serial=k + 1, url=url)
            wrong.append(not torch.equal(pad.reading.maps["C1"], expected))
        stop.set()

    thread = threading.Thread(target=reader)
    thread.start()
    batch = torch.rand(64, 1, 32, 32)
    with torch.no_grad():
        while not stop.is_set():
            lenet5(batch)  # what a cell does with the learner's network meanwhile
    thread.join()
    assert len(wrong) == 30 and not any(wrong)


def test_an_upload_is_read_shown_under_the_ink_and_back_after_clear(pad):
    """Issue 19 item 3 (I23): the same file again after Clear did nothing."""
    grey = np.full((60, 100), 255, np.uint8)
    grey[5:55, 45:55] = 0  # a dark bar on white paper, smaller than the canvas
    content = png_bytes(grey)
    for serial in (1, 3):
        message(pad, kind="upload", serial=serial, name="one.png", bytes=len(content),
                buffers=[memoryview(content)])
        assert pad.reading is not None and pad.strokes == []
        assert "read as: PNG image (grey), dark ink on a light background" in pad.canvas.status
        shown = Image.open(io.BytesIO(pad.canvas.background))
        assert shown.mode == "RGBA" and np.asarray(shown)[..., 3].max() == 255
        message(pad, kind="clear", serial=serial + 1)
        assert pad.canvas.background == b"" and pad.reading is None and pad.background is None


def test_strokes_add_to_an_uploaded_picture(pad):
    grey = np.full((280, 280), 255, np.uint8)
    grey[40:240, 130:150] = 0
    message(pad, kind="upload", serial=1, name="one.png", bytes=1, buffers=[png_bytes(grey)])
    alone = pad.reading.X
    message(pad, kind="ink", serial=2, url=data_url([(18, [(60, 60), (220, 60)])]))
    assert pad.reading is not None and not torch.equal(pad.reading.X, alone)


@pytest.mark.parametrize(("name", "content", "words"), [
    ("notes.txt", b"hello", "Could not read notes.txt: notes.txt is not an image file"),  # I21
    ("empty.png", b"", "empty.png is empty (0 bytes)"),  # I22
    ("dot.png", None, "dot.png is 1×1 pixels: too small to hold a digit"),  # H34
    ("huge.png", "no buffer", "huge.png is 25.0 MB, more than the 20 MB"),
])
def test_uploads_that_cannot_be_read_are_named_in_words(pad, name, content, words):
    buffers = [] if content == "no buffer" else [content if content is not None
                                                 else png_bytes(np.zeros((1, 1), np.uint8))]
    message(pad, kind="upload", serial=1, name=name, bytes=25_000_000, buffers=buffers)
    assert words.replace("'", "&#x27;") in pad.verdict.value
    assert "BytesIO" not in pad.verdict.value and pad.canvas.read_serial == 1


def test_a_bold_drawing_more_than_half_inked_is_read(pad):
    """I16: pen 40, the canvas mostly ink: "the image is empty" before."""
    pad.draw([[(30 + 10 * k, 20 + 9 * j) for k in range(24)] for j in range(0, 28, 3)], pen=40)
    assert pad.reading is not None


def test_the_reader_sees_what_the_pad_sent(pad):
    url = data_url([(18, ONE[0])])
    ink = read_image(url).ink
    assert ink.shape == (280, 280) and read_image(url).background == "transparent"


def test_png_with_box_outlines_the_box():
    image = Image.open(io.BytesIO(drawpad.png_with_box(np.ones((4, 4)), (1, 1, 3, 3), scale=5)))
    assert image.size == (20, 20)
    assert image.getpixel((5, 10)) == (214, 39, 40) and image.getpixel((10, 10)) == (255,) * 3


def test_receptive_field_picker_follows_the_chosen_unit():
    torch.manual_seed(0)
    net, X = LeNet5(), torch.rand(1, 1, 32, 32)
    text = drawpad.receptive_field_text(net, X, "C3", 2, 1, 3)
    assert text == ("C3 map 2, unit (1, 3) reads input rows 2-15 and columns 6-19: 14x14 "
                    "pixels; the pixels with a non-zero gradient fill the same box: True")
    picker = drawpad.receptive_field_picker(net, X)
    assert picker.net is not net  # its callbacks hook a copy, never the learner's network
    picker.row.value, picker.col.value = 9, 9
    assert "unit (9, 9) reads input rows 18-31" in picker.info.value
    picker.layer.value = "C5"  # a 1x1 grid: the unit sliders are clamped to 0
    assert (picker.row.value, picker.col.value, picker.row.max, picker.channel.max) == \
        (0, 0, 0, 119)
    assert "rows 0-31 and columns 0-31: 32x32 pixels" in picker.info.value
    assert "True" in picker.info.value and repr(picker) == "FieldPicker(C5 map 0, unit (0, 0))"


def test_the_picker_reads_without_a_kernel():
    """Issue 18 item 7: a static viewer showed `VBox(children=(HBox(children=(Dropdown(...`."""
    X = torch.zeros(1, 1, 32, 32)
    bundle = drawpad.receptive_field_picker(LeNet5(), X)._repr_mimebundle_()
    html = bundle["text/html"]
    assert html.count("<img src='data:image/png;base64,") == 3
    for line in ("C1 unit (12, 12) reads input rows 12-16 and columns 12-16: 5x5 pixels",
                 "C3 unit (4, 4) reads input rows 8-21 and columns 8-21: 14x14 pixels",
                 "C5 unit (0, 0) reads input rows 0-31 and columns 0-31: 32x32 pixels"):
        assert line in html
    assert "VBox" not in bundle["text/plain"] and len(html) < 20_000

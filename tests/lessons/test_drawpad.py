"""lenet_nb.lessons.drawpad: stroke rendering, the pictures it shows, the pad's event handling."""

import io
from datetime import UTC, datetime

import numpy as np
import pytest
import torch
from PIL import Image

from lenet_nb.lenet5 import LeNet5
from lenet_nb.lessons import draw, drawpad
from lenet_nb.models import get_model

ONE = [[(140, 40), (140, 120), (140, 240)]]  # a vertical stroke
ZERO = [[(140 + 70 * np.sin(t), 140 - 100 * np.cos(t)) for t in np.linspace(0, 6.3, 40)]]


@pytest.fixture
def pad():
    torch.manual_seed(0)
    return drawpad.DrawPad(LeNet5().eval(), get_model("d2l").eval())


def test_render_strokes_draws_black_round_strokes_on_transparent():
    rgba = drawpad.render_strokes([(10, [(20, 30), (60, 30)])], size=80)
    assert rgba.shape == (80, 80, 4) and rgba.dtype == np.uint8
    alpha = rgba[..., 3]
    assert alpha[30, 40] == 255 and alpha[30, 40 + 0] == 255 and alpha[50, 40] == 0
    assert alpha[30, 16] == 255 and alpha[30, 64] == 255  # round caps reach past the ends
    assert alpha[30, 70] == 0 and (rgba[..., :3] == 0).all()
    rows = np.flatnonzero(alpha[:, 40])
    assert 9 <= len(rows) <= 11  # the pen's width
    dot = drawpad.render_strokes([(8, [(40, 40)])], size=80)[..., 3]
    assert dot[40, 40] == 255 and dot[40, 48] == 0


def test_png_mosaic_and_grey_levels():
    maps = torch.arange(8.0).view(2, 2, 2)
    tiled = drawpad.mosaic(maps, cols=2, gap=1, fill=-1)
    assert tiled.shape == (2, 5)
    assert tiled[:, 2].tolist() == [-1, -1] and tiled[1, 4] == 7
    image = Image.open(io.BytesIO(drawpad.png(np.eye(3), scale=4)))
    assert image.size == (12, 12) and image.getpixel((0, 0)) == 255 and image.getpixel((4, 0)) == 0
    assert drawpad.map_grey(torch.tensor([-drawpad.SQUASH, 0, drawpad.SQUASH])).tolist() == \
        [0.0, 0.5, 1.0]


def test_bars_mark_the_answer():
    d = torch.tensor([9.0, 2.0, 5.0, 7, 7, 7, 7, 7, 7, 7])
    html = drawpad.distance_bars(d)
    assert html.count('class="lenet-draw-distance"') == 10
    assert html.count(drawpad.BLUE) == 1 and "2.0" in html
    top = drawpad.top3_bars([(1, 0.9), (7, 0.05), (4, 0.01)])
    assert "90.0 %" in top and top.count("lenet-draw-prob") == 3


def test_an_empty_pad_asks_for_a_digit(pad):
    assert pad.reading is None and "Draw a digit" in pad.verdict.value
    assert bytes(pad.inputs.value) == b"" and repr(pad) == "DrawPad(280x280 canvas, 0 stroke(s))"


def test_each_finished_stroke_is_read_by_both_networks(pad, capsys):
    pad.draw(ONE)
    assert len(pad.strokes) == 1 and pad.reading is not None
    expected = draw.read(drawpad.render_strokes(pad.strokes), pad.lenet5, pad.d2l)
    assert torch.equal(pad.reading.X, expected.X)
    assert torch.equal(pad.reading.distances, expected.distances)
    assert pad.verdict.value.startswith(f"LeNet-5 reads <b>{expected.lenet5_digit}</b>")
    assert bytes(pad.inputs.value).startswith(b"\x89PNG") and pad.c1.value and pad.c3.value
    assert "lenet-draw-distance" in pad.bars.value
    assert capsys.readouterr() == ("", "")  # callbacks change widgets, they never print
    pad.clear()
    assert pad.strokes == [] and pad.reading is None and "Draw a digit" in pad.verdict.value


def test_mouse_and_touch_events_from_the_browser(pad):
    send = pad.canvas._handle_frontend_event
    send(None, {"event": "mouse_move", "x": 10, "y": 10}, None)  # moving without a button
    assert pad._stroke is None
    send(None, {"event": "mouse_down", "x": 140, "y": 40}, None)
    send(None, {"event": "mouse_move", "x": 140, "y": 240}, None)
    assert pad.reading is None  # read only when the stroke ends
    send(None, {"event": "mouse_up", "x": 140, "y": 240}, None)
    assert pad.strokes == [(drawpad.PEN, [(140, 40), (140, 240)])] and pad.reading is not None
    pad.pen.value = 30
    touch = [{"x": 100, "y": 100}]
    send(None, {"event": "touch_start", "touches": touch}, None)
    send(None, {"event": "touch_move", "touches": [{"x": 180, "y": 100}]}, None)
    send(None, {"event": "touch_end", "touches": []}, None)
    assert pad.strokes[-1] == (30, [(100, 100), (180, 100)])
    send(None, {"event": "mouse_down", "x": 20, "y": 20}, None)
    send(None, {"event": "mouse_out", "x": 0, "y": 20}, None)  # leaving the box ends a stroke
    assert len(pad.strokes) == 3 and repr(pad).endswith("3 stroke(s))")


def upload(name, content):
    """One file as FileUpload's value holds it."""
    return {"name": name, "type": "image/png", "size": len(content),
            "content": memoryview(content), "last_modified": datetime.now(UTC)}


def test_an_uploaded_image_is_read_and_a_broken_one_reported(pad):
    image = Image.new("L", (100, 60), 255)
    image.paste(0, (45, 5, 55, 55))  # a dark bar on white paper, smaller than the canvas
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    pad.upload.value = (upload("one.png", buffer.getvalue()),)
    assert pad.reading is not None and pad.strokes == []
    assert pad.ink().shape == (280, 280) and pad.ink().max() == pytest.approx(1.0)
    pad.draw([[(20, 20), (60, 20)]])  # strokes add to the uploaded picture
    assert pad.reading is not None and len(pad.strokes) == 1
    pad.upload.value = (upload("bad.png", b"not a png"),)
    assert pad.verdict.value.startswith("Could not read bad.png")
    pad.clear()
    assert pad.background is None and pad.reading is None


def test_a_zero_and_a_one_give_different_inputs(pad):
    one = pad.draw(ONE).reading.X
    pad.clear()
    zero = pad.draw(ZERO).reading.X
    assert zero[0, 0, 14, 14] < 0.2 < float(one[0, 0, 10:18, 13:16].mean())


def test_show_reading_returns_its_axes(pad):
    pad.draw(ONE)
    axes = drawpad.show_reading(pad.reading)
    assert len(axes) == 5


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
    (layer, channel), (row, col) = picker.children[0].children, picker.children[1].children
    info = picker.children[3]
    row.value, col.value = 9, 9
    assert "unit (9, 9) reads input rows 18-31" in info.value
    layer.value = "C5"  # a 1x1 grid: the unit sliders are clamped to 0
    assert (row.value, col.value, row.max, channel.max) == (0, 0, 0, 119)
    assert "rows 0-31 and columns 0-31: 32x32 pixels" in info.value and "True" in info.value

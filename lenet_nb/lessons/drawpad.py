"""The drawing pad: ink drawn in the browser, read by LeNet-5 and the d2l LeNet when a stroke ends.

`InkCanvas` (an anywidget: drawpad.js and drawpad.css beside this file) draws the ink in the
browser, so the pen follows the pointer whatever the kernel is doing, and sends the canvas as a
PNG data URL when a stroke ends; an upload arrives as the file's bytes. Both go through the one
image reader (`lenet_nb/lessons/images.py`), then `draw.read` (`lenet_nb/lessons/draw.py`).

Callbacks may run on a thread of their own while a cell runs (JupyterLab 4.6 sends widget
messages on a kernel subshell), so the pad reads with its own copies of the networks (the maps
come from hooks, which must not fire on a cell's forward pass), never changes torch's global
settings from a callback, draws no matplotlib figure there, holds a lock while it reads and shows,
and only changes widget values (nothing is printed).
"""

import base64
import collections
import copy
import io
import threading
import time
from html import escape
from pathlib import Path

import anywidget
import ipywidgets as widgets
import numpy as np
import torch
import traitlets
from PIL import Image, ImageDraw
from torch.nn import functional as F

from lenet_nb.lessons.draw import check_readers, read
from lenet_nb.lessons.explain import (  # noqa: F401 (SQUASH: the maps' grey scale, re-exported)
    BLUE,
    GREY,
    SQUASH,
    gradient_box,
    map_grey,
    mosaic,
    receptive_field,
)
from lenet_nb.lessons.images import MAX_BYTES, EmptyDrawing, ImageRefused, fit_board, read_image

SIZE, PEN = 280, 18  # 10 canvas pixels per MNIST pixel; pen 18 gives strokes near MNIST's width
HERE = Path(__file__).resolve().parent


def render_strokes(strokes, size=SIZE, supersample=4):
    """RGBA [size, size, 4] uint8 of strokes [(width, [(x, y), ...])]: black, round ends, on a
    transparent background, anti-aliased as a browser canvas paints them."""
    k = supersample
    img = Image.new("L", (size * k, size * k), 0)
    pen = ImageDraw.Draw(img)
    for width, points in strokes:
        # a canvas point is continuous (pixel i spans [i, i + 1)) where Pillow centres pixel i
        # on i: without the half pixel, every crop would start one pixel lower than the browser's
        pts = [(x * k - 0.5, y * k - 0.5) for x, y in points]
        r = width * k / 2
        if len(pts) > 1:
            pen.line(pts, fill=255, width=round(width * k))
        for x, y in pts:  # round caps and joins, as the canvas's lineCap = "round"
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    alpha = np.asarray(img.resize((size, size), Image.BOX))
    return np.dstack([np.zeros((size, size, 3), np.uint8), alpha])


def png(gray, scale=1):
    """PNG bytes of a [H, W] array in [0, 1] (1 = white), each pixel a scale x scale block."""
    a = (np.clip(np.asarray(gray, dtype=np.float32), 0, 1) * 255).astype(np.uint8)
    img = Image.fromarray(a, "L").resize((a.shape[1] * scale, a.shape[0] * scale), Image.NEAREST)
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def _bar(label, width, text, best, css):
    """One row: label, a bar `width` px long, the value; the winner's row blue and bold."""
    colour, css = (BLUE, f"{css} best") if best else (GREY, css)
    emphasis = f"font-weight:bold;color:{BLUE};" if best else ""
    return (f'<div class="{css}" style="display:flex;align-items:center;gap:6px;'
            f'font-family:monospace;line-height:1.3;{emphasis}">'
            f'<span style="width:1.2em">{label}</span>'
            f'<span class="bar" style="display:inline-block;height:0.8em;width:{width:.1f}px;'
            f'background:{colour}"></span><span>{escape(text)}</span></div>')


def distance_bars(distances, length=140, least=4):
    """LeNet-5's ten RBF distances as bars on one linear scale, each at least `least` px long so
    that the winner (a distance near 0 beside others in the hundreds) shows, in blue."""
    d = torch.as_tensor(distances).tolist()
    best, top = int(np.argmin(d)), max(max(d), 1e-9)
    rows = [_bar(i, max(least, length * v / top), f"{v:.1f}", i == best, "lenet-draw-distance")
            for i, v in enumerate(d)]
    return "<b>LeNet-5: RBF distance (shortest bar wins)</b>" + "".join(rows)


def top3_bars(top3, length=140, least=4):
    """The d2l LeNet's three most likely digits and their probabilities, as bars."""
    rows = [_bar(d, max(least, length * p), f"{100 * p:.1f} %", n == 0, "lenet-draw-prob")
            for n, (d, p) in enumerate(top3)]
    return "<b>d2l LeNet: top 3</b>" + "".join(rows)


def verdict_html(reading):
    """One line naming both networks' answers (what a learner reads first)."""
    d, p = reading.top3[0]
    return (f"LeNet-5 reads <b>{reading.lenet5_digit}</b> &middot; d2l LeNet reads "
            f"<b>{d}</b> ({100 * p:.1f} %)")


class InkCanvas(anywidget.AnyWidget):
    """The pad's browser side: pen, Clear, upload and the ink (drawpad.js)."""

    _esm = HERE / "drawpad.js"
    _css = HERE / "drawpad.css"
    size = traitlets.Int(SIZE).tag(sync=True)
    pen = traitlets.Int(PEN).tag(sync=True)
    strokes = traitlets.List().tag(sync=True)  # [[width, [[x, y], ...]], ...], as drawn
    background = traitlets.Bytes(b"").tag(sync=True)  # PNG of an upload, as the reader saw it
    read_serial = traitlets.Int(0).tag(sync=True)  # the last message Python has finished with
    status = traitlets.Unicode("").tag(sync=True)  # how the last upload was read
    max_upload_bytes = traitlets.Int(MAX_BYTES).tag(sync=True)

    def __repr__(self):  # the default names a memory address: stored outputs must not
        return f"InkCanvas({self.size}x{self.size}, {len(self.strokes)} stroke(s))"


STATIC = ("<div class='lenet-draw-static'><b>The drawing pad</b> ({size}×{size} canvas, pen "
          "width, Clear, Upload) appears here when the notebook runs with a kernel, in "
          "JupyterLab, Notebook 7 or VS Code: LeNet-5 and the d2l LeNet read every finished "
          "stroke. The cells below show a reading without a kernel.</div>")


class DrawPad(widgets.HBox):
    """InkCanvas + what both networks read; the drawing is read each time a stroke ends."""

    def __init__(self, lenet5, d2l, size=SIZE, pen=PEN):
        self.size, self._lock = size, threading.RLock()
        self.background, self.reading = None, None  # the upload's ink [size, size], if any
        self.timings = collections.deque(maxlen=1000)  # (kind, handler ms, thread) per message
        self.use(lenet5, d2l)
        self.canvas = InkCanvas(size=size, pen=pen)
        self.verdict, self.bars = widgets.HTML(), widgets.HTML()
        self.inputs = widgets.Image(format="png")
        self.c1, self.c3 = widgets.Image(format="png"), widgets.Image(format="png")
        self.captions = (
            widgets.HTML("<small>what the networks see: 28×28 (d2l LeNet, top) and 32×32 "
                         "(LeNet-5)</small>"),
            widgets.HTML("<small>LeNet-5's C1 maps (6 × 28×28) and C3 maps (16 × 10×10); "
                         "white = +1.7, black = −1.7</small>"))
        for w, css in [(self.canvas, "lenet-draw-pad"), (self.verdict, "lenet-draw-verdict"),
                       (self.bars, "lenet-draw-bars"), (self.inputs, "lenet-draw-inputs"),
                       (self.c1, "lenet-draw-c1"), (self.c3, "lenet-draw-c3")]:
            w.add_class(css)
        self.canvas.layout = widgets.Layout(flex="none")  # the canvas never shrinks
        self.c3.layout.margin = "0 0 0 12px"
        self.bars.layout = widgets.Layout(margin="0 0 0 12px", min_width="250px",
                                          overflow="visible")
        right = widgets.VBox([self.verdict, self.captions[0],
                              widgets.HBox([self.inputs, self.bars]), self.captions[1],
                              widgets.HBox([self.c1, self.c3])],
                             layout=widgets.Layout(margin="0 0 0 16px"))
        super().__init__([self.canvas, right])
        self.add_class("lenet-draw")
        self.canvas.on_msg(self._message)
        self.show(None)

    def use(self, lenet5, d2l):
        """Read with private copies of these networks (a cell may go on using and training them)."""
        check_readers(lenet5, d2l)  # here, not in a callback where nobody would see the error
        lenet5, d2l = copy.deepcopy(lenet5).eval(), copy.deepcopy(d2l).eval()
        with self._lock:
            self.lenet5, self.d2l = lenet5, d2l

    @property
    def strokes(self):
        return self.canvas.strokes

    def __repr__(self):  # a stable text (stored outputs are compared), not the children's reprs
        return f"DrawPad({self.size}x{self.size} canvas, {len(self.strokes)} stroke(s))"

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = STATIC.format(size=self.size)  # for a viewer without a kernel
        return bundle

    # ---- messages from the browser (possibly on a thread of their own)
    def _message(self, _, content, buffers):
        start, kind = time.perf_counter(), content.get("kind")
        try:
            with self._lock:
                if kind == "ink":
                    self._read(self._canvas_ink(content.get("url", "")))
                elif kind == "clear":
                    self._clear()
                elif kind == "upload":
                    self._upload(content, buffers)
        finally:
            serial = content.get("serial")
            if isinstance(serial, int):
                self.canvas.read_serial = max(self.canvas.read_serial, serial)
            self.timings.append((kind, 1000 * (time.perf_counter() - start),
                                 threading.current_thread().name))

    def _canvas_ink(self, picture):
        """The strokes' ink [size, size] of the canvas (a PNG data URL or RGBA; zeros if empty)."""
        try:
            return read_image(picture, name="the canvas").ink
        except EmptyDrawing:
            return np.zeros((self.size, self.size), np.float32)

    def _upload(self, content, buffers):
        name = str(content.get("name") or "the file")
        try:
            if not buffers:  # refused in the browser by its size, never read
                raise ImageRefused(f"{name} is {content.get('bytes', 0) / 1e6:.1f} MB, more than "
                                   f"the {MAX_BYTES // 10**6} MB any drawing needs: save a "
                                   f"smaller copy")
            picture = read_image(bytes(buffers[0]), name=name)
        except ImageRefused as refused:  # said in the pad, never raised in a callback
            self.canvas.status = ""
            self.verdict.value = f"Could not read {escape(name)}: {escape(str(refused))}"
            return
        self.background = fit_board(picture.ink, self.size)
        rgba = np.zeros((self.size, self.size, 4), np.uint8)  # black ink, alpha = the ink
        rgba[..., 3] = np.round(self.background * 255)
        buffer = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
        self.canvas.strokes = []
        self.canvas.background = buffer.getvalue()
        self.canvas.status = f"read as: {picture.how}"
        self._read(np.zeros((self.size, self.size), np.float32))

    def _clear(self):
        # Python owns `background`: emptied here, so the same picture uploaded again is a change
        self.background, self.canvas.background, self.canvas.status = None, b"", ""
        self.canvas.strokes = []
        self.show(None)

    # ---- the same from Python (demos, tests, the scripted pen)
    def draw(self, strokes, pen=None):
        """Draw strokes [[(x, y), ...], ...] with Python's pen; every open view shows them."""
        width = int(pen or self.canvas.pen)
        with self._lock:
            self.canvas.strokes = self.canvas.strokes + [[width, [list(map(float, p))
                                                                  for p in points]]
                                                         for points in strokes]
            self._read(self._canvas_ink(render_strokes(self.canvas.strokes, self.size)))
        return self

    def clear(self):
        """Empty canvas, no upload, no reading."""
        with self._lock:
            self._clear()

    # ---- reading and showing (under the lock)
    def _read(self, strokes_ink):
        """Read the strokes over the uploaded picture, if any, and show the result."""
        ink = strokes_ink if self.background is None else np.maximum(strokes_ink, self.background)
        try:
            reading = read(ink, self.lenet5, self.d2l, ink=True)
        except EmptyDrawing:
            reading = None
        self.show(reading)

    def show(self, r):
        """Show a reading (None: an empty pad, pictures hidden, never an empty <img>)."""
        self.reading = r
        pictures = (self.inputs, self.c1, self.c3, *self.captions)
        if r is None:
            self.verdict.value = "Draw a digit in the box."
            self.bars.value = ""
            for picture in pictures:
                picture.layout.display = "none"
            return
        self.verdict.value = verdict_html(r)
        self.bars.value = distance_bars(r.distances) + top3_bars(r.top3)  # first: what is read
        x28, x32 = 1 - r.X[0, 0], 1 - F.pad(r.X, (2, 2, 2, 2))[0, 0]  # dark ink, as drawn
        self.inputs.value = png(mosaic(torch.stack([F.pad(x28, (2, 2, 2, 2), value=1.0), x32]),
                                       1, gap=4), 3)
        self.c1.value = png(mosaic(map_grey(r.maps["C1"]), 3, gap=2), 2)
        self.c3.value = png(mosaic(map_grey(r.maps["C3"]), 4, gap=2), 3)
        for picture in pictures:
            picture.layout.display = None


# ------------------------------------------------------------------ the receptive-field picker


def png_with_box(gray, box, scale=8, colour=(214, 39, 40)):
    """PNG of a [H, W] array in [0, 1] (1 = white) with box (top, left, bottom, right) outlined."""
    img = Image.open(io.BytesIO(png(gray, scale))).convert("RGB")
    top, left, bottom, right = box
    ImageDraw.Draw(img).rectangle((left * scale, top * scale, right * scale - 1,
                                   bottom * scale - 1), outline=colour, width=2)
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


# LeNet-5's unit grids: (maps, side) of the layers a learner can pick; the units shown statically
PICKABLE = {"C1": (6, 28), "C3": (16, 10), "C5": (120, 1)}
EXAMPLE_UNITS = (("C1", 12, 12), ("C3", 4, 4), ("C5", 0, 0))


def box_text(layer, i, j):
    """'C3 unit (4, 4) reads input rows 8-21 and columns 8-21: 14x14 pixels'."""
    top, left, bottom, right = receptive_field(layer, i, j)
    return (f"{layer} unit ({i}, {j}) reads input rows {top}-{bottom - 1} and columns "
            f"{left}-{right - 1}: {bottom - top}x{right - left} pixels")


def receptive_field_text(net, X, layer, channel, i, j):
    """One line: the input box a unit reads, and whether its non-zero gradients fill that box."""
    same = gradient_box(net, X, layer, channel, i, j) == receptive_field(layer, i, j)
    return (box_text(layer, i, j).replace(" unit", f" map {channel}, unit") + "; the pixels "
            f"with a non-zero gradient fill the same box: {same}")


def field_static_html(X, units=EXAMPLE_UNITS, scale=6):
    """HTML of a few units' receptive fields outlined on X [1, 1, 32, 32], for a static viewer."""
    panels = []
    for layer, i, j in units:
        data = base64.b64encode(png_with_box(1 - X[0, 0], receptive_field(layer, i, j), scale))
        panels.append(f"<figure style='margin:0 12px 0 0'><img src='data:image/png;base64,"
                      f"{data.decode()}' alt='{layer} unit ({i}, {j})'><figcaption><small>"
                      f"{escape(box_text(layer, i, j))}</small></figcaption></figure>")
    return ("<div class='lenet-rf-static'><p>The receptive-field picker (run the notebook to "
            "choose any unit of C1, C3 or C5); three units, outlined on the input:</p>"
            f"<div style='display:flex'>{''.join(panels)}</div></div>")


class FieldPicker(widgets.VBox):
    """Pick a unit of C1, C3 or C5; its receptive field is outlined on the input X [1,1,32,32]."""

    def __init__(self, net, X, scale=8):
        # a private copy: the gradient check hooks the network, which a cell may be running
        self.net, self.X = copy.deepcopy(net).eval(), X.detach().clone()
        self._lock = threading.RLock()  # clamping a slider calls _update again, inside it
        self.layer = widgets.Dropdown(options=list(PICKABLE), value="C3", description="layer")
        self.channel, self.row, self.col = (
            widgets.IntSlider(value=0, min=0, max=15, description=d, continuous_update=False)
            for d in ("map", "row", "column"))
        self.image, self.info = widgets.Image(format="png"), widgets.HTML()
        self.scale = scale
        for w, css in [(self.layer, "lenet-rf-layer"), (self.image, "lenet-rf-image"),
                       (self.info, "lenet-rf-info")]:
            w.add_class(css)
        for w in (self.layer, self.channel, self.row, self.col):
            w.observe(self._update, names="value")
        super().__init__([widgets.HBox([self.layer, self.channel]),
                          widgets.HBox([self.row, self.col]), self.image, self.info])
        self._update()

    def _update(self, *_):
        with self._lock:
            maps, side = PICKABLE[self.layer.value]
            # clamping the sliders calls back here first; read the values after it
            self.channel.max, self.row.max, self.col.max = maps - 1, side - 1, side - 1
            layer, i, j = self.layer.value, self.row.value, self.col.value
            self.image.value = png_with_box(1 - self.X[0, 0], receptive_field(layer, i, j),
                                            self.scale)
            self.info.value = escape(receptive_field_text(self.net, self.X, layer,
                                                          self.channel.value, i, j))

    def __repr__(self):
        return (f"FieldPicker({self.layer.value} map {self.channel.value}, unit "
                f"({self.row.value}, {self.col.value}))")

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = field_static_html(self.X)
        return bundle


def receptive_field_picker(net, X):
    """The receptive-field picker on X [1, 1, 32, 32] (readable without a kernel too)."""
    return FieldPicker(net, X)

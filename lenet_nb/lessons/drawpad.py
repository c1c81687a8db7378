"""The drawing pad: a canvas that LeNet-5 and the d2l LeNet read after every finished stroke.

Callbacks only change widget values (nothing is printed). The strokes are kept in Python and
rendered with Pillow, so a reading never waits for pixels from the browser and tests need none.
"""

import io
from html import escape

import ipywidgets as widgets
import numpy as np
import torch
from ipycanvas import Canvas
from PIL import Image, ImageDraw

from lenet_nb.lessons.draw import EmptyDrawing, read, to_ink
from lenet_nb.lessons.explain import gradient_box, receptive_field

SIZE, PEN = 280, 18  # 10 canvas pixels per MNIST pixel; an 18-px pen gives MNIST-like strokes
SQUASH = 1.7159  # LeNet-5's maps lie in [-1.7159, 1.7159]: shown on that fixed grey scale
BLUE, GREY = "#1f77b4", "#bbbbbb"


def render_strokes(strokes, size=SIZE):
    """RGBA array [size, size, 4]: strokes [(width, [(x, y), ...])] in black, as on the canvas."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))  # transparent, like an empty canvas
    pen = ImageDraw.Draw(img)
    for width, points in strokes:
        if len(points) > 1:
            pen.line(points, fill=(0, 0, 0, 255), width=int(width))
        r = width / 2
        for x, y in points:  # round caps and joins, as the canvas's line_cap = "round"
            pen.ellipse((x - r, y - r, x + r, y + r), fill=(0, 0, 0, 255))
    return np.asarray(img)


def png(gray, scale=1):
    """PNG bytes of a [H, W] array in [0, 1] (1 = white), each pixel a scale x scale block."""
    a = (np.clip(np.asarray(gray, dtype=np.float32), 0, 1) * 255).astype(np.uint8)
    img = Image.fromarray(a, "L")
    img = img.resize((a.shape[1] * scale, a.shape[0] * scale), Image.NEAREST)
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def mosaic(maps, cols, gap=1, fill=1.0):
    """Tile maps [K, h, w] into one array, `cols` per row, separated by `gap` px of `fill`."""
    maps = torch.as_tensor(maps)
    k, h, w = maps.shape
    rows = -(-k // cols)
    out = torch.full((rows * (h + gap) - gap, cols * (w + gap) - gap), fill)
    for n in range(k):
        r, c = divmod(n, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = maps[n]
    return out.numpy()


def map_grey(maps):
    """LeNet-5 maps to grey levels: -1.7159 black, +1.7159 white."""
    return (torch.as_tensor(maps) + SQUASH) / (2 * SQUASH)


def _bar(label, width, text, best, css):
    colour = BLUE if best else GREY
    return (f'<div class="{css}" style="display:flex;align-items:center;gap:6px;'
            f'font-family:monospace;line-height:1.3">'
            f'<span style="width:1.2em">{label}</span>'
            f'<span style="display:inline-block;height:0.8em;width:{width:.0f}px;'
            f'background:{colour}"></span><span>{escape(text)}</span></div>')


def distance_bars(distances, length=140):
    """HTML bar chart of LeNet-5's ten RBF distances; the smallest (the answer) in blue."""
    d = torch.as_tensor(distances).tolist()
    best, top = int(np.argmin(d)), max(max(d), 1e-9)
    rows = [_bar(i, length * v / top, f"{v:.1f}", i == best, "lenet-draw-distance")
            for i, v in enumerate(d)]
    return "<b>LeNet-5: RBF distance (smallest wins)</b>" + "".join(rows)


def top3_bars(top3, length=140):
    """HTML bars of the d2l LeNet's three most likely digits and their probabilities."""
    rows = [_bar(d, length * p, f"{100 * p:.1f} %", n == 0, "lenet-draw-prob")
            for n, (d, p) in enumerate(top3)]
    return "<b>d2l LeNet: top 3</b>" + "".join(rows)


def verdict_html(reading):
    """One line naming both networks' answers (what a learner reads first)."""
    d, p = reading.top3[0]
    return (f"LeNet-5 reads <b>{reading.lenet5_digit}</b> &middot; d2l LeNet reads "
            f"<b>{d}</b> ({100 * p:.1f} %)")


class DrawPad(widgets.VBox):
    """Canvas + pen width + Clear + upload; both networks read the drawing after each stroke."""

    def __init__(self, lenet5, d2l, size=SIZE, pen=PEN):
        self.lenet5, self.d2l, self.size = lenet5, d2l, size
        self.strokes, self.background, self.reading = [], None, None
        self._stroke = None  # the stroke being drawn: (width, points)
        self.canvas = Canvas(width=size, height=size,
                             layout=widgets.Layout(width=f"{size}px", height=f"{size}px",
                                                   border="1px solid #888", flex="none"))
        self.pen = widgets.IntSlider(value=pen, min=4, max=40, description="pen width",
                                     continuous_update=False)
        self.clear_button = widgets.Button(description="Clear", icon="eraser")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False,
                                         description="Upload image")
        self.verdict = widgets.HTML()
        self.inputs = widgets.Image(format="png")
        self.bars = widgets.HTML()
        self.c1, self.c3 = widgets.Image(format="png"), widgets.Image(format="png")
        for w, css in [(self.canvas, "lenet-draw-canvas"),
                       (self.pen, "lenet-draw-pen"), (self.clear_button, "lenet-draw-clear"),
                       (self.upload, "lenet-draw-upload"), (self.verdict, "lenet-draw-verdict"),
                       (self.bars, "lenet-draw-bars"), (self.c1, "lenet-draw-c1"),
                       (self.c3, "lenet-draw-c3"), (self.inputs, "lenet-draw-inputs")]:
            w.add_class(css)
        caption = widgets.HTML("<small>what the networks see: 28×28 (d2l LeNet) and 32×32 "
                               "(LeNet-5)</small>")
        maps = widgets.HTML("<small>LeNet-5's C1 maps (6 × 28×28) and C3 maps (16 × 10×10); "
                            "white = +1.7, black = −1.7</small>")
        right = widgets.VBox([self.verdict, caption, self.inputs, self.bars],
                             layout=widgets.Layout(margin="0 0 0 16px"))
        super().__init__([
            widgets.HBox([self.pen, self.clear_button, self.upload]),
            widgets.HBox([self.canvas, right]), maps, widgets.HBox([self.c1, self.c3])])
        self.c3.layout.margin = "0 0 0 16px"
        self.add_class("lenet-draw")
        self.canvas.on_mouse_down(self._down)
        self.canvas.on_mouse_move(self._move)
        self.canvas.on_mouse_up(self._up)
        self.canvas.on_mouse_out(self._up)  # leaving the box ends the stroke
        self.canvas.on_touch_start(lambda touches: self._down(*touches[0]))
        self.canvas.on_touch_move(lambda touches: self._move(*touches[0]))
        self.canvas.on_touch_end(self._up)
        self.canvas.on_touch_cancel(self._up)
        self.canvas.on_client_ready(self._repaint)  # a new view starts blank: draw it all again
        self.clear_button.on_click(lambda _: self.clear())
        self.upload.observe(self._uploaded, names="value")
        self._repaint()
        self.update()

    def __repr__(self):
        # a stable text form (stored outputs are compared), not the children's image bytes
        return f"DrawPad({self.size}x{self.size} canvas, {len(self.strokes)} stroke(s))"

    # ---- the canvas: strokes are drawn at once in the browser, read when the stroke ends
    def _paint_style(self):
        self.canvas.stroke_style = self.canvas.fill_style = "black"
        self.canvas.line_cap = self.canvas.line_join = "round"

    def _repaint(self, *_):
        self.canvas.clear()
        self.canvas.fill_style = "white"
        self.canvas.fill_rect(0, 0, self.size, self.size)
        if self.background is not None:
            self.canvas.put_image_data(self._background_rgb, 0, 0)
        self._paint_style()
        for width, points in self.strokes:
            self.canvas.line_width = width
            self.canvas.fill_circle(*points[0], width / 2)
            if len(points) > 1:
                self.canvas.stroke_lines(points)

    def _down(self, x, y):
        self._stroke = (self.pen.value, [(x, y)])
        self._paint_style()
        self.canvas.line_width = self.pen.value
        self.canvas.fill_circle(x, y, self.pen.value / 2)

    def _move(self, x, y):
        if self._stroke is None:
            return
        points = self._stroke[1]
        self.canvas.stroke_line(*points[-1], x, y)
        points.append((x, y))

    def _up(self, *_):
        if self._stroke is None:
            return
        self.strokes.append(self._stroke)
        self._stroke = None
        self.update()

    def draw(self, strokes):
        """Draw strokes [[(x, y), ...], ...] as the mouse would (for demos and tests)."""
        for points in strokes:
            self._down(*points[0])
            for x, y in points[1:]:
                self._move(x, y)
            self._up()
        return self

    def clear(self):
        """Empty canvas, no reading."""
        self.strokes, self.background, self._stroke = [], None, None
        self._repaint()
        self.update()

    def _uploaded(self, change):
        files = change["new"]
        if not files:
            return
        try:
            img = Image.open(io.BytesIO(bytes(files[0]["content"]))).convert("RGBA")
        except Exception as error:  # not an image: say so in the pad, do not raise in a callback
            self.verdict.value = f"Could not read {escape(files[0]['name'])}: {escape(str(error))}"
            return
        img.thumbnail((self.size, self.size))  # fit the canvas, keep the aspect ratio
        board = Image.new("RGBA", (self.size, self.size), (0, 0, 0, 0))
        board.paste(img, ((self.size - img.width) // 2, (self.size - img.height) // 2))
        self.strokes, self.background = [], to_ink(np.asarray(board))
        white = Image.new("RGBA", board.size, (255, 255, 255, 255))
        self._background_rgb = np.asarray(Image.alpha_composite(white, board).convert("RGB"))
        self._repaint()
        self.update()

    # ---- reading
    def ink(self):
        """The drawing as ink [size, size] in [0, 1]: strokes over the uploaded image, if any."""
        ink = to_ink(render_strokes(self.strokes, self.size))
        return ink if self.background is None else np.maximum(ink, self.background)

    def update(self):
        """Read the drawing with both networks and show the result."""
        try:
            if not self.strokes and self.background is None:
                raise EmptyDrawing("the canvas is empty")
            self.reading = read(self.ink(), self.lenet5, self.d2l, ink=True)
        except EmptyDrawing as empty:
            self.reading = None
            self.verdict.value = f"Draw a digit in the box ({escape(str(empty))})."
            self.bars.value = ""
            for image in (self.inputs, self.c1, self.c3):
                image.value = b""
            return
        r = self.reading
        self.verdict.value = verdict_html(r)
        x28 = 1 - r.X[0, 0]  # dark ink on white, as drawn
        x32 = 1 - torch.nn.functional.pad(r.X, (2, 2, 2, 2))[0, 0]
        self.inputs.value = png(mosaic(torch.stack([torch.nn.functional.pad(x28, (2, 2, 2, 2),
                                                                             value=1.0), x32]),
                                       2, gap=4), 3)
        self.bars.value = distance_bars(r.distances) + top3_bars(r.top3)
        self.c1.value = png(mosaic(map_grey(r.maps["C1"]), 3, gap=2), 2)
        self.c3.value = png(mosaic(map_grey(r.maps["C3"]), 8, gap=2), 4)


def show_reading(reading, fig=None):
    """Static figure of a reading: input, LeNet-5's distances, d2l's top 3, C1 and C3 maps."""
    import matplotlib.pyplot as plt

    fig = fig or plt.figure(figsize=(9, 4.2))
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 1.1])
    ax_in, ax_d, ax_p = (fig.add_subplot(grid[0, i]) for i in range(3))
    ax_in.imshow(reading.X[0, 0].numpy(), cmap="gray_r")
    ax_in.set_title("input (28×28)", fontsize=9)
    ax_in.axis("off")
    d = reading.distances.tolist()
    best = reading.lenet5_digit
    ax_d.barh(range(10), d, color=[BLUE if i == best else GREY for i in range(10)])
    ax_d.set(yticks=range(10), title="LeNet-5 RBF distances")
    ax_d.invert_yaxis()
    top = reading.top3
    ax_p.barh(range(3), [100 * p for _, p in top], color=[BLUE, GREY, GREY])
    ax_p.set(yticks=range(3), yticklabels=[str(d) for d, _ in top], xlim=(0, 100),
             title="d2l LeNet top 3 (%)")
    ax_p.invert_yaxis()
    for k, (name, cols) in enumerate([("C1", 3), ("C3", 8)]):
        ax = fig.add_subplot(grid[1, 0:2] if k else grid[1, 2])
        ax.imshow(mosaic(map_grey(reading.maps[name]), cols, gap=1), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"LeNet-5 {name} maps", fontsize=9)
        ax.axis("off")
    for ax in (ax_d, ax_p):
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig.axes


def png_with_box(gray, box, scale=8, colour=(214, 39, 40)):
    """PNG of a [H, W] array in [0, 1] (1 = white) with box (top, left, bottom, right) outlined."""
    img = Image.open(io.BytesIO(png(gray, scale))).convert("RGB")
    top, left, bottom, right = box
    ImageDraw.Draw(img).rectangle((left * scale, top * scale, right * scale - 1,
                                   bottom * scale - 1), outline=colour, width=2)
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


# LeNet-5's unit grids: (maps, side) of the layers a learner can pick
PICKABLE = {"C1": (6, 28), "C3": (16, 10), "C5": (120, 1)}


def receptive_field_text(net, X, layer, channel, i, j):
    """One line: the input box a unit reads, and whether its non-zero gradients fill that box."""
    top, left, bottom, right = box = receptive_field(layer, i, j)
    same = gradient_box(net, X, layer, channel, i, j) == box
    return (f"{layer} map {channel}, unit ({i}, {j}) reads input rows {top}-{bottom - 1} and "
            f"columns {left}-{right - 1}: {bottom - top}x{right - left} pixels; the pixels with "
            f"a non-zero gradient fill the same box: {same}")


def receptive_field_picker(net, X, scale=8):
    """Pick a unit of C1, C3 or C5: its receptive field is outlined on the input X [1,1,32,32]."""
    layer = widgets.Dropdown(options=list(PICKABLE), value="C3", description="layer")
    channel, row, col = (widgets.IntSlider(value=0, min=0, max=15, description=d,
                                           continuous_update=False)
                         for d in ("map", "row", "column"))
    image, info = widgets.Image(format="png"), widgets.HTML()
    for w, css in [(layer, "lenet-rf-layer"), (image, "lenet-rf-image"), (info, "lenet-rf-info")]:
        w.add_class(css)

    def update(*_):
        maps, side = PICKABLE[layer.value]
        channel.max, row.max, col.max = maps - 1, side - 1, side - 1  # clamps the values
        box = receptive_field(layer.value, row.value, col.value)
        image.value = png_with_box(1 - X[0, 0], box, scale)
        info.value = escape(receptive_field_text(net, X, layer.value, channel.value, row.value,
                                                 col.value))

    for w in (layer, channel, row, col):
        w.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([layer, channel]), widgets.HBox([row, col]), image, info])

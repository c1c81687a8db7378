"""Latency of one reading of a drawing (chapter 7): preprocess + LeNet-5 + d2l LeNet + maps.

Also times the drawing pad's whole handler for a finished stroke: the canvas as the browser
sends it (a PNG data URL) decoded by the image reader, read, and shown (pictures and bars).
Prints the median and the 95th percentile over N readings after a warm-up, and the machine's
load average, since other jobs on a shared machine slow every number down.

Run: .venv/bin/python benchmarks/draw_latency.py [--n 200]
(loads the trained networks from checkpoints/draw/, or trains them first)
"""

import base64
import io
import os
import statistics
import time

import numpy as np
from PIL import Image

from lenet_nb import cli
from lenet_nb.lessons import draw
from lenet_nb.lessons.drawpad import DrawPad, render_strokes

# a seven, a one and a four, as the pad records strokes: (pen width, points) on 280x280
DRAWINGS = [
    [(18, [(70, 60), (210, 60), (120, 240)])],
    [(18, [(150, 40), (140, 240)])],
    [(18, [(170, 40), (70, 170), (220, 170)]), (18, [(170, 40), (170, 250)])],
]


def data_url(strokes):
    """The canvas of these strokes as the browser sends it when a stroke ends."""
    buffer = io.BytesIO()
    Image.fromarray(render_strokes(strokes), "RGBA").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def timings(fn, n, warmup=10):
    """Milliseconds of n calls of fn() after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - start))
    return out


def report(name, ms):
    """One line: median and 95th percentile."""
    print(f"{name:<44} median {statistics.median(ms):6.1f} ms   "
          f"p95 {np.percentile(ms, 95):6.1f} ms   (n = {len(ms)})")


def main():
    parser = cli.parser("benchmarks/draw_latency.py", __doc__)
    parser.add_argument("--n", type=cli.whole_number(1), default=200,
                        help="timed readings per measurement")
    args = parser.parse_args()
    lenet5, _ = draw.trained("lenet5", progress=False)
    d2l, _ = draw.trained("d2l", progress=False)
    images = [render_strokes(s) for s in DRAWINGS]
    k = iter(range(10**9))

    def one_reading():
        draw.read(images[next(k) % len(images)], lenet5, d2l)

    pad = DrawPad(lenet5, d2l)
    urls = [data_url(s) for s in DRAWINGS]

    def one_stroke():  # the handler a browser "ink" message runs in the kernel
        serial = next(k)
        pad._message(pad.canvas, {"kind": "ink", "url": urls[serial % len(urls)],
                                  "serial": serial}, [])
    print(f"load average (1, 5, 15 min): {os.getloadavg()}, {os.cpu_count()} cores")
    report("read (preprocess + both networks + maps)", timings(one_reading, args.n))
    report("pad handler (decode + read + pictures + bars)", timings(one_stroke, args.n))


if __name__ == "__main__":
    main()

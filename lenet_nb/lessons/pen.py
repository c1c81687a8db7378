"""A scripted pen: digits drawn as lines and arcs at chosen pen widths, read as the pad reads them.

Chapter 7 checks that the pad's preprocessing turns *pen strokes* into digits the networks read,
not only MNIST digits blown up (draw.enlarge). Each digit 0-9 is a template of lines and
elliptic arcs in a unit box; `variant` places it on the 280x280 canvas with a seeded height,
width, slant, rotation and place, and `dataset` gives the same shapes at every pen width, so a
width changes one thing only. `pen_table` draws them with the pad's own pen
(drawpad.render_strokes), prepares them with `draw.preprocess` and lets both networks read them.
"""

import math

import numpy as np
import torch
from torch.nn import functional as F

from lenet_nb.lessons.draw import BOX, INK_LEVEL, bounding_box, preprocess
from lenet_nb.lessons.drawpad import SIZE, render_strokes
from lenet_nb.lessons.explain import predict_fn


def arc(cx, cy, rx, ry, a0, a1):
    """Points of an elliptic arc, angles in degrees (0 = right, 90 = down, as on a canvas)."""
    n = max(4, int(abs(a1 - a0) / 12))
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * k / n)),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * k / n))) for k in range(n + 1)]


# each digit: strokes in a unit box (x to the right, y down), made of lines and arcs only
TEMPLATES = {
    0: [arc(0.5, 0.5, 0.5, 0.5, -90, 270)],
    1: [[(0.35, 0.18), (0.6, 0.0), (0.6, 1.0)]],
    2: [arc(0.5, 0.27, 0.45, 0.27, 190, 360) + arc(0.5, 0.27, 0.45, 0.27, 0, 60)[1:]
        + [(0.0, 1.0), (1.0, 1.0)]],
    3: [arc(0.45, 0.26, 0.45, 0.26, -160, 90) + arc(0.45, 0.74, 0.52, 0.26, -90, 160)[1:]],
    4: [[(0.7, 0.0), (0.0, 0.68), (1.0, 0.68)], [(0.72, 0.3), (0.72, 1.0)]],
    5: [[(0.95, 0.0), (0.15, 0.0), (0.1, 0.45)] + arc(0.48, 0.7, 0.45, 0.3, -130, 160)[1:]],
    6: [[(0.85, 0.0)] + arc(0.5, 0.7, 0.42, 0.3, 215, 575)],
    7: [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
    8: [arc(0.5, 0.24, 0.4, 0.24, 90, 450), arc(0.5, 0.73, 0.48, 0.27, -90, 270)],
    9: [arc(0.45, 0.28, 0.45, 0.28, 0, 360), [(0.9, 0.28), (0.8, 1.0)]],
}
PENS = (8, 12, 18, 24, 32, 40)  # the pad's slider goes from 4 to 40
HEIGHTS = {"large": (110, 200), "small": (30, 90)}  # digit heights on the canvas (px)


def variant(digit, pen, rng, height_range, size=SIZE):
    """One scripted drawing of `digit`: strokes [(pen, [(x, y), ...])] on a size x size canvas."""
    margin = max(PENS) / 2 + 2  # the widest pen still fits: the same place at every width
    height = rng.uniform(*height_range)
    width = height * (0.25 if digit == 1 else rng.uniform(0.55, 0.8))
    slant, turn = rng.uniform(-0.25, 0.1), math.radians(rng.uniform(-8, 8))
    cx = rng.uniform(margin + 0.6 * width, size - margin - 0.6 * width)
    cy = rng.uniform(margin + 0.55 * height, size - margin - 0.55 * height)

    def place(u, v):
        x, y = (u - 0.5) * width - slant * (v - 0.5) * height, (v - 0.5) * height
        return (cx + x * math.cos(turn) - y * math.sin(turn),
                cy + x * math.sin(turn) + y * math.cos(turn))

    return [(pen, [place(u, v) for u, v in points]) for points in TEMPLATES[digit]]


def dataset(per_digit, pens=PENS, heights="large", seed=0):
    """[(digit, pen, strokes)]: `per_digit` shapes of each digit, each drawn at every pen width."""
    return [(digit, pen, variant(digit, pen, np.random.default_rng([seed, digit, k]),
                                 HEIGHTS[heights]))
            for digit in range(10) for k in range(per_digit) for pen in pens]


def ink_mass_by_digit(X, y):
    """{digit: mean total ink} of 28x28 digits X [N, 1, 28, 28] in [0, 1] (MNIST's, for scale)."""
    return {d: float(X[y == d].sum(dim=(1, 2, 3)).mean()) for d in range(10)}


def pen_table(nets, per_digit, mnist_mass, sizes=("large", "small"), pens=PENS, seed=0):
    """One row per (size, pen): the stroke width after preprocessing (median px in the 28x28),
    the ink mass against MNIST's same digit, each network's accuracy and how often they agree.

    nets: {name: (net, pad)}; every drawing goes through the pad's pen and `preprocess`.
    """
    rows = []
    for size in sizes:
        drawings = dataset(per_digit, pens, size, seed)
        canvases = [render_strokes(strokes) for _, _, strokes in drawings]
        X = torch.cat([preprocess(rgba) for rgba in canvases])
        y = torch.tensor([d for d, _, _ in drawings])
        pen_of = torch.tensor([p for _, p, _ in drawings])
        widths = torch.tensor([stroke_width(p, rgba) for (_, p, _), rgba in zip(drawings,
                                                                               canvases)])
        mass = X.sum(dim=(1, 2, 3)) / torch.tensor([mnist_mass[int(d)] for d in y])
        with torch.no_grad():
            answers = {name: predict_fn(net)(net(F.pad(X, (pad,) * 4)))
                       for name, (net, pad) in nets.items()}
        for pen in pens:
            at = pen_of == pen
            row = {"size": size, "pen": pen, "stroke": float(widths[at].median()),
                   "mass": float(mass[at].mean()), "n": int(at.sum())}
            row.update({name: float((a[at] == y[at]).float().mean())
                        for name, a in answers.items()})
            first, *others = answers.values()
            row["agree"] = float(torch.stack([first[at] == o[at] for o in others]).all(0)
                                 .float().mean()) if others else 1.0
            rows.append(row)
    return rows


def stroke_width(pen, rgba):
    """Width in the 28x28 field of strokes drawn with `pen` on the canvas `rgba`: the digit's
    box is scaled so that its longer side is 20 px, and the stroke with it."""
    top, left, bottom, right = bounding_box(rgba[..., 3] / 255, INK_LEVEL)
    return pen * BOX / max(bottom - top, right - left)


def format_pen_table(rows, names):
    """The pen table as fixed-width text: accuracies in percent."""
    head = (f"{'digits':<8}{'pen':>5}{'stroke (px)':>13}{'ink / MNIST':>13}"
            + "".join(f"{n:>12}" for n in names) + f"{'agree':>8}")
    lines = [head]
    for r in rows:
        lines.append(f"{r['size']:<8}{r['pen']:>5}{r['stroke']:>13.1f}{r['mass']:>13.2f}"
                     + "".join(f"{100 * r[n]:>11.1f}%" for n in names)
                     + f"{100 * r['agree']:>7.1f}%")
    return "\n".join(lines)


def widest_read(rows, names, at_least=0.95):
    """The widest median stroke (px) at which every network reads >= `at_least` of the digits,
    counting only strokes up to the first width where one falls below."""
    ok = None
    for r in sorted(rows, key=lambda r: r["stroke"]):
        if min(r[n] for n in names) < at_least:
            break
        ok = r["stroke"]
    return ok

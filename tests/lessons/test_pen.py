"""lenet_nb.lessons.pen: scripted digits drawn with the pad's pen, read through preprocessing."""

import numpy as np
import pytest
import torch
from torch import nn

from lenet_nb.lessons import draw, pen
from lenet_nb.lessons.drawpad import render_strokes


def test_every_scripted_digit_has_ink_inside_the_canvas():
    for size in pen.HEIGHTS:
        for digit, width, strokes in pen.dataset(2, (8, 40), size):
            rgba = render_strokes(strokes)
            assert rgba[..., 3].max() == 255, (digit, width)
            alpha = rgba[..., 3]
            assert alpha[0].max() == alpha[-1].max() == alpha[:, 0].max() == alpha[:, -1].max() == 0


def test_the_same_seed_gives_the_same_shapes_and_a_pen_changes_only_the_width():
    a, b = pen.dataset(2, seed=3), pen.dataset(2, seed=3)
    assert a == b and pen.dataset(2, seed=4) != a
    by_shape = {}
    for digit, width, strokes in a:
        points = [p for _, p in strokes]
        by_shape.setdefault((digit, str(points)), []).append(width)
    assert all(sorted(w) == list(pen.PENS) for w in by_shape.values())


def test_ink_mass_grows_strictly_with_the_pen():
    for digit in range(10):
        masses = [render_strokes(strokes)[..., 3].astype(float).sum()
                  for _, _, strokes in pen.dataset(1, pen.PENS, "large", seed=1)[
                      digit * len(pen.PENS):(digit + 1) * len(pen.PENS)]]
        assert all(a < b for a, b in zip(masses, masses[1:])), (digit, masses)


def test_pen_18_on_a_large_digit_keeps_the_box_at_20_px():
    for digit, _, strokes in pen.dataset(1, (18,), "large"):
        top, left, bottom, right = draw.bounding_box(draw.preprocess(render_strokes(strokes))[
            0, 0].numpy())
        assert max(bottom - top, right - left) == draw.BOX, digit


def test_stroke_width_is_the_pen_scaled_with_the_digit():
    strokes = [(20, [(100, 40), (100, 240)])]  # a vertical bar: box 220 tall with its caps
    assert pen.stroke_width(20, render_strokes(strokes)) == pytest.approx(20 * 20 / 220, abs=0.05)


class Always(nn.Module):
    """A 'network' that always answers the same digit."""

    def __init__(self, digit):
        super().__init__()
        self.digit = digit

    def forward(self, X):
        return nn.functional.one_hot(torch.full((len(X),), self.digit), 10).float()


def test_pen_table_counts_right_answers_and_agreement():
    mass = {d: 100.0 for d in range(10)}
    rows = pen.pen_table({"three": (Always(3), 0), "also three": (Always(3), 2),
                          "seven": (Always(7), 0)}, 1, mass, sizes=("large",), pens=(8, 40))
    assert [(r["size"], r["pen"], r["n"]) for r in rows] == [("large", 8, 10), ("large", 40, 10)]
    for r in rows:
        assert r["three"] == r["also three"] == r["seven"] == pytest.approx(0.1)
        assert r["agree"] == 0.0  # "seven" never agrees with the others
    assert rows[0]["stroke"] < rows[1]["stroke"] and rows[0]["mass"] < rows[1]["mass"]
    two = pen.pen_table({"a": (Always(3), 0), "b": (Always(3), 0)}, 1, mass, sizes=("small",),
                        pens=(12,))
    assert two[0]["agree"] == 1.0
    text = pen.format_pen_table(rows, ["three", "seven"]).splitlines()
    assert text[0].split()[:3] == ["digits", "pen", "stroke"] and len(text) == 3
    assert "10.0%" in text[1]


def test_widest_read_stops_at_the_first_failure():
    rows = [{"stroke": 1.0, "a": 1.0}, {"stroke": 3.0, "a": 0.97}, {"stroke": 5.0, "a": 0.9},
            {"stroke": 9.0, "a": 0.99}]
    assert pen.widest_read(rows, ["a"]) == 3.0
    assert pen.widest_read(rows[2:3], ["a"]) is None


def test_ink_mass_by_digit_is_the_mean_ink_per_class():
    X = torch.zeros(4, 1, 28, 28)
    X[0, 0, :2, :2], X[1, 0, :4, :4] = 1, 1
    y = torch.tensor([0, 0, 1, 1])
    mass = pen.ink_mass_by_digit(X, y)
    assert mass[0] == 10.0 and mass[1] == 0.0 and np.isnan(mass[5])

"""Answer key of chapter 7's self-check, computed from lenet_nb where it can be."""

import html

import numpy as np
import torch

from lenet_nb.lenet5 import LeNet5
from lenet_nb.lessons import draw, explain
from lenet_nb.quiz import draw_and_look_inside as quiz_draw
from lenet_nb.quiz.widget import Quiz, grade, self_check

QUESTIONS = {q.key: q for q in quiz_draw.SELF_CHECK}


def test_the_box_side_is_computed_by_preprocess():
    image = np.full((280, 280), 255, np.uint8)
    image[40:240, 100:160] = 0
    X = draw.preprocess(image)[0, 0]
    rows = (X > 0).any(1).nonzero()
    assert grade(QUESTIONS["draw-box"], int(rows[-1] - rows[0] + 1)).correct


def test_the_box_explanation_holds_under_centre_of_mass_centring():
    """The old explanation promised 'a margin of at least 4 px': false for a lopsided digit."""
    image = np.full((280, 280), 255, np.uint8)
    image[40:100, 60:220] = 0  # a heavy bar on top
    image[100:240, 135:145] = 0  # a thin stem: the centre of mass sits high
    top, left, bottom, right = draw.bounding_box(draw.preprocess(image)[0, 0].numpy())
    assert max(bottom - top, right - left) == 20
    assert min(top, left, 28 - bottom, 28 - right) < 4
    assert "closer to one border than 4 px" in QUESTIONS["draw-box"].explanation


def test_the_c3_derivation_adds_up_layer_by_layer():
    sizes = {layer: explain.receptive_field(layer, 0, 0)[2] for layer in ("C1", "S2", "C3")}
    assert sizes == {"C1": 5, "S2": 6, "C3": 14}
    assert "5 + 1 + 8 = 14" in QUESTIONS["draw-c3-field"].explanation


def test_receptive_field_widths_come_from_explain():
    top, left, bottom, right = explain.receptive_field("C3", 0, 0)
    assert grade(QUESTIONS["draw-c3-field"], bottom - top).correct
    top, left, bottom, right = explain.receptive_field("C5", 0, 0)
    assert grade(QUESTIONS["draw-c5-field"], right - left).correct


def test_c1_maps_shift_with_the_input():
    torch.manual_seed(0)
    net, X = LeNet5(), torch.zeros(1, 1, 32, 32)
    X[0, 0, 8:24, 10:14] = 1.0
    a = explain.lenet5_maps(net, X)["C1"]
    b = explain.lenet5_maps(net, explain.shift(X, 0, 2))["C1"]
    assert torch.allclose(b[..., 2:], a[..., :-2], atol=1e-6)  # moved, not unchanged
    assert not torch.allclose(a, b)
    q = QUESTIONS["draw-shift"]
    assert q.choices[q.answer].startswith("They move 2 pixels to the right")


def test_the_quiz_builds():
    assert isinstance(self_check("draw_and_look_inside"), Quiz)
    bundle = self_check("draw_and_look_inside")._repr_mimebundle_()
    assert "text/html" not in bundle  # the stored output
    page = self_check("draw_and_look_inside", static=True)._repr_mimebundle_()["text/html"]
    assert all(html.escape(q.prompt) in page for q in quiz_draw.SELF_CHECK)
    assert len(set(QUESTIONS)) == len(quiz_draw.SELF_CHECK) == 5

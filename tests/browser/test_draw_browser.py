"""Chapter 7 in a real browser: Run All, draw a "1" and a "0" on the canvas with the mouse, see
both networks' reading each time, Clear; a screenshot of every state."""

import math
import re

ONE = [(140, 40), (138, 100), (136, 160), (135, 240)]
ZERO = [(140 + 70 * math.sin(t / 20 * 2 * math.pi), 140 - 100 * math.cos(t / 20 * 2 * math.pi))
        for t in range(21)]


def stroke(page, canvas, points):
    """Press, move through `points` (canvas pixels) and release, as a learner draws."""
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=4)
    page.mouse.up()


def test_draw_a_one_and_a_zero_and_clear(lab, page):
    from playwright.sync_api import expect

    lab.open(page, "07_draw_and_look_inside.ipynb")
    lab.run_all(page, timeout=900_000)  # quick mode trains four small networks first
    assert lab.cell_errors(page) == []

    pad = page.locator(".lenet-draw").first
    pad.scroll_into_view_if_needed()
    canvas = pad.locator("canvas.lenet-draw-canvas")
    verdict, inputs = pad.locator(".lenet-draw-verdict"), pad.locator(".lenet-draw-inputs")
    clear = pad.locator(".lenet-draw-clear")
    # the notebook drew a seven into the pad with pad.draw: its reading is shown
    expect(verdict).to_contain_text("LeNet-5 reads", timeout=60_000)
    lab.screenshot(pad, "draw_0_notebook_seven")

    clear.click()
    expect(verdict).to_contain_text("Draw a digit")
    lab.screenshot(pad, "draw_1_cleared")

    pictures = []
    for name, points in [("one", ONE), ("zero", ZERO)]:
        stroke(page, canvas, points)
        expect(verdict).to_contain_text("LeNet-5 reads", timeout=30_000)
        expect(verdict).to_contain_text("d2l LeNet reads")
        expect(pad.locator(".lenet-draw-distance")).to_have_count(10)
        expect(pad.locator(".lenet-draw-prob")).to_have_count(3)
        expect(inputs).to_have_attribute("src", re.compile(r"^(blob|data):"))
        pictures.append(inputs.screenshot())  # the pixels of the 28x28 and 32x32 inputs shown
        lab.screenshot(pad, f"draw_2_{name}")
        clear.click()
        expect(verdict).to_contain_text("Draw a digit")
    # the 1 and the 0 reached the networks as different 28x28 images
    assert pictures[0] != pictures[1]
    lab.screenshot(pad, "draw_3_cleared_again")
    assert lab.cell_errors(page) == []

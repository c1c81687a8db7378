"""Chapter 7's drawing pad in a real browser: Run All, draw a "1" and a "0" with the mouse, see
both networks' reading each time (LeNet-5's winning bar visible), Clear (no broken image); ink
that appears while a cell is running; an upload read, cleared and uploaded again; a file that is
not a picture named in words. A screenshot of every state."""

import math
import re

import nbformat
import numpy as np
from PIL import Image

ONE = [(140, 40), (138, 100), (136, 160), (135, 240)]
ZERO = [(140 + 70 * math.sin(t / 20 * 2 * math.pi), 140 - 100 * math.cos(t / 20 * 2 * math.pi))
        for t in range(21)]
BLUE = "rgb(31, 119, 180)"

# a small notebook of its own: the pad with untrained networks, and a cell that keeps the
# kernel busy (the chapter has no such cell)
PAD_CELLS = [
    "from lenet_nb.lessons import draw\nfrom lenet_nb.lessons.drawpad import DrawPad\n"
    "pad = DrawPad(draw.build_net('lenet5').eval(), draw.build_net('d2l').eval())\npad",
    "import time\ntime.sleep(6)",
]


def stroke(page, canvas, points):
    """Press, move through `points` (canvas pixels) and release, as a learner draws."""
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=4)
    page.mouse.up()


def broken_images(pad):
    """Visible <img> elements without a picture (what the old empty pad showed three of)."""
    return pad.evaluate("""p => [...p.querySelectorAll('img')].filter(
        i => i.offsetParent !== null && !(i.complete && i.naturalWidth > 0)).length""")


def inked(canvas, points):
    """How many of `points` (canvas pixels) hold ink on the canvas right now."""
    return canvas.evaluate("""(c, pts) => pts.filter(([x, y]) =>
        c.getContext('2d').getImageData(Math.round(x), Math.round(y), 1, 1).data[3] > 100
    ).length""", [list(p) for p in points])


def test_draw_a_one_and_a_zero_and_clear(lab, page):
    from playwright.sync_api import expect

    lab.open(page, "07_draw_and_look_inside.ipynb")
    lab.run_all(page, timeout=900_000)  # quick mode trains three small networks first
    assert lab.cell_errors(page) == []

    pad = page.locator(".lenet-draw").first
    pad.scroll_into_view_if_needed()
    canvas = pad.locator("canvas.lenet-draw-canvas")
    verdict, inputs = pad.locator(".lenet-draw-verdict"), pad.locator(".lenet-draw-inputs")
    clear = pad.locator(".lenet-draw-clear")
    # the notebook drew a seven into the pad with pad.draw: its ink and its reading are shown
    expect(verdict).to_contain_text("LeNet-5 reads", timeout=60_000)
    assert inked(canvas, [(140, 60), (120, 240)]) == 2
    lab.screenshot(pad, "draw_0_notebook_seven")

    clear.click()
    expect(verdict).to_contain_text("Draw a digit")
    assert broken_images(pad) == 0 and inked(canvas, [(140, 60), (120, 240)]) == 0
    lab.screenshot(pad, "draw_1_cleared")

    pictures = []
    for name, points in [("one", ONE), ("zero", ZERO)]:
        stroke(page, canvas, points)
        expect(verdict).to_contain_text("LeNet-5 reads", timeout=30_000)
        expect(verdict).to_contain_text("d2l LeNet reads")
        expect(pad.locator(".lenet-draw-distance")).to_have_count(10)
        expect(pad.locator(".lenet-draw-prob")).to_have_count(3)
        expect(inputs).to_have_attribute("src", re.compile(r"^(blob|data):"))
        winner = pad.locator(".lenet-draw-distance.best .bar")
        expect(winner).to_have_count(1)
        assert winner.bounding_box()["width"] >= 4
        assert winner.evaluate("e => getComputedStyle(e).backgroundColor") == BLUE
        assert broken_images(pad) == 0
        pictures.append(inputs.screenshot())  # the pixels of the 28x28 and 32x32 inputs shown
        lab.screenshot(pad, f"draw_2_{name}")
        clear.click()
        expect(verdict).to_contain_text("Draw a digit")
    # the 1 and the 0 reached the networks as different 28x28 images
    assert pictures[0] != pictures[1]
    assert broken_images(pad) == 0
    lab.screenshot(pad, "draw_3_cleared_again")
    assert lab.cell_errors(page) == []


def test_ink_while_a_cell_runs_and_uploads(lab, page, tmp_path):
    from playwright.sync_api import expect

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in PAD_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, lab.root / "pad_busy.ipynb")
    lab.open(page, "pad_busy.ipynb")
    lab.run_all(page)
    pad = page.locator(".lenet-draw").first
    canvas, verdict = pad.locator("canvas.lenet-draw-canvas"), pad.locator(".lenet-draw-verdict")
    expect(verdict).to_contain_text("Draw a digit")
    assert broken_images(pad) == 0

    # a cell sleeps; the ink must be there at once, not when the cell ends
    page.locator(".jp-CodeCell").nth(1).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("() => document.querySelector("
                           "'.jp-Notebook-ExecutionIndicator').dataset.status === 'busy'")
    stroke(page, canvas, ONE)
    assert inked(canvas, ONE) == len(ONE)
    assert page.evaluate("() => document.querySelector("
                         "'.jp-Notebook-ExecutionIndicator').dataset.status") == "busy"
    lab.screenshot(pad, "draw_4_ink_while_busy")
    expect(verdict).to_contain_text("LeNet-5 reads", timeout=30_000)
    lab.wait_idle(page)

    # an upload is read and shown under the ink; Clear; the same file again is read again
    ink = np.zeros((280, 280), np.float32)
    ink[40:240, 130:150] = 1.0
    Image.fromarray(np.round((1 - ink) * 255).astype(np.uint8)).save(tmp_path / "one.png")
    (tmp_path / "notes.txt").write_text("not a picture")
    upload, status = pad.locator("input.lenet-draw-upload"), pad.locator(".lenet-draw-status")
    under = pad.locator("canvas.lenet-inkpad-under")
    for attempt in range(2):
        pad.locator(".lenet-draw-clear").click()
        expect(verdict).to_contain_text("Draw a digit")
        upload.set_input_files(str(tmp_path / "one.png"))
        expect(verdict).to_contain_text("LeNet-5 reads", timeout=30_000)
        expect(status).to_contain_text("read as: PNG image (grey), dark ink on a light")
        page.wait_for_function("""c => c.getContext('2d').getImageData(140, 140, 1, 1)
                                  .data[3] > 200""", arg=under.element_handle())
        lab.screenshot(pad, f"draw_5_upload_{attempt}")
    upload.set_input_files(str(tmp_path / "notes.txt"))
    expect(verdict).to_contain_text("Could not read notes.txt: notes.txt is not an image file")
    lab.screenshot(pad, "draw_6_not_a_picture")
    assert lab.cell_errors(page) == []

"""The student edition in a real browser: a wrong answer gets its specific hint, the right one
the success message."""

import json
from pathlib import Path

from lenet_nb.course.student import BEGIN, END, STUB

REPO = Path(__file__).resolve().parents[2]

# A typical mistake: the output is one row and one column short (the "+ 1" is missing).
WRONG_CORR2D = """def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h, X.shape[1] - w))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y"""


def _instructor_answer(notebook, marker):
    """The instructor edition's code cell that contains `marker`, without the region markers."""
    nb = json.loads((REPO / "notebooks" / notebook).read_text())
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    (source,) = [s for s in sources if marker in s]
    return "\n".join(line for line in source.splitlines()
                     if not line.strip().startswith((BEGIN, END)))


def _exercise_cell(page, marker):
    """The code cell of the open notebook whose editor shows `marker` (by position, so the
    locator keeps pointing at it after its text is replaced)."""
    cells = page.locator(".jp-CodeCell")
    texts = cells.locator(".jp-InputArea-editor").all_inner_texts()
    index = next(i for i, text in enumerate(texts) if marker in text)
    return cells.nth(index)


def _replace_and_run(lab, page, cell, check, text):
    """Type `text` into the answer cell, run it and the check cell below; return the check's
    output locator."""
    editor = cell.locator(".jp-InputArea-editor .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)  # inserted as is: no auto-indent or bracket closing
    page.keyboard.press("Shift+Enter")  # the answer; the check cell is selected next
    lab.wait_idle(page)
    page.keyboard.press("Shift+Enter")
    lab.wait_idle(page)
    return check.locator(".jp-OutputArea-output")


def test_exercise_hint_then_success(lab, page):
    from playwright.sync_api import expect

    lab.open(page, "student/01_fc_limits.ipynb")
    lab.run_all(page)
    assert lab.cell_errors(page) == []
    cell = _exercise_cell(page, "def corr2d(X, K):")
    check = _exercise_cell(page, "ex.check_corr2d(corr2d)")
    expect(cell.locator(".jp-InputArea-editor")).to_contain_text(STUB.split("  ")[0])
    expect(check.locator(".jp-OutputArea-output")).to_contain_text("○ 1.1 corr2d, not started")

    output = _replace_and_run(lab, page, cell, check, WRONG_CORR2D)
    expect(output).to_contain_text("✘ 1.1 corr2d, not yet")
    expect(output).to_contain_text("did you forget the + 1")
    check.scroll_into_view_if_needed()
    lab.screenshot(check, "student_exercise_hint")

    right = _instructor_answer("01_fc_limits.ipynb", "def corr2d(X, K):")
    output = _replace_and_run(lab, page, cell, check, right)
    expect(output).to_contain_text("✔ 1.1 corr2d: matches")
    expect(output).not_to_contain_text("not yet")
    check.scroll_into_view_if_needed()
    lab.screenshot(check, "student_exercise_success")
    assert lab.cell_errors(page) == []

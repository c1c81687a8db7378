"""Chapter 2 in a real browser: a shape-widget slider moved to a combination that cannot work."""

import re


def test_invalid_combination_gives_a_readable_message(lab, page):
    from playwright.sync_api import expect

    lab.open(page, "02_shapes.ipynb")
    lab.run_all(page)
    assert lab.cell_errors(page) == []

    # the innermost box holding the message: the widget itself
    widget = page.locator(".widget-vbox").filter(has=page.locator(".lenet-shape-message")).last
    message, table = widget.locator(".lenet-shape-message"), widget.locator(".lenet-shape-table")
    expect(message).to_contain_text("fits")
    expect(table).to_contain_text("C3")

    # the largest kernel: 28 + 2·2 − 13 + 1 = 20 after C1, 10 after S2, nothing left for C3
    kernel = widget.locator(".lenet-shape-kernel")
    kernel.locator(".noUi-handle").press("End")
    expect(kernel.locator(".widget-readout")).to_have_text("13")
    expect(message).to_contain_text("does not fit")
    expect(message).to_contain_text(re.compile(r"C3|S4"))
    expect(message).to_contain_text("try a larger input, more padding or a smaller kernel")
    expect(message).not_to_contain_text("Traceback")
    expect(table).to_have_text("")
    assert lab.cell_errors(page) == []
    widget.scroll_into_view_if_needed()
    lab.screenshot(widget, "shapes_invalid")

    # and back to the paper's size: the table returns
    kernel.locator(".noUi-handle").press("Home")
    kernel.locator(".noUi-handle").press("ArrowRight")
    kernel.locator(".noUi-handle").press("ArrowRight")
    expect(kernel.locator(".widget-readout")).to_have_text("5")
    expect(message).to_contain_text("fits")
    expect(table).to_contain_text("C3")

"""Chapter 4 in a real browser: Run All, then two new runs of the activation × pooling explorer."""

import re


def train(page, explorer, activation, pooling):
    """Pick activation and pooling in the explorer's dropdowns and press Train."""
    explorer.locator(".lenet-explorer-activation select").select_option(activation)
    explorer.locator(".lenet-explorer-pooling select").select_option(pooling)
    explorer.locator(".lenet-explorer-train").click()


def test_explorer_adds_a_row_and_a_curve_per_new_run(lab, page):
    from playwright.sync_api import expect

    lab.open(page, "04_recipes.ipynb")
    lab.run_all(page, timeout=480_000)  # chapter 4 trains its quick-mode recipes first
    assert lab.cell_errors(page) == []

    explorer = page.locator(".lenet-explorer")
    explorer.scroll_into_view_if_needed()
    table = explorer.locator("table.lenet-explorer-results")
    rows = table.locator("tbody tr.lenet-explorer-row")
    status, plot = (
        explorer.locator(".lenet-explorer-status"),
        explorer.locator(".lenet-explorer-plot"),
    )
    expect(plot).to_have_attribute("src", re.compile(r"^(blob|data):"))
    before = rows.count()

    # one epoch more and a learning rate one notch lower than the runs the notebook trained,
    # so nothing comes from the cache
    epochs, lr = explorer.locator(".lenet-explorer-epochs"), explorer.locator(".lenet-explorer-lr")
    old_epochs = int(epochs.locator(".widget-readout").inner_text())
    epochs.locator(".noUi-handle").press("ArrowRight")
    expect(epochs.locator(".widget-readout")).to_have_text(str(old_epochs + 1))
    old_lr = lr.locator(".widget-readout").inner_text()
    lr.locator(".noUi-handle").press("ArrowLeft")
    expect(lr.locator(".widget-readout")).not_to_have_text(old_lr)
    new_lr = lr.locator(".widget-readout").inner_text()

    for n, (activation, pooling) in enumerate([("relu", "max"), ("tanh", "avg")], start=1):
        old_plot = plot.get_attribute("src")
        train(page, explorer, activation, pooling)
        expect(rows).to_have_count(before + n, timeout=120_000)
        expect(table).to_have_attribute("data-runs", str(before + n))
        label = f"{activation}+{pooling}, {old_epochs + 1} ep, lr {new_lr}"
        expect(status).to_contain_text(label)
        expect(status).to_contain_text("trained in")
        current = explorer.locator("tr.lenet-explorer-current")
        expect(current).to_have_count(1)
        expect(current).to_have_attribute("data-key", label)
        expect(current.locator("td").nth(0)).to_have_text(activation)
        expect(current.locator("td").nth(1)).to_have_text(pooling)
        # the curves are redrawn as a new image that includes this run
        expect(plot).not_to_have_attribute("src", old_plot)

    # the same settings again: shown from the cache, no new row
    for activation, pooling in [("relu", "max"), ("tanh", "avg")]:  # ends on the second run
        train(page, explorer, activation, pooling)
        label = f"{activation}+{pooling}, {old_epochs + 1} ep, lr {new_lr}"
        expect(status).to_contain_text(f"{label}: test acc")
        expect(status).to_contain_text("cached, shown at once")
        # the table is redrawn after the plot: once it marks this run, both are up to date
        expect(current).to_have_attribute("data-key", label)
        expect(rows).to_have_count(before + 2)
    page.set_viewport_size({"width": 1280, "height": 2000})  # the whole explorer in one picture
    explorer.scroll_into_view_if_needed()
    lab.screenshot(explorer, "explorer_second_run")
    assert lab.cell_errors(page) == []

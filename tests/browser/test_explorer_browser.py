"""Chapter 4 in a real browser: Run All, then new runs of the activation × pooling explorer: a
run with a stored setting lands on its band, one at another rate has none, a second press of the
same settings comes from the cache, and the status counts what the plot and the table show."""

import re


def pick(explorer, activation, pooling):
    """Pick activation and pooling in the explorer's dropdowns."""
    explorer.locator(".lenet-explorer-activation select").select_option(activation)
    explorer.locator(".lenet-explorer-pooling select").select_option(pooling)


def test_explorer_runs_land_on_the_stored_band_and_are_counted(lab, page):
    from playwright.sync_api import expect

    lab.open(page, "04_recipes.ipynb")
    lab.run_all(page, timeout=480_000)
    assert lab.cell_errors(page) == []

    explorer = page.locator(".lenet-explorer")
    explorer.scroll_into_view_if_needed()
    table = explorer.locator("table.lenet-explorer-results")
    rows = table.locator("tbody tr.lenet-explorer-row")
    status = explorer.locator(".lenet-explorer-status")
    plot = explorer.locator(".lenet-explorer-plot")
    button = explorer.locator(".lenet-explorer-train")
    expect(plot).to_have_attribute("src", re.compile(r"^(blob|data):"))
    # the chapter's live cell handed its run over: the explorer opens on it, on its band
    expect(rows).to_have_count(1)
    expect(status).to_contain_text("band: ")
    expect(status).to_contain_text("drawn: 1 of your 1 run")

    epochs, lr = explorer.locator(".lenet-explorer-epochs"), explorer.locator(".lenet-explorer-lr")
    old_epochs = int(epochs.locator(".widget-readout").inner_text())
    epochs.locator(".noUi-handle").press("ArrowRight")
    expect(epochs.locator(".widget-readout")).to_have_text(str(old_epochs + 1))
    n = old_epochs + 1

    # a stored setting at its grid rate: trained now, read against the stored band
    old_plot = plot.get_attribute("src")
    pick(explorer, "tanh", "avg")
    rate = lr.locator(".widget-readout").inner_text()  # each activation opens at its own rate
    button.click()
    label = f"tanh+avg, lr {rate}, {n} ep, seed 0"
    expect(rows).to_have_count(2, timeout=120_000)
    expect(table).to_have_attribute("data-runs", "2")
    expect(status).to_contain_text(label)
    expect(status).to_contain_text("trained in")
    expect(status).to_contain_text(f"band: tanh+avg, lr {rate}, 3 stored seeds")
    expect(status).to_contain_text("drawn: 2 of your 2 runs")
    current = explorer.locator("tr.lenet-explorer-current")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-key", label)
    expect(plot).not_to_have_attribute("src", old_plot)

    # the same setting at another rate: no stored band, and the status says so
    lr.locator(".noUi-handle").press("ArrowLeft")
    expect(lr.locator(".widget-readout")).not_to_have_text(rate)
    other = lr.locator(".widget-readout").inner_text()
    button.click()
    expect(rows).to_have_count(3, timeout=120_000)
    expect(status).to_contain_text(f"no stored band for tanh+avg at lr {other}")

    # the first new run again: from the cache, no new row
    lr.locator(".noUi-handle").press("ArrowRight")
    expect(lr.locator(".widget-readout")).to_have_text(rate)
    button.click()
    expect(status).to_contain_text("cached, shown at once")
    expect(current).to_have_attribute("data-key", label)
    expect(rows).to_have_count(3)
    page.set_viewport_size({"width": 1280, "height": 2000})  # the whole explorer in one picture
    explorer.scroll_into_view_if_needed()
    lab.screenshot(explorer, "explorer_runs")
    assert lab.cell_errors(page) == []

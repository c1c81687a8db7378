"""Browser tests: a real JupyterLab on 127.0.0.1 driven by headless Chromium through Playwright.

The server runs on a temporary copy of notebooks/ (outputs cleared, so what the test sees comes
from this run), with its own config, settings, workspace and runtime directories and
LENET_NB_QUICK=1. Chromium is started here and reached over the DevTools protocol, so both the
server and the browser are stopped by the process ids this file started.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lenet_nb.course.student import make_student

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = Path(os.environ.get("LENET_NB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]
# JupyterLab user settings: no news toast over the notebook, every cell kept in the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,  # no "Select Kernel" dialog
    },
}
VIEWPORT = {"width": 1280, "height": 900}


def unavailable(reason):
    """Skip without a browser, or fail where one is required (LENET_NB_REQUIRE_BROWSER=1: CI)."""
    if os.environ.get("LENET_NB_REQUIRE_BROWSER", "").strip() in {"1", "true", "yes"}:
        pytest.fail(f"browser tests required (LENET_NB_REQUIRE_BROWSER) but {reason}")
    pytest.skip(reason)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid):
    """Process ids whose parent chain leads to `pid` (read from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        children = [c for c, p in parents.items() if p in frontier]
        found += children
        frontier = children
    return found


def _stop(proc, group=False, timeout=20):
    """Terminate a process we started (its process group when `group`), then its leftovers."""
    if proc.poll() is not None:
        return
    leftovers = _descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGTERM) if group else proc.terminate()
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL) if group else proc.kill()
        proc.wait(timeout)
    for pid in leftovers:  # e.g. kernels, started by the server in sessions of their own
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def clear_outputs(path):
    """Drop stored outputs, execution counts, widget state and jupytext pairing from a notebook."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].pop("widgets", None)
    # unpaired, so jupytext's contents manager does not compare the copy with its .py source
    nb["metadata"].pop("jupytext", None)
    path.write_text(json.dumps(nb, indent=1))


def copy_notebooks(src, dst):
    """Copy notebooks/ without the jupytext .py twins of the .ipynb files, outputs cleared."""
    paired = {p.with_suffix(".py").name for p in src.glob("*.ipynb")}
    shutil.copytree(
        src,
        dst,
        ignore=lambda d, names: [
            n for n in names if n == ".ipynb_checkpoints" or (Path(d) == src and n in paired)
        ],
    )
    for nb in dst.glob("*.ipynb"):
        clear_outputs(nb)


def _write_settings(settings_dir):
    for name, values in LAB_SETTINGS.items():
        target = settings_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))


def _wait_for_status(url, token, proc, log, timeout=90):
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"{url}/api/status", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


class Lab:
    """A running JupyterLab server and the actions a learner takes in it."""

    def __init__(self, url, token, root):
        self.url, self.token, self.root = url, token, root

    def open(self, page, notebook, timeout=60_000):
        """Open a notebook in a fresh layout and wait for its kernel to be idle."""
        page.goto(f"{self.url}/lab/tree/{notebook}?token={self.token}&reset")
        page.locator(".jp-NotebookPanel").first.wait_for(timeout=timeout)
        self.wait_idle(page, timeout)

    def wait_idle(self, page, timeout=60_000):
        """Wait until the notebook has a kernel (not "No Kernel") and that kernel is idle."""
        page.wait_for_function(
            """() => {
                const name = document.querySelector('.jp-NotebookPanel .jp-Toolbar-kernelName');
                const state = document.querySelector(
                    '.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
                return name && state && !/No Kernel/.test(name.textContent)
                    && state.dataset.status === 'idle';
            }""",
            timeout=timeout,
            polling=250,
        )

    def run_all(self, page, timeout=180_000):
        """Run → Run All Cells, then wait until every code cell has run and the kernel is idle."""
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""",
            timeout=timeout,
            polling=250,
        )
        self.wait_idle(page, timeout)

    def save(self, page):
        """Ctrl+S, then wait until JupyterLab no longer marks the notebook as unsaved."""
        page.keyboard.press("Escape")
        page.keyboard.press("Control+s")
        page.wait_for_function(
            """() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')""",
            timeout=30_000, polling=250)

    def cell_errors(self, page):
        """Texts of the error outputs (tracebacks) shown in the notebook."""
        return page.locator("[data-mime-type='application/vnd.jupyter.error']").all_inner_texts()

    @staticmethod
    def screenshot(target, name):
        """Save a screenshot of a page or locator as tests/browser/screenshots/<name>.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        target.screenshot(path=str(path))
        return path


@contextlib.contextmanager
def serve(root, base, options=()):
    """JupyterLab on `root` (config, settings, workspace, runtime under `base`), stopped by its
    process id on exit; yields a Lab."""
    _write_settings(base / "settings")
    env = dict(
        os.environ,
        LENET_NB_QUICK="1",
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
    )
    env.setdefault("LENET_NB_DATA", str(REPO / "data"))
    env.pop("MPLBACKEND", None)  # the repo's conftest sets Agg; a learner's kernel draws inline
    port, token = _free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        *options,
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = base / "jupyterlab.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for_status(url, token, proc, log)
        yield Lab(url, token, root)
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab on a temporary copy of notebooks/ (+ student/), stopped by its process id."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    copy_notebooks(REPO / "notebooks", root)
    make_student(REPO / "notebooks", root / "student")  # the learner's edition, as `make student`
    with serve(root, base) as running:
        yield running


@contextlib.contextmanager
def chromium(profile):
    """Headless Chromium (user data in `profile`) reached over CDP, as a Playwright browser;
    stopped by its process id on exit. The benchmarks use it too."""
    from playwright import sync_api

    log = profile.parent / f"{profile.name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(CHROMIUM),
                *CHROMIUM_FLAGS,
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pw = None
    try:
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        pw = sync_api.sync_playwright().start()
        browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        yield browser
        browser.close()
    finally:
        if pw is not None:
            pw.stop()
        _stop(proc, group=True)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Debian Chromium reached over CDP; skipped with a reason when it is missing."""
    try:
        from playwright import sync_api  # noqa: F401
    except ImportError:
        unavailable("the Python playwright client is not installed: pip install playwright")
    if not CHROMIUM.exists():
        unavailable(
            f"no Chromium at {CHROMIUM}: apt-get install chromium (or set LENET_NB_CHROMIUM)"
        )
    with chromium(tmp_path_factory.mktemp("chromium")) as browser:
        yield browser


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item, so fixtures can tell a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, lab, request):
    """A fresh browser context and page for one test; a failing test leaves a screenshot."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        Lab.screenshot(page, f"FAILED-{request.node.name}")
    context.close()

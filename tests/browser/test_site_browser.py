"""The course's website (`make book`) in headless Chromium, served from 127.0.0.1.

Every page is opened; a console error, an uncaught exception, a failed or refused request, or any
request that leaves 127.0.0.1 fails the test. Each chapter leaves a screenshot. A quiz is answered
once right and once wrong, and the page must show what JupyterLab's widget shows for the same
answers (lenet_nb.quiz.widget.response_feedback).
"""

import functools
import http.server
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lenet_nb.quiz.bank import BANKS
from lenet_nb.quiz.widget import Score, response_feedback
from tests.browser.conftest import REPO, VIEWPORT, Lab, unavailable

SITE = Path(os.environ.get("LENET_NB_SITE", REPO / "build" / "book" / "_build" / "html"))
QUESTIONS = {q.key: q for bank in BANKS.values() for q in bank}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    """The built site served on 127.0.0.1 by a thread of this process; its base URL."""
    if not (SITE / "index.html").exists():
        unavailable(f"no website at {SITE}: run `make book` first")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class Watched:
    """A page whose troubles are recorded: console errors, exceptions, bad or outside requests."""

    def __init__(self, browser, base):
        self.context = browser.new_context(viewport=VIEWPORT)
        self.problems, self.outside = [], []
        host = urlsplit(base).netloc

        def route(r):
            url = urlsplit(r.request.url)
            if url.scheme in ("data", "blob") or url.netloc == host:
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(
            f"console: {m.text} ({m.location.get('url')})"))
        self.page.on("pageerror", lambda e: self.problems.append(f"exception: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(
            f"failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(
            f"HTTP {r.status}: {r.url}"))

    def open(self, url):
        self.page.goto(url, wait_until="networkidle")
        # pages with formulas: wait until MathJax has typeset them
        self.page.evaluate("() => window.MathJax?.startup?.promise")
        return self.page


@pytest.fixture
def watched(browser, site):
    w = Watched(browser, site)
    yield w
    w.context.close()


def _pages():
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if "_static" not in p.parts)


def test_every_page_loads_from_localhost_only_without_an_error(watched, site):
    pages = _pages()
    chapters = [p for p in pages if p.startswith("notebooks/")]
    assert len(chapters) == len(list((REPO / "notebooks").glob("*.ipynb")))
    assert {"index.html", "README.html", "REPORT.html", "docs/classroom.html"} <= set(pages)
    seen = {}
    for name in pages:
        page = watched.open(f"{site}/{name}")
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || "
                               "!i.naturalWidth).map(i => i.src)")
        assert broken == [], (name, broken)
        seen[name] = page.evaluate("""() => ({
            math: document.querySelectorAll('mjx-container').length,
            rawMath: document.querySelectorAll('.math:not(:has(mjx-container))').length,
            images: document.images.length,
            tables: document.querySelectorAll('table').length,
            code: document.querySelectorAll('div.highlight pre').length,
            quizzes: document.querySelectorAll('.lenet-quiz').length,
            leftLists: document.querySelectorAll('.lenet-quiz-static').length,
            openSolutions: document.querySelectorAll('details.sd-dropdown[open]').length,
            solutions: document.querySelectorAll('details.sd-dropdown').length,
        })""")
        if name in chapters:
            Lab.screenshot(page, f"site-{Path(name).stem}")
    assert watched.outside == [], watched.outside
    assert watched.problems == [], watched.problems
    for name, found in seen.items():
        assert found["rawMath"] == 0 and found["leftLists"] == 0, (name, found)
        assert found["openSolutions"] == 0, (name, found)  # solutions stay folded
    shapes = next(found for name, found in seen.items() if "02_shapes" in name)
    assert shapes["math"] > 0 and shapes["images"] > 0 and shapes["code"] > 0
    assert shapes["quizzes"] == 1 and shapes["solutions"] > 0
    assert seen["REPORT.html"]["tables"] > 0
    print(f"{len(pages)} pages opened, {len(chapters)} chapter screenshots")


def test_a_quiz_answered_right_and_wrong_gives_jupyterlabs_feedback(watched, site):
    page = watched.open(f"{site}/notebooks/02_shapes.html")
    data = json.loads(page.locator("script.lenet-quiz-data").first.text_content())
    first, second = (QUESTIONS[q["key"]] for q in data["questions"][:2])
    answers = []
    for q, right in ((first, True), (second, False)):
        box = page.locator(f".lenet-quiz-q-{q.key}")
        if q.is_numeric:
            typed = f"{q.answer if right else q.answer + 1000 * (q.tolerance + 1)}"
            box.locator(".lenet-quiz-number").fill(typed)
            answers.append(typed)
        else:
            index = q.answer if right else (q.answer + 1) % len(q.choices)
            box.locator(".lenet-quiz-choices input").nth(index).check()
            answers.append(index)
        box.locator(".lenet-quiz-check").click()
        state, shown = response_feedback(q, answers[-1])
        assert state == ("correct" if right else "wrong")
        feedback = box.locator(".lenet-quiz-feedback")
        assert f"lenet-quiz-{state}" in feedback.get_attribute("class")
        assert feedback.evaluate("(node, html) => { const t = document.createElement('div'); "
                                 "t.innerHTML = html; return node.innerHTML === t.innerHTML; }",
                                 shown), (feedback.inner_html(), shown)
    score = Score([q["key"] for q in data["questions"]])
    score.record(first.key, True)
    score.record(second.key, False)
    assert page.locator(".lenet-quiz-score").first.inner_text() == score.text()
    Lab.screenshot(page.locator(".lenet-quiz").first, "site-quiz-02_shapes")
    assert watched.outside == [] and watched.problems == []


def test_every_local_link_leads_to_a_page_or_file():
    """Links between pages (and to figures, scripts, styles) all resolve inside the site."""
    if not (SITE / "index.html").exists():
        unavailable(f"no website at {SITE}: run `make book` first")
    missing, checked = [], 0
    for name in _pages():
        page = SITE / name
        for url in re.findall(r"""(?:href|src)="([^"#?]+)""", page.read_text(encoding="utf-8")):
            if not urlsplit(url).scheme and not url.startswith("//"):
                checked += 1
                if not (page.parent / url).resolve().exists():
                    missing.append((name, url))
    assert missing == [] and checked > 100

"""The learner's path in a real JupyterLab: `make lab`'s copies run and saved leave `git status`
empty; a *find the bug* exercise is solved in the editor and the check answers ✔."""

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

from lenet_nb.course.lab import lab_options, prepare
from lenet_nb.course.progress import report
from lenet_nb.course.student import make_student
from tests.browser import find_the_bug_fixture
from tests.browser.conftest import REPO, VIEWPORT, Lab, serve

FIXED = '''def accuracy(net, batches):
    """Fraction of correctly classified images."""
    right = total = 0
    for X, y in batches:
        right += (net(X).argmax(1) == y).sum().item()
        total += len(y)
    return right / total


print("on batches of 3 and 1:", accuracy(lambda X: X, BATCHES))'''


def _cell_with(page, marker, kind=".jp-CodeCell"):
    """The cell whose editor shows `marker` (by position, so it survives a text change)."""
    cells = page.locator(kind)
    texts = cells.locator(".jp-InputArea-editor").all_inner_texts()
    return cells.nth(next(i for i, text in enumerate(texts) if marker in text))


def test_find_the_bug_solved_in_jupyterlab_shows_a_tick(lab, page, tmp_path):
    from playwright.sync_api import expect

    src = tmp_path / "instructor"
    src.mkdir()
    import nbformat

    nbformat.write(find_the_bug_fixture.instructor_notebook(), src / "09_fixture.ipynb")
    folder = lab.root / "find_the_bug"
    make_student(src, folder)  # the real generator: the stub block becomes the buggy code
    shutil.copy(Path(find_the_bug_fixture.__file__), folder / "find_the_bug_fixture.py")

    lab.open(page, "find_the_bug/09_fixture.ipynb")
    lab.run_all(page)
    answer = _cell_with(page, "def accuracy(net, batches):")
    expect(answer.locator(".jp-InputArea-editor")).to_contain_text("sum(accs) / len(accs)")
    check = _cell_with(page, "ex.check_accuracy(accuracy)")
    expect(check.locator(".jp-OutputArea-output")).to_contain_text("✘ 9.1 accuracy, not yet")
    expect(check.locator(".jp-OutputArea-output")).to_contain_text("Hint:")

    editor = answer.locator(".jp-InputArea-editor .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(FIXED)
    page.keyboard.press("Shift+Enter")  # runs the fixed answer, moves to the check
    lab.wait_idle(page)
    expect(answer.locator(".jp-OutputArea-output")).to_contain_text("on batches of 3 and 1: 0.75")
    page.keyboard.press("Shift+Enter")  # runs the check
    lab.wait_idle(page)
    expect(check.locator(".jp-OutputArea-output")).to_contain_text(
        "✔ 9.1 accuracy: 0.7500 on batches of 3 and 1 images")
    check.scroll_into_view_if_needed()
    lab.screenshot(page, "find_the_bug_solved")
    assert lab.cell_errors(page) == []


def _repo_copy(dst):
    """The project's tracked files (as they are in the work tree) in a fresh git repository."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dst / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)
    subprocess.run(git + ["add", "-A"], cwd=dst, check=True)
    subprocess.run(git + ["commit", "-qm", "clone"], cwd=dst, check=True)


def _status(root):
    return subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                          text=True, check=True).stdout


def test_make_lab_copies_run_and_saved_leave_git_status_empty(browser, tmp_path_factory):
    from playwright.sync_api import expect

    base = tmp_path_factory.mktemp("learner")
    root = base / "repo"
    root.mkdir()
    _repo_copy(root)
    prepare(root)  # what `make lab` does before it starts JupyterLab
    assert _status(root) == "", "student/ and reading/ are git-ignored"
    options = [o for o in lab_options(root) if not o.startswith("--ServerApp.root_dir")]
    with serve(root, base, options) as running:
        listing = json.load(urllib.request.urlopen(
            f"{running.url}/api/contents?token={running.token}", timeout=10))
        names = {item["name"] for item in listing["content"]}
        assert {"student", "reading"} <= names and not {"notebooks", "notebooks_py"} & names

        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            # the start page is where `make lab` opens
            page.goto(f"{running.url}/?token={running.token}")
            page.locator(".jp-NotebookPanel").first.wait_for(timeout=60_000)
            running.wait_idle(page)
            expect(page.locator(".lm-TabBar-tab.jp-mod-current")).to_contain_text(
                "00_start_here.ipynb")
            running.run_all(page)
            expect(page.locator(".jp-OutputArea-output").last).to_contain_text("02_shapes")
            running.save(page)

            running.open(page, "student/02_shapes.ipynb")
            heading = page.locator(".jp-MarkdownCell", has_text="Exercise 2.1 (predict, then run)")
            heading.scroll_into_view_if_needed()
            # as opened: no stored output anywhere, the reveal cell below shows nothing yet
            expect(page.locator(".jp-OutputArea-output")).to_have_count(0)
            Lab.screenshot(page, "student_first_predict_exercise_ch2_opened")
            running.run_all(page, timeout=400_000)
            assert running.cell_errors(page) == []
            heading.scroll_into_view_if_needed()
            check = _cell_with(page, "ex.check_c1_s2_shape(c1_s2_shape)")
            expect(check.locator(".jp-OutputArea-output")).to_contain_text(
                "○ 2.1 c1_s2_shape, not started")
            Lab.screenshot(page, "student_first_predict_exercise_ch2")
            running.save(page)

            running.open(page, "reading/02_shapes.ipynb")
            running.run_all(page, timeout=400_000)
            assert running.cell_errors(page) == []
            running.save(page)
        finally:
            context.close()
    assert _status(root) == "", "running and saving the copies changed a tracked file"
    text = report(root / "student")
    assert "2.1 ○" in text and "2.2 ○" in text, text  # read back from the saved checks

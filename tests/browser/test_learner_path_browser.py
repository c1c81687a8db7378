"""The learner's path in a real JupyterLab: `make lab`'s copies run and saved leave `git status`
empty; chapter 1's *find the bug* exercise (1.4) is solved in the editor and the check answers ✔."""

import json
import shutil
import subprocess
import urllib.request

import nbformat

from lenet_nb.course.lab import lab_options, prepare
from lenet_nb.course.progress import report
from lenet_nb.course.student import make_student
from lenet_nb.exercises import fc_limits
from tests.browser.conftest import REPO, VIEWPORT, Lab, serve
from tests.exercises.notebook_answers import find

FIX = "            K_hat.grad.zero_()\n"  # the line the given code lacks
BUGGY_LINE = "K_hat -= lr * K_hat.grad"


def _cell_with(page, marker, kind=".jp-CodeCell"):
    """The cell whose editor shows `marker` (by position, so it survives a text change)."""
    cells = page.locator(kind)
    texts = cells.locator(".jp-InputArea-editor").all_inner_texts()
    return cells.nth(next(i for i, text in enumerate(texts) if marker in text))


def find_the_bug_notebook():
    """Exercise 1.4 as the instructor notebook holds it, with the cells it needs to run."""
    nb, ex = find(fc_limits, "learn_edge_kernel")
    (data,) = [c for c in nb.cells[:ex.heading] if c.cell_type == "code"
               and "X_rand =" in c.source]  # the chapter's own input and target
    setup = nbformat.v4.new_code_cell("import torch\n"
                                      "from lenet_nb.exercises import fc_limits as ex\n"
                                      "from lenet_nb.lessons.conv import corr2d\n"
                                      "K_vertical = torch.tensor([[1.0, -1.0]])")
    cells = [setup, data] + nb.cells[ex.heading:ex.check + 1]
    return nbformat.v4.new_notebook(cells=[nbformat.from_dict(c) for c in cells])


def test_find_the_bug_solved_in_jupyterlab_shows_a_tick(lab, page, tmp_path):
    from playwright.sync_api import expect

    src = tmp_path / "instructor"
    src.mkdir()
    nbformat.write(find_the_bug_notebook(), src / "01_find_the_bug.ipynb")
    folder = lab.root / "find_the_bug"
    make_student(src, folder)  # the real generator: the stub block becomes the buggy code
    student = nbformat.read(folder / "01_find_the_bug.ipynb", as_version=4)
    (given,) = [c.source for c in student.cells if "def learn_edge_kernel" in c.source]
    assert BUGGY_LINE in given and "zero_" not in given
    at = given.index(BUGGY_LINE) + len(BUGGY_LINE) + 1
    fixed = given[:at] + FIX + given[at:]

    lab.open(page, "find_the_bug/01_find_the_bug.ipynb")
    lab.run_all(page)
    answer = _cell_with(page, "def learn_edge_kernel(")
    check = _cell_with(page, "ex.check_learn_edge_kernel(learn_edge_kernel)")
    expect(check.locator(".jp-OutputArea-output")).to_contain_text(
        "✘ 1.4 learn_edge_kernel, not yet: the loss falls, then jumps back up")
    expect(check.locator(".jp-OutputArea-output")).to_contain_text("Hint:")

    editor = answer.locator(".jp-InputArea-editor .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(fixed)
    page.keyboard.press("Shift+Enter")  # runs the fixed answer, moves to the check
    lab.wait_idle(page)
    expect(answer.locator(".jp-OutputArea-output")).to_contain_text("learned kernel: [1.0, -0.998]")
    page.keyboard.press("Shift+Enter")  # runs the check
    lab.wait_idle(page)
    expect(check.locator(".jp-OutputArea-output")).to_contain_text(
        "✔ 1.4 learn_edge_kernel: the same 25 losses and kernel as conv.learn_kernel")
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

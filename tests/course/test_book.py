"""The website's sources: static pages from stored notebooks, quizzes that grade like Python's,
no resource from another host. The built site is opened in tests/browser/test_site_browser.py.
"""

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from lenet_nb.course import book
from lenet_nb.quiz.bank import BANKS
from lenet_nb.quiz.widget import response_feedback, static_html
from tests.conftest import make_choice, make_number, tools_required

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "book" / "static" / "lenet-quiz.js"
WIDGET = book.WIDGET


# --- the quiz script grades exactly like lenet_nb.quiz (run with node on one table) ----------

TYPED = ["", " ", "\t", "12", " 12 ", "+7", "-0", ".5", "5.", "1e3", "1E-3", "1e400", "-1e400",
         "59,134", "59 134", "59_134", "1,000,000", "1 000 000", "1_000_000", "1,000.5",
         "3,07", "3,070.5", "3,0700", "1,2,3", "12,34,567", ",5", "5,", "1,,000", "1, 000",
         "95.8 %", "95.8%", "95.8 % ", "%", " %", "50%%", "abc", "12abc", "0x10", "nan", "inf",
         "Infinity", "1e", "e5", "--1", "+-1", "1.2.3", "١٢", "１２", "\u00a012", "12\u00a0",
         "1\u00a0000", "2\u2009000", "61706", "61,706", "0.95", "1516", "1,516", "3.07",
         "it's", 'say "12"', "it's \"12\"", "back\\slash", "tab\there", "new\nline", "1,000\n5",
         "nul\x00", "del\x7f", "\x85", "\u200b12", "\ufeff12", "😀", "Σ12", "ÀBC", "\u2028",
         "\U000e0001", "x" * 40]
ALPHABET = "0123456789,,, __..eE+-%% \t\n'\"\\a١\u00a0\u200b😀"


def _question_dicts():
    """(Question, its JSON for the page) for every bank question and two made-up ones."""
    questions = {q.key: q for bank in BANKS.values() for q in bank}
    questions.update({"made-up-choice": make_choice("made-up-choice"),
                      "made-up-number": make_number("made-up-number")})
    return [(q, book.question_json(i + 1, q)) for i, q in enumerate(questions.values())]


def _cases():
    rng = random.Random(0)
    cases = []
    for q, data in _question_dicts():
        if q.is_numeric:
            near = [q.answer, q.answer + q.tolerance, q.answer - q.tolerance,
                    q.answer + 2 * q.tolerance + 1, -q.answer]
            responses = TYPED + [str(v) for v in near] + [f"{v:,}" for v in near] + \
                [f"{v} %" for v in near]
            responses += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 9)))
                          for _ in range(40)]
        else:
            responses = list(range(len(q.choices))) + [None, len(q.choices)]
        cases += [(q, data, r) for r in responses]
    return cases


def test_the_page_script_gives_the_widgets_feedback_for_every_input():
    node = shutil.which("node")
    if node is None:
        if tools_required():
            pytest.fail("node is required (LENET_NB_REQUIRE_TOOLS) but not installed")
        pytest.skip("node is not installed (Debian: apt-get install nodejs)")
    cases = _cases()
    runner = ("const quiz = require(process.argv[1]);"
              "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "process.stdout.write(JSON.stringify(cases.map(([q, r]) => "
              "quiz.responseFeedback(q, r))));")
    done = subprocess.run([node, "-e", runner, str(SCRIPT)], capture_output=True, text=True,
                          input=json.dumps([[data, r] for _, data, r in cases]), timeout=120)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    differ = [(q.key, r, list(response_feedback(q, r)), js)
              for (q, _, r), js in zip(cases, shown, strict=True)
              if list(response_feedback(q, r)) != js]
    assert differ == [], differ[:5]
    states = {tuple(response_feedback(q, r))[0] for q, _, r in cases}
    assert states == {"correct", "wrong", "invalid"} and len(cases) > 2000


# --- a chapter made static ----------------------------------------------------------------------


def _quiz_output(questions, label="Self-check"):
    numbered = list(enumerate(questions, 1))
    return nbformat.v4.new_output("display_data", data={
        WIDGET: {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/plain": f"{label}: {len(questions)} questions",
        "text/html": static_html(numbered, label)})


def _widget_output(plain, html=None):
    data = {WIDGET: {"model_id": "w", "version_major": 2, "version_minor": 0}, "text/plain": plain}
    if html is not None:
        data["text/html"] = html
    return nbformat.v4.new_output("display_data", data=data)


def test_a_quiz_output_carries_its_questions_from_the_banks():
    questions = [make_choice("c1"), make_number("n1")]
    by_prompt = {q.prompt: q for q in questions}
    out = book.static_outputs([_quiz_output(questions)], by_prompt)
    assert list(out[0]["data"]) == ["text/html", "text/plain"]  # no widget view left
    shown = out[0]["data"]["text/html"]
    payload = re.search(r'<script type="application/json" class="lenet-quiz-data">(.*)</script>',
                        shown).group(1)
    assert json.loads(payload)["questions"] == [book.question_json(1, questions[0]),
                                                book.question_json(2, questions[1])]
    with pytest.raises(book.BookError, match="no bank holds"):
        book.static_outputs([_quiz_output(questions)], {})


def test_json_in_a_page_cannot_close_its_script_tag():
    q = make_number("n1")
    q = type(q)(**{**q.__dict__, "hint": "not </script><b>this</b>"})
    shown = book.quiz_html(static_html([(1, q)], "Quiz"), {q.prompt: q})
    assert shown.count("</script>") == 1 and "<\\/script>" in shown


def test_other_widgets_become_a_note_and_progress_bars_go():
    plain = "DrawPad(280x280 canvas, 0 stroke(s))"
    text = nbformat.v4.new_output("stream", name="stdout", text="hello\n")
    out = book.static_outputs([_widget_output("VBox(children=(IntSlider(value=2),))"),
                               _widget_output(plain),
                               _widget_output("epoch 1/3:   0%|          | 0/469"), text], {})
    assert len(out) == 3 and out[2] == text
    assert "Interactive widget</b>:" in out[0]["data"]["text/html"]  # a container: no name
    assert plain in out[1]["data"]["text/html"]


def test_a_widget_stored_with_a_static_copy_shows_that_copy():
    copy_html = '<div class="static"><p><b>Shapes</b></p><table><tr><td>6</td></tr></table></div>'
    out = book.static_outputs([_widget_output("Shapes", copy_html),
                               _widget_output("Empty", "  \n")], {})
    assert out[0]["data"] == {"text/html": copy_html, "text/plain": "Shapes"}
    assert "Interactive widget" in out[1]["data"]["text/html"]  # blank HTML is no copy


ANSWER = """def f(x):
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION
    ### BEGIN STUB
    # return x
    ### END STUB

print(f(1))"""


def test_exercises_show_the_stub_with_the_solution_folded_and_no_check():
    from lenet_nb.course.student import stub_regions

    answer = nbformat.v4.new_code_cell(ANSWER, metadata={"tags": ["exercise-answer"]})
    answer.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    check = nbformat.v4.new_code_cell("ex.check_f(f)", metadata={"tags": ["exercise-check"]})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("#### Exercise 1.1"),
                                         answer, check, nbformat.v4.new_code_cell("1 + 1")])
    nb.metadata["widgets"] = {"state": {}}
    before = json.dumps(nb)
    page = book.page_notebook(nb, {})
    assert json.dumps(nb) == before  # the chapter itself is untouched
    assert [c.cell_type for c in page.cells] == ["markdown", "code", "markdown", "code"]
    stub, folded = page.cells[1], page.cells[2].source
    assert (stub.source, stub.outputs) == (stub_regions(ANSWER)[0], [])
    assert folded.startswith("````{dropdown} Solution\n```python\ndef f(x):\n    return x + 1")
    assert "BEGIN" not in folded and "# return x" not in folded and "print(f(1))" in folded
    assert "ex.check_f" not in json.dumps(page.cells) and "widgets" not in page.metadata
    nbformat.validate(page)


def test_a_solution_holding_backticks_gets_a_longer_fence():
    folded = book.solution_dropdown("### BEGIN SOLUTION\ns = '````'\n### END SOLUTION")
    assert folded.startswith("``````{dropdown}") and folded.endswith("\n``````")


def test_every_stored_quiz_of_the_chapters_is_in_the_banks():
    by_prompt = book.questions_by_prompt()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = book.page_notebook(nbformat.read(path, as_version=4), by_prompt, path.name)
        for cell in page.cells:
            for out in cell.get("outputs", []):
                assert WIDGET not in out.get("data", {}), path.name


def test_the_table_of_contents_starts_with_the_first_chapter():
    assert book.toc(["00_a", "01_b"], ["README.md", "docs/x.md"]) == (
        "format: jb-book\nroot: notebooks/00_a\nchapters:\n- file: notebooks/01_b\n"
        "- file: README\n- file: docs/x\n")


def test_mathjax_must_be_the_published_package(tmp_path):
    fake = tmp_path / "mathjax-3.2.2.tgz"
    fake.write_bytes(b"not mathjax")
    with pytest.raises(book.BookError, match="is not mathjax@3.2.2 as published"):
        book.mathjax(fake, tmp_path / "out")


def test_resources_from_other_hosts_are_found_and_links_are_not(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/f.css">'
        '<a class="reference external" href="https://example.org/paper">paper</a>'
        '<img src="http://127.0.0.1:8888/x.png"><img src="_images/y.png">')
    (tmp_path / "b.css").write_text("@font-face { src: url('https://fonts.example.org/f.woff') }")
    assert book.remote_references(tmp_path) == [
        ("a.html", "https://cdn.example.org/x.js"), ("a.html", "//fonts.example.org/f.css"),
        ("b.css", "https://fonts.example.org/f.woff")]


def test_build_never_empties_a_folder_of_yours(tmp_path):
    """`--out ~/Documents` would have removed ~/Documents/src and ~/Documents/_build."""
    mine = tmp_path / "Documents"
    (mine / "src").mkdir(parents=True)
    (mine / "src" / "thesis.tex").write_text("two years of work")
    with pytest.raises(FileExistsError, match="holds files lenet_nb did not write"):
        book.build(mine, "no-jupyter-book", tmp_path / "cache")
    assert (mine / "src" / "thesis.tex").read_text() == "two years of work"
    earlier = tmp_path / "build"  # a build from before the marker is still the book's
    (earlier / "src").mkdir(parents=True)
    (earlier / "src" / "_toc.yml").write_text("format: jb-book\n")
    assert book._earlier_build(earlier) and not book._earlier_build(mine)

"""lenet_nb.quiz.widget: the score, the widgets' behaviour, the static view and the imports."""

import html
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lenet_nb.quiz.bank import BANKS
from lenet_nb.quiz.widget import (
    CSS,
    Feedback,
    Quiz,
    Score,
    choice_question,
    feedback_html,
    numeric_question,
    response_feedback,
    self_check,
)
from tests.conftest import make_choice, make_number


def test_feedback_html_escapes_and_names_the_verdict():
    assert feedback_html(Feedback(True, "a < b")).endswith(">Correct!</b> a &lt; b")
    assert feedback_html(Feedback(False, "x")).endswith(">Not quite.</b> x")


# --- score ---------------------------------------------------------------------------------


def test_score_counts_the_latest_check_of_each_question():
    score = Score(["a", "b", "c"])
    assert score.text() == "Score: 0 / 3 correct (0 checked)"
    score.record("a", False)
    assert score.text() == "Score: 0 / 3 correct (1 checked)"
    score.record("a", True)
    score.record("b", True)
    assert score.correct == 2
    score.record("b", False)
    assert score.text() == "Score: 1 / 3 correct (2 checked)"


def test_score_rejects_unknown_question():
    with pytest.raises(KeyError, match="unknown question 'z'"):
        Score(["a"]).record("z", True)


# --- widgets -------------------------------------------------------------------------------


def test_quiz_widgets_grade_and_score_without_printing(capsys):
    quiz = Quiz([make_choice("c1", answer=1), make_number("n1")], title="T")
    choice_view, number_view = quiz.views
    choice_view.answer.value = 0
    choice_view.check.click()
    assert choice_view.feedback.value == feedback_html(Feedback(False, "why a"))
    assert CSS["wrong"] in choice_view.feedback._dom_classes
    assert quiz.score_label.value == "<b>Score: 0 / 2 correct (1 checked)</b>"

    number_view.answer.value = "95.8"
    number_view.check.click()
    assert number_view.feedback.value == feedback_html(Feedback(True, "because"))
    assert quiz.score_label.value == "<b>Score: 1 / 2 correct (2 checked)</b>"

    choice_view.answer.value = 1
    choice_view.check.click()
    assert CSS["correct"] in choice_view.feedback._dom_classes
    assert CSS["wrong"] not in choice_view.feedback._dom_classes
    assert quiz.score_label.value == "<b>Score: 2 / 2 correct (2 checked)</b>"
    assert capsys.readouterr() == ("", "")


def test_invalid_input_gives_a_message_and_leaves_the_score_alone():
    quiz = Quiz([make_choice("c1"), make_number("n1")])
    quiz.views[0].check.click()
    quiz.views[1].answer.value = "lots"
    quiz.views[1].check.click()
    assert quiz.views[0].feedback.value == "Pick one of the choices first."
    assert quiz.views[1].feedback.value.startswith("Type a number such as 12")
    assert all(CSS["invalid"] in v.feedback._dom_classes for v in quiz.views)
    assert quiz.score.latest == {}
    assert quiz.score_label.value == "<b>Score: 0 / 2 correct (0 checked)</b>"


def test_widgets_carry_the_stable_css_classes():
    quiz = Quiz([make_choice("c1"), make_number("n1")])
    choice_view, number_view = quiz.views
    assert {CSS["question"], "lenet-quiz-q-c1"} <= set(choice_view.box._dom_classes)
    assert CSS["choices"] in choice_view.answer._dom_classes
    assert CSS["number"] in number_view.answer._dom_classes
    assert CSS["check"] in choice_view.check._dom_classes
    assert CSS["score"] in quiz.score_label._dom_classes
    assert choice_view.answer.value is None  # nothing preselected
    assert "Pick &lt;b&gt;" in choice_view.box.children[0].value  # prompts are escaped


def test_sections_share_one_score_and_have_a_short_text_repr():
    quiz = Quiz([make_choice("c1", topic="x"), make_number("n1", topic="y")], title="Final")
    assert quiz.topics() == ["x", "y"]
    section = quiz.section("y")
    assert section.views == [quiz.views[1]]
    assert section.widget.children[-1] is quiz.score_label
    bundle = section._repr_mimebundle_()
    assert bundle["text/plain"] == "Final, y: 1 questions"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert quiz._repr_mimebundle_()["text/plain"] == "Final: 2 questions"
    with pytest.raises(ValueError, match=r"no questions on topic 'z'; topics: \['x', 'y'\]"):
        quiz.section("z")


def test_quiz_rejects_duplicate_keys_and_empty_lists():
    with pytest.raises(ValueError, match="unique keys"):
        Quiz([make_choice("a"), make_number("a")])
    with pytest.raises(ValueError, match="at least one question"):
        Quiz([])


def test_self_check_builds_each_chapter_and_rejects_unknown_names():
    for chapter in BANKS:
        quiz = self_check(chapter)
        assert len(quiz.views) == len(quiz.questions) >= 2
    with pytest.raises(ValueError, match=r"unknown chapter 'ch3'; choose one of \['draw_and"):
        self_check("ch3")  # the old numbered names are gone: quizzes are named by slug


# --- the static view: readable without a kernel ----------------------------------------------


def test_static_view_lists_every_prompt_and_option_and_no_answer():
    q_choice = choice_question(
        "c1", "Which <one>?", [("alpha", "WHY-A"), ("beta", "WHY-B")], 1, topic="x"
    )
    q_number = numeric_question("n1", "How many?", 4242, "EXPL", "HINT", topic="y")
    quiz = Quiz([q_choice, q_number], title="Final", static=True)
    whole = quiz._repr_mimebundle_()
    assert whole["text/plain"] == "Final: 2 questions"  # the stored line stays the same
    page = whole["text/html"]
    for text in ("Which &lt;one&gt;?", "<li>alpha</li>", "<li>beta</li>", "How many?"):
        assert text in page
    for secret in ("WHY-A", "WHY-B", "EXPL", "HINT", "4242"):
        assert secret not in page
    section = quiz.section("y")._repr_mimebundle_()["text/html"]
    assert "<b>2.</b> How many?" in section and "alpha" not in section  # numbered as in the quiz


def test_static_view_of_the_final_quiz_holds_no_answer_key():
    quiz = self_check("final", static=True)
    page = "".join(quiz.section(t)._repr_mimebundle_()["text/html"] for t in quiz.topics())
    for q in quiz.questions:
        assert html.escape(q.prompt) in page
        assert all(f"<li>{html.escape(c)}</li>" in page for c in q.choices)
        for secret in q.explanations + (q.explanation, q.hint):
            assert not secret or html.escape(secret) not in page, q.key


def test_without_static_the_display_keeps_only_the_widget_and_its_text():
    bundle = self_check("fc_limits")._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "application/vnd.jupyter.widget-view+json"}


# --- imports: each module imports first, in a fresh interpreter ------------------------------

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
QUIZ_MODULES = ["quiz.widget", "quiz.bank", "quiz.final", "quiz.question", "quiz.fc_limits",
                "quiz.shapes", "quiz.training_loop", "quiz.recipes", "quiz.lenet5_paper",
                "quiz.draw_and_look_inside"]


@pytest.mark.parametrize("first", QUIZ_MODULES)
def test_each_quiz_module_imports_first_in_a_fresh_interpreter(first):
    order = [first] + [m for m in QUIZ_MODULES if m != first]
    code = "; ".join(f"import lenet_nb.{m}" for m in order)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_stored_quiz_notebook_is_readable_without_a_kernel():
    path = Path(__file__).resolve().parents[2] / "notebooks" / "06_quizzes.ipynb"
    nb = json.loads(path.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    stored = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    everything = json.dumps([outputs, nb["metadata"]], ensure_ascii=False)
    # static converters (nbconvert, hence GitHub and nbviewer) show a widget view only when the
    # notebook stores that widget's state; without it they show the text/html list instead
    state = nb["metadata"].get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    views = [o["data"][WIDGET_VIEW] for o in outputs if WIDGET_VIEW in o.get("data", {})]
    quiz = self_check("final")
    assert len(views) == len(quiz.topics()) and not any(view["model_id"] in state for view in views)
    for q in quiz.questions:
        assert html.escape(q.prompt) in stored, q.key
        assert all(f"<li>{html.escape(c)}</li>" in stored for c in q.choices), q.key
        for secret in q.explanations + (q.explanation, q.hint):  # nor any answer's explanation
            assert not secret or (secret not in everything
                                  and html.escape(secret) not in everything), q.key


def test_invalid_input_is_quoted_as_typed():
    """Only the message's first letter is upper-cased: the echo of the input stays as typed."""
    state, text = response_feedback(make_number("n1"), "ABC")
    assert state == "invalid"
    assert text == "Type a number such as 12, 59134 or 95.8 (got &#x27;ABC&#x27;)."


def test_only_ascii_digits_and_spaces_count():
    """The website's script reads numbers the same way (tests/course/test_book.py)."""
    q = make_number("n1")
    assert response_feedback(q, "\u0661\u0662")[0] == "invalid"  # Arabic-Indic 12
    assert response_feedback(q, "\u00a095.8")[0] == "invalid"  # no-break space
    assert response_feedback(q, " \t95.8 %\n")[0] == "correct"

"""Tests for lenet_nb.quiz: question checks, grading, score and the widgets' behaviour."""

import math

import pytest

from lenet_nb.quiz import (
    CSS,
    Feedback,
    Question,
    Quiz,
    Score,
    choice_question,
    feedback_html,
    grade,
    numeric_question,
    parse_number,
    self_check,
)


def make_choice(key="c", answer=1, topic="t"):
    return choice_question(
        key, "Pick <b>", [("a", "why a"), ("b", "why b"), ("c", "why c")], answer, topic=topic
    )


def make_number(key="n", answer=95.8, tolerance=0.05, topic="t"):
    return numeric_question(key, "How much?", answer, "because", "try again", tolerance, topic)


# --- questions as data ---------------------------------------------------------------------


def test_choice_question_fields():
    q = make_choice()
    assert q.choices == ("a", "b", "c")
    assert q.explanations == ("why a", "why b", "why c")
    assert q.answer == 1 and not q.is_numeric


def test_numeric_question_fields():
    q = make_number()
    assert q.is_numeric and q.choices == () and q.tolerance == 0.05


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(answer=3), "choice index in 0..2"),
        (dict(answer=-1), "choice index"),
        (dict(answer=1.0), "choice index"),
        (dict(explanations=("x", "y")), "one explanation per choice"),
        (dict(explanations=("x", "", "z")), "one explanation per choice"),
        (dict(choices=("a", "a", "c")), "distinct choices"),
        (dict(choices=("a",), explanations=("x",), answer=0), "at least 2"),
    ],
)
def test_bad_choice_question_is_rejected(kwargs, message):
    fields = dict(
        key="k", prompt="p", answer=0, choices=("a", "b", "c"), explanations=("x", "y", "z")
    )
    fields.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Question(**fields)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(answer="12"), "numeric answer"),
        (dict(answer=True), "numeric answer"),
        (dict(tolerance=-0.1), "tolerance"),
        (dict(tolerance=math.nan), "tolerance"),
        (dict(tolerance=math.inf), "tolerance"),
        (dict(hint=""), "explanation and a hint"),
        (dict(explanation=""), "explanation and a hint"),
        (dict(explanations=("x",)), "need choices"),
        (dict(key=""), "non-empty key"),
        (dict(prompt=""), "non-empty key and prompt"),
    ],
)
def test_bad_numeric_question_is_rejected(kwargs, message):
    fields = dict(key="k", prompt="p", answer=12, explanation="e", hint="h")
    fields.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Question(**fields)


# --- grading -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("12", 12.0),
        (" 59,134 ", 59134.0),
        ("95.8 %", 95.8),
        ("95.8%", 95.8),
        ("-0.5", -0.5),
        (".25", 0.25),
        ("1e3", 1000.0),
        ("60_000", 60000.0),
        ("60 000", 60000.0),
        (7, 7.0),
    ],
)
def test_parse_number_reads_what_people_type(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["abc", "12 GB", "1.2.3", "--1", "nan", True])
def test_parse_number_rejects_non_numbers_with_an_example(text):
    with pytest.raises(ValueError, match="type a number such as 12"):
        parse_number(text)


def test_parse_number_empty_asks_for_a_number():
    with pytest.raises(ValueError, match="type a number first"):
        parse_number("   ")


def test_grade_choice_returns_the_chosen_explanation():
    q = make_choice(answer=1)
    assert grade(q, 1) == Feedback(True, "why b")
    assert grade(q, 0) == Feedback(False, "why a")
    assert grade(q, 2) == Feedback(False, "why c")


@pytest.mark.parametrize(
    "response, message",
    [
        (None, "pick one of the choices first"),
        (3, r"in 0\.\.2"),
        (-1, r"in 0\.\.2"),
        ("b", "by its index"),
        (True, "by its index"),
    ],
)
def test_grade_choice_rejects_bad_responses(response, message):
    with pytest.raises(ValueError, match=message):
        grade(make_choice(), response)


def test_grade_numeric_uses_the_tolerance():
    q = make_number(answer=95.8, tolerance=0.05)
    assert grade(q, "95.8") == Feedback(True, "because")
    assert grade(q, "95.84 %").correct
    assert grade(q, 95.76).correct
    assert grade(q, "95.9") == Feedback(False, "try again")
    assert not grade(q, "4.2").correct


def test_grade_numeric_exact_answer_needs_the_exact_number():
    q = make_number(answer=61706, tolerance=0)
    assert grade(q, "61,706").correct
    assert not grade(q, "61705").correct


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
    for chapter in ["ch1", "ch2", "ch3", "ch4", "ch5"]:
        quiz = self_check(chapter)
        assert len(quiz.views) == len(quiz.questions) >= 2
    with pytest.raises(ValueError, match=r"unknown chapter 'ch9'; choose one of \['ch1'"):
        self_check("ch9")

"""Self-checking quizzes shown with ipywidgets; questions and grading live in quiz_question."""

import html

import ipywidgets as widgets

from lenet_nb.quiz.bank import BANKS, TITLES
from lenet_nb.quiz.question import (  # noqa: F401 - the quiz API, importable from here too
    Feedback,
    Question,
    choice_question,
    grade,
    numeric_question,
    parse_number,
)

# Stable CSS classes: the browser tests (tests/browser/) find the quiz by these names.
CSS = {
    "quiz": "lenet-quiz",
    "question": "lenet-quiz-question",
    "prompt": "lenet-quiz-prompt",
    "choices": "lenet-quiz-choices",
    "number": "lenet-quiz-number",
    "check": "lenet-quiz-check",
    "feedback": "lenet-quiz-feedback",
    "correct": "lenet-quiz-correct",
    "wrong": "lenet-quiz-wrong",
    "invalid": "lenet-quiz-invalid",
    "score": "lenet-quiz-score",
    "static": "lenet-quiz-static",
}

class Score:
    """Running score: a question counts as right when its latest check was right."""

    def __init__(self, keys):
        self.keys = list(keys)
        self.latest = {}

    def record(self, key, correct):
        """Remember the outcome of the latest check of question `key`."""
        if key not in self.keys:
            raise KeyError(f"unknown question {key!r}; known: {self.keys}")
        self.latest[key] = bool(correct)

    @property
    def correct(self):
        """Number of questions whose latest check was right."""
        return sum(self.latest.values())

    def text(self):
        """The score line shown under the questions."""
        return f"Score: {self.correct} / {len(self.keys)} correct ({len(self.latest)} checked)"


def feedback_html(feedback):
    """HTML for a graded answer: a verdict and the explanation."""
    verdict, color = ("Correct!", "#1a7f37") if feedback.correct else ("Not quite.", "#b35900")
    return f'<b style="color: {color}">{verdict}</b> {html.escape(feedback.message)}'


def response_feedback(question, response):
    """(state, HTML) shown for one response; state is correct, wrong or invalid.

    The website's quiz script (book/static/lenet-quiz.js) shows the same; a test checks both.
    """
    try:
        result = grade(question, response)
    except ValueError as err:
        text = str(err)  # upper-case the first letter only: the rest quotes what was typed
        return "invalid", html.escape(text[:1].upper() + text[1:]) + "."
    return ("correct" if result.correct else "wrong"), feedback_html(result)


def static_html(numbered, label):
    """HTML listing (number, question) pairs with their options, never the answers."""
    # what a reader sees without a kernel (GitHub, nbviewer, an untrusted notebook)
    parts = [f'<div class="{CSS["static"]}"><p><b>{html.escape(label)}</b>: '
             f"{len(numbered)} questions (run the notebook to check your answers)</p>"]
    for number, q in numbered:
        parts.append(f"<p><b>{number}.</b> {html.escape(q.prompt)}</p>")
        if q.is_numeric:
            parts.append("<ul><li><i>type a number</i></li></ul>")
        else:
            items = "".join(f"<li>{html.escape(c)}</li>" for c in q.choices)
            parts.append(f'<ol type="a">{items}</ol>')
    return "".join(parts) + "</div>"


class QuestionView:
    """The widgets of one question: prompt, answer input, Check button and feedback."""

    def __init__(self, question, number, on_checked):
        self.question, self.number = question, number
        self.on_checked = on_checked
        prompt = widgets.HTML(f"<b>{number}.</b> {html.escape(question.prompt)}")
        prompt.add_class(CSS["prompt"])
        if question.is_numeric:
            self.answer = widgets.Text(placeholder="type a number", continuous_update=False)
            self.answer.add_class(CSS["number"])
        else:
            options = [(text, i) for i, text in enumerate(question.choices)]
            self.answer = widgets.RadioButtons(
                options=options, value=None, layout=widgets.Layout(width="auto")
            )
            self.answer.add_class(CSS["choices"])
        self.check = widgets.Button(description="Check", button_style="info")
        self.check.add_class(CSS["check"])
        self.check.on_click(self._on_click)
        self.feedback = widgets.HTML("")
        self.feedback.add_class(CSS["feedback"])
        self.box = widgets.VBox(
            [prompt, self.answer, self.check, self.feedback],
            layout=widgets.Layout(margin="0 0 14px 0"),
        )
        self.box.add_class(CSS["question"])
        self.box.add_class(f"lenet-quiz-q-{question.key}")

    def _set_state(self, state, text):
        """Show `text` in the feedback area, tagged correct / wrong / invalid."""
        for name in ("correct", "wrong", "invalid"):
            self.feedback.remove_class(CSS[name])
        self.feedback.add_class(CSS[state])
        self.feedback.value = text

    def submit(self):
        """Grade the current input, update the feedback (what Check does); return the state."""
        state, text = response_feedback(self.question, self.answer.value)
        self._set_state(state, text)
        if state != "invalid":
            self.on_checked(self.question.key, state == "correct")
        return state

    def _on_click(self, _button):
        # Callbacks only change widget state: a print here would leak into nbval's outputs.
        self.submit()


class QuizSection:
    """Some of a quiz's questions shown together with the quiz's shared score line."""

    def __init__(self, quiz, views, label):
        self.quiz, self.views, self.label = quiz, views, label
        self.widget = widgets.VBox([view.box for view in views] + [quiz.score_label])
        self.widget.add_class(CSS["quiz"])

    def _repr_mimebundle_(self, **kwargs):
        """Show the widgets; a short stable text replaces the long widget repr."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # what a reader sees where the widgets cannot be shown (a stored notebook, nbval);
        # chapters store this line and nbval compares it, so keep it stable
        bundle["text/plain"] = f"{self.label}: {len(self.views)} questions"
        if self.quiz.static:
            bundle["text/html"] = static_html(
                [(view.number, view.question) for view in self.views], self.label
            )
        return bundle


class Quiz:
    """Questions shown as widgets with one running score; `section(topic)` shows a part.

    static=True adds an HTML list of the questions and options to the display, for readers
    without a kernel; it is a new stored output, so a chapter opts in when it re-stores the cell.
    """

    def __init__(self, questions, title="Self-check", static=False):
        questions = list(questions)
        keys = [q.key for q in questions]
        if not questions or len(set(keys)) != len(keys):
            raise ValueError(f"a quiz needs at least one question and unique keys, got {keys}")
        self.questions, self.title, self.static = questions, title, bool(static)
        self.score = Score(keys)
        self.score_label = widgets.HTML(f"<b>{self.score.text()}</b>")
        self.score_label.add_class(CSS["score"])
        self.views = [QuestionView(q, i + 1, self._record) for i, q in enumerate(questions)]

    def _record(self, key, correct):
        self.score.record(key, correct)
        self.score_label.value = f"<b>{self.score.text()}</b>"

    def topics(self):
        """The topics of the questions, in order of first appearance."""
        return list(dict.fromkeys(q.topic for q in self.questions))

    def section(self, topic):
        """A displayable part of the quiz: the questions of one topic and the shared score."""
        views = [v for v in self.views if v.question.topic == topic]
        if not views:
            raise ValueError(f"no questions on topic {topic!r}; topics: {self.topics()}")
        return QuizSection(self, views, f"{self.title}, {topic}")

    def _repr_mimebundle_(self, **kwargs):
        return QuizSection(self, self.views, self.title)._repr_mimebundle_(**kwargs)


def self_check(chapter, static=False):
    """A quiz by its chapter's notebook slug: `self_check("fc_limits")`, or "final"."""
    if chapter not in BANKS:
        raise ValueError(f"unknown chapter {chapter!r}; choose one of {sorted(BANKS)}")
    return Quiz(BANKS[chapter], title=TITLES[chapter], static=static)

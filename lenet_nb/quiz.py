"""Self-checking quizzes: questions as data, graded in plain Python, shown with ipywidgets."""

import html
import math
import re
from dataclasses import dataclass

import ipywidgets as widgets

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
}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_SEPARATOR = re.compile(r"[, _]")
# sign, digits grouped by three (59,134 or 60 000 or 1_000_000), the rest (decimals, exponent)
_GROUPED = re.compile(r"^([+-]?)(\d{1,3}(?:[, _]\d{3})+)(?!\d)(.*)$")


@dataclass(frozen=True)
class Question:
    """One question: choices with the index of the right one, or a number with a tolerance."""

    key: str
    prompt: str
    answer: object  # index of the right choice, or the number
    choices: tuple = ()
    explanations: tuple = ()  # one per choice: why that choice is right or wrong
    explanation: str = ""  # numeric questions: shown once answered correctly
    hint: str = ""  # numeric questions: shown after a wrong answer
    tolerance: float = 0.0
    topic: str = ""

    def __post_init__(self):
        if not self.key or not self.prompt:
            raise ValueError("a Question needs a non-empty key and prompt")
        if self.choices:
            _check_choice_question(self)
        else:
            _check_numeric_question(self)

    @property
    def is_numeric(self):
        """True for a question answered by typing a number."""
        return not self.choices


def _check_choice_question(q):
    """Raise ValueError unless a choice question is complete and consistent."""
    n = len(q.choices)
    if n < 2 or len(set(q.choices)) != n:
        raise ValueError(f"question {q.key!r}: needs at least 2 distinct choices, got {q.choices}")
    if not isinstance(q.answer, int) or not 0 <= q.answer < n:
        raise ValueError(f"question {q.key!r}: answer must be a choice index in 0..{n - 1}")
    if len(q.explanations) != n or not all(q.explanations):
        raise ValueError(
            f"question {q.key!r}: give one explanation per choice ({n}), got {len(q.explanations)}"
        )


def _check_numeric_question(q):
    """Raise ValueError unless a numeric question is complete and consistent."""
    if isinstance(q.answer, bool) or not isinstance(q.answer, (int, float)):
        raise ValueError(f"question {q.key!r}: a question without choices needs a numeric answer")
    if not q.tolerance >= 0 or math.isinf(q.tolerance):
        raise ValueError(f"question {q.key!r}: tolerance must be a finite number >= 0")
    if not q.explanation or not q.hint:
        raise ValueError(f"question {q.key!r}: a numeric question needs an explanation and a hint")
    if q.explanations:
        raise ValueError(f"question {q.key!r}: explanations per choice need choices")


@dataclass(frozen=True)
class Feedback:
    """The outcome of one check: right or not, and the text to show."""

    correct: bool
    message: str


def _ungroup(text, original):
    """Drop thousands separators (, _ or space between groups of three digits) from `text`."""
    if not _SEPARATOR.search(text):
        return text
    m = _GROUPED.match(text)
    if m is None or _SEPARATOR.search(m.group(3)):
        if "," in text:  # "3,07" is a decimal comma, not 307
            as_in = (f", as in {text.replace(',', '.')!r}"
                     if text.count(",") == 1 and "." not in text else "")
            raise ValueError(f"use a decimal point{as_in}: a comma may only separate "
                             f"thousands, as in 59,134 (got {original!r})")
        raise ValueError(f"type a number such as 12, 59134 or 95.8 (got {original!r})")
    return m.group(1) + _SEPARATOR.sub("", m.group(2)) + m.group(3)


def parse_number(text):
    """Read a typed number, tolerating thousands separators, spaces and a trailing %."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    cleaned = str(text).strip()
    cleaned = cleaned[:-1].rstrip() if cleaned.endswith("%") else cleaned
    if not cleaned:
        raise ValueError("type a number first, such as 12, 59134 or 95.8")
    cleaned = _ungroup(cleaned, str(text))
    if not _NUMBER.match(cleaned):
        raise ValueError(f"type a number such as 12, 59134 or 95.8 (got {str(text)!r})")
    return float(cleaned)


def grade(question, response):
    """Grade one response: a choice index, or a number (or the text typed for one)."""
    if question.is_numeric:
        value = parse_number(response)
        if abs(value - question.answer) <= question.tolerance:
            return Feedback(True, question.explanation)
        return Feedback(False, question.hint)
    if response is None:
        raise ValueError("pick one of the choices first")
    if isinstance(response, bool) or not isinstance(response, int):
        raise ValueError(f"a choice is given by its index, got {response!r}")
    if not 0 <= response < len(question.choices):
        raise ValueError(f"choice index must be in 0..{len(question.choices) - 1}, got {response}")
    return Feedback(response == question.answer, question.explanations[response])


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


class QuestionView:
    """The widgets of one question: prompt, answer input, Check button and feedback."""

    def __init__(self, question, number, on_checked):
        self.question = question
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
        """Grade the current input and update the feedback (what the Check button does)."""
        try:
            result = grade(self.question, self.answer.value)
        except ValueError as err:
            self._set_state("invalid", html.escape(str(err).capitalize()) + ".")
            return None
        self._set_state("correct" if result.correct else "wrong", feedback_html(result))
        self.on_checked(self.question.key, result.correct)
        return result

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
        return bundle


class Quiz:
    """Questions shown as widgets with one running score; `section(topic)` shows a part."""

    def __init__(self, questions, title="Self-check"):
        questions = list(questions)
        keys = [q.key for q in questions]
        if not questions or len(set(keys)) != len(keys):
            raise ValueError(f"a quiz needs at least one question and unique keys, got {keys}")
        self.questions, self.title = questions, title
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


def choice_question(key, prompt, options, answer, topic=""):
    """A multiple-choice Question built from (choice, explanation) pairs."""
    choices = tuple(text for text, _ in options)
    explanations = tuple(why for _, why in options)
    return Question(key, prompt, answer, choices, explanations, topic=topic)


def numeric_question(key, prompt, answer, explanation, hint, tolerance=0.0, topic=""):
    """A Question answered by typing a number, right within `tolerance`."""
    return Question(
        key, prompt, answer, explanation=explanation, hint=hint, tolerance=tolerance, topic=topic
    )


def self_check(chapter):
    """The self-check quiz at the end of a chapter: `self_check("ch1")` as a cell's last line."""
    from lenet_nb.quiz_bank import BANKS, TITLES

    if chapter not in BANKS:
        raise ValueError(f"unknown chapter {chapter!r}; choose one of {sorted(BANKS)}")
    return Quiz(BANKS[chapter], title=TITLES[chapter])

"""lenet_nb.quiz.final: the final quiz covers every topic, and chapter 6 shows each topic once."""

import re
from pathlib import Path

from lenet_nb.quiz.bank import BANKS
from lenet_nb.quiz.final import FINAL

ROOT = Path(__file__).resolve().parents[2]


def test_final_quiz_covers_the_chapters_with_at_least_15_questions():
    final = FINAL
    assert BANKS["final"] is FINAL
    assert len(final) >= 15
    assert {q.topic for q in final} == {"parameters", "convolutions", "shapes", "training loop",
                                         "recipes and pitfalls", "paper"}
    boyu = [q for q in final if q.key.startswith("boyu-")]
    assert [len(q.choices) for q in boyu] == [4, 4]


def test_the_quiz_notebook_shows_every_topic_once():
    source = (ROOT / "notebooks_py" / "06_quizzes.py").read_text()
    shown = re.findall(r'quiz\.section\("([^"]+)"\)', source)
    final = FINAL
    assert shown == list(dict.fromkeys(q.topic for q in final))
    # the introduction states the number of questions in words: keep it true
    assert len(final) == 23 and "Twenty-three questions" in source

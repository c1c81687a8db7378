"""lenet_nb.quiz.bank: the banks as a whole: names, sizes, unique keys, answers spread over
positions."""

from pathlib import Path

from lenet_nb.quiz.bank import BANKS, TITLES
from tests.quiz.answer_key import QUESTIONS

ROOT = Path(__file__).resolve().parents[2]
# each chapter's self-check: its questions' keys start with the chapter's prefix
PREFIXES = {"fc_limits": "fc-", "shapes": "shapes-", "training_loop": "loop-",
            "recipes": "recipes-", "lenet5_paper": "paper-", "draw_and_look_inside": "draw-"}

# --- the banks' shape -------------------------------------------------------------------------


def test_quizzes_are_named_by_their_chapters_slug():
    chapters = {p.stem.split("_", 1)[1] for p in (ROOT / "notebooks").glob("0*.ipynb")}
    assert set(BANKS) == set(TITLES) == set(PREFIXES) | {"final"}
    assert set(PREFIXES) | {"quizzes"} == chapters - {"start_here"}


def test_chapter_self_checks_have_two_to_four_questions():
    for chapter in PREFIXES.keys() - {"draw_and_look_inside"}:  # the last chapter's has five
        assert 2 <= len(BANKS[chapter]) <= 4, chapter


def test_every_question_key_starts_with_its_chapters_prefix():
    for chapter, prefix in PREFIXES.items():
        assert all(q.key.startswith(prefix) for q in BANKS[chapter]), chapter


def test_keys_are_unique_across_banks():
    keys = [q.key for bank in BANKS.values() for q in bank]
    assert len(keys) == len(set(keys)) == len(QUESTIONS)


def test_right_answers_are_not_always_in_the_same_place():
    positions = [q.answer for q in QUESTIONS.values() if not q.is_numeric]
    assert len(set(positions)) >= 3
    assert max(positions.count(i) for i in set(positions)) <= len(positions) // 2

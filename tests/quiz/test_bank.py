"""lenet_nb.quiz.bank: the banks as a whole: sizes, unique keys, answers spread over positions."""


from lenet_nb.quiz.bank import BANKS
from tests.quiz.answer_key import QUESTIONS

# --- the banks' shape -------------------------------------------------------------------------


def test_chapter_self_checks_have_two_to_four_questions():
    for chapter in ("ch1", "ch2", "ch3", "ch4"):
        assert 2 <= len(BANKS[chapter]) <= 4, chapter


def test_keys_are_unique_across_banks():
    keys = [q.key for bank in BANKS.values() for q in bank]
    assert len(keys) == len(set(keys)) == len(QUESTIONS)


def test_right_answers_are_not_always_in_the_same_place():
    positions = [q.answer for q in QUESTIONS.values() if not q.is_numeric]
    assert len(set(positions)) >= 3
    assert max(positions.count(i) for i in set(positions)) <= len(positions) // 2

"""Helpers of the quiz answer-key tests: each question's key is computed from lenet_nb."""


from lenet_nb.quiz.bank import BANKS
from lenet_nb.quiz.question import grade

QUESTIONS = {q.key: q for bank in BANKS.values() for q in bank}


def assert_number(key, computed):
    """The key of numeric question `key` accepts the computed value."""
    q = QUESTIONS[key]
    assert q.is_numeric
    assert grade(q, computed).correct, f"{key}: key {q.answer} but lenet_nb computes {computed}"


def assert_choice(key, computed_text):
    """The right choice of question `key` starts with the computed text, and no other one does."""
    q = QUESTIONS[key]
    starts = [i for i, c in enumerate(q.choices) if c.startswith(computed_text)]
    assert starts == [q.answer], f"{key}: {computed_text!r} should be choice {q.answer} only"



def checks_of(namespace):
    """{question key: check function} for every `check_<key>` function of a test module."""
    return {name.removeprefix("check_").replace("_", "-"): fn
            for name, fn in list(namespace.items()) if name.startswith("check_")}


def run_check(checks, key, request):
    """Run the answer-key check of question `key`, giving it tmp_path when it asks for one."""
    assert key in checks, f"question {key!r} has no answer-key check"
    fn = checks[key]
    wants = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    fn(**({"tmp_path": request.getfixturevalue("tmp_path")} if "tmp_path" in wants else {}))


def keys(*banks):
    """The sorted keys of the questions in the given lists."""
    return sorted(q.key for bank in banks for q in bank)



"""The checker framework: verdicts, safe calls into learner code, tensor and value comparisons."""

import torch

from lenet_nb.exercises.checking import (
    NotYet,
    Verdict,
    call,
    checker,
    expect_equal,
    expect_tensor,
    require_answer,
    require_number,
    require_shape,
    unanswered,
)


@checker("double")
def check_double(fn):
    """A tiny checker used to exercise the framework."""
    got = call(fn, torch.tensor([1.0, 2.0]))
    expect_tensor(got, torch.tensor([2.0, 4.0]), "double(x)",
                  hints=[(lambda g: torch.equal(g, torch.tensor([1.0, 2.0])),
                          "you returned the input unchanged")])
    return "doubles correctly"


def test_verdict_text_and_truth():
    ok, bad = Verdict("ex", True, "fine"), Verdict("ex", False, "wrong shape")
    assert repr(ok) == "✔ ex: fine" and ok
    assert repr(bad) == "✘ ex, not yet: wrong shape" and not bad


def test_checker_passes_on_a_right_answer():
    v = check_double(lambda x: 2 * x)
    assert v.passed and repr(v) == "✔ double: doubles correctly"


def test_checker_reports_a_stub():
    def double(x):
        ...  # your code here

    v = check_double(double)
    assert not v.passed and "`double` returned None" in v.message


def test_checker_reports_an_unanswered_name():
    v = check_double(...)
    assert not v.passed and "not defined yet" in v.message


def test_checker_reports_the_learners_exception_and_line():
    def double(x):
        return x * undefined_name  # noqa: F821

    v = check_double(double)
    assert not v.passed
    assert "NameError" in v.message and "return x * undefined_name" in v.message


def test_checker_hint_names_the_typical_mistake():
    v = check_double(lambda x: x)
    assert not v.passed
    assert "2 of 2 values are wrong; the first, at index (0,), is 1, expected 2" in v.message
    assert "Hint: you returned the input unchanged" in v.message


def test_checker_reports_wrong_shape_and_type():
    assert "has shape (1,), expected (2,)" in check_double(lambda x: x[:1]).message
    assert "should be a torch tensor, got list" in check_double(lambda x: [2, 4]).message
    assert "should be a function, got int" in check_double(3).message


def test_checker_never_raises_even_when_the_check_itself_breaks():
    @checker("fragile")
    def check_fragile(x):
        return 1 / x

    v = check_fragile(0)
    assert not v.passed and "ZeroDivisionError" in v.message


def test_expect_equal_reveals_only_when_asked():
    try:
        expect_equal((1, 6, 28, 28), (1, 6, 24, 24), "your shape", reveal=False)
    except NotYet as problem:
        assert "which is not right" in str(problem) and "24" not in str(problem)
    else:
        raise AssertionError("a wrong value must raise NotYet")
    expect_equal(torch.Size([2, 3]), (2, 3), "a torch.Size compares as a tuple")
    expect_equal([2, 3], (2, 3), "a list compares as a tuple")


def test_require_answer_and_unanswered():
    assert unanswered(...) and unanswered(None) and not unanswered(0)
    assert require_answer(5, "n") == 5
    try:
        require_answer(..., "n")
    except NotYet as problem:
        assert "`n` is still `...`" in str(problem)
    else:
        raise AssertionError("a stub must raise NotYet")


# --- issue 17 item 6: checkers stay calm whatever they get -------------------------------------


def _exits():
    def learner(x):
        import sys

        sys.exit("bye")

    return learner


def _closes():
    def learner(x):
        raise GeneratorExit

    return learner


def test_sys_exit_and_generator_exit_in_learner_code_are_reported_not_raised():
    verdict = check_double(_exits())
    assert not verdict and "called sys.exit(): a function should `return` its result" in (
        verdict.message)
    verdict = check_double(_closes())
    assert not verdict and "raised GeneratorExit (it closes a generator" in verdict.message

    @checker("direct")
    def check_direct(value):
        import sys

        sys.exit(1)  # e.g. a learner object's __eq__ that exits

    assert "sys.exit()" in check_direct(3).message


def test_ctrl_c_in_learner_code_still_stops_the_cell():
    def learner(x):
        raise KeyboardInterrupt

    try:
        check_double(learner)
    except KeyboardInterrupt:
        return
    raise AssertionError("a Ctrl-C was swallowed by the checker")


def test_numbers_typed_as_text_get_the_quotes_hint_right_or_wrong():
    for text in ("235", "236", "48,120", " 7 "):
        try:
            require_number(text, "steps")
        except NotYet as e:
            assert str(e) == f"`steps` is {text!r}, text in quotes: write one number, without " \
                             f"quotes"
        else:
            raise AssertionError(text)
    try:
        require_shape("(1, 6, 14, 14)", "shape")
    except NotYet as e:
        assert "without quotes" in str(e) and "tuple of whole numbers" in str(e)


def test_numpy_and_torch_numbers_count_wherever_a_whole_number_does():
    import numpy as np

    for value in (235, np.int64(235), np.int32(235), torch.tensor(235), torch.tensor([235]),
                  235.0, np.float64(235.0)):
        got = require_number(value, "steps")
        assert got == 235 and type(got) is int, value
    assert require_number(np.float32(0.5), "acc") == 0.5
    for value in (True, [235], None, torch.tensor([1, 2]), "x"):
        try:
            require_number(value, "steps")
        except NotYet:
            continue
        raise AssertionError(value)
    for value in ((1, 6, 14, 14), [1, 6, 14, 14], torch.Size([1, 6, 14, 14]),
                  np.array([1, 6, 14, 14]), torch.tensor([1, 6, 14, 14]),
                  tuple(np.int64(v) for v in (1, 6, 14, 14))):
        assert require_shape(value, "shape", ndim=4) == (1, 6, 14, 14), value
    for value in ((1, 6, 14.5, 14), (1, 6, 14), "1x6"):
        try:
            require_shape(value, "shape", ndim=4)
        except NotYet:
            continue
        raise AssertionError(value)


def test_a_checker_called_without_the_answer_says_what_to_pass():
    verdict = check_double()
    assert not verdict and verdict.message == "pass your answer to the checker: check_double(fn)"

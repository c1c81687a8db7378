"""The checker framework: verdicts, safe calls into learner code, tensor and value comparisons."""

import sys
import types
import warnings

import pytest
import torch

from lenet_nb.exercises.checking import (
    KINDS,
    NotStarted,
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


def test_a_stub_is_not_started():
    def double(x):
        ...  # your code here

    v = check_double(double)
    assert not v.passed and not v.started and v.mark == "○"
    assert repr(v) == ("○ double, not started: `double` still holds the stub: replace the `...` "
                       "with your code")


def test_a_function_returning_none_without_the_stub_line_is_started_and_wrong():
    def double(x):
        x * 2

    v = check_double(double)
    assert v.started and v.mark == "✘" and "`double` returned None" in v.message


def test_checker_reports_an_unanswered_name():
    v = check_double(...)
    assert not v.passed and not v.started and "not defined yet" in v.message


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
    except NotStarted as problem:
        assert "`n` is still `...`" in str(problem)
    else:
        raise AssertionError("a stub must raise NotStarted")


def _registered_module(monkeypatch):
    """A throwaway chapter module with a registry and two checkers defined inside it."""
    module = types.ModuleType("lenet_nb.exercises._fake_chapter")
    module.CHAPTER, module.EXERCISES = 3, {"first": KINDS[0], "second": KINDS[1]}
    monkeypatch.setitem(sys.modules, module.__name__, module)
    source = (
        "from lenet_nb.exercises.checking import checker, require_answer\n"
        "import warnings\n"
        "@checker('second', leaks=[r'\\b42\\b'])\n"
        "def check_second(n):\n"
        "    require_answer(n, 'n')\n"
        "    warnings.warn('a library warning')\n"
        "    if n != 42:\n"
        "        raise NotYet('not that one')\n"
        "    return 'right'\n"
    )
    module.__dict__["NotYet"] = NotYet
    exec(compile(source, "<fake>", "exec"), module.__dict__)
    return module


def test_verdicts_carry_the_exercise_number_from_the_registry(monkeypatch):
    module = _registered_module(monkeypatch)
    assert repr(module.check_second(42)) == "✔ 3.2 second: right"
    assert repr(module.check_second(7)) == "✘ 3.2 second, not yet: not that one"
    assert repr(module.check_second(...)).startswith("○ 3.2 second, not started: `n` is still")
    assert module.check_second.leaks == (r"\b42\b",)
    assert module.check_second.exercise == "second"


def test_warnings_inside_a_check_reach_nobody(monkeypatch, capfd):
    module = _registered_module(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning that escaped would raise here
        assert module.check_second(42)
    assert capfd.readouterr().err == ""


def test_nbgrader_mode_prints_a_pass_and_raises_on_anything_else(monkeypatch, capsys):
    module = _registered_module(monkeypatch)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert module.check_second(42) is None
    assert capsys.readouterr().out == "✔ 3.2 second: right\n"
    with pytest.raises(AssertionError, match="✘ 3.2 second, not yet: not that one"):
        module.check_second(7)
    with pytest.raises(AssertionError, match="○ 3.2 second, not started"):
        module.check_second(...)
    monkeypatch.delenv("NBGRADER_EXECUTION")
    assert not module.check_second(7)  # a learner's session: a verdict, never a raise


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

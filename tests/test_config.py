"""The quick-mode knob."""

from lenet_nb import config


def test_reduce_in_tests_follows_the_environment(monkeypatch):
    monkeypatch.setenv(config.QUICK_ENV, "1")
    assert config.is_quick() and config.reduce_in_tests(10, 1) == 1
    for off in ("0", " No ", "false", "OFF"):
        monkeypatch.setenv(config.QUICK_ENV, off)
        assert not config.is_quick() and config.reduce_in_tests(10, 1) == 10
    monkeypatch.delenv(config.QUICK_ENV)
    assert config.reduce_in_tests(10, 1) == 10


def test_pytest_runs_in_quick_mode():
    # the repo-root conftest.py turns quick mode on for every pytest run, notebooks included
    assert config.is_quick()

"""The quick-mode knob and the course folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


# --- careless and hostile inputs ------------------------------------------------------------


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value", ["2", "yes!", "", "  "])
def test_item14_unknown_quick_values_are_errors(monkeypatch, value):
    monkeypatch.setenv(config.QUICK_ENV, value)
    with pytest.raises(ValueError, match="LENET_NB_QUICK=.* is not understood") as e:
        config.reduce_in_tests(10, 1)
    assert "1, true, yes, on" in str(e.value) and "0, false, no, off" in str(e.value)


@pytest.mark.parametrize("value, quick", [("TRUE", True), (" on ", True), ("Off", False),
                                          ("no", False)])
def test_item14_documented_words_in_any_case(monkeypatch, value, quick):
    monkeypatch.setenv(config.QUICK_ENV, value)
    assert config.is_quick() is quick
    for word in config.TRUE_WORDS + config.FALSE_WORDS:  # the docstring and README list them
        assert f"`{word}`" in (ROOT / "README.md").read_text()
        assert word in config.__doc__


def test_item14_pytest_refuses_to_start_on_an_unknown_value():
    env = {**os.environ, config.QUICK_ENV: "2"}
    run = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider",
                          "conftest.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0
    assert "LENET_NB_QUICK='2' is not understood" in run.stdout + run.stderr


def test_the_course_folder_is_the_repository_or_lenet_nb_root(tmp_path):
    """An installed package finds results/ and data/ where LENET_NB_ROOT says (read at import)."""
    assert config.COURSE_ROOT == Path(__file__).resolve().parent.parent
    code = "from lenet_nb import config, data, experiments; " \
           "print(config.COURSE_ROOT, data.data_root(), experiments.RESULTS)"
    env = {k: v for k, v in os.environ.items() if k != "LENET_NB_DATA"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "LENET_NB_ROOT": str(tmp_path)}, check=True).stdout
    assert out.split() == [str(tmp_path), str(tmp_path / "data"), str(tmp_path / "results")]

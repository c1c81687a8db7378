"""Project files agree: environment.yml vs pyproject.toml, .ci/run vs the README's command."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_deps():
    return sorted(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def test_environment_yml_lists_the_pyproject_dependencies():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(p for p in pip if p != "-e .") == _pyproject_deps()
    assert "-e ." in pip


def test_torch_ranges_admit_the_versions_on_this_platform():
    deps = dict(re.match(r"([a-z]+)(.*)", d).groups() for d in _pyproject_deps())
    assert deps["torch"] == ">=2.2,<=2.14.1" and deps["torchvision"] == ">=0.17,<=0.29.1"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"<!-- test-command -->\s*```sh\n(.+?)\n```", readme, re.S).group(1)
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command.strip() in ci_lines
    assert "set -euo pipefail" in ci_lines  # a failing step fails CI


def test_data_and_checkpoints_are_git_ignored():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert {"data/", ".venv/", "*.pt"} <= set(ignored)


def test_readme_chapter_table_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `(\d\d_\w+)` \|", readme, re.M))
    on_disk = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk and listed == on_disk

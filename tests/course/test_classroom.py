"""The classroom recipe: postBuild's steps in a fresh virtual environment, the package installed
non-editable (`pip install .`) and its command lines run from there, outside the repository.

The fresh venv sees the course venv's dependencies through one `.pth` line pointing at a folder of
symlinks to them (everything but lenet_nb itself), so torch is not reinstalled (5.8 GB) and pip
still installs lenet_nb for real into the fresh venv's own site-packages.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

import lenet_nb
from lenet_nb.course import classroom
from lenet_nb.course.student import count_exercises, student_notebook
from tests.conftest import classroom_tool, copy_course, course_repo, git

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def _site_packages(prefix):
    return Path(sysconfig.get_path("purelib", vars={"base": str(prefix)}))


def _overlay(folder):
    """A folder of symlinks to the course venv's site-packages, lenet_nb and .pth files left out."""
    folder.mkdir()
    for entry in _site_packages(sys.prefix).iterdir():
        name = entry.name.lower()
        if name.startswith(("lenet_nb", "__editable__", "__pycache__")) or name.endswith(".pth"):
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


def _env(venv, home, **extra):
    """A learner's environment: the fresh venv first on PATH, nothing of this checkout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "LENET_NB_", "VIRTUAL_ENV", "PIP_"))}
    return {**env, "PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """postBuild run in a copy of the repository with a fresh venv; returns the paths it used."""
    if not (DATA / "FashionMNIST").is_dir() or not (DATA / "MNIST").is_dir():
        pytest.fail("the data sets are missing: run `make data` first")
    tmp = tmp_path_factory.mktemp("classroom")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    overlay = _overlay(tmp / "overlay")
    (_site_packages(venv) / "course-venv.pth").write_text(f"{overlay}\n")
    repo = copy_course(tmp / "repo")
    conda = tmp / "conda"
    root = conda / "share" / "lenet-nb"
    # the data sets pre-seeded as symlinks: fetch then verifies them ("files already there")
    shutil.copytree(DATA, root / "data", copy_function=os.symlink,
                    ignore=shutil.ignore_patterns(".*"))
    env = _env(venv, tmp / "home", CONDA_DIR=str(conda))
    (tmp / "home").mkdir()
    done = subprocess.run(["bash", "postBuild"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return {"venv": venv, "repo": repo, "root": root, "tmp": tmp, "log": done.stdout,
            "env": _env(venv, tmp / "home", LENET_NB_ROOT=str(root))}


def _python(built, code, cwd=None):
    done = subprocess.run([str(built["venv"] / "bin" / "python"), "-c", code], env=built["env"],
                          cwd=cwd or built["tmp"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_post_build_installs_the_package_for_real_not_editable(built):
    site = _site_packages(built["venv"])
    out = _python(built, "import importlib.metadata as m, lenet_nb; "
                         "print(lenet_nb.__file__); print(lenet_nb.__version__); "
                         "print(m.version('lenet-nb'))").split()
    assert Path(out[0]) == site / "lenet_nb" / "__init__.py"
    assert out[1] == out[2] == lenet_nb.__version__
    # every module of every room went into the wheel
    ours = {p.relative_to(ROOT).as_posix() for p in (ROOT / "lenet_nb").rglob("*.py")}
    theirs = {p.relative_to(site).as_posix() for p in (site / "lenet_nb").rglob("*.py")}
    assert ours == theirs
    assert not list(site.glob("__editable__*")), "an editable install"


def test_post_build_fetches_the_data_and_copies_the_results(built):
    root = built["root"]
    assert (root / "results" / "lenet5_validation.csv").read_bytes() == \
        (ROOT / "results" / "lenet5_validation.csv").read_bytes()
    out = _python(built, "from lenet_nb.lessons import lenet5_train as t; "
                         "from lenet_nb import experiments as x; "
                         "print(t.VALIDATION_FILE.exists(), t.VALIDATION_FILE, x.RESULTS)")
    assert out.split() == ["True", str(root / "results" / "lenet5_validation.csv"),
                           str(root / "results")]
    for name in ("FashionMNIST", "MNIST"):  # verified by fetch in postBuild (SHA-256)
        assert f"{name}: ready in {root / 'data' / name / 'raw'}" in built["log"]


def test_post_build_writes_the_student_edition(built):
    student = built["repo"] / "student"
    chapters = sorted(p.name for p in (built["repo"] / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in student.glob("*.ipynb")) == chapters
    for name in chapters:
        instructor = nbformat.read(built["repo"] / "notebooks" / name, as_version=4)
        mine = nbformat.read(student / name, as_version=4)
        assert count_exercises(mine) == 0, name  # every solution region stubbed
        stubbed = [c for c in mine.cells if "...  # your code here" in c.source]
        assert len(stubbed) >= (1 if count_exercises(instructor) else 0), name


def test_command_lines_run_from_the_installed_package(built, tmp_path):
    python = str(built["venv"] / "bin" / "python")
    notebooks = tmp_path / "notebooks"
    shutil.copytree(built["repo"] / "notebooks", notebooks)

    def run(*args):
        done = subprocess.run([python, "-m", *args], env=built["env"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    run("lenet_nb.course.report", "write", "notebooks")
    assert f"Course version: lenet-nb {lenet_nb.__version__}" in \
        (tmp_path / "REPORT.md").read_text()
    run("lenet_nb.course.student", "notebooks", "mine")
    assert sorted(p.name for p in (tmp_path / "mine").glob("*.ipynb")) == \
        sorted(p.name for p in notebooks.glob("*.ipynb"))
    assert "usage" in run("lenet_nb.fetch", "--help")
    assert "git-pull?repo=" in run("lenet_nb.course.classroom", "link", "--hub", "http://h",
                                   "--repo", "file:///r.git")
    listed = run("lenet_nb.course.classroom", "pins", str(built["repo"] / "environment.yml"))
    assert listed.split() == classroom.pins(ROOT / "environment.yml")


def test_repo2docker_reads_the_recipe(tmp_path):
    """The image recipe as repo2docker sees it (--no-build: no Docker daemon here)."""
    repo = copy_course(tmp_path / "course")
    done = subprocess.run([str(classroom_tool("repo2docker")), "--no-build", "--debug",
                           "--user-id", "1000", "--user-name", "jovyan", str(repo)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    dockerfile = done.stdout + done.stderr
    assert "Building conda environment for python=3.11" in dockerfile
    # environment.yml alone is copied in when the environment is built: postBuild installs us
    assert "COPY --chown=1000:1000 src/environment.yml ${REPO_DIR}/environment.yml" in dockerfile
    assert "RUN ./postBuild" in dockerfile
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/start"' in dockerfile


# --- handing out the student edition through git ---------------------------------------------


@pytest.fixture
def course_clone(tmp_path, monkeypatch):
    """A git repository holding the course's files, committed; git knows no identity."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    for key, value in {"GIT_CONFIG_GLOBAL": str(empty), "GIT_CONFIG_NOSYSTEM": "1",
                       "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.useConfigOnly",
                       "GIT_CONFIG_VALUE_0": "true"}.items():
        monkeypatch.setenv(key, value)
    return course_repo(tmp_path / "course")


def test_publish_commits_the_student_edition_and_touches_nothing_else(course_clone):
    repo = course_clone
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
    commit, changed = classroom.publish(repo)
    assert changed
    names = sorted(p.name for p in (repo / "notebooks").glob("*.ipynb"))
    assert git(repo, "ls-tree", "--name-only", classroom.BRANCH).split() == \
        sorted(names + ["README.md"])
    for name in names:
        published = nbformat.reads(git(repo, "show", f"{commit}:{name}"), as_version=4)
        expected = student_notebook(nbformat.read(repo / "notebooks" / name, as_version=4))
        assert published == expected, name
        assert count_exercises(published) == 0
    assert lenet_nb.__version__ in git(repo, "show", f"{commit}:README.md")
    # the teacher's checkout is as it was; git had no identity, so the generated one was used
    assert (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")) == (head, status)
    assert git(repo, "log", "-1", "--format=%an", commit) == "lenet-notebooks"
    assert classroom.publish(repo) == (commit, False)  # nothing new: no new commit


def test_publish_again_after_a_change_adds_a_commit_on_top(course_clone):
    repo = course_clone
    first, _ = classroom.publish(repo)
    path = repo / "notebooks" / "00_start_here.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\nOne more sentence."
    nbformat.write(nb, path)
    second, changed = classroom.publish(repo)
    assert changed and git(repo, "rev-parse", f"{second}^") == first
    assert "with uncommitted changes" in git(repo, "log", "-1", "--format=%s", second)
    assert "One more sentence." in git(repo, "show", f"{second}:00_start_here.ipynb")


def test_publish_explains_what_is_missing(tmp_path, capsys):
    with pytest.raises(classroom.PublishError, match="not a git repository"):
        classroom.publish(tmp_path)
    git(tmp_path, "init", "-q")
    with pytest.raises(classroom.PublishError, match="no notebooks in"):
        classroom.publish(tmp_path)


def test_pull_link_opens_the_first_chapter_in_the_cloned_folder(capsys):
    link = classroom.pull_link("https://hub.example.org/", "https://git.example.org/t/c.git")
    assert link == ("https://hub.example.org/hub/user-redirect/git-pull?"
                    "repo=https%3A%2F%2Fgit.example.org%2Ft%2Fc.git&branch=student-edition&"
                    "targetPath=lenet-student&urlpath=lab%2Ftree%2Flenet-student%2F"
                    "00_start_here.ipynb")
    assert classroom.main(["link", "--hub", "http://127.0.0.1:8888", "--repo", "file:///r.git",
                           "--no-hub"]) == 0
    assert capsys.readouterr().out.startswith("http://127.0.0.1:8888/git-pull?repo=file")


def test_pins_lists_environment_ymls_pip_section(tmp_path, capsys):
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    expected = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert classroom.pins(ROOT / "environment.yml") == expected
    assert classroom.main(["pins", str(ROOT / "environment.yml")]) == 0
    assert capsys.readouterr().out.split() == expected
    (tmp_path / "e.yml").write_text("dependencies:\n  - python\n")
    with pytest.raises(ValueError, match="no `- pip:` list"):
        classroom.pins(tmp_path / "e.yml")

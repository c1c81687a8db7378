"""nbgrader for the course: metadata derived from the exercise convention, kept by jupytext, and
the round trip through nbgrader 0.9 (the classroom tools' environment, `make classroom-tools`).

The round trip runs every assignment in ASSIGNMENTS through a real course directory: nbgrader's
release must equal `make student`'s edition; a learner fetches and submits it through the
exchange; autograde gives the instructor edition full marks, the fresh student edition 0 and a
student edition with only its first exercise solved exactly that exercise's points. Every chapter
with exercises is in ASSIGNMENTS (its metadata written by
`python -m lenet_nb.course.grading meta notebooks`).
"""

import copy
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

from lenet_nb.course import grading
from lenet_nb.course.student import student_notebook
from tests.conftest import classroom_tool

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "grading_fixture" / "01_grading_fixture.py"
# what the round trip grades: the fixture chapter, then every chapter that has exercises
ASSIGNMENTS = [FIXTURE] + [path for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
                           if grading.has_exercises(nbformat.read(path, as_version=4))]
STUDENTS = ("instructor", "fresh", "one")
NBGRADERS_OWN = ("checksum", "cell_type")  # what generate_assignment adds to the metadata


def _chapter(source, folder):
    """A chapter pair in `folder` (notebooks/X.ipynb + notebooks_py/X.py + jupytext.toml)."""
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    (folder / "notebooks_py").mkdir(exist_ok=True)
    shutil.copyfile(ROOT / "jupytext.toml", folder / "jupytext.toml")
    ipynb = folder / "notebooks" / f"{source.stem}.ipynb"
    if source.suffix == ".py":
        shutil.copyfile(source, folder / "notebooks_py" / source.name)
        nbformat.write(jupytext.read(source), ipynb)
    else:
        shutil.copyfile(source, ipynb)
        shutil.copyfile(ROOT / "notebooks_py" / f"{source.stem}.py",
                        folder / "notebooks_py" / f"{source.stem}.py")
    return ipynb


def _without_metadata(path):
    text = "\n".join(line.split(" nbgrader=")[0] for line in path.read_text().splitlines())
    path.write_text(text + "\n")


# --- the metadata -------------------------------------------------------------------------------


def test_metadata_follows_the_tags_and_headings():
    meta = grading.derived_metadata(jupytext.read(FIXTURE))
    graded = [(m["grade_id"], m["points"]) for m in meta if m and m["grade"]]
    assert graded == [("ex-01-1-double", 2), ("ex-01-2-count", 1), ("ex-01-3-mean", 2),
                      ("ex-01-4-largest", 1)]
    solutions = [m["grade_id"] for m in meta if m and m["solution"]]
    assert solutions == ["ex-01-1-double-answer", "ex-01-2-count-answer", "ex-01-3-mean-answer",
                         "ex-01-4-largest-run", "ex-01-4-largest-answer"]
    assert all(m["schema_version"] == 3 and m["locked"] == m["grade"] for m in meta if m)


@pytest.mark.parametrize("cells, problem", [
    ([("code", "ex.check_a(a)", ["exercise-check"])], "outside an exercise"),
    ([("markdown", "#### Exercise 1.1 (complete the code): a", []),
      ("code", "a = 1", ["exercise-answer"])], "has no cell tagged exercise-check"),
    ([("markdown", "#### Exercise 1.1 (complete the code): a", []),
      ("markdown", "#### Exercise 1.2 (complete the code): b", [])], "before the next exercise"),
    ([("code", "### BEGIN SOLUTION\na = 1\n### END SOLUTION", [])], "nbgrader refuses it"),
    ([("markdown", "#### Exercise 1.1 (complete the code): a", []),
      ("code", "ex.check_a(a)\nprint(1)", ["exercise-check"])], "exactly `ex.check_<name>"),
    ([("markdown", "#### Exercise 1.1 (complete the code): a", []),
      ("code", "a = 1", ["exercise-answer", "exercise-check"])], "one exercise role"),
])
def test_cells_that_break_the_convention_are_named(cells, problem):
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    nb = nbformat.v4.new_notebook(cells=[make[kind](source, metadata={"tags": tags})
                                         for kind, source, tags in cells])
    with pytest.raises(grading.GradingError, match=problem):
        grading.derived_metadata(nb, "x.ipynb")


@pytest.mark.parametrize("source", ASSIGNMENTS, ids=lambda p: p.stem)
def test_stored_metadata_is_what_the_tags_give(source, tmp_path):
    assert grading.metadata_problems(_chapter(source, tmp_path)) == []


def test_meta_writes_both_files_and_jupytext_keeps_it(tmp_path, capsys):
    ipynb = _chapter(FIXTURE, tmp_path)
    py = tmp_path / "notebooks_py" / FIXTURE.name
    _without_metadata(py)
    nbformat.write(jupytext.read(py), ipynb)
    problems = grading.metadata_problems(ipynb)
    assert len(problems) == 18 and "missing" in problems[0]  # 9 cells, in both files
    assert grading.main(["meta", str(tmp_path / "notebooks")]) == 0
    assert py.read_text() == FIXTURE.read_text()  # what the tool wrote is what is stored
    assert grading.write_metadata(ipynb) == 0  # nothing left to do
    assert grading.main(["check", str(tmp_path / "notebooks")]) == 0
    # an edit of the .py, synced by jupytext, keeps the metadata in both files
    time.sleep(1)
    py.write_text(py.read_text().replace("    return 2 * x\n", "    return x + x\n"))
    jupytext_cli = Path(sys.executable).parent / "jupytext"
    subprocess.run([str(jupytext_cli), "--sync", str(py)], cwd=tmp_path, check=True,
                   capture_output=True)
    assert "x + x" in ipynb.read_text()
    assert grading.metadata_problems(ipynb) == []
    # a lost dict is found
    nb = nbformat.read(ipynb, as_version=4)
    del nb.cells[4].metadata["nbgrader"]
    nbformat.write(nb, ipynb)
    assert grading.main(["check", str(tmp_path / "notebooks")]) == 1
    assert "cell 4: nbgrader metadata missing" in capsys.readouterr().out


def test_meta_refuses_an_unsynced_pair(tmp_path, capsys):
    ipynb = _chapter(FIXTURE, tmp_path)
    py = tmp_path / "notebooks_py" / FIXTURE.name
    py.write_text(py.read_text().replace('print("the end")', 'print("the very end")'))
    with pytest.raises(grading.GradingError, match="run `make sync` first"):
        grading.write_metadata(ipynb)


def test_init_writes_a_course_directory_and_keeps_a_foreign_config(tmp_path):
    ipynb = _chapter(FIXTURE, tmp_path)
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "notebooks" / "00_start.ipynb")
    names = grading.init(tmp_path / "course", tmp_path / "notebooks")
    assert names == [FIXTURE.stem]  # only chapters with exercises become assignments
    copied = tmp_path / "course" / "source" / FIXTURE.stem / ipynb.name
    assert copied.read_bytes() == ipynb.read_bytes()
    assert (tmp_path / "course" / "nbgrader_config.py").read_text() == grading.CONFIG
    (tmp_path / "course" / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(grading.GradingError, match="is not the course's"):
        grading.init(tmp_path / "course", tmp_path / "notebooks")


# --- the round trip through nbgrader --------------------------------------------------------


def _graded_cells(nb):
    return [(i, c.metadata["nbgrader"]) for i, c in enumerate(nb.cells)
            if c.metadata.get("nbgrader", {}).get("grade")]


def _solve_first_exercise(release, instructor):
    """The release with the first exercise's answer (and run) cells as the instructor wrote them."""
    solved = copy.deepcopy(release)
    first = _graded_cells(instructor)[0][1]["grade_id"]
    for mine, theirs in zip(solved.cells, instructor.cells, strict=True):
        if theirs.metadata.get("nbgrader", {}).get("grade_id", "").startswith(f"{first}-"):
            mine.source = theirs.source
    return solved, first


class Course:
    """A course directory driven through nbgrader's command line, timed."""

    def __init__(self, root, tmp):
        self.root, self.seconds = root, 0.0
        kernels = tmp / "jupyter" / "kernels" / "lenet-nb"
        kernels.mkdir(parents=True)
        # the notebooks run in the course's own environment, in quick mode
        kernels.joinpath("kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "lenet-nb", "language": "python",
            "env": {"LENET_NB_QUICK": "1", "PYTHONPATH": str(ROOT),
                    "LENET_NB_DATA": os.environ.get("LENET_NB_DATA", str(ROOT / "data"))}}))
        self.exchange = tmp / "exchange"
        self.exchange.mkdir(mode=0o777)
        bin_dir = classroom_tool("nbgrader").parent
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
                    "PATH": f"{bin_dir}:{os.environ['PATH']}",  # nbgrader calls alembic by name
                    "JUPYTER_PATH": str(tmp / "jupyter"),
                    "JUPYTER_CONFIG_DIR": str(tmp / "config"),
                    "JUPYTER_DATA_DIR": str(tmp / "data"),
                    "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
                    # a config file that fails must stop nbgrader, not fall back to its defaults
                    "TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR": "1"}

    def nbgrader(self, *args, cwd=None):
        start = time.perf_counter()
        done = subprocess.run(["nbgrader", *args, f"--Exchange.root={self.exchange}"],
                              cwd=cwd or self.root, env=self.env, capture_output=True, text=True,
                              timeout=1800)
        self.seconds += time.perf_counter() - start
        assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    def scores(self, assignment, notebook):
        """{student: {grade id: score}} from the gradebook (nbgrader's own Python)."""
        script = ("import json, sys; from nbgrader.api import Gradebook\n"
                  "with Gradebook('sqlite:///gradebook.db') as gb:\n"
                  "    print(json.dumps({s: {g.name: g.score for g in gb.find_submission_notebook("
                  "sys.argv[2], sys.argv[1], s).grades} for s in sys.argv[3:]}))")
        python = classroom_tool("python")
        done = subprocess.run([str(python), "-c", script, assignment, notebook, *STUDENTS],
                              cwd=self.root, env=self.env, capture_output=True, text=True,
                              check=True)
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Every assignment generated, released, submitted three ways, collected and autograded."""
    tmp = tmp_path_factory.mktemp("nbgrader")
    classroom_tool("nbgrader")
    for source in ASSIGNMENTS:
        _chapter(source, tmp / "chapters")
    subprocess.run([sys.executable, "-m", "lenet_nb.course.grading", "init", str(tmp / "course"),
                    str(tmp / "chapters" / "notebooks")], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    course = Course(tmp / "course", tmp)
    (tmp / "students.csv").write_text("id\n" + "\n".join(STUDENTS) + "\n")
    course.nbgrader("db", "student", "import", str(tmp / "students.csv"))
    learner = tmp / "learner"
    learner.mkdir()
    found = {}
    for source in ASSIGNMENTS:
        name = source.stem
        course.nbgrader("generate_assignment", name, "--force")
        course.nbgrader("release_assignment", name, "--force")
        # the learner "fresh" fetches the release and submits it untouched
        course.nbgrader("fetch_assignment", name, "--course", "lenet-notebooks", cwd=learner)
        course.nbgrader("submit", name, "--course", "lenet-notebooks", "--student", "fresh",
                        cwd=learner)
        course.nbgrader("collect", name)
        notebook = f"{name}.ipynb"
        instructor = nbformat.read(course.root / "source" / name / notebook, as_version=4)
        release = nbformat.read(course.root / "release" / name / notebook, as_version=4)
        solved, first = _solve_first_exercise(release, instructor)
        for student, nb in (("instructor", instructor), ("one", solved)):
            folder = course.root / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / notebook)
        course.nbgrader("autograde", name, "--force", "--Execute.kernel_name=lenet-nb")
        course.nbgrader("generate_feedback", name, "--force")
        found[name] = {"instructor": instructor, "release": release, "first": first,
                       "fetched": nbformat.read(learner / name / notebook, as_version=4),
                       "scores": course.scores(name, name)}
    course.nbgrader("export", "--to", str(tmp / "grades.csv"))
    with (tmp / "grades.csv").open() as f:
        exported = {(r["assignment"], r["student_id"]): float(r["score"])
                    for r in csv.DictReader(f)}
    print(f"\nnbgrader round trip: {len(ASSIGNMENTS)} assignment(s), "
          f"{course.seconds:.0f} s in nbgrader")
    return {"found": found, "exported": exported, "course": course}


def _comparable(nb):
    """What a learner gets: cells' type, source, outputs, tags and nbgrader metadata."""
    cells = []
    for cell in nb.cells:
        meta = {k: v for k, v in cell.metadata.get("nbgrader", {}).items()
                 if k not in NBGRADERS_OWN}
        cells.append((cell.cell_type, cell.source, cell.get("outputs"),
                      cell.metadata.get("tags", []), meta))
    return cells


@pytest.mark.parametrize("source", ASSIGNMENTS, ids=lambda p: p.stem)
def test_nbgraders_release_is_the_student_edition(course, source):
    found = course["found"][source.stem]
    ours = student_notebook(found["instructor"])
    assert _comparable(found["release"]) == _comparable(ours)
    assert found["release"].metadata == ours.metadata
    assert _comparable(found["fetched"]) == _comparable(ours)  # through the exchange, the same
    # nbgrader's own additions: checksums, and the graded cells locked in place
    for i, meta in _graded_cells(found["release"]):
        assert meta["checksum"] and meta["cell_type"] == "code"
        assert found["release"].cells[i].metadata["editable"] is False


@pytest.mark.parametrize("source", ASSIGNMENTS, ids=lambda p: p.stem)
def test_autograde_scores_full_none_and_exactly_the_solved_exercise(course, source):
    found = course["found"][source.stem]
    points = {m["grade_id"]: m["points"] for _, m in _graded_cells(found["instructor"])}
    scores = found["scores"]
    assert scores["instructor"] == points
    assert scores["fresh"] == dict.fromkeys(points, 0)
    assert scores["one"] == {g: (p if g == found["first"] else 0) for g, p in points.items()}
    exported = course["exported"]
    assert [exported[source.stem, s] for s in STUDENTS] == \
        [sum(points.values()), 0, points[found["first"]]]
    feedback = course["course"].root / "feedback" / "one" / source.stem / f"{source.stem}.html"
    assert feedback.exists()

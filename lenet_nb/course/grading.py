"""nbgrader for the course: cell metadata derived from the exercise convention, and a course
directory whose release is the student edition.

The exercise convention (docs/exercises.md) already says what nbgrader needs to know. For
exercise N.M of kind K whose check cell calls `ex.check_<name>(...)`:
- the check cell (tag `exercise-check`) is an autograded test cell worth POINTS[K], id
  `ex-0N-M-<name>`; under nbgrader the checker raises on anything but a pass, so the cell scores
  its points exactly when the answer is right;
- its answer cell (`exercise-answer`) and run cell (`exercise-run`) are solution cells,
  `ex-0N-M-<name>-answer` / `-run`;
- every other cell carries no nbgrader metadata.
`write_metadata` puts it into a chapter and its paired py:percent source (jupytext.toml keeps
`nbgrader` in both), so it is never typed by hand; `metadata_problems` says where the stored
metadata differs from what the tags give (a lost or stale dict).

`configure(c)` is what a course directory's nbgrader_config.py calls: the release is made by
`lenet_nb.course.student.student_notebook` (the stubs, the outputs kept or cleared), so
`nbgrader generate_assignment` gives exactly what `make student` gives. `init` writes such a
course directory with one assignment per chapter that has exercises (docs/classroom.md).

Command lines:
  python -m lenet_nb.course.grading meta notebooks       write the metadata into the chapters
  python -m lenet_nb.course.grading check notebooks      exit 1 where it is missing or stale
  python -m lenet_nb.course.grading init COURSE_DIR [notebooks]
"""

import sys
from pathlib import Path

# the convention is read in one place (docs/exercises.md)
from lenet_nb import cli
from lenet_nb.course.exercise_cells import ANSWER, CHECK, CHECK_CALL, HEADING, RUN
from lenet_nb.files import copy_file, write_text

POINTS = {"complete the code": 2, "find the bug": 2, "predict, then run": 1,
          "change and observe": 1, "challenge": 3}
BEGIN = "### BEGIN SOLUTION"
SCHEMA = 3
CONFIG = '''"""nbgrader's configuration for lenet-notebooks (docs/classroom.md): the release is the
course's student edition, and autograde runs the notebooks with the course's checkers."""

from lenet_nb.course.grading import configure

configure(get_config())  # noqa: F821 - nbgrader provides get_config
'''


class GradingError(ValueError):
    """A chapter whose exercise cells do not follow the convention nbgrader's metadata needs."""


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _solution(grade_id):
    return {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": SCHEMA,
            "solution": True, "task": False}


def _test(grade_id, points):
    return {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
            "schema_version": SCHEMA, "solution": False, "task": False}


def derived_metadata(nb, where="notebook"):
    """Each cell's nbgrader metadata (None for none), from the tags and exercise headings."""
    found, exercise, waiting = [None] * len(nb.cells), None, []
    for i, cell in enumerate(nb.cells):
        at, tags, source = f"{where} cell {i}", _tags(cell), cell.source
        if cell.cell_type == "markdown":
            heading = HEADING.match(source.split("\n", 1)[0])
            if heading and exercise and exercise[-1] is None:
                raise GradingError(f"{at}: Exercise {exercise[0]}.{exercise[1]} has no cell "
                                   f"tagged {CHECK} before the next exercise")
            if heading:
                exercise = (int(heading[1]), int(heading[2]), heading[3], None)
                waiting = []
            continue
        roles = [t for t in (ANSWER, RUN, CHECK) if t in tags]
        if len(roles) > 1:
            raise GradingError(f"{at}: a cell has one exercise role, got {roles}")
        if roles and (exercise is None or exercise[-1] is not None):
            raise GradingError(f"{at}: a cell tagged {roles[0]} outside an exercise (after its "
                               f"heading, before its check cell)")
        if BEGIN in source and not {ANSWER, RUN} & set(roles):
            raise GradingError(f"{at}: a solution region in a cell not tagged {ANSWER} or {RUN} "
                               f"(nbgrader refuses it)")
        if roles and roles[0] != CHECK:
            waiting.append((i, "answer" if roles[0] == ANSWER else "run"))
        elif roles:
            call = CHECK_CALL.match(source.strip())
            if call is None:
                raise GradingError(f"{at}: a check cell holds exactly `ex.check_<name>(...)`")
            chapter, number, kind, _ = exercise
            grade_id = f"ex-{chapter:02d}-{number}-{call[1]}"
            found[i] = _test(grade_id, POINTS[kind])
            for j, role in waiting:
                found[j] = _solution(f"{grade_id}-{role}")
            exercise = (chapter, number, kind, grade_id)
    if exercise and exercise[-1] is None:
        raise GradingError(f"{where}: Exercise {exercise[0]}.{exercise[1]} has no cell tagged "
                           f"{CHECK}")
    return found


def _set(nb, metadata):
    """Put `metadata` into the notebook's cells; return how many cells changed."""
    changed = 0
    for cell, meta in zip(nb.cells, metadata, strict=True):
        if cell.metadata.get("nbgrader") != meta:
            changed += 1
            if meta is None:
                del cell.metadata["nbgrader"]
            else:
                cell.metadata["nbgrader"] = meta
    return changed


def paired_source(path):
    """The py:percent source paired with notebooks/X.ipynb (notebooks_py/X.py), if there is one."""
    path = Path(path)
    py = path.parent.parent / f"{path.parent.name}_py" / path.with_suffix(".py").name
    return py if py.exists() else None


def _cell_filter(path):
    """The cell metadata filter of the jupytext.toml that governs `path` (None without one)."""
    from jupytext.config import (
        find_jupytext_configuration_file,
        load_jupytext_configuration_file,
    )

    found = find_jupytext_configuration_file(str(Path(path).parent))
    return load_jupytext_configuration_file(found).cell_metadata_filter if found else None


def write_metadata(path):
    """Write the derived metadata into a chapter and its paired source; return cells changed."""
    import jupytext
    import nbformat

    from lenet_nb.files import atomic_write

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    metadata = derived_metadata(nb, path.name)
    py = paired_source(path)
    text = jupytext.read(py) if py else None
    if text is not None and [(c.cell_type, c.source) for c in text.cells] != \
            [(c.cell_type, c.source) for c in nb.cells]:
        raise GradingError(f"{path} and {py} differ: run `make sync` first")
    changed = _set(nb, metadata)
    if changed:
        with atomic_write(path) as tmp:
            nbformat.write(nb, tmp)
    if text is not None:
        wanted = _cell_filter(py)
        keeps = wanted and "nbgrader" in wanted.split(",")
        if not keeps:
            raise GradingError(f"jupytext.toml must keep nbgrader's metadata in {py}: "
                               f"cell_metadata_filter = \"tags,nbgrader,-all\"")
        before = text.metadata.get("jupytext", {}).get("cell_metadata_filter")
        if _set(text, metadata) or before != wanted:
            text.metadata.setdefault("jupytext", {})["cell_metadata_filter"] = wanted
            with atomic_write(py) as tmp:
                tmp.write_text(jupytext.writes(text, fmt="py:percent"), encoding="utf-8")
    return changed


def metadata_problems(path):
    """Where a chapter's (and its paired source's) nbgrader metadata is not what its tags give."""
    import jupytext
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    try:
        wanted = derived_metadata(nb, path.name)
    except GradingError as problem:
        return [str(problem)]
    found = []
    for source in filter(None, (path, paired_source(path))):
        stored = jupytext.read(source) if source.suffix == ".py" else nb
        for i, (cell, meta) in enumerate(zip(stored.cells, wanted, strict=False)):
            have = cell.metadata.get("nbgrader")
            if have != meta:
                what = "missing" if have is None else "not wanted" if meta is None else "stale"
                found.append(f"{source} cell {i}: nbgrader metadata {what}: run `python -m "
                             f"lenet_nb.course.grading meta {path.parent}`")
    return found


def has_exercises(nb):
    """True for a notebook with at least one graded cell."""
    return any(meta and meta["grade"] for meta in derived_metadata(nb))


def init(course_dir, notebooks="notebooks"):
    """A course directory: nbgrader_config.py and source/<chapter>/<chapter>.ipynb per chapter
    with exercises. Returns the assignment names; refuses to overwrite a course's config."""
    import nbformat

    course_dir = Path(course_dir)
    config = course_dir / "nbgrader_config.py"
    if config.exists() and config.read_text(encoding="utf-8") != CONFIG:
        raise GradingError(f"{config} exists and is not the course's: move it away first")
    write_text(config, CONFIG)  # atomic; a foreign config was refused above
    names = []
    for path in sorted(Path(notebooks).glob("*.ipynb")):
        if has_exercises(nbformat.read(path, as_version=4)):
            copy_file(path, course_dir / "source" / path.stem / path.name)
            names.append(path.stem)
    return names


def configure(c):
    """nbgrader's settings for the course: the student edition as the release (see the top)."""
    from nbgrader import utils
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import ClearOutput, ClearSolutions

    from lenet_nb.course.student import student_notebook

    class StudentEdition(ClearSolutions):
        """The cells of `make student`'s edition in place of nbgrader's stubs."""

        def preprocess(self, nb, resources):
            student = student_notebook(nb)
            for i, (cell, new) in enumerate(zip(nb.cells, student.cells, strict=True)):
                if cell.source != new.source and not utils.is_solution(cell):
                    raise RuntimeError(f"cell {i} has a solution region but no solution "
                                       f"metadata: run python -m lenet_nb.course.grading meta")
                cell.source, cell.metadata = new.source, new.metadata
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = new.outputs, new.execution_count
            nb.metadata = student.metadata
            return nb, resources

    default = GenerateAssignment.class_traits()["preprocessors"].default()
    missing = {ClearSolutions, ClearOutput} - set(default)
    if missing:
        raise RuntimeError(f"this nbgrader has no {missing}: lenet-notebooks needs nbgrader 0.9")
    c.GenerateAssignment.preprocessors = [StudentEdition if p is ClearSolutions else p
                                          for p in default if p is not ClearOutput]
    c.CourseDirectory.course_id = "lenet-notebooks"
    c.Execute.timeout = 600  # a chapter's slowest cell in quick mode, with room to spare


def main(argv=None):
    """Command line: write or check the metadata, or set up a course directory."""
    return cli.run(_main, argv, errors=(GradingError,))


def _main(argv):
    parser = cli.parser("python -m lenet_nb.course.grading", "nbgrader for the course's chapters.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=cli.Parser)
    chapters = {"nargs": "?", "default": "notebooks", "type": cli.folder("*.ipynb")}
    for name, text in (("meta", "write nbgrader's metadata into the chapters"),
                       ("check", "exit 1 where the stored metadata is missing or stale")):
        sub.add_parser(name, help=text).add_argument("notebooks", **chapters)
    start = sub.add_parser("init", help="write a course directory for nbgrader")
    start.add_argument("course_dir")
    start.add_argument("notebooks", **chapters)
    args = parser.parse_args(argv)
    if args.command == "init":
        names = init(args.course_dir, args.notebooks)
        print(f"{args.course_dir}: nbgrader_config.py and {len(names)} assignments: "
              f"{', '.join(names)}")
        return 0
    paths = sorted(Path(args.notebooks).glob("*.ipynb"))
    if args.command == "meta":
        for path in paths:
            print(f"{path}: {write_metadata(path)} cell(s) changed")
        return 0
    found = [p for path in paths for p in metadata_problems(path)]
    print("\n".join(found) or f"{len(paths)} notebooks: nbgrader metadata as the tags give it")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

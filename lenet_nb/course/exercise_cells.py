"""Read the exercise convention of docs/exercises.md out of a chapter notebook, and check it.

`exercises(nb)` lists a notebook's exercises (number, kind, title, the heading's cell, the check
cell and the checker's name); `problems(path)` says where a notebook breaks the convention:
headings, check cells and the chapter module's `CHAPTER`/`EXERCISES` registry must agree.
nbcheck, the answer-leak test and the progress command all read exercises through this module.
"""

import importlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from lenet_nb.exercises.checking import KINDS

ANSWER, CHECK, RUN, PROSE, KEEP = ("exercise-answer", "exercise-check", "exercise-run",
                                   "answer-prose", "keep-output")
HEADING = re.compile(r"^#{3,4} Exercise (\d+)\.(\d+) \((" + "|".join(map(re.escape, KINDS))
                     + r")\): (.+)$")
# anything that looks like an exercise heading, to catch the ones that do not follow the form
HEADING_LIKE = re.compile(r"^(?:#+ .*\bExercise\b|\*\*Exercise\b)")
CHECK_CALL = re.compile(r"^ex\.check_(\w+)\(.*\)$")
NOTEBOOK_NAME = re.compile(r"^(\d+)_(\w+)$")


@dataclass
class Exercise:
    """One exercise as the notebook holds it."""

    number: str  # "3.2"
    kind: str
    title: str
    heading: int  # cell index of the heading
    check: int | None = None  # cell index of the check cell
    name: str | None = None  # the checker's exercise name (from `ex.check_<name>`)
    answers: list = field(default_factory=list)  # cell indexes of answer and run cells


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def tags(cell):
    """The cell's tags."""
    return cell.get("metadata", {}).get("tags", [])


def load(path):
    """A notebook as plain JSON."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def exercises(nb):
    """The exercises of a notebook (plain JSON or nbformat), in order."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        source = _source(cell)
        if cell["cell_type"] == "markdown":
            m = HEADING.match(source.split("\n", 1)[0])
            if m:
                found.append(Exercise(f"{m.group(1)}.{m.group(2)}", m.group(3), m.group(4), i))
        elif found and found[-1].check is None:
            if CHECK in tags(cell):
                m = CHECK_CALL.match(source.strip())
                found[-1].check, found[-1].name = i, m.group(1) if m else None
            elif ANSWER in tags(cell) or RUN in tags(cell):
                found[-1].answers.append(i)
    return found


def chapter_module(path):
    """(chapter number, checker module or None) for a notebook named `NN_slug.ipynb`."""
    m = NOTEBOOK_NAME.match(Path(path).stem)
    if not m:
        return None, None
    try:
        module = importlib.import_module(f"lenet_nb.exercises.{m.group(2)}")
    except ModuleNotFoundError:
        module = None
    return int(m.group(1)), module


def _cell_problems(nb, where):
    """Problems of single cells: headings, check cells, regions, markers."""
    from lenet_nb.course.student import BEGIN, MarkerError, stub_regions

    found = []
    for i, cell in enumerate(nb["cells"]):
        source, at = _source(cell), f"{where} cell {i}"
        if cell["cell_type"] == "markdown":
            for line in source.splitlines():
                if HEADING_LIKE.match(line.strip()) and not HEADING.match(line):
                    found.append(f"{at}: exercise heading {line.strip()[:60]!r} does not read "
                                 f"'#### Exercise N.M (kind): title' with one of the kinds "
                                 f"{', '.join(KINDS)}")
            if PROSE in tags(cell) and "<details>" not in source:
                found.append(f"{at}: an answer-prose cell folds its text in <details>…</details>")
            continue
        if CHECK in tags(cell) and not CHECK_CALL.match(source.strip()):
            found.append(f"{at}: a check cell holds exactly one line `ex.check_<name>(...)`")
        if BEGIN in source and not {ANSWER, RUN} & set(tags(cell)):
            found.append(f"{at}: a solution region sits in a cell not tagged {ANSWER} or {RUN}")
        try:
            stub_regions(source, at)
        except MarkerError as problem:
            found.append(str(problem))
    return found


def _registry_problems(found, chapter, module, where):
    """Headings, check cells and the module's registry agree."""
    problems = []
    if module is None or not hasattr(module, "EXERCISES"):
        return [f"{where}: exercises without a checker module declaring CHAPTER and EXERCISES "
                f"(lenet_nb/exercises/<slug>.py)"]
    if module.CHAPTER != chapter:
        problems.append(f"{where}: {module.__name__}.CHAPTER is {module.CHAPTER}, the notebook "
                        f"is chapter {chapter}")
    registry = list(module.EXERCISES.items())
    for n, ex in enumerate(found, 1):
        at = f"{where} Exercise {ex.number}"
        if ex.number != f"{chapter}.{n}":
            problems.append(f"{at}: expected number {chapter}.{n} (exercises count 1, 2, 3…)")
        if ex.check is None:
            problems.append(f"{at}: no cell tagged {CHECK} after the heading")
            continue
        if n > len(registry):
            problems.append(f"{at}: {module.__name__}.EXERCISES has only {len(registry)} names")
            continue
        name, kind = registry[n - 1]
        if ex.name != name:
            problems.append(f"{at}: the check cell calls check_{ex.name}, the registry's "
                            f"exercise {n} is {name!r}")
        if ex.kind != kind:
            problems.append(f"{at}: the heading says {ex.kind!r}, the registry {kind!r}")
    if len(registry) > len(found):
        missing = [name for name, _ in registry[len(found):]]
        problems.append(f"{where}: registered but not in the notebook: {', '.join(missing)}")
    return problems


def _between_problems(nb, found, where):
    """No keep-output cell between a heading and its check."""
    problems = []
    for ex in found:
        if ex.check is None:
            continue
        for i in range(ex.heading + 1, ex.check):
            if KEEP in tags(nb["cells"][i]):
                problems.append(f"{where} cell {i}: a {KEEP} cell inside Exercise {ex.number} "
                                f"(its stored output would show before the check)")
    return problems


def problems(path):
    """Everything in one notebook that breaks the exercise convention."""
    path = Path(path)
    nb, where = load(path), path.name
    found = _cell_problems(nb, where)
    listed = exercises(nb)
    chapter, module = chapter_module(path)
    if listed or (module is not None and getattr(module, "EXERCISES", None)):
        found += _registry_problems(listed, chapter, module, where)
    return found + _between_problems(nb, listed, where)

"""Progress at a glance: which exercises of the saved student notebooks pass, fail or wait.

Reads only what is saved in the `.ipynb` files (no hidden state): for each `exercise-check`
cell, the last verdict line of its saved output (`✔ 3.2 train_epoch: …`, `✘ …, not yet`,
`○ …, not started`); a check cell without output was not run. An answer cell run after its check
is marked as changed since checked.

Command line: `python -m lenet_nb.course.progress [FOLDER]` (default: `student/` beside the
current folder, or the current folder when it holds the student edition). The cell in
00_start_here calls `show()`.
"""

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from lenet_nb import cli
from lenet_nb.course.editions import MANIFEST
from lenet_nb.course.exercise_cells import exercises, load

VERDICT = re.compile(r"^(✔|✘|○) (\d+)\.(\d+) ([A-Za-z0-9_]+)(, not yet|, not started)?: ",
                     re.M)
NOT_RUN = "·"
SYMBOLS = {"✔": "passes", "✘": "fails", "○": "not started", NOT_RUN: "not run"}


@dataclass
class Status:
    """One exercise's state as saved: mark is ✔, ✘, ○ or · (not run)."""

    number: str
    name: str
    kind: str
    mark: str
    changed: bool = False  # the answer cell ran after the check


def _output_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        text = out.get("text") or out.get("data", {}).get("text/plain", "")
        if out.get("output_type") == "error":
            text = out.get("evalue", "")
        parts.append("".join(text) if isinstance(text, list) else str(text))
    return "\n".join(parts)


def statuses(nb):
    """The Status of every exercise of one notebook (plain JSON)."""
    found = []
    for ex in exercises(nb):
        mark, changed = NOT_RUN, False
        if ex.check is not None:
            check = nb["cells"][ex.check]
            verdicts = VERDICT.findall(_output_text(check))
            if verdicts:
                mark = verdicts[-1][0]
            ran = [nb["cells"][i].get("execution_count") or 0 for i in ex.answers]
            changed = mark != NOT_RUN and max(ran, default=0) > (check.get("execution_count")
                                                                 or 0)
        found.append(Status(ex.number, ex.name or "?", ex.kind, mark, changed))
    return found


def default_folder(start=None):
    """The student folder: `start` when it is the student edition, else start/../student."""
    start = Path.cwd() if start is None else Path(start)
    if (start / MANIFEST).exists() and start.name != "reading":  # a generated student edition
        return start
    return start.parent / "student"


def report(folder):
    """The progress table as text, one block per chapter."""
    folder = Path(folder)
    notebooks = sorted(p for p in folder.glob("[0-9]*.ipynb")
                       if re.fullmatch(r"\d+_\w+", p.stem))
    if not notebooks:
        return (f"No student notebooks in {os.path.relpath(folder)} yet. Run `make lab` (or "
                f"`make student`) in a terminal at the project's root, then do the exercises in "
                f"student/; save a notebook (Ctrl+S) and run this again.")
    lines, totals = [], {m: 0 for m in SYMBOLS}
    for path in notebooks:
        try:
            found = statuses(load(path))
        except (OSError, ValueError, KeyError) as problem:
            lines.append(f"{path.stem}: cannot read it ({problem})")
            continue
        if not found:
            continue
        counts = {m: sum(s.mark == m for s in found) for m in SYMBOLS}
        for m in SYMBOLS:
            totals[m] += counts[m]
        summary = "  ".join(f"{counts[m]} {m}" for m in SYMBOLS if counts[m])
        lines.append(f"{path.stem:28} {summary}")
        lines.append("    " + "  ".join(f"{s.number} {s.mark}{'*' if s.changed else ''}"
                                        for s in found))
    key = ", ".join(f"{m} {w}" for m, w in SYMBOLS.items())
    total = "  ".join(f"{totals[m]} {m}" for m in SYMBOLS)
    lines += ["", f"all chapters: {total}   ({key}; * changed since its check ran)"]
    return "\n".join(lines)


def show(folder=None):
    """Print the progress of the student notebooks in `folder` (default: `default_folder()`)."""
    print(report(default_folder() if folder is None else folder))


def main(argv=None):
    """Command line entry point."""
    return cli.run(_main, argv)


def _main(argv):
    parser = cli.parser("python -m lenet_nb.course.progress", __doc__)
    parser.add_argument("folder", nargs="?", type=cli.folder(None, missing_ok=True),
                        help="the student notebooks (default: student/ here, or beside here)")
    args = parser.parse_args(argv)
    here = Path.cwd() / "student"  # run from the project's root
    show(args.folder or (here if here.is_dir() else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())

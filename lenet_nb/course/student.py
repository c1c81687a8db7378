"""Generate the student edition: solution regions stubbed, no stored outputs (docs/exercises.md).

The notebooks in `notebooks/` are the instructor edition. An exercise's answer cell holds its
solution between nbgrader's markers (`### BEGIN SOLUTION` / `### END SOLUTION`, whole lines).
`stub_regions` replaces each region by
- the lines of a `### BEGIN STUB` / `### END STUB` block right after it, uncommented (the buggy
  code of a *find the bug*, the starting setting of a *change and observe*), or else
- `...  # your code here` at the region's indentation; a region made only of one-line
  assignments keeps the names (`shape = ...  # your code here`) so the check after it still runs
  and reports ○ not started.
The student edition keeps no stored output of any code cell except those tagged `keep-output`,
and no widget state. The reading edition (`--reading`) is the instructor edition unpaired, its
outputs included. Both are written by `lenet_nb.course.editions`, which never loses a learner's
work.

Command line (`make student`): `python -m lenet_nb.course.student [--reading] [--force] [SRC]
[DST]` (default notebooks student, or notebooks reading).
"""

import copy
import re
import sys

from lenet_nb import cli
from lenet_nb.course.editions import write_edition
from lenet_nb.exercises.checking import STUB

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
BEGIN_STUB = "### BEGIN STUB"
END_STUB = "### END STUB"
KEEP_OUTPUT = "keep-output"
# `name = value` or `a, b = value` on one line (not `==`, not an augmented assignment)
ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=(?!=)")


class MarkerError(ValueError):
    """A solution region or stub block whose markers do not pair up."""


def _default_stub(region, indent):
    """The stub lines for one solution region's lines."""
    code = [line for line in region if line.strip() and not line.strip().startswith("#")]
    names = [ASSIGNMENT.match(line[len(indent):]) for line in code]
    if code and all(m and line.startswith(indent) and not line[len(indent)].isspace()
                    for m, line in zip(names, code)):
        return [f"{indent}{m.group(1)} = {STUB}" for m in names]
    return [f"{indent}{STUB}"]


def _uncomment(line, indent, where):
    """A stub block's line without its `# ` (an empty comment line becomes an empty line)."""
    if line.strip() == "#" or not line.strip():
        return ""
    if not line.startswith(indent + "#"):
        raise MarkerError(f"{where}: every line of a stub block is a comment at the block's "
                          f"indentation, got {line.strip()!r}")
    body = line[len(indent) + 1:]
    return indent + (body[1:] if body.startswith(" ") else body)


def stub_regions(source, where="cell"):
    """Return (source with each solution region replaced by its stub, number of regions)."""
    lines, out, count, i = source.splitlines(), [], 0, 0
    while i < len(lines):
        line, marker = lines[i], lines[i].strip()
        number = i + 1
        if marker.startswith(END):
            raise MarkerError(f"{where}, line {number}: {END} without {BEGIN}")
        if marker.startswith((BEGIN_STUB, END_STUB)):
            raise MarkerError(f"{where}, line {number}: a stub block belongs right after {END}")
        if not marker.startswith(BEGIN):
            out.append(line)
            i += 1
            continue
        indent, region, i = line[: len(line) - len(line.lstrip())], [], i + 1
        while i < len(lines) and not lines[i].strip().startswith(END):
            if lines[i].strip().startswith(BEGIN):
                raise MarkerError(f"{where}, line {i + 1}: {BEGIN} inside another region; "
                                  f"close the first one with {END}")
            region.append(lines[i])
            i += 1
        if i == len(lines):
            raise MarkerError(f"{where}: {BEGIN} is never closed; add {END}")
        i += 1
        if i < len(lines) and lines[i].strip().startswith(BEGIN_STUB):
            block, i = [], i + 1
            while i < len(lines) and not lines[i].strip().startswith(END_STUB):
                block.append(_uncomment(lines[i], indent, f"{where}, line {i + 1}"))
                i += 1
            if i == len(lines):
                raise MarkerError(f"{where}: {BEGIN_STUB} is never closed; add {END_STUB}")
            i += 1
            out += block
        else:
            out += _default_stub(region, indent)
        count += 1
    return "\n".join(out), count


def student_notebook(nb, where="notebook"):
    """A student copy of an nbformat notebook (the argument is left unchanged)."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("jupytext", None)  # no pairing in the student folder
    nb.metadata.pop("widgets", None)  # stored widget state is an output too
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.source, _ = stub_regions(cell.source, f"{where} cell {i}")
        if KEEP_OUTPUT not in cell.metadata.get("tags", []):
            cell.outputs, cell.execution_count = [], None
    return nb


def reading_notebook(nb, where="notebook"):
    """A reading copy of an instructor notebook: outputs kept, pairing dropped."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("jupytext", None)
    return nb


def count_exercises(nb):
    """Number of solution regions in a notebook."""
    return sum(stub_regions(c.source)[1] for c in nb.cells if c.cell_type == "code")


def make_student(src="notebooks", dst="student", force=False):
    """Write the student edition of every notebook in `src` into `dst`; return a list of Written.

    Never loses work: see `lenet_nb.course.editions`.
    """
    return write_edition(src, dst, student_notebook, count_exercises, force=force)


def make_reading(src="notebooks", dst="reading", force=False):
    """Write the reading copy (instructor edition, outputs included) into `dst`."""
    return write_edition(src, dst, reading_notebook, force=force)


def main(argv=None):
    """Command line entry point; prints what it wrote."""
    return cli.run(_main, argv)


def _main(argv):
    parser = cli.parser("python -m lenet_nb.course.student", __doc__)
    parser.add_argument("--reading", action="store_true",
                        help="write the instructor edition with its outputs instead")
    parser.add_argument("--force", action="store_true",
                        help="replace notebooks you changed (each is backed up first)")
    parser.add_argument("src", nargs="?", default="notebooks", type=cli.folder("*.ipynb"))
    parser.add_argument("dst", nargs="?")
    args = parser.parse_args(argv)
    dst = args.dst or ("reading" if args.reading else "student")
    make = make_reading if args.reading else make_student
    for w in make(args.src, dst, force=args.force):  # errors: one line (lenet_nb.cli)
        extra = f" ({w.exercises} exercise(s))" if w.exercises and not args.reading else ""
        print(w.message + extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generate the student edition: every solution region becomes a stub, exercise outputs cleared.

The notebooks in `notebooks/` are the instructor edition. An exercise cell holds its solution
between nbgrader's markers (`### BEGIN SOLUTION` / `### END SOLUTION`, whole lines) and ends with
its checker call. Here each region is replaced by `...  # your code here` at the region's
indentation; a region made only of one-line assignments keeps the names (`shape = ...  # your
code here`) so the checker call after it still runs and reports "not yet". The exercise cell's
outputs are cleared; every other cell is copied unchanged, outputs included.

Command line (`make student`): `python -m lenet_nb.course.student [SRC] [DST]` (default notebooks
student).
"""

import re
import sys
from pathlib import Path

from lenet_nb import cli
from lenet_nb.course.notebooks import read_notebook
from lenet_nb.files import write_notebook, write_text

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "...  # your code here"
# `name = value` or `a, b = value` on one line (not `==`, not an augmented assignment)
ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=(?!=)")
# A student folder must not pair with .py files through the repo's jupytext.toml.
JUPYTEXT_CONFIG = 'formats = "ipynb"\n'


class MarkerError(ValueError):
    """A solution region whose markers do not pair up."""


def _stub(region, indent):
    """The stub lines for one solution region's lines."""
    code = [line for line in region if line.strip() and not line.strip().startswith("#")]
    names = [ASSIGNMENT.match(line[len(indent):]) for line in code]
    if code and all(m and line.startswith(indent) and not line[len(indent)].isspace()
                    for m, line in zip(names, code)):
        return [f"{indent}{m.group(1)} = {STUB}" for m in names]
    return [f"{indent}{STUB}"]


def strip_solutions(source, where="cell"):
    """Return (source with each solution region stubbed, number of regions)."""
    out, region, indent, count = [], None, "", 0
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker.startswith(BEGIN):
            if region is not None:
                raise MarkerError(f"{where}, line {number}: {BEGIN} inside another region; "
                                  f"close the first one with {END}")
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif marker.startswith(END):
            if region is None:
                raise MarkerError(f"{where}, line {number}: {END} without {BEGIN}")
            out += _stub(region, indent)
            region, count = None, count + 1
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise MarkerError(f"{where}: {BEGIN} is never closed; add {END}")
    return "\n".join(out), count


def student_notebook(nb, where="notebook"):
    """A student copy of an nbformat notebook (the argument is left unchanged)."""
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata.pop("jupytext", None)  # no pairing in the student folder
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        source, count = strip_solutions(cell.source, f"{where} cell {i}")
        if count:
            cell.source, cell.outputs, cell.execution_count = source, [], None
    return nb


def count_exercises(nb):
    """Number of solution regions in a notebook."""
    return sum(strip_solutions(c.source)[1] for c in nb.cells if c.cell_type == "code")


def make_student(src="notebooks", dst="student"):
    """Write the student edition of every notebook in `src` into `dst`.

    Returns a list of (written path, number of exercises stubbed in it).
    """
    src, dst = Path(src), Path(dst)
    notebooks = sorted(src.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks in {src}: expected the chapters' .ipynb files")
    dst.mkdir(parents=True, exist_ok=True)
    write_text(dst / "jupytext.toml", JUPYTEXT_CONFIG)
    written = []
    for path in notebooks:
        nb = read_notebook(path)
        target = dst / path.name
        write_notebook(target, student_notebook(nb, path.name))
        written.append((target, count_exercises(nb)))
    return written


def main(argv=None):
    """Command line entry point; prints what it wrote."""
    return cli.run(_main, argv)


def _main(argv):
    parser = cli.parser("python -m lenet_nb.course.student", __doc__)
    parser.add_argument("src", nargs="?", default="notebooks", type=cli.folder("*.ipynb"))
    parser.add_argument("dst", nargs="?", default="student")
    args = parser.parse_args(argv)
    for path, count in make_student(args.src, args.dst):
        print(f"{path}: {count} exercise(s) stubbed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

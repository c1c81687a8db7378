"""Checks on the chapter notebooks: each .ipynb paired with an in-sync .py (in the sibling folder
`<folder>_py/`), outputs kept small, no source tutorial called by an internal number ("seed 001"),
the exercise convention of docs/exercises.md holds (`lenet_nb.course.exercise_cells`),
and every pointer into the package leads somewhere: a path `lenet_nb/…/x.py` names a file that
exists, a dotted `lenet_nb.x.y` imports, and a name pointed at a file ("`fit`
(`lenet_nb/train.py`)") is defined in that file.

With `--numbers`, also: every number quoted in a markdown cell is visible in the same notebook.

Which prose numbers are checked (outside code spans, fenced code, `$math$`, HTML comments and
link targets, all of which are code or formulas, not claims):
- decimals: 0.958, 3.07, −0.1 (the sign is ignored);
- percentages, with or without a decimal part: 95.8 %, 1.5%, 10 %;
- numbers with thousands separators: 61,706, 340,908, 3,072,000,000.
Plain integers (chapter and layer numbers, sizes such as 5×5, epochs, years, list markers) are
not checked. Nor are section numbers: a number right after `§`, `section`, `chapter`, `exercise`,
`Fig.`,
`Figure`, `Table`, `eq.`, a version after `Python`, `PyTorch`, `torch`, `version`, `edition`, or
the number a markdown heading starts with (`### 3.1 Pooling`).

A prose number is visible when one of these holds:
- it matches a number in a text output (stream, error, text/plain, text/markdown, text/html) of
  the notebook's code cells, except cells tagged `live`: a small live run beside stored results
  prints digits that differ between CPUs, so prose quotes the stored results (rendered by cells
  tagged `stored`, which count as usual). Match: thousands separators and signs dropped; the
  output value rounds to the prose value at the prose's precision (0.958 matches 0.95812, not
  0.9571); a percentage and a fraction match across the factor 100 (prose 95.8 % matches a
  printed 0.958, prose 0.958 a printed "95.8 %"), a percentage also matches the same digits
  printed bare;
- it is written as a literal in the notebook's code (a setting the reader sees, e.g. `lr=0.9`);
  same digits after dropping separators, no rounding;
- it matches, by the same rule as outputs, a figure in `lenet_nb.course.sources.sources_table()`,
  the one generated table of what the sources and the paper reported (allowed in any notebook).
"""

import base64
import json
import re
import sys
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path

from lenet_nb import cli
from lenet_nb.course.chapter_form import heading_jumps
from lenet_nb.course.exercise_cells import problems as exercise_problems
from lenet_nb.course.notebooks import NotebookError, read_notebook

LIVE_TAG = "live"  # a cell running a small live instance beside stored results
MAX_NOTEBOOK_BYTES = 2_000_000
MAX_LINE = 100  # as pyproject.toml's ruff line-length
MAX_OUTPUT_BYTES = 300_000  # one output; a PNG of a modest figure is ~20-80 kB
# learners never meet our internal numbers for the five source tutorials ("seed 001")
INTERNAL_NAME = re.compile(r"\bseeds? ?00[0-4]\b", re.I)


def cells(path):
    """(cell_type, stripped source, nbgrader metadata) of every cell of a notebook or its .py."""
    import jupytext

    return [(c.cell_type, c.source.strip(), c.metadata.get("nbgrader"))
            for c in jupytext.read(path).cells]


def output_sizes(nb_path):
    """Yield (cell index, bytes) of every output payload in a stored notebook."""
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    for i, cell in enumerate(nb.get("cells", [])):
        for out in cell.get("outputs", []):
            size = 0
            for mime, value in out.get("data", {}).items():
                text = "".join(value) if isinstance(value, list) else str(value)
                if mime.startswith("image/") and not mime.endswith("svg+xml"):
                    size += len(base64.b64decode(text))
                else:
                    size += len(text.encode())
            size += len("".join(out.get("text", [])).encode())
            yield i, size


def sources_folder(folder):
    """Where the paired py:percent sources of the notebooks in `folder` live: `<folder>_py`."""
    folder = Path(folder)
    return folder.parent / f"{folder.name}_py"


def problems(folder):
    """Everything wrong with the notebooks in `folder` (empty list when all is well)."""
    folder = Path(folder)
    sources = sources_folder(folder)
    found = []
    for nb in sorted(folder.glob("*.ipynb")):
        py = sources / nb.with_suffix(".py").name
        try:
            found += stored_errors(read_notebook(nb), nb)
        except NotebookError as e:  # one line, and none of the checks below can read it
            found.append(str(e))
            continue
        if not py.exists():
            found.append(f"{nb} has no paired {py}: run `make sync`")
        elif cells(nb) != cells(py):
            found.append(f"{nb} and {py} differ: edit the .py, then run `make sync` "
                         f"and re-execute the notebook")
        if nb.stat().st_size > MAX_NOTEBOOK_BYTES:
            found.append(f"{nb} is {nb.stat().st_size:,} bytes (limit {MAX_NOTEBOOK_BYTES:,}):"
                         f" shrink its stored outputs")
        for i, size in output_sizes(nb):
            if size > MAX_OUTPUT_BYTES:
                found.append(f"{nb} cell {i} has an output of {size:,} bytes (limit "
                             f"{MAX_OUTPUT_BYTES:,}): use a smaller figure")
        found += exercise_problems(nb)  # docs/exercises.md: headings, check cells, registries
        found += heading_jumps(nb)
    for py in sorted(folder.glob("*.py")):
        found.append(f"{py}: the paired sources live in {sources}/, not beside the notebooks")
    for py in sorted(sources.glob("*.py")):
        if not (folder / py.with_suffix(".ipynb").name).exists():
            found.append(f"{py} has no paired notebook in {folder}: run `make sync`")
        found += pointer_problems(py)
        for n, line in enumerate(py.read_text(encoding="utf-8").splitlines(), start=1):
            # ruff's E501 is off for these files: a cell's header line holds nbgrader's metadata
            if len(line) > MAX_LINE and not line.startswith("# %%"):
                found.append(f"{py}:{n} is {len(line)} characters long (limit {MAX_LINE})")
            if INTERNAL_NAME.search(line):
                found.append(f"{py}:{n} calls a source tutorial by an internal number "
                             f"({line.strip()[:60]!r}): name it by its title or short name "
                             f"(lenet_nb.course.sources)")
    return found


def stored_errors(nb, path):
    """One message per error stored in a cell tagged `report` (REPORT.md would show it)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if "report" not in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{path} cell {i} (tagged report) stored an error, "
                             f"{out.get('ename')}: {out.get('evalue')}: re-run the chapter")
    return found


# --- every pointer into the package leads somewhere -----------------------------------------

_PATH = re.compile(r"\blenet_nb/[\w/]+\.py\b")
_DOTTED = re.compile(r"(?<![\w/.])lenet_nb(?:\.\w+)+")
# `name` or `module.name()` right before a path pointer: "`fit` (`lenet_nb/train.py`)",
# "`corr2d` from `lenet_nb/lessons/conv.py`", "(`split_validation`, `lenet_nb/…`)"
_NAMED = re.compile(r"`([A-Za-z_][\w.]*)(?:\([^`]*\))?`[\s(,:—-]*(?:in\s+|from\s+)?\(?`"
                    r"(lenet_nb/[\w/]+\.py)`")


def _defined_names(path):
    """The top-level names a module defines (functions, classes, assignments, imports)."""
    import ast

    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _resolves(dotted):
    """True when `lenet_nb.a.b.c` is a module or an attribute of one."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def pointer_problems(py, root=None):
    """A message for each pointer in a notebook source that leads to no file or no name."""
    root = Path(root) if root else Path(py).resolve().parent.parent
    text = Path(py).read_text(encoding="utf-8")
    # the pointers as a learner reads them: comment lines joined, so a pointer may wrap
    joined = re.sub(r"\n#\s?", " ", text)
    found = []
    for path in sorted(set(_PATH.findall(joined))):
        if not (root / path).is_file():
            found.append(f"{py} points at {path}, which does not exist")
    for dotted in sorted(set(_DOTTED.findall(joined))):
        if not _resolves(dotted):
            found.append(f"{py} names {dotted}, which does not exist")
    for name, path in sorted(set(_NAMED.findall(joined))):
        file = root / path
        if file.is_file() and name.split(".")[-1] not in _defined_names(file):
            found.append(f"{py} says `{name}` is in {path}, which defines no "
                         f"`{name.split('.')[-1]}`")
    return found


# --- every prose number visible -------------------------------------------------------------

_HIDDEN = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|<!--.*?-->"
                     r"|\]\([^)]*\)", re.S)
_PROSE_NUMBER = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+)"
                           r"(?:\s?%)?(?![\w]|[.,]\d)")
_REFERENCE = re.compile(r"(?:§|\bsections?|\bchapters?|\bexercises?|\bFig\.|\bFigure|\bTable|"
                        r"\beq\.|\bPython|\bPyTorch|\btorch|\bversion|\bedition|\bpre-|\bv)\s*$",
                        re.I)
_OUTPUT_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][+-]?\d+)?")
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")  # an inline picture, not numbers
_CODE_NUMBER = re.compile(r"(?<![\w.])\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _blank(match):
    """The same text with every character but newlines replaced by spaces (keeps offsets)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def prose_numbers(markdown):
    """Yield (number text, offset) of every checked number in a markdown cell's source."""
    text = _HIDDEN.sub(_blank, markdown)
    for m in _PROSE_NUMBER.finditer(text):
        number = m.group(0)
        if "%" not in number and "," not in number and "." not in number:
            continue  # a plain integer
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[line_start:m.start()]
        if re.fullmatch(r"\s*#+\s*", before) or _REFERENCE.search(before):
            continue  # a heading's section number, a section or version reference
        yield number, m.start()


def _value(number):
    """(Decimal value, number of decimals, is a percentage) of a number as written."""
    digits = number.replace(",", "").replace("_", "").replace("%", "").strip()
    value = Decimal(digits)
    places = len(digits.split(".")[1]) if "." in digits and "e" not in digits.lower() else 0
    return value, places, number.endswith("%")


def _rounds_to(candidate, value, places):
    """Whether `candidate` rounded to `places` decimals is `value` (either tie rule)."""
    q = Decimal(1).scaleb(-places)
    return any(candidate.quantize(q, rounding=r) == value for r in (ROUND_HALF_UP, ROUND_HALF_EVEN))


def output_values(text):
    """Every number in an output's text as (Decimal, is followed by %); 1,234 also as 1 and 234."""
    values = set()
    text = _DATA_URI.sub(" ", text)
    for m in _OUTPUT_NUMBER.finditer(text):
        percent = text[m.end():m.end() + 2].lstrip().startswith("%")
        for piece in {m.group(0), *m.group(0).split(",")}:
            if piece:
                values.add((Decimal(piece.replace(",", "")), percent))
    return values


def matches(number, values):
    """Whether a prose number is one of `values` at its precision (a percentage may be scaled)."""
    value, places, percent = _value(number)
    for v, v_percent in values:
        candidates = [v]
        if percent and not v_percent:
            candidates.append(v * 100)  # 95.8 % in prose, 0.958 printed
        if v_percent and not percent:
            candidates.append(v / 100)  # 0.958 in prose, 95.8 % printed
        if any(_rounds_to(c, value, places) for c in candidates):
            return True
    return False


def _output_text(cell):
    """The visible text of a code cell's outputs."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        parts += ["".join(out["traceback"])] if "traceback" in out else []
        for mime in ("text/plain", "text/markdown", "text/html"):
            value = out.get("data", {}).get(mime, "")
            parts.append("".join(value) if isinstance(value, list) else str(value))
    return "\n".join(parts)


def _sentence(text, start):
    """The sentence around offset `start`, on one line, at most ~200 characters."""
    left = max(text.rfind(". ", 0, start), text.rfind("\n\n", 0, start))
    right = [i for i in (text.find(". ", start), text.find("\n\n", start)) if i >= 0]
    sentence = " ".join(text[left + 1 if left >= 0 else 0:min(right) + 1 if right else None]
                        .split())
    return sentence if len(sentence) <= 200 else sentence[:197] + "..."


def _live(cell):
    return LIVE_TAG in cell.get("metadata", {}).get("tags", [])


def live_values(nb_path):
    """The numbers printed by a notebook's cells tagged `live` (never evidence for prose)."""
    cells = json.loads(Path(nb_path).read_text(encoding="utf-8")).get("cells", [])
    return output_values("\n".join(_output_text(c) for c in cells
                                   if c["cell_type"] == "code" and _live(c)))


def unbacked_numbers(nb_path, allowed_text=None):
    """(cell index, number, sentence) of every prose number visible nowhere in the notebook
    (outputs of cells tagged `live` do not count)."""
    if allowed_text is None:
        from lenet_nb.course.sources import sources_table
        allowed_text = sources_table()
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    cells = nb.get("cells", [])
    source = ["".join(c.get("source", "")) for c in cells]
    outputs = output_values("\n".join(_output_text(c) for c in cells
                                      if c["cell_type"] == "code" and not _live(c)))
    outputs |= output_values(allowed_text)
    literals = {Decimal(m.group(0).replace("_", "")) for i, c in enumerate(cells)
                if c["cell_type"] == "code" for m in _CODE_NUMBER.finditer(source[i])}
    found = []
    for i, c in enumerate(cells):
        if c["cell_type"] != "markdown":
            continue
        for number, start in prose_numbers(source[i]):
            value, places, _ = _value(number)
            if matches(number, outputs) or any(v == value and _value(str(v))[1] == places
                                               for v in literals):
                continue
            if (i, number) not in [f[:2] for f in found]:
                found.append((i, number, _sentence(source[i], start)))
    return found


def number_problems(folder):
    """One message per prose number with no output, code literal or source figure behind it."""
    found = []
    for nb in sorted(Path(folder).glob("*.ipynb")):
        try:
            read_notebook(nb)
        except NotebookError:
            continue  # problems() names it
        live = live_values(nb)
        for i, number, sentence in unbacked_numbers(nb):
            if matches(number, live):
                found.append(f"{nb} cell {i}: {number!r} appears only in the output of a cell "
                             f"tagged `{LIVE_TAG}` (a live run's digits differ between CPUs): "
                             f"quote the stored results instead: \"{sentence}\"")
            else:
                found.append(f"{nb} cell {i}: {number!r} appears in no output, no code literal "
                             f"and not in lenet_nb.course.sources: \"{sentence}\"")
    return found


def main(argv=None):
    """Command line: `python -m lenet_nb.course.nbcheck [--numbers] [FOLDER]`; 1 on a problem."""
    return cli.run(_main, argv)


def _main(argv):
    parser = cli.parser("python -m lenet_nb.course.nbcheck", __doc__)
    parser.add_argument("folder", nargs="?", default="notebooks", type=cli.folder("*.ipynb"),
                        help="the folder of the chapter notebooks (default: notebooks)")
    parser.add_argument("--numbers", action="store_true",
                        help="also check that every prose number appears in the notebook")
    args = parser.parse_args(argv)
    found = problems(args.folder) + (number_problems(args.folder) if args.numbers else [])
    for p in found:
        print(f"error: {p}", file=sys.stderr)
    print(f"notebook check: {len(found)} problem(s) in {args.folder}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

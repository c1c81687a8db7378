"""Checks on the chapter notebooks: each .ipynb paired with an in-sync .py, outputs kept small."""

import base64
import json
import sys
from pathlib import Path

MAX_NOTEBOOK_BYTES = 2_000_000
MAX_OUTPUT_BYTES = 300_000  # one output; a PNG of a modest figure is ~20-80 kB


def cells(path):
    """(cell_type, stripped source) of every cell of a notebook or a paired .py."""
    import jupytext

    return [(c.cell_type, c.source.strip()) for c in jupytext.read(path).cells]


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


def problems(folder):
    """Everything wrong with the notebooks in `folder` (empty list when all is well)."""
    folder = Path(folder)
    found = []
    for nb in sorted(folder.glob("*.ipynb")):
        py = nb.with_suffix(".py")
        if not py.exists():
            found.append(f"{nb} has no paired {py.name}: run `make sync`")
        elif cells(nb) != cells(py):
            found.append(f"{nb} and {py.name} differ: edit the .py, then run `make sync` "
                         f"and re-execute the notebook")
        if nb.stat().st_size > MAX_NOTEBOOK_BYTES:
            found.append(f"{nb} is {nb.stat().st_size:,} bytes (limit {MAX_NOTEBOOK_BYTES:,}):"
                         f" shrink its stored outputs")
        for i, size in output_sizes(nb):
            if size > MAX_OUTPUT_BYTES:
                found.append(f"{nb} cell {i} has an output of {size:,} bytes (limit "
                             f"{MAX_OUTPUT_BYTES:,}): use a smaller figure")
    for py in sorted(folder.glob("*.py")):
        if not py.with_suffix(".ipynb").exists():
            found.append(f"{py} has no paired notebook: run `make sync`")
    return found


def main(argv=None):
    """Command line: `python -m lenet_nb.nbcheck FOLDER`; exit 1 on any problem."""
    argv = sys.argv[1:] if argv is None else argv
    folder = argv[0] if argv else "notebooks"
    found = problems(folder)
    for p in found:
        print(f"error: {p}", file=sys.stderr)
    print(f"notebook check: {len(found)} problem(s) in {folder}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

"""Write a generated edition of the chapters without ever losing a learner's work.

`write_edition(src, dst, transform)` writes `transform(notebook)` for every `src/*.ipynb` into
`dst/`, and keeps a record of what it wrote in `dst/.generated.json` (git-ignored with `dst`):
- a missing notebook is created;
- a notebook whose cells the learner has not changed since it was generated (same cell types
  and sources: running cells or JupyterLab's autosave do not count) is updated in place;
- a notebook the learner changed stays as it is; the new version goes beside it as
  `NAME.new.ipynb` and the result says so. With `force=True` the learner's notebook is first
  copied to `NAME.backup-<time>.ipynb`, then replaced.
Every file is written atomically (`lenet_nb.files.atomic_write`). A destination that is the
source folder, contains it or lies inside it is refused (paths resolved, symlinks followed).
"""

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from lenet_nb.course.notebooks import read_notebook
from lenet_nb.files import atomic_write

MANIFEST = ".generated.json"
# A generated folder must not pair with .py files through the repo's jupytext.toml.
JUPYTEXT_CONFIG = 'formats = "ipynb"\n'


class DestinationError(ValueError):
    """A destination folder that would overwrite or nest inside the source notebooks."""


@dataclass
class Written:
    """What happened to one notebook: `action` is created, updated, unchanged, kept or forced."""

    path: Path
    exercises: int
    action: str
    message: str


def check_destination(src, dst):
    """Raise DestinationError when `dst` is `src`, contains it or lies inside it."""
    src_r, dst_r = Path(src).resolve(), Path(dst).resolve()
    if dst_r == src_r:
        raise DestinationError(f"the destination {dst} is the source folder {src} itself: "
                               f"choose another folder, e.g. student")
    if src_r in dst_r.parents:
        raise DestinationError(f"the destination {dst} lies inside the source folder {src}: "
                               f"choose a folder outside it, e.g. student")
    if dst_r in src_r.parents:
        raise DestinationError(f"the destination {dst} contains the source folder {src}: "
                               f"choose a folder of its own, e.g. student")


def fingerprint(nb):
    """A hash of a notebook's cell types and sources: what a learner's edit changes."""
    cells = [[c["cell_type"], c["source"] if isinstance(c["source"], str)
              else "".join(c["source"])] for c in nb["cells"]]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def _write_text(path, text):
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _read_manifest(dst):
    try:
        return json.loads((dst / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _current(path):
    """The fingerprint of a notebook on disk, or None when it is unreadable."""
    try:
        return fingerprint(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stamp(now):
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now))


def _free_name(path, label, now):
    """`path` with `label` before .ipynb, made unique with the time when needed."""
    candidate = path.with_name(f"{path.stem}.{label}.ipynb")
    if candidate.exists():
        candidate = path.with_name(f"{path.stem}.{label}-{_stamp(now)}.ipynb")
    return candidate


def _place(target, text, record, manifest, force, now):
    """Write `text` for `target` by the rules of the module docstring; return (action, msg)."""
    new = fingerprint(json.loads(text))
    name = target.name
    if not target.exists():
        _write_text(target, text)
        manifest[name] = new
        return "created", f"{target}: created"
    current = _current(target)
    untouched = current is not None and current in (record, new)
    if untouched:
        if target.read_text(encoding="utf-8") == text:
            return "unchanged", f"{target}: up to date"
        _write_text(target, text)
        manifest[name] = new
        return "updated", f"{target}: updated (you had not changed it)"
    if force:
        backup = _free_name(target, f"backup-{_stamp(now)}", now)
        _write_text(backup, target.read_text(encoding="utf-8"))
        _write_text(target, text)
        manifest[name] = new
        return "forced", f"{target}: replaced (--force); your version is kept in {backup.name}"
    if record == new:
        return "kept", f"{target}: kept as you changed it (no newer version to offer)"
    beside = target.with_name(f"{target.stem}.new.ipynb")
    if beside.exists() and _current(beside) not in (manifest.get(beside.name), new):
        beside = _free_name(target, "new", now)  # the learner works in the .new file too
    _write_text(beside, text)
    manifest[beside.name] = new
    return "kept", (f"{target}: you changed this notebook, so it is left as it is; the new "
                    f"version is in {beside.name} (or run again with --force: your version is "
                    f"then kept as a backup)")


def write_edition(src, dst, transform, count=lambda nb: 0, force=False, now=None):
    """Write `transform(nb)` of every notebook in `src` into `dst`; return a list of Written."""
    import nbformat

    src, dst = Path(src), Path(dst)
    notebooks = sorted(src.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks in {src}: expected the chapters' .ipynb files")
    check_destination(src, dst)
    now = time.time() if now is None else now
    dst.mkdir(parents=True, exist_ok=True)
    if not (dst / "jupytext.toml").exists():
        _write_text(dst / "jupytext.toml", JUPYTEXT_CONFIG)
    manifest, written = _read_manifest(dst), []
    for path in notebooks:
        nb = read_notebook(path)  # a cut file is named in one line, with its fix
        text = nbformat.writes(transform(nb, path.name)) + "\n"
        target = dst / path.name
        action, message = _place(target, text, manifest.get(target.name), manifest, force, now)
        written.append(Written(target, count(nb), action, message))
        _write_text(dst / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return written

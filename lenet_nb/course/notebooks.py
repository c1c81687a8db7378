"""Reading the chapter notebooks: a file that is not a notebook is named in one line."""

import json
from pathlib import Path


class NotebookError(ValueError):
    """A file that should be a notebook is not one (cut off, not JSON, not nbformat 4)."""


def read_notebook(path):
    """The notebook at `path` (nbformat version 4); NotebookError naming the file and the fix."""
    import nbformat

    path = Path(path)
    fix = f"restore it (`git checkout -- {path}`) or save it again from JupyterLab"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise NotebookError(f"{path} is not a notebook: byte {e.start} is not UTF-8 text; "
                            f"{fix}") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        cut = " (cut off?)" if e.pos >= len(text.rstrip()) - 1 else ""
        raise NotebookError(f"{path} is not a notebook: invalid JSON at line {e.lineno}, "
                            f"column {e.colno}{cut}: {e.msg}; {fix}") from None
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as e:  # noqa: BLE001 - nbformat's validation errors vary
        raise NotebookError(f"{path} is JSON but not a notebook nbformat can read "
                            f"({type(e).__name__}: {str(e).splitlines()[0][:120]}); "
                            f"{fix}") from None

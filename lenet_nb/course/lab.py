"""`make lab`: the learner's own working copies, then JupyterLab on them.

Writes `student/` (the student edition) and `reading/` (the instructor edition with its stored
outputs), both git-ignored and both written by `lenet_nb.course.editions` (a notebook the learner
changed is never overwritten), then starts JupyterLab at the project's root on
`reading/00_start_here.ipynb` with the tracked chapter folders hidden from its file browser, so
reading and running a chapter changes no tracked file.

Command line: `python -m lenet_nb.course.lab [JUPYTER LAB OPTIONS]` (e.g. `--port 8888`).
"""

import os
import sys
from pathlib import Path

from lenet_nb import cli
from lenet_nb.course.editions import DestinationError
from lenet_nb.course.student import MarkerError, make_reading, make_student

START_PAGE = "reading/00_start_here.ipynb"
# the tracked chapters and their sources: the learner works in the copies instead
HIDDEN = ["notebooks", "notebooks_py"]
DEFAULT_HIDDEN = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~"]  # jupyter_server's own


def prepare(root="."):
    """Write or refresh student/ and reading/ under `root`; return the messages."""
    root = Path(root)
    written = (make_student(root / "notebooks", root / "student")
               + make_reading(root / "notebooks", root / "reading"))
    return [w.message for w in written if w.action != "unchanged"]


def lab_options(root="."):
    """The options that make JupyterLab open the learner's copies (used by the browser tests)."""
    options = [f"--ServerApp.root_dir={Path(root).resolve()}",
               f"--LabApp.default_url=/lab/tree/{START_PAGE}"]
    return options + [f"--ContentsManager.hide_globs={g}" for g in DEFAULT_HIDDEN + HIDDEN]


def main(argv=None):
    """Prepare the copies, then replace this process with JupyterLab."""
    parser = cli.parser("python -m lenet_nb.course.lab", __doc__)
    argv = parser.parse_known_args(argv)[1]  # --help here; the rest goes to JupyterLab
    try:
        messages = prepare(".")
    except (MarkerError, FileNotFoundError, DestinationError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    for message in messages:
        print(message)
    print("Your copies: student/ (exercises) and reading/ (the chapters with a full run's "
          "outputs). Opening JupyterLab on reading/00_start_here.ipynb.")
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip", "127.0.0.1",
               *lab_options("."), *argv]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    sys.exit(main())

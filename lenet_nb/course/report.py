"""The full-run report: re-run every chapter in full mode, then write REPORT.md from the outputs.

`python -m lenet_nb.course.report run notebooks` (what `make reproduce` runs) executes every chapter
(`0*.ipynb`, sorted) headless, one at a time, in place, with `LENET_NB_QUICK=0` and no timeout,
records the machine in each notebook's metadata (key `lenet_nb_run`; jupytext keeps it out of
the paired .py), then writes REPORT.md next to the notebooks' folder.
`python -m lenet_nb.course.report write notebooks` writes REPORT.md from the stored notebooks only.

REPORT.md is a pure function of the stored notebooks (`tests/test_report.py` re-renders it and
compares): wall times come from the cells' `metadata.execution` timestamps that nbclient records,
headline results from the outputs of cells tagged `report`, the sources' figures from
`lenet_nb.course.sources`.
"""

import contextlib
import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

from lenet_nb import cli
from lenet_nb.course.notebooks import read_notebook
from lenet_nb.course.sources import sources_table
from lenet_nb.files import unchanged_since, write_notebook, write_text

RUN_KEY = "lenet_nb_run"
TITLE = "# Full-run report"
REPORT_TAG = "report"


def machine():
    """The machine running this process: CPU model, cores, torch, its threads, Python, OS."""
    import torch

    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
            "python": platform.python_version(), "os": platform.platform()}


@contextlib.contextmanager
def _environ(**values):
    """Set environment variables for the block (the kernel inherits them), then restore."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(path, quick=False):
    """Run one notebook top to bottom in place (no timeout); return its wall time in seconds."""
    from nbclient import NotebookClient

    path = Path(path)
    unchanged = unchanged_since(path)  # a teacher's edit during the run is never overwritten
    nb = read_notebook(path)
    # no widget state: without it static viewers show the quizzes' text rendering, not widgets
    nb.metadata.pop("widgets", None)
    start = time.perf_counter()
    with _environ(LENET_NB_QUICK="1" if quick else "0"):
        NotebookClient(nb, timeout=None, kernel_name="python3", record_timing=True,
                       store_widget_state=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata[RUN_KEY] = {**machine(), "quick": quick, "wall_s": round(seconds, 1)}
    write_notebook(path, nb, owner=unchanged)  # atomic: never half a notebook
    return seconds


def _stamp(text):
    """A nbclient timestamp ('2026-11-25T22:07:59.286196Z') as a datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cell_seconds(nb):
    """Seconds the code cells took, summed from their recorded timings (None if none recorded)."""
    total, seen = 0.0, False
    for cell in nb["cells"]:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            seen = True
            total += (_stamp(timing["shell.execute_reply"])
                      - _stamp(timing["iopub.execute_input"])).total_seconds()
    return total if seen else None


def last_run(nb):
    """The last recorded cell execution, as 'YYYY-MM-DD HH:MM UTC' (None if none recorded)."""
    stamps = [c["metadata"]["execution"]["shell.execute_reply"] for c in nb["cells"]
              if "shell.execute_reply" in c.get("metadata", {}).get("execution", {})]
    return _stamp(max(stamps)).strftime("%Y-%m-%d %H:%M UTC") if stamps else None


def _duration(seconds):
    """12.3 -> '12 s'; 372 -> '6 min 12 s'; None -> 'not recorded'."""
    if seconds is None:
        return "not recorded"
    minutes, s = divmod(round(seconds), 60)
    return f"{minutes} min {s} s" if minutes else f"{s} s"


def _text(output):
    """(markdown, plain text) shown by one output; images and widgets give neither."""
    data = output.get("data", {})
    if "text/markdown" in data:
        return "".join(data["text/markdown"]), ""
    if output.get("output_type") == "stream":
        return "", "".join(output.get("text", ""))
    return "", "".join(data.get("text/plain", ""))


def headline(nb):
    """The stored outputs of the cells tagged `report`, as markdown ('' when there are none)."""
    parts = []
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "code" or REPORT_TAG not in tags:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":  # not "no cell tagged report"
                parts.append(f"**This cell stored an error**: `{output.get('ename')}: "
                             f"{output.get('evalue')}`. Re-run the chapter.")
                continue
            markdown, plain = _text(output)
            if markdown.strip():
                parts.append(markdown.strip())
            elif plain.strip():
                parts.append("```\n" + plain.rstrip() + "\n```")
    return "\n\n".join(parts)


def _machine_lines(runs):
    """The machine(s) the chapters were run on, one bullet list per distinct machine."""
    keys = ("cpu", "cores", "torch", "torch_threads", "OMP_NUM_THREADS", "python", "os")
    machines = {}
    for name, run in runs.items():
        if run:
            machines.setdefault(tuple(run.get(k) for k in keys), []).append(name)
    if not machines:
        return ["Not recorded: no chapter was executed by `make reproduce` yet (the wall times "
                "below are summed from the cells' stored timings)."]
    lines = []
    for values, names in machines.items():
        lines.append(f"Chapters {', '.join(names)}:")
        lines += [f"- {k}: {v}" for k, v in zip(keys, values, strict=True)]
        lines.append("")
    return lines[:-1]


def render(folder):
    """REPORT.md's text, from the notebooks stored in `folder` (no execution)."""
    paths = sorted(Path(folder).glob("0*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no chapter notebooks (0*.ipynb) in {folder}: pass the "
                                f"notebooks folder, e.g. `python -m lenet_nb.course.report write "
                                f"notebooks`")
    nbs = {p.stem: read_notebook(p) for p in paths}
    runs = {name: nb.metadata.get(RUN_KEY) for name, nb in nbs.items()}
    lines = [TITLE, "",
             "Written by `python -m lenet_nb.course.report write notebooks` from the stored "
             "notebooks (`make reproduce` re-runs every chapter in full mode first). "
             "Do not edit by hand.",
             "", "## Machine", ""]
    lines += _machine_lines(runs)
    lines += ["", "## Chapters", "",
              "Wall time: measured by `make reproduce` around the whole notebook. Cells summed: "
              "the code cells' execution times from the timings stored in the notebook (kernel "
              "start-up excluded; available for any stored run).", "",
              "| chapter | full mode | last cell run | wall time | cells summed |",
              "|---|---|---|---|---|"]
    for name, nb in nbs.items():
        run = runs[name]
        mode = "not recorded" if not run else ("no (quick)" if run.get("quick") else "yes")
        wall = _duration(run.get("wall_s")) if run else "not recorded"
        lines.append(f"| `{name}` | {mode} | {last_run(nb) or 'not recorded'} | {wall} | "
                     f"{_duration(cell_seconds(nb))} |")
    lines += ["", "## What the sources reported", "", sources_table().rstrip(), "",
              "## Headline results per chapter", "",
              f"The stored outputs of each chapter's cells tagged `{REPORT_TAG}`.", ""]
    for name, nb in nbs.items():
        lines += [f"### `{name}`", "",
                  headline(nb) or f"No cell tagged `{REPORT_TAG}` in this chapter.", ""]
    return "\n".join(lines).rstrip() + "\n"


def report_path(folder):
    """Where REPORT.md goes: the repository root, next to the notebooks folder."""
    return Path(folder).resolve().parent / "REPORT.md"


def is_report(path):
    """True when `path` holds a report this module wrote (its first line is the title)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readline().strip() == TITLE


is_report.ours = f"a report written by lenet_nb.course.report (first line '{TITLE}')"


def write(folder, out=None):
    """Write REPORT.md from the stored notebooks (atomically, never over another file)."""
    out = Path(out) if out else report_path(folder)
    write_text(out, render(folder), owner=is_report)
    return out


def run(folder, out=None):
    """Execute every chapter in full mode, one at a time, in place; then write REPORT.md."""
    for path in sorted(Path(folder).glob("0*.ipynb")):
        print(f"running {path} in full mode ...", flush=True)
        print(f"{path}: {_duration(execute(path))}", flush=True)
    return write(folder, out)


def main(argv=None):
    """Command line: `python -m lenet_nb.course.report {run,write} [FOLDER] [--out FILE]`."""
    return cli.run(_main, argv)


def _main(argv):
    parser = cli.parser("python -m lenet_nb.course.report", __doc__)
    parser.add_argument("command", choices=("run", "write"),
                        help="run: re-run every chapter in full mode in place, then write the "
                             "report; write: write it from the stored notebooks")
    parser.add_argument("folder", nargs="?", default="notebooks", type=cli.folder("0*.ipynb"),
                        help="the folder of the chapter notebooks (default: notebooks)")
    parser.add_argument("--out", default=None,
                        help="the report file (default: REPORT.md beside the folder)")
    args = parser.parse_args(argv)
    out = (run if args.command == "run" else write)(args.folder, args.out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

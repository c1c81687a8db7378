"""The full-run report: re-run every chapter in full mode, then write REPORT.md from the outputs.

`python -m lenet_nb.course.report run notebooks` (what `make reproduce` runs) executes every chapter
(`0*.ipynb`, sorted) headless, one at a time, in place, with `LENET_NB_QUICK=0` and no timeout,
records the machine in each notebook's metadata (key `lenet_nb_run`; jupytext keeps it out of
the paired .py), then writes REPORT.md next to the notebooks' folder.
`python -m lenet_nb.course.report write notebooks` writes REPORT.md from the stored notebooks only.
`python -m lenet_nb.course.report reproduce notebooks [--resume]` (what `make reproduce` runs)
runs every registered experiment into results/ first, then every chapter, and records the whole
run's time in results/reproduce.json.

REPORT.md is a pure function of the stored files (`tests/course/test_report.py` re-renders it and
compares): wall times and each chapter's slowest cell come from the cells' `metadata.execution`
timestamps that nbclient records, headline results from the outputs of cells tagged `report`, the
sources' figures from `lenet_nb.course.sources`, the experiments' table from results/NAME.csv.
"""

import contextlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from lenet_nb import __version__, cli
from lenet_nb.config import QUICK_ENV, is_quick
from lenet_nb.course import experiments as cx
from lenet_nb.course.experiments import duration
from lenet_nb.course.notebooks import read_notebook
from lenet_nb.course.runs import pins_one_thread
from lenet_nb.course.sources import sources_table
from lenet_nb.experiments import ResultsError, cpu_model, git_state, provenance, status
from lenet_nb.files import NotOurs, unchanged_since, write_notebook, write_text

RUN_KEY = "lenet_nb_run"
TITLE = "# Full-run report"
REPORT_TAG = "report"
REPRODUCE_FILE = "reproduce.json"  # in results/: the last full `make reproduce`


def machine():
    """The machine running this process: CPU model, cores, torch, its threads, Python, OS."""
    import torch

    return {"cpu": cpu_model(), "cores": os.cpu_count(), "torch": torch.__version__,
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
    try:
        write_notebook(path, nb, owner=unchanged)  # atomic: never half a notebook
    except NotOurs:
        raise NotOurs(f"{path} changed on disk while it ran (an edit, or a save from "
                      f"JupyterLab): your version is kept and this run's outputs were not "
                      f"written; run it again") from None
    return seconds


def _stamp(text):
    """A nbclient timestamp ('2026-11-25T22:07:59.286196Z') as a datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cell_times(nb):
    """[(code cell number from 1, seconds)] of the code cells whose timing was recorded."""
    times = []
    code_cells = (c for c in nb["cells"] if c["cell_type"] == "code")
    for number, cell in enumerate(code_cells, 1):
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            times.append((number, (_stamp(timing["shell.execute_reply"])
                                   - _stamp(timing["iopub.execute_input"])).total_seconds()))
    return times


def cell_seconds(nb):
    """Seconds the code cells took, summed from their recorded timings (None if none recorded)."""
    times = cell_times(nb)
    return sum(seconds for _, seconds in times) if times else None


def slowest_cell(nb):
    """'code cell 9: 5 min 35 s', the code cell that took longest ('not recorded' if none)."""
    times = cell_times(nb)
    if not times:
        return "not recorded"
    number, seconds = max(times, key=lambda t: t[1])
    return f"code cell {number}: {duration(seconds)}"


def last_run(nb):
    """The last recorded cell execution, as 'YYYY-MM-DD HH:MM UTC' (None if none recorded)."""
    stamps = [c["metadata"]["execution"]["shell.execute_reply"] for c in nb["cells"]
              if "shell.execute_reply" in c.get("metadata", {}).get("execution", {})]
    return _stamp(max(stamps)).strftime("%Y-%m-%d %H:%M UTC") if stamps else None


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


def results_dir(folder):
    """Where the stored experiments live: results/, next to the notebooks folder."""
    return Path(folder).resolve().parent / "results"


def _experiment_lines(experiments, results):
    """A table of the stored experiments: runs, summed wall time, machine, commit."""
    if not experiments:
        return ["No experiments registered yet (`python -m lenet_nb.course.experiments list`)."]
    lines = ["Run by `make experiments` (`python -m lenet_nb.course.experiments run --all`) into "
             "`results/NAME.csv`, one row per run; the chapters render them. Wall time: the "
             "runs' own times, summed.", "",
             "| experiment | chapter | results file | runs | wall time | machine | commit | "
             "finished |", "|---|---|---|---|---|---|---|---|"]
    for exp in experiments:
        state, _ = status(exp, results)
        info = cx.stored(exp, results)
        file = f"`{exp.path(results).name}`: {state}"
        if info is None:
            lines.append(f"| `{exp.name}` | `{exp.chapter}` | {file} | – | – | – | – | – |")
            continue
        runs = f"{info['runs']}" + (f" ({info['diverged']} diverged)" if info["diverged"] else "")
        lines.append(f"| `{exp.name}` | `{exp.chapter}` | {file} | {runs} | "
                     f"{duration(info['wall_seconds'])} | {'; '.join(info['machines'])} | "
                     f"{', '.join(info['commits'])} | {info['finished_at'].replace('T', ' ')[:16]} "
                     f"UTC |")
    return lines


def _reproduce_line(results):
    """The last full `make reproduce`, as one sentence (or 'not recorded')."""
    path = results / REPRODUCE_FILE
    if not path.exists():
        return ("Not recorded: `make reproduce` (every experiment, then every chapter) records "
                f"its time in `results/{REPRODUCE_FILE}`.")
    r = json.loads(path.read_text(encoding="utf-8"))
    resumed = (" It was resumed: experiments kept from an earlier, interrupted run are not in "
               "its time." if r.get("resumed") else "")
    jobs = (f" with JOBS={r['jobs']} (one-thread runs {r['jobs']} at a time)"
            if r.get("jobs", 1) > 1 else "")
    return (f"The last full `make reproduce`{jobs} took {duration(r['wall_s'])} (experiments "
            f"{duration(r['experiments_s'])}, chapters {duration(r['chapters_s'])}), finished "
            f"{r['finished_at']} on {r['cpu']} ({r['cpu_capability']}, {r['threads']} threads), "
            f"commit {r['commit'][:7]}.{resumed}")


def render(folder, experiments=None):
    """REPORT.md's text, from the notebooks stored in `folder` and the results next to it."""
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
             "", f"Course version: lenet-nb {__version__} (`lenet_nb/__init__.py`).",
             "", "## Machine", ""]
    lines += _machine_lines(runs)
    results = results_dir(folder)
    lines += ["", "## `make reproduce`", "", _reproduce_line(results)]
    lines += ["", "## Chapters", "",
              "Wall time: measured by `make reproduce` around the whole notebook. Cells summed: "
              "the code cells' execution times from the timings stored in the notebook (kernel "
              "start-up excluded; available for any stored run). Slowest cell: the code cell "
              "(counted from 1) that took longest.", "",
              "| chapter | full mode | last cell run | wall time | cells summed | slowest cell |",
              "|---|---|---|---|---|---|"]
    for name, nb in nbs.items():
        run = runs[name]
        mode = "not recorded" if not run else ("no (quick)" if run.get("quick") else "yes")
        wall = duration(run.get("wall_s")) if run else "not recorded"
        lines.append(f"| `{name}` | {mode} | {last_run(nb) or 'not recorded'} | {wall} | "
                     f"{duration(cell_seconds(nb))} | {slowest_cell(nb)} |")
    known = list(cx.registry(experiments).values())
    lines += ["", "## Stored experiments", ""] + _experiment_lines(known, results)
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


def write(folder, out=None, experiments=None):
    """Write REPORT.md from the stored notebooks and results (atomically, never over a file
    that is not a report); return its path."""
    out = Path(out) if out else report_path(folder)
    write_text(out, render(folder, experiments), owner=is_report)
    return out


def _run_chapters(folder):
    for path in sorted(Path(folder).glob("0*.ipynb")):
        print(f"running {path} in full mode ...", flush=True)
        print(f"{path}: {duration(execute(path))}", flush=True)


def run(folder, out=None):
    """Execute every chapter in full mode, one at a time, in place; then write REPORT.md."""
    _run_chapters(folder)
    return write(folder, out)


def plan_line(experiments, folder, jobs=1):
    """What `make reproduce` is about to do, with the experiments' summed estimates."""
    runs = minutes = 0
    for exp in experiments:
        specs = exp.specs()
        runs += len(specs)
        # the estimates are for one run at a time; an experiment whose runs all pin one thread
        # goes `jobs` runs at once (measured: the sweep's 38 min took 15 with JOBS=2)
        minutes += exp.minutes / (jobs if all(map(pins_one_thread, specs)) else 1)
    how = "one at a time" if jobs == 1 else f"with the one-thread runs {jobs} at a time"
    chapters = len(list(Path(folder).glob("0*.ipynb")))
    return (f"make reproduce: {len(experiments)} experiment(s) ({runs} run(s); about "
            f"{duration(minutes * 60)} {how} on 2 idle cores, by their estimates), then "
            f"{chapters} chapter(s) in full mode")


def reproduce(folder, resume=False, experiments=None, out=None, jobs=1):
    """`make reproduce`: every registered experiment (the one-thread runs `jobs` at a time),
    then every chapter, timed; REPORT.md."""
    if is_quick():  # the experiments would refuse anyway: say so before anything runs
        raise ResultsError(f"{QUICK_ENV} is on (quick mode): `make reproduce` stores full-mode "
                           f"results; run it with {QUICK_ENV}=0")
    results, started = results_dir(folder), time.perf_counter()
    exps = list(cx.registry(experiments).values())
    print(plan_line(exps, folder, jobs), flush=True)  # a run of hours: say so before it starts
    cx.run_all(exps, resume=resume, results_dir=results, jobs=jobs)
    chapters = time.perf_counter()
    _run_chapters(folder)
    done = time.perf_counter()
    p = provenance()
    record = {"wall_s": round(done - started, 1), "experiments_s": round(chapters - started, 1),
              "chapters_s": round(done - chapters, 1), "resumed": bool(resume), "jobs": jobs,
              "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "commit": git_state()[0], **{k: p[k] for k in ("cpu", "cpu_capability", "threads",
                                                              "torch")}}
    write_text(results / REPRODUCE_FILE, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return write(folder, out, experiments)


def main(argv=None):
    """Command line: `python -m lenet_nb.course.report {run,write,reproduce} [FOLDER]`."""
    return cli.run(_main, argv, errors=(ResultsError,))


def _main(argv):
    parser = cli.parser("python -m lenet_nb.course.report", __doc__)
    parser.add_argument("command", choices=("run", "write", "reproduce"),
                        help="run: re-run every chapter in full mode in place, then write the "
                             "report; write: write it from the stored notebooks and results; "
                             "reproduce: every experiment, then every chapter, timed in "
                             f"results/{REPRODUCE_FILE}, then the report")
    parser.add_argument("folder", nargs="?", default="notebooks", type=cli.folder("0*.ipynb"),
                        help="the folder of the chapter notebooks (default: notebooks)")
    parser.add_argument("--out", default=None,
                        help="the report file (default: REPORT.md beside the folder)")
    parser.add_argument("--resume", action="store_true",
                        help="reproduce only: keep an interrupted experiment's finished runs")
    parser.add_argument("--jobs", type=cli.whole_number(1), default=1, metavar="N",
                        help="reproduce only: run the one-thread runs N at a time (default 1)")
    args = parser.parse_args(argv)
    if (args.resume or args.jobs > 1) and args.command != "reproduce":
        parser.error("--resume and --jobs go with reproduce only")
    if args.command == "reproduce":
        out = reproduce(args.folder, args.resume, out=args.out, jobs=args.jobs)
    else:
        out = (run if args.command == "run" else write)(args.folder, args.out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The course's long experiments: the registry, running them into results/, and the command line.

    python -m lenet_nb.course.experiments list            # what there is and how its file stands
    python -m lenet_nb.course.experiments run NAME [NAME ...] [--resume | --fresh] [--only RUN ...]
    python -m lenet_nb.course.experiments run --all [--resume | --fresh] [--jobs N]
    python -m lenet_nb.course.experiments check           # exit 1 naming every unusable file

An experiment is declared (`lenet_nb.experiments.Experiment`) in the lesson module of the chapter
that renders it and added to EXPERIMENTS below. `run` stores each finished run in the git-ignored
`results/.NAME.partial.csv` and replaces `results/NAME.csv` atomically once all runs are done, so
Ctrl-C never leaves half a file and `--resume` carries on where it stopped. `--jobs 2` runs the
one-thread runs two at a time (same numbers). Quick mode (LENET_NB_QUICK on) never writes
results.
"""

import contextlib
import os
import sys
from pathlib import Path

from lenet_nb import cli
from lenet_nb.config import QUICK_ENV, is_quick
from lenet_nb.course.runs import busy_elsewhere, run_rows
from lenet_nb.exercises.draw_and_look_inside import CHALLENGE as DRAW_CHALLENGE
from lenet_nb.exercises.fc_limits import CHALLENGE as FC_LIMITS_CHALLENGE
from lenet_nb.exercises.lenet5_paper import CHALLENGE as LENET5_CHALLENGE
from lenet_nb.exercises.recipes import CHALLENGE as RECIPES_CHALLENGE
from lenet_nb.exercises.shapes import CHALLENGE as SHAPES_CHALLENGE
from lenet_nb.exercises.training_loop import CHALLENGE as TRAINING_LOOP_CHALLENGE
from lenet_nb.experiments import (
    COMMAND,
    FIRST,
    PROVENANCE,
    RESULTS,
    CorruptResults,
    ResultsError,
    is_results_file,
    provenance,
    read_rows,
    status,
    to_cell,
    write_rows,
)
from lenet_nb.files import remove
from lenet_nb.lessons.ablation import LADDER
from lenet_nb.lessons.draw import ROBUSTNESS
from lenet_nb.lessons.fc_limits import PERMUTATION
from lenet_nb.lessons.grid import GRID
from lenet_nb.lessons.lenet5_train import LENET5, LENET5_VALIDATION
from lenet_nb.lessons.lr_sweep import LR_SWEEP
from lenet_nb.lessons.recipe_runs import MNIST_INTRO, RECIPE_RUNS

# Each chapter's experiments, imported from its lesson module, in the order `run --all` runs
# them (one that reads another's results comes after it), e.g.
#   from lenet_nb.lessons.fc_limits import PERMUTATION
#   EXPERIMENTS = (PERMUTATION, ...)
EXPERIMENTS = (PERMUTATION, FC_LIMITS_CHALLENGE.experiment, SHAPES_CHALLENGE.experiment,
               LR_SWEEP, TRAINING_LOOP_CHALLENGE.experiment,
               RECIPE_RUNS, MNIST_INTRO, LADDER, GRID, RECIPES_CHALLENGE.experiment,
               LENET5, LENET5_VALIDATION, LENET5_CHALLENGE.experiment,
               ROBUSTNESS, DRAW_CHALLENGE.experiment)
SAME_MACHINE = ("torch", "threads", "cpu_capability")  # rows kept by --resume must match these


def registry(experiments=None):
    """{name: Experiment} of the registered experiments (refuses two with one name)."""
    found = {}
    for exp in EXPERIMENTS if experiments is None else experiments:
        if exp.name in found:
            raise ValueError(f"two registered experiments are named {exp.name!r}")
        found[exp.name] = exp
    return found


# --- one experiment ---------------------------------------------------------------------------


def select(specs, only):
    """Keys of the runs `only` picks: an entry is a run's key or 'field=value,...' (all match)."""
    if not only:
        return [s["run"] for s in specs]
    picked = set()
    for entry in only:
        wanted = dict(p.partition("=")[::2] for p in entry.split(","))
        hits = {s["run"] for s in specs if s["run"] == entry
                or all(k in s and to_cell(s[k]) == v for k, v in wanted.items())}
        if not hits:
            raise ResultsError(f"--only {entry!r} matches no run; runs look like "
                               f"{specs[0]['run']!r}")
        picked |= hits
    return [s["run"] for s in specs if s["run"] in picked]


def _kept(exp, specs, static, sources, log):
    """Raw rows of earlier runs worth keeping: same configuration and machine, a listed run."""
    by_key, kept = {s["run"]: s for s in specs}, {}
    for path in sources:
        if not path.exists():
            continue
        try:
            rows = [row for _, row in read_rows(path, "none of its rows is kept")]
        except CorruptResults as e:
            log(str(e))
            continue
        good = [r for r in rows if r["config_hash"] == exp.hash and r["run"] in by_key
                and all(r[k] == to_cell({**static, **by_key[r["run"]]}[k]) for k in SAME_MACHINE)]
        kept.update((r["run"], r) for r in good)
        if len(good) < len(rows):
            log(f"{path.name}: {len(rows) - len(good)} row(s) not kept (another configuration, "
                f"torch, thread count or CPU capability)")
    return kept


def _busy_note(load, log):
    """Say so when other processes keep the CPU busy: the wall times will come out longer."""
    cores = os.cpu_count() or 1
    if load <= 0.75 * cores:
        return  # the cheap test first: the load average counts our own earlier runs too
    others = busy_elsewhere()
    if others is None:
        log(f"note: load average {load} on {cores} cores (this command's own earlier runs "
            f"count too): if other work is running, wall times will be longer (the numbers do "
            f"not change)")
    elif others > 0.5:
        log(f"note: other processes keep {others:.1f} of {cores} cores busy, so wall times "
            f"will be longer (the numbers do not change)")


def _shown(row, spec):
    """The note of a diverged run, else its first metric (a curve's last value)."""
    metric = next(((k, v) for k, v in row.items()
                   if k not in spec and k not in FIRST + PROVENANCE), None)
    if row["note"] or metric is None:
        return row["note"]
    return f"{metric[0]} {to_cell(metric[1][-1] if isinstance(metric[1], list) else metric[1])}"


def run(exp, resume=False, only=None, fresh=False, results_dir=None, log=print, jobs=1):
    """Run an experiment (or the runs `only` picks) and store it; return the file written.

    That is results/NAME.csv once every run has a row, else the partial file. `resume` keeps
    the rows of an interrupted run (and of NAME.csv) made with the same configuration and
    machine and runs the rest; `fresh` discards an interrupted run's rows first. `jobs` > 1
    runs the one-thread runs that many at a time (`lenet_nb.course.runs`).
    """
    import torch

    if is_quick():
        raise ResultsError(f"{QUICK_ENV} is on (quick mode): its numbers mean nothing, so no "
                           f"results are written; run with {QUICK_ENV}=0")
    specs, final, partial = exp.specs(), exp.path(results_dir), exp.partial_path(results_dir)
    chosen = select(specs, only)
    if fresh:
        remove(partial, owner=is_results_file)
    elif partial.exists() and not (resume or only):
        raise ResultsError(f"{partial} holds the finished runs of an interrupted run: pass "
                           f"--resume to keep them or --fresh to discard them")
    final.parent.mkdir(parents=True, exist_ok=True)
    static = provenance()
    _busy_note(static.pop("load_avg"), log)
    static["threads"] = torch.get_num_threads()
    rows = {} if fresh or not (resume or only) else _kept(exp, specs, static, (final, partial),
                                                          log)
    todo = [s for s in specs if s["run"] in chosen and not (resume and s["run"] in rows)]
    log(f"{exp.name}: {len(todo)} run(s) to do, {len(rows)} kept, {len(specs)} in all")
    try:
        with contextlib.closing(run_rows(exp, todo, static, jobs)) as done:
            for i, (spec, row) in enumerate(done, 1):
                rows[spec["run"]] = row
                write_rows(partial, [rows[s["run"]] for s in specs if s["run"] in rows])
                log(f"[{i}/{len(todo)}] {spec['run']}: {row['status']}, {_shown(row, spec)} "
                    f"({row['wall_seconds']} s)")
    except BaseException as e:
        how = "interrupted" if isinstance(e, KeyboardInterrupt) else type(e).__name__
        stopped = getattr(e, "stopped_runs", [])
        what = (f"stopped ({how})" if not stopped else
                f"run {stopped[0]} stopped ({how}) and was not stored" if len(stopped) == 1 else
                f"runs {', '.join(stopped[:3])}{' ...' if len(stopped) > 3 else ''} stopped "
                f"({how}) and were not stored")
        log(f"{exp.name}: {what}; {len(rows)} of {len(specs)} runs are kept in {partial}; "
            f"{final.name} is unchanged; carry on with `{COMMAND} run {exp.name} --resume`")
        raise
    if len(rows) < len(specs):
        log(f"{exp.name}: {len(specs) - len(rows)} run(s) still missing; {final.name} is "
            f"unchanged; finish with `{COMMAND} run {exp.name} --resume`")
        return partial
    write_rows(final, [rows[s["run"]] for s in specs])
    remove(partial, owner=is_results_file)
    log(f"{exp.name}: wrote {final}")
    return final


def run_all(experiments, resume=False, fresh=False, results_dir=None, log=print, jobs=1):
    """Run experiments in order; refuses up front when one has an interrupted run's file."""
    for exp in experiments:
        partial = exp.partial_path(results_dir)
        if partial.exists() and not (resume or fresh):
            raise ResultsError(f"{partial} holds the finished runs of an interrupted run: pass "
                               f"--resume to keep them or --fresh to discard them")
    return [run(exp, resume=resume, fresh=fresh, results_dir=results_dir, log=log, jobs=jobs)
            for exp in experiments]


# --- what is stored ---------------------------------------------------------------------------


def stored(exp, results_dir=None):
    """What results/NAME.csv holds, current or not (None if missing or unreadable): runs,
    diverged, summed wall seconds, machines, commits, last finished."""
    path = exp.path(results_dir)
    try:
        rows = [row for _, row in read_rows(path, "")] if path.exists() else None
    except CorruptResults:
        rows = None
    if not rows:
        return None
    return {"runs": len(rows), "diverged": sum(r["status"] == "diverged" for r in rows),
            "wall_seconds": sum(float(r["wall_seconds"] or 0) for r in rows),
            "machines": sorted({f"{r['cpu']} ({r['cpu_capability']}, {r['threads']} threads, "
                                f"torch {r['torch']})" for r in rows}),
            "commits": sorted({r["commit"][:7] + ("+dirty" if r["dirty"] == "yes" else "")
                               for r in rows}),
            "finished_at": max(r["finished_at"] for r in rows)}


def duration(seconds):
    """12.3 -> '12 s'; 372 -> '6 min 12 s'; 4000 -> '1 h 6 min'; None -> 'not recorded'."""
    if seconds is None:
        return "not recorded"
    minutes, s = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {s} s" if minutes else f"{s} s"


def list_lines(experiments, results_dir=None):
    """One line per experiment: name, chapter, runs, estimate, file status, what is stored."""
    if not experiments:
        return ["no experiments registered yet: declare one in its chapter's lesson module and "
                "add it to EXPERIMENTS in lenet_nb/course/experiments.py"]
    lines = []
    for exp in experiments:
        state, _ = status(exp, results_dir)
        info = stored(exp, results_dir)
        partial = exp.partial_path(results_dir)
        extra = (f"; stored: {info['runs']} runs, {duration(info['wall_seconds'])}, "
                 f"{info['finished_at'][:10]}, {' / '.join(info['machines'])}" if info else "")
        extra += "; an interrupted run waits (--resume)" if partial.exists() else ""
        lines.append(f"{exp.name} (chapter {exp.chapter}): {len(exp.specs())} runs, about "
                     f"{exp.minutes:g} min; {exp.path(results_dir).name}: {state}{extra}")
    return lines


def check(experiments, results_dir=None):
    """One message per registered experiment whose results file cannot be loaded."""
    return [reason for exp in experiments for state, reason in [status(exp, results_dir)]
            if state != "ok"]


def orphans(experiments, results_dir=None):
    """Results files (results/*.csv) that belong to no registered experiment."""
    names = {exp.name for exp in experiments}
    return sorted(p for p in Path(results_dir or RESULTS).glob("*.csv") if p.stem not in names)


# --- command line -----------------------------------------------------------------------------


def _parser():
    parser = cli.parser(COMMAND, "List, run and check the course's long experiments (their "
                                 "results live in results/NAME.csv).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=cli.Parser)
    sub.add_parser("list", help="each experiment, its runs and how its results file stands")
    r = sub.add_parser("run", help="run experiments into results/NAME.csv")
    r.add_argument("names", nargs="*", metavar="NAME", help="experiments to run")
    r.add_argument("--all", action="store_true", help="run every experiment, in order")
    how = r.add_mutually_exclusive_group()
    how.add_argument("--resume", action="store_true",
                     help="keep finished runs of an interrupted run (and of NAME.csv) made with "
                          "this configuration on this machine; run the rest")
    how.add_argument("--fresh", action="store_true", help="discard an interrupted run's rows")
    r.add_argument("--only", nargs="+", metavar="RUN",
                   help="only these runs (a key, or field=value[,field=value])")
    r.add_argument("--jobs", type=cli.whole_number(1), default=1, metavar="N",
                   help="run the one-thread runs N at a time in worker processes (default 1; "
                        "2 on a 2-core machine: the same numbers in about half the time)")
    sub.add_parser("check", help="exit 1 naming every missing, stale or incomplete file")
    return parser


def main(argv=None, experiments=None, results_dir=None):
    """Command line entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    known = registry(experiments)
    if args.command == "list":
        print("\n".join(list_lines(list(known.values()), results_dir)))
        return 0
    if args.command == "check":
        problems = check(list(known.values()), results_dir)
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        for path in orphans(known.values(), results_dir):
            print(f"note: {path} belongs to no registered experiment (not checked)")
        print(f"experiments check: {len(problems)} problem(s) in {len(known)} results file(s)")
        return 1 if problems else 0
    unknown = [n for n in args.names if n not in known]
    if args.all == bool(args.names) or unknown or (args.only and len(args.names) != 1):
        why = (f"unknown experiment(s) {', '.join(unknown)}; registered: "
               f"{', '.join(known) or 'none'}" if unknown else
               "--only needs exactly one NAME" if args.names and args.only else
               "name the experiments to run, or pass --all (not both)")
        print(f"error: {why}", file=sys.stderr)
        return 2
    chosen = list(known.values()) if args.all else [known[n] for n in args.names]
    if not chosen:
        print(list_lines([])[0])
    if args.only:
        return guarded(lambda: run(chosen[0], args.resume, args.only, args.fresh, results_dir,
                                   jobs=args.jobs))
    return guarded(lambda: run_all(chosen, args.resume, args.fresh, results_dir, jobs=args.jobs))


def guarded(action, interrupted="nothing unfinished was stored"):
    """Exit code of `action()`: 0; 1 with a one-line message for a ResultsError; 130 on Ctrl-C."""
    try:
        action()
    except ResultsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: {interrupted}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Doing an experiment's runs: one at a time, or the one-thread runs several at once.

`run_row` does one run in this process: seeded, timed, on the threads the run asks for.
`run_rows` does a list of runs and yields each one's row as it finishes. With `jobs` > 1, the
runs that pin one thread (`"threads": 1`) go to that many worker processes, forked from this
one (so a run function needs no pickling), and the other runs follow one at a time here: on 2
cores, two one-thread runs take about the wall time of one, with the same numbers, because every
run seeds itself and fixes its threads. `busy_elsewhere` says how many cores other processes
keep busy, for the note printed before an experiment starts.
"""

import math
import multiprocessing
import os
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime

from lenet_nb.experiments import FIRST, PROVENANCE, SLUG, curves, from_cell

# exceptions meaning "the loss became NaN or infinite": fit's NonFiniteLoss (caught inside fit
# today, which then returns a History with .diverged), the TrainingDiverged planned for fit,
# and lenet_nb.experiments.RunDiverged
DIVERGED_NAMES = ("TrainingDiverged", "NonFiniteLoss", "RunDiverged")
_FORKED = {}  # the experiment and provenance the forked workers run with (set before forking)


def _metrics(result, spec):
    """(status, note, metrics) of what a run function returned."""
    metrics = result if isinstance(result, Mapping) else None
    if metrics is None and isinstance(result, list) and hasattr(result, "column"):
        metrics = curves(result)  # a fit History; interrupted or diverged ones raise here
    if metrics is None:
        raise TypeError(f"run {spec['run']}: the run function returned "
                        f"{type(result).__name__}; return a dict of metrics or a fit History")
    for k, v in metrics.items():
        values = v if isinstance(v, list | tuple) else [v]
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in values)
        if (k in FIRST + PROVENANCE or k in spec or not SLUG.fullmatch(str(k))
                or not (numbers or isinstance(v, str))):
            raise TypeError(f"run {spec['run']}: metric {k}={v!r}: metrics need a name not used "
                            f"by the run's fields or the file's columns, and a number, a list "
                            f"of numbers or a string")
        if isinstance(v, str) and (from_cell(v) != v or "\n" in v):
            raise TypeError(f"run {spec['run']}: metric {k}={v!r} would not read back as the "
                            f"same string")
        if numbers and not all(math.isfinite(x) for x in values):
            return "diverged", f"metric {k} is not finite", {}
    return "finished", "", dict(metrics)


def run_row(exp, spec, static):
    """Do one run, seeded, timed, on its threads; return its row (finished or diverged).

    Ctrl-C and any error other than a divergence propagate: such a run has no row.
    """
    import torch

    from lenet_nb.train import seed_everything

    threads = torch.get_num_threads()
    load, start = round(os.getloadavg()[0], 2), time.perf_counter()
    try:
        if "threads" in spec:
            torch.set_num_threads(spec["threads"])
        seed_everything(spec["seed"])  # besides the run's own seeding: order never matters
        try:
            status_, note, metrics = _metrics(exp.run_one(exp.config, dict(spec)), spec)
        except Exception as e:  # a divergence is a result; anything else is not
            if not any(c.__name__ in DIVERGED_NAMES for c in type(e).__mro__):
                raise
            status_, note, metrics = "diverged", " ".join(str(e).split())[:200], {}
        used = torch.get_num_threads()
    finally:
        torch.set_num_threads(threads)
    return {"experiment": exp.name, "config_hash": exp.hash, "status": status_, "note": note,
            **spec, **metrics, **static, "threads": used, "load_avg": load,
            "wall_seconds": round(time.perf_counter() - start, 1),
            "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def _pooled_row(index):
    """In a worker: the row of run `index` of the forked list."""
    exp, specs, static = _FORKED["job"]
    return index, run_row(exp, specs[index], static)


def _in_workers(exp, specs, static, jobs):
    """Yield (spec, row) as `jobs` forked workers finish the runs; stop them all on any exit."""
    _FORKED["job"] = (exp, specs, static)
    fork = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(min(jobs, len(specs)), mp_context=fork)
    left = set(range(len(specs)))
    try:
        for future in as_completed([pool.submit(_pooled_row, i) for i in range(len(specs))]):
            index, row = future.result()  # a worker's error (or its death) is raised here
            left.discard(index)
            yield specs[index], row
    except BaseException as e:
        # the caller names the runs left without a row
        e.stopped_runs = [specs[i]["run"] for i in sorted(left)]
        raise
    finally:
        # a run still going in a worker is stopped, never left behind (the executor has no
        # public way to stop a running task before Python 3.14)
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join()
        _FORKED.clear()


def pins_one_thread(spec):
    """True for a run that fixes one thread: the kind `jobs` > 1 runs in parallel workers."""
    return spec.get("threads") == 1


def run_rows(exp, specs, static, jobs=1):
    """Yield (spec, row) for every run: the one-thread runs in `jobs` workers when jobs > 1
    and there are at least two of them, then the others here one at a time, in order.

    An exception ends it, carrying `stopped_runs`: the keys of the runs that have no row.
    """
    one_thread = [pins_one_thread(s) for s in specs]
    pooled = jobs > 1 and sum(one_thread) >= 2
    if pooled:
        yield from _in_workers(exp, [s for s, one in zip(specs, one_thread) if one], static, jobs)
    for spec, one in zip(specs, one_thread):
        if pooled and one:
            continue  # done by a worker above
        try:
            row = run_row(exp, spec, static)
        except BaseException as e:
            e.stopped_runs = [spec["run"]]
            raise
        yield spec, row


# --- how busy the machine is besides us -------------------------------------------------------


def cpu_busy_seconds(stat_line, ticks_per_second):
    """Seconds of busy CPU in /proc/stat's first line: everything but idle and iowait (guest
    time is inside user time, so it is not added twice)."""
    name, *fields = stat_line.split()
    if name != "cpu" or len(fields) < 8:
        raise ValueError(f"not the 'cpu' line of /proc/stat: {stat_line!r}")
    ticks = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / ticks_per_second


def others_busy(busy_before, busy_after, own_before, own_after, seconds):
    """Cores kept busy by other processes over `seconds`: all busy CPU time less our own."""
    return max(0.0, ((busy_after - busy_before) - (own_after - own_before)) / seconds)


def _own_seconds():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _stat_line():
    with open("/proc/stat") as f:
        return f.readline()


def busy_elsewhere(seconds=0.25):
    """Cores other processes keep busy now, sampled over `seconds` (None without /proc/stat)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        before, own_before = cpu_busy_seconds(_stat_line(), ticks), _own_seconds()
        time.sleep(seconds)
        after, own_after = cpu_busy_seconds(_stat_line(), ticks), _own_seconds()
    except (OSError, ValueError):
        return None
    return others_busy(before, after, own_before, own_after, seconds)

"""Long experiments as data: declared once, run by one command into results/NAME.csv, loaded back.

An `Experiment` holds a JSON-able configuration (everything that sets the numbers), how it
expands into runs (one dict per run, each with its `seed`) and how one run is done. The command
`python -m lenet_nb.course.experiments run NAME` (lenet_nb/course/experiments.py) stores one row
per run with its provenance, replacing results/NAME.csv atomically once every run has finished.
A chapter calls `load` (which refuses a file that is missing, stale — made from another
configuration —, incomplete or cut short) and `summary` (mean and range over seeds per setting).
"""

import csv
import hashlib
import io
import itertools
import json
import math
import os
import platform
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lenet_nb.config import COURSE_ROOT
from lenet_nb.files import atomic_write
from lenet_nb.stats import format_mean_range, mean_range

ROOT = Path(__file__).resolve().parent.parent  # the checkout (its commit is provenance)
RESULTS = COURSE_ROOT / "results"
COMMAND = "python -m lenet_nb.course.experiments"
STATUSES = ("finished", "diverged")  # an interrupted or failed run is never stored
FIRST = ("experiment", "config_hash", "run", "seed", "status", "note")
PROVENANCE = ("wall_seconds", "finished_at", "load_avg", "commit", "dirty", "torch", "threads",
              "cpu_capability", "cpu")
TIME_COLUMNS = ("wall_seconds", "finished_at", "load_avg")  # differ between identical runs
NUMERIC = {"seed": int, "threads": int, "wall_seconds": float, "load_avg": float}
SLUG = re.compile(r"[a-z][a-z0-9_]*")


class ResultsError(ValueError):
    """A results file, or a request to make one, that cannot be used as it is (says the fix)."""


class MissingResults(ResultsError):
    """results/NAME.csv does not exist."""


class StaleResults(ResultsError):
    """results/NAME.csv was made from another configuration."""


class IncompleteResults(ResultsError):
    """results/NAME.csv lacks some of the experiment's runs."""


class CorruptResults(ResultsError):
    """results/NAME.csv is cut short or cannot be read."""


class RunDiverged(ArithmeticError):
    """Raise in a run function when its loss became NaN or infinite: stored as diverged."""


def config_hash(config):
    """12 hex digits of the SHA-256 of the configuration as canonical JSON (key order ignored)."""
    try:
        text = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"an experiment's config must be JSON-able (dicts, lists, strings, "
                         f"finite numbers, booleans, None): {e}") from None
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def grid(seeds, **axes):
    """One run per combination of the axes' values, for every seed: [{axis: value, "seed": s}]."""
    return [dict(zip(axes, values), seed=seed)
            for values in itertools.product(*axes.values()) for seed in seeds]


@dataclass(frozen=True, eq=False)
class Experiment:
    """A named long experiment; its results live in results/<name>.csv, one row per run.

    `config`: JSON-able, every setting that changes the numbers (bump a "revision" entry when the
    run code changes them). `runs(config)` lists the runs: dicts of JSON scalars, each with an
    int "seed" (a "threads" entry sets torch's threads for that run). `run_one(config, run)`
    does one run, seeding itself from `run["seed"]` so the order of runs never matters, and
    returns a dict of metrics (numbers, per-epoch lists of numbers, short strings; see
    `curves`) or a fit History. A NaN or infinite loss: raise RunDiverged (fit's own
    divergence is recognised too); the run is stored as diverged.
    """

    name: str
    chapter: str  # slug of the chapter that renders it, e.g. "recipes" for 04_recipes
    config: Mapping
    runs: Callable
    run_one: Callable
    minutes: float = 0.0  # estimated run time on 2 idle cores, shown by `list`

    def __post_init__(self):
        for what in ("name", "chapter"):
            value = getattr(self, what)
            if not isinstance(value, str) or not SLUG.fullmatch(value):
                raise ValueError(f"an experiment's {what} must be lower-case letters, digits and "
                                 f"underscores, starting with a letter: got {value!r}")
        config_hash(self.config)  # refuses a config that is not JSON-able now, not at run time

    @property
    def hash(self):
        return config_hash(self.config)

    def path(self, results_dir=None):
        return Path(results_dir or RESULTS) / f"{self.name}.csv"

    def partial_path(self, results_dir=None):
        return Path(results_dir or RESULTS) / f".{self.name}.partial.csv"

    def specs(self):
        """The runs, checked, each with its key under "run" ("lr=0.1,seed=0" unless given)."""
        specs, seen = [], set()
        for spec in self.runs(self.config):
            spec = dict(spec)
            seed = spec.get("seed")
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise ValueError(f"{self.name}: every run needs an int 'seed', got {spec}")
            for k, v in spec.items():
                reserved = k in FIRST[:2] + FIRST[4:] + PROVENANCE and k != "threads"
                if reserved or not SLUG.fullmatch(k):
                    raise ValueError(f"{self.name}: run field {k!r} is reserved or not a name")
                if not isinstance(v, str | int | float | bool) or _bad_number(v):
                    raise ValueError(f"{self.name}: run field {k}={v!r} must be a string, "
                                     f"an int, a finite float or a bool")
            if "threads" in spec and (not isinstance(spec["threads"], int)
                                      or isinstance(spec["threads"], bool) or spec["threads"] < 1):
                raise ValueError(f"{self.name}: 'threads' must be an int >= 1, got {spec}")
            spec["run"] = str(spec.get("run") or ",".join(f"{k}={v}" for k, v in spec.items()))
            if spec["run"] in seen:
                raise ValueError(f"{self.name}: two runs have the key {spec['run']!r}")
            seen.add(spec["run"])
            specs.append(spec)
        if not specs:
            raise ValueError(f"{self.name}: runs(config) listed no runs")
        return specs


def _bad_number(v):
    return isinstance(v, float) and not math.isfinite(v)


# --- provenance -------------------------------------------------------------------------------


def cpu_model():
    """The CPU's model name from /proc/cpuinfo ('unknown' where there is none)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_state(root=ROOT):
    """(commit, dirty) of the repository; dirty ignores results/. ('unknown', '') outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    try:
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                      ":(exclude)results")
        return git("rev-parse", "HEAD"), "yes" if changed else "no"
    except (OSError, subprocess.SubprocessError):
        return "unknown", ""


def provenance():
    """Where and with what a run is made: commit, dirty tree, torch, threads, CPU, load."""
    import torch

    commit, dirty = git_state()
    return {"commit": commit, "dirty": dirty, "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "cpu": cpu_model(),
            "load_avg": round(os.getloadavg()[0], 2)}


# --- the file format: one row per run, every value a readable cell ---------------------------


def to_cell(value):
    """A value as a CSV cell: '' for None, a list as '[0.81 0.85]', floats to 7 digits."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "[" + " ".join(to_cell(float(v)) for v in value) + "]"
    if isinstance(value, float):
        text = f"{value:.7g}"
        return text if any(c in text for c in ".en") else text + ".0"  # stays a float
    return str(value)


def from_cell(text):
    """The value a cell holds: None, a list of floats, an int, a float or a string."""
    if text == "":
        return None
    if text.startswith("["):
        if not text.endswith("]"):
            raise ValueError(f"the list {text[:30]!r} has no closing ']'")
        return [float(v) for v in text[1:-1].split()]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def is_results_file(path):
    """True when `path` starts with a results header: a file this module wrote."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readline().startswith(",".join(FIRST) + ",")


def write_rows(path, rows):
    """Write rows atomically: fixed columns, the runs' fields and metrics, then provenance.

    Refuses to replace a file that is not a results file (the package never overwrites a file
    it did not write).
    """
    path = Path(path)
    if path.exists() and not is_results_file(path):
        raise ResultsError(f"{path} exists and is not a results file (its first line is not "
                           f"{','.join(FIRST)},...). Nothing was changed: move it away or give "
                           f"the experiment another name")
    middle = [k for row in rows for k in row if k not in FIRST + PROVENANCE]
    header = list(FIRST) + list(dict.fromkeys(middle)) + list(PROVENANCE)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[to_cell(row.get(k)) for k in header] for row in rows])
    with atomic_write(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")


def read_rows(path, fix):
    """[(line number, row of raw cells)] of a results file; CorruptResults names the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise CorruptResults(f"{path} is not a text file ({e.reason} at byte {e.start}): "
                             f"{fix}") from None
    if not text:
        raise CorruptResults(f"{path} is empty: {fix}")
    if not text.endswith("\n"):
        raise CorruptResults(f"{path} line {text.count(chr(10)) + 1} is cut short (the file "
                             f"does not end with a newline): restore it (git checkout {path}) "
                             f"or {fix}")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    if header[:len(FIRST)] != list(FIRST) or not set(PROVENANCE) <= set(header):
        raise CorruptResults(f"{path} line 1 is not a results header (it must start with "
                             f"{','.join(FIRST)}): {fix}")
    rows = []
    for cells in reader:
        if len(cells) != len(header):
            raise CorruptResults(f"{path} line {reader.line_num} has {len(cells)} fields, the "
                                 f"header {len(header)}: the file was cut or edited; {fix}")
        row = dict(zip(header, cells))
        if row["status"] not in STATUSES or not row["run"] or not re.fullmatch(r"-?\d+",
                                                                               row["seed"]):
            raise CorruptResults(f"{path} line {reader.line_num} (run {row['run']!r}) has "
                                 f"status {row['status']!r} and seed {row['seed']!r}: expected "
                                 f"{' or '.join(STATUSES)} and a whole-number seed; {fix}")
        rows.append((reader.line_num, row))
    return rows


# --- for run functions ------------------------------------------------------------------------


def curves(history, *keys):
    """{key: per-epoch list} of a finished fit History; an interrupted or diverged one raises."""
    stopped = getattr(history, "stopped", None)
    if getattr(history, "interrupted", False) or stopped == "interrupted":
        raise KeyboardInterrupt(f"training was interrupted after {len(history)} epoch(s)")
    if getattr(history, "diverged", False) or stopped == "diverged":
        raise RunDiverged(f"the loss became non-finite after {len(history)} finished epoch(s)")
    if not history:
        raise ValueError("the History has no finished epochs")
    keys = keys or [k for k in history[0] if k not in ("epoch", "seconds", "images_per_s")]
    return {k: [float(v) for v in history.column(k)] for k in keys}


# --- loading and summarising ------------------------------------------------------------------


def load(exp, results_dir=None):
    """The rows of results/NAME.csv in the experiment's run order, as values; refuses a file
    that is missing, stale, incomplete or cut short, naming the file, the line and the fix."""
    path, specs = exp.path(results_dir), exp.specs()
    fix = f"re-run it: `{COMMAND} run {exp.name}`"
    if not path.exists():
        raise MissingResults(f"{path} does not exist: {fix} (about {exp.minutes:g} min)")
    by_key, rows = {s["run"]: s for s in specs}, {}
    for line, raw in read_rows(path, fix):
        if raw["experiment"] != exp.name or raw["config_hash"] != exp.hash:
            raise StaleResults(f"{path} line {line} (run {raw['run']!r}) was made for "
                               f"{raw['experiment']} with configuration {raw['config_hash']}; "
                               f"{exp.name}'s configuration is now {exp.hash}: {fix}")
        spec = by_key.get(raw["run"])
        if spec is None or any(raw.get(k) != to_cell(v) for k, v in spec.items()):
            raise StaleResults(f"{path} line {line}: run {raw['run']!r} is not one of "
                               f"{exp.name}'s runs as declared now: {fix}")
        if raw["run"] in rows:
            raise CorruptResults(f"{path} line {line}: run {raw['run']!r} appears twice: {fix}")
        try:
            rows[raw["run"]] = {k: spec[k] if k in spec else NUMERIC[k](v) if k in NUMERIC
                                else v if k in FIRST + PROVENANCE else from_cell(v)
                                for k, v in raw.items()}
        except ValueError as e:
            raise CorruptResults(f"{path} line {line}: {e}; {fix}") from None
    missing = [k for k in by_key if k not in rows]
    if missing:
        raise IncompleteResults(f"{path} has {len(rows)} of {len(specs)} runs (missing: "
                                f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}): "
                                f"finish it with `{COMMAND} run {exp.name} --resume`")
    return [rows[k] for k in by_key]


def status(exp, results_dir=None):
    """('ok', '') or (missing / stale / incomplete / corrupt, the reason) for an experiment."""
    try:
        load(exp, results_dir)
    except ResultsError as e:
        return type(e).__name__.removesuffix("Results").lower(), str(e)
    return "ok", ""


@dataclass
class Setting:
    """One setting's runs: finished values (numbers or per-epoch curves) and diverged count."""

    values: list
    seeds: list
    diverged: int = 0

    def _per_epoch(self, i):
        if not self.values:
            return None
        if not isinstance(self.values[0], list):
            return mean_range(self.values)[i]
        if len({len(v) for v in self.values}) > 1:
            raise ValueError(f"the curves of seeds {self.seeds} have different lengths "
                             f"{[len(v) for v in self.values]}: pick one epoch (epoch=k)")
        return [mean_range(epoch)[i] for epoch in zip(*self.values)]

    mean = property(lambda self: self._per_epoch(0))
    low = property(lambda self: self._per_epoch(1))
    high = property(lambda self: self._per_epoch(2))

    def format(self, digits=3):
        """'0.861 (0.850–0.870)', with ', 1 of 3 diverged' when some diverged."""
        runs = len(self.values) + self.diverged
        if not self.values:
            return f"all {runs} diverged"
        last = [v[-1] for v in self.values] if isinstance(self.values[0], list) else self.values
        text = format_mean_range(last, digits)
        return text + (f", {self.diverged} of {runs} diverged" if self.diverged else "")

    __str__ = format


def summary(rows, by, metric, epoch=None):
    """{setting: Setting} of `metric` over seeds, grouped by the run fields `by` (a name or
    a tuple of names); `epoch` (1-based) takes that epoch of a per-epoch curve."""
    names = (by,) if isinstance(by, str) else tuple(by)
    out = {}
    for row in rows:
        key = tuple(row[n] for n in names)
        s = out.setdefault(key[0] if isinstance(by, str) else key, Setting([], []))
        if row["status"] == "diverged":
            s.diverged += 1
            continue
        value = row.get(metric)
        if value is None:
            raise KeyError(f"run {row['run']!r} has no metric {metric!r}")
        if epoch is not None:
            if not isinstance(value, list) or not 1 <= epoch <= len(value):
                raise ValueError(f"run {row['run']!r}: {metric} has no epoch {epoch} "
                                 f"(it holds {len(value) if isinstance(value, list) else 'one'} "
                                 f"value(s))")
            value = value[epoch - 1]
        s.values.append(value)
        s.seeds.append(row["seed"])
    return out

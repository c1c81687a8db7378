"""Challenges: the learner's own training, scored on a split held out of it, beside the course's.

A chapter declares one `ChallengeSpec` (data set, held-out split and its seed, target, time
budget, caps) and the course's own solution `train(X, y, seconds) -> net` (in its lessons
module). The solution's runs are an experiment (`spec.experiment`, registered in
lenet_nb/course/experiments.py, stored in results/challenge_<chapter>.csv). Its checker returns
`challenge.score(SPEC, train)`: that gives the learner's function copies of the training images
only, scales the budget to this machine, times the training, checks the caps, measures the
metric on the held-out images, prints the learner's numbers beside the course's and returns the
verdict's message (or raises NotYet saying what is short). Quick mode (tests): a small subset,
20 s offered, no target, no time limit.

Budgets are in *reference seconds*: seconds on a machine that runs the d2l LeNet's training step
at REFERENCE_SPEED images/s (`machine_speed`). The budget here is budget × REFERENCE_SPEED / the
speed measured here; training times are also shown in reference seconds (seconds × speed /
REFERENCE_SPEED), so runs made on a faster, slower or busier machine compare.
"""

import functools
import statistics
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from lenet_nb.config import is_quick
from lenet_nb.exercises.checking import NotYet, call, exercise_number
from lenet_nb.lessons.anatomy import count_macs
from lenet_nb.models import count_parameters

QUICK_SIZES, QUICK_BUDGET = (2000, 500), 20.0  # training / validation images, seconds
SPEED_SECONDS = 1.5  # how long the machine's speed is measured, before and after training
# machine_speed() of the reference machine: an idle 2-core Intel Xeon (AVX-512) runs this step at
# 10-16k images/s (FIELD_NOTES); provisional until measured idle with
# `python -c "from lenet_nb.exercises.challenge import machine_speed; print(machine_speed(5))"`
REFERENCE_SPEED = 12_000.0
CLAMP = (0.25, 4.0)  # the budget here stays within these multiples of the reference budget
GRACE = 1.1  # timing noise: a run may overshoot the budget here by 10 %
FREEZE_MARGIN = {"accuracy": 0.005, "error": 0.0005}  # the stored worst seed clears the target
FREEZE_SHARE = 0.8  # ... and uses at most this share of the budget
QUIET_LOAD = 2.0  # a busy machine's timings are noise: only runs started below this load count
clock = time.perf_counter  # tests replace it to play a slow run
results_dir = None  # where the course solution's results are read (None: results/)


@dataclass(frozen=True, eq=False)
class ChallengeSpec:
    """One chapter's challenge. `solution(X, y, seconds)`: the course's answer (the package copy
    of the notebook's); `metric` "accuracy" (reach `target`) or "error" (stay at or below it);
    `load()` -> the training file's (uint8 [N, H, W], labels); `evaluate(net, X, y)` -> the
    metric on held-out images; `constraints(net)` raises NotYet for a rule beyond the caps;
    `hint(net, params, macs, value)` -> a chapter's hint for a broken cap (value None) or a miss.
    """

    exercise: str
    chapter: str
    dataset: str
    target: float
    budget: float
    solution: Callable
    max_params: int | None = None
    max_macs: int | None = None
    metric: str = "accuracy"
    holdout: int = 10_000
    split_seed: int = 0
    pad: int = 0
    threads: int = 2
    seeds: tuple = (0, 1, 2)
    revision: int = 1
    minutes: float = 3.0
    load: Callable | None = None
    evaluate: Callable | None = None
    constraints: Callable | None = None
    hint: Callable | None = None

    def __post_init__(self):
        if self.metric not in FREEZE_MARGIN:
            raise ValueError(f"metric must be one of {list(FREEZE_MARGIN)}, got {self.metric!r}")

    in_shape = property(lambda self: (1, 1, 28 + 2 * self.pad, 28 + 2 * self.pad))

    @functools.cached_property
    def experiment(self):
        """The course solution's runs, one per seed: results/challenge_<chapter>.csv."""
        from lenet_nb import experiments as xp

        config = {"revision": self.revision, "dataset": self.dataset, "holdout": self.holdout,
                  "split_seed": self.split_seed, "pad": self.pad, "budget": self.budget,
                  "threads": self.threads, "solution": self.solution.__qualname__}
        return xp.Experiment(f"challenge_{self.chapter}", self.chapter, config,
                             runs=lambda c: xp.grid(list(self.seeds)),
                             run_one=lambda c, run: run_solution(self, run["seed"]),
                             minutes=self.minutes)


# --- data: the held-out split, the learner's copies -------------------------------------------


def split_indices(n, holdout, seed):
    """(train indices, held-out indices): `holdout` of n chosen by a seeded permutation."""
    if not 0 < holdout < n:
        raise ValueError(f"holdout must be between 1 and {n - 1}, got {holdout}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[holdout:], perm[:holdout]


@functools.lru_cache(maxsize=2)
def _split(spec, quick):
    from lenet_nb.data import load_split, to_float

    X, y = spec.load() if spec.load else load_split(spec.dataset, train=True)
    train, val = split_indices(len(y), spec.holdout, spec.split_seed)
    if quick:
        train, val = train[:QUICK_SIZES[0]], val[:QUICK_SIZES[1]]
    return to_float(X[train], spec.pad), y[train], to_float(X[val], spec.pad), y[val]


def challenge_data(spec, quick=None):  # (X_train, y_train, X_val, y_val), images in [0, 1]
    return _split(spec, is_quick() if quick is None else quick)


# --- the machine's speed ----------------------------------------------------------------------


def machine_speed(seconds=SPEED_SECONDS, threads=2):
    """Images/s of the d2l LeNet's training step on a batch of 256: this machine, right now."""
    from lenet_nb.models import LeNet

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        g = torch.Generator().manual_seed(0)
        X, y = torch.rand(256, 1, 28, 28, generator=g), torch.randint(0, 10, (256,), generator=g)
        net, loss = LeNet(), nn.CrossEntropyLoss()
        opt = torch.optim.SGD(net.parameters(), lr=0.01)

        def step():
            opt.zero_grad(set_to_none=True)
            loss(net(X), y).backward()
            opt.step()

        step()  # untimed warm-up: the first call allocates and picks kernels
        rates, end = [], time.perf_counter() + seconds
        while time.perf_counter() < end or len(rates) < 3:
            start = time.perf_counter()
            step()
            rates.append(256 / (time.perf_counter() - start))
        return statistics.median(rates)
    finally:
        torch.set_num_threads(old)


# --- training and measuring -------------------------------------------------------------------


def _measure(spec, net, X, y):
    if spec.evaluate is not None:
        return float(spec.evaluate(net, X, y))
    net.eval()
    with torch.no_grad():
        right = sum(int((net(X[i:i + 1000]).argmax(dim=1) == y[i:i + 1000]).sum())
                    for i in range(0, len(y), 1000))
    acc = right / len(y)
    return acc if spec.metric == "accuracy" else 1 - acc


class _FirstValues:
    """Remembers every parameter's value at its module's first forward pass (a global hook), so
    that `changed(net)` tells a trained network from one that was never updated."""

    def __init__(self):
        self.first = {}

    def __call__(self, module, inputs):
        for p in module.parameters(recurse=False):
            if id(p) not in self.first or self.first[id(p)][0]() is not p:
                self.first[id(p)] = (weakref.ref(p), p.detach().clone())

    def changed(self, net):
        return any(id(p) in self.first and self.first[id(p)][0]() is p
                   and not torch.equal(p.detach(), self.first[id(p)][1])
                   for p in net.parameters())


def _train(spec, train, seconds, seed, name="train"):
    """(net, seconds, changed) of train(X copy, y copy, seconds), seeded, on spec.threads threads;
    changed(net): some weight of `net` moved after its first forward pass inside `train`."""
    from torch.nn.modules.module import register_module_forward_pre_hook

    from lenet_nb.train import seed_everything

    X, y, _, _ = challenge_data(spec)
    watch = _FirstValues()
    hook = register_module_forward_pre_hook(
        lambda module, inputs: None if module._parameters == {} else watch(module, inputs))
    old = torch.get_num_threads()
    torch.set_num_threads(spec.threads)
    seed_everything(seed)
    start = clock()
    try:
        net = call(train, X.clone(), y.clone(), seconds, name=name)
    except KeyboardInterrupt:  # Ctrl-C (and fit's TrainingInterrupted): nothing to score
        raise NotYet("interrupted: not scored. Run the check again and let it finish") from None
    except NotYet as problem:
        if any(word in str(problem) for word in ("TrainingDiverged", "NonFiniteLoss")):
            raise NotYet(f"{problem}. Hint: training diverged: lower the (peak) learning "
                         f"rate") from None
        raise
    finally:
        elapsed = clock() - start
        torch.set_num_threads(old)
        hook.remove()
    return net, elapsed, watch.changed


def _inspect(spec, net):
    """(parameters, multiply-adds, per-child multiply-adds) of the returned net, else NotYet."""
    if not isinstance(net, nn.Module):
        raise NotYet(f"`train` should return the trained network (an nn.Module), got "
                     f"{type(net).__name__}")
    params = list(net.parameters())
    if not params:
        raise NotYet("the network `train` returned has no parameters: return the network "
                     "you trained")
    if not all(torch.isfinite(p).all() for p in params):
        raise NotYet("some weights are NaN or infinite. Hint: training diverged: lower the "
                      "(peak) learning rate")
    net.eval()
    try:
        macs, per_child = count_macs(net, torch.zeros(spec.in_shape))  # lessons/anatomy.py
    except Exception as error:
        raise NotYet(f"your network fails on one image of shape {list(spec.in_shape)}: "
                     f"{type(error).__name__}: {error}") from None
    if spec.constraints is not None:
        spec.constraints(net)
    return count_parameters(net), macs, per_child


def reference_seconds(seconds, speed):
    """Seconds on a machine of `speed` images/s as seconds on the reference machine."""
    return seconds * speed / REFERENCE_SPEED


def budget_here(spec, speed):
    """Seconds of training allowed on a machine running at `speed` (clamped to CLAMP)."""
    scale = min(max(REFERENCE_SPEED / speed, CLAMP[0]), CLAMP[1])
    return spec.budget * scale


def run_solution(spec, seed):
    """One run of the course's solution on the full split: the metrics its experiment stores."""
    X_val, y_val = challenge_data(spec, quick=False)[2:]
    before = machine_speed(threads=spec.threads)
    net, elapsed, _ = _train(spec, spec.solution, budget_here(spec, before), seed,
                             name="solution")
    speed = (before + machine_speed(threads=spec.threads)) / 2
    params, macs, _ = _inspect(spec, net)  # a NotYet here stops the experiment: not stored
    return {f"val_{spec.metric}": _measure(spec, net, X_val, y_val),
            "train_seconds": round(elapsed, 2), "speed": round(speed, 1),
            "ref_seconds": round(reference_seconds(elapsed, speed), 2),
            "params": params, "macs": macs}


# --- what is stored -----------------------------------------------------------------------------


def stored_rows(spec):
    """(finished rows of the course solution's runs, None) or (None, why there are none)."""
    from lenet_nb import experiments as xp

    try:
        rows = xp.load(spec.experiment, results_dir)
    except xp.ResultsError as e:
        state = type(e).__name__.removesuffix("Results").lower()
        return None, f"{state} results, `{xp.COMMAND} run {spec.experiment.name}`"
    rows = [r for r in rows if r["status"] == "finished"]
    return (rows, None) if rows else (None, "every stored run diverged")


def freeze_problems(spec, rows):
    """Why target and budget may not be frozen on these stored runs (empty: they may): the worst
    seed clears the target by FREEZE_MARGIN, the slowest uses ≤ FREEZE_SHARE of the budget (only
    runs started on a quiet machine, load ≤ QUIET_LOAD, count for time), the caps hold."""
    if not rows:
        return ["no stored runs of the course solution"]
    problems, margin = [], FREEZE_MARGIN[spec.metric]
    values = [r[f"val_{spec.metric}"] for r in rows]
    worst = min(values) if spec.metric == "accuracy" else max(values)
    if (spec.metric == "accuracy" and worst < spec.target + margin) or (
            spec.metric == "error" and worst > spec.target - margin):
        problems.append(f"the worst seed's {spec.metric} {worst:.4f} does not clear the target "
                        f"{spec.target} by {margin}")
    timed = [r["ref_seconds"] for r in rows if r.get("load_avg", 0) <= QUIET_LOAD]
    if timed and max(timed) > FREEZE_SHARE * spec.budget:
        problems.append(f"the slowest seed trained {max(timed):.1f} reference seconds, more "
                        f"than {FREEZE_SHARE:.0%} of the {spec.budget:g} s budget")
    problems += [f"the course solution has more {field} than the cap {cap:,}"
                 for cap, field in ((spec.max_params, "params"), (spec.max_macs, "macs"))
                 if cap is not None and any(r[field] > cap for r in rows)]
    return problems


# --- scoring ----------------------------------------------------------------------------------


def _fmt(spec, value):
    return f"{value:.4f}" if spec.metric == "accuracy" else f"{100 * value:.2f} %"


def _table(spec, number, mine, rows, missing):
    """The learner's numbers beside the course solution's, as lines."""
    from lenet_nb.stats import format_mean_range

    def stored(key, digits, scale=1):
        return format_mean_range([scale * r[key] for r in rows], digits) if rows else ""

    metric = (stored(f"val_{spec.metric}", 4) if spec.metric == "accuracy" else
              stored(f"val_{spec.metric}", 2, 100) + " %") if rows else f"not stored: {missing}"
    n_val = len(challenge_data(spec)[3])
    table = [(spec.metric, _fmt(spec, mine["value"]), metric),
             ("parameters", f"{mine['params']:,}", f"{rows[0]['params']:,}" if rows else ""),
             ("multiply-adds", f"{mine['macs']:,}", f"{rows[0]['macs']:,}" if rows else ""),
             ("training time", f"{mine['seconds']:.1f} s", "")]
    if mine["ref_seconds"] is not None:  # not in quick mode, which measures no speed
        table.append(("  at ref. speed", f"{mine['ref_seconds']:.1f} s",
                      stored("ref_seconds", 1) + " s" if rows else ""))
    course = f"course solution ({len(rows)} seeds, stored)" if rows else "course solution"
    caps = [f"{cap:,} {what}" for cap, what in ((spec.max_params, "parameters"),
                                               (spec.max_macs, "multiply-adds")) if cap]
    limits = f"target {_fmt(spec, spec.target)}" + (f", at most {' and '.join(caps)}" * bool(caps))
    return ([f"challenge {number or spec.exercise}: validation {spec.metric} on {n_val:,} "
             f"{spec.dataset} images held out of training ({limits})",
             f"{'':<16}{'yours':>12}    {course}"]
            + [f"{label:<16}{yours:>12}    {theirs}".rstrip() for label, yours, theirs in table])


def _caps(spec, params, per_child, macs):
    if spec.max_params is not None and params > spec.max_params:
        raise NotYet(f"your network has {params:,} trainable parameters, the cap is "
                     f"{spec.max_params:,}")
    if spec.max_macs is not None and macs > spec.max_macs:
        layers = ", ".join(f"{name} {m:,}" for name, m in per_child.items() if m)
        raise NotYet(f"your network does {macs:,} multiply-adds per image, the cap is "
                     f"{spec.max_macs:,} (per layer: {layers})")


def _extra_hint(spec, net, params, macs, value):
    """'. Hint: …' from the chapter's own `hint(net, params, macs, value)`, or ''."""
    try:
        hint = spec.hint(net, params, macs, value) if spec.hint else None
    except Exception:  # a hint must never hide the report
        hint = None
    return f". Hint: {hint}" if hint else ""


def score(spec, train):
    """Score the learner's `train(X, y, seconds)`: print the table, return the verdict message
    (NotYet when it fails, breaks a cap, misses the target or overruns the budget here)."""
    number = exercise_number(f"lenet_nb.exercises.{spec.chapter}", spec.exercise)
    quick = is_quick()
    rows, missing = stored_rows(spec)
    before = REFERENCE_SPEED if quick else machine_speed(threads=spec.threads)
    seconds = QUICK_BUDGET if quick else budget_here(spec, before)
    net, elapsed, changed = _train(spec, train, seconds, seed=0)
    after = REFERENCE_SPEED if quick else machine_speed(threads=spec.threads)
    params, macs, per_child = _inspect(spec, net)
    try:
        _caps(spec, params, per_child, macs)
    except NotYet as problem:
        raise NotYet(f"{problem}{_extra_hint(spec, net, params, macs, None)}") from None
    X_val, y_val = challenge_data(spec)[2:]
    value = _measure(spec, net, X_val, y_val)
    mine = {"value": value, "params": params, "macs": macs, "seconds": elapsed,
            "ref_seconds": None if quick else reference_seconds(elapsed, (before + after) / 2)}
    # the slower measurement sets the limit: a machine that slowed down during the run is not
    # held against the learner
    allowed = seconds if quick else budget_here(spec, min(before, after))
    print("\n".join(_table(spec, number, mine, rows, missing)))
    print(f"quick mode: {QUICK_BUDGET:g} s offered on a subset, no target, no time limit" if quick
          else f"budget: {spec.budget:g} reference seconds; this machine trains LeNet at "
               f"{before / REFERENCE_SPEED:.2f}× the reference speed, so {seconds:.1f} s here")
    shown = _fmt(spec, value)
    if not changed(net):
        raise NotYet(f"{shown} with weights that never changed after the network's first "
                     f"forward pass. Hint: did `train` return the network it trained?")
    if not quick and elapsed > GRACE * allowed:  # quick mode: a busy test machine must not fail
        raise NotYet(f"{elapsed:.1f} s of training, the budget here is {allowed:.1f} s: train "
                     f"for fewer epochs, or let your loop watch the `seconds` it is given")
    if quick:
        return (f"quick mode: a valid network within the caps, trained in {elapsed:.1f} s "
                f"({spec.metric} {shown} on a subset; the target applies to full runs)")
    if value < spec.target if spec.metric == "accuracy" else value > spec.target:
        raise NotYet(f"{shown}, the target is {_fmt(spec, spec.target)}"
                     f"{_extra_hint(spec, net, params, macs, value)}")
    side = "≥" if spec.metric == "accuracy" else "≤"
    return (f"{shown} {side} {_fmt(spec, spec.target)} in {elapsed:.1f} s (budget here "
            f"{allowed:.1f} s), {params:,} parameters")

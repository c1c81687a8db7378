"""Chapter 7's exercise checkers: a safe checkpoint loader, the ink box, the occluding patch, a
corner unit of C3, how far a digit can move, and the challenge (digits moved by 4 pixels).

Each `check_*` takes what the learner wrote (a function, a number, the records of their own runs)
and returns a `Verdict` ("✔ …", "✘ …, not yet: <what is wrong and a hint>" or "○ … not
started"); it never raises. The *change and observe* checkers grade the answers against the
learner's own records (made by `explain.occlusion_run` and `explain.shift_run`), after redoing
one of them to make sure it is what that setting gives.
"""

from lenet_nb.exercises import challenge
from lenet_nb.exercises.checking import (
    NotStarted,
    NotYet,
    call,
    checker,
    expect_equal,
    require_answer,
    require_number,
)

# isort: split
import numbers

import torch

from lenet_nb.lessons.draw import shift_challenge_train

CHAPTER = 7
EXERCISES = {  # notebook order: exercise 7.n is the n-th name
    "load_reader": "find the bug",
    "bounding_box": "complete the code",
    "patch_size": "change and observe",
    "corner_unit": "predict, then run",
    "shift_tolerance": "change and observe",
    "shift_challenge": "challenge",
}

# a fixed ink image for check_bounding_box: faint pixels (0.05) around a digit-like shape
_BOX_INK = [[0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],
            [0.00, 0.05, 0.00, 0.00, 0.00, 0.00, 0.00],
            [0.00, 0.00, 0.90, 0.80, 0.00, 0.00, 0.00],
            [0.00, 0.00, 0.00, 1.00, 0.00, 0.00, 0.00],
            [0.00, 0.00, 0.00, 0.70, 0.60, 0.00, 0.00],
            [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.05]]


def _four_integers(got):
    try:
        values = tuple(got)
        if len(values) == 4 and all(isinstance(v, numbers.Integral) or
                                    (isinstance(v, torch.Tensor) and v.numel() == 1)
                                    for v in values):
            return tuple(int(v) for v in values)
    except TypeError:
        pass
    raise NotYet(f"bounding_box should return four integers (top, left, bottom, right), got "
                 f"{got!r}")


@checker("bounding_box")
def check_bounding_box(bounding_box):
    """The learner's bounding_box(ink, level) on a fixed 6x7 image and on a single pixel."""
    import numpy as np

    ink = np.array(_BOX_INK, dtype=np.float32)
    got = _four_integers(call(bounding_box, ink.copy(), 0.1, name="bounding_box"))
    expect_equal(got, (2, 2, 5, 5), "bounding_box(ink, 0.1) on the 6x7 test image", hints=[
        (lambda g: g == (2, 2, 4, 4),
         "bottom and right are exclusive (like Python slices): ink[top:bottom, left:right] "
         "must keep the last ink row and column; did you return their index?"),
        (lambda g: g in ((1, 1, 6, 7), (1, 1, 5, 6)),
         "the faint 0.05 pixels are not ink: keep only pixels above `level`"),
        (lambda g: g[:2] == (2, 2),
         "the top-left corner is right; look at how you find the last ink row and column"),
    ])
    one = np.zeros((4, 9), dtype=np.float32)
    one[1, 6] = 1.0  # a single ink pixel in a wide image: rows and columns must not be swapped
    got = _four_integers(call(bounding_box, one, 0.1, name="bounding_box"))
    expect_equal(got, (1, 6, 2, 7), "bounding_box on a single ink pixel at row 1, column 6",
                 hints=[(lambda g: g == (6, 1, 7, 2),
                         "rows and columns are swapped: a row has ink when any pixel *across* "
                         "it does")])
    return "the box (top, left, bottom, right) of the ink, bottom and right exclusive"


# ------------------------------------------------------------------ 7.3 the occluding patch


def _records(observed, name, what, key_of, needed, how):
    """The learner's records, checked to be what the course's helper made for their keys."""
    if not isinstance(observed, dict):
        raise NotYet(f"`{name}` should be the dict the run cell fills, got "
                     f"{type(observed).__name__}")
    if len(observed) < needed:
        raise NotStarted(f"`{name}` holds {sorted(observed, key=str) or 'nothing'}: {how}, "
                         f"then run the cell again")
    for key, record in observed.items():
        if not isinstance(record, dict) or "settings" not in record or \
                key_of(record["settings"]) != key:
            raise NotYet(f"{name}[{key!r}] is not what the run cell records for {what} {key!r}: "
                         f"fill `{name}` only with the run cell")
    return observed


THIRDS = ("top", "middle", "bottom")


def _third(record):
    """(third, centre row, field side) of the strongest drop in an occlusion record's map."""
    drops, s = record["drops"], record["settings"]
    i = int(drops.argmax()) // drops.shape[1]
    side = (drops.shape[0] - 1) * s["stride"] + s["patch"]
    centre = i * s["stride"] + (s["patch"] - 1) / 2  # the covered patch's middle row
    return THIRDS[min(2, int(3 * centre / side))], centre, side


def _answer_text(value, name, options):
    if not isinstance(value, str) or value not in options:
        raise NotYet(f"`{name}` should be one of {', '.join(map(repr, options))}, got "
                     f"{value!r}")
    return value


@checker("patch_size")
def check_patch_size(observed_patch, largest_drop_patch, peak_third):
    """Change and observe: occlusion maps for several patch sizes; answers from the records."""
    records = _records(observed_patch, "observed_patch", "a patch of side",
                       lambda s: s.get("patch"), 2, "add patch sizes to `patches` (two more at "
                       "least, e.g. a small and a large one)")
    biggest = max(records)
    again = records[biggest]["recompute"]()
    if not torch.allclose(again, records[biggest]["drops"], atol=1e-4):
        raise NotYet(f"observed_patch[{biggest}] is not what a {biggest}x{biggest} patch gives "
                     f"now: run the cell again (did the network or the drawing change?)")
    peaks = {p: float(r["drops"].max()) for p, r in records.items()}
    top = max(peaks.values())
    tied = [p for p, v in peaks.items() if v >= top - 1e-6]
    largest_drop_patch = require_answer(largest_drop_patch, "largest_drop_patch")
    if largest_drop_patch not in records:
        raise NotYet(f"`largest_drop_patch` should be one of the patch sizes you tried "
                     f"({sorted(records)}), got {largest_drop_patch!r}")
    if largest_drop_patch not in tied:
        raise NotYet(f"the map of the {largest_drop_patch}x{largest_drop_patch} patch does not "
                     f"hold the largest drop of your runs. Hint: compare the largest value of "
                     f"each map, observed_patch[p]['drops'].max()")
    smallest = min(records)
    third, centre, side = _third(records[smallest])
    peak_third = _answer_text(require_answer(peak_third, "peak_third"), "peak_third", THIRDS)
    near = {THIRDS[min(2, int(3 * c / side))] for c in (centre - 1, centre, centre + 1)}
    if peak_third not in near:
        hint = ("that is where the *largest* patch's strongest drop sits; the question is about "
                "the smallest patch you tried" if peak_third == _third(records[biggest])[0] else
                "find the row of the map's largest value (argmax), then the rows of the 32x32 "
                "input that patch covered")
        raise NotYet(f"the strongest drop of the {smallest}x{smallest} patch is not in the "
                     f"{peak_third} third. Hint: {hint}")
    return (f"a {largest_drop_patch}x{largest_drop_patch} patch hides most (largest drop "
            f"{top:.1f}); the {smallest}x{smallest} patch's strongest drop covers rows around "
            f"{centre:.0f} of {side}, the {third} third"
            + (" (near a border between thirds: both count)" if len(near) > 1 else ""))


# ------------------------------------------------------------------ 7.4 a corner unit of C3


@checker("corner_unit", leaks=[r"\b144\b", r"\b12\s*[×x]\s*12\b"])
def check_corner_unit(corner_pixels):
    """Predict, then run: the drawing's pixels C3's unit (0, 0) sees inside the 2-px margin."""
    from lenet_nb.lessons.explain import receptive_field

    corner_pixels = require_number(corner_pixels, "corner_pixels")  # 144, np.int64(144), '144'
    top, left, bottom, right = receptive_field("C3", 0, 0)
    first, last = 2, 2 + 28  # the drawing fills rows and columns 2-29 of the 32x32 field
    rows, cols = min(bottom, last) - max(top, first), min(right, last) - max(left, first)
    expect_equal(corner_pixels, rows * cols, "corner_pixels", reveal=False, hints=[
        (lambda g: g == (bottom - top) * (right - left),
         "that counts the unit's whole square, margin included: the 2-pixel frame around the "
         "drawing holds none of its pixels"),
        (lambda g: g == (bottom - top) * (right - left) - 2 * (right - left),
         "the margin runs along the top *and* down the left side: both take rows or columns "
         "away"),
        (lambda g: g == (rows + 1) * (cols + 1) or g == (rows - 1) * (cols - 1),
         "off by one: count the rows from the first drawing row to the unit's last one, both "
         "included"),
        (lambda g: g == 100, "10x10 is the size of C3's map (how many units), not what one "
                             "unit sees"),
        (lambda g: g == 256, "16x16 is what a unit of S4 sees, one layer further"),
        (lambda g: g == 25, "C3's 5x5 kernel moves over S2's units, not over pixels: each S2 "
                            "unit already covers more than one pixel"),
        (lambda g: g in (bottom - top, rows), "that is a side length; the question asks how "
                                              "many pixels"),
    ])
    return (f"{rows * cols} = {rows} x {cols}: the unit's box covers rows and columns "
            f"{top}-{bottom - 1} of the 32x32 field, and the drawing starts at row and column "
            f"{first}")


# ------------------------------------------------------------------ 7.5 how far a digit moves


def _first_below(accuracy, level=0.90):
    return next((s for s, a in enumerate(accuracy) if a < level), None)


@checker("shift_tolerance")
def check_shift_tolerance(observed_shift, first_below_90, most_tolerant):
    """Change and observe: accuracy against shift per network; answers from the records."""
    records = _records(observed_shift, "observed_shift", "the network", lambda s:
                       s.get("network"), 2, "add networks to `nets_to_try` (the MLP and LeNet-5 "
                       "too)")
    name, record = next(iter(records.items()))
    shift = len(record["accuracy"]) // 2
    if abs(record["recompute"](shift) - record["accuracy"][shift]) > 1e-6:
        raise NotYet(f"observed_shift[{name!r}] is not what {name} gives now at {shift} px: run "
                     f"the cell again")
    first_below_90 = require_answer(first_below_90, "first_below_90")
    if not isinstance(first_below_90, dict) or set(first_below_90) != set(records):
        got = sorted(first_below_90) if isinstance(first_below_90, dict) else first_below_90
        raise NotYet(f"`first_below_90` should be a dict with one entry per network you ran "
                     f"({sorted(records)}), got {got!r}")
    for net, r in records.items():
        expected, got = _first_below(r["accuracy"]), first_below_90[net]
        if got != expected:
            last_ok = None if expected in (None, 0) else expected - 1
            hint = ("that is the last shift still at or above 0.90; the question asks for the "
                    "first one below" if got == last_ok and got is not None else
                    "None means it never falls below 0.90 in your run" if expected is None else
                    "look along its list for the first value under 0.90 (shift 0 is the first)")
            raise NotYet(f"first_below_90[{net!r}] is {got!r}, which is not what your run of "
                         f"{net} shows. Hint: {hint}")
    mean = {net: sum(r["accuracy"][1:]) / len(r["accuracy"][1:]) for net, r in records.items()}
    best = max(mean.values())
    tied = [net for net, m in mean.items() if m >= best - 0.005]
    most_tolerant = _answer_text(require_answer(most_tolerant, "most_tolerant"),
                                 "most_tolerant", list(records))
    if most_tolerant not in tied:
        raise NotYet(f"{most_tolerant} does not have the highest mean accuracy over the shifted "
                     f"digits in your runs. Hint: average each list without its shift-0 entry")
    tie = f" (tied within 0.005 with {', '.join(t for t in tied if t != most_tolerant)})" \
        if len(tied) > 1 else ""
    return (f"{most_tolerant} holds on best, mean accuracy {mean[most_tolerant]:.3f} over 1-"
            f"{len(record['accuracy']) - 1} px{tie}; first below 0.90: "
            + ", ".join(f"{n} at {v if v is not None else 'never'}"
                        for n, v in first_below_90.items()))


# ------------------------------------------------------------------ 7.1 a safe loader


@checker("load_reader")
def check_load_reader(load_reader):
    """Find the bug: a plain state_dict loads; a file that runs code or holds a module does not."""
    import io
    import tempfile
    from pathlib import Path

    from lenet_nb.files import write_bytes
    from lenet_nb.lessons import pitfalls

    def save(obj, path):  # torch.save through the one writer
        buf = io.BytesIO()
        torch.save(obj, buf)
        write_bytes(path, buf.getvalue())

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        torch.manual_seed(0)
        genuine = torch.nn.Linear(3, 2)
        save(genuine.state_dict(), folder / "genuine.pt")
        pitfalls.write_untrusted_checkpoint(folder / "untrusted.pt")
        save(genuine, folder / "module.pt")  # a whole pickled network
        fresh = torch.nn.Linear(3, 2)
        loaded = call(load_reader, fresh, folder / "genuine.pt", name="load_reader")
        if not isinstance(loaded, torch.nn.Module):
            raise NotYet(f"load_reader should return the network it loaded, got "
                         f"{type(loaded).__name__}")
        if not all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(),
                                                     genuine.state_dict().values())):
            raise NotYet("a plain state_dict of tensors must still load: the network's "
                         "weights are not the saved ones")
        before = len(pitfalls.CALLS)
        refused = _refuses(load_reader, torch.nn.Linear(3, 2), folder / "untrusted.pt")
        if len(pitfalls.CALLS) > before:
            raise NotYet("the file ran code while your function loaded it (a stranger's "
                         "checkpoint could do anything there). Hint: what may torch.load "
                         "unpickle, and how do you restrict it? (see its documentation)")
        if not refused:
            raise NotYet("load_reader returned without complaint for a file it cannot load "
                         "safely: let the error reach the caller, so nobody uses a network "
                         "that was never loaded")
        if not _refuses(load_reader, torch.nn.Linear(3, 2), folder / "module.pt"):
            raise NotYet("a file holding a whole pickled network (what saving the module "
                         "itself writes) was accepted: unpickling a module can run code too; "
                         "only tensors and plain containers should load")
    return ("a stranger's file that runs code is refused before anything runs, a pickled "
            "module too, and a plain state_dict loads")


def _refuses(load_reader, net, path):
    """True when the learner's load_reader raises on `path` (a refusal)."""
    try:
        load_reader(net, path)
    except KeyboardInterrupt:
        raise
    except BaseException:  # any error (even sys.exit) is a refusal; what matters: nothing ran
        return True
    return False


# ------------------------------------------------------------------ 7.6 challenge


def moved_accuracy(net, X, y):
    """The challenge's metric: accuracy on held-out digits moved by 4 px, mean of 4 directions."""
    from lenet_nb.lessons.explain import shifted_accuracy

    return shifted_accuracy(net, X, y, 4)


def _centred_only_hint(net, params, macs, value):
    """A network that reads centred digits well but moved ones badly has only seen centred ones."""
    if value is None:
        return None
    from lenet_nb.lessons.explain import accuracy_on

    X, y = challenge.challenge_data(CHALLENGE)[2:]
    if accuracy_on(net, X, y) >= 0.95:
        return ("your network reads centred digits well: what has it seen during training? "
                "(explain.shift and explain.random_shifts move digits)")
    return None


CHALLENGE = challenge.ChallengeSpec(
    "shift_challenge", "draw_and_look_inside", "MNIST", target=0.95, budget=75.0,
    solution=shift_challenge_train, max_params=61_706, evaluate=moved_accuracy,
    hint=_centred_only_hint, minutes=4.0)


@checker("shift_challenge")
def check_shift_challenge(train):
    """Challenge: >= the target on held-out MNIST digits moved by 4 px, <= 61,706 parameters."""
    return challenge.score(CHALLENGE, train)

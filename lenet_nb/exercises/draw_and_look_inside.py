"""Chapter 7's exercise checkers: the ink box, occlusion, C3's receptive field.

Each `check_*` takes what the learner wrote (a function, a module, a number) and returns a
`Verdict` ("✔ …" or "✘ …, not yet: <what is wrong and a hint>"); it never raises.
"""

from lenet_nb.exercises.checking import NotYet, call, checker, expect_equal, require_number

CHAPTER = 7
EXERCISES = {  # notebook order: exercise 7.n is the n-th name
    "bounding_box": "complete the code",
    "occluded_copies": "predict, then run",
    "c3_field": "predict, then run",
}


# a fixed ink image for check_bounding_box: faint pixels (0.05) around a digit-like shape
_BOX_INK = [[0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],
            [0.00, 0.05, 0.00, 0.00, 0.00, 0.00, 0.00],
            [0.00, 0.00, 0.90, 0.80, 0.00, 0.00, 0.00],
            [0.00, 0.00, 0.00, 1.00, 0.00, 0.00, 0.00],
            [0.00, 0.00, 0.00, 0.70, 0.60, 0.00, 0.00],
            [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.05]]


@checker("bounding_box")
def check_bounding_box(bounding_box):
    """The learner's bounding_box(ink, level) on a fixed 6x7 image and on a single pixel."""
    import numpy as np

    ink = np.array(_BOX_INK, dtype=np.float32)
    got = call(bounding_box, ink, 0.1, name="bounding_box")
    try:
        got = tuple(int(v) for v in got)
    except (TypeError, ValueError):
        raise NotYet(f"bounding_box should return four integers (top, left, bottom, right), "
                     f"got {got!r}") from None
    expected = (2, 2, 5, 5)
    expect_equal(got, expected, "bounding_box(ink, 0.1) on the 6x7 test image", hints=[
        (lambda g: g == (2, 2, 4, 4),
         "bottom and right are exclusive (like Python slices): the last ink row is 4, so "
         "bottom is 5; did you return the last index instead of last + 1?"),
        (lambda g: g in ((1, 1, 6, 7), (1, 1, 5, 6)),
         "the faint 0.05 pixels are not ink: keep only pixels above `level`"),
        (lambda g: g[:2] == (2, 2),
         "the top-left corner is right; look at how you find the last ink row and column"),
    ])
    one = np.zeros((4, 9), dtype=np.float32)
    one[1, 6] = 1.0  # a single ink pixel in a wide image: rows and columns must not be swapped
    got = tuple(int(v) for v in call(bounding_box, one, 0.1, name="bounding_box"))
    expect_equal(got, (1, 6, 2, 7), "bounding_box on a single ink pixel at row 1, column 6",
                 hints=[(lambda g: g == (6, 1, 7, 2),
                         "rows and columns are swapped: rows come from `.any(1)` (across "
                         "each row), columns from `.any(0)`")])
    return "the box (top, left, bottom, right) of the ink, bottom and right exclusive"


@checker("occluded_copies", leaks=[r"\b196\b"])
def check_occluded_copies(occluded_copies):
    """Predict-then-run: copies explain.occlusion builds for 32x32, 6x6 patch, stride 2."""
    occluded_copies = require_number(occluded_copies, "occluded_copies")
    expect_equal(occluded_copies, 196, "occluded_copies", reveal=False, hints=[
        (lambda g: g == 729, "that is the count for stride 1; with stride 2 the patch skips "
                             "every other position"),
        (lambda g: g == 169, "off by one: positions 0, 2, ..., 26 are all allowed "
                             "(the last patch covers pixels 26-31)"),
        (lambda g: g == 256, "32 / 2 forgets that the patch must fit: its top-left corner "
                             "can go only up to 32 - 6"),
        (lambda g: g in (13, 14, 27), "that is the count along one side; the patch moves "
                                      "in two directions"),
    ])
    return "(32 - 6) // 2 + 1 = 14 positions per side, 14 x 14 = 196 covered copies"


@checker("c3_field", leaks=[r"\b14\s*[×x]\s*14\b"])
def check_c3_field(c3_field):
    """Predict-then-run: width in input pixels of what one C3 unit of LeNet-5 sees."""
    from lenet_nb.lessons.explain import receptive_field

    c3_field = require_number(c3_field, "c3_field")
    top, _, bottom, _ = receptive_field("C3", 0, 0)
    expect_equal(c3_field, bottom - top, "c3_field", reveal=False, hints=[
        (lambda g: g == 5, "5 is what a C1 unit sees; C3 looks at 5x5 S2 units, and each S2 "
                           "unit already covers more than one pixel"),
        (lambda g: g == 10, "10 is the side of a C3 map (how many units), not how much of the "
                            "input one unit sees"),
        (lambda g: g == 25, "5 x 5 would be right if S2 units were 5 pixels apart; "
                            "neighbouring S2 units are 2 pixels apart"),
        (lambda g: g in (13, 15), "close: count the pixels from the first to the last one "
                                  "(C1's 5, plus (5 - 1) steps of 2 through S2, plus S2's extra "
                                  "pixel)"),
        (lambda g: g == 32, "32 is the whole input: that is C5"),
    ])
    return "a C3 unit sees 14x14 input pixels: 5 + 1 (S2) + (5 - 1) x 2"

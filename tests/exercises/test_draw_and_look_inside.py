"""The checkers of lenet_nb.exercises.draw_and_look_inside: each passes on the reference
solution, says precisely what is wrong on the stub and on typical wrong answers, and never
raises."""


from lenet_nb.exercises import draw_and_look_inside as ex


def bounding_box_reference(ink, level=0.1):
    import numpy as np

    rows, cols = np.flatnonzero((ink > level).any(1)), np.flatnonzero((ink > level).any(0))
    return rows[0], cols[0], rows[-1] + 1, cols[-1] + 1


def test_bounding_box_passes_on_the_reference():
    v = ex.check_bounding_box(bounding_box_reference)
    assert v.passed, v.message
    assert repr(v).startswith("✔ 7.1 bounding_box: the box (top, left, bottom, right)")


def test_bounding_box_stub_and_typical_mistakes():
    def bounding_box(ink, level=0.1):
        ...  # your code here

    assert "`bounding_box` still holds the stub" in ex.check_bounding_box(bounding_box).message

    def inclusive(ink, level=0.1):
        top, left, bottom, right = bounding_box_reference(ink, level)
        return top, left, bottom - 1, right - 1

    assert "bottom and right are exclusive" in ex.check_bounding_box(inclusive).message

    def no_level(ink, level=0.1):
        return bounding_box_reference(ink, 0.0)

    assert "faint 0.05 pixels are not ink" in ex.check_bounding_box(no_level).message

    def swapped(ink, level=0.1):
        top, left, bottom, right = bounding_box_reference(ink, level)
        return left, top, right, bottom

    assert "rows and columns are swapped" in ex.check_bounding_box(swapped).message

    def crashes(ink, level=0.1):
        return (ink > level).nonzero()[0][10]

    v = ex.check_bounding_box(crashes)
    assert not v.passed and "IndexError" in v.message
    assert "four integers" in ex.check_bounding_box(lambda ink, level: 3).message


def test_occluded_copies():
    assert ex.check_occluded_copies(196).passed
    assert "still `...`" in ex.check_occluded_copies(...).message
    assert "stride 1" in ex.check_occluded_copies(729).message
    assert "off by one" in ex.check_occluded_copies(169).message
    assert "forgets that the patch must fit" in ex.check_occluded_copies(256).message
    v = ex.check_occluded_copies(200)
    assert not v.passed and "196" not in v.message  # predict-then-run: the answer stays hidden


def test_c3_field():
    assert ex.check_c3_field(14).passed
    assert "still `...`" in ex.check_c3_field(...).message
    assert "C1 unit" in ex.check_c3_field(5).message
    assert "side of a C3 map" in ex.check_c3_field(10).message
    assert "2 pixels apart" in ex.check_c3_field(25).message
    assert "count the pixels" in ex.check_c3_field(13).message
    assert "that is C5" in ex.check_c3_field(32).message
    assert "14" not in ex.check_c3_field(12).message


def test_ch6_answers_as_text_or_numpy():
    """Issue 17 item 6: '196' got "which is not right" with no word about the quotes."""
    import numpy as np

    verdict = ex.check_occluded_copies("196")
    assert not verdict and "without quotes" in verdict.message
    assert ex.check_occluded_copies(np.int64(196)) and ex.check_c3_field(np.int64(14))

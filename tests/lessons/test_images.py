"""lenet_nb.lessons.images: one reader for everything a learner draws or uploads.

One test per case of the reliability hunt (I09-I23, H27-H34: what each did before is in the
test's docstring), then properties: any supported dtype, size, polarity and layout gives the same
centred digit, and anything else a refusal in words, never another exception."""

import io
import re
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from lenet_nb.lessons import draw, images
from lenet_nb.lessons.drawpad import render_strokes
from lenet_nb.lessons.images import EmptyDrawing, ImageRefused, read_image
from tests.conftest import PROPERTY

SEVEN = [(18, [(70, 60), (210, 60), (120, 240)])]
ZERO = [(18, [(140 + 70 * np.sin(t), 140 - 100 * np.cos(t)) for t in np.linspace(0, 6.3, 40)])]
ONE = [(18, [(150, 40), (140, 240)])]
FOUR = [(18, [(170, 40), (70, 170), (220, 170)]), (18, [(170, 40), (170, 250)])]
SHAPES = (SEVEN, ZERO, ONE, FOUR)


def ink_of(strokes, side=280):
    """Ink [side, side] in [0, 1] of strokes drawn on 280x280, box-averaged to `side`."""
    alpha = Image.fromarray(render_strokes(strokes)[..., 3])
    return np.asarray(alpha.resize((side, side), Image.BOX), dtype=np.float32) / 255


def dark_on_white(ink):
    """The canonical presentation: uint8 grey, dark ink on white paper."""
    return np.round((1 - ink) * 255).astype(np.uint8)


def canonical(ink):
    return draw.preprocess(dark_on_white(ink))


def encode(img, fmt="PNG", **kw):
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kw)
    return buffer.getvalue()


def box(X):
    return draw.bounding_box(X[0, 0].numpy())


def assert_same_digit(X, ref, mean_tol=0.05):
    """Same crop (±1 px), same centre of mass (±1 px), small mean difference."""
    assert all(abs(a - b) <= 1 for a, b in zip(box(X), box(ref))), (box(X), box(ref))
    com, com_ref = draw.centre_of_mass(X), draw.centre_of_mass(ref)
    assert all(abs(a - b) <= 1 for a, b in zip(com, com_ref)), (com, com_ref)
    assert float((X - ref).abs().mean()) < mean_tol


@pytest.fixture(scope="module")
def mnist_seven():
    """MNIST's test image 0 (a white 7 on black, uint8 28x28), or a stand-in without the data."""
    from lenet_nb import data

    if data.problems("MNIST"):
        return dark_on_white(ink_of(SEVEN, 28)) ^ 255  # light on dark, as MNIST
    X, _ = data.load_split("MNIST", train=False)
    return X[0].reshape(28, 28).numpy()


# ------------------------------------------------------------------ the hunt's cases, one each


def test_I09_an_mnist_digit_uploaded_as_png_is_read_as_itself(mnist_seven):
    """Before: a 20x20 block (393 ink px) - light ink on dark was read as dark ink."""
    reading = read_image(encode(Image.fromarray(mnist_seven)), name="seven.png")
    assert reading.background == "dark" and "light ink on a dark background" in reading.how
    assert torch.equal(draw.center_digit(reading.ink),
                       draw.center_digit(mnist_seven.astype(np.float32) / 255))


def test_I10_an_mnist_uint8_array_is_read_as_itself(mnist_seven):
    """Before: "the image is empty ... dark ink on a light background"."""
    assert torch.equal(draw.preprocess(mnist_seven),
                       draw.center_digit(mnist_seven.astype(np.float32) / 255))


def test_I11_chalk_on_a_dark_board():
    """Before: a solid block (upload) or "empty" (preprocess)."""
    ink = ink_of(ONE)
    rng = np.random.default_rng(0)
    board = 0.22 + 0.6 * ink + rng.normal(0, 0.015, ink.shape)  # grey-green board, chalk
    photo = Image.fromarray(np.round(np.clip(board, 0, 1) * 255).astype(np.uint8))
    for source in (encode(photo, "JPEG", quality=90), np.asarray(photo)):
        assert_same_digit(draw.preprocess(source), canonical(ink), mean_tol=0.06)


def test_I12_a_16_bit_png_keeps_every_ink_pixel():
    """Before: 44 of 12,644 ink pixels kept (Pillow clipped I;16 at 255)."""
    ink = ink_of(ZERO)
    grey16 = np.round((1 - 0.97 * ink) * 65535).astype(np.uint16)
    reading = read_image(encode(Image.fromarray(grey16)), name="zero16.png")
    assert "16-bit" in reading.how
    assert (reading.ink > 0.1).sum() == pytest.approx((ink > 0.1).sum(), rel=0.02)
    assert_same_digit(draw.center_digit(reading.ink), canonical(ink), mean_tol=0.01)


def test_I13_a_uint16_array_is_read_on_its_own_scale():
    """Before: right by accident (divided by 255, then rescaled by the median and max)."""
    ink = ink_of(ZERO)
    grey16 = np.round((1 - ink) * 65535).astype(np.uint16)
    assert_same_digit(draw.preprocess(grey16), canonical(ink), mean_tol=0.01)
    faint = (grey16 // 257).astype(np.uint16)  # 8-bit levels stored as 16-bit integers
    with pytest.raises(EmptyDrawing, match=r"too faint.*astype\(np.uint8\)"):
        read_image(faint)


def test_I14_a_phone_jpeg_with_exif_orientation_stands_upright():
    """Before: read as stored, on its side."""
    ink = ink_of(SEVEN)
    upright = Image.fromarray(dark_on_white(ink)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": the camera stored it on its side
    jpeg = encode(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif, quality=95)
    reading = read_image(jpeg, name="IMG_0001.jpg")
    assert "turned upright (EXIF orientation 6)" in reading.how
    assert_same_digit(draw.center_digit(reading.ink), canonical(ink), mean_tol=0.03)


def test_I15_float_0_255_with_noise_reads_like_the_clean_picture():
    """Before: the noise counted as ink (whole frame cropped, the digit 5x5 in a corner)."""
    ink = ink_of(SEVEN)
    noisy = (1 - ink) * 255 + np.random.default_rng(0).uniform(-2, 2, ink.shape)
    reading = read_image(noisy)
    assert "float 0–255" in reading.how
    assert_same_digit(draw.center_digit(reading.ink), canonical(ink), mean_tol=0.02)


def test_I16_a_bold_drawing_more_than_half_inked_is_read():
    """Before: "the image is empty" (the median pixel was ink)."""
    bold = [(40, [(30 + 10 * k, 20) for k in range(24)])] + \
        [(40, [(30, 20 + 10 * j), (250, 20 + 10 * j)]) for j in range(0, 26, 3)]
    rgba = render_strokes(bold)
    assert (rgba[..., 3] > 128).mean() > 0.66
    X = draw.preprocess(rgba)
    top, left, bottom, right = box(X)
    assert max(bottom - top, right - left) == draw.BOX


@pytest.mark.parametrize(("value", "words"), [
    (np.nan, "1 pixel(s) are NaN, the first at row 5, column 7"),  # I17, before: "empty"
    (-np.inf, "1 pixel(s) are infinite, the first at row 5, column 7"),  # I18: NaN to integer
    (np.inf, "1 pixel(s) are infinite, the first at row 5, column 7"),  # I19: accepted silently
])
def test_I17_I18_I19_nan_and_infinite_pixels_are_refused_by_place(value, words):
    picture = 1 - ink_of(SEVEN)
    picture[5, 7] = value
    with pytest.raises(ImageRefused, match=re.escape(words) + ".*finite number"):
        read_image(picture)


def png_header(width, height, mode=0):
    """A PNG that claims width x height pixels (8-bit grey) but holds one row of data."""
    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc
    ihdr = struct.pack(">IIBBBBB", width, height, 8, mode, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [9000, 13000, 20000])
def test_I20_a_decompression_bomb_is_refused_before_decoding(side):
    """Before: the 81-megapixel PNG was decoded in full (+626 MB), then read as "empty"."""
    bomb = png_header(side, side)
    tracemalloc.start()
    try:
        with pytest.raises(ImageRefused, match="refused without decoding it"):
            read_image(bomb, name="bomb.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5e6
    assert len(bomb) < 25_000


@pytest.mark.parametrize(("name", "content", "words"), [
    ("homework.pdf", b"%PDF-1.4\n%...", "homework.pdf is a PDF document, not a picture"),  # I21
    ("empty.png", b"", "empty.png is empty \\(0 bytes\\)"),  # I22
    ("notes.txt", b"hello, this is not a picture\n", "notes.txt is not an image file"),
    ("digit.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "an SVG drawing"),
    ("photo.heic", b"\x00\x00\x00\x18ftypheic" + bytes(20), "HEIC/AVIF photo"),
    ("cut.png", png_header(40, 40)[:45], "could not be decoded|not an image file"),
])
def test_I21_I22_files_that_are_not_pictures_are_named_in_words(name, content, words):
    """Before: "cannot identify image file <_io.BytesIO object at 0x7f...>"."""
    with pytest.raises(ImageRefused, match=words) as refused:
        read_image(content, name=name)
    assert "BytesIO" not in str(refused.value)


def test_I23_the_reader_keeps_nothing_between_calls():
    """Re-upload after Clear (the pad's side is in test_drawpad): the same bytes, the same ink."""
    data = encode(Image.fromarray(dark_on_white(ink_of(FOUR))))
    assert np.array_equal(read_image(data).ink, read_image(data).ink)


def test_H27_a_boolean_mask_is_ink_where_true():
    """Before: "the image is empty"."""
    ink = ink_of(FOUR)
    assert_same_digit(draw.preprocess(ink > 0.5), canonical(ink), mean_tol=0.05)


def test_H28_a_palette_image_is_read_through_its_palette():
    """Before: palette indices 0/1 read as grey levels: "empty"."""
    ink = ink_of(FOUR)
    paletted = Image.fromarray(dark_on_white(ink)).convert("P", palette=Image.Palette.ADAPTIVE)
    assert paletted.mode == "P"
    assert_same_digit(draw.preprocess(paletted), canonical(ink), mean_tol=0.02)


def test_H29_white_strokes_on_a_transparent_background():
    """Before: "empty"."""
    rgba = render_strokes(SEVEN)
    rgba[..., :3] = 255  # white ink
    reading = read_image(encode(Image.fromarray(rgba, "RGBA")), name="white.png")
    assert reading.background == "transparent"
    assert torch.equal(draw.center_digit(reading.ink), draw.preprocess(render_strokes(SEVEN)))


def test_H30_an_mnist_tensor_in_0_1(mnist_seven):
    """Before: "empty"."""
    X = torch.from_numpy(mnist_seven).float() / 255
    assert torch.equal(draw.preprocess(X), draw.center_digit(X.numpy()))


def test_H31_a_batch_of_one_is_read_and_a_batch_of_several_refused(mnist_seven):
    X = torch.from_numpy(mnist_seven).float()[None, None] / 255
    assert torch.equal(draw.preprocess(X), draw.preprocess(X[0, 0]))
    with pytest.raises(ImageRefused, match="a batch of 2 pictures .* one picture at a time"):
        read_image(X.repeat(2, 1, 1, 1))


def test_H32_grey_with_a_channel_axis_and_grey_plus_alpha():
    """Before: HxWx1 and HxWx2 refused."""
    ink = ink_of(ONE)
    ref = canonical(ink)
    grey = dark_on_white(ink)
    la = np.stack([np.zeros_like(grey), np.round(ink * 255).astype(np.uint8)], -1)
    for picture in (grey[..., None], la, grey[None]):
        assert_same_digit(draw.preprocess(picture), ref, mean_tol=0.01)


@pytest.mark.parametrize("shape", [(0, 0), (1, 1), (7, 200)])
def test_H33_pictures_too_small_to_hold_a_digit(shape):
    """Before: "the image is empty ... draw a digit" for a 0x0 or 1x1 array."""
    with pytest.raises(ImageRefused, match="too small to hold a digit"):
        read_image(np.zeros(shape, np.uint8))


def test_H34_a_1x1_png_upload_is_refused():
    """Before: read as a solid 20x20 block."""
    with pytest.raises(ImageRefused, match="dot.png is 1×1 pixels: too small"):
        read_image(encode(Image.new("L", (1, 1), 0)), name="dot.png")


# ------------------------------------------------------------------ more refusals and sources


def test_standardised_and_other_out_of_range_floats_are_refused_with_a_hint(mnist_seven):
    X = torch.from_numpy(mnist_seven).float() / 255
    with pytest.raises(ImageRefused, match="float pixels from -0.424 to 2.82.*standardised"):
        read_image((X - 0.1307) / 0.3081)
    with pytest.raises(ImageRefused, match="expected 0–1 or 0–255"):
        read_image(X * 10)
    with pytest.raises(ImageRefused, match="integer pixels from -3"):
        read_image(np.full((10, 10), -3, np.int32))


def test_a_float_photo_with_noise_past_either_end_of_0_1_is_read(mnist_seven):
    rng = np.random.default_rng(0)
    scan = np.kron(255 - mnist_seven.astype(np.float64), np.ones((10, 10)))  # dark on white
    photo = 0.75 * scan / 255 + rng.normal(0, 0.01, scan.shape)  # grey paper: a little below 0
    assert photo.min() < -0.02
    reading = read_image(photo)
    assert reading.background == "light" and "float 0–1" in reading.how
    assert_same_digit(draw.center_digit(reading.ink), draw.preprocess(mnist_seven),
                      mean_tol=0.05)


def test_empty_and_faint_pictures_say_which():
    with pytest.raises(EmptyDrawing, match="empty \\(nothing is drawn\\): draw a digit"):
        read_image(np.zeros((280, 280, 4), np.uint8))
    with pytest.raises(EmptyDrawing, match="no ink stands out"):
        read_image(np.full((50, 50), 230, np.uint8))
    faint = np.full((50, 50), 200, np.uint8)
    faint[10:40, 20:25] = 195
    with pytest.raises(EmptyDrawing, match="too faint \\(contrast 0.02"):
        read_image(faint)
    assert issubclass(EmptyDrawing, ImageRefused) and issubclass(ImageRefused, ValueError)


def test_every_source_kind_gives_the_same_ink(tmp_path):
    ink = ink_of(SEVEN, 100)
    grey = dark_on_white(ink)
    data = encode(Image.fromarray(grey))
    (tmp_path / "seven.png").write_bytes(data)
    expected = read_image(grey).ink
    import base64
    sources = [data, bytearray(data), memoryview(data), io.BytesIO(data),
               tmp_path / "seven.png", str(tmp_path / "seven.png"), Image.open(io.BytesIO(data)),
               torch.from_numpy(grey), grey.tolist(),
               "data:image/png;base64," + base64.b64encode(data).decode()]
    for source in sources:
        assert np.array_equal(read_image(source).ink, expected), type(source)
    for bad, words in [(None, "cannot read a NoneType"), (tmp_path, "is not a file"),
                       ("data:image/png;base64,@@", "damaged"),
                       (np.array(["a", "b"]), "expected an array of numbers")]:
        with pytest.raises(ImageRefused, match=words):
            read_image(bad)


def test_a_big_photo_is_decoded_small_and_a_huge_file_refused_unread():
    photo = Image.fromarray(np.kron(dark_on_white(ink_of(ONE, 100)), np.ones((40, 30), np.uint8)))
    assert photo.size == (3000, 4000)
    reading = read_image(encode(photo.convert("RGB"), "JPEG", quality=80), name="big.jpg")
    assert reading.ink.shape[0] <= 1024  # JPEG's reduced decoding, then no more than WORK_SIDE
    reading = read_image(encode(photo), name="big.png")
    assert "shrunk 4× from 3000×4000" in reading.how
    with pytest.raises(ImageRefused, match="more than the 20 MB"):
        read_image(b"\x89PNG" + bytes(images.MAX_BYTES), name="huge.png")


def test_a_long_thin_strip_is_read_as_a_line_not_averaged_away():  # H36
    strip = np.full((10, 5000), 255, np.uint8)
    strip[3:7, 100:4900] = 0  # 4 px of ink across 10 rows: shrinking by 5 would blur it grey
    reading = read_image(encode(Image.fromarray(strip)), name="strip.png")
    assert reading.background == "light" and "shrunk" not in reading.how
    X = draw.center_digit(reading.ink)
    rows, cols = np.flatnonzero((X[0, 0] > 0.5).any(1)), np.flatnonzero((X[0, 0] > 0.5).any(0))
    assert len(rows) == 1 and len(cols) >= 19


def test_fit_board_keeps_the_aspect_and_centres():
    board = images.fit_board(np.ones((100, 50), np.float32), 20)
    assert board.shape == (20, 20) and board[:, 5:15].min() == 1 and board[:, :5].max() == 0


# ------------------------------------------------------------------ properties


def present(ink, polarity, paper, noise, rng):
    """Grey levels 0-255 (float) of `ink` in one polarity on a paper level, with noise."""
    if polarity == "light on dark":
        grey = (255 - paper) + (paper * ink)
    else:
        grey = paper * (1 - ink)
    return grey + rng.uniform(-noise, noise, ink.shape) if noise else grey


EXIF_STORE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_270}  # how a camera stores a picture for each tag


@PROPERTY
@given(shape=st.sampled_from(range(len(SHAPES))), side=st.integers(56, 400),
       polarity=st.sampled_from(["dark on light", "light on dark", "transparent"]),
       paper=st.integers(150, 255), noise=st.sampled_from([0, 1, 3]),
       layout=st.sampled_from(["uint8", "uint16", "float32 0-1", "float64 0-255", "bool",
                               "HW1", "HW3", "HW4", "CHW tensor", "PIL L", "PIL P", "PIL RGB",
                               "PIL I;16", "PNG", "JPEG"]),
       orientation=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_any_layout_gives_the_same_digit(shape, side, polarity, paper, noise, layout,
                                         orientation, seed):
    ink = ink_of(SHAPES[shape], side)
    ref, rng = canonical(ink), np.random.default_rng(seed)
    tol = 0.05
    if polarity == "transparent":
        rgba = np.zeros((side, side, 4), np.uint8)
        rgba[..., 3] = np.round(ink * 255)
        picture = rgba if layout.startswith(("uint8", "HW")) else Image.fromarray(rgba, "RGBA")
        if layout in ("PNG", "JPEG"):  # JPEG has no transparency: a PNG stands in
            picture = encode(picture)
    else:
        grey = np.clip(present(ink, polarity, paper, noise, rng), 0, 255)
        grey8 = np.round(grey).astype(np.uint8)
        if layout == "bool":
            picture, tol = (ink > 0.5) if polarity == "light on dark" else (ink <= 0.5), 0.08
        elif layout == "uint16":
            picture = np.round(grey * 257).astype(np.uint16)
        elif layout == "float32 0-1":
            picture = (grey / 255).astype(np.float32)
        elif layout == "float64 0-255":
            picture = grey
        elif layout == "HW1":
            picture = grey8[..., None]
        elif layout in ("HW3", "HW4"):
            picture = np.dstack([grey8] * 3 + [np.full_like(grey8, 255)] * (layout == "HW4"))
        elif layout == "CHW tensor":
            picture = torch.from_numpy(grey8)[None].repeat(3, 1, 1)
        elif layout == "PIL L":
            picture = Image.fromarray(grey8)
        elif layout == "PIL P":
            picture = Image.fromarray(grey8).convert("P", palette=Image.Palette.ADAPTIVE)
        elif layout == "PIL RGB":
            picture = Image.fromarray(grey8).convert("RGB")
        elif layout == "PIL I;16":
            picture = Image.fromarray(np.round(grey * 257).astype(np.uint16))
        elif layout == "PNG":
            picture = encode(Image.fromarray(grey8))
        elif layout == "JPEG":
            stored = Image.fromarray(grey8)
            exif = Image.Exif()
            exif[0x0112] = orientation
            if orientation in EXIF_STORE:
                stored = stored.transpose(EXIF_STORE[orientation])
            picture, tol = encode(stored, "JPEG", quality=92, exif=exif), 0.12
        else:
            picture = grey8
    assert_same_digit(draw.preprocess(picture), ref, mean_tol=tol)


@PROPERTY
@given(st.one_of(
    hnp.arrays(st.sampled_from([np.uint8, np.uint16, np.int64, np.float32, np.float64, bool]),
               hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=12),
               elements=None),
    st.binary(max_size=200),
    st.builds(png_header, st.integers(1, 20000), st.integers(1, 20000),
              st.sampled_from([0, 2, 4, 6])),
    st.builds(lambda v: np.where(np.eye(12) > 0, v, 0.5), st.floats(allow_nan=True))))
def test_refusals_are_words(source):
    """Whatever it gets, the reader returns an Ink or raises ImageRefused, never anything else."""
    try:
        reading = read_image(source)
    except ImageRefused as refused:
        assert str(refused) and "Traceback" not in str(refused)
        return
    assert reading.ink.dtype == np.float32 and float(reading.ink.max()) == 1.0
    assert float(reading.ink.min()) >= 0 and reading.how

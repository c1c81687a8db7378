"""One image reader for everything a learner draws or uploads (chapter 7's pad, `preprocess`).

`read_image(source)` takes the bytes of an image file (or a `data:` URL of one, a path, a file
object), a PIL image, a NumPy array or a torch tensor, and returns an `Ink`: a float32 array
[H, W] in [0, 1] with the background exactly 0 and the strongest stroke 1, plus the background
it found and one line saying how it read the picture. Anything that cannot be a drawing is
refused with `ImageRefused` (a ValueError) saying in words what was wrong and what to do; a
picture without ink is `EmptyDrawing` (a subclass).

The order of the work is the point: a file is refused by its size and its first bytes, then by
the pixel count its header claims, *before* anything is decoded (a 37 kB PNG can unpack to
169 megapixels); JPEG photos decode at a reduced size; EXIF orientation is applied; each bit
depth is read on its own scale (8-bit ÷ 255, 16-bit ÷ 65535, floats 0–1 or 0–255); NaN and
infinite pixels are refused; then the background is taken from transparency or from the
picture's border, and the ink is whatever stands out from it, dark or light (MNIST itself is
light on dark).
"""

import base64
import binascii
import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 20_000_000  # larger than any phone photo of a digit
MAX_PIXELS = 16_000_000  # decoded pixels (a JPEG counts at its reduced decoding size)
WORK_SIDE = 1024  # bigger pictures are box-averaged to about this² before reading (a digit ends
DECODE_SIDE = 560  # at 20 px); a JPEG decodes at the smallest 1/2^k scale with both sides >= this
MIN_SIDE = 8  # fewer pixels on a side cannot hold a digit
MIN_CONTRAST = 0.1  # the ink must differ from the background by a tenth of the full range
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 grey level of a colour
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
# files people upload that are not pictures, told by their first bytes
OTHERS = ((b"%PDF", "a PDF document"), (b"<svg", "an SVG drawing (vector graphics)"),
          (b"<?xml", "an XML or SVG file"), (b"PK\x03\x04", "a ZIP archive (a .docx, .zip …)"),
          (b"\x93NUMPY", "a NumPy .npy file"), (b"\x89HDF", "an HDF5 file"))
HEIF = (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypavif")
MODES = {"1": "black and white", "L": "grey", "LA": "grey + transparency", "P": "palette",
         "PA": "palette + transparency", "RGB": "colour", "RGBA": "colour + transparency",
         "CMYK": "CMYK colour", "I;16": "16-bit grey", "I": "32-bit integers", "F": "floats"}
WHAT = "the bytes of an image file, a PIL image, a NumPy array or a torch tensor"


class ImageRefused(ValueError):
    """What was given cannot be read as a drawing; the message says why and what to do."""


class EmptyDrawing(ImageRefused):
    """The picture holds no ink: there is nothing to read."""


@dataclass(frozen=True)
class Ink:
    """A picture read as ink: [H, W] float32 in [0, 1], background 0, strongest stroke 1."""

    ink: np.ndarray
    background: str  # "transparent", "light" (dark ink) or "dark" (light ink, as MNIST)
    how: str  # one line: what was read and what was done to it


# ------------------------------------------------------------------ files: refused before decoding


def _from_data_url(text, name):
    """The bytes of a `data:image/...;base64,` URL (what the pad's canvas sends)."""
    head, _, data = text.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        raise ImageRefused(f"{name}: a data URL must look like 'data:image/png;base64,...', got "
                           f"{text[:40]!r}")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ImageRefused(f"{name}: the data URL's base64 text is damaged") from None


def _other_kind(data):
    head = data[:64].lstrip()
    for magic, what in OTHERS:
        if head.startswith(magic):
            return what
    if data[4:12] in HEIF:
        return "a HEIC/AVIF photo (the iPhone's own format)"
    return None


def decode(data, name="the file"):
    """A loaded PIL image of encoded bytes, refused *before decoding* if it cannot be a drawing."""
    if not data:
        raise ImageRefused(f"{name} is empty (0 bytes): pick the file again")
    if len(data) > MAX_BYTES:
        raise ImageRefused(f"{name} is {len(data) / 1e6:.1f} MB, more than the "
                           f"{MAX_BYTES // 10**6} MB any drawing needs: save a smaller copy")
    other = _other_kind(data)
    if other:
        raise ImageRefused(f"{name} is {other}, not a picture: export or screenshot it as a "
                           f"PNG or JPEG of one digit")
    try:
        with warnings.catch_warnings():  # Pillow's own bomb warning: refused below, in words
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))  # reads the header only: format and size
    except Image.DecompressionBombError:
        img = None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused(f"{name} is not an image file (PNG, JPEG, GIF, BMP, WebP or TIFF "
                           f"expected; its first bytes are {data[:8]!r})") from None
    if img is None:
        raise ImageRefused(f"{name} unpacks to more pixels than any picture a drawing needs: "
                           f"refused without decoding it; crop or shrink it")
    if img.format not in FORMATS:
        raise ImageRefused(f"{name} is a {img.format} image: save it as PNG or JPEG")
    w, h = img.size
    if img.format == "JPEG":  # DCT scaling: a 48-megapixel photo decodes at 1/8, never in full
        img.draft(img.mode, (min(w, DECODE_SIDE), min(h, DECODE_SIDE)))
    if img.size[0] * img.size[1] > MAX_PIXELS:
        raise ImageRefused(f"{name} unpacks to {w:,}×{h:,} pixels ({w * h / 1e6:.0f} "
                           f"megapixels): refused without decoding it (a drawing needs at most "
                           f"{MAX_PIXELS // 10**6} megapixels); crop or shrink it")
    if min(w, h) < MIN_SIDE:
        raise ImageRefused(f"{name} is {w}×{h} pixels: too small to hold a digit (at least "
                           f"{MIN_SIDE}×{MIN_SIDE})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning) as e:
        raise ImageRefused(f"{name} could not be decoded ({e}): the file may be cut short or "
                           f"damaged; save it again") from None
    return img


# ------------------------------------------------------------------ pixels: each depth on its scale


def _pil_values(img, notes):
    """(values [H, W, C] float32 in [0, 1], has_alpha) of a PIL image."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        img, top = img.convert("I"), 65535.0
    elif img.mode == "I":  # 32-bit integers: 16-bit PNGs on some Pillows, some TIFFs
        lo, hi = img.getextrema()
        if lo < 0 or hi > 65535:
            raise ImageRefused(f"integer pixels from {lo} to {hi}: expected 0–255 or 0–65535")
        top = 65535.0 if img.format == "PNG" or hi > 255 else 255.0
        notes["depth"] = "16-bit" if top > 255 else "8-bit"
    elif img.mode == "F":
        top = None
    else:
        has_alpha = img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info
        mode = "L" if img.mode in ("1", "L", "LA", "La") else "RGB"
        if has_alpha:  # shrunk premultiplied, so transparent pixels add no colour to the ink
            premultiplied = {"L": "La", "RGB": "RGBa"}[mode]
            img = _shrunk(img.convert(premultiplied), notes).convert(mode + "A")
        else:
            img = _shrunk(img.convert(mode), notes)
        values = np.asarray(img, dtype=np.float32) / 255.0
        return (values[..., None] if values.ndim == 2 else values), has_alpha
    a = np.asarray(_shrunk(img, notes), dtype=np.float32)[..., None]
    return (_float_scale(a, notes) if top is None else a / top), False


def _shrunk(img, notes):
    """Box-average a big picture down to about WORK_SIDE² pixels, its shorter side kept at 64 px
    or more (a long thin strip has few pixels, and averaging across it would erase its ink)."""
    w, h = img.size
    k = min(math.ceil(math.sqrt(w * h) / WORK_SIDE), max(1, min(w, h) // 64))
    if k > 1:
        notes["steps"].append(f"shrunk {k}× from {img.size[0]}×{img.size[1]}")
        img = img.reduce(k)
    return img


def _float_scale(a, notes):
    """Float pixels on 0–1 or 0–255 -> [0, 1]; NaN, infinite and other ranges refused."""
    bad = ~np.isfinite(a)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0][:2])
        kinds = " or ".join(sorted({"NaN" if np.isnan(v) else "infinite" for v in a[bad][:99]}))
        raise ImageRefused(f"{int(bad.sum())} pixel(s) are {kinds}, the first at row {r}, "
                           f"column {c}: every pixel must be a finite number (np.nan_to_num "
                           f"replaces them), or draw again")
    lo, hi = float(a.min()), float(a.max())
    scale = 1.0 if hi <= 1.05 else 255.0  # 5 % slack: a photo's noise around either end
    # a 0-255 picture whose brightest pixel is under 25.5 would be too faint to read anyway:
    # such a range fits neither scale (standardised pixels, logits, a difference of images)
    if lo < -0.05 * scale or hi > 1.05 * scale or 1.05 < hi < 25.5:
        hint = (" (it looks standardised, like (x − 0.1307) / 0.3081: pass the picture from "
                "before the normalisation)" if lo < 0 else "")
        raise ImageRefused(f"float pixels from {lo:.3g} to {hi:.3g}: expected 0–1 or 0–255"
                           + hint)
    notes["depth"] = "float 0–255" if scale > 1 else "float 0–1"
    return np.clip(a / scale, 0.0, 1.0).astype(np.float32)


def _layout(a):
    """An array as [H, W, C] (C 1-4): [H, W], [H, W, C], [C, H, W], [1, C, H, W], [1, 1, H, W]."""
    shape = a.shape
    while a.ndim > 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 4:
        raise ImageRefused(f"a batch of {shape[0]} pictures (shape {list(shape)}): read one "
                           f"picture at a time, e.g. X[0]")
    if a.ndim == 3 and a.shape[0] in (1, 2, 3, 4) and a.shape[-1] not in (1, 2, 3, 4):
        a = np.moveaxis(a, 0, -1)  # channels first (torch's layout) -> channels last
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 2, 3, 4):
        raise ImageRefused(f"expected a picture of shape [H, W], [H, W, C] or [C, H, W] with C "
                           f"from 1 to 4 (grey, grey + alpha, RGB, RGBA), got shape {list(shape)}")
    if min(a.shape[:2]) < MIN_SIDE:
        raise ImageRefused(f"a picture of {a.shape[0]}×{a.shape[1]} pixels is too small to hold a "
                           f"digit (at least {MIN_SIDE}×{MIN_SIDE})")
    return a


def _array_values(a, notes):
    """(values [H, W, C] float32 in [0, 1], has_alpha) of an array."""
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise ImageRefused(f"expected an array of numbers, got dtype {a.dtype}")
    a = _layout(a)
    if a.dtype.kind == "b":
        notes["depth"] = "true/false"
        values = a.astype(np.float32)
    elif a.dtype.kind == "f":
        values = _float_scale(a, notes).astype(np.float32)
    else:
        lo, hi = int(a.min()), int(a.max())
        top = 65535 if a.dtype.itemsize == 2 else 255 if a.dtype.itemsize == 1 or hi <= 255 \
            else 65535
        if lo < 0 or hi > top:
            raise ImageRefused(f"integer pixels from {lo} to {hi} ({a.dtype}): expected 0–255 "
                               f"or, for 16-bit pictures, 0–65535")
        notes["depth"] = "16-bit" if top > 255 else "8-bit"
        values = a.astype(np.float32) / top
    return values, a.shape[-1] in (2, 4)


# ------------------------------------------------------------------ values -> ink


def border(lum):
    """The pixels of a picture's outer frame (4 % of its shorter side, at least 1 px)."""
    k = max(1, round(0.04 * min(lum.shape)))
    return np.concatenate([lum[:k].ravel(), lum[-k:].ravel(), lum[k:-k, :k].ravel(),
                           lum[k:-k, -k:].ravel()])


def _to_ink(values, has_alpha):
    """(ink [H, W] before scaling, background) from values [H, W, C] in [0, 1]."""
    colour, alpha = (values[..., :-1], values[..., -1]) if has_alpha else (values, None)
    lum = colour[..., 0] if colour.shape[-1] == 1 else colour @ LUMA
    if alpha is not None and float(alpha.min()) < 0.5:
        # a known background (the pad's canvas, a transparent PNG): the ink is what is painted,
        # dark or light, with no estimate of a paper level
        opaque = alpha > 0.5
        light = opaque.any() and float(np.median(lum[opaque])) > 0.5
        return alpha * (lum if light else 1.0 - lum), "transparent"
    if alpha is not None:  # opaque at the border: the picture as shown on white
        lum = 1.0 - alpha * (1.0 - lum)
    edge = border(lum)
    level = float(np.median(edge))
    # the ink lies on the side of the border's level where the picture reaches furthest: this
    # reads dark ink on light paper, chalk on a board and MNIST's own white-on-black alike
    light = float(np.percentile(lum, 99.5)) - level > level - float(np.percentile(lum, 0.5))
    ink = lum - level if light else level - lum
    grain = 1.4826 * float(np.median(np.abs(edge - level)))  # the paper's own noise (robust sd)
    return np.clip(ink - 3 * grain, 0.0, None), "dark" if light else "light"


def _source_values(source, name, notes):
    """(values, has_alpha, what) of any accepted source."""
    if isinstance(source, str) and source.startswith("data:"):
        source = _from_data_url(source, name or "the canvas")
    elif isinstance(source, str | Path):
        path = Path(source).expanduser()
        name = name or path.name
        if not path.is_file():
            raise ImageRefused(f"{path} is not a file: give the path of a PNG or JPEG")
        if path.stat().st_size > MAX_BYTES:
            raise ImageRefused(f"{name} is {path.stat().st_size / 1e6:.1f} MB, more than the "
                               f"{MAX_BYTES // 10**6} MB any drawing needs: save a smaller copy")
        source = path.read_bytes()
    elif hasattr(source, "read") and not isinstance(source, Image.Image):
        name = name or Path(str(getattr(source, "name", "the file"))).name
        source = source.read(MAX_BYTES + 1)
    if isinstance(source, bytes | bytearray | memoryview):
        source = decode(bytes(source), name or "the file")
    if isinstance(source, Image.Image):
        what = f"{source.format or 'PIL'} image ({MODES.get(source.mode, source.mode)})"
        orientation = source.getexif().get(0x0112, 1)
        if orientation not in (1, None):  # a phone photo stands the way it was taken
            source = ImageOps.exif_transpose(source)
            notes["steps"].append(f"turned upright (EXIF orientation {orientation})")
        return *_pil_values(source, notes), what
    if hasattr(source, "detach") and hasattr(source, "numpy"):  # a torch tensor
        source, what = source.detach().cpu().numpy(), "tensor"
    elif isinstance(source, np.ndarray | list | tuple):
        what = "array"
    else:
        raise ImageRefused(f"cannot read a {type(source).__name__} as a picture: expected {WHAT}")
    return *_array_values(np.asarray(source), notes), what


def read_image(source, *, name=None):
    """Ink of anything a learner draws or uploads; ImageRefused says what was wrong."""
    notes = {"depth": None, "steps": []}  # for the one line saying how it was read
    values, has_alpha, what = _source_values(source, name, notes)
    ink, background = _to_ink(values, has_alpha)
    top = float(ink.max())
    if top < MIN_CONTRAST:
        flat = ("nothing is drawn" if background == "transparent" else
                "no ink stands out from the background")
        raise EmptyDrawing(f"the picture is empty ({flat}): draw a digit" if top == 0 else
                           f"the ink is too faint (contrast {top:.2f} of the full range, at least "
                           f"{MIN_CONTRAST} needed): use a darker pen or more light"
                           + _depth_hint(what, notes))
    polarity = {"transparent": "ink on a transparent background",
                "light": "dark ink on a light background", "dark": "light ink on a dark "
                "background (as MNIST)"}[background]
    how = ", ".join([what] + [notes["depth"]] * bool(notes["depth"]) + [polarity]
                    + notes["steps"])
    return Ink(np.ascontiguousarray(ink / top, dtype=np.float32), background, how)


def _depth_hint(what, notes):
    if notes["depth"] == "16-bit" and what in ("array", "tensor"):
        return ("; if these are 8-bit levels (0–255) stored as 16-bit integers, convert them "
                "with .astype(np.uint8)")
    return ""


def fit_board(ink, size):
    """Ink resized (box-averaged, aspect kept) to fit and centred on a size x size board."""
    h, w = ink.shape
    k = min(size / h, size / w)
    img = Image.fromarray(np.asarray(ink, dtype=np.float32), "F")
    if k < 1:
        img = img.resize((max(1, round(w * k)), max(1, round(h * k))), Image.BOX)
    small = np.asarray(img, dtype=np.float32)
    board = np.zeros((size, size), np.float32)
    top, left = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    board[top : top + small.shape[0], left : left + small.shape[1]] = small
    return board

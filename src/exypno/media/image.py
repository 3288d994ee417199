"""Image files <-> uint8 arrays (H, W, 3). The only module that opens or writes image files.

Reading is strict: a missing, empty, truncated or non-image file, or one over ``MAX_PIXELS`` (the one
pixel limit, which Pillow's own guard is set to as well), raises ``ExypnoError`` with one line saying which.
Pictures of more than 8 bits (16-bit grey, 32-bit integer, float) are scaled to 8 bits, never clipped; what
reading drops (transparency, the later frames of an animation) or scales is told in a note. Writing is atomic
(a temporary file in the same folder, then a rename), refuses to overwrite without ``force``, and is PNG
only for stego files, because any lossy format would destroy what was hidden. The limits are in docs/limits.md.
"""
from __future__ import annotations

import io
import struct
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ExypnoError, TooLarge
from . import files

MAX_PIXELS = 100_000_000  # 100 megapixels: far above any camera photo, far below what exhausts memory
MIN_COVER_SIDE = 16  # a cover must be at least this many pixels on each side (smaller ones hide nothing)
LOSSLESS_SUFFIXES = (".png",)
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's guard says the same (its error comes only at twice this)


def check_pixels(width: int, height: int, what) -> None:
    """Refuse a size (of an input, or one a user asks for) over the one pixel limit, before anything is allocated."""
    if width < 1 or height < 1:
        raise ExypnoError(f"{what}: {width}x{height} is not a picture size")
    if width * height > MAX_PIXELS:
        raise TooLarge(f"{what}: {width}x{height} is over the limit of {MAX_PIXELS // 1_000_000} megapixels")


def check_side(side: int, what) -> None:
    """Refuse a square side a user asks for (``evaluate --size``) outside ``MIN_COVER_SIDE`` .. the pixel limit."""
    if side < MIN_COVER_SIDE or side * side > MAX_PIXELS:
        raise ExypnoError(f"{what}: {side} is not a side Exypno works at ({MIN_COVER_SIDE} to "
                          f"{int(MAX_PIXELS ** 0.5):,} pixels)")


def check_cover_size(width: int, height: int, what) -> None:
    """Refuse a cover too small to hide anything in (``MIN_COVER_SIDE``)."""
    if min(width, height) < MIN_COVER_SIDE:
        raise ExypnoError(f"{what}: a {width}x{height} cover is too small; covers are at least "
                          f"{MIN_COVER_SIDE}x{MIN_COVER_SIDE} pixels")


def read_image(source, notes: list[str] | None = None) -> np.ndarray:
    """A path, a PIL image, an array or the bytes of an image file -> (H, W, 3) uint8 RGB.

    ``notes``: a list that gets one line for each thing reading did to the picture (a dropped alpha channel or
    later frames, a scaling to 8 bits), for the user."""
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, Image.Image):
        return _to_rgb(source, "the picture", [] if notes is None else notes)
    path = "the picture" if isinstance(source, (bytes, bytearray)) else Path(source)
    with _opened(source) as im:
        im.load()
        if im.format == "PNG":
            _check_png_whole(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else path, path)
        said: list[str] = []
        if getattr(im, "is_animated", False):
            said.append(f"{path}: an animation; only its first frame is used")
        rgb = _to_rgb(im, path, said)
    if notes is not None:
        notes.extend(said)
    return rgb


def image_size(source) -> tuple[int, int]:
    """(width, height) of an image file (a path or its bytes) from its header, without decoding the pixels."""
    with _opened(source) as im:
        return im.size


@contextmanager
def _opened(source):
    """The image file at a path (or in bytes) opened by Pillow, with every way it can fail as one ExypnoError."""
    if isinstance(source, (bytes, bytearray)):
        path, opened = "the picture", io.BytesIO(source)
    else:
        path = opened = files.check_input(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # check_pixels says it in our words
            with Image.open(opened) as im:
                check_pixels(*im.size, path)
                yield im
    except ExypnoError:
        raise
    except Image.DecompressionBombError:
        raise TooLarge(f"{path}: image too large: over the limit of {MAX_PIXELS // 1_000_000} megapixels") from None
    except UnidentifiedImageError:
        raise ExypnoError(f"{path}: not an image file Exypno can read") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error) as e:
        # what Pillow's parsers raise on a malformed file (struct.error: a GIF cut inside a block, found by fuzzing)
        raise ExypnoError(f"{path}: damaged or truncated image ({str(e).splitlines()[0][:60]})") from None


def _to_rgb(im: Image.Image, path, notes: list[str]) -> np.ndarray:
    """8-bit RGB, saying in ``notes`` what is lost: values over 8 bits are scaled (never clipped), a
    transparency that is used is dropped."""
    if im.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        return np.repeat(_grey_to_8bit(im, path, notes)[:, :, None], 3, axis=2)
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if "A" in im.getbands() or im.mode in ("RGBa", "La"):
        alpha = im.getchannel("A") if "A" in im.getbands() else im.getchannel("a")
        if alpha.getextrema()[0] < 255:
            notes.append(f"{path}: its transparency (alpha channel) is dropped; hidden pixels keep their colour")
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def _grey_to_8bit(im: Image.Image, path, notes: list[str]) -> np.ndarray:
    """A 16-bit, 32-bit integer or float grey picture -> uint8, by its full range (0-65535, or 0-1 / 0-255 for
    floats); one outside those ranges is refused rather than clipped."""
    a = np.asarray(im)
    if im.mode == "F":
        if not np.isfinite(a).all() or a.min() < 0 or a.max() > 255:
            raise ExypnoError(f"{path}: float pixels outside 0-1 and 0-255; save it as an 8- or 16-bit picture")
        top = 1.0 if a.max() <= 1.0 else 255.0
        notes.append(f"{path}: float pixels (0-{top:g}) scaled to 8 bits")
        return np.round(a.astype(np.float64) * (255.0 / top)).astype(np.uint8)
    if a.min() < 0 or a.max() > 65535:
        raise ExypnoError(f"{path}: 32-bit pixels outside 0-65535; save it as an 8- or 16-bit picture")
    notes.append(f"{path}: 16-bit pixels scaled to 8 bits")
    return ((a.astype(np.int64) + 128) // 257).astype(np.uint8)


_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # samples per pixel by colour type


def _check_png_whole(opened, path) -> None:
    """Refuse a PNG whose image data ends before its last row. Pillow fills the missing rows with black when
    the compressed stream is closed early, so a 342-byte file may pass for a 9000x9000 picture. The data is
    inflated again in pieces, counting bytes, and stops as soon as every row is there."""
    f = open(opened, "rb") if isinstance(opened, Path) else opened
    try:
        f.seek(8)
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", f.read(25)[8:21])
        bits = depth * _PNG_SAMPLES.get(colour, 4)
        passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
        need = 0
        for x0, y0, dx, dy in passes:
            cols, rows = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
            if cols and rows:
                need += rows * (1 + (cols * bits + 7) // 8)
        f.seek(8)
        inflate, got = zlib.decompressobj(), 0
        while got < need:
            head = f.read(8)
            if len(head) < 8:
                break
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IEND":
                break
            if kind != b"IDAT":
                f.seek(length + 4, 1)
                continue
            left = length
            while left and got < need:
                piece = f.read(min(left, 1 << 20))
                if not piece:
                    break
                left -= len(piece)
                while piece and got < need:
                    got += len(inflate.decompress(piece, 1 << 22))
                    piece = inflate.unconsumed_tail
            f.seek(left + 4, 1)
    except (struct.error, zlib.error, OSError):
        got, need = 0, 1
    finally:
        if f is not opened:
            f.close()
    if got < need:
        raise ExypnoError(f"{path}: damaged or truncated image (its data ends before its last row)")


def _from_array(a: np.ndarray) -> np.ndarray:
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ExypnoError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4), not {a.shape}")
    a = a[:, :, :3]
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if np.issubdtype(a.dtype, np.floating):
        return np.round(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8)
    raise ExypnoError(f"an image array must be uint8 (0-255) or float (0-1), not {a.dtype}")


def check_output(path: Path, force: bool, lossless: bool = True) -> Path:
    """Refuse, before any work is done, an output we would not write."""
    path = Path(path)
    if lossless and path.suffix.lower() not in LOSSLESS_SUFFIXES:
        raise ExypnoError(
            f"{path}: stego and revealed images are written as PNG only (a lossy format such as "
            f"{path.suffix or 'that'} would destroy the hidden secret); use a .png name"
        )
    return files.check_output(path, force)


def write_png(path: Path, image: np.ndarray, force: bool = False) -> Path:
    """Write an (H, W, 3) uint8 array as an 8-bit PNG, atomically."""
    path = check_output(path, force)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "RGB").save(buf, format="PNG")
    return files.write_bytes(path, buf.getvalue(), force)


def resave(image: np.ndarray, fmt: str, quality: int, subsampling: int | None = None) -> np.ndarray:
    """An 8-bit RGB image saved by Pillow as ``fmt`` ("JPEG", "WEBP") at ``quality`` and read back, as a photo
    site or a chat app would. JPEG chroma: Pillow's default 4:2:0, or ``subsampling`` (0 is 4:4:4)."""
    buf = io.BytesIO()
    extra = {} if subsampling is None else {"subsampling": subsampling}
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format=fmt, quality=int(quality), **extra)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS))


def square(image: np.ndarray, size: int) -> np.ndarray:
    """Scale the short side to ``size`` and take the centre square: how test photos are made 256x256."""
    h, w = image.shape[:2]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    image = resize(image, nh, nw)
    y, x = (nh - size) // 2, (nw - size) // 2
    return image[y : y + size, x : x + size]

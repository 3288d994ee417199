"""Image files <-> uint8 arrays (H, W, 3). The only module that opens or writes image files.

Reading is strict: a missing, empty, truncated or non-image file, or one so large it looks like a
decompression bomb, raises ``ExypnoError`` with one line saying which. Writing is atomic (a temporary
file in the same folder, then a rename), refuses to overwrite without ``force``, and is PNG only for
stego files, because any lossy format would destroy what was hidden.
"""
from __future__ import annotations

import io
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ExypnoError, TooLarge
from . import files

MAX_PIXELS = 100_000_000  # 100 megapixels: far above any camera photo, far below what exhausts memory
LOSSLESS_SUFFIXES = (".png",)


def read_image(source) -> np.ndarray:
    """A path, a PIL image, an array or the bytes of an image file -> (H, W, 3) uint8 RGB."""
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, Image.Image):
        return np.asarray(source.convert("RGB"), dtype=np.uint8).copy()
    with _opened(source) as im:
        im.load()
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


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
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(opened) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise TooLarge(f"{path}: {w}x{h} is over {MAX_PIXELS // 1_000_000} megapixels")
                yield im
    except ExypnoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(f"{path}: image too large (decompression bomb?)") from None
    except UnidentifiedImageError:
        raise ExypnoError(f"{path}: not an image file Exypno can read") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ExypnoError(f"{path}: damaged or truncated image ({str(e).splitlines()[0][:60]})") from None


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

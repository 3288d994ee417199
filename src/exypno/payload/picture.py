"""A picture re-encoded to fit a sealed carrier: AVIF at the highest quality that fits the bytes there are.

Why this exists: the seal's learned bit carrier (payload/carrier.py) plus its LDPC and Reed-Solomon codes
carries about 1 net bit per pixel, exactly, at a cover PSNR near 40 dB. A modern codec keeps a photo at
about 33 dB in 1 bit per pixel, which is more than the end-to-end image model or k-bit LSB get at that
cover quality (README, "Image quality"). So ``exypno seal --fit`` hides a photo as an AVIF file that is
as good as the cover's room allows, and the receiver gets exactly that file back.

Pillow encodes and decodes AVIF itself (libavif inside its wheels, Pillow 11.2 and later).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..evaluate.metrics import psnr_8bit
from ..media.image import read_image, resize
from .container import PayloadError

SPEED = 6  # libavif's effort: 6 is within 2% of the size of 4 at a quarter of the time (512x512 photos)
MIN_QUALITY = 20  # below this AVIF smears a photo into blocks: a smaller picture at a higher quality looks better
SHRINK = 0.8  # each step down in size keeps this fraction of the width and the height
MIN_SIDE = 16


@dataclass(frozen=True)
class Fitted:
    data: bytes  # the AVIF file
    quality: int
    size: tuple[int, int]  # (width, height) of the picture in the file
    original: tuple[int, int]  # (width, height) of the picture given
    psnr: float  # of the decoded AVIF against the picture given, at the size in the file

    def describe(self) -> str:
        scaled = "" if self.size == self.original else f", scaled from {self.original[0]}x{self.original[1]}"
        return (f"{self.size[0]}x{self.size[1]}{scaled}; AVIF quality {self.quality}, {len(self.data):,} bytes, "
                f"{self.psnr:.2f} dB PSNR")


def encode(image: np.ndarray, quality: int) -> bytes:
    from PIL import features

    if not features.check("avif"):
        raise PayloadError("this Pillow cannot write AVIF: pip install 'pillow>=11.3'")
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="AVIF", quality=quality, speed=SPEED)
    return buf.getvalue()


def _best_quality(image: np.ndarray, budget: int) -> tuple[int, bytes] | None:
    """The highest quality (0-100) whose file has at most ``budget`` bytes, by bisection (size rises with
    quality), or None when even ``MIN_QUALITY`` is too large."""
    low = encode(image, MIN_QUALITY)
    if len(low) > budget:
        return None
    best, lo, hi = (MIN_QUALITY, low), MIN_QUALITY + 1, 100
    while lo <= hi:
        q = (lo + hi) // 2
        data = encode(image, q)
        if len(data) <= budget:
            best, lo = (q, data), q + 1
        else:
            hi = q - 1
    return best


def fit(picture, budget: int) -> Fitted:
    """``picture`` (path, PIL image or array) as an AVIF file of at most ``budget`` bytes, as good as it can be:
    the highest quality that fits at full size, or, when not even ``MIN_QUALITY`` fits, at a smaller size."""
    image = read_image(picture)
    h, w = image.shape[:2]
    scale = 1.0
    while True:
        sw, sh = round(w * scale), round(h * scale)
        if min(sw, sh) < MIN_SIDE:
            raise PayloadError(f"the picture does not fit in {budget:,} bytes, even at {MIN_SIDE} pixels a side")
        small = image if scale == 1.0 else resize(image, sh, sw)
        found = _best_quality(small, budget)
        if found is not None:
            quality, data = found
            return Fitted(data, quality, (sw, sh), (w, h), float(psnr_8bit(small, read_image(data))))
        scale *= SHRINK


def is_picture(data: bytes) -> bool:
    """Can Pillow read ``data`` as an image? (Only the header is parsed.)"""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size[0] > 0 and im.size[1] > 0
    except Exception:  # Pillow raises many types on foreign bytes; any of them means "not a picture"
        return False

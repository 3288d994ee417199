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

from ..media.image import read_image, resize
from ..media.metrics import psnr_8bit
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


def encode(image: np.ndarray, quality: int, speed: int = SPEED, subsampling: str = "4:2:0") -> bytes:
    from PIL import features

    if not features.check("avif"):
        raise PayloadError("this Pillow cannot write AVIF: pip install 'pillow>=11.3'")
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="AVIF", quality=quality, speed=speed, subsampling=subsampling)
    return buf.getvalue()


def _best_quality(image: np.ndarray, budget: int, subsampling: str = "4:2:0",
                  size_of=len) -> tuple[int, bytes] | None:
    """The highest quality (0-100) whose file has at most ``budget`` bytes (as ``size_of`` counts them), by
    bisection (size rises with quality), or None when even ``MIN_QUALITY`` is too large."""
    low = encode(image, MIN_QUALITY, subsampling=subsampling)
    if size_of(low) > budget:
        return None
    best, lo, hi = (MIN_QUALITY, low), MIN_QUALITY + 1, 100
    while lo <= hi:
        q = (lo + hi) // 2
        data = encode(image, q, subsampling=subsampling)
        if size_of(data) <= budget:
            best, lo = (q, data), q + 1
        else:
            hi = q - 1
    return best


def _polished(image: np.ndarray, budget: int, found: tuple[int, bytes], speed: int, subsampling: str,
              size_of=len, reach: int = 3) -> tuple[int, bytes]:
    """``found`` (quality, file) at ``SPEED``, bettered at a slower ``speed``, whose files are better for the
    same bytes: the highest quality that fits. Bisection over the ``reach`` qualities above, then ``found``'s own (a slow encode costs seconds)."""
    best = None
    lo, hi = found[0], min(100, found[0] + reach)
    while lo <= hi:
        q = (lo + hi) // 2
        data = encode(image, q, speed, subsampling)
        if size_of(data) <= budget:
            best, lo = (q, data), q + 1
        else:
            hi = q - 1
    return best or found


def fit(picture, budget: int, subsampling: str = "4:2:0", polish_speed: int | None = None,
        size_of=len) -> Fitted:
    """``picture`` (path, PIL image or array) as an AVIF file of at most ``budget`` bytes, as good as it can be:
    the highest quality that fits at full size, or, when not even ``MIN_QUALITY`` fits, at a smaller size.
    ``polish_speed``: encode the result again at that (slower) speed, a quality or more higher. ``size_of``:
    how the bytes are counted (``len``; ``lambda f: len(pack(f))`` for a packed file)."""
    image = read_image(picture)
    h, w = image.shape[:2]
    scale = 1.0
    while True:
        sw, sh = round(w * scale), round(h * scale)
        if min(sw, sh) < MIN_SIDE:
            raise PayloadError(f"the picture does not fit in {budget:,} bytes, even at {MIN_SIDE} pixels a side")
        small = image if scale == 1.0 else resize(image, sh, sw)
        found = _best_quality(small, budget, subsampling, size_of)
        if found is not None:
            if polish_speed is not None:
                found = _polished(small, budget, found, polish_speed, subsampling, size_of)
            quality, data = found
            return Fitted(data, quality, (sw, sh), (w, h), float(psnr_8bit(small, read_image(data))))
        scale *= SHRINK


# The boxes before the coded picture of an AVIF file as Pillow (libavif) writes it: 275 bytes, nearly the same
# in every file. ``pack`` compresses a file with them as zstd's dictionary, so that a small file (the robust
# model's base layer is about 1.4 KB at 256x256) spends tens of bytes on them, not 275 (tests/test_picture.py). A constant, not made at run
# time: sender and receiver must hold the same dictionary, whatever their libavif.
AVIF_HEADER = bytes.fromhex(
    "00000020667479706176696600000000617669666d6966316d6961664d413141000000eb6d65746100000000000000216864"
    "6c72000000000000000070696374000000000000000000000000000000000e7069746d0000000000010000001e696c6f6300"
    "0000004400000100010000000100000113000000210000002869696e660000000000010000001a696e666502000000000100"
    "0061763031436f6c6f72000000006a697072700000004b6970636f0000001469737065000000000000004000000040000000"
    "107069786900000000030808080000000c617631438120000000000013636f6c726e636c780001000d000680000000176970"
    "6d61000000000000000100010401028304000000296d646174")


def _dictionary():
    import zstandard

    return zstandard.ZstdCompressionDict(AVIF_HEADER, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def pack(avif: bytes) -> bytes:
    """An AVIF file compressed against ``AVIF_HEADER`` (exact: ``unpack`` gives it back bit for bit)."""
    import zstandard

    return zstandard.ZstdCompressor(level=19, dict_data=_dictionary(), write_content_size=True,
                                    write_checksum=False, write_dict_id=False).compress(avif)


def unpack(packed: bytes) -> bytes:
    import zstandard

    try:
        return zstandard.ZstdDecompressor(dict_data=_dictionary()).decompress(packed, max_output_size=1 << 28)
    except zstandard.ZstdError as e:
        raise PayloadError(f"not a packed AVIF file ({e})") from None


def is_picture(data: bytes) -> bool:
    """Can Pillow read ``data`` as an image? (Only the header is parsed.)"""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size[0] > 0 and im.size[1] > 0
    except Exception:  # Pillow raises many types on foreign bytes; any of them means "not a picture"
        return False

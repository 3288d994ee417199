"""k-bit LSB hiding of an image in an image: the baseline every neural model must beat.

The top k bits of each secret value replace the low k bits of the cover value. Revealing shifts them
back up and adds half a step (the middle of the interval the secret value was in), which is the
least-squares reconstruction: at k=3 it gives ~28.8 dB instead of ~23 dB for plain zero-fill.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ExypnoError
from ..media.image import check_output, read_image, resize, write_png


def check_bits(k: int) -> None:
    if not 1 <= k <= 7:
        raise ExypnoError(f"LSB bits must be 1..7, not {k}")


def lsb_hide(cover: np.ndarray, secret: np.ndarray, k: int) -> np.ndarray:
    check_bits(k)
    if cover.shape != secret.shape:
        raise ExypnoError(f"cover {cover.shape} and secret {secret.shape} differ in shape")
    low = (1 << k) - 1
    return ((cover & ~np.uint8(low)) | (secret >> (8 - k))).astype(np.uint8)


def lsb_reveal(stego: np.ndarray, k: int) -> np.ndarray:
    check_bits(k)
    low = (1 << k) - 1
    return (((stego & low).astype(np.uint16) << (8 - k)) + (1 << (7 - k))).astype(np.uint8)


def lsb_embed_bits(cover: np.ndarray, rate: float, rng: np.random.Generator, matching: bool = False,
                   order: str = "random") -> np.ndarray:
    """Embed random message bits in a fraction ``rate`` of the cover's 8-bit values (detector calibration).

    - replacement (``matching=False``): the LSB is set to the message bit;
    - matching (``matching=True``): when the LSB differs, the value moves by +1 or -1 at random (never out of
      0..255), which leaves the pairs-of-values structure that replacement detectors rely on;
    - ``order``: "random" spreads the used values over the image; "sequential" uses the first ones in scan
      order, as simple tools do.
    """
    if not 0.0 <= rate <= 1.0:
        raise ExypnoError(f"embedding rate must be in [0, 1], not {rate}")
    flat = cover.reshape(-1).astype(np.int16)
    count = int(round(rate * flat.size))
    if order == "sequential":
        where = np.arange(count)
    elif order == "random":
        where = rng.choice(flat.size, size=count, replace=False)
    else:
        raise ExypnoError(f"order must be 'random' or 'sequential', not {order!r}")
    bits = rng.integers(0, 2, size=count, dtype=np.int16)
    values = flat[where]
    if matching:
        differs = (values & 1) != bits
        step = np.where(rng.random(count) < 0.5, -1, 1).astype(np.int16)
        step = np.where(values == 0, 1, np.where(values == 255, -1, step))
        values = np.where(differs, values + step, values)
    else:
        values = (values & ~1) | bits
    flat[where] = values
    return flat.reshape(cover.shape).astype(np.uint8)


@dataclass
class LSB:
    """k-bit LSB as a hider with the interface of every hider (``inference``): ``hide`` and ``reveal`` take
    paths, PIL images or arrays, return uint8 (H, W, 3), and write a PNG if asked."""

    bits: int = 3
    notes: list[str] = field(default_factory=list)  # what was done to the input (resizing), for the CLI

    def hide(self, cover, secret, output=None, force: bool = False) -> np.ndarray:
        if output is not None:
            check_output(output, force)
        self.notes = []
        cover_img, secret_img = read_image(cover), read_image(secret)
        if secret_img.shape != cover_img.shape:
            self.notes.append(f"secret resized to the cover's {cover_img.shape[1]}x{cover_img.shape[0]}")
            secret_img = resize(secret_img, *cover_img.shape[:2])
        stego = lsb_hide(cover_img, secret_img, self.bits)
        if output is not None:
            write_png(output, stego, force)
        return stego

    def reveal(self, stego, output=None, force: bool = False, align: bool = True) -> np.ndarray:
        if output is not None:
            check_output(output, force)
        revealed = lsb_reveal(read_image(stego), self.bits)
        if output is not None:
            write_png(output, revealed, force)
        return revealed

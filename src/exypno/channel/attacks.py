"""Distortions of a stego *file*, as the world applies them, for ``exypno evaluate --attack``.

Each attack maps an 8-bit stego image to what a receiver gets, and says which region of the original it
still shows (crops), so that the revealed secret is compared with the matching region of the secret.

    jpeg:Q       re-save as JPEG at quality Q (Pillow, 4:2:0 as most software does)
    webp:Q       re-save as lossy WebP at quality Q
    gaussian:S   add Gaussian noise of std S in 8-bit levels, round and clip
    crop:F       keep a F x F fraction of the image (each side times F) at a random offset
    resize:F     scale by F (bicubic) and back to the original size

``DEFAULT_ATTACKS`` is what ``--attack default`` runs: JPEG and WebP re-saves, noise, crops and a resize.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import ExypnoError
from ..media.image import resave
from .spec import parse_spec

DEFAULT_ATTACKS = ("none,jpeg:95,jpeg:90,jpeg:75,jpeg:50,webp:90,gaussian:1,gaussian:2,gaussian:4,"
                   "crop:0.75,crop:0.5,resize:0.75")


@dataclass(frozen=True)
class Attack:
    kind: str
    value: float

    @property
    def name(self) -> str:
        return self.kind if self.kind == "none" else f"{self.kind}:{self.value:g}"

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """(attacked image, (top, left, height, width) of the original it shows)."""
        h, w = image.shape[:2]
        full = (0, 0, h, w)
        if self.kind == "none":
            return image, full
        if self.kind in ("jpeg", "webp"):
            return resave(image, self.kind.upper(), int(self.value)), full
        if self.kind == "gaussian":
            noisy = image.astype(np.float64) + rng.normal(0.0, self.value, image.shape)
            return np.clip(np.round(noisy), 0, 255).astype(np.uint8), full
        if self.kind == "crop":
            ch, cw = max(1, round(h * self.value)), max(1, round(w * self.value))
            top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            return image[top : top + ch, left : left + cw].copy(), (top, left, ch, cw)
        if self.kind == "resize":
            small = Image.fromarray(image).resize((max(1, round(w * self.value)), max(1, round(h * self.value))),
                                                  Image.Resampling.BICUBIC)
            return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC)), full
        raise AssertionError(self.kind)


LIMITS = {"jpeg": (1, 100), "webp": (1, 100), "gaussian": (0, 255), "crop": (0.01, 1), "resize": (0.01, 4)}


def parse_attacks(spec: str) -> list[Attack]:
    """'jpeg:90,crop:0.5' -> attacks; 'default' is ``DEFAULT_ATTACKS``. A bad item is a one-line error."""
    return [Attack(kind, value) for kind, value in parse_list(spec, DEFAULT_ATTACKS, LIMITS)]


def parse_list(spec: str, default: str, limits: dict[str, tuple[float, float]], on: str = "") -> list[tuple[str, float]]:
    """'kind:value,...' -> (kind, value) pairs in the channel grammar (``spec.py``), each kind known to
    ``limits`` and its value within them; 'default' is ``default``; 'none' takes no value. ``on`` names what is
    attacked, for the errors."""
    items = parse_spec(default if spec.strip() == "default" else spec, limits, "attack", bare=("none",), on=on)
    if not items:
        raise ExypnoError("no attacks given")
    return [(kind, value) for kind, value, _ in items]

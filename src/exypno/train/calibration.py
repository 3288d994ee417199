"""Photos to calibrate int8 quantisation on (``exypno export --quantize int8``): training photos only, so that
the held-out figures stay held out."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ExypnoError
from ..media.image import read_image, square
from .data import split_photos

CALIBRATION_PAIRS = 8  # (cover, secret) pairs; 16 and 32 calibrated no better (a wider range per tensor, by MinMax)
# No synthetic fallback: int8 calibrated on smooth_photo-like images (tests/conftest.py) revealed the held-out
# secret 3.0 dB worse than calibrated on training photos (benchmarks/deploy.py's photos, 512x512).
CALIBRATION_SIDE = 256


def calibration_photos(folder: Path, multiple: int, pairs: int = CALIBRATION_PAIRS, seed: int = 0
                       ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(cover, secret) pairs of training photos (the validation split left out), centre squares of
    ``CALIBRATION_SIDE`` pixels, drawn with ``seed``."""
    if not Path(folder).is_dir():
        raise ExypnoError(f"{folder}: no calibration photos: int8 needs training photos (run scripts/install-media, "
                          "or give --calibrate DIR)")
    train, _ = split_photos(Path(folder), 0.08)
    if len(train) < 2 * pairs:
        raise ExypnoError(f"{folder}: {len(train)} training photos; int8 calibration needs {2 * pairs}")
    pick = np.random.default_rng(seed).choice(len(train), 2 * pairs, replace=False)
    side = CALIBRATION_SIDE // multiple * multiple
    photos = [square(read_image(train[i]), side) for i in pick]
    return list(zip(photos[:pairs], photos[pairs:]))

"""Photos from another source than the training packages, for validation that does not flatter.

The seven colour photographs shipped inside the scikit-image and scikit-learn wheels. None of them is in
endless-sky-data, gcompris-qt-data or opencv-doc, and training never reads them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..media.image import square, write_png


def heldout_photos(size: int | None = 256) -> dict[str, np.ndarray]:
    from skimage import data

    photos = {
        "astronaut": data.astronaut(),
        "chelsea": data.chelsea(),
        "coffee": data.coffee(),
        "rocket": data.rocket(),
        "motorcycle": data.stereo_motorcycle()[0],
    }
    try:
        from sklearn.datasets import load_sample_images

        china, flower = load_sample_images().images
        photos.update(china=china, flower=flower)
    except ImportError:  # scikit-learn is a test/benchmark dependency only
        pass
    return {k: square(v, size) if size else v for k, v in photos.items()}


def write_heldout(folder: Path, size: int | None = 256) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_png(folder / f"{k}.png", v, force=True) for k, v in heldout_photos(size).items()]

"""Photos from another source than the training packages, for validation that does not flatter.

- The seven colour photographs shipped inside the scikit-image and scikit-learn wheels (always there).
- The KDE Plasma wallpapers of Debian's ``plasma-workspace-wallpapers`` (``scripts/install-heldout``):
  30 pictures, photographs and renders, one per wallpaper at its largest size, for benchmarks that need
  more than seven covers at 512x512.

None of them is in endless-sky-data, gcompris-qt-data or opencv-doc, and training never reads them.
"""
from __future__ import annotations

import re
import shutil
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


def heldout_pairs(folder: Path, size: int | None = 256, count: int = 14) -> list[tuple[Path, Path]]:
    """(cover, secret) files of the seven held-out photos: photo i hides photo i + 1, then i + 2 (the pairs of
    benchmarks/attacks.py and jpeg_sweep.py)."""
    photos = write_heldout(folder, size)
    n = len(photos)
    return [(photos[i], photos[(i + k) % n]) for k in (1, 2) for i in range(n)][:count]


PLASMA = Path("/usr/share/wallpapers")


def collect_wallpapers(dest: Path, source: Path = PLASMA) -> list[Path]:
    """Copy the largest picture of every Plasma wallpaper to ``dest/NAME.EXT``."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for folder in sorted(p for p in source.iterdir() if (p / "contents" / "images").is_dir()):
        sizes = []
        for f in (folder / "contents" / "images").iterdir():
            m = re.fullmatch(r"(\d+)x(\d+)\.(jpg|jpeg|png)", f.name, re.IGNORECASE)
            if m:
                sizes.append((int(m[1]) * int(m[2]), f))
        if sizes:
            best = max(sizes)[1]
            out.append(Path(shutil.copyfile(best, dest / f"{folder.name}{best.suffix.lower()}")))
    return out


def wallpaper_covers(folder: Path, size: int = 512) -> dict[str, np.ndarray]:
    """Every picture in ``folder`` scaled and centre-cropped to ``size`` x ``size``."""
    from ..media.image import read_image

    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return {p.stem: square(read_image(p), size) for p in files}


if __name__ == "__main__":
    import sys

    dest = Path(sys.argv[1] if len(sys.argv) > 1 else "data/heldout")
    found = collect_wallpapers(dest)
    if not found:
        sys.exit("no wallpapers found: run scripts/install-heldout (it installs plasma-workspace-wallpapers)")
    print(f"{len(found)} held-out pictures -> {dest}")

"""The grid search of ``reveal`` (api.Stego.alignment): wrong shifts on uncropped stegos, right ones on crops.

    bash scripts/install-heldout && .venv/bin/python benchmarks/alignment.py

- Uncropped: each of the KDE wallpapers (data/heldout, 512x512) hides the next, then a black and a grey
  picture (a flat secret, such as a video's black frame, reveals with almost no contrast, so that wrong
  shifts stand out against it); the search must keep no shift.
- Crops: 42 crops of 128x128 at random offsets from 256x256 stegos of the 7 scikit-image/scikit-learn photos;
  the search must find each crop's offset modulo the grid.
"""
import sys
from pathlib import Path

import numpy as np

import exypno
from exypno.evaluate.heldout import heldout_photos, wallpaper_covers
from exypno.evaluate.metrics import psnr_8bit
from exypno.media.image import square

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    m = exypno.load("default")
    wp = list(wallpaper_covers(ROOT / "data" / "heldout", 512).items()) if (ROOT / "data" / "heldout").is_dir() else []
    wrong = 0
    for i, ((name, c), (_, s)) in enumerate(zip(wp, wp[1:] + wp[:1])):
        st = m.hide(c, s)
        if m.alignment(st) != (0, 0):
            wrong += 1
            print(f"{name}: shift {m.alignment(st)}, secret {psnr_8bit(s, m.reveal(st)):.2f} dB "
                  f"(no search {psnr_8bit(s, m.reveal(st, align=False)):.2f})")
    print(f"uncropped wallpaper stegos given a shift: {wrong} of {len(wp)}")
    flat = 0
    for name, c in wp:
        for level in (0, 128):
            st = m.hide(c, np.full_like(c, level))
            if m.alignment(st) != (0, 0):
                flat += 1
                print(f"{name} hiding flat {level}: shift {m.alignment(st)}")
    print(f"uncropped wallpaper stegos of a flat secret (black, grey) given a shift: {flat} of {2 * len(wp)}")
    photos = [square(v, 256) for v in heldout_photos(256).values()]
    rng = np.random.default_rng(0)
    right = n = 0
    for i in range(7):
        for j in (1, 2):
            st = m.hide(photos[i], photos[(i + j) % 7])
            for _ in range(3):
                t, l = int(rng.integers(0, 129)), int(rng.integers(0, 129))
                right += m.alignment(st[t : t + 128, l : l + 128]) == (t % 4, l % 4)
                n += 1
    print(f"128x128 crops of 256x256 stegos with the right shift found: {right} of {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

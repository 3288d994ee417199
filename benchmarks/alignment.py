"""The grid search of ``reveal`` (api.Stego.alignment): wrong shifts on uncropped stegos, right ones on crops.

    bash scripts/install-heldout && .venv/bin/python benchmarks/alignment.py [--model default]

- Uncropped: each of the KDE wallpapers (data/heldout, 512x512) hides the next, then a black and a grey
  picture (a flat secret, such as a video's black frame, reveals with almost no contrast, so that wrong
  shifts stand out against it); the search must keep no shift.
- Crops: 42 crops of 128x128 at random offsets from 256x256 stegos of the 7 scikit-image/scikit-learn photos;
  the search must find each crop's offset modulo the grid.

Then the margins that ALIGN_GAIN sits between, on the centre patch: for uncropped stegos whose most
contrasted reveal is a wrong shift, that shift's contrast over the runner-up's; for crops at a nonzero
offset, the right shift's over the runner-up's (and whether it had the most contrast at all).
"""
import argparse
import sys
from pathlib import Path

import numpy as np

import exypno
from exypno.api import ALIGN_GAIN, ALIGN_PATCH
from exypno.evaluate.heldout import heldout_photos, wallpaper_covers
from exypno.evaluate.metrics import psnr_8bit
from exypno.media.image import square

ROOT = Path(__file__).resolve().parents[1]


def centre_margin(m, stego: np.ndarray) -> tuple[tuple[int, int], float, float]:
    """(the most contrasted shift on the centre patch, its contrast over the runner-up's, over no shift's)."""
    h, w = stego.shape[:2]
    ph, pw = min(h, ALIGN_PATCH), min(w, ALIGN_PATCH)
    y, x = m.patch_spots(h, w)[0]
    c = m._contrasts(stego[y : y + ph, x : x + pw])
    best = max(c, key=c.get)
    return best, c[best] / max(v for k, v in c.items() if k != best), c[best] / c[0, 0]


def span(values: list[float]) -> str:
    return f"{min(values):.2f}x to {max(values):.2f}x" if values else "none"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    args = ap.parse_args()
    m = exypno.load(args.model)
    wp = list(wallpaper_covers(ROOT / "data" / "heldout", 512).items()) if (ROOT / "data" / "heldout").is_dir() else []
    wrong, flat, uncropped_margins, flat_over_none = 0, 0, [], []
    for i, ((name, c), (_, s)) in enumerate(zip(wp, wp[1:] + wp[:1])):
        st = m.hide(c, s)
        best, margin, _ = centre_margin(m, st)
        if best != (0, 0):
            uncropped_margins.append(margin)
        if m.alignment(st) != (0, 0):
            wrong += 1
            print(f"{name}: shift {m.alignment(st)}, secret {psnr_8bit(s, m.reveal(st)):.2f} dB "
                  f"(no search {psnr_8bit(s, m.reveal(st, align=False)):.2f})")
    print(f"uncropped wallpaper stegos given a shift: {wrong} of {len(wp)}")
    for name, c in wp:
        for level in (0, 128):
            st = m.hide(c, np.full_like(c, level))
            best, margin, over_none = centre_margin(m, st)
            if best != (0, 0):
                uncropped_margins.append(margin)
                flat_over_none.append(over_none)
            if m.alignment(st) != (0, 0):
                flat += 1
                print(f"{name} hiding flat {level}: shift {m.alignment(st)}")
    print(f"uncropped wallpaper stegos of a flat secret (black, grey) given a shift: {flat} of {2 * len(wp)}")
    photos = [square(v, 256) for v in heldout_photos(256).values()]
    rng = np.random.default_rng(0)
    right = n = 0
    crop_margins, missed_max = [], 0
    for i in range(7):
        for j in (1, 2):
            st = m.hide(photos[i], photos[(i + j) % 7])
            for _ in range(3):
                t, l = int(rng.integers(0, 129)), int(rng.integers(0, 129))
                crop = st[t : t + 128, l : l + 128]
                truth = (t % 4, l % 4)
                right += m.alignment(crop) == truth
                n += 1
                if truth != (0, 0):
                    best, margin, _ = centre_margin(m, crop)
                    if best == truth:
                        crop_margins.append(margin)
                    else:
                        missed_max += 1
    print(f"128x128 crops of 256x256 stegos with the right shift found: {right} of {n}")
    print(f"centre patch, uncropped stegos whose most contrasted shift is wrong: {len(uncropped_margins)} of "
          f"{3 * len(wp)}, over the runner-up {span(uncropped_margins)}; for a flat secret, over no shift "
          f"{span(flat_over_none)}")
    over = sum(x > ALIGN_GAIN for x in crop_margins)
    print(f"centre patch, crops at a nonzero offset: the right shift has the most contrast in "
          f"{len(crop_margins)} of {len(crop_margins) + missed_max}, over the runner-up {span(crop_margins)} "
          f"({over} over ALIGN_GAIN {ALIGN_GAIN})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

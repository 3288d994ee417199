"""The grid search of ``reveal`` (api.Stego.alignment): wrong shifts on uncropped stegos, right ones on crops.

    bash scripts/install-heldout && .venv/bin/python benchmarks/alignment.py [--model default] [--no-large]

- Uncropped: each of the KDE wallpapers (data/heldout, 512x512) hides the next, then a black and a grey
  picture (a flat secret, such as a video's black frame, reveals with almost no contrast, so that wrong
  shifts stand out against it); the search must keep no shift.
- Crops: 42 crops of 128x128 at random offsets from 256x256 stegos of the 7 scikit-image/scikit-learn photos;
  the search must find each crop's offset modulo the grid.
- Large (unless ``--no-large``): each wallpaper at 1024x1024 hides the next; the search must keep no shift on
  it, and find the offset of three crops of it, to 1/2, 0.707 and 3/4 of its side (smooth pictures, on
  which the right shift stands out little).

Then the margins that ALIGN_GAIN sits between, on the contrast summed over all the search's patches: for
uncropped stegos whose most contrasted shift is a wrong one, that shift's over the runner-up's; for crops at
a nonzero offset, the right shift's over the runner-up's (and whether it had the most contrast at all).
"""
import argparse
import sys
from pathlib import Path

import numpy as np

import exypno
from exypno.api import ALIGN_GAIN
from exypno.evaluate.heldout import heldout_photos, wallpaper_covers
from exypno.evaluate.metrics import psnr_8bit
from exypno.media.image import square

ROOT = Path(__file__).resolve().parents[1]


def summed_margin(m, stego: np.ndarray) -> tuple[tuple[int, int], float, float]:
    """(the most contrasted shift over every patch of the search, its contrast over the runner-up's, over no
    shift's)."""
    total = m.summed_contrasts(stego)
    best = max(total, key=total.get)
    return best, total[best] / max(v for k, v in total.items() if k != best), total[best] / total[0, 0]


def span(values: list[float]) -> str:
    return f"{min(values):.2f}x to {max(values):.2f}x" if values else "none"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--no-large", action="store_true", help="leave out the 1024x1024 wallpapers and their crops")
    args = ap.parse_args()
    m = exypno.load(args.model)
    heldout = ROOT / "data" / "heldout"
    wp = list(wallpaper_covers(heldout, 512).items()) if heldout.is_dir() else []
    wrong, flat, uncropped_margins, flat_over_none = 0, 0, [], []
    crop_margins, missed_max = [], 0

    def uncropped(name, st, secret=None):
        best, margin, over_none = summed_margin(m, st)
        if best != (0, 0):
            uncropped_margins.append(margin)
            if secret is None:
                flat_over_none.append(over_none)
        found = m.alignment(st)
        if found != (0, 0) and secret is not None:
            print(f"{name}: shift {found}, secret {psnr_8bit(secret, m.reveal(st)):.2f} dB "
                  f"(no search {psnr_8bit(secret, m.reveal(st, align=False)):.2f})")
        elif found != (0, 0):
            print(f"{name}: shift {found}")
        return found != (0, 0)

    def cropped(crop, truth) -> bool:
        nonlocal missed_max
        if truth != (0, 0):
            best, margin, _ = summed_margin(m, crop)
            if best == truth:
                crop_margins.append(margin)
            else:
                missed_max += 1
        return m.alignment(crop) == truth

    for (name, c), (_, s) in zip(wp, wp[1:] + wp[:1]):
        wrong += uncropped(name, m.hide(c, s), s)
    print(f"uncropped wallpaper stegos given a shift: {wrong} of {len(wp)}")
    for name, c in wp:
        for level in (0, 128):
            flat += uncropped(f"{name} hiding flat {level}", m.hide(c, np.full_like(c, level)))
    print(f"uncropped wallpaper stegos of a flat secret (black, grey) given a shift: {flat} of {2 * len(wp)}")
    photos = [square(v, 256) for v in heldout_photos(256).values()]
    rng = np.random.default_rng(0)
    right = n = 0
    for i in range(7):
        for j in (1, 2):
            st = m.hide(photos[i], photos[(i + j) % 7])
            for _ in range(3):
                t, l = int(rng.integers(0, 129)), int(rng.integers(0, 129))
                right += cropped(np.ascontiguousarray(st[t : t + 128, l : l + 128]), (t % 4, l % 4))
                n += 1
    print(f"128x128 crops of 256x256 stegos with the right shift found: {right} of {n}")
    if not args.no_large and wp:
        large = list(wallpaper_covers(heldout, 1024).items())
        rng = np.random.default_rng(1)
        wrong_large = right = n = 0
        for (name, c), (_, s) in zip(large, large[1:] + large[:1]):
            st = m.hide(c, s)
            wrong_large += uncropped(f"{name} at 1024", st, s)
            for frac in (0.5, 0.707, 0.75):
                side = round(1024 * frac)
                y0, x0 = (int(v) for v in rng.integers(0, 1024 - side + 1, 2))
                right += cropped(np.ascontiguousarray(st[y0 : y0 + side, x0 : x0 + side]), (y0 % 4, x0 % 4))
                n += 1
        print(f"uncropped 1024x1024 wallpaper stegos given a shift: {wrong_large} of {len(large)}")
        print(f"crops of them (1/2, 0.707, 3/4 of the side) with the right shift found: {right} of {n}")
    print(f"summed over the patches, uncropped stegos whose most contrasted shift is wrong: "
          f"{len(uncropped_margins)}, over the runner-up {span(uncropped_margins)}; for a flat secret, over no shift "
          f"{span(flat_over_none)}")
    over = sum(x > ALIGN_GAIN for x in crop_margins)
    print(f"summed over the patches, crops at a nonzero offset: the right shift has the most contrast in "
          f"{len(crop_margins)} of {len(crop_margins) + missed_max}, over the runner-up {span(crop_margins)} "
          f"({over} over ALIGN_GAIN {ALIGN_GAIN})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

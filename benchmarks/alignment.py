"""The grid search of ``reveal`` (inference.image.Stego.alignment): wrong shifts on uncropped stegos, right ones on crops,
by the model's grid locator and by the contrast search (the search of a model without a locator), on the
same stegos.

    bash scripts/install-heldout && .venv/bin/python benchmarks/alignment.py [--model default] [--no-large]

- Uncropped: each of the KDE wallpapers (data/heldout, 512x512) hides the next, then a black and a grey
  picture (a flat secret, such as a video's black frame, reveals with almost no contrast, so that wrong
  shifts stand out against it); the search must keep no shift.
- Noise covers: the first 10 wallpapers with Gaussian noise of std 10, 30 and 60 levels added, then each
  hiding the next wallpaper (the encoder writes another residual on noise, and a locator trained on photos
  alone read wrong shifts there); the search must keep no shift on each stego, and find the offset of a
  256x256 crop of it.
- Crops: 42 crops of 128x128 at random offsets from 256x256 stegos of the 7 scikit-image/scikit-learn photos;
  the search must find each crop's offset modulo the grid.
- Large (unless ``--no-large``): each wallpaper at 1024x1024 hides the next; the search must keep no shift on
  it, and find the offset of three crops of it, to 1/2, 0.707 and 3/4 of its side (smooth pictures, on
  which the right shift of the contrast search stands out little).

Then the margins that the two rules' bars sit between. The locator: for uncropped stegos, the most that a
wrong shift's evidence came over no shift's (``LOCATE_MARGIN`` must stay above it); for crops at a nonzero
offset, the right shift's evidence over no shift's (it must reach the bar) and over the best wrong one's. The
contrast search, on the contrast summed over all its patches: for uncropped stegos whose most contrasted shift
is a wrong one, that shift's over the runner-up's; for crops at a nonzero offset, the right shift's over the
runner-up's (and whether it had the most contrast at all).
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

from exypno.inference.image import ALIGN_GAIN, LOCATE_MARGIN, Stego
from exypno.evaluate.heldout import heldout_photos, wallpaper_covers
from exypno.media.image import square

ROOT = Path(__file__).resolve().parents[1]
CASES = ("uncropped 512x512 wallpaper stegos given a shift", "the same hiding a flat picture (black, grey)",
         "uncropped 512x512 stegos of noised wallpapers given a shift",
         "256x256 crops of them, right shift found",
         "128x128 crops of 256x256 photo stegos, right shift found", "uncropped 1024x1024 wallpaper stegos given a shift",
         "crops of them (1/2, 0.707, 3/4 of the side), right shift found")


def span(values: list[float], unit: str = "x") -> str:
    return f"{min(values):.2f}{unit} to {max(values):.2f}{unit}" if values else "none"


class Tally:
    """One search's answers over the cases, with the margins its bar sits between, and its time."""

    def __init__(self, model: Stego):
        self.model, self.hits, self.seconds = model, {c: [0, 0] for c in CASES}, 0.0
        self.uncropped_margins, self.crop_margins, self.crop_over_none, self.missed = [], [], [], 0
        self.flat_over_none = []

    def align(self, image: np.ndarray) -> tuple[int, int]:
        start = time.perf_counter()
        found = self.model.alignment(image)
        self.seconds += time.perf_counter() - start
        return found

    def uncropped(self, case: str, stego: np.ndarray, flat: bool = False) -> None:
        self.margins(stego, (0, 0), flat)
        self.hits[case][0] += self.align(stego) != (0, 0)
        self.hits[case][1] += 1

    def crop(self, case: str, crop: np.ndarray, truth: tuple[int, int]) -> None:
        if truth != (0, 0):
            self.margins(crop, truth)
        self.hits[case][0] += self.align(crop) == truth
        self.hits[case][1] += 1

    def margins(self, image: np.ndarray, truth: tuple[int, int], flat: bool = False) -> None:
        if self.model.model.locator is not None:
            ev = self.model.shift_evidence(image)
            if truth == (0, 0):
                self.uncropped_margins.append(max(v for k, v in ev.items() if k != truth) - ev[truth])
            else:
                self.crop_over_none.append(ev[truth] - ev[0, 0])
                self.crop_margins.append(ev[truth] - max(v for k, v in ev.items() if k != truth))
            return
        total = self.model.summed_contrasts(image)
        best = max(total, key=total.get)
        over = total[best] / max(v for k, v in total.items() if k != best)
        if truth == (0, 0) and best != truth:
            self.uncropped_margins.append(over)
            if flat:
                self.flat_over_none.append(total[best] / total[0, 0])
        elif truth != (0, 0):
            if best == truth:
                self.crop_margins.append(over)
            else:
                self.missed += 1

    def report(self, name: str) -> None:
        if self.model.model.locator is not None:
            print(f"{name}: uncropped stegos, the best wrong shift's evidence over no shift's: "
                  f"{span(self.uncropped_margins, '')} (LOCATE_MARGIN {LOCATE_MARGIN}); crops at a nonzero offset, the "
                  f"right shift's over no shift's {span(self.crop_over_none, '')}, over the best wrong one's "
                  f"{span(self.crop_margins, '')}")
            return
        over = sum(x > ALIGN_GAIN for x in self.crop_margins)
        print(f"{name}: summed over the patches, uncropped stegos whose most contrasted shift is wrong: "
              f"{len(self.uncropped_margins)}, over the runner-up {span(self.uncropped_margins)}; for a flat secret, "
              f"over no shift {span(self.flat_over_none)}. Crops at a nonzero offset: the right shift has the most "
              f"contrast in {len(self.crop_margins)} of {len(self.crop_margins) + self.missed}, over the runner-up "
              f"{span(self.crop_margins)} ({over} over ALIGN_GAIN {ALIGN_GAIN})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--no-large", action="store_true", help="leave out the 1024x1024 wallpapers and their crops")
    args = ap.parse_args()
    m = Stego.load(args.model)
    searches = {}
    if m.model.locator is not None:
        searches["locator"] = Tally(m)
        m = Stego.load(args.model)
        m.model.locator = None
    searches["contrast search"] = Tally(m)
    heldout = ROOT / "data" / "heldout"
    wp = list(wallpaper_covers(heldout, 512).items()) if heldout.is_dir() else []
    for (name, c), (_, s) in zip(wp, wp[1:] + wp[:1]):
        st = m.hide(c, s)
        for t in searches.values():
            t.uncropped(CASES[0], st)
        for level in (0, 128):
            st = m.hide(c, np.full_like(c, level))
            for t in searches.values():
                t.uncropped(CASES[1], st, flat=True)
    rng = np.random.default_rng(2)
    for (name, c), (_, s) in zip(wp[:10], wp[1:11]):
        for std in (10, 30, 60):
            noised = np.clip(c + rng.normal(0, std, c.shape), 0, 255).astype(np.uint8)
            st = m.hide(noised, s)
            y0, x0 = (int(v) for v in rng.integers(0, 512 - 256 + 1, 2))
            crop = np.ascontiguousarray(st[y0 : y0 + 256, x0 : x0 + 256])
            for t in searches.values():
                t.uncropped(CASES[2], st)
                t.crop(CASES[3], crop, (y0 % 4, x0 % 4))
    photos = [square(v, 256) for v in heldout_photos(256).values()]
    rng = np.random.default_rng(0)
    for i in range(7):
        for j in (1, 2):
            st = m.hide(photos[i], photos[(i + j) % 7])
            for _ in range(3):
                t, l = int(rng.integers(0, 129)), int(rng.integers(0, 129))
                crop = np.ascontiguousarray(st[t : t + 128, l : l + 128])
                for tally in searches.values():
                    tally.crop(CASES[4], crop, (t % 4, l % 4))
    if not args.no_large and wp:
        large = list(wallpaper_covers(heldout, 1024).items())
        rng = np.random.default_rng(1)
        for (name, c), (_, s) in zip(large, large[1:] + large[:1]):
            st = m.hide(c, s)
            for tally in searches.values():
                tally.uncropped(CASES[5], st)
            for frac in (0.5, 0.707, 0.75):
                side = round(1024 * frac)
                y0, x0 = (int(v) for v in rng.integers(0, 1024 - side + 1, 2))
                crop = np.ascontiguousarray(st[y0 : y0 + side, x0 : x0 + side])
                for tally in searches.values():
                    tally.crop(CASES[6], crop, (y0 % 4, x0 % 4))
    names = list(searches)
    print(f"| {args.model} | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for case in CASES:
        if searches[names[0]].hits[case][1]:
            print(f"| {case} | " + " | ".join(f"{t.hits[case][0]} of {t.hits[case][1]}" for t in searches.values()) + " |")
    print("| seconds searching, all of them | " + " | ".join(f"{t.seconds:.1f}" for t in searches.values()) + " |\n")
    for name, t in searches.items():
        t.report(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

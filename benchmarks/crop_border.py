"""Where a crop's reveal loses: secret PSNR by distance to the crop's border, with the right grid shift given.

    .venv/bin/python benchmarks/crop_border.py [--model default] [--side 128]

Pairs of the seven held-out photos at 256x256 (photo i hides photo i+1 and i+2), as in benchmarks/attacks.py.
Each stego is cut to a ``--side`` square at a random offset and padded back onto the model's grid with the
offset it really had (what ``reveal``'s grid search must find, here given), then revealed; the same
square of the whole stego's reveal is the reference. This isolates what the border costs from what a
wrong shift costs (benchmarks/alignment.py). Prints the mean PSNR of both, and both by distance in pixels
to the nearest edge of the crop.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from exypno.api import Stego, _pad_mode, _run_padded
from exypno.evaluate.heldout import heldout_photos

BANDS = 12  # distances 0 .. BANDS - 1 shown; the rest pooled in the last


def reveal(stego: Stego, img: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float() / 255
    with torch.inference_mode():
        out = _run_padded(stego.model.reveal, [x], stego.model.multiple).clamp(0, 1)
    return (out[0].permute(1, 2, 0).numpy() * 255).round()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--side", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    stego_model = Stego.load(args.model)
    m, side = stego_model.model.multiple, args.side
    rng = np.random.default_rng(args.seed)
    photos = list(heldout_photos(256).values())
    n = len(photos)
    errors = {"whole": np.zeros(BANDS), "crop": np.zeros(BANDS)}
    counts, mse = np.zeros(BANDS), {"whole": [], "crop": []}
    yy, xx = np.mgrid[:side, :side]
    band = np.minimum(np.minimum.reduce([yy, xx, side - 1 - yy, side - 1 - xx]), BANDS - 1)
    for i in range(2 * n):
        cover, secret = photos[i % n], photos[(i % n + 1 + i // n) % n]
        stego = stego_model.hide(cover, secret)
        truth = secret.astype(float)
        y0, x0 = (int(v) for v in rng.integers(0, 256 - side + 1, 2))
        crop = stego[y0 : y0 + side, x0 : x0 + side]
        dy, dx = y0 % m, x0 % m  # the rows and columns its first blocks lost: the shift a search must find
        padded = np.pad(crop, ((dy, m), (dx, m), (0, 0)), mode=_pad_mode(crop))
        region = truth[y0 : y0 + side, x0 : x0 + side]
        for name, out in (("whole", reveal(stego_model, stego)[y0 : y0 + side, x0 : x0 + side]),
                          ("crop", reveal(stego_model, padded)[dy : dy + side, dx : dx + side])):
            err = ((out - region) ** 2).mean(-1)
            mse[name].append(err.mean())
            errors[name] += np.bincount(band.ravel(), err.ravel(), BANDS) / np.bincount(band.ravel(), minlength=BANDS)
        counts += 1

    def db(e):
        return 10 * np.log10(255**2 / np.maximum(e, 1e-10))

    whole, crop = np.mean(db(np.array(mse["whole"]))), np.mean(db(np.array(mse["crop"])))
    print(f"{args.model}: {2 * n} crops of {side}x{side}, the right shift given: secret {crop:.2f} dB, the whole "
          f"stego's reveal of the same squares {whole:.2f} dB (lost: {whole - crop:.2f})")
    print("| distance to the crop's edge (px) | " + " | ".join(str(d) for d in range(BANDS - 1)) + f" | {BANDS - 1}+ |")
    print("|---|" + "---|" * BANDS)
    for name in ("crop", "whole"):
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in db(errors[name] / counts)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

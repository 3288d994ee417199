"""Where a crop's reveal loses: secret PSNR by distance to the crop's border, with the right grid shift given.

    .venv/bin/python benchmarks/crop_border.py [--model default] [--side 128]
    .venv/bin/python benchmarks/crop_border.py --covers data/heldout --size 1024 --side 512 --limit 14
    .venv/bin/python benchmarks/crop_border.py --whole --size 250

Pairs of the seven held-out photos at 256x256 (photo i hides photo i+1 and i+2), as in benchmarks/attacks.py,
or with ``--covers``, of the wallpapers there at ``--size`` (picture i hides picture i+1; ``--limit`` pairs).
Each stego is cut to a ``--side`` square at a random offset and padded back onto the model's grid with the
offset it really had (what ``reveal``'s grid search must find, here given), then revealed as ``reveal`` does
(with the model's border decoder along the edges found cut, unless ``--plain``); the same
square of the whole stego's reveal is the reference. This isolates what the border costs from what a
wrong shift costs (benchmarks/alignment.py). Prints the mean PSNR of both, and both by distance in pixels
to the nearest edge of the crop.
"""
from __future__ import annotations

import argparse

import numpy as np

from exypno.inference import image as engine
from exypno.inference.image import Stego
from exypno.evaluate.heldout import heldout_photos, wallpaper_covers

BANDS = 12  # distances 0 .. BANDS - 1 shown; the rest pooled in the last


def whole_stegos(stego_model: Stego, pairs, size: int) -> int:
    from exypno.media.metrics import psnr_8bit

    border, found = stego_model.model.border_decoder, {"with": [], "without": []}
    for cover, secret in pairs:
        stego = stego_model.hide(cover, secret)
        for name, decoder in (("with", border), ("without", None)):
            stego_model.model.border_decoder = decoder
            found[name].append(psnr_8bit(secret, stego_model.reveal_shifted(stego, 0, 0)))
    stego_model.model.border_decoder = border
    print(f"{len(pairs)} whole {size}x{size} stegos: secret {np.mean(found['with']):.2f} dB with the border decoder, "
          f"{np.mean(found['without']):.2f} without")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--side", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--covers", help="folder of wallpapers (scripts/install-heldout) instead of the seven photos")
    ap.add_argument("--size", type=int, default=256, help="side of the stegos (default 256)")
    ap.add_argument("--limit", type=int, default=14, help="with --covers: this many pairs")
    ap.add_argument("--plain", action="store_true", help="the model's decoder alone, without its border decoder")
    ap.add_argument("--whole", action="store_true",
                    help="no crops: reveal whole stegos of --size with and without the border decoder (it reads "
                         "the far edges of a size that is no multiple of the grid's)")
    ap.add_argument("--on-grid", action="store_true",
                    help="crops at offsets on the model's grid only: their edges look like the picture's own, and "
                         "are found cut where the two decoders disagree (inference.image.cut_edges)")
    ap.add_argument("--band", type=int, help=f"pixels from a cut edge given to the border decoder (default "
                                            f"{engine.BORDER_BAND})")
    args = ap.parse_args()
    if args.band is not None:
        engine.BORDER_BAND = args.band
    stego_model = Stego.load(args.model)
    if args.plain:
        stego_model.model.border_decoder = None
    m, side = stego_model.model.multiple, args.side
    rng = np.random.default_rng(args.seed)
    size = args.size
    if args.covers:
        photos = list(wallpaper_covers(args.covers, size).values())
        pairs = [(photos[i], photos[(i + 1) % len(photos)]) for i in range(min(args.limit, len(photos)))]
    else:
        photos = list(heldout_photos(size).values())
        n = len(photos)
        pairs = [(photos[i % n], photos[(i % n + 1 + i // n) % n]) for i in range(2 * n)]
    if args.whole:
        return whole_stegos(stego_model, pairs, size)
    errors = {"whole": np.zeros(BANDS), "crop": np.zeros(BANDS)}
    counts, mse = np.zeros(BANDS), {"whole": [], "crop": []}
    yy, xx = np.mgrid[:side, :side]
    band = np.minimum(np.minimum.reduce([yy, xx, side - 1 - yy, side - 1 - xx]), BANDS - 1)
    for cover, secret in pairs:
        stego = stego_model.hide(cover, secret)
        truth = secret.astype(float)
        y0, x0 = (int(v) for v in rng.integers(0, size - side + 1, 2))
        if args.on_grid:
            y0, x0 = y0 // m * m, x0 // m * m
        crop = stego[y0 : y0 + side, x0 : x0 + side]
        dy, dx = y0 % m, x0 % m  # the rows and columns its first blocks lost: the shift a search must find
        region = truth[y0 : y0 + side, x0 : x0 + side]
        for name, out in (("whole", stego_model.reveal_shifted(stego, 0, 0)[y0 : y0 + side, x0 : x0 + side]),
                          ("crop", stego_model.reveal_shifted(np.ascontiguousarray(crop), dy, dx))):
            out = out.astype(float)
            err = ((out - region) ** 2).mean(-1)
            mse[name].append(err.mean())
            errors[name] += np.bincount(band.ravel(), err.ravel(), BANDS) / np.bincount(band.ravel(), minlength=BANDS)
        counts += 1

    def db(e):
        return 10 * np.log10(255**2 / np.maximum(e, 1e-10))

    whole, crop = np.mean(db(np.array(mse["whole"]))), np.mean(db(np.array(mse["crop"])))
    print(f"{args.model}: {len(pairs)} crops of {side}x{side} from {size}x{size} stegos, the right shift given: secret {crop:.2f} dB, the whole "
          f"stego's reveal of the same squares {whole:.2f} dB (lost: {whole - crop:.2f})")
    print("| distance to the crop's edge (px) | " + " | ".join(str(d) for d in range(BANDS - 1)) + f" | {BANDS - 1}+ |")
    print("|---|" + "---|" * BANDS)
    for name in ("crop", "whole"):
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in db(errors[name] / counts)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

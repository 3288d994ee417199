"""Image-in-image quality after the real PNG round trip: a model against k-bit LSB.

    .venv/bin/python benchmarks/image_quality.py [--model default] [--data data/photos] [--size 256]
                                                 [--wallpapers data/heldout]

Three test sets, all 256x256 (short side scaled to 256, centre square):
- held-out: the 7 colour photos inside the scikit-image and scikit-learn wheels, every ordered pair (42);
  another source than any training package;
- held-out wallpapers: the 30 KDE Plasma wallpapers of scripts/install-heldout (photographs and renders),
  the i-th hiding the (i+1)-th; more pictures than the 7, from another source again. Skipped when absent;
- validation: the training folder's validation split (never trained on, but the same sources), the i-th
  photo hiding the (i+1)-th. Skipped when the folder is absent.
Methods: the model(s), `sealed-avif` (the secret sealed as a picture re-encoded to fit, `exypno seal --fit`:
a learned bit carrier with error correction, carrying an AVIF file), and 3- and 4-bit LSB.
Prints a table and writes benchmarks/results/image_quality.json.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

from exypno.evaluate.heldout import wallpaper_covers, write_heldout
from exypno.media.image import write_png
from exypno.evaluate.report import evaluate_pairs
from exypno.train.data import load_rgb, split_photos

ROOT = Path(__file__).resolve().parents[1]


def validation_pairs(data: Path, size: int):
    _, val = split_photos(data, 0.08)
    val = [p for p in val if min(load_rgb(p, 10**6).shape[:2]) >= size]
    return [(val[i], val[(i + 1) % len(val)]) for i in range(len(val))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", help="model name or path (repeatable; default: default)")
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "photos")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--wallpapers", type=Path, default=ROOT / "data" / "heldout")
    ap.add_argument("--no-sealed", action="store_true",
                    help="skip the sealed route (about half an hour here); its rows in OUT, if any, are kept "
                         "(they do not depend on the image model)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "image_quality.json")
    args = ap.parse_args()
    models = args.model or ["default"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        held = write_heldout(tmp / "heldout", args.size)
        sets = {"held-out (skimage+sklearn)": list(itertools.permutations(held, 2))}
        if args.wallpapers.is_dir():
            (tmp / "walls").mkdir()
            walls = [write_png(tmp / "walls" / f"{k}.png", v, force=True)
                     for k, v in wallpaper_covers(args.wallpapers, args.size).items()]
            sets["held-out (KDE wallpapers)"] = [(walls[i], walls[(i + 1) % len(walls)]) for i in range(len(walls))]
        if args.data.is_dir():
            sets["validation split"] = validation_pairs(args.data, args.size)
        for set_name, pairs in sets.items():
            for method in [*models, *([] if args.no_sealed else ["sealed-avif"]), "lsb-3", "lsb-4"]:
                lsb = int(method.split("-")[1]) if method.startswith("lsb-") else None
                work = tmp / f"{len(rows)}-{Path(method).stem}"  # one folder per set and method
                s = evaluate_pairs(pairs, work, model=method, size=args.size, lsb=lsb, force=True, quiet=True,
                                   sealed=method == "sealed-avif")
                rows.append({"set": set_name, "method": method, "pairs": s["pairs"], **{
                    f"{side}_{k}": round(s[side][k], 4) for side in ("cover", "secret")
                    for k in ("psnr_mean", "psnr_worst", "ssim_mean")},
                    **{k: s[k] for k in ("seal_seconds_median", "fit_retries") if k in s}})
                if method == models[0] and set_name == "held-out (skimage+sklearn)":
                    figure = args.out.with_name(f"image_quality_{Path(method).stem}.png")
                    figure.write_bytes((work / "figure.png").read_bytes())
    header = f"{'set':<28}{'method':<12}{'pairs':>6}{'cover PSNR':>12}{'worst':>8}{'SSIM':>8}" \
             f"{'secret PSNR':>13}{'worst':>8}{'SSIM':>8}"
    print(header)
    for r in rows:
        print(f"{r['set']:<28}{Path(r['method']).stem:<12}{r['pairs']:>6}{r['cover_psnr_mean']:>12.2f}"
              f"{r['cover_psnr_worst']:>8.2f}{r['cover_ssim_mean']:>8.4f}{r['secret_psnr_mean']:>13.2f}"
              f"{r['secret_psnr_worst']:>8.2f}{r['secret_ssim_mean']:>8.4f}")
    for r in rows:
        if "fit_retries" in r:
            print(f"sealed-avif on {r['set']}: seal {r['seal_seconds_median']:.1f} s median; the largest file did "
                  f"not decode back in {r['fit_retries']} of {r['pairs']} pairs (sealed at the next rung's size)")
    if args.no_sealed and args.out.exists():
        kept = [r for r in json.loads(args.out.read_text()).get("rows", []) if r["method"] == "sealed-avif"]
        if kept:
            print(f"kept the {len(kept)} sealed-avif rows of {args.out} (--no-sealed)")
            rows += kept
    main_rows = {r["set"]: r for r in rows if r["method"] == models[0]}
    figures = {}
    for set_name, key in (("held-out (skimage+sklearn)", "heldout"), ("held-out (KDE wallpapers)", "wallpapers"),
                          ("validation split", "validation")):
        if set_name in main_rows:
            figures[f"{key}_cover_psnr"] = main_rows[set_name]["cover_psnr_mean"]
            figures[f"{key}_secret_psnr"] = main_rows[set_name]["secret_psnr_mean"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"size": args.size, "rows": rows, "figures": figures}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Which edges on the grid a crop cut: the rule of ``inference.image.cut_edges`` (``CUT_RATIO``) against the truth.

    .venv/bin/python benchmarks/edge_cuts.py                        # validation photos: where CUT_RATIO was chosen
    .venv/bin/python benchmarks/edge_cuts.py --covers heldout       # the seven held-out photos at 256x256
    .venv/bin/python benchmarks/edge_cuts.py --covers data/heldout --size 1024 --limit 14

An edge of a stego that falls on the model's 4-pixel grid is either the picture's own or a crop's, and only
the second should be read by the border decoder. Each pair's stego is revealed whole (four edges of the
picture's own) and cut to squares of half and three quarters of its side at random offsets on the grid (four
edges of a crop's each). For every edge this prints how the rule decides and what the band along it reveals:
with the decoder alone, the border decoder alone, and the rule at each ``--ratios``. The secret PSNR is over
the bands of all edges of that kind (corners left out), against the true secret. ``--covers validation``
(default) takes the validation split of data/photos (never trained on) at ``--size``; a flat secret (black,
then grey) replaces every third one, the case where the reveals hardly disagree anywhere.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from exypno.inference import image as engine
from exypno.inference.image import BORDER_BAND, Stego, edge_ratios, edge_views
from exypno.evaluate.heldout import heldout_photos, wallpaper_covers
from exypno.media.image import square

RESULTS = Path(__file__).parent / "results"


def validation_photos(folder: str, size: int, limit: int) -> list[np.ndarray]:
    from exypno.train.data import load_rgb, split_photos
    from exypno.train.loop import TrainConfig

    _, val = split_photos(Path(folder), TrainConfig.val_fraction)
    return [square(load_rgb(path), size) for path in val[:limit]]


def pairs_of(args) -> list[tuple[np.ndarray, np.ndarray]]:
    if args.covers == "heldout":
        photos = list(heldout_photos(args.size).values())
        n = len(photos)
        return [(photos[i % n], photos[(i % n + 1 + i // n) % n]) for i in range(2 * n)]
    if args.covers == "validation":
        photos = validation_photos(args.data, args.size, args.limit + 1)
        flat = [np.zeros_like(photos[0]), np.full_like(photos[0], 128)]
        return [(photos[i], flat[(i // 3) % 2] if i % 3 == 2 else photos[i + 1]) for i in range(len(photos) - 1)]
    photos = list(wallpaper_covers(args.covers, args.size).values())
    return [(photos[i], photos[(i + 1) % len(photos)]) for i in range(min(args.limit, len(photos)))]


def edge_records(model: Stego, stego: np.ndarray, secret: np.ndarray, kind: str) -> list[dict]:
    """Per edge (top, left, bottom, right): its ratio, and the squared error of each reveal over its band."""
    revealed, border = model.both_reveals(stego, 0, 0)
    b, truth = BORDER_BAND, secret.astype(np.float64)
    errors = {name: ((img.astype(np.float64) - truth) ** 2).mean(-1) for name, img in
              (("decoder", revealed), ("border", border))}
    records = []
    views = {name: edge_views(err) for name, err in errors.items()}
    for k, ratio in enumerate(edge_ratios(revealed, border)):
        records.append({"kind": kind, "ratio": ratio} | {name: float(v[k][:b, b:-b].mean()) for name, v in views.items()})
    return records


def db(mse: float) -> float:
    return float(10 * np.log10(255**2 / max(mse, 1e-10)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--covers", default="validation",
                    help="'validation' (data/photos' validation split), 'heldout' (seven photos), or a folder of wallpapers")
    ap.add_argument("--data", default="data/photos")
    ap.add_argument("--size", type=int, help="side of the stegos (default 384; 256 for --covers heldout)")
    ap.add_argument("--limit", type=int, default=30, help="pairs (validation or wallpapers)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ratios", default="2,2.5,3,3.5,4,5", help="thresholds to print beside CUT_RATIO")
    ap.add_argument("--out", help="JSON file name under benchmarks/results/ for every edge's record")
    args = ap.parse_args()
    args.size = args.size or (256 if args.covers == "heldout" else 384)
    model = Stego.load(args.model)
    if model.model.border_decoder is None:
        raise SystemExit(f"{args.model}: no border decoder")
    m, rng, records = model.model.multiple, np.random.default_rng(args.seed), []
    pairs = pairs_of(args)
    for cover, secret in pairs:
        stego = model.hide(cover, secret)
        records += edge_records(model, stego, secret, "own")
        for frac in (0.5, 0.75):
            side = round(args.size * frac) // m * m
            y0, x0 = (int(v) // m * m for v in rng.integers(0, args.size - side + 1, 2))
            crop = np.ascontiguousarray(stego[y0 : y0 + side, x0 : x0 + side])
            records += edge_records(model, crop, secret[y0 : y0 + side, x0 : x0 + side], "crop")
    print(f"{args.model}: {len(pairs)} pairs ({args.covers}, {args.size}x{args.size}); every edge on the grid; "
          f"secret PSNR over the {BORDER_BAND}-pixel bands along them")
    print("| edges read by | picture's own edges: taken for cut | their bands | crops' edges: taken for cut | their bands |")
    print("|---|---|---|---|---|")
    own = [r for r in records if r["kind"] == "own" and r["ratio"] is not None]
    crop = [r for r in records if r["kind"] == "crop" and r["ratio"] is not None]

    def row(label, cut):
        cells = []
        for group in (own, crop):
            taken = [cut(r) for r in group]
            mse = np.mean([r["border"] if t else r["decoder"] for r, t in zip(group, taken)])
            cells += [f"{np.mean(taken):.0%} of {len(group)}", f"{db(mse):.2f} dB"]
        print(f"| {label} | " + " | ".join(cells) + " |")

    row("the decoder alone", lambda r: False)
    row("the border decoder alone", lambda r: True)
    for t in sorted({float(x) for x in args.ratios.split(",")} | {engine.CUT_RATIO}):
        row(f"the rule, ratio > {t:g}" + (" (shipped)" if t == engine.CUT_RATIO else ""), lambda r, t=t: r["ratio"] > t)
    for name, group in (("picture's own", own), ("crops'", crop)):
        print(f"ratios along the {name} edges: min / median / max "
              + " / ".join(f"{q:.2f}" for q in np.percentile([r["ratio"] for r in group], [0, 50, 100])))
    if args.out:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / args.out).write_text(json.dumps({"model": args.model, "covers": args.covers, "size": args.size,
                                                    "cut_ratio": engine.CUT_RATIO, "edges": records}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

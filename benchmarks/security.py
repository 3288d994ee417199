"""The paper's security experiments, on photos no hiding model trained on.

    .venv/bin/python benchmarks/security.py [--model default] [--data data/photos] [--steps 1500]

Covers: 256x256 crops. "held-out" = four crops of each of the 7 scikit-image/scikit-learn photos (another
source than any training package); "same-source" = the training folder's validation split. Each cover
hides another cover of its set. Stego sets: our model, LSB-3 (the paper's baseline), LSB replacement of
random bits at 100% and 50% of the values, LSB matching at 100%; `exypno seal` in its two modes (png
and robust), each cover carrying a random file (as an encrypted or compressed one looks) of half what the
mode carries in that cover; and the robust image model (`robust`: 8 to 28 s a stego, so that its run with
the learned detectors takes most of an hour).

(a) Structural detectors and their StegExpose-style fusion: ROC AUC and detection rate at threshold 0.2
    (the false-alarm rate is that of the clean covers); also on whole 512x512 photos (the 7 held-out ones
    and the validation photos at least 512 pixels on a side).
(b) Learned detectors (XuNet-, Ye-Net-style) trained on (cover, stego) pairs of the training folder's
    training split, then tested on held-out photos (another source) and on the validation split (the same
    source), like the paper's Table 2.
(c) The paper's Fig. 8: cover | our stego | LSB-3 stego, difference maps and per-channel histograms.

Prints the tables and writes benchmarks/results/security.json (--out) and security_fig8.png (when the
default and LSB-3 sets are among --methods).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

import exypno
from exypno.baselines import lsb_embed_bits, lsb_hide
from exypno.evaluate.heldout import heldout_photos
from exypno.media.image import square, write_png
from exypno.payload.seal import Unreliable, capacity, seal
from exypno.steganalysis.report import roc_auc
from exypno.steganalysis.structural import THRESHOLD, analyze
from exypno.train.data import load_rgb, split_photos

ROOT = Path(__file__).resolve().parents[1]


def crops(photo: np.ndarray, size: int, n: int) -> list[np.ndarray]:
    big = square(photo, size * 2)
    corners = [(0, 0), (0, size), (size, 0), (size, size)][:n]
    return [big[y : y + size, x : x + size] for y, x in corners]


METHODS = ("exypno", "lsb-3", "lsbr-100%", "lsbr-50%", "lsbm-100%", "seal", "seal-robust", "robust")


def sealed(cover: np.ndarray, mode: str, rng) -> np.ndarray | None:
    """``cover`` carrying a random file of half what ``mode`` carries in it (a quarter, an eighth where the
    cover does not carry that back reliably); None where nothing goes."""
    size = capacity(cover, modes=(mode,))[mode]["bytes"] // 2
    while size >= 16:
        try:
            return seal(cover, rng.bytes(size), "file.bin", "security benchmark", mode=mode)[0]
        except Unreliable:
            size //= 2
    return None


def _robust():
    from exypno.payload.robust_image import RobustImage

    return RobustImage()


def stego_sets(covers: list[np.ndarray], model, rng, methods=METHODS) -> dict[str, list[np.ndarray]]:
    n = len(covers)
    secrets = [covers[(i + 1) % n] for i in range(n)]
    make = {
        "exypno": lambda: [model.hide(c, s) for c, s in zip(covers, secrets)],
        "lsb-3": lambda: [lsb_hide(c, s, 3) for c, s in zip(covers, secrets)],
        "lsbr-100%": lambda: [lsb_embed_bits(c, 1.0, rng) for c in covers],
        "lsbr-50%": lambda: [lsb_embed_bits(c, 0.5, rng) for c in covers],
        "lsbm-100%": lambda: [lsb_embed_bits(c, 1.0, rng, matching=True) for c in covers],
        # A cover that carries nothing back is left out of its set (the count is printed).
        "seal": lambda: [s for s in (sealed(c, "png", rng) for c in covers) if s is not None],
        "seal-robust": lambda: [s for s in (sealed(c, "robust", rng) for c in covers) if s is not None],
        "robust": lambda: [_robust().hide(c, s) for c, s in zip(covers, secrets)],  # --model robust (a code)
    }
    return {m: make[m]() for m in methods}


def structural_table(covers, sets) -> list[dict]:
    clean = [analyze(c)["fused"] for c in covers]
    rows = []
    for name, stegos in sets.items():
        fused = [analyze(s)["fused"] for s in stegos]
        scores = np.array(clean + fused)
        labels = np.array([0] * len(clean) + [1] * len(fused))
        rows.append({"stego": name, "auc": roc_auc(scores, labels),
                     "detected": float(np.mean(np.array(fused) >= THRESHOLD)),
                     "false_alarms": float(np.mean(np.array(clean) >= THRESHOLD))})
    return rows


def learned_table(train_pairs: dict, test_sets: dict, workdir: Path, steps: int, crop: int) -> list[dict]:
    from exypno.steganalysis.learned import load_detector, score_images
    from exypno.steganalysis.train_detector import equal_error, train_detector

    rows = []
    for method, (covers, stegos) in train_pairs.items():
        clean_dir, stego_dir = workdir / f"{method}-clean", workdir / f"{method}-stego"
        for d, images in ((clean_dir, covers), (stego_dir, stegos)):
            d.mkdir(parents=True)
            for i, im in enumerate(images):
                write_png(d / f"{i:04d}.png", im)
        for arch in ("xunet", "yenet"):
            out = workdir / f"{method}-{arch}.safetensors"
            train_detector(clean_dir, stego_dir, out, arch=arch, steps=steps, crop=crop, progress=False)
            net, _ = load_detector(out)
            for test_name, (test_covers, test_stegos) in test_sets[method].items():
                scores = score_images(net, test_covers + test_stegos)
                labels = np.array([0] * len(test_covers) + [1] * len(test_stegos))
                _, acc = equal_error(scores, labels)
                rows.append({"stego": method, "detector": arch, "tested_on": test_name,
                             "auc": roc_auc(scores, labels), "accuracy_at_0.5": float(np.mean((scores >= 0.5) == labels)),
                             "eer_accuracy": acc})
    return rows


def figure8(cover, ours, lsb3, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 3, figsize=(12, 7.5))
    for a, (im, title) in zip(ax[0], ((cover, "cover"), (ours, "Exypno stego"), (lsb3, "LSB-3 stego"))):
        a.imshow(im)
        a.set_title(title)
        a.axis("off")
    for a, (im, title) in zip(ax[1][:2], ((ours, "Exypno: changed pixels"), (lsb3, "LSB-3: changed pixels"))):
        a.imshow(np.any(im != cover, axis=2), cmap="viridis")
        a.set_title(f"{title} ({np.mean(np.any(im != cover, axis=2)):.0%})")
        a.axis("off")
    h = ax[1][2]
    for ch, colour in enumerate("rgb"):
        for im, style, label in ((cover, "-", "cover"), (ours, "--", "Exypno"), (lsb3, ":", "LSB-3")):
            counts = np.bincount(im[..., ch].ravel(), minlength=256)
            h.plot(counts, style, color=colour, lw=0.8, label=f"{label} {colour.upper()}" if ch == 0 else None)
    h.set_title("per-channel histograms")
    h.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "photos")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=1500, help="training steps of each learned detector")
    ap.add_argument("--crop", type=int, default=64, help="training crop of the learned detectors")
    ap.add_argument("--train-covers", type=int, default=200)
    ap.add_argument("--methods", default=",".join(METHODS),
                    help=f"comma-separated stego sets (default all: {','.join(METHODS).replace('%', '%%')})")
    ap.add_argument("--out", default="security.json", help="file name under benchmarks/results")
    args = ap.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    if unknown := set(methods) - set(METHODS):
        ap.error(f"unknown --methods {sorted(unknown)}; known: {','.join(METHODS)}")
    rng = np.random.default_rng(0)
    model = exypno.load(args.model)
    held = [c for p in heldout_photos(None).values() for c in crops(p, args.size, 4)]
    train_files, val_files = split_photos(args.data, 0.08)
    val_photos = [load_rgb(f, 4096) for f in val_files]
    same = [square(p, args.size) for p in val_photos if min(p.shape[:2]) >= args.size]
    spread = train_files[:: max(1, len(train_files) // args.train_covers)][: args.train_covers]  # every source
    train_covers = [square(load_rgb(f), args.size) for f in spread]

    big = [square(p, 512) for p in heldout_photos(None).values()]
    big += [square(p, 512) for p in val_photos if min(p.shape[:2]) >= 512]
    sets = {"held-out": (held, stego_sets(held, model, rng, methods)),
            "same-source": (same, stego_sets(same, model, rng, methods))}
    structural_sets = {**sets, "all@512": (big, stego_sets(big, model, rng, methods))}
    results = {"structural": {}, "learned": []}
    print(f"(a) structural detectors, fused at threshold {THRESHOLD}")
    print(f"{'test set':<13}{'stego':<12}{'stegos':>7}{'AUC':>7}{'detected':>10}{'false alarms':>14}")
    for set_name, (covers, stegos) in structural_sets.items():
        rows = structural_table(covers, stegos)
        results["structural"][set_name] = rows
        for r in rows:
            r["stegos"] = len(stegos[r["stego"]])
            print(f"{set_name:<13}{r['stego']:<12}{r['stegos']:>7}{r['auc']:>7.3f}{r['detected']:>10.1%}"
                  f"{r['false_alarms']:>14.1%}")

    learned = [m for m in methods if m in ("exypno", "lsb-3", "seal", "seal-robust", "robust")]  # LSB-R/M: (a)
    train_sets = stego_sets(train_covers, model, rng, learned)
    train_pairs = {m: (train_covers, train_sets[m]) for m in learned}
    test_sets = {m: {name: (covers, stegos[m]) for name, (covers, stegos) in sets.items()} for m in train_pairs}
    with tempfile.TemporaryDirectory() as tmp:
        results["learned"] = learned_table(train_pairs, test_sets, Path(tmp), args.steps, args.crop)
    print(f"\n(b) learned detectors trained on {len(train_covers)} training-split pairs per method "
          f"({args.steps} steps of 8 pairs, {args.crop}x{args.crop} crops)")
    print(f"{'stego':<13}{'detector':<9}{'tested on':<13}{'AUC':>7}{'acc@0.5':>9}{'acc@EER':>9}")
    for r in results["learned"]:
        print(f"{r['stego']:<13}{r['detector']:<9}{r['tested_on']:<13}{r['auc']:>7.3f}{r['accuracy_at_0.5']:>9.1%}"
              f"{r['eer_accuracy']:>9.1%}")

    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    covers, stegos = sets["held-out"]
    wrote = [out / args.out]
    if "exypno" in stegos and "lsb-3" in stegos:
        figure8(covers[0], stegos["exypno"][0], stegos["lsb-3"][0], out / "security_fig8.png")
        wrote.append(out / "security_fig8.png")
    meta = {"model": args.model, "size": args.size, "detector_steps": args.steps, "detector_crop": args.crop,
            "methods": methods}
    wrote[0].write_text(json.dumps({**meta, **results}, indent=2) + "\n")
    print(f"\nwrote {' and '.join(map(str, wrote))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Image-in-image quality of model files in one batched pass, on a GPU when there is one.

    python benchmarks/heldout_quick.py MODEL.safetensors [MODEL ...] [--data data/photos] [--size 256]

The same pairs as benchmarks/image_quality.py (the 42 ordered pairs of the 7 held-out scikit-image /
scikit-learn photos, and the validation split's i-th photo hiding the (i+1)-th, all scaled and cut to
256x256), but without writing files: the stego is clamped and rounded to the 8-bit values a PNG holds and
the revealed secret is rounded the same way, which is what the PNG round trip gives (on the CPU it
prints the same figures as image_quality.py for the shipped default, to the hundredth of a dB).
`--jpeg Q` adds rows for the secret after a real JPEG re-save (Pillow) of the stego. It measures models
on the machine that trains them (a GPU: docs/training.md), including the `paper` preset, which takes
hours on a small CPU. Prints a table; `--out FILE` writes JSON.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import torch

from exypno.evaluate.heldout import heldout_photos
from exypno.media.image import square
from exypno.nets.files import load_model
from exypno.train.data import load_rgb, split_photos, to_tensor
from exypno.train.domains import pairing_domains
from exypno.train.loop import evaluate_model

ROOT = Path(__file__).resolve().parents[1]


def heldout_set(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    photos = list(heldout_photos(size).values())
    pairs = list(itertools.permutations(range(len(photos)), 2))
    return (to_tensor(np.stack([photos[i] for i, _ in pairs])), to_tensor(np.stack([photos[j] for _, j in pairs])))


def validation_set(data: Path, size: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    if not data.is_dir():
        return None
    _, val = split_photos(data, 0.08)
    photos = [square(p, size) for p in (load_rgb(f, 10**6) for f in val) if min(p.shape[:2]) >= size]
    n = len(photos)
    return (to_tensor(np.stack(photos)), to_tensor(np.stack([photos[(i + 1) % n] for i in range(n)])))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "photos")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--jpeg", type=int, action="append", default=[], metavar="QUALITY",
                    help="also the secret after re-saving the stego as JPEG at this quality (Pillow; repeatable)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sets = {"held-out": heldout_set(args.size)}
    val = validation_set(args.data, args.size)
    if val is not None:
        sets["validation"] = val
    domains = pairing_domains("image-in-image", 0, "complex", 1)
    rows = []
    print(f"{'model':40} {'set':11} {'stego':7} {'pairs':>5} {'cover dB':>9} {'worst':>6} {'secret dB':>9} {'worst':>6}")
    for path in args.models:
        model, card = load_model(path)
        model.to(device)
        for (name, (covers, secrets)), jpeg in itertools.product(sets.items(), [None, *args.jpeg]):
            f = evaluate_model(model, covers, secrets, device, domains, chunk=8, jpeg=jpeg)
            rows.append({"model": str(path), "set": name, "pairs": len(covers), "device": str(device), **f})
            stego = f"jpeg {jpeg}" if jpeg else "png"
            print(f"{str(path)[-40:]:40} {name:11} {stego:7} {len(covers):5d} {f['cover_psnr']:9.2f} "
                  f"{f['cover_psnr_worst']:6.2f} {f['secret_psnr']:9.2f} {f['secret_psnr_worst']:6.2f}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

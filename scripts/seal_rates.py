"""Choose a seal mode's repetition and Reed-Solomon parity from a bit model's error rates on validation photos.

    .venv/bin/python scripts/seal_rates.py runs/bits2/best.safetensors [--data data/photos] [--jpeg 90]

For each validation photo of the training folder (never the benchmark's held-out covers): every slot gets a
random bit, the stego is rounded to 8 bits (and re-saved as JPEG if asked), the decoder reads it back without
any refinement, and the bits are voted over ``repeat`` keyed slots. Prints the bit error rate, the byte error
rate and the worst photo's byte error rate per repetition: parity must cover twice the worst byte error
rate (RS corrects nsym / 2 bytes per 255), with a reserve.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from exypno.evaluate.attacks import Attack  # noqa: E402
from exypno.media.image import square  # noqa: E402
from exypno.nets.files import load_model  # noqa: E402
from exypno.payload.carrier import BitCarrier  # noqa: E402
from exypno.train.data import load_rgb, split_photos  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", type=Path)
    ap.add_argument("--data", type=Path, default=Path("data/photos"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--limit", type=int, default=16)
    ap.add_argument("--jpeg", type=int, help="re-save the stego as JPEG at this quality before reading")
    ap.add_argument("--repeats", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    args = ap.parse_args()
    model, _ = load_model(args.model)
    carrier = BitCarrier(model)
    _, val = split_photos(args.data, 0.08)
    photos = [square(load_rgb(p), args.size) for p in val[: args.limit]]
    rng = np.random.default_rng(0)
    stats = {r: [] for r in args.repeats}
    psnrs = []
    for cover in photos:
        n = carrier.slots(*cover.shape[:2])
        c = torch.from_numpy(np.array(cover)).permute(2, 0, 1)[None].float() / 255
        for r in args.repeats:
            k = n // r // 8 * 8
            order = rng.permutation(n)
            truth = rng.integers(0, 2, k).astype(np.float32)
            plane = rng.integers(0, 2, n).astype(np.float32)
            plane[order[: k * r]] = np.repeat(truth, r)  # bit i in slots order[i*r : (i+1)*r], as seal does
            with torch.no_grad():
                stego = model.hide(c, torch.from_numpy(plane).reshape(1, carrier.planes, *cover.shape[:2]))
            img = torch.round(stego.clamp(0, 1) * 255)[0].permute(1, 2, 0).to(torch.uint8).numpy()
            psnrs.append(10 * np.log10(255**2 / np.mean((img.astype(float) - cover) ** 2)))
            if args.jpeg:
                img = Attack("jpeg", args.jpeg)(img, rng)[0]
            vote = carrier.logits(img)[order[: k * r]].reshape(k, r).sum(1)
            wrong = vote * (2 * truth - 1) <= 0
            stats[r].append((wrong.mean(), wrong.reshape(-1, 8).any(1).mean()))
    print(f"{args.model}: {len(photos)} validation photos at {args.size}x{args.size}, cover PSNR "
          f"{np.mean(psnrs):.2f} dB (no refinement){f', JPEG {args.jpeg}' if args.jpeg else ''}")
    print(f"{'repeat':>6}{'bit err':>10}{'byte err':>10}{'worst byte':>12}{'raw bpp':>9}")
    for r, rows in stats.items():
        a = np.array(rows)
        print(f"{r:>6}{a[:, 0].mean():>10.4f}{a[:, 1].mean():>10.4f}{a[:, 1].max():>12.4f}{carrier.planes / r:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

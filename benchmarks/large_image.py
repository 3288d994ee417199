"""Hide and reveal a 12-megapixel photo (4000x3000) and report time and peak memory.

    .venv/bin/python benchmarks/large_image.py [--model default] [--width 4000 --height 3000]

The photo is scikit-image's astronaut scaled up (its content does not matter for memory). Tiling keeps
the networks' activations to one tile at a time; peak RSS is read from the kernel after the run.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


import exypno
from exypno.evaluate.heldout import heldout_photos
from exypno.media.metrics import psnr_8bit
from exypno.media.image import resize


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--width", type=int, default=4000)
    ap.add_argument("--height", type=int, default=3000)
    args = ap.parse_args()
    photos = heldout_photos(None)
    cover = resize(photos["rocket"], args.height, args.width)
    secret = resize(photos["astronaut"], args.height, args.width)
    model = exypno.load(args.model)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    stego = model.hide(cover, secret)
    t1 = time.perf_counter()
    revealed = model.reveal(stego)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the same stego less its first row and column: the grid search finds the shift, and a model with a
    # border decoder runs it too, on strips along the edges now off the grid (inference.image.Stego._border_strips)
    t3 = time.perf_counter()
    model.reveal(stego[1:, 1:])
    t4 = time.perf_counter()
    images_mb = 4 * cover.nbytes / 2**20
    result = {"megapixels": args.width * args.height / 1e6, "hide_s": t1 - t0, "reveal_s": t2 - t1,
              "reveal_cropped_s": t4 - t3,
              "peak_rss_mb": peak, "rss_before_mb": rss0, "four_uint8_images_mb": images_mb,
              "cover_psnr": float(psnr_8bit(cover, stego)), "secret_psnr": float(psnr_8bit(secret, revealed))}
    print(f"{result['megapixels']:.1f} MP: hide {result['hide_s']:.1f} s, reveal {result['reveal_s']:.1f} s "
          f"(cropped by a pixel: {result['reveal_cropped_s']:.1f} s), "
          f"peak RSS {peak:.0f} MB (model loaded: {rss0:.0f} MB; the four uint8 images alone: {images_mb:.0f} MB); "
          f"cover {result['cover_psnr']:.2f} dB, secret {result['secret_psnr']:.2f} dB")
    out = Path(__file__).resolve().parent / "results" / "large_image.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

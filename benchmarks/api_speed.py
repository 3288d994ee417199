"""Time exypno.hide + exypno.reveal of a 512x512 pair through the API, with the model already loaded.

    .venv/bin/python benchmarks/api_speed.py [--model default] [--size 512] [--repeat 5] [--out FILE]

Arrays in and out (no file I/O), after one warm-up call; prints the median and the best of the repeats.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

import exypno
from exypno.evaluate.heldout import heldout_photos


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "api_speed.json")
    args = ap.parse_args()
    photos = heldout_photos(args.size)
    cover, secret = photos["astronaut"], photos["coffee"]
    model = exypno.load(args.model)
    model.reveal(model.hide(cover, secret))  # warm-up
    hide_t, reveal_t = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        stego = model.hide(cover, secret)
        t1 = time.perf_counter()
        model.reveal(stego)
        t2 = time.perf_counter()
        hide_t.append(t1 - t0)
        reveal_t.append(t2 - t1)
    total = [h + r for h, r in zip(hide_t, reveal_t)]
    result = {"model": args.model, "size": args.size, "threads": torch.get_num_threads(), "hide_median_s": statistics.median(hide_t),
              "reveal_median_s": statistics.median(reveal_t), "total_median_s": statistics.median(total),
              "total_best_s": min(total)}
    print(f"{args.size}x{args.size}, {result['threads']} threads: hide {result['hide_median_s']:.3f} s + reveal "
          f"{result['reveal_median_s']:.3f} s = {result['total_median_s']:.3f} s (median of {args.repeat}; "
          f"best {result['total_best_s']:.3f} s)")
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

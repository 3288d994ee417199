"""What the secret survives: every attack of ``exypno evaluate --attack`` on held-out photos, for each model.

    .venv/bin/python benchmarks/attacks.py [--model default ...] [--pairs 14] [--size 256]

Pairs of the seven held-out photos (scikit-image and scikit-learn, never trained on): photo i hides photo
i+1 and i+2. Each stego is written as PNG and read back, then attacked (JPEG 95/90/75/50, WebP 90, Gaussian
noise 1/2/4 levels, crops to 75% and 50% at random offsets, resize to 75% and back) and revealed; the
secret is compared on the region the attacked file still shows. Prints one table per model and writes
benchmarks/results/attacks.json.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from exypno.evaluate.heldout import heldout_pairs
from exypno.evaluate.report import evaluate_attacks, format_attack_table

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", help="model name or path (repeatable; default: default)")
    ap.add_argument("--pairs", type=int, default=14)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "attacks.json")
    ap.add_argument("--no-align", action="store_true", help="reveal without the grid search (see inference.image.Stego.alignment)")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        pairs = heldout_pairs(Path(tmp) / "heldout", args.size, args.pairs)
        for model in args.model or ["default"]:
            r = evaluate_attacks(pairs, Path(tmp) / "work", model=model, size=args.size, quiet=True,
                                 align=not args.no_align)
            print(format_attack_table(r), "\n")
            results.append(r)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Secret PSNR against the JPEG quality the stego file was re-saved at, for each model, with a plot.

    .venv/bin/python benchmarks/jpeg_sweep.py [--model default --model robust] [--pairs 14] [--size 256]

The 14 pairs of benchmarks/attacks.py (the seven held-out photos, photo i hiding photo i+1 and i+2). Each
stego is written as PNG, re-saved by Pillow as JPEG (4:2:0) at each quality, read back and revealed. A
reveal that reads nothing (the robust model refuses rather than guess) is scored as a flat grey picture
and counted. Prints a table and writes benchmarks/results/jpeg_sweep.json and jpeg_sweep.png.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from exypno.evaluate.heldout import heldout_pairs
from exypno.evaluate.report import evaluate_attacks

ROOT = Path(__file__).resolve().parents[1]
QUALITIES = (100, 98, 95, 92, 90, 87, 85, 80, 75, 70, 60, 50)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", help="model name or path (repeatable; default: default, robust)")
    ap.add_argument("--pairs", type=int, default=14)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "jpeg_sweep.json")
    args = ap.parse_args()
    attacks = ",".join(f"jpeg:{q}" for q in QUALITIES)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        pairs = heldout_pairs(Path(tmp) / "heldout", args.size, args.pairs)
        for model in args.model or ["default", "robust"]:
            r = evaluate_attacks(pairs, Path(tmp) / "work", attacks=attacks, model=model, size=args.size, quiet=True)
            results[model] = r
    print(f"{'JPEG quality':<14}" + "".join(f"{m:>22}" for m in results))
    for q in QUALITIES:
        cells = []
        for r in results.values():
            a = r["attacks"][f"jpeg:{q}"]
            refused = f" ({a['refused']} refused)" if a["refused"] else ""
            cells.append(f"{a['secret_psnr']:.2f}{refused}")
        print(f"{q:<14}" + "".join(f"{c:>22}" for c in cells))
    print("cover PSNR    " + "".join(f"{r['cover_psnr']:>22.2f}" for r in results.values()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    _plot(results, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


def _plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for model, r in results.items():
        ax.plot(QUALITIES, [r["attacks"][f"jpeg:{q}"]["secret_psnr"] for q in QUALITIES], "o-",
                label=f"{model} (cover {r['cover_psnr']:.1f} dB)")
    ax.axhline(30, color="grey", lw=0.8, ls="--")
    ax.axhline(25, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("JPEG quality of the re-saved stego (Pillow, 4:2:0)")
    ax.set_ylabel("secret PSNR (dB; refused = flat grey)")
    ax.set_title(f"{results[next(iter(results))]['pairs']} held-out pairs, 256x256")
    ax.invert_xaxis()
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())

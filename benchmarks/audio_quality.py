"""Audio pairings on held-out sounds, after the real file round trip (16-bit WAV, 8-bit PNG).

    bash scripts/install-audio
    .venv/bin/python benchmarks/audio_quality.py [--pairing image-in-audio] [--model PATH] [--seconds 4]

Held-out sounds (data/heldout-audio, from packages no training set reads): pocketsphinx-testdata speech
and frozen-bubble music clips. Held-out pictures: the 7 photos inside scikit-image and scikit-learn, at
256x256; with ``--photos data/heldout``, the 30 KDE wallpapers of scripts/install-heldout instead.
Every cover is cut to ``--seconds``.

- image in audio: each held-out sound long enough for a 256x256 picture (2.04 s) carries one of the
  photos (in turn); the reveal averages the copies the cover holds.
- audio in audio: each held-out sound carries the next one (cut to the cover's length).
- audio in image: each photo carries one held-out sound (as much as a 256x256 picture holds, 2.04 s).

Prints a table per pairing and cover kind (speech, music) and writes benchmarks/results/audio_quality.json
(plus one figure of spectrograms per pairing, audio_<pairing>.png beside it).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from exypno.evaluate.audio import evaluate_audio_pairs, format_audio_table
from exypno.evaluate.heldout import wallpaper_covers, write_heldout
from exypno.media.audio import SAMPLE_RATE, read_audio
from exypno.media.image import write_png
from exypno.pairings.audio import image_seconds
from exypno.media.folders import list_sounds

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def pairs_for(pairing: str, sounds: list[Path], photos: list[Path], seconds: float,
              model: str | None = None) -> list[tuple[Path, Path]]:
    if pairing == "image-in-audio":
        from exypno.registry import model_path
        from exypno.media.audio import SPECTROGRAMS
        from exypno.nets.files import read_card

        spec = SPECTROGRAMS[read_card(model_path(model or pairing)).get("spectrogram", "complex")]
        need = image_seconds(256, 256, spec)
        long_enough = [s for s in sounds if len(read_audio(s)) / SAMPLE_RATE >= need]
        return [(s, photos[i % len(photos)]) for i, s in enumerate(long_enough)]
    if pairing == "audio-in-audio":
        return [(s, sounds[(i + 1) % len(sounds)]) for i, s in enumerate(sounds)]
    return [(photos[i % len(photos)], s) for i, s in enumerate(sounds)]


def untrained(model: str, out: Path) -> str:
    """A copy of ``model``'s architecture and card as it stands before any training step, saved at ``out``."""
    import torch

    from exypno.registry import model_path
    from exypno.nets import NetConfig, StegoModel
    from exypno.nets.files import read_card, save_model

    card = read_card(model_path(model))
    config = NetConfig.from_dict(card["config"])
    if not config.qim:
        raise SystemExit(f"{model}: --code-alone is for a model with a fixed lattice code (--qim)")
    torch.manual_seed(0)
    save_model(StegoModel(config), out, card={k: v for k, v in card.items() if k not in ("format", "part", "config")})
    return str(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairing", action="append", choices=("image-in-audio", "audio-in-audio", "audio-in-image"),
                    help="repeatable; default: every pairing with a shipped model")
    ap.add_argument("--model", help="model path (with one --pairing)")
    ap.add_argument("--sounds", type=Path, default=ROOT / "data" / "heldout-audio")
    ap.add_argument("--photos", type=Path, help="folder of held-out pictures (default: scikit-image's)")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--limit", type=int, help="at most this many pairs per pairing (a quick look)")
    ap.add_argument("--out", type=Path, help="default benchmarks/results/audio_quality.json (with --code-alone: "
                                               "audio_quality_code_alone.json, and no figure)")
    ap.add_argument("--code-alone", action="store_true",
                    help="measure the model's architecture before any training instead: for a model with a fixed "
                         "lattice code (--qim), whose trunks start at zero, that is the code alone")
    args = ap.parse_args()
    args.out = args.out or RESULTS / ("audio_quality_code_alone.json" if args.code_alone else "audio_quality.json")
    from exypno.registry import WEIGHTS_DIR

    pairings = args.pairing or [p for p in ("image-in-audio", "audio-in-audio", "audio-in-image")
                                if (WEIGHTS_DIR / f"{p}.safetensors").exists()]
    sounds = list_sounds(args.sounds)
    if not sounds:
        print(f"{args.sounds}: no sounds; run scripts/install-audio", file=sys.stderr)
        return 2
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.photos:
            (tmp / "photos").mkdir()
            photos = [write_png(tmp / "photos" / f"{k}.png", v) for k, v in wallpaper_covers(args.photos, 256).items()]
        else:
            photos = write_heldout(tmp / "photos", 256)
        for pairing in pairings:
            model = untrained(args.model or pairing, tmp / f"{pairing}.safetensors") if args.code_alone else args.model
            label = f"{args.model or pairing}, untrained (the code alone)" if args.code_alone else args.model or pairing
            pairs = pairs_for(pairing, sounds, photos, args.seconds, model)[: args.limit or None]
            work = tmp / pairing
            summary = evaluate_audio_pairs(pairs, work, model=model, seconds=args.seconds, force=True,
                                           quiet=True)
            per_pair = json.loads((work / "results.json").read_text())["pairs"]
            groups = {"all": per_pair}
            sound_side = "cover" if pairing.endswith("audio") else "secret"
            for kind in ("speech", "music"):
                groups[f"{kind} {sound_side}s"] = [p for p in per_pair if Path(p[sound_side]).name.startswith(kind)]
            table = {}
            for name, rows in groups.items():
                figures = {}
                for key in sorted({k for r in rows for k, v in r.items() if isinstance(v, float)}):
                    v = np.array([r[key] for r in rows if r.get(key) is not None], float)
                    if len(v):  # STOI and PESQ: speech secrets only
                        figures[key] = {"mean": round(float(v.mean()), 3), "worst": round(float(v.min()), 3),
                                        "n": len(v)}
                table[name] = {"pairs": len(rows), **figures}
                print(format_audio_table({"pairs": len(rows), "model": label,
                                          "pairing": f"{pairing}, {name}", **figures}))
                print()
            if not args.code_alone:
                (args.out.with_name(f"audio_{pairing}.png")).write_bytes((work / "figure.png").read_bytes())
            figures = {f"heldout_{k}": v["mean"] for k, v in table["all"].items() if isinstance(v, dict)}
            results[pairing] = {"model": label, "seconds": args.seconds, "groups": table,
                                "figures": figures, "summary": summary}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

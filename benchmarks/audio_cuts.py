"""Sound stegos attacked: cut at a random offset, noised, made quieter; what each still reveals.

    .venv/bin/python benchmarks/audio_cuts.py [--pairing audio-in-audio] [--model PATH] [--seconds 4]

The same as ``exypno evaluate --attack`` on the pairs of benchmarks/audio_quality.py (held-out sounds, 4 s
covers; for image in audio the 7 held-out photos at 256x256). Each stego is written as a 16-bit WAV and
revealed whole; then its samples are cut to 75% and to 50% of its length at a random offset (untouched, as
a sound editor trims), noised (std 0.5 and 2 of the file's 16-bit steps) or scaled (0.5, 0.7), and the
attacked file is revealed (``evaluate/sound_attacks.py``). The secret is compared on the part the attacked
file still carries, beside the whole stego's reveal of that part:

- audio in audio: the secret samples that the kept stego samples carried (each frame of 512 carries 511;
  the last is a pilot), SNR (a cut that keeps under 0.25 s of a secret shorter than its cover is not
  counted);
- image in audio: the picture's columns of the whole frames kept (a block frame the cut goes through is
  lost), PSNR against the picture as stretched over the cover (256 rows, a column a frame).

A reveal that finds no pilots refuses the file: counted as refused. Prints a table per pairing and writes
benchmarks/results/audio_cuts.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from exypno.evaluate.heldout import write_heldout
from exypno.evaluate.sound_attacks import DEFAULT_SOUND_ATTACKS, evaluate_sound_attacks, format_sound_attack_table
from exypno.media.folders import list_sounds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audio_quality import pairs_for  # noqa: E402  (the same pairs as the quality table)

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairing", action="append", choices=("audio-in-audio", "image-in-audio"))
    ap.add_argument("--model", help="model name or path (default: the pairing's shipped model)")
    ap.add_argument("--attack", default=DEFAULT_SOUND_ATTACKS)
    ap.add_argument("--sounds", type=Path, default=ROOT / "data" / "heldout-audio")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "audio_cuts.json")
    args = ap.parse_args()
    sounds = list_sounds(args.sounds)
    if not sounds:
        print(f"{args.sounds}: no sounds; run scripts/install-audio", file=sys.stderr)
        return 2
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photos = write_heldout(tmp / "photos", 256)
        for pairing in args.pairing or ["audio-in-audio", "image-in-audio"]:
            pairs = pairs_for(pairing, sounds, photos, args.seconds, args.model)
            results[pairing] = evaluate_sound_attacks(pairs, tmp / pairing, attacks=args.attack, model=args.model,
                                                      seconds=args.seconds, seed=args.seed, quiet=True)
            print(format_sound_attack_table(results[pairing]), "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Cut sound stegos: what a stego trimmed at a random offset still reveals, against the same part of the whole.

    .venv/bin/python benchmarks/audio_cuts.py [--pairing audio-in-audio] [--model PATH] [--seconds 4]

The pairs of benchmarks/audio_quality.py (held-out sounds, 4 s covers; for image in audio the 7 held-out
photos at 256x256). Each stego is written as a 16-bit WAV and revealed whole; then its samples are cut to
75% and to 50% of its length at a random offset (the 16-bit samples untouched, as a sound editor trims)
and the cut file is revealed. The secret is compared on the part the cut still carries:

- audio in audio: the secret samples that the kept stego samples carried (each frame of 512 carries 511;
  the last is a pilot), SNR against the true secret, beside the whole stego's reveal of the same samples
  (a cut that keeps under 0.25 s of a secret shorter than its cover is not counted);
- image in audio: the picture's columns of the whole frames the cut keeps (a block frame the cut goes
  through is lost), PSNR against the true picture as stretched over the cover, beside the whole reveal's.

Prints a table and writes benchmarks/results/audio_cuts.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from exypno.api import load
from exypno.evaluate.audio import snr
from exypno.evaluate.heldout import write_heldout
from exypno.evaluate.metrics import psnr_8bit
from exypno.media.audio import SAMPLE_RATE, SPECTROGRAMS, pcm16_values, read_audio, secret_grid, write_wav16
from exypno.media.image import read_image, resize
from exypno.pairings.audio import hide_audio, reveal_audio
from exypno.train.data import list_sounds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audio_quality import pairs_for  # noqa: E402  (the same pairs as the quality table)

ROOT = Path(__file__).resolve().parents[1]
FRACTIONS = (0.75, 0.5)


def carried(start: int, length: int, hop: int, per_frame: int) -> np.ndarray:
    """Indices in the secret of the samples that stego samples [start, start + length) carried."""
    at = np.arange(start, start + length)
    at = at[at % hop < per_frame]
    return at // hop * per_frame + at % hop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairing", action="append", choices=("audio-in-audio", "image-in-audio"))
    ap.add_argument("--model", help="model name or path (default: the pairing's shipped model)")
    ap.add_argument("--sounds", type=Path, default=ROOT / "data" / "heldout-audio")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "audio_cuts.json")
    args = ap.parse_args()
    sounds = list_sounds(args.sounds)
    if not sounds:
        print(f"{args.sounds}: no sounds; run scripts/install-audio", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photos = write_heldout(tmp / "photos", 256)
        for pairing in args.pairing or ["audio-in-audio", "image-in-audio"]:
            model = load(args.model or pairing)
            spec = SPECTROGRAMS[model.card.get("spectrogram", "complex")]
            rows = {f: [] for f in FRACTIONS}
            for i, (cover, secret) in enumerate(pairs_for(pairing, sounds, photos, args.seconds, args.model)):
                c = read_audio(cover)[: int(args.seconds * SAMPLE_RATE)]
                write_wav16(tmp / "c.wav", c, force=True)
                if pairing == "audio-in-audio":
                    truth = pcm16_values(read_audio(secret)[: len(c)])
                    write_wav16(tmp / "s.wav", truth, force=True)
                    hide_audio(model, tmp / "c.wav", tmp / "s.wav", tmp / "st.wav", force=True)
                else:
                    picture = read_image(secret)
                    hide_audio(model, tmp / "c.wav", secret, tmp / "st.wav", force=True)
                whole = reveal_audio(model, tmp / "st.wav", tmp / "whole.out.wav" if pairing == "audio-in-audio"
                                     else tmp / "whole.png", force=True)
                samples, _ = sf.read(str(tmp / "st.wav"), dtype="int16")
                for fraction in FRACTIONS:
                    length = int(len(samples) * fraction)
                    start = int(rng.integers(1, len(samples) - length))
                    sf.write(str(tmp / "cut.wav"), samples[start : start + length], SAMPLE_RATE, subtype="PCM_16")
                    if pairing == "audio-in-audio":
                        sg = secret_grid(model.card.get("spectrogram", "complex"))
                        part = reveal_audio(model, tmp / "cut.wav", tmp / "cut.out.wav", force=True)
                        at = carried(start, length, spec.hop, getattr(sg, "carried", spec.hop))
                        kept = at < len(truth)  # a secret shorter than its cover: the rest is silence
                        if kept.sum() < SAMPLE_RATE // 4:
                            continue  # the cut kept under 0.25 s of it: nothing to compare
                        at, part = at[kept], part[: len(at)][kept]
                        cut_figure, whole_figure = snr(truth[at], part), snr(truth[at], whole[at])
                    else:
                        part = reveal_audio(model, tmp / "cut.wav", tmp / "cut.png", force=True)
                        first = -(-start // spec.hop)  # the first whole frame the cut keeps
                        stretched = resize(picture, 256, whole.shape[1])  # the picture as hidden
                        same = slice(first, first + part.shape[1])
                        cut_figure = psnr_8bit(stretched[:, same], part)
                        whole_figure = psnr_8bit(stretched[:, same], whole[:, same])
                    rows[fraction].append((cut_figure, whole_figure))
            unit = "SNR" if pairing == "audio-in-audio" else "PSNR"
            print(f"\n{pairing} ({args.model or 'shipped'}): secret {unit} (dB)")
            print("| cut to | cuts | cut stego | worst | whole stego, same part | gap |\n|---|---|---|---|---|---|")
            results[pairing] = {}
            for fraction, figures in rows.items():
                cut_db, whole_db = np.array(figures).T
                gap = whole_db.mean() - cut_db.mean()
                print(f"| {fraction:.0%} at a random offset | {len(figures)} | {cut_db.mean():.2f} | {cut_db.min():.2f} | "
                      f"{whole_db.mean():.2f} | {gap:.2f} |")
                results[pairing][f"{fraction}"] = {"cut": round(float(cut_db.mean()), 3),
                                                   "cut_worst": round(float(cut_db.min()), 3),
                                                   "whole_same_part": round(float(whole_db.mean()), 3),
                                                   "gap": round(float(gap), 3), "n": len(figures)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

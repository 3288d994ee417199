"""Does the lattice code show? A detector that knows the code's period, on held-out sounds.

    .venv/bin/python benchmarks/lattice_detect.py [--model audio-in-audio] [--sounds data/heldout-audio]

The shipped sound-cover models move every value of the stego's grid (the samples themselves for audio in
audio, a block spectrum for image in audio) to a place on a lattice of period p that spells its symbol
(nets/lattice.py). A natural sound's values spread widely modulo p, so the mean of exp(2 pi i x / p) over
its grid (its resultant length) is small; a stego's phases are its symbols, which crowd near 0 for a
sound, so its resultant is near 1. The table gives that statistic for each
held-out sound as a cover and as the stego carrying the next sound (cut to its length), and the AUC of
telling them apart by it. Anyone who has the model card has p.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from exypno.api import Stego
from exypno.media.audio import SAMPLE_RATE, SPECTROGRAMS, level_gain, read_audio
from exypno.pairings.audio import hide_audio
from exypno.media.folders import list_sounds

ROOT = Path(__file__).resolve().parents[1]


def resultant(wave: np.ndarray, period: float, spec) -> float:
    wave = np.pad(wave, (0, (-len(wave)) % spec.hop))
    grid = spec.to_tensor(torch.from_numpy(wave * level_gain(wave, exact=True))[None].double())
    return float(torch.exp(2j * math.pi * grid / period).mean().abs())


def auc(negatives: np.ndarray, positives: np.ndarray) -> float:
    return float(np.mean([[1.0 if b > a else 0.5 if b == a else 0.0 for a in negatives] for b in positives]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="audio-in-audio")
    ap.add_argument("--sounds", type=Path, default=ROOT / "data" / "heldout-audio")
    args = ap.parse_args()
    sounds = list_sounds(args.sounds)
    if not sounds:
        print(f"{args.sounds}: no sounds; run scripts/install-audio", file=sys.stderr)
        return 2
    model = Stego.load(args.model)
    period = model.model.config.lattice[0]
    spec = SPECTROGRAMS[model.card.get("spectrogram", "complex")]
    covers, stegos = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i, path in enumerate(sounds):
            cover = read_audio(path)
            secret = read_audio(sounds[(i + 1) % len(sounds)])[: len(cover)]
            sf.write(str(tmp / "secret.wav"), secret, SAMPLE_RATE, subtype="PCM_16")
            hide_audio(model, path, tmp / "secret.wav", tmp / "stego.wav", force=True)
            covers.append(resultant(cover, period, spec))
            stegos.append(resultant(read_audio(tmp / "stego.wav"), period, spec))
    covers, stegos = np.array(covers), np.array(stegos)
    print(f"| files ({len(sounds)} each) | resultant mean | min | max |\n|---|---|---|---|")
    for name, v in (("covers", covers), ("stegos", stegos)):
        print(f"| {name} | {v.mean():.4f} | {v.min():.4f} | {v.max():.4f} |")
    print(f"AUC of the resultant, stego against cover: {auc(covers, stegos):.3f} (period {period})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time hiding a sound in a sound, and revealing it whole, cut, and after a volume change, through WAV files.

    .venv/bin/python benchmarks/audio_speed.py [--seconds 4 60 300] [--model audio-in-audio]

A held-out music clip (data/heldout-audio) repeated to each length is the cover, a held-out speech clip
repeated the secret. The reveal of a whole stego reads its pilots as written; a cut one (1,234 samples off
its start) has its frames and gain searched (``pairings/pilots.py``, over its first 32 s); one made 0.7
times as loud has its gain searched finely first. One run each, after a warm-up; wall-clock seconds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from exypno.api import load
from exypno.media.audio import SAMPLE_RATE, read_audio, write_wav16
from exypno.pairings.audio import hide_audio, reveal_audio
from exypno.media.folders import list_sounds

ROOT = Path(__file__).resolve().parents[1]


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, nargs="+", default=[4, 60, 300])
    ap.add_argument("--model", default="audio-in-audio")
    ap.add_argument("--sounds", type=Path, default=ROOT / "data" / "heldout-audio")
    args = ap.parse_args()
    sounds = list_sounds(args.sounds)
    music = [s for s in sounds if s.name.startswith("music")]
    speech = [s for s in sounds if s.name.startswith("speech")]
    if not music or not speech:
        print(f"{args.sounds}: no held-out sounds; run scripts/install-audio", file=sys.stderr)
        return 2
    model = load(args.model)
    print(f"{args.model}: seconds of wall clock (WAV files in and out)\n")
    print("| sound | hide | reveal | reveal, cut | reveal, volume x0.7 |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i, seconds in enumerate([min(args.seconds)] + list(args.seconds)):  # the first: a warm-up
            n = int(seconds * SAMPLE_RATE)
            write_wav16(tmp / "c.wav", np.resize(read_audio(music[0]), n), force=True)
            write_wav16(tmp / "s.wav", np.resize(read_audio(speech[0]), n), force=True)
            hide = timed(lambda: hide_audio(model, tmp / "c.wav", tmp / "s.wav", tmp / "st.wav", force=True))
            whole = timed(lambda: reveal_audio(model, tmp / "st.wav", tmp / "r.wav", force=True))
            samples, _ = sf.read(str(tmp / "st.wav"), dtype="int16")
            sf.write(str(tmp / "cut.wav"), samples[1234:], SAMPLE_RATE, subtype="PCM_16")
            cut = timed(lambda: reveal_audio(model, tmp / "cut.wav", tmp / "r.wav", force=True))
            quieter = np.round(samples * 0.7).astype(np.int16)
            sf.write(str(tmp / "vol.wav"), quieter, SAMPLE_RATE, subtype="PCM_16")
            volume = timed(lambda: reveal_audio(model, tmp / "vol.wav", tmp / "r.wav", force=True))
            if i:
                print(f"| {seconds:g} s | {hide:.2f} | {whole:.2f} | {cut:.2f} | {volume:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

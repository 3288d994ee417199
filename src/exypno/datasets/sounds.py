"""Lay out the audio of DESIGN §4 as 16 kHz mono 16-bit WAV files: training sounds and held-out sounds.

``scripts/install-audio`` installs the Debian packages, then runs ``python -m exypno.datasets.sounds``.

Training (``data/audio``), one file per recording, so that the validation split (by file name) never
shares a recording with training:

- speech: the prompts of ``asterisk-core-sounds-en-g722`` and ``-fr-g722`` (G.722 at 16 kHz, decoded with
  the FFmpeg inside PyAV), ``speech__LANG__NAME.wav``;
- music: the 41 orchestral tracks of ``wesnoth-1.16-music`` (OGG, 44.1 kHz stereo), mixed to mono,
  resampled, and cut to their first ``MUSIC_SECONDS`` to keep memory in bounds, ``music__NAME.wav``.

Held out (``data/heldout-audio``), from packages no training set reads:

- speech: the read-speech recordings of ``pocketsphinx-testdata`` (LibriVox and spoken card names, WAV,
  plus its raw 16 kHz PCM files);
- music: the three tracks of ``frozen-bubble-data``, cut into ``CLIP_SECONDS`` clips at fixed offsets.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..media.audio import SAMPLE_RATE, read_audio, write_wav16

ASTERISK = Path("/usr/share/asterisk/sounds")
WESNOTH = Path("/usr/share/games/wesnoth/1.16/data/core/music")
POCKETSPHINX = Path("/usr/share/pocketsphinx/test/data")
FROZEN_BUBBLE = Path("/usr/share/games/frozen-bubble/snd")
MUSIC_SECONDS = 180
CLIP_SECONDS = 4.0
CLIPS_PER_TRACK = 6
SILENCE_DB = -45.0  # RMS in dBFS under which a held-out clip is left out


def read_g722(path: Path) -> np.ndarray:
    """A raw G.722 file (Asterisk's prompts) -> float32 samples at 16 kHz."""
    import av

    with av.open(str(path), format="g722") as container:
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
    pcm = np.concatenate(frames) if frames else np.zeros(0, np.int16)
    return (pcm.astype(np.float32) / 32768.0).clip(-1, 1)


def collect_training(dest: Path) -> dict[str, int]:
    dest.mkdir(parents=True, exist_ok=True)
    counts = {"speech": 0, "music": 0}
    for voice in sorted(p for p in ASTERISK.iterdir() if p.is_dir()) if ASTERISK.is_dir() else []:
        lang = voice.name.split("_")[0]
        for f in sorted(voice.rglob("*.g722")):
            x = read_g722(f)
            if len(x) < SAMPLE_RATE // 2:  # beeps and very short prompts teach nothing about speech
                continue
            name = "__".join(f.relative_to(voice).with_suffix("").parts)
            write_wav16(dest / f"speech__{lang}__{name}.wav", x, force=True)
            counts["speech"] += 1
    for f in sorted(WESNOTH.glob("*.ogg")) if WESNOTH.is_dir() else []:
        x = read_audio(f)[: MUSIC_SECONDS * SAMPLE_RATE]
        write_wav16(dest / f"music__{f.stem}.wav", x / max(1e-6, float(np.abs(x).max())) * 0.9, force=True)
        counts["music"] += 1
    return counts


def collect_heldout(dest: Path) -> dict[str, int]:
    dest.mkdir(parents=True, exist_ok=True)
    counts = {"speech": 0, "music": 0}
    if POCKETSPHINX.is_dir():
        for f in sorted(POCKETSPHINX.rglob("*.wav")):
            write_wav16(dest / f"speech__{f.parent.name}__{f.stem}.wav", read_audio(f), force=True)
            counts["speech"] += 1
        for f in sorted(POCKETSPHINX.rglob("*.raw")):  # headerless 16 kHz 16-bit little-endian PCM
            x = np.fromfile(f, dtype="<i2").astype(np.float32) / 32768.0
            write_wav16(dest / f"speech__raw__{f.stem}.wav", x, force=True)
            counts["speech"] += 1
    clip = int(CLIP_SECONDS * SAMPLE_RATE)
    for f in sorted(FROZEN_BUBBLE.glob("*zik*.ogg")) if FROZEN_BUBBLE.is_dir() else []:
        x = read_audio(f)
        starts = np.linspace(10 * SAMPLE_RATE, max(10 * SAMPLE_RATE, len(x) - clip), CLIPS_PER_TRACK).astype(int)
        for i, s in enumerate(starts):
            # a clip must hold music: tracks end in silence, and silence has no SNR to measure
            if s + clip <= len(x) and np.sqrt(np.mean(x[s : s + clip] ** 2)) > 10 ** (SILENCE_DB / 20):
                write_wav16(dest / f"music__{f.stem}__{i}.wav", x[s : s + clip], force=True)
                counts["music"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the training and held-out sounds as 16 kHz WAV files.")
    parser.add_argument("train_dest", type=Path, help="e.g. data/audio")
    parser.add_argument("heldout_dest", type=Path, help="e.g. data/heldout-audio")
    args = parser.parse_args(argv)
    train = collect_training(args.train_dest)
    heldout = collect_heldout(args.heldout_dest)
    if not any(train.values()) or not any(heldout.values()):
        print("sounds missing: run scripts/install-audio (it installs the Debian packages)", file=sys.stderr)
        return 2
    print(f"training: {train} -> {args.train_dest}; held out: {heldout} -> {args.heldout_dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The fixed lattice code of the sound-cover models, measured without training: where its figures come from.

    .venv/bin/python benchmarks/lattice_code.py            # all four tables (about a minute on 2 cores)
    .venv/bin/python benchmarks/lattice_code.py --only sweep

Held-out sounds (data/heldout-audio, scripts/install-audio), 4 s each, each carrying the next one (cut to
its length), through real 16-bit rounding of the stego; SNR in dB on the waveforms.

- ``sweep``: the code alone (no networks: a ``LatticeCode``) at several periods and companding settings.
- ``heads``: the shipped audio-in-audio architecture before any training, its trunks' heads at zero (the
  code alone) and at std 1e-3 (small, as the learnt modem's were): what zero heads are for.
- ``levels``: the shipped audio-in-audio model through ``hide_audio`` and ``reveal_audio`` with every cover
  brought to -24, -34 and -44 dBFS, with the gain rule of ``level_gain(exact=True)`` (quiet covers raised
  by half as many octaves) and with the full power-of-two gain.
- ``squeeze``: image in audio's ceiling from resizing alone: the 7 held-out photos at 256x256 resized to
  the 126 columns a 4 s cover's block frames give, and back.
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

import exypno.media.audio as media_audio
from exypno.api import Stego
from exypno.evaluate.audio import snr
from exypno.evaluate.heldout import heldout_photos
from exypno.evaluate.metrics import psnr_8bit
from exypno.media.audio import SAMPLE_RATE, SPECTROGRAMS, level_gain, pcm16_values, read_audio
from exypno.media.image import resize
from exypno.nets import StegoModel
from exypno.nets.lattice import LatticeCode
from exypno.pairings.audio import hide_audio, reveal_audio
from exypno.train.data import list_sounds

ROOT = Path(__file__).resolve().parents[1]
SPEC = SPECTROGRAMS["block"]
SECONDS = 4.0


def clips(folder: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(cover, secret) pairs: each sound cut to 4 s and padded to whole frames, the next one as the secret."""
    sounds = [read_audio(f)[: int(SECONDS * SAMPLE_RATE)] for f in list_sounds(folder)]
    pairs = []
    for i, cover in enumerate(sounds):
        cover = np.pad(cover, (0, (-len(cover)) % SPEC.hop))
        secret = np.zeros_like(cover)
        nxt = sounds[(i + 1) % len(sounds)][: len(cover)]
        secret[: len(nxt)] = nxt
        pairs.append((cover, secret))
    return pairs


def through_file(hide, reveal, cover: np.ndarray, secret: np.ndarray) -> tuple[float, float]:
    """Cover and secret SNR of one pair: grids at the exact gain, the stego rounded to 16 bits."""
    gain = level_gain(cover, exact=True)
    grid = SPEC.to_tensor(torch.from_numpy(cover * gain)[None].double())
    with torch.no_grad():
        stego = pcm16_values(SPEC.to_wave(hide(grid, SPEC.to_tensor(torch.from_numpy(secret)[None].double())),
                                          len(cover))[0].numpy() / gain)
        received = SPEC.to_tensor(torch.from_numpy(stego.astype(np.float64) * gain)[None])
        revealed = pcm16_values(SPEC.to_wave(reveal(received), len(cover))[0].numpy())
    return snr(cover, stego), snr(secret, revealed)


def table(title: str, rows: list[tuple[str, list[tuple[float, float]]]]) -> None:
    print(f"\n{title}\n| setting | cover SNR | worst | secret SNR | worst |\n|---|---|---|---|---|")
    for name, figures in rows:
        c, s = np.array(figures).T
        print(f"| {name} | {c.mean():.2f} | {c.min():.2f} | {s.mean():.2f} | {s.min():.2f} |")


def sweep(pairs) -> None:
    rows = []
    for period, span, mu in [(0.01, 32, 255), (0.015625, 64, 1000), (0.02, 32, 255), (0.04, 16, 255)]:
        code = LatticeCode(period, span, mu)
        rows.append((f"period {period}, span {span}, mu {mu}",
                     [through_file(lambda x, v: code.write(x, code.compand(v)), lambda y: code.expand(code.read(y)),
                                   c, s) for c, s in pairs]))
    table("sweep: the code alone, no networks", rows)


def heads(pairs) -> None:
    config = Stego.load("audio-in-audio").model.config
    rows = []
    for std in (0.0, 1e-3):
        torch.manual_seed(0)
        model = StegoModel(config).double().eval()
        for trunk in (model.compressor.net, model.encoder.net, model.decoder.net):
            torch.nn.init.normal_(trunk.head.weight, std=std)
        rows.append((f"untrained, heads std {std:g}", [through_file(model.hide, model.reveal, c, s) for c, s in pairs]))
    table("heads: the shipped architecture before training", rows)


def levels(pairs) -> None:
    model = Stego.load("audio-in-audio")
    exact_rule = media_audio.level_gain

    def full_gain(wave, exact=False):
        gain = exact_rule(wave)
        return float(2.0 ** round(math.log2(gain))) if exact else gain

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for db in (-24, -34, -44):
            for rule, fn in (("half the octaves", exact_rule), ("full gain", full_gain)):
                media_audio.level_gain = fn
                figures = []
                try:
                    for cover, secret in pairs:
                        cover = (cover * 10 ** (db / 20) / np.sqrt(np.mean(cover**2))).astype(np.float32)
                        sf.write(str(tmp / "c.wav"), cover, SAMPLE_RATE, subtype="PCM_16")
                        sf.write(str(tmp / "s.wav"), secret, SAMPLE_RATE, subtype="PCM_16")
                        stego, _ = hide_audio(model, tmp / "c.wav", tmp / "s.wav", tmp / "st.wav", force=True)
                        revealed = reveal_audio(model, tmp / "st.wav", tmp / "r.wav", force=True)
                        cover = read_audio(tmp / "c.wav")
                        figures.append((snr(cover, stego[: len(cover)]),
                                        snr(read_audio(tmp / "s.wav"), revealed[: len(cover)])))
                finally:
                    media_audio.level_gain = exact_rule
                rows.append((f"cover at {db} dBFS, {rule}", figures))
    table("levels: the shipped audio-in-audio model, covers brought to one level", rows)


def squeeze() -> None:
    columns = -(-int(SECONDS * SAMPLE_RATE) // SPEC.hop)  # hide_audio pads the cover to whole frames: 126
    psnrs = [psnr_8bit(img, resize(resize(img, 256, columns), 256, 256)) for img in heldout_photos(256).values()]
    print(f"\nsqueeze: 7 held-out photos at 256x256 -> 256x{columns} -> 256x256: PSNR {np.mean(psnrs):.2f} dB "
          f"mean, {np.min(psnrs):.2f} worst")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sounds", type=Path, default=ROOT / "data" / "heldout-audio")
    ap.add_argument("--only", choices=("sweep", "heads", "levels", "squeeze"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    pairs = clips(args.sounds)
    if not pairs:
        print(f"{args.sounds}: no sounds; run scripts/install-audio", file=sys.stderr)
        return 2
    for name, run in (("sweep", lambda: sweep(pairs)), ("heads", lambda: heads(pairs)),
                      ("levels", lambda: levels(pairs)), ("squeeze", squeeze)):
        if args.only in (None, name):
            run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

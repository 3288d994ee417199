"""The fixed lattice code of the sound-cover models, measured without training: where its figures come from.

    .venv/bin/python benchmarks/lattice_code.py            # all five tables (a few minutes on 2 cores)
    .venv/bin/python benchmarks/lattice_code.py --only sweep

Held-out sounds (data/heldout-audio, scripts/install-audio), 4 s each, each carrying the next one (cut to
its length), through real 16-bit rounding of the stego; SNR in dB on the waveforms.

- ``sweep``: the code alone (no networks: a ``LatticeCode``) on the block spectrum at several periods and
  companding settings.
- ``emphasis``: the code alone on the waveform grid (the samples themselves), the secret pre-emphasised by
  0 to 0.8 (``media/audio.py`` EMPHASIS), with wide-band PESQ of the speech secrets.
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
from exypno.media.metrics import psnr_8bit
from exypno.evaluate.audio import pesq_wb
from exypno.media.audio import SAMPLE_RATE, SPECTROGRAMS, Waveform, level_gain, pcm16_values, read_audio, secret_grid
from exypno.media.image import resize
from exypno.nets import StegoModel
from exypno.nets.lattice import LatticeCode
from exypno.pairings.audio import hide_audio, reveal_audio
from exypno.media.folders import list_sounds

ROOT = Path(__file__).resolve().parents[1]
SPEC = SPECTROGRAMS["block"]
SECONDS = 4.0


def clips(folder: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(secret's name, cover, secret): each sound cut to 4 s, the next one as the secret, cut or padded to
    the cover's length."""
    files = list_sounds(folder)
    sounds = [read_audio(f)[: int(SECONDS * SAMPLE_RATE)] for f in files]
    pairs = []
    for i, cover in enumerate(sounds):
        j = (i + 1) % len(sounds)
        secret = np.zeros_like(cover)
        nxt = sounds[j][: len(cover)]
        secret[: len(nxt)] = nxt
        pairs.append((files[j].name, cover, secret))
    return pairs


def through_file(hide, reveal, cover: np.ndarray, secret: np.ndarray, grid=SPEC, secret_grid=SPEC,
                 speech: bool = False) -> tuple[float, ...]:
    """Cover and secret SNR of one pair (and wide-band PESQ of a ``speech`` secret): grids at the exact gain,
    the stego rounded to 16 bits. The cover is padded to whole frames (more of them where the secret's grid
    carries fewer samples a frame), the secret to what they carry."""
    frames = max(-(-len(cover) // grid.hop), -(-len(secret) // secret_grid.samples(1)))  # as hide_audio does
    padded_cover = np.pad(cover, (0, grid.samples(frames) - len(cover))).astype(np.float64)
    padded_secret = np.pad(secret, (0, secret_grid.samples(frames) - len(secret))).astype(np.float64)
    gain = level_gain(padded_cover, exact=True)
    cover_t = grid.to_tensor(torch.from_numpy(padded_cover * gain)[None])
    with torch.no_grad():
        stego_t = hide(cover_t, secret_grid.to_tensor(torch.from_numpy(padded_secret)[None]))
        stego = pcm16_values(grid.to_wave(stego_t, len(padded_cover))[0].numpy() / gain)
        received = grid.to_tensor(torch.from_numpy(stego.astype(np.float64) * gain)[None])
        revealed = pcm16_values(secret_grid.to_wave(reveal(received), len(padded_secret))[0].numpy())
    figures = snr(cover, stego[: len(cover)]), snr(secret, revealed[: len(secret)])
    return figures + ((pesq_wb(secret, revealed[: len(secret)]),) if speech else ())


def table(title: str, rows: list[tuple[str, list[tuple[float, ...]]]]) -> None:
    pesq = any(len(f) > 2 for _, figures in rows for f in figures)
    print(f"\n{title}\n| setting | cover SNR | worst | secret SNR | worst |{' speech PESQ |' if pesq else ''}")
    print(f"|---|---|---|---|---|{'---|' if pesq else ''}")
    for name, figures in rows:
        c, s = np.array([f[:2] for f in figures]).T
        scores = [f[2] for f in figures if len(f) > 2 and f[2] is not None]
        extra = f" {np.mean(scores):.2f} |" if pesq else ""
        print(f"| {name} | {c.mean():.2f} | {c.min():.2f} | {s.mean():.2f} | {s.min():.2f} |{extra}")


def code_alone(code: LatticeCode):
    return lambda x, v: code.write(x, code.compand(v)), lambda y: code.expand(code.read(y))


def sweep(pairs) -> None:
    rows = []
    for period, span, mu in [(0.01, 32, 255), (0.015625, 64, 1000), (0.02, 32, 255), (0.04, 16, 255)]:
        rows.append((f"block, period {period}, span {span}, mu {mu}",
                     [through_file(*code_alone(LatticeCode(period, span, mu)), c, s) for _, c, s in pairs]))
    table("sweep: the code alone on the block spectrum, no networks", rows)


def emphasis(pairs) -> None:
    """The code on the samples themselves (the waveform grid), with and without pre-emphasis of the secret:
    the emphasis tilts the code's white noise under the sound's own spectrum."""
    cover_grid = SPECTROGRAMS["waveform"]
    rows = []
    for period, span, mu in [(0.003125, 1, 255), (0.003125, 1, 100)]:
        for e in (0.0, 0.5, 0.6, 0.7, 0.8):
            secret_grid = Waveform(emphasis=e, pilot=True)
            rows.append((f"waveform, period {period}, span {span}, mu {mu}, emphasis {e}",
                         [through_file(*code_alone(LatticeCode(period, span, mu)), c, s, cover_grid, secret_grid,
                                       speech=name.startswith("speech")) for name, c, s in pairs]))
    table("emphasis: the code alone on the waveform grid (the secret's grid leaves the pilots' sample empty)",
          rows)


def heads(pairs) -> None:
    stego = Stego.load("audio-in-audio")
    config, name = stego.model.config, stego.card.get("spectrogram", "complex")
    rows = []
    for std in (0.0, 1e-3):
        torch.manual_seed(0)
        model = StegoModel(config).double().eval()
        for trunk in (model.compressor.net, model.encoder.net, model.decoder.net):
            torch.nn.init.normal_(trunk.head.weight, std=std)
        rows.append((f"untrained, heads std {std:g}",
                     [through_file(model.hide, model.reveal, c, s, SPECTROGRAMS[name], secret_grid(name))
                      for _, c, s in pairs]))
    table(f"heads: the shipped architecture ({name} grid) before training", rows)


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
                    for _, cover, secret in pairs:
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
    ap.add_argument("--only", choices=("sweep", "emphasis", "heads", "levels", "squeeze"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    pairs = clips(args.sounds)
    if not pairs:
        print(f"{args.sounds}: no sounds; run scripts/install-audio", file=sys.stderr)
        return 2
    for name, run in (("sweep", lambda: sweep(pairs)), ("emphasis", lambda: emphasis(pairs)),
                      ("heads", lambda: heads(pairs)),
                      ("levels", lambda: levels(pairs)), ("squeeze", squeeze)):
        if args.only in (None, name):
            run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Pretrain the lattice modem of a sound-cover model: the pointwise modulator of EN and demodulator of DN.

Why: trained end to end from random weights, a lattice model learnt nothing (audio in audio, secret SNR
0.0 dB after 600 steps; runs/README.md), though a toy of the modem alone learnt in a few hundred steps.
The chain is too long for the first gradients: CN, EN's trunk, modulator, the 16-bit file, demodulator,
DN's trunk. So the two ends of the channel are taught first, alone, to carry random symbols through the
real channel (block spectrogram -> 16-bit PCM -> block spectrogram) at the cover's SNR budget. The full
model then starts from a channel that works, and its trunks learn what to send over it.

    python -m exypno.train.modem --audio data/audio --out runs/modem/init.safetensors \\
        --pairing audio-in-audio --lattice 0.04 0.02 0.01 0.005 --minutes 20

writes a whole model (random trunks, trained modem) for ``exypno train --init``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..media.audio import LEVEL_DB, SPECTROGRAMS
from ..nets import NetConfig, StegoModel
from ..errors import ExypnoError
from ..nets.files import read_card, save_model
from ..nets.models import DecoderNet
from .data import ClipSampler, load_pcm16, split_sounds
from .domains import PAIRINGS, pairing_domains
from .loop import TrainConfig, hardware
from .memory import keep_freed_memory


def symbol_channels(config: NetConfig) -> int:
    """How many plan values EN hands its modulator at each position: the symbols the modem carries."""
    return config.cover_channels


def pretrain(model: StegoModel, covers: ClipSampler, spec, *, steps: int, minutes: float, batch: int = 6,
             lr: float = 1e-3, cover_db: float = 31.0, seed: int = 0, log=print) -> dict:
    """Train ``model``'s modulator and demodulator to carry unit-variance random symbols; return the last figures."""
    enc, dec = model.encoder, model.decoder
    k = symbol_channels(model.config)
    params = [*enc.modulator.parameters(), *dec.demodulator.parameters()]
    opt = torch.optim.Adam(params, lr)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    alpha, start, figures = 1.0, time.monotonic(), {}
    for step in range(1, steps + 1):
        wave = covers.draw(rng, batch)
        cover = spec.to_tensor(wave)
        symbols = torch.randn(cover.shape[0], k, *cover.shape[-2:])
        residual = enc.modulator(torch.cat([enc.features(cover), symbols], dim=1))
        received = spec.pcm16_channel(cover + residual, wave.shape[-1])
        read = dec.demodulator(dec.features(received))[:, :k]
        cover_ratio = residual.pow(2).mean() / cover.pow(2).mean()
        symbol_err = (read - symbols).pow(2).mean()
        loss = symbol_err + alpha * cover_ratio * 10 ** (cover_db / 10)
        opt.zero_grad()
        loss.backward()
        opt.step()
        cover_snr = -10 * math.log10(max(cover_ratio.item(), 1e-12))
        alpha = float(np.clip(alpha * math.exp(0.02 * (cover_db - cover_snr)), 1e-3, 1e3))  # hold the budget
        figures = {"step": step, "seconds": round(time.monotonic() - start, 1), "cover_snr": round(cover_snr, 2),
                   "symbol_snr": round(-10 * math.log10(max(symbol_err.item(), 1e-12)), 2), "alpha": round(alpha, 4)}
        if step % 50 == 0 or step == 1:
            log(json.dumps(figures))
        if time.monotonic() - start > minutes * 60:
            break
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Pretrain the lattice modem of a sound-cover model (see module doc).")
    p.add_argument("--audio", required=True, help="training sounds (scripts/install-audio)")
    p.add_argument("--out", required=True, type=Path, help="model file to write, for exypno train --init")
    p.add_argument("--pairing", default="audio-in-audio", choices=[k for k, v in PAIRINGS.items() if v[0] == "audio"])
    p.add_argument("--lattice", type=float, nargs="+", required=True)
    p.add_argument("--spectrogram", default="block")
    p.add_argument("--crop", type=int, default=64, help="frames per training clip")
    p.add_argument("--batch", type=int, default=6, help="clips a step (6 keeps activations under 32 MiB)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--cover-db", type=float, default=31.0, help="the cover SNR the modem may spend (dB)")
    p.add_argument("--steps", type=int, default=100000)
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--modem-from", type=Path, help="start from the modem of this model file (same lattice); "
                                                    "with --minutes 0, only copy it into a fresh model")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    keep_freed_memory()
    spec = SPECTROGRAMS[args.spectrogram]
    train_files, _ = split_sounds(Path(args.audio), TrainConfig.val_fraction)  # the split exypno train uses
    covers = ClipSampler([load_pcm16(f) for f in train_files], spec.samples(args.crop), (LEVEL_DB - 3, LEVEL_DB + 3))
    cover, secret = pairing_domains(args.pairing, spectrogram=args.spectrogram)
    torch.manual_seed(args.seed)
    config = NetConfig(cover_channels=cover.channels, secret_channels=secret.channels, lattice=tuple(args.lattice))
    model = StegoModel(config)
    assert DecoderNet.SYMBOLS >= symbol_channels(config)
    earlier = []
    if args.modem_from:
        from safetensors.torch import load_file

        card = read_card(args.modem_from)  # only the modem's tensors are read: the trunks may differ
        if tuple(card["config"].get("lattice", ())) != config.lattice or "modem" not in card:
            raise ExypnoError(f"{args.modem_from}: not a modem on the lattice {config.lattice}")
        tensors = load_file(str(args.modem_from))
        for prefix, part in (("encoder.modulator.", model.encoder.modulator),
                             ("decoder.demodulator.", model.decoder.demodulator)):
            part.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        earlier = [*card["modem"].get("earlier", []), {k: v for k, v in card["modem"].items() if k != "earlier"}]
    figures = {**{k: v for k, v in earlier[-1].items() if k != "command"}, "seconds": 0.0} if earlier else {}
    if args.minutes > 0:
        figures = pretrain(model, covers, spec, steps=args.steps, minutes=args.minutes, batch=args.batch,
                           lr=args.lr, cover_db=args.cover_db, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m exypno.train.modem", *(sys.argv[1:] if argv is None else argv)])
    save_model(model, args.out, card={"pairing": args.pairing, "spectrogram": args.spectrogram,
                                      "modem": {**figures, "command": command, "hardware": hardware(torch.device("cpu")),
                                                **({"earlier": earlier} if earlier else {})}})
    print(f"modem: {figures} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Distortions of a sound stego *file*, for ``exypno evaluate --attack`` on the pairings with a sound cover.

Each attack maps the stego's 16-bit samples to what a receiver gets, and says which samples of the stego
it still holds (cuts), so that the revealed secret is compared with the part of the secret those carried:

    cut:F      keep F of the stego's length at a random offset, its samples untouched (as an editor trims)
    noise:S    add Gaussian noise of std S in 16-bit steps, round and clip
    volume:F   multiply by F and round to 16 bits again (a volume change; a power of two keeps the code)

A reveal that refuses the attacked file (no pilots found: ``pairings/pilots.py``) counts as refused, not as
a figure. ``DEFAULT_SOUND_ATTACKS`` is what ``--attack default`` runs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..channel.attacks import Attack, parse_list
from ..errors import ExypnoError
from ..media import audio
from ..media.files import make_folder
from ..media.image import check_side, read_image, resize, square, write_png
from ..media.metrics import mse_8bit, psnr_from_mse
from .audio import snr

DEFAULT_SOUND_ATTACKS = "none,cut:0.75,cut:0.5,noise:0.5,noise:2,volume:0.5,volume:0.7"
LIMITS = {"cut": (0.01, 1), "noise": (0, 32768), "volume": (0.001, 1)}
MIN_SECRET = audio.SAMPLE_RATE // 4  # a cut that keeps under 0.25 s of a shorter secret is not counted
EDGE_COLUMNS = 6  # a cut picture's loss is reported column by column this far from the cut


@dataclass(frozen=True)
class SoundAttack(Attack):
    """An attack (kind, value) on a sound stego's samples."""

    def __call__(self, samples: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """(attacked int16 samples, the index of the stego sample they start at)."""
        if self.kind == "cut":
            length = max(1, int(len(samples) * self.value))
            start = int(rng.integers(1, len(samples) - length)) if len(samples) - length > 1 else 0
            return samples[start : start + length].copy(), start
        x = samples.astype(np.float64)
        if self.kind == "noise":
            x = x + rng.normal(0.0, self.value, len(x))
        elif self.kind == "volume":
            x = x * self.value
        return np.clip(np.round(x), -32768, 32767).astype(np.int16), 0


def parse_sound_attacks(spec: str) -> list[SoundAttack]:
    """'cut:0.5,noise:2' -> attacks; 'default' is ``DEFAULT_SOUND_ATTACKS``. A bad item is a one-line error."""
    return [SoundAttack(kind, value) for kind, value in parse_list(spec, DEFAULT_SOUND_ATTACKS, LIMITS, " on a sound stego")]


def carried(start: int, length: int, hop: int, per_frame: int) -> np.ndarray:
    """Indices in the secret of the samples that stego samples [start, start + length) carried (a grid whose
    frames of ``hop`` samples carry ``per_frame`` of the secret's)."""
    at = np.arange(start, start + length)
    at = at[at % hop < per_frame]
    return at // hop * per_frame + at % hop


def evaluate_sound_attacks(pairs, out: Path, attacks: str = "default", model=None, seconds: float = 4.0,
                           size: int = 256, seed: int = 0, quiet: bool = False, device: str = "auto") -> dict:
    """The secret after each attack on the sound stego file, beside the whole stego's reveal of the same part:
    SNR for a sound secret, PSNR for a picture (on its columns as stretched over the cover's frames)."""
    import soundfile as sf

    from ..api import load
    from ..pairings.audio import hide_audio, reveal_audio
    from ..pairings.kinds import pairing_of, shipped_model

    todo = parse_sound_attacks(attacks)
    check_side(size, "--size")
    pairing = pairing_of(*pairs[0])
    if pairing not in ("audio-in-audio", "image-in-audio"):
        raise ExypnoError(f"--attack on sound stegos is for a sound cover; these pairs are {pairing.replace('-', ' ')}")
    make_folder(out)
    stego_model = load(model or shipped_model(pairing), device)
    name = stego_model.card.get("spectrogram", "complex")
    spec, secret_grid = audio.SPECTROGRAMS[name], audio.secret_grid(name)
    per_frame = getattr(secret_grid, "carried", spec.hop)
    rng = np.random.default_rng(seed)
    per = {a.name: [] for a in todo}
    refused = {a.name: 0 for a in todo}
    edges = [[] for _ in range(EDGE_COLUMNS)]
    for i, (cover_path, secret_path) in enumerate(pairs):
        if pairing_of(cover_path, secret_path) != pairing:
            raise ExypnoError(f"{cover_path} + {secret_path}: every pair must be {pairing.replace('-', ' ')}")
        cover = audio.read_audio(cover_path)[: int(seconds * audio.SAMPLE_RATE)]
        audio.write_wav16(out / f"{i:03d}.cover.wav", cover, force=True)
        if pairing == "audio-in-audio":
            truth = audio.pcm16_values(audio.read_audio(secret_path)[: len(cover)])
            audio.write_wav16(out / f"{i:03d}.secret.wav", truth, force=True)
            secret_file, revealed_name = out / f"{i:03d}.secret.wav", "revealed.wav"
        else:
            picture = square(read_image(secret_path), size) if size else read_image(secret_path)
            secret_file, revealed_name = write_png(out / f"{i:03d}.secret.png", picture, force=True), "revealed.png"
        stego_file = out / f"{i:03d}.stego.wav"
        hide_audio(stego_model, out / f"{i:03d}.cover.wav", secret_file, stego_file, force=True)
        whole = reveal_audio(stego_model, stego_file, out / f"{i:03d}.whole.{revealed_name}", force=True)
        if pairing == "image-in-audio":  # the picture as hidden: stretched over the cover's frames
            truth = resize(picture, spec.bins, whole.shape[1])
        samples, _ = sf.read(str(stego_file), dtype="int16")
        for attack in todo:
            attacked, start = attack(samples, rng)
            attacked_file = out / f"{i:03d}.attacked.wav"
            sf.write(str(attacked_file), attacked, audio.SAMPLE_RATE, subtype="PCM_16")
            try:
                revealed = reveal_audio(stego_model, attacked_file, out / f"{i:03d}.{revealed_name}", force=True)
            except ExypnoError:
                refused[attack.name] += 1
                continue
            if pairing == "audio-in-audio":
                at = carried(start, len(attacked), spec.hop, per_frame)
                kept = at < len(truth)  # a secret shorter than its cover: the rest is silence
                if kept.sum() < MIN_SECRET:
                    continue
                at, part = at[kept], revealed[: len(at)][kept]
                figure, clean = snr(truth[at], part), snr(truth[at], whole[at])
            else:
                first = -(-start // spec.hop)  # the first whole frame kept
                same = slice(first, first + revealed.shape[1])
                figure = float(psnr_from_mse(mse_8bit(truth[:, same], revealed)))
                clean = float(psnr_from_mse(mse_8bit(truth[:, same], whole[:, same])))
                if attack.kind == "cut":  # column by column: how much worse than the whole, by distance to a cut
                    def column_mse(x):
                        return ((x.astype(float) - truth[:, same].astype(float)) ** 2).mean(axis=(0, 2))

                    lost = 10 * np.log10(np.maximum(column_mse(revealed), 1e-10) / np.maximum(column_mse(whole[:, same]), 1e-10))
                    distance = np.minimum(np.arange(len(lost)), np.arange(len(lost))[::-1])
                    for d in range(EDGE_COLUMNS):
                        edges[d].extend(lost[distance == d])
            per[attack.name].append({"secret": float(figure), "clean": float(clean)})
    table = {}
    for attack_name, rows in per.items():
        entry = {"n": len(rows), "refused": refused[attack_name]}
        if rows:
            entry.update(secret=float(np.mean([r["secret"] for r in rows])),
                         secret_worst=float(min(r["secret"] for r in rows)),
                         clean=float(np.mean([r["clean"] for r in rows])))
        table[attack_name] = entry
    result = {"model": str(model or shipped_model(pairing)), "pairing": pairing, "pairs": len(pairs),
              "seconds": seconds, "seed": seed, "unit": "SNR" if pairing == "audio-in-audio" else "PSNR",
              "attacks": table}
    if edges[0]:  # a picture's cuts: dB under the whole stego's reveal, by columns from the cut
        result["cut_edge_columns_lost"] = [round(float(np.mean(e)), 2) for e in edges]
    (out / "attacks.json").write_text(json.dumps(result, indent=2) + "\n")
    if not quiet:
        print(format_sound_attack_table(result))
        print(f"wrote {out / 'attacks.json'}")
    return result


def format_sound_attack_table(result: dict) -> str:
    lines = [f"{result['model']} ({result['pairing'].replace('-', ' ')}): {result['pairs']} pairs; secret "
             f"{result['unit']} (dB) revealed from the attacked stego file, and from the whole one on the same part",
             f"{'attack':<14}{'revealed':>9}{'refused':>9}{'secret':>9}{'worst':>9}{'whole':>9}{'lost':>7}"]
    for name, r in result["attacks"].items():
        if "secret" in r:
            lines.append(f"{name:<14}{r['n']:>9}{r['refused']:>9}{r['secret']:>9.2f}{r['secret_worst']:>9.2f}"
                         f"{r['clean']:>9.2f}{r['clean'] - r['secret']:>7.2f}")
        else:
            lines.append(f"{name:<14}{r['n']:>9}{r['refused']:>9}{'':>9}{'':>9}{'':>9}{'':>7}")
    if "cut_edge_columns_lost" in result:
        lines.append("cut pictures, dB under the whole stego's reveal by columns from the cut (0, 1, ...): "
                     + ", ".join(f"{v:.2f}" for v in result["cut_edge_columns_lost"]))
    return "\n".join(lines)

"""``exypno evaluate`` for the audio pairings: every figure after the real file round trip.

Each pair goes cover + secret -> stego file on disk (16-bit WAV, or PNG for audio in image) -> read back ->
reveal -> revealed file on disk -> read back. Sounds are cut to ``seconds`` first (the secret to the cover's
length for audio in audio), so a pair is one clip of each.

- Sound vs sound: SNR over the clip, and segmental SNR (16 ms frames, each clamped to [-10, 35] dB, over
  the frames that are not silence); for speech secrets also STOI (``pystoi``, intelligibility, 0 to 1)
  and wide-band PESQ (``pesq``, quality, MOS 1 to 4.6), both installed with the ``test`` extra.
- Image vs image: PSNR and SSIM of the 8-bit pictures.
- A figure: cover, stego and their difference (x10) as spectrograms or pictures; secret and revealed.
"""
from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import numpy as np

from ..errors import ExypnoError
from ..media import audio
from ..media.files import make_folder
from ..media.folders import list_photos, list_sounds
from ..media.image import check_side, read_image, square, write_png
from ..media.metrics import mse_8bit, psnr_from_mse, ssim_8bit

FRAME = 256  # 16 ms at 16 kHz, for segmental SNR
SPEECH = "speech*"  # file names of speech secrets (scripts/install-audio names its speech clips so)


def snr(ref: np.ndarray, est: np.ndarray) -> float:
    err = float(np.sum((ref - est) ** 2))
    return 10 * np.log10(max(float(np.sum(ref**2)), 1e-20) / max(err, 1e-20))


def segmental_snr(ref: np.ndarray, est: np.ndarray, frame: int = FRAME) -> float:
    n = len(ref) // frame
    if n == 0:
        return snr(ref, est)
    r = ref[: n * frame].reshape(n, frame)
    e = (ref[: n * frame] - est[: n * frame]).reshape(n, frame)
    power = (r**2).mean(1)
    keep = power > 1e-8  # -80 dBFS: silence has no SNR worth averaging
    if not keep.any():
        return float("nan")
    seg = 10 * np.log10(power[keep] / np.maximum((e[keep] ** 2).mean(1), 1e-20))
    return float(np.clip(seg, -10, 35).mean())


def stoi(ref: np.ndarray, est: np.ndarray) -> float | None:
    try:
        from pystoi import stoi as _stoi
    except ImportError:
        return None
    return float(_stoi(ref, est, audio.SAMPLE_RATE, extended=False))


def pesq_wb(ref: np.ndarray, est: np.ndarray) -> float | None:
    """Wide-band PESQ (ITU-T P.862.2) at 16 kHz; None without ``pesq``, or where it finds no speech."""
    try:
        from pesq import PesqError, pesq
    except ImportError:
        return None
    try:
        return float(pesq(audio.SAMPLE_RATE, ref.astype(np.float64), est.astype(np.float64), "wb"))
    except (PesqError, ValueError):  # no utterance in the reference, too short, or a silent estimate (NaN)
        return None


def _sounds_or_images(folder: Path) -> list[Path]:
    return list_sounds(folder) or list_photos(folder)


def sound_pairs(covers: Path, secrets: Path) -> list[tuple[Path, Path]]:
    from .report import pair_files

    return pair_files(covers, secrets, _sounds_or_images, what="sounds or images")


def evaluate_audio_pairs(pairs, out: Path, model=None, seconds: float = 4.0, size: int = 256,
                         force: bool = False, quiet: bool = False, figure_rows: int = 3,
                         speech: str = SPEECH, device: str = "auto") -> dict:
    """Run every pair through files in ``out``; write results.json and figure.png; return the summary.
    Sound secrets whose file name matches the pattern ``speech`` are scored as speech too (STOI, PESQ)."""
    from ..api import load
    from ..pairings.audio import hide_audio, image_capacity_frames, reveal_audio
    from ..pairings.kinds import pairing_of, shipped_model

    check_side(size, "--size")
    make_folder(out)
    pairing = pairing_of(*pairs[0])
    if pairing == "image-in-image":
        raise ExypnoError("no sound in these pairs: image-in-image pairs use the image evaluation")
    stego_model = load(model or shipped_model(pairing), device)
    samples = int(seconds * audio.SAMPLE_RATE)
    secret_kind, cover_kind = pairing.split("-in-")
    per_pair, rows = [], []
    for i, (cover_path, secret_path) in enumerate(pairs):
        if pairing_of(cover_path, secret_path) != pairing:
            raise ExypnoError(f"{cover_path} + {secret_path}: every pair must be {pairing.replace('-', ' ')}")
        stem = f"{i:03d}_{Path(cover_path).stem}__{Path(secret_path).stem}"
        # the inputs as hidden: sounds cut to `seconds` (a secret sound in a sound: to the cover's length)
        inputs, files = {}, {}
        for role, path, kind in (("cover", cover_path, cover_kind), ("secret", secret_path, secret_kind)):
            f = files[role] = out / f"{stem}.{role}.{'wav' if kind == 'audio' else 'png'}"
            if kind == "audio":
                x = audio.read_audio(path)[:samples]
                if role == "secret" and cover_kind == "audio":
                    x = x[: len(inputs["cover"])]
                if role == "secret" and cover_kind == "image":
                    h, w = inputs["cover"].shape[:2]
                    x = x[: audio.Spectrogram().samples(image_capacity_frames(h, w))]
                audio.write_wav16(f, x, force=True)
                inputs[role] = audio.pcm16_values(x)
            else:
                img = square(read_image(path), size)
                write_png(f, img, force=True)
                inputs[role] = img
        stego_file = out / f"{stem}.stego.{'wav' if cover_kind == 'audio' else 'png'}"
        revealed_file = out / f"{stem}.revealed.{'wav' if secret_kind == 'audio' else 'png'}"
        hide_audio(stego_model, files["cover"], files["secret"], stego_file, force=force)
        reveal_size = None
        if pairing == "image-in-audio":
            reveal_size = (inputs["secret"].shape[1], inputs["secret"].shape[0])
        reveal_audio(stego_model, stego_file, revealed_file, force=force, size=reveal_size)
        record, read_back = {"cover": str(cover_path), "secret": str(secret_path)}, {}
        for role, kind, made in (("cover", cover_kind, stego_file), ("secret", secret_kind, revealed_file)):
            ref = inputs[role]
            if kind == "audio":
                est = audio.read_audio(made)[: len(ref)]
                est = np.pad(est, (0, len(ref) - len(est)))
                record[f"{role}_snr"] = snr(ref, est)
                record[f"{role}_segsnr"] = segmental_snr(ref, est)
                if role == "secret" and fnmatch.fnmatch(Path(secret_path).name, speech):
                    record["secret_stoi"] = stoi(ref, est)
                    record["secret_pesq"] = pesq_wb(ref, est)
            else:
                est = read_image(made)
                record[f"{role}_psnr"] = float(psnr_from_mse(mse_8bit(ref, est)))
                record[f"{role}_ssim"] = ssim_8bit(ref, est)
            read_back[role] = est
        per_pair.append(record)
        if len(rows) < figure_rows:
            rows.append((inputs["cover"], read_back["cover"], inputs["secret"], read_back["secret"], record))
    summary = summarize_audio(per_pair)
    summary.update(model=str(model or shipped_model(pairing)), pairing=pairing, seconds=seconds)
    (out / "results.json").write_text(json.dumps({"summary": summary, "pairs": per_pair}, indent=2) + "\n")
    audio_figure(rows, out / "figure.png", title=f"{summary['model']}: {pairing.replace('-', ' ')}")
    if not quiet:
        print(format_audio_table(summary))
        print(f"wrote {out / 'results.json'} and {out / 'figure.png'}")
    return summary


def summarize_audio(per_pair: list[dict]) -> dict:
    out = {"pairs": len(per_pair)}
    keys = sorted({k for p in per_pair for k, v in p.items() if isinstance(v, float)})
    for k in keys:
        v = np.array([p[k] for p in per_pair if p.get(k) is not None], dtype=float)
        v = v[np.isfinite(v)]
        if len(v):
            out[k] = {"mean": float(v.mean()), "worst": float(v.min()), "n": int(len(v))}
    return out


def format_audio_table(summary: dict) -> str:
    lines = [f"{summary.get('model', '')}: {summary['pairs']} pairs ({summary.get('pairing', '')}), after the real "
             "file round trip", f"{'figure':18}{'mean':>9}{'worst':>9}{'n':>5}"]
    for k, v in summary.items():
        if isinstance(v, dict):
            unit = "" if k.endswith(("ssim", "stoi", "pesq")) else " dB"
            lines.append(f"{k + unit:18}{v['mean']:>9.3f}{v['worst']:>9.3f}{v['n']:>5}")
    return "\n".join(lines)


def _spectrogram_db(x: np.ndarray) -> np.ndarray:
    from scipy.signal import stft

    _, _, z = stft(x, fs=audio.SAMPLE_RATE, nperseg=510, noverlap=510 - 128)
    return 20 * np.log10(np.abs(z) + 1e-7)


def audio_figure(rows, path: Path, title: str) -> Path:
    """Per pair: cover, stego, |stego - cover| x10; secret, revealed (spectrograms for sounds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not rows:
        return path
    fig, axes = plt.subplots(len(rows), 5, figsize=(17, 2.9 * len(rows)), squeeze=False)
    for r, (cover, stego, secret, revealed, record) in enumerate(rows):
        cells = [("cover", cover), ("stego", stego), ("difference x10", None), ("secret", secret),
                 ("revealed", revealed)]
        for c, (name, x) in enumerate(cells):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if name == "difference x10":
                x = (stego - cover) * 10 if cover.ndim == 1 else None
                if x is None:
                    diff = np.clip(np.abs(stego.astype(float) - cover.astype(float)) * 10, 0, 255).astype(np.uint8)
                    ax.imshow(diff)
                    ax.set_title(name, fontsize=9)
                    continue
            if x.ndim == 1:
                ax.imshow(_spectrogram_db(x), origin="lower", aspect="auto", vmin=-100, vmax=0, cmap="magma")
            else:
                ax.imshow(x)
            label = name
            if name == "stego":
                label += "  " + ", ".join(f"{k.split('_')[1]} {v:.1f}" for k, v in record.items()
                                          if k.startswith("cover_") and k.endswith(("snr", "psnr")))
            if name == "revealed":
                label += "  " + ", ".join(f"{k.split('_')[1]} {v:.1f}" for k, v in record.items()
                                          if k.startswith("secret_") and k.endswith(("snr", "psnr")))
            ax.set_title(label, fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path

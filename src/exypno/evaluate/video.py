"""``exypno evaluate`` for video: per-frame figures through the real lossless stego file.

Each pair (a cover video with a secret video, image or sound) goes cover -> stego .mkv on disk -> reveal ->
revealed .mkv (for an image secret, the average of the frames' reveals as a .png; for a sound, a .wav) on
disk -> read back.

Per pair: cover and secret PSNR/SSIM per frame (mean and worst frame; for a sound, the secret's SNR and
segmental SNR over its length), frames per second of hiding, and the process's peak memory (resident set
size) after it; a figure shows the first, middle and last frames of picture secrets.
"""
from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np

from ..media import audio, video
from ..media.files import make_folder
from ..media.folders import list_photos, list_sounds, list_videos
from ..media.image import read_image, resize
from ..media.metrics import psnr_8bit, ssim_8bit
from .figures import comparison_figure


def _stats(values: list[float]) -> dict:
    v = np.array(values, float)
    return {"mean": float(v.mean()), "worst": float(v.min())}


def video_pairs(covers: Path, secrets: Path) -> list[tuple[Path, Path]]:
    """Cover videos with secret videos, images or sounds, i-th with i-th by name; a folder with itself: i hides
    i+1."""
    from .report import pair_files

    def secrets_of(folder):
        if not Path(folder).is_dir():
            return [Path(folder)]
        return list_videos(folder) or list_photos(folder) or list_sounds(folder)

    return pair_files(covers, secrets, list_videos, secrets_of, what="videos")


def evaluate_video_pairs(pairs, out: Path, model: str | None = None, force: bool = False,
                         quiet: bool = False, device: str = "auto") -> dict:
    """``model``: for every pair; by default, the shipped model of each pair's pairing. ``device``: auto, cpu or cuda."""
    from ..api import load
    from ..pairings import hide_file, pairing_of, reveal_file, shipped_model
    from ..pairings.kinds import kind
    from .audio import segmental_snr, snr

    make_folder(out)
    records, figure_rows = [], []
    for i, (cover, secret) in enumerate(pairs):
        stego_model = load(model or shipped_model(pairing_of(cover, secret)), device)
        info = video.probe(cover)
        stem = f"{i:03d}_{Path(cover).stem}__{Path(secret).stem}"
        stego_file = out / f"{stem}.stego.mkv"
        secret_kind = kind(secret)
        secret_is_video = secret_kind == "video"
        revealed_file = out / f"{stem}.revealed.{ {'video': 'mkv', 'audio': 'wav'}.get(secret_kind, 'png') }"
        t0 = time.perf_counter()
        hide_file(stego_model, Path(cover), secret, stego_file, force=force)
        hide_seconds = time.perf_counter() - t0
        reveal_file(stego_model, stego_file, revealed_file, force=force)
        cover_psnr, cover_ssim, secret_psnr, secret_ssim = [], [], [], []
        wanted = {0, info.frames // 2, info.frames - 1}
        secret_frames = video.frames(Path(secret)) if secret_is_video else None
        revealed_frames = video.frames(revealed_file) if secret_is_video else None
        image = resize(read_image(secret), info.height, info.width) if secret_kind == "image" else None
        for n, (c, s) in enumerate(zip(video.frames(Path(cover)), video.frames(stego_file))):
            cover_psnr.append(psnr_8bit(c, s))
            cover_ssim.append(ssim_8bit(c, s))
            x = r = None
            if secret_is_video:
                x, r = next(secret_frames, None), next(revealed_frames, None)
                if x is not None and r is not None:
                    x = resize(x, info.height, info.width)
                    secret_psnr.append(psnr_8bit(x, r))
                    secret_ssim.append(ssim_8bit(x, r))
            if (n in wanted and len(figure_rows) < 6 and secret_kind != "audio"
                    and (not secret_is_video or (x is not None and r is not None))):
                rev = r if secret_is_video else stego_model.reveal(s, align=False)
                sec = x if secret_is_video else image
                figure_rows.append(dict(cover=c, stego=s, secret=sec, revealed=rev,
                                        label=f"{Path(cover).stem} frame {n}"))
        record = {"cover": str(cover), "secret": str(secret), "frames": len(cover_psnr),
                  "hide_fps": len(cover_psnr) / hide_seconds,
                  "cover_psnr": _stats(cover_psnr), "cover_ssim": _stats(cover_ssim)}
        if secret_is_video:
            record.update(secret_psnr=_stats(secret_psnr), secret_ssim=_stats(secret_ssim))
        elif secret_kind == "audio":  # over the secret's length (the reveal ends with a whole frame's piece)
            x, got = audio.read_audio(Path(secret)), audio.read_audio(revealed_file)
            r = np.zeros_like(x)
            r[: min(len(x), len(got))] = got[: len(x)]
            record.update(secret_snr=snr(x, r), secret_segsnr=segmental_snr(x, r),
                          secret_seconds=len(x) / audio.SAMPLE_RATE, revealed_seconds=len(got) / audio.SAMPLE_RATE)
        else:  # one image: the averaged reveal
            revealed = read_image(revealed_file)
            record.update(secret_psnr={"averaged": float(psnr_8bit(image, revealed))},
                          secret_ssim={"averaged": float(ssim_8bit(image, revealed))})
        records.append(record)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {"model": str(model or "shipped"), "pairs": records, "peak_rss_mb": peak_mb}
    (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    if figure_rows:
        comparison_figure(figure_rows, out / "figure.png", title=f"{model}: video frames after the lossless round trip")
    if not quiet:
        print(format_video_table(summary))
        print(f"wrote {out / 'results.json'}" + (f" and {out / 'figure.png'}" if figure_rows else ""))
    return summary


def format_video_table(summary: dict) -> str:
    lines = [f"{summary['model']}: per-frame figures after the lossless FFV1 round trip "
             f"(peak memory {summary['peak_rss_mb']:.0f} MB)",
             f"{'pair':<36}{'frames':>7}{'fps':>7}{'cover PSNR':>12}{'worst':>8}{'SSIM':>8}"
             f"{'secret PSNR':>13}{'worst':>8}{'SSIM':>8}"]
    for r in summary["pairs"]:
        name = f"{Path(r['cover']).stem} + {Path(r['secret']).stem}"[:35]
        if "secret_snr" in r:  # a sound: SNR and segmental SNR in dB
            secret = f"{r['secret_snr']:>9.2f} SNR{'':>8}{r['secret_segsnr']:>8.2f}"
        else:
            sp, ss = r["secret_psnr"], r["secret_ssim"]
            secret = (f"{sp['mean']:>13.2f}{sp['worst']:>8.2f}{ss['mean']:>8.4f}" if "mean" in sp
                      else f"{sp['averaged']:>13.2f}{'(avg)':>8}{ss['averaged']:>8.4f}")
        lines.append(f"{name:<36}{r['frames']:>7}{r['hide_fps']:>7.2f}{r['cover_psnr']['mean']:>12.2f}"
                     f"{r['cover_psnr']['worst']:>8.2f}{r['cover_ssim']['mean']:>8.4f}{secret}")
    return "\n".join(lines)

"""Hiding in video with the image networks, frame by frame (the paper's image->video and video->video).

- video in video: secret frame i goes into cover frame i. The stego keeps the cover's size, frame rate,
  frame count and audio. A secret with more frames than the cover is refused before any work; a shorter
  one leaves the remaining cover frames carrying black. Secret frames are taken in order whatever their
  frame rate, and are resized to the cover's frame size.
- image in video: the same secret image goes into every frame; revealing to an image averages the frames'
  reveals, which averages out what each frame got wrong.
- audio in video: the audio-in-image model on every frame. The secret sound is cut into pieces of
  ``samples_per_frame`` (what one frame's 256-row bands hold, as in audio in image: 5.1 s for a 640x360
  frame), piece i into frame i, each piece turned into its own STFT grid so that every frame stands alone.
  Frames after the secret carry silence; the reveal keeps the sound up to the last frame whose piece is
  louder than ``SILENCE_DB``, so it gives back the secret's length to within one piece.
- ``key``: optional keyed block shuffling of the secret image or video (see media/shuffle.py).

Memory holds a frame at a time (plus the running sum for an averaged reveal, or the secret sound).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..errors import ExypnoError
from ..media import audio, video
from ..media.image import check_output, read_image, resize, write_png
from ..media.shuffle import shuffle_blocks, unshuffle_blocks
from .audio import RATE, _ready, hide_grid_in_image, image_capacity_frames, reveal_grid_from_image
from .kinds import check_model, is_video

# dBFS RMS: a revealed piece below this is taken for the silence after the secret. Hidden silence reveals at
# -52 to -62 dBFS with the shipped audio-in-image model (4 held-out photos at 640x360), secrets are trained
# at -32 to -12 dBFS: -45 leaves 7 dB on one side and 13 on the other.
SILENCE_DB = -45.0


def hide_in_video(stego_model, cover: Path, secret, output: Path, key: str | None = None, force: bool = False,
                  progress: bool = False) -> list[str]:
    """Hide a video or an image in the video ``cover``; write the stego .mkv; return notes for the user."""
    check_model(stego_model, "image-in-video")
    info = video.probe(cover)
    video.check_stego_output(output, force)
    notes = []
    if is_video(secret):
        secret_info = video.probe(secret)
        if secret_info.frames > info.frames:
            raise ExypnoError(f"{secret}: the secret has {secret_info.frames} frames, the cover only {info.frames}")
        if secret_info.frames < info.frames:
            notes.append(f"the secret has {secret_info.frames} frames: cover frames after that carry black")
        if (secret_info.width, secret_info.height) != (info.width, info.height):
            notes.append(f"secret frames resized from {secret_info.width}x{secret_info.height} to "
                         f"{info.width}x{info.height}")
        secret_frames = video.frames(secret)
    else:
        image = read_image(secret)
        if image.shape[:2] != (info.height, info.width):
            notes.append(f"secret resized from {image.shape[1]}x{image.shape[0]} to {info.width}x{info.height}")
        image = resize(image, info.height, info.width)
        secret_frames = (image for _ in range(info.frames))
    black = np.zeros((info.height, info.width, 3), np.uint8)
    with video.VideoWriter(output, info.width, info.height, info.fps, audio_from=cover, force=force) as writer:
        for cover_frame in tqdm(video.frames(cover), total=info.frames, disable=not progress, unit="frame"):
            s = next(secret_frames, None)
            s = black if s is None else resize(s, info.height, info.width)
            if key:
                s = shuffle_blocks(s, key)
            writer.write(stego_model.hide(cover_frame, s))
    return notes


def reveal_from_video(stego_model, stego: Path, output: Path, key: str | None = None, force: bool = False,
                      progress: bool = False) -> np.ndarray | None:
    """Reveal every frame into a video (.mkv), or average the frames' reveals into one image (.png, returned)."""
    check_model(stego_model, "image-in-video")
    info = video.probe(stego)
    to_image = Path(output).suffix.lower() == ".png"
    if to_image:
        check_output(output, force)
    else:
        video.check_stego_output(output, force)
    # Frames of a lossless stego video keep their grid: no alignment search per frame (it would cost 16 reveals).
    revealed_frames = (stego_model.reveal(f, align=False) for f in
                       tqdm(video.frames(stego), total=info.frames, disable=not progress, unit="frame"))
    if to_image:
        total, count = None, 0
        for r in revealed_frames:
            total = r.astype(np.float64) if total is None else total + r
            count += 1
        mean = np.round(total / max(count, 1)).astype(np.uint8)
        mean = unshuffle_blocks(mean, key) if key else mean
        write_png(output, mean, force)
        return mean
    with video.VideoWriter(output, info.width, info.height, info.fps, force=force) as writer:
        for r in revealed_frames:
            writer.write(unshuffle_blocks(r, key) if key else r)


def samples_per_frame(spec: audio.Spectrogram, height: int, width: int) -> int:
    """Samples of secret sound one frame carries: as many STFT frames as its 256-row bands have columns."""
    frames = image_capacity_frames(height, width)
    return spec.samples(frames) if frames else 0


def _audio_capacity(spec, info: video.VideoInfo, path) -> int:
    piece = samples_per_frame(spec, info.height, info.width)
    if not piece:
        raise ExypnoError(f"{path}: its {info.width}x{info.height} frames are under 256 pixels tall, so they "
                          "carry no audio")
    return piece


def hide_audio_in_video(stego_model, cover: Path, secret: Path, output: Path, force: bool = False,
                        progress: bool = False) -> list[str]:
    """Hide the sound ``secret`` in the video ``cover`` with an audio-in-image model; return notes."""
    spec, _ = _ready(stego_model, "audio-in-video", "receiver", "hide")
    info = video.probe(cover)
    video.check_stego_output(output, force)
    piece = _audio_capacity(spec, info, cover)
    wave = audio.read_audio(Path(secret))
    used = -(-len(wave) // piece)
    if used > info.frames:
        raise ExypnoError(f"{secret}: {len(wave) / RATE:.2f} s of audio; this cover's {info.frames} frames carry "
                          f"at most {info.frames * piece / RATE:.2f} s")
    silence = spec.to_tensor(torch.zeros(1, piece))  # the grid of every frame after the secret, made once
    with video.VideoWriter(output, info.width, info.height, info.fps, audio_from=cover, force=force) as writer:
        for i, cover_frame in enumerate(tqdm(video.frames(cover), total=info.frames, disable=not progress,
                                             unit="frame")):
            grid = silence
            if i < used:
                chunk = np.zeros(piece, np.float32)
                part = wave[i * piece : (i + 1) * piece]
                chunk[: len(part)] = part
                grid = spec.to_tensor(torch.from_numpy(chunk)[None])
            writer.write(hide_grid_in_image(stego_model, cover_frame, grid))
    return [f"the secret's {len(wave) / RATE:.2f} s fill {used} of the cover's {info.frames} frames "
            f"({piece / RATE:.2f} s each); the frames after it carry silence"]


def reveal_audio_from_video(stego_model, stego: Path, output: Path, force: bool = False,
                            progress: bool = False) -> None:
    """Reveal the sound of an audio-in-video stego into a 16 kHz WAV, up to the last frame that is not silent."""
    spec, _ = _ready(stego_model, "audio-in-video", "sender", "reveal")
    info = video.probe(stego)
    audio.check_wav_output(output, force)
    piece = _audio_capacity(spec, info, stego)
    with audio.WavWriter(output, RATE, force) as wav:
        end = 0
        for frame in tqdm(video.frames(stego), total=info.frames, disable=not progress, unit="frame"):
            chunk = audio.pcm16_values(spec.to_wave(reveal_grid_from_image(stego_model, frame), piece)[0].numpy())
            wav.write(chunk)
            if 10 * np.log10(np.mean(np.square(chunk, dtype=np.float64)) + 1e-20) > SILENCE_DB:
                end = wav.samples
        if not end:
            raise ExypnoError(f"{stego}: every frame reveals silence: it carries no audio for this model")
        wav.truncate_to(end)

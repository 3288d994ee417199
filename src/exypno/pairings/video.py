"""Hiding in video with the image networks, frame by frame (the paper's image->video and video->video).

- video in video: secret frame i goes into cover frame i. The stego keeps the cover's size, frame rate,
  frame count and audio. A secret with more frames than the cover is refused before any work; a shorter
  one leaves the remaining cover frames carrying black. Secret frames are taken in order whatever their
  frame rate, and are resized to the cover's frame size.
- image in video: the same secret image goes into every frame; revealing to an image averages the frames'
  reveals, which averages out what each frame got wrong.
- ``key``: optional keyed block shuffling of the secret (see media/shuffle.py).

Memory holds a frame at a time (plus the running sum for an averaged reveal).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import ExypnoError
from ..media import video
from ..media.image import check_output, read_image, resize, write_png
from ..media.shuffle import shuffle_blocks, unshuffle_blocks


def is_video(path) -> bool:
    return isinstance(path, (str, Path)) and Path(path).suffix.lower() in video.VIDEO_SUFFIXES


def hide_in_video(stego_model, cover: Path, secret, output: Path, key: str | None = None, force: bool = False,
                  progress: bool = False) -> list[str]:
    """Hide a video or an image in the video ``cover``; write the stego .mkv; return notes for the user."""
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
                      progress: bool = False) -> None:
    """Reveal every frame into a video (.mkv), or average the frames' reveals into one image (.png)."""
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
        write_png(output, unshuffle_blocks(mean, key) if key else mean, force)
        return
    with video.VideoWriter(output, info.width, info.height, info.fps, force=force) as writer:
        for r in revealed_frames:
            writer.write(unshuffle_blocks(r, key) if key else r)

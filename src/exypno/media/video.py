"""Video files <-> streams of RGB frames, with PyAV (FFmpeg). Frames are decoded and encoded one at a
time, so memory does not grow with the length of a clip.

- ``probe``: size, frame rate, frame count, audio; a clear ``ExypnoError`` for anything unreadable, or over
  ``MAX_FRAMES`` frames or ``MAX_PIXELS`` a frame.
- ``frames``: iterate (H, W, 3) uint8 frames (held to the same limits as they come).
- ``VideoWriter``: lossless FFV1 in Matroska (bit-exact RGB), the cover's frame rate, and the cover's audio
  packets copied untouched (interleaved by time). The file appears under its name only when complete.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import ExypnoError, TooLarge
from . import files
from .audio import MAX_SECONDS
from .image import check_pixels

VIDEO_SUFFIXES = (".mkv", ".mp4", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ogv")
STEGO_SUFFIXES = (".mkv",)
MAX_FRAMES = MAX_SECONDS * 30  # 10 minutes at 30 frames a second; each frame is also held to MAX_PIXELS


def _too_many(path) -> ExypnoError:
    return TooLarge(f"{path}: over {MAX_FRAMES:,} frames; videos are at most {MAX_FRAMES:,} frames "
                       f"({MAX_SECONDS} s at 30 a second)")


def _open(path: Path):
    import av

    path = files.check_input(path)
    try:
        return av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise ExypnoError(f"{path}: not a video file Exypno can read ({str(e).splitlines()[0][:60]})") from None


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: Fraction
    frames: int
    has_audio: bool


def probe(path: Path) -> VideoInfo:
    """What a video holds; the frame count is counted from packets when the container does not say."""
    import av

    with _open(path) as container:
        if not container.streams.video:
            raise ExypnoError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        count = stream.frames
        width, height = stream.codec_context.width, stream.codec_context.height
        check_pixels(width, height, path)
        if count > MAX_FRAMES:
            raise _too_many(path)
        try:
            if not count:
                for p in container.demux(stream):
                    count += bool(p.size)
                    if count > MAX_FRAMES:
                        raise _too_many(path)
        except av.FFmpegError:
            raise ExypnoError(f"{path}: damaged or truncated video") from None
        return VideoInfo(width, height, Fraction(fps), int(count), bool(container.streams.audio))


def frames(path: Path) -> Iterator[np.ndarray]:
    import av

    with _open(path) as container:
        if not container.streams.video:
            raise ExypnoError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for n, frame in enumerate(container.decode(stream)):
                if n >= MAX_FRAMES:
                    raise _too_many(path)
                check_pixels(frame.width, frame.height, path)
                yield frame.to_ndarray(format="rgb24")
        except av.FFmpegError:
            raise ExypnoError(f"{path}: damaged or truncated video") from None


def check_stego_output(path: Path, force: bool) -> Path:
    path = Path(path)
    if path.suffix.lower() not in STEGO_SUFFIXES:
        raise ExypnoError(f"{path}: stego videos are written as lossless FFV1 in .mkv only (a lossy codec would "
                          "destroy the hidden secret); use a .mkv name")
    return files.check_output(path, force)


class VideoWriter(files.AtomicWriter):
    """Write RGB frames as FFV1 (lossless) in .mkv at ``fps``, copying the audio of ``audio_from``."""

    def __init__(self, path: Path, width: int, height: int, fps: Fraction, audio_from: Path | None = None,
                 force: bool = False):
        import av

        super().__init__(check_stego_output(path, force), ".mkv", force)
        self._out = av.open(self._tmp, mode="w", format="matroska")
        self._video = self._out.add_stream("ffv1", rate=fps)
        self._video.width, self._video.height = width, height
        self._video.pix_fmt = "bgr0"  # FFV1 stores RGB losslessly in this layout
        self._video.codec_context.time_base = 1 / Fraction(fps)
        self._index = 0
        self._audio_in = None
        self._pending = None
        if audio_from is not None:
            src = av.open(str(audio_from))
            if src.streams.audio:
                self._audio_in = src
                self._audio_src = src.streams.audio[0]
                self._audio_out = self._out.add_stream_from_template(self._audio_src)
                self._packets = (p for p in src.demux(self._audio_src) if p.dts is not None)
            else:
                src.close()

    def _mux_audio_until(self, seconds: float | None) -> None:
        """Copy audio packets up to ``seconds`` (all when None), keeping streams interleaved by time."""
        if self._audio_in is None:
            return
        while True:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None:
                return
            if seconds is not None and float(packet.dts * packet.time_base) > seconds:
                self._pending = packet
                return
            packet.stream = self._audio_out
            self._out.mux(packet)

    def write(self, rgb: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(format="bgr0")
        frame.pts = self._index
        self._index += 1
        self._mux_audio_until(float(self._index / self._video.codec_context.time_base.denominator
                                    * self._video.codec_context.time_base.numerator))
        for packet in self._video.encode(frame):
            self._out.mux(packet)

    def _finish(self, ok: bool) -> None:
        if ok:
            for packet in self._video.encode():
                self._out.mux(packet)
            self._mux_audio_until(None)
        self._out.close()
        if self._audio_in is not None:
            self._audio_in.close()

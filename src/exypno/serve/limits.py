"""What the server refuses, and how many model jobs it runs at once.

Every limit is a flag of ``exypno serve``. A request's body is refused from its ``Content-Length`` before it is
read (``upload_mb``); an image's pixels, a sound's seconds and a video's frames are read from the file's header
(``exypno.api.measure``) before any model sees it. Model jobs run in a pool of ``jobs`` threads: more requests
queue, so that fifty clients cost fifty uploads of memory, not fifty models running at once. A request that
waits and runs longer than ``timeout`` seconds is answered 504; its job finishes in the pool (a thread cannot
be stopped), then its files are removed.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import ExypnoError, TooLarge
from ..media.image import MAX_PIXELS


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@dataclass(frozen=True)
class Limits:
    upload_mb: float = 25.0  # the whole request body
    pixels: int = MAX_PIXELS  # an image, or a video's frame (the library's own bound)
    audio_seconds: float = 600.0
    video_frames: int = 1800  # a minute at 30 frames per second
    timeout: float = 600.0  # seconds a request may wait and run
    jobs: int = 0  # model jobs at once; 0: one per core

    @property
    def upload_bytes(self) -> int:
        return int(self.upload_mb * 1_000_000)

    @property
    def workers(self) -> int:
        return self.jobs or default_jobs()

    def check(self, size: dict, field: str) -> None:
        """Refuse a file whose header (``exypno.api.measure``) says it is over a limit."""
        if size.get("pixels", 0) > self.pixels:
            raise TooLarge(f"{field}: {size['pixels']:,} pixels, over the server's limit of {self.pixels:,}")
        if size.get("seconds", 0) > self.audio_seconds:
            raise TooLarge(f"{field}: {size['seconds']:.1f} s of sound, over the server's limit of "
                           f"{self.audio_seconds:g} s")
        if size.get("frames", 0) > self.video_frames:
            raise TooLarge(f"{field}: {size['frames']:,} frames, over the server's limit of {self.video_frames:,}")


class Workdir:
    """A private temporary folder (mode 0700) for one request's files; ``ExypnoError`` messages from inside it
    name files as the client sent them (``cover/photo.png``), not by their place on the server."""

    def __init__(self):
        self.path = Path(tempfile.mkdtemp(prefix="exypno-serve-"))

    def put(self, field: str, filename: str | None, data: bytes) -> Path:
        """Write an upload as FIELD/NAME (its base name, or FIELD with no name)."""
        folder = self.path / field
        folder.mkdir()
        target = folder / (safe_name(filename) or field)
        target.write_bytes(data)
        return target

    def out(self, name: str) -> Path:
        return self.path / name

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def relative(self, error: ExypnoError) -> ExypnoError:
        prefix = f"{self.path}{os.sep}"
        error.args = tuple(a.replace(prefix, "") if isinstance(a, str) else a for a in error.args)
        return error


def safe_name(filename: str | None) -> str:
    """A client's file name as a base name only: never a path, never a hidden file, never empty."""
    name = Path((filename or "").replace("\\", "/")).name.lstrip(".")
    return "".join(c for c in name if c.isprintable() and c not in '/"')[:200]


class Jobs:
    """The pool that runs model jobs, ``Limits.workers`` at a time, each in its own ``Workdir``."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.pool = ThreadPoolExecutor(max_workers=limits.workers, thread_name_prefix="exypno-job")

    async def run(self, work):
        """``work(workdir)`` in the pool; its folder is removed when it ends, even after a timeout."""

        def job():
            workdir = Workdir()
            try:
                return work(workdir)
            except ExypnoError as e:
                raise workdir.relative(e) from None
            finally:
                workdir.remove()

        future = asyncio.get_running_loop().run_in_executor(self.pool, job)
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # a late job's error is not news
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.limits.timeout)
        except TimeoutError:
            raise JobTimeout(f"the job took over the server's limit of {self.limits.timeout:g} s") from None

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)  # the running finish (and clear their folders)


class JobTimeout(ExypnoError):
    """A request that waited and ran past ``Limits.timeout``."""

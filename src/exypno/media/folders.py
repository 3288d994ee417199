"""Folders of media: the one lister of photos, sounds and videos by suffix, and the held-out split.

The split is by file and deterministic (a hash of the file name), so a validation file is never trained on,
whatever order the files are listed in and however often training resumes.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .audio import AUDIO_SUFFIXES
from .video import VIDEO_SUFFIXES

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def list_files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Every file under ``folder`` (recursively) whose suffix is one of ``suffixes``, sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in suffixes and p.is_file())


def list_photos(folder: Path) -> list[Path]:
    return list_files(folder, IMAGE_SUFFIXES)


def list_sounds(folder: Path) -> list[Path]:
    return list_files(folder, AUDIO_SUFFIXES)


def list_videos(folder: Path) -> list[Path]:
    """The videos under ``folder``; a video file given as the folder is its own list."""
    folder = Path(folder)
    if folder.is_file():
        return [folder] if folder.suffix.lower() in VIDEO_SUFFIXES else []
    return list_files(folder, VIDEO_SUFFIXES)


def is_validation(path: Path, fraction: float) -> bool:
    """Stable split by file name: the same file is always on the same side."""
    h = int(hashlib.sha256(path.name.encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < fraction

"""Checks every media module makes on the files it reads and writes, in one place and one wording, and the
atomic writer that streams a file under a temporary name until it is whole."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import ExypnoError


def check_input(path) -> Path:
    """An existing, non-empty file (not a folder)."""
    path = Path(path)
    if not path.exists():
        raise ExypnoError(f"{path}: no such file")
    if path.is_dir():
        raise ExypnoError(f"{path}: is a folder, not a file")
    if path.stat().st_size == 0:
        raise ExypnoError(f"{path}: file is empty")
    return path


def check_output(path, force: bool) -> Path:
    """A file we may write: not there yet (or ``force``), not a folder, in a writable folder."""
    path = Path(path)
    if path.exists() and not force:
        raise ExypnoError(f"{path}: already exists (use --force to overwrite)")
    if path.is_dir():
        raise ExypnoError(f"{path}: is a folder")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ExypnoError(f"{parent}: folder does not exist")
    if not os.access(parent, os.W_OK):
        raise ExypnoError(f"{parent}: folder is not writable")
    return path


def publish(tmp, path) -> None:
    """Move a finished temporary file onto ``path`` with the permissions a plain ``open`` would give it
    (``mkstemp`` makes files only their owner can read)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def write_bytes(path, data: bytes, force: bool = False) -> Path:
    """Write ``data`` atomically: the file appears whole or not at all, never half-written."""
    import tempfile

    path = check_output(path, force)
    fd, tmp = tempfile.mkstemp(prefix=".exypno-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        publish(tmp, path)
    except OSError as e:
        raise ExypnoError(f"{path}: cannot write ({e.strerror or e})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


class AtomicWriter:
    """A file written piece by piece into a temporary file beside ``path``, which takes the name only when
    closed without error; otherwise it is removed. Subclasses open ``self._tmp`` and finish it in ``_finish``."""

    def __init__(self, path: Path, suffix: str):
        import tempfile

        self.path = path
        fd, self._tmp = tempfile.mkstemp(prefix=".exypno-", suffix=suffix, dir=path.parent)
        os.close(fd)

    def _finish(self, ok: bool) -> None:
        raise NotImplementedError

    def close(self, ok: bool = True) -> None:
        try:
            self._finish(ok)
            if ok:
                publish(self._tmp, self.path)
        finally:
            if os.path.exists(self._tmp):
                os.unlink(self._tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(ok=exc_type is None)
        return False

"""Checks every media module makes on the files it reads and writes, in one place and one wording, and the
atomic writer that streams a file under a temporary name until it is whole.

What writing promises (docs/limits.md):
- A file appears whole or not at all. It is written as ``.exypno-PID-*`` beside its name, and published by
  ``os.link``, which fails if the name has been taken meanwhile, so no file is replaced without ``force``
  (``os.replace`` is kept for ``force`` alone).
- ``force`` never replaces a file the same command has read (a cover, a secret, a stego being revealed), whatever
  name it is reached by (symlinks and hard links included): that would destroy the only copy. A command is
  ``one_command()``: ``cli.main`` runs each in one.
- A temporary file is registered before it is made, and removed on the way out of an error, an interrupt, or
  the process. One left by a process that was killed (``SIGKILL``) is removed by the next
  write to the same folder once that process is gone.
- A name chosen by someone else (the sender of a sealed file) goes through ``safe_name`` and is never written
  over an existing file: ``write_new`` picks a free name.
"""
from __future__ import annotations

import atexit
import contextlib
import contextvars
import errno
import os
import re
import secrets
import time
import unicodedata
from pathlib import Path

from ..errors import ExypnoError

MAX_NAME_BYTES = 255  # what Linux, macOS and Windows file systems allow in one name
SAFE_NAME_BYTES = 200  # a sender's name is cut to this, leaving room for " (2)" and a temporary prefix
TEMP_PREFIX = ".exypno-"
_STARTED = time.time()
# (device, inode) of every file the current command read through check_input; None outside a command
_inputs: contextvars.ContextVar[set | None] = contextvars.ContextVar("exypno_inputs", default=None)
_temporaries: set[str] = set()  # temporary files of this process not yet published or removed
_swept: set[str] = set()  # folders already rid of stale temporary files


def check_input(path) -> Path:
    """An existing, non-empty file (not a folder). It is remembered as an input: ``force`` never replaces it."""
    path = Path(path)
    try:
        if not path.exists():
            raise ExypnoError(f"{path}: no such file")
        if path.is_dir():
            raise ExypnoError(f"{path}: is a folder, not a file")
        stat = path.stat()
    except OSError as e:
        raise ExypnoError(f"{path}: cannot read ({e.strerror or e})") from None
    if stat.st_size == 0:
        raise ExypnoError(f"{path}: file is empty")
    remember_input(path)
    return path


@contextlib.contextmanager
def one_command():
    """The scope of one command (``cli.main``; a server's request): within it, the files it reads are its
    inputs, which ``force`` never replaces. Outside any, nothing is tracked."""
    token = _inputs.set(set())
    try:
        yield
    finally:
        _inputs.reset(token)


def remember_input(path) -> None:
    """Count ``path`` among the inputs of the current command (for a file read without ``check_input``)."""
    seen = _inputs.get()
    if seen is None:
        return
    try:
        stat = os.stat(path)
    except OSError:
        return
    seen.add((stat.st_dev, stat.st_ino))


def _is_input(path) -> bool:
    seen = _inputs.get()
    if not seen:
        return False
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return (stat.st_dev, stat.st_ino) in seen


def check_output(path, force: bool) -> Path:
    """A file we may write: not there yet (or ``force``, but never over an input), not a folder, its name not
    too long, in a writable folder."""
    path = Path(path)
    if len(os.fsencode(path.name)) > MAX_NAME_BYTES:
        raise ExypnoError(f"{str(path)[:60]}...: file name is longer than {MAX_NAME_BYTES} bytes")
    try:
        exists = path.exists()
        if path.is_dir():
            raise ExypnoError(f"{path}: is a folder")
        if exists and not force:
            raise ExypnoError(f"{path}: already exists (use --force to overwrite)")
        if exists and _is_input(path):
            raise ExypnoError(f"{path}: is an input of this command; it is not overwritten, even with --force")
        check_folder(path.parent)
    except OSError as e:
        raise _cannot_write(path, e) from None
    return path


def check_folder(folder) -> Path:
    """An existing folder we may write in."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ExypnoError(f"{folder}: folder does not exist")
    if not os.access(folder, os.W_OK):
        raise ExypnoError(f"{folder}: folder is not writable")
    return folder


def make_folder(folder) -> Path:
    """A folder to write results in, made if missing; a file in its way or no right to write is one error."""
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise ExypnoError(f"{folder}: exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _cannot_write(folder, e) from None
    return check_folder(folder)


@contextlib.contextmanager
def output_folder(folder):
    """``make_folder``, for a piece of work that may fail: a folder it made is removed again if the work fails
    and leaves it empty."""
    folder = Path(folder)
    made = not folder.exists()
    make_folder(folder)
    try:
        yield folder
    except BaseException:
        if made:
            try:
                folder.rmdir()  # only when empty
            except OSError:
                pass
        raise


def safe_name(name: str, default: str = "unsealed.bin") -> str:
    """A file name chosen by someone else, made safe to write here: its base name only, no control characters,
    no leading dot or dash (``_`` is put before them), at most ``SAFE_NAME_BYTES`` bytes (the suffix is kept)."""
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp")).strip()
    if name in ("", ".", ".."):
        return default
    if name[0] in ".-":
        name = "_" + name
    stem, suffix = os.path.splitext(name)
    if len(suffix.encode("utf-8", "replace")) > 16:
        stem, suffix = name, ""
    while len((stem + suffix).encode("utf-8", "replace")) > SAFE_NAME_BYTES:
        stem = stem[:-1]
    return (stem + suffix).encode("utf-8", "replace").decode("utf-8")


def _temporary(folder: Path, suffix: str = "") -> str:
    """A new empty temporary file in ``folder``, registered before it is made, so that a signal cannot come
    between the two (it may come in any thread). Stale ones of dead processes in the folder are removed first."""
    if str(Path(folder).resolve()) not in _swept:
        remove_stale(folder)
        _swept.add(str(Path(folder).resolve()))
    while True:
        tmp = os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}{suffix}")
        _temporaries.add(tmp)
        try:
            _create(tmp)
            return tmp
        except FileExistsError:
            _temporaries.discard(tmp)
        except BaseException:
            _discard(tmp)
            raise


def _create(path: str) -> None:
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    _temporaries.discard(tmp)


@atexit.register
def remove_temporaries() -> None:
    """Remove this process's temporary files that were neither published nor removed."""
    for tmp in list(_temporaries):
        if tmp.split(os.sep)[-1].startswith(f"{TEMP_PREFIX}{os.getpid()}-"):
            _discard(tmp)


def remove_stale(folder: Path) -> None:
    """Remove ``.exypno-PID-*`` files in ``folder`` older than this process whose process is gone (a killed
    write)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        m = re.fullmatch(re.escape(TEMP_PREFIX) + r"(\d+)-.*", entry.name)
        if not m or int(m.group(1)) == os.getpid():
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime >= _STARTED:
                continue
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            try:
                os.unlink(entry.path)
            except OSError:
                pass
        except OSError:  # alive under another user (EPERM), or the file went
            continue


def publish(tmp, path, force: bool = False) -> None:
    """Give a finished temporary file the name ``path``, with the permissions a plain ``open`` would give it
    (``mkstemp`` makes files only their owner can read). Without ``force`` by ``os.link``, which fails if the
    name exists, so a file another process wrote since the last check is never replaced; with ``force``,
    ``os.replace``, but never over an input of this process."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    path = Path(path)
    if force:
        if _is_input(path):
            raise ExypnoError(f"{path}: is an input of this command; it is not overwritten, even with --force")
        os.replace(tmp, path)
    else:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise ExypnoError(f"{path}: already exists (use --force to overwrite)") from None
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            _claim_and_replace(tmp, path)  # a file system without hard links
    _discard(tmp)


def _claim_and_replace(tmp, path: Path) -> None:
    """Publish without ``os.link``: claim the name with an exclusive create, then move the file onto it."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise ExypnoError(f"{path}: already exists (use --force to overwrite)") from None
    os.replace(tmp, path)


def _cannot_write(path, e: OSError) -> ExypnoError:
    if e.errno == errno.ENAMETOOLONG:
        return ExypnoError(f"{str(path)[:60]}...: file name too long")
    return ExypnoError(f"{path}: cannot write ({e.strerror or e})")


def write_bytes(path, data: bytes, force: bool = False) -> Path:
    """Write ``data`` atomically: the file appears whole or not at all, never half-written."""
    path = check_output(path, force)
    tmp = None
    try:
        tmp = _temporary(path.parent)
        with open(tmp, "wb") as f:
            f.write(data)
        publish(tmp, path, force)
    except OSError as e:
        raise _cannot_write(path, e) from None
    finally:
        if tmp is not None:
            _discard(tmp)
    return path


def write_new(folder, name: str, data: bytes) -> Path:
    """Write ``data`` as ``folder/name``, or, when that name is taken, the first free one of "NAME (2).EXT",
    "NAME (3).EXT", ... (``name`` should come through ``safe_name``). Never replaces a file. Returns the path."""
    folder = Path(folder)
    stem, suffix = os.path.splitext(name)
    candidates = [name] + [f"{stem} ({i}){suffix}" for i in range(2, 1000)]
    check_folder(folder)
    tmp = None
    try:
        tmp = _temporary(folder)
        with open(tmp, "wb") as f:
            f.write(data)
        for candidate in candidates:
            try:
                publish(tmp, folder / candidate)
                return folder / candidate
            except ExypnoError:
                continue
    except OSError as e:
        raise _cannot_write(folder / name, e) from None
    finally:
        if tmp is not None:
            _discard(tmp)
    raise ExypnoError(f"{folder / name}: that name and 998 others like it are taken")


class AtomicWriter:
    """A file written piece by piece into a temporary file beside ``path``, which takes the name only when
    closed without error; otherwise it is removed. Subclasses open ``self._tmp`` and finish it in ``_finish``."""

    def __init__(self, path: Path, suffix: str, force: bool = False):
        self.path = path
        self.force = force
        try:
            self._tmp = _temporary(path.parent, suffix)
        except OSError as e:
            raise _cannot_write(path, e) from None

    def _finish(self, ok: bool) -> None:
        raise NotImplementedError

    def close(self, ok: bool = True) -> None:
        try:
            self._finish(ok)
            if ok:
                publish(self._tmp, self.path, self.force)
        except OSError as e:
            raise _cannot_write(self.path, e) from None
        finally:
            _discard(self._tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(ok=exc_type is None)
        return False

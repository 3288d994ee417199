"""The Python face: ``exypno.hide`` / ``exypno.reveal``, ``seal`` / ``unseal``, and ``Stego`` for a model kept
loaded. It only wires: the pairing follows from the file types (``pairings``), the model from the registry,
and the work is done below (``inference``, ``payload``).

Images go in as paths, PIL images or arrays and come out as (H, W, 3) uint8 arrays, optionally written as
PNG; any size works (``inference/tiling.py``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import ExypnoError
from .inference import Stego, load, open_model
from .pairings import hide_file, pairing_of, reveal_file, reveal_pairing
from .payload import seal as _seal
from .registry import DEFAULT_MODEL, shipped_model

__all__ = ["DEFAULT_MODEL", "Stego", "capacity", "hide", "load", "open_model", "reveal", "seal", "unseal"]


def hide(cover, secret, output=None, model: str | Path | None = None, force: bool = False, key: str | None = None):
    """Hide ``secret`` in ``cover``; the pairing follows from the file types, as in the CLI.

    Image in image returns the stego (H, W, 3) uint8 and writes it only if ``output`` is given. With audio or
    video on either side (a path ending in .wav/.flac/.ogg, or .mkv/.mp4/...), ``output`` is required; the
    return is the stego as written (a waveform on the 16-bit grid, or an image), or None for a video.
    ``model``: default, the pairing's shipped one. ``key``: block shuffling, for a secret hidden in a video.
    """
    stego = load(model or shipped_model(pairing_of(cover, secret)))
    return hide_file(stego, cover, secret, output, key=key, force=force)[0]


def reveal(stego, output=None, model: str | Path | None = None, force: bool = False,
           size: tuple[int, int] | None = None, key: str | None = None, align: bool = True):
    """Reveal the secret of ``stego``; ``output``'s type says what the secret is (an image by default).

    From audio or video, or to audio, ``output`` is required. Returns the secret as written (an image, or
    samples on the 16-bit grid), or None when written from a video as a video or a sound. ``size`` (W, H)
    gives an image revealed from audio its size back; ``key``: the shuffling key used to hide in a video;
    ``align=False``: an image stego is known to be uncropped, so its pixel grid is not searched."""
    return reveal_file(load(model or shipped_model(reveal_pairing(stego, output))), stego, output, key=key,
                       size=size, force=force, align=align)


# --- sealing files (payload/seal.py) ------------------------------------------------------------------


def seal(cover, file, passphrase: str, output: str | Path | None = None, name: str | None = None,
         force: bool = False, robust: bool = False, fit: bool = False) -> np.ndarray:
    """Seal ``file`` (a path, or bytes with ``name``) in ``cover``: compressed, encrypted, error-corrected.

    ``robust``: a mode that carries far less but survives a re-save as JPEG at quality 90 (``capacity``).
    ``fit``: a picture larger than the cover carries is re-encoded as AVIF, as good as fits (``unseal`` then
    gives NAME.avif); see ``payload/picture.py``.

    Returns the stego as uint8 (H, W, 3), written as PNG to ``output`` if given. Raises ``ExypnoError`` (a
    ``PayloadError``) when the file does not fit or would not decode back.
    """
    if isinstance(file, (bytes, bytearray)):
        data, name = bytes(file), name or "sealed.bin"
    else:
        path = Path(file)
        if not path.is_file():
            raise ExypnoError(f"{path}: no such file")
        data, name = path.read_bytes(), name or path.name
    stego, _ = _seal.seal_file(cover, data, name, passphrase, output=output, force=force,
                         mode="robust" if robust else "png", fit=fit)
    return stego


def unseal(stego, passphrase: str) -> tuple[str, bytes]:
    """(original file name, bytes), exactly as sealed; ``ExypnoError`` says why not (wrong passphrase, nothing
    sealed, damaged beyond repair)."""
    return _seal.unseal(stego, passphrase)


def capacity(cover) -> dict[str, dict]:
    """Bytes a file may have (before compression) in each seal mode, and the net bits per pixel."""
    return _seal.capacity(cover)

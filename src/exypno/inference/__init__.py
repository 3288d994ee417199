"""The engine below the face: a model opened by name, run on pictures of any size.

- ``tiling``: padding to the network's multiple and overlapping tiles, for any size in bounded memory;
- ``image``: ``Stego``, a loaded network that hides and reveals pictures, with grid alignment and border
  decoding for crops.

Every hider here has the same interface: ``hide(cover, secret, output=None, force=False)`` and
``reveal(stego, output=None, force=False, align=True)``, for a network (``Stego``) and for a code alike
(``payload.robust_image.RobustImage``). ``load`` keeps each model open once per process.
"""
from __future__ import annotations

from pathlib import Path

from ..payload.robust_image import RobustImage
from ..registry import CODES, DEFAULT_MODEL, model_path
from ..nets.files import torch_device
from .image import Stego


def open_model(name: str | Path = DEFAULT_MODEL, device: str = "auto"):
    """A network (``Stego``) or a code (``registry.CODES``) by name or path, with ``hide`` and ``reveal``;
    ``device``: auto (CUDA where torch sees it), cpu or cuda, for the networks."""
    if str(name) == "robust":
        return RobustImage()
    return Stego.load(name, device)


_CACHE: dict[str, object] = {}


def load(model: str | Path = DEFAULT_MODEL, device: str = "auto"):
    """Open a model (``open_model``) once per process and device; later calls with the same name reuse it."""
    key = str(model) if str(model) in CODES else f"{model_path(model).resolve()}@{torch_device(device)}"
    if key not in _CACHE:
        _CACHE[key] = open_model(model, device)
    return _CACHE[key]


__all__ = ["Stego", "load", "open_model"]

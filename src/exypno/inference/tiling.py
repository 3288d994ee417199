"""Running a fully convolutional network on a picture of any size.

The picture is reflect-padded to the network's multiple and the output cropped back; past ``TILE`` pixels a
side it goes through the network in overlapping tiles, so memory stays bounded.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

TILE = 768  # core tile side in pixels
MARGIN = 64  # context around each tile: more than the networks' receptive field, so tiles do not show


def run_padded(fn, inputs: list[torch.Tensor], multiple: int) -> torch.Tensor:
    """Reflect-pad every input to a multiple of ``multiple``, run, crop the output back."""
    h, w = inputs[0].shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if h > ph and w > pw else "replicate"
        inputs = [F.pad(x, (0, pw, 0, ph), mode=mode) for x in inputs]
    return fn(*inputs)[..., :h, :w]


def pad_mode(image: np.ndarray) -> str:
    return "reflect" if min(image.shape[:2]) > 4 else "edge"  # reflect needs more pixels than it pads


def run_tiled(fn, inputs: list[torch.Tensor], multiple: int, out_channels: int) -> torch.Tensor:
    """Apply a fully convolutional ``fn`` tile by tile with ``MARGIN`` pixels of context."""
    h, w = inputs[0].shape[-2:]
    if h <= TILE + 2 * MARGIN and w <= TILE + 2 * MARGIN:
        return run_padded(fn, inputs, multiple)
    out = inputs[0].new_empty(1, out_channels, h, w)
    for y in range(0, h, TILE):
        for x in range(0, w, TILE):
            y0, x0 = max(0, y - MARGIN), max(0, x - MARGIN)
            y1, x1 = min(h, y + TILE + MARGIN), min(w, x + TILE + MARGIN)
            part = run_padded(fn, [t[..., y0:y1, x0:x1] for t in inputs], multiple)
            ty, tx = min(TILE, h - y), min(TILE, w - x)
            out[..., y : y + ty, x : x + tx] = part[..., y - y0 : y - y0 + ty, x - x0 : x - x0 + tx]
    return out


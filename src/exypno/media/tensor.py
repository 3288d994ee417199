"""The one converter between 8-bit pictures and the networks' tensors.

A picture is a uint8 array (H, W, C), or a batch of them (N, H, W, C); a tensor is float (N, C, H, W) in
[0, 1]. Back to pixels, values are clamped and rounded (never truncated) to the 8-bit grid.
"""
from __future__ import annotations

import numpy as np
import torch


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(H, W, C) or (N, H, W, C) uint8 -> (1 or N, C, H, W) float in [0, 1]."""
    if not images.flags.writeable:  # torch warns on read-only arrays (e.g. views of PIL images)
        images = images.copy()
    x = torch.from_numpy(images)
    x = x[None] if x.ndim == 3 else x
    return x.permute(0, 3, 1, 2).float().div_(255.0)


def to_images(x: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) float in [0, 1] -> (N, H, W, C) uint8, rounded to the nearest level."""
    return torch.round(x.detach().clamp(0, 1) * 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def to_image(x: torch.Tensor) -> np.ndarray:
    """The first picture of a (N, C, H, W) batch as (H, W, C) uint8."""
    return to_images(x[:1])[0]

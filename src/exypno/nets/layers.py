"""Small building blocks shared by every preset.

- ``SameConv2d``: a convolution with Keras-style "same" padding, so even kernels (4x4, 6x6) keep the size.
- ``haar`` / ``inverse_haar``: the orthonormal 2-D Haar transform as plain tensor ops (no dependency).
- ``quantize_8bit``: clamp to [0, 1] and round to 1/255 with a straight-through gradient, so training sees
  exactly what an 8-bit PNG holds.
- ``GaussianNoise``: the paper's noise layer between the encoder and the decoder.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def same_padding(kernel_size: int) -> tuple[int, int]:
    """(before, after) padding of Keras/TensorFlow "same": the extra pixel of an even kernel goes after."""
    total = kernel_size - 1
    before = total // 2
    return before, total - before


class SameConv2d(nn.Conv2d):
    """Conv2d, stride 1, whose output has the input's height and width for odd and even kernels alike.

    PyTorch's ``padding="same"`` pads an even kernel's extra pixel on the same side as Keras does, but we
    keep it explicit (and reflect-free, zero padding as Keras) so the rule is visible and tested.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, padding=0, **kwargs)
        before, after = same_padding(kernel_size)
        self._pad = (before, after, before, after)  # left, right, top, bottom

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self._pad))


def haar(x: torch.Tensor) -> torch.Tensor:
    """Orthonormal 2-D Haar transform: (B, C, H, W) -> (B, 4C, H/2, W/2), bands [LL, LH, HL, HH] per channel.

    H and W must be even. Being orthonormal, MSE in the band domain equals MSE in pixels.
    """
    a = x[..., 0::2, 0::2]
    b = x[..., 0::2, 1::2]
    c = x[..., 1::2, 0::2]
    d = x[..., 1::2, 1::2]
    ll = (a + b + c + d) / 2
    lh = (a - b + c - d) / 2
    hl = (a + b - c - d) / 2
    hh = (a - b - c + d) / 2
    return torch.cat([ll, lh, hl, hh], dim=1)


def inverse_haar(y: torch.Tensor) -> torch.Tensor:
    """Exact inverse of :func:`haar`."""
    ll, lh, hl, hh = torch.chunk(y, 4, dim=1)
    a = (ll + lh + hl + hh) / 2
    b = (ll - lh + hl - hh) / 2
    c = (ll + lh - hl - hh) / 2
    d = (ll - lh - hl + hh) / 2
    # out[..., 0::2, 0::2] = a, [0::2, 1::2] = b, [1::2, 0::2] = c, [1::2, 1::2] = d, as one pixel shuffle: the same
    # values, and an exported ONNX graph of one DepthToSpace rather than four strided scatters
    n, ch, h, w = ll.shape
    return F.pixel_shuffle(torch.stack([a, b, c, d], dim=2).reshape(n, ch * 4, h, w), 2)


def quantize_8bit(x: torch.Tensor) -> torch.Tensor:
    """Clamp to [0, 1] and round to the 8-bit grid; the gradient passes straight through the rounding.

    The clamp keeps its true gradient (zero outside [0, 1]) so the encoder learns not to rely on values a
    PNG cannot hold.
    """
    clamped = x.clamp(0.0, 1.0)
    rounded = torch.round(clamped * 255.0) / 255.0
    return clamped + (rounded - clamped).detach()


class GaussianNoise(nn.Module):
    """Additive Gaussian noise with a per-sample std drawn uniformly in [0, sigma] (training only).

    A random std, rather than a fixed one, teaches the decoder to cope with anything from a clean PNG to
    a mildly noisy channel.
    """

    def __init__(self, sigma: float):
        super().__init__()
        self.sigma = float(sigma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.sigma <= 0:
            return x
        std = torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) * self.sigma
        return x + torch.randn_like(x) * std


class ResidualBlock(nn.Module):
    """conv3x3 -> ReLU -> conv3x3, added to the input: cheap depth that trains fast."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))

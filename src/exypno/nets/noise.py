"""Noise layers between the encoder and the decoder: what a stego may suffer on its way to the receiver.

``exypno train --noise "gaussian:2,jpeg:50-95,crop:0.5-1.0,resize:0.5-1.0,dropout:0.3"`` builds a
``NoiseChannel``. The training loop always clamps and rounds the stego to 8 bits first (a PNG); then each
training step applies one of the listed distortions, drawn at random, to the whole batch (HiDDeN's
"combined" channel: one decoder learns to survive each of them). ``identity`` in the list keeps some steps
clean. Random draws use torch's generator, which checkpoints save, so resuming stays exact.

Each layer maps (stego, cover) -> (distorted stego, crop box or None). A crop changes what the receiver can
reveal: the loss then compares the revealed secret with the same crop of the secret. Crops are taken at any
offset, not only multiples of the networks' grid, so the decoder learns to find the grid itself.

- ``gaussian:S``      additive Gaussian noise, std drawn in [0, S] 8-bit levels per sample;
- ``jpeg:QLO-QHI``    real JPEG (Pillow) at a quality drawn in the range; the gradient passes straight through;
- ``crop:FLO-FHI``    keep a random window whose side is a fraction in the range of the image's side;
- ``resize:FLO-FHI``  scale by a factor in the range and back (bilinear), as a re-sized upload would be;
- ``dropout:P``       replace a fraction P of the stego's pixels with the cover's (HiDDeN's dropout);
- ``identity``        nothing.
"""
from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from ..errors import ExypnoError

Box = tuple[int, int, int, int]  # top, left, height, width


def _uniform(a: float, b: float) -> float:
    return float(torch.empty(()).uniform_(a, b)) if b > a else float(a)


def _randint(a: int, b: int) -> int:
    """Uniform integer in [a, b]."""
    return int(torch.randint(a, b + 1, ()))


def _range(text: str, name: str, lo: float, hi: float) -> tuple[float, float]:
    try:
        parts = [float(v) for v in text.split("-")]
    except ValueError:
        raise ExypnoError(f"noise layer {name}: {text!r} is not a number or a range A-B") from None
    a, b = (parts[0], parts[0]) if len(parts) == 1 else parts[:2]
    if len(parts) > 2 or not lo <= a <= b <= hi:
        raise ExypnoError(f"noise layer {name}: {text!r} must be within {lo}-{hi}, low before high")
    return a, b


class Gaussian(nn.Module):
    def __init__(self, sigma_levels: float):
        super().__init__()
        self.sigma = sigma_levels / 255.0

    def forward(self, x, cover):
        std = torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) * self.sigma
        return x + torch.randn_like(x) * std, None


class Jpeg(nn.Module):
    def __init__(self, q_lo: float, q_hi: float):
        super().__init__()
        self.q = (int(q_lo), int(q_hi))

    def forward(self, x, cover):
        jpeg = jpeg_roundtrip(x.detach(), _randint(*self.q))
        return x + (jpeg - x).detach(), None  # straight-through: JPEG forward, identity backward


def jpeg_roundtrip(x: torch.Tensor, quality: int) -> torch.Tensor:
    """A batch of RGB images in [0, 1], saved as JPEG by Pillow at ``quality`` and read back (no gradient)."""
    pixels = torch.round(x.clamp(0, 1) * 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    out = []
    for im in pixels:
        buf = io.BytesIO()
        Image.fromarray(im).save(buf, format="JPEG", quality=quality)
        out.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(x.device, x.dtype) / 255.0


class Crop(nn.Module):
    def __init__(self, f_lo: float, f_hi: float):
        super().__init__()
        self.f = (f_lo, f_hi)

    def forward(self, x, cover):
        h, w = x.shape[-2:]
        frac = _uniform(*self.f)
        ch, cw = max(8, round(h * frac)), max(8, round(w * frac))
        top, left = _randint(0, h - ch), _randint(0, w - cw)
        return x[..., top : top + ch, left : left + cw], (top, left, ch, cw)


class Resize(nn.Module):
    def __init__(self, f_lo: float, f_hi: float):
        super().__init__()
        self.f = (f_lo, f_hi)

    def forward(self, x, cover):
        h, w = x.shape[-2:]
        factor = _uniform(*self.f)
        small = F.interpolate(x, size=(max(4, round(h * factor)), max(4, round(w * factor))), mode="bilinear",
                              align_corners=False, antialias=True)
        return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False), None


class Dropout(nn.Module):
    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x, cover):
        keep = (torch.rand(x.shape[0], 1, *x.shape[-2:], device=x.device) >= self.p).to(x.dtype)
        return x * keep + cover * (1 - keep), None


class Identity(nn.Module):
    def forward(self, x, cover):
        return x, None


def parse_layer(item: str) -> nn.Module:
    name, _, arg = item.strip().partition(":")
    name = name.strip().lower()
    if name == "identity":
        return Identity()
    if not arg:
        raise ExypnoError(f"noise layer {name!r} needs a value, e.g. gaussian:2 or jpeg:50-95")
    if name == "gaussian":
        return Gaussian(_range(arg, name, 0, 255)[1])
    if name == "jpeg":
        return Jpeg(*_range(arg, name, 1, 100))
    if name == "crop":
        return Crop(*_range(arg, name, 0.05, 1))
    if name == "resize":
        return Resize(*_range(arg, name, 0.1, 4))
    if name == "dropout":
        return Dropout(_range(arg, name, 0, 0.99)[1])
    raise ExypnoError(f"unknown noise layer {name!r} (gaussian, jpeg, crop, resize, dropout, identity)")


class NoiseChannel(nn.Module):
    """One of the layers, drawn per step, while training; nothing in eval mode or with no layers."""

    def __init__(self, spec: str):
        super().__init__()
        self.spec = spec
        self.layers = nn.ModuleList(parse_layer(i) for i in spec.split(",") if i.strip()) if spec else nn.ModuleList()

    def forward(self, stego: torch.Tensor, cover: torch.Tensor) -> tuple[torch.Tensor, Box | None]:
        if not self.training or not len(self.layers):
            return stego, None
        return self.layers[_randint(0, len(self.layers) - 1)](stego, cover)

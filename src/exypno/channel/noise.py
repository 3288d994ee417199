"""Noise layers between the encoder and the decoder: what a stego may suffer on its way to the receiver.

``exypno train --noise "gaussian:2,jpeg:50-95,crop:0.5-1.0,resize:0.5-1.0,dropout:0.3"`` builds a
``NoiseChannel``. The training loop always clamps and rounds the stego to 8 bits first (a PNG); then each
training step applies one of the listed distortions, drawn at random, to the whole batch (HiDDeN's
"combined" channel: one decoder learns to survive each of them). ``identity`` in the list keeps some steps
clean. Random draws use torch's generator, which checkpoints save, so resuming stays exact.

Each layer maps (stego, cover) -> (distorted stego, crop box or None). A crop changes what the receiver can
reveal: the loss then compares the revealed secret with the same crop of the secret. ``crop`` takes its
window at any offset, not only multiples of the networks' grid, so the decoder learns to find the grid
itself; ``cropgrid`` puts the window back on the grid the way ``reveal`` does after its grid search, so the
decoder learns the blocks that a crop cuts in two at its edges.

- ``gaussian:S``      additive Gaussian noise, std drawn in [0, S] 8-bit levels per sample;
- ``jpeg:QLO-QHI``    real JPEG (Pillow) at a quality drawn in the range; the gradient passes straight through;
- ``djpeg:QLO-QHI``   the same real JPEG forward, but the gradient of a differentiable JPEG (``jpeg_approx``:
                      YCbCr, 4:2:0, 8x8 DCT, the IJG tables at that quality, soft rounding), so that the encoder
                      learns which frequencies survive instead of seeing JPEG as no change at all;
- ``crop:FLO-FHI``    keep a random window whose side is a fraction in the range of the image's side;
- ``cropgrid:FLO-FHI`` the same window, then the rows and columns its first blocks lost mirrored back in and
                      its far edges mirrored out to whole blocks, as ``Stego.reveal`` pads a crop;
- ``resize:FLO-FHI``  scale by a factor in the range and back (bilinear), as a re-sized upload would be;
- ``dropout:P``       replace a fraction P of the stego's pixels with the cover's (HiDDeN's dropout);
- ``identity``        nothing.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..media.image import resave
from ..media.tensor import to_images, to_tensor
from .spec import parse_spec

# top, left, height, width of the window kept; dy, dx: where it sits in what the decoder is given (padded)
Box = tuple[int, int, int, int, int, int]


def _uniform(a: float, b: float) -> float:
    return float(torch.empty(()).uniform_(a, b)) if b > a else float(a)


def _randint(a: int, b: int) -> int:
    """Uniform integer in [a, b]."""
    return int(torch.randint(a, b + 1, ()))


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


class DiffJpeg(nn.Module):
    def __init__(self, q_lo: float, q_hi: float):
        super().__init__()
        self.q = (int(q_lo), int(q_hi))

    def forward(self, x, cover):
        quality = _randint(*self.q)
        approx = jpeg_approx(x, quality)
        real = jpeg_roundtrip(x.detach(), quality)
        return real + (approx - approx.detach()), None  # the value of real JPEG, the gradient of the approximation


# The IJG (libjpeg) base quantisation tables, luminance and chrominance, row by row.
_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
         14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
         49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
_CHROMA = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
           47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32


def ijg_table(quality: int, chroma: bool = False) -> np.ndarray:
    """libjpeg's 8x8 quantisation table at ``quality`` (jpeg_quality_scaling), luma or chroma."""
    q = min(100, max(1, quality))
    scale = 5000 // q if q < 50 else 200 - 2 * q
    t = np.array(_CHROMA if chroma else _LUMA, dtype=np.int64).reshape(8, 8)
    return np.clip((t * scale + 50) // 100, 1, 255)


def _qtable(base: list[int], quality: int, like: torch.Tensor) -> torch.Tensor:
    """libjpeg's table for ``quality``, as an 8x8 tensor."""
    return torch.from_numpy(ijg_table(quality, base is _CHROMA)).to(like.device, like.dtype)


def _dct_matrix(like: torch.Tensor) -> torch.Tensor:
    k = torch.arange(8, dtype=like.dtype, device=like.device)
    m = torch.cos((2 * k[None, :] + 1) * k[:, None] * torch.pi / 16) * (2 / 8) ** 0.5
    m[0] = (1 / 8) ** 0.5
    return m


def _blocks_quantised(p: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """8x8 DCT of each block, quantised by ``table`` with a soft rounding (round(x) + (x - round(x))^3, as
    in Shin & Song's differentiable JPEG), and back."""
    b, c, h, w = p.shape
    d = _dct_matrix(p)
    blocks = p.reshape(b, c, h // 8, 8, w // 8, 8).transpose(3, 4)
    coef = d @ blocks @ d.T / table
    r = torch.round(coef)
    coef = (r + (coef - r) ** 3) * table
    return (d.T @ coef @ d).transpose(3, 4).reshape(b, c, h, w)


def jpeg_approx(x: torch.Tensor, quality: int) -> torch.Tensor:
    """A differentiable JPEG at ``quality``: RGB in [0, 1] -> YCbCr, chroma averaged over 2x2 (4:2:0), 8x8
    DCT quantised by libjpeg's tables, and back (chroma upsampled bilinearly, close to libjpeg's "fancy"
    upsampling). Its forward values are close to Pillow's, not equal (``jpeg_roundtrip`` is the real one)."""
    h, w = x.shape[-2:]
    x = F.pad(x, (0, (-w) % 16, 0, (-h) % 16), mode="replicate") * 255
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b
    y = _blocks_quantised(y - 128, _qtable(_LUMA, quality, x)) + 128
    chroma = _blocks_quantised(F.avg_pool2d(torch.cat([cb, cr], 1), 2), _qtable(_CHROMA, quality, x))
    cb, cr = F.interpolate(chroma, scale_factor=2, mode="bilinear", align_corners=False).split(1, dim=1)
    rgb = torch.cat([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], 1) / 255
    return rgb[..., :h, :w]


def jpeg_roundtrip(x: torch.Tensor, quality: int) -> torch.Tensor:
    """A batch of RGB images in [0, 1], saved as JPEG by Pillow at ``quality`` and read back (no gradient)."""
    out = np.stack([resave(im, "JPEG", quality) for im in to_images(x)])
    return to_tensor(out).to(x.device, x.dtype)


class Crop(nn.Module):
    min_side = 8

    def __init__(self, f_lo: float, f_hi: float):
        super().__init__()
        self.f = (f_lo, f_hi)

    def window(self, h: int, w: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of a random window whose side is a fraction in ``f`` of the image's."""
        frac = _uniform(*self.f)
        ch, cw = max(self.min_side, round(h * frac)), max(self.min_side, round(w * frac))
        return _randint(0, h - ch), _randint(0, w - cw), ch, cw

    def forward(self, x, cover):
        top, left, ch, cw = self.window(*x.shape[-2:])
        return x[..., top : top + ch, left : left + cw], (top, left, ch, cw, 0, 0)


class CropGrid(Crop):
    """A crop, put back on the grid of ``multiple`` pixels (the Haar blocks) as ``Stego.reveal`` does once its
    search has found the shift: the rows and columns that the window cut from its first blocks are mirrored
    in, and its far edges are mirrored out to whole blocks. The border blocks are where the reveal of a crop
    loses most (3.6 to 5.2 dB against the same region uncropped, README, Robustness)."""

    def __init__(self, f_lo: float, f_hi: float, multiple: int = 4):
        super().__init__(f_lo, f_hi)
        self.multiple = multiple
        self.min_side = 2 * multiple

    def forward(self, x, cover):
        return on_grid(x, *self.window(*x.shape[-2:]), self.multiple)


def on_grid(x: torch.Tensor, top: int, left: int, ch: int, cw: int, m: int) -> tuple[torch.Tensor, Box]:
    """The window (top, left, ch, cw) of ``x``, padded onto the grid of ``m`` pixels as ``Stego.reveal`` pads a
    crop once its grid search has found the shift; and its Box."""
    dy, dx = top % m, left % m
    window = x[..., top : top + ch, left : left + cw]
    padded = F.pad(window, (dx, (-(cw + dx)) % m, dy, (-(ch + dy)) % m), mode="reflect")
    return padded, (top, left, ch, cw, dy, dx)


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


LIMITS = {"gaussian": (0, 255), "jpeg": (1, 100), "djpeg": (1, 100), "crop": (0.05, 1), "cropgrid": (0.05, 1),
          "resize": (0.1, 4), "dropout": (0, 0.99)}


def parse_layers(spec: str, multiple: int = 4) -> list[nn.Module]:
    """The noise layers of a spec in the channel grammar (``spec.py``), e.g. "gaussian:2,jpeg:50-95,identity"."""
    return [_layer(kind, lo, hi, multiple)
            for kind, lo, hi in parse_spec(spec, LIMITS, "noise layer", bare=("identity",), ranges=True)]


def _layer(kind: str, lo: float, hi: float, multiple: int) -> nn.Module:
    if kind == "identity":
        return Identity()
    if kind == "gaussian":
        return Gaussian(hi)
    if kind == "dropout":
        return Dropout(hi)
    if kind == "cropgrid":
        return CropGrid(lo, hi, multiple=multiple)
    return {"jpeg": Jpeg, "djpeg": DiffJpeg, "crop": Crop, "resize": Resize}[kind](lo, hi)


class NoiseChannel(nn.Module):
    """One of the layers, drawn per step, while training; nothing in eval mode or with no layers."""

    def __init__(self, spec: str, multiple: int = 4):
        super().__init__()
        self.spec = spec
        self.layers = nn.ModuleList(parse_layers(spec, multiple) if spec else [])

    def forward(self, stego: torch.Tensor, cover: torch.Tensor) -> tuple[torch.Tensor, Box | None]:
        if not self.training or not len(self.layers):
            return stego, None
        return self.layers[_randint(0, len(self.layers) - 1)](stego, cover)

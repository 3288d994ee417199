"""Lattices on single values: what a near-lossless channel (a 16-bit WAV: its samples, or their block spectrum)
keeps.

A sound's spectrum gives a decoder no local structure to tell a small residual from the cover by (its
phases are random), but the file keeps the fine position of every value to about 3e-5 in grid units. Two
tools use that:

- ``LatticeFeatures``: sin and cos of each value at fixed periods, so that networks can learn a code on
  the fine positions (the learnt modem of ``nets/models.py``).
- ``LatticeCode``: a fixed code on one period, quantisation index modulation. Each value is moved, by at
  most half a period, to the place on its lattice that spells its symbol. The networks around it learn
  what to send and how to clean what is read; the code itself, like the Haar transform, is arithmetic.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class LatticeFeatures(nn.Module):
    """x -> x with sin and cos of 2 pi x / period for every period, channel by channel.

    Why: a cover whose values have no local structure (the real and imaginary parts of an audio spectrum,
    whose phases are random) gives a decoder nothing to tell a small residual from the cover by. What a
    channel that barely adds noise (16-bit PCM) does keep is the fine position of each value: the encoder
    can move a value to a chosen place on a lattice of period p, and the decoder can read it back, if both
    see x modulo p. A network of ReLUs cannot compute a modulo over a wide range; these features hand it
    one, smoothly. The periods are fixed, the code on them is learnt.
    """

    def __init__(self, periods: tuple[float, ...]):
        super().__init__()
        self.register_buffer("omega", 2 * math.pi / torch.tensor(periods or (1.0,), dtype=torch.float32),
                             persistent=False)
        self.count = len(periods)

    def channels(self, c: int) -> int:
        return c * (1 + 2 * self.count)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.count:
            return x
        phase = x.unsqueeze(2) * self.omega.view(1, 1, -1, 1, 1)  # (B, C, K, H, W)
        waves = torch.cat([phase.sin(), phase.cos()], dim=2).flatten(1, 2)
        return torch.cat([x, waves], dim=1)


class LatticeCode(nn.Module):
    """Quantisation index modulation of symbols in [-1, 1] on a lattice of period ``period``.

    ``write(x, s)`` moves every value x to the nearest value whose phase 2 pi x / period is ``GUARD`` pi s;
    ``read(y)`` returns that phase as a symbol. The move is uniform over half a period either way, whatever
    is sent, so the cover's SNR is set by the period alone (std period / sqrt 12). The 16-bit file's noise
    shows as symbol noise of std 2 pi 3e-5 / period / (GUARD pi), uniform over the range; ``GUARD`` keeps the
    ends of the range apart, so that noise never wraps a loud value into a loud value of the other sign.

    A secret whose values are spread over a wide range (a sound's spectrum: median |x| 0.002, peaks of 30)
    is sent through mu-law companding over [-span, span]: the error then grows with the value, so that
    quiet and loud passages keep about the same SNR (``benchmarks/lattice_code.py --only sweep``).
    """

    GUARD = 0.9

    def __init__(self, period: float, span: float, mu: float):
        super().__init__()
        self.period, self.span, self.mu = float(period), float(span), float(mu)
        self._log_mu = math.log1p(self.mu)

    def compand(self, v: torch.Tensor) -> torch.Tensor:
        """Values -> symbols in [-1, 1] (mu-law over [-span, span]; beyond it they clip). mu = 0: linear, for
        values spread evenly already (a picture's)."""
        u = (v / self.span).clamp(-1.0, 1.0)
        return torch.sign(u) * torch.log1p(self.mu * u.abs()) / self._log_mu if self.mu else u

    def expand(self, s: torch.Tensor) -> torch.Tensor:
        """Symbols -> values: the inverse of ``compand`` (symbols clip to [-1, 1])."""
        s = s.clamp(-1.0, 1.0)
        if not self.mu:
            return s * self.span
        return torch.sign(s) * torch.expm1(s.abs() * self._log_mu) / self.mu * self.span

    def write(self, x: torch.Tensor, symbols: torch.Tensor) -> torch.Tensor:
        return self.write_phase(x, self.GUARD * math.pi * symbols.clamp(-1.0, 1.0))

    def write_phase(self, x: torch.Tensor, phase: torch.Tensor | float) -> torch.Tensor:
        """Move every value x by at most half a period to the nearest value of this phase (radians)."""
        turn = torch.remainder(phase - x * (2 * math.pi / self.period) + math.pi, 2 * math.pi) - math.pi
        return x + turn * (self.period / (2 * math.pi))

    def phase(self, y: torch.Tensor) -> torch.Tensor:
        """The phase of every value on the lattice, in (-pi, pi]."""
        p = y * (2 * math.pi / self.period)
        return torch.atan2(p.sin(), p.cos())

    def read(self, y: torch.Tensor) -> torch.Tensor:
        return self.phase(y) / (self.GUARD * math.pi)


# A picture (3 channels) on a sound's grid (2 channels): YCbCr, the luma on one channel and the two chromas,
# each averaged over a pair of columns, side by side on the other (4:2:2). Full-range BT.601.
_TO_YCBCR = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_TO_RGB = torch.linalg.inv(_TO_YCBCR)


def pack_picture(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> (B, 2, H, W) in [-0.5, 0.5]: luma - 0.5, then Cb and Cr of each column
    pair at its even and odd column."""
    ycc = torch.einsum("ij,bjhw->bihw", _TO_YCBCR.to(rgb), rgb)
    w = rgb.shape[-1]
    chroma = ycc[:, 1:]
    if w % 2:
        chroma = torch.cat([chroma, chroma[..., -1:]], dim=-1)
    pairs = 0.5 * (chroma[..., 0::2] + chroma[..., 1::2])  # (B, 2, H, W / 2): Cb, Cr per column pair
    side = torch.stack([pairs[:, 0], pairs[:, 1]], dim=-1).flatten(-2)[..., :w]  # Cb, Cr, Cb, Cr, ...
    return torch.stack([ycc[:, 0] - 0.5, side], dim=1)


def unpack_picture(packed: torch.Tensor) -> torch.Tensor:
    """The inverse of ``pack_picture``, the chromas repeated over their column pair."""
    w = packed.shape[-1]
    side = packed[:, 1]
    if w % 2:
        side = torch.cat([side, side[..., -2:-1]], dim=-1)  # odd width: the last Cr is the pair before's
    cb = side[..., 0::2].repeat_interleave(2, dim=-1)[..., :w]
    cr = side[..., 1::2].repeat_interleave(2, dim=-1)[..., :w]
    ycc = torch.stack([packed[:, 0] + 0.5, cb, cr], dim=1)
    return torch.einsum("ij,bjhw->bihw", _TO_RGB.to(packed), ycc)

"""What a cover or a secret is to the training loop: its network tensor, its file, its loss and its figure.

A pairing is a cover domain and a secret domain (``PAIRINGS``). Every domain turns its raw batch (images
in [0, 1], waveforms in [-1, 1], bit planes) into the image-shaped tensor the networks see, and back. A
cover domain also says what a file holds (``to_file``): the stego clamped and rounded to 8-bit pixels, or
inverted to a waveform and rounded to 16-bit PCM, with straight-through gradients. So the loss and the
figures are those of the file the receiver reads, not of the tensor before it.

Audio tensors are STFT grids of ``SPECTROGRAM.bins`` (256) rows, one column per hop: an image paired
with audio is cropped (training) or resized (use) to 256 rows, and one column of it is one STFT frame.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..media.audio import SPECTROGRAMS, Spectrogram, Waveform, quantize_pcm16, secret_grid
from ..nets.layers import quantize_8bit
from ..registry import CHANNELS, PAIRING_MODELS

SPECTROGRAM = Spectrogram()  # the grid geometry (bins, hop) every audio model uses
EPS = 1e-10


def loss_db(loss: float) -> float:
    """A mean squared error on [0, 1] pixels, or an error-to-signal ratio, in dB (PSNR, SNR)."""
    return 10 * math.log10(1 / max(loss, EPS))


class ImageDomain:
    kind = "image"
    channels = CHANNELS[kind]

    def to_net(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def from_net(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return t

    def to_file(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return quantize_8bit(t)

    def exact_file(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return torch.round(t.clamp(0, 1) * 255) / 255

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out, target)

    def secret_loss(self, t: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(t, target)

    def db(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """PSNR per sample (8-bit peak)."""
        mse = ((out - target) * 255).pow(2).flatten(1).mean(1)
        return 10 * torch.log10(255**2 / mse.clamp_min(EPS))

    loss_db = staticmethod(loss_db)


class AudioDomain:
    """Waveforms (B, N) <-> compressed STFT grids (B, 2, 256, N // hop + 1); the file is 16-bit PCM."""

    kind = "audio"
    channels = CHANNELS[kind]

    def __init__(self, spectrogram: Spectrogram):
        self.spec = spectrogram

    def to_net(self, wave: torch.Tensor) -> torch.Tensor:
        return self.spec.to_tensor(wave)

    def from_net(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return self.spec.to_wave(t, like.shape[-1])

    def to_file(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return quantize_pcm16(self.from_net(t, like))

    def exact_file(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        x = self.from_net(t, like).clamp(-1.0, 32767 / 32768)
        return torch.round(x * 32768) / 32768

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Error power over signal power, per clip, averaged: the SNR the figures report, as a loss."""
        err = (out - target).pow(2).mean(-1)
        return (err / target.pow(2).mean(-1).clamp_min(1e-8)).mean()

    def secret_loss(self, t: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The waveform's error (``loss``) plus the same ratio on the compressed STFT grid.

        The waveform term alone stalls: decompression raises magnitudes to the power 1/0.3, whose gradient
        vanishes at the zero grid a fresh decoder outputs (measured: secret SNR 0.0 dB after 300 steps).
        The grid term has a healthy gradient everywhere and pulls the decoder off zero.
        """
        grid = self.to_net(target)
        grid_err = (t - grid).pow(2).flatten(1).mean(1) / grid.pow(2).flatten(1).mean(1).clamp_min(1e-8)
        n = self.carried(target.shape[-1])
        return grid_err.mean() + self.loss(self.from_net(t, target)[..., :n], target[..., :n])

    def carried(self, samples: int) -> int:
        """How many of a clip's samples its grid carries: all, but on a secret's waveform grid 511 in 512 (the
        pilots' room), so that the rest is not counted as lost."""
        return self.spec.samples(self.spec.frames(samples)) if isinstance(self.spec, Waveform) else samples

    def db(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """SNR per clip."""
        n = self.carried(target.shape[-1])
        out, target = out[..., :n], target[..., :n]
        err = (out - target).pow(2).mean(-1).clamp_min(EPS)
        return 10 * torch.log10(target.pow(2).mean(-1).clamp_min(EPS) / err)

    loss_db = staticmethod(loss_db)


class BitsDomain:
    """Planes of random bits (seal's bit-hiding models); the decoder outputs a logit per bit.

    With ``block`` > 1 a bit fills a ``block`` x ``block`` square of its plane, and its logit is the mean of the
    decoder's logits over that square: a coarser, lower-frequency signal, which survives JPEG where one bit
    per pixel does not. Bit tensors are then ``block`` times smaller than the cover on each side.
    """

    kind = "bits"

    def __init__(self, planes: int, block: int = 1):
        self.channels = planes
        self.block = block

    def to_net(self, x):
        b = self.block
        return x if b == 1 else x.repeat_interleave(b, dim=-2).repeat_interleave(b, dim=-1)

    def from_net(self, t, like=None):
        return t if self.block == 1 else F.avg_pool2d(t, self.block)

    def secret_loss(self, t, target):
        return F.binary_cross_entropy_with_logits(self.from_net(t), target)


# name: (cover domain, secret domain), for every pairing a model is trained for ("<secret>-in-<cover>")
PAIRINGS = {name: tuple(reversed(name.split("-in-"))) for name in PAIRING_MODELS}


def make_domain(kind: str, spectrogram: str = "complex", secret: bool = False):
    """A domain of ``kind``; a sound secret goes on ``secret_grid`` (pre-emphasised on the waveform grid)."""
    if kind == "image":
        return ImageDomain()
    return AudioDomain(secret_grid(spectrogram) if secret else SPECTROGRAMS[spectrogram])


def pairing_domains(pairing: str, bits: int = 0, spectrogram: str = "complex", bit_block: int = 1):
    if pairing not in PAIRINGS:
        raise ValueError(f"unknown pairing {pairing!r} (known: {', '.join(PAIRINGS)})")
    cover, secret = PAIRINGS[pairing]
    return (make_domain(cover, spectrogram),
            BitsDomain(bits, bit_block) if bits else make_domain(secret, spectrogram, secret=True))

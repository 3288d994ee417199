"""The grid locator: which of the m*m grid shifts a cropped stego has, read from the stego itself.

A model on Haar sub-bands writes its residual in blocks of ``m`` x ``m`` pixels (m = 4 for two levels), and
reads a stego back only on the grid it was written on. A crop at an odd offset moves that grid, and the
receiver must find it (``inference.image.Stego.alignment``). The residual's statistics repeat with the grid's period, so a
small convolutional net can tell where the blocks start: it scores every pixel, and the score averaged over
the pixels of each phase (row mod m, column mod m) says which phase the blocks start at. Because the net is a
stack of unpadded convolutions, shifting the input by one pixel moves its scores by one pixel: the logits of
a crop are those of the whole stego, permuted by the crop's offset, and the averages over a large patch
carry the evidence of thousands of blocks.

It is trained per model, on that model's stegos (``exypno.train.locator``), and lives in the model's file
beside the decoder (``NetConfig.locator``). It replaces a search that revealed all m*m shifts with the
decoder and compared their contrast, which missed the grid on smooth pictures (benchmarks/alignment.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class GridLocator(nn.Module):
    """(N, 3, H, W) stego in [0, 1] -> (N, m*m) logits; index ``dy * m + dx`` for a stego that lost ``dy`` rows
    and ``dx`` columns of its grid's first blocks (the shift ``reveal`` pads back)."""

    def __init__(self, multiple: int, channels: int = 3, width: int = 32):
        super().__init__()
        self.multiple = multiple
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3), nn.ReLU(),
            nn.Conv2d(width, width, 3), nn.ReLU(),
            nn.Conv2d(width, width, 3), nn.ReLU(),
            nn.Conv2d(width, 1, 1),
        )
        m = multiple
        # a stego that lost dy rows has its blocks start at the patch's row phase (-dy) mod m
        self.register_buffer("order", torch.tensor([((-dy) % m) * m + (-dx) % m for dy in range(m) for dx in range(m)]),
                             persistent=False)

    def forward(self, stego: torch.Tensor) -> torch.Tensor:
        # The residual is a few levels on top of the cover: take the local mean away (what the cover is made of
        # most), and scale up what is left, so the net starts on the part that carries the grid.
        # Unpadded too, so that every score depends on the pixels around it alone.
        x = (stego[..., 1:-1, 1:-1] - F.avg_pool2d(stego, 3, 1)) * 10.0
        score = self.net(x)[:, 0]
        m = self.multiple
        phases = torch.stack([score[:, py::m, px::m].mean((1, 2)) for py in range(m) for px in range(m)], 1)
        return phases[:, self.order]

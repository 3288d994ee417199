"""The paper's base network (BN), shared by the compressor, encoder and decoder of preset ``paper``.

Three parallel branches of five convolutions with ReLU (32 filters 4x4, 64 filters 5x5, 128 filters 6x6),
concatenated; then three parallel convolutions of 32 filters (6x6, 5x5, 4x4), concatenated again.
The output has 96 channels; each sub-network adds its own 1x1 head.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import SameConv2d

BRANCHES = ((32, 4), (64, 5), (128, 6))  # (filters, kernel) of each 5-layer branch
MERGE_FILTERS = 32
MERGE_KERNELS = (6, 5, 4)
LAYERS_PER_BRANCH = 5


class _Branch(nn.Module):
    def __init__(self, in_channels: int, filters: int, kernel: int):
        super().__init__()
        convs = [SameConv2d(in_channels, filters, kernel)]
        convs += [SameConv2d(filters, filters, kernel) for _ in range(LAYERS_PER_BRANCH - 1)]
        self.convs = nn.ModuleList(convs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = F.relu(conv(x))
        return x


class BaseNetwork(nn.Module):
    out_channels = MERGE_FILTERS * len(MERGE_KERNELS)

    def __init__(self, in_channels: int):
        super().__init__()
        self.branches = nn.ModuleList(_Branch(in_channels, f, k) for f, k in BRANCHES)
        merged = sum(f for f, _ in BRANCHES)
        self.merge = nn.ModuleList(SameConv2d(merged, MERGE_FILTERS, k) for k in MERGE_KERNELS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = torch.cat([branch(x) for branch in self.branches], dim=1)
        return torch.cat([F.relu(conv(features)) for conv in self.merge], dim=1)

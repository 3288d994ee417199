"""Learned steganalysers in PyTorch: XuNet-, Ye-Net- and SRNet-style CNNs, trained on (cover, stego) pairs.

- ``xunet``: Xu, Wu and Shi (2016): a fixed KV high-pass filter, then 5 groups of conv -> BN -> (ABS in the
  first) -> TanH/ReLU -> average pooling, global pooling and a linear classifier.
- ``yenet``: Ye, Ni and Yi (2017): a bank of fixed SRM-style high-pass filters, a truncated linear unit
  (TLU, clipping residuals to [-3, 3]) and a stack of small convolutions with pooling.
- ``srnet``: Boroumand, Chen and Fridrich (2019) in small: no fixed filters; unpooled residual layers that
  learn their own noise residuals first, then pooled residual layers and global pooling.

The fixed filters work on all three colour channels (applied per channel, stacked). Every detector ends in
one logit: P(stego) = sigmoid(logit). Networks are small enough to train on a CPU on 128x128 crops.
A detector is a model file like a hiding model (``nets.files``): ``NAME.safetensors`` + ``NAME.json``, whose
card says ``"kind": "detector"`` and holds the ``DetectorConfig``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ExypnoError
from ..nets.files import load_network, save_network

KIND = "detector"  # the kind in a detector's card
ARCHS = ("xunet", "yenet", "srnet")

# Fixed high-pass filters (in 8-bit levels). KV is the "KB"/"KV" 5x5 filter of the spatial rich model.
KV = np.array([[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2], [2, -6, 8, -6, 2], [-1, 2, -2, 2, -1]],
              dtype=np.float32) / 12.0


def _srm_bank() -> np.ndarray:
    """A compact SRM-style bank (5x5 kernels): first, second and third order residuals in 4 directions,
    the 3x3 and 5x5 "square" kernels (KB, KV) and the edge kernels: 12 filters."""
    bank = []

    def put(k3):
        k = np.zeros((5, 5), np.float32)
        k3 = np.asarray(k3, np.float32)
        o = (5 - k3.shape[0]) // 2
        k[o : o + k3.shape[0], o : o + k3.shape[1]] = k3
        bank.append(k)

    first = [[0, 0, 0], [0, -1, 1], [0, 0, 0]]
    second = [[0, 0, 0], [1, -2, 1], [0, 0, 0]]
    for k in (first, second):
        put(k)
        put(np.rot90(k))
        put(np.rot90(k, 2))
        put(np.rot90(k, 3))
    put(np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 1, -3, 3, -1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]) / 3)
    put(np.array([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]]) / 4)  # KB / "square 3x3"
    bank.append(KV.copy())
    put(np.array([[-1, 2, -1], [2, -4, 2], [0, 0, 0]]) / 4)  # "edge 3x3"
    return np.stack(bank)


class FixedHighPass(nn.Module):
    """Depthwise fixed filters: each colour channel through each kernel (not trained)."""

    def __init__(self, kernels: np.ndarray, channels: int = 3):
        super().__init__()
        k = torch.from_numpy(np.asarray(kernels, np.float32))[:, None]  # (K, 1, 5, 5)
        self.register_buffer("weight", k.repeat(channels, 1, 1, 1), persistent=False)
        self.channels = channels
        self.out_channels = channels * len(kernels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x * 255.0, self.weight, padding=2, groups=self.channels)


class XuNet(nn.Module):
    def __init__(self, channels: int = 3):
        super().__init__()
        self.hpf = FixedHighPass(KV[None], channels)
        widths = (8, 16, 32, 64, 128)
        layers, cin = [], self.hpf.out_channels
        for i, w in enumerate(widths):
            k = 5 if i < 2 else 1
            layers.append(nn.ModuleDict({"conv": nn.Conv2d(cin, w, k, padding=k // 2, bias=False),
                                         "bn": nn.BatchNorm2d(w)}))
            cin = w
        self.groups = nn.ModuleList(layers)
        self.fc = nn.Linear(cin, 1)

    def forward(self, x):
        x = self.hpf(x)
        for i, g in enumerate(self.groups):
            x = g["bn"](g["conv"](x))
            if i == 0:
                x = x.abs()
            x = torch.tanh(x) if i < 2 else F.relu(x)
            x = F.avg_pool2d(x, 5, stride=2, padding=2) if i < len(self.groups) - 1 else x.mean(dim=(2, 3))
        return self.fc(x).squeeze(1)


class YeNet(nn.Module):
    def __init__(self, channels: int = 3, tlu: float = 3.0):
        super().__init__()
        self.hpf = FixedHighPass(_srm_bank(), channels)
        self.tlu = tlu
        cfg = ((30, 3, False), (30, 3, False), (30, 3, True), (32, 5, True), (32, 5, True), (32, 3, False))
        layers, cin = [], self.hpf.out_channels
        for w, k, pool in cfg:
            layers += [nn.Conv2d(cin, w, k, padding=k // 2), nn.BatchNorm2d(w), nn.ReLU()]
            if pool:
                layers.append(nn.AvgPool2d(2))
            cin = w
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, 1)

    def forward(self, x):
        x = self.hpf(x).clamp(-self.tlu, self.tlu)
        return self.fc(self.body(x).mean(dim=(2, 3))).squeeze(1)


class _Res(nn.Module):
    def __init__(self, c: int, pool: bool, cin: int | None = None):
        super().__init__()
        cin = cin or c
        self.a = nn.Sequential(nn.Conv2d(cin, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                               nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        self.pool = pool
        self.skip = (nn.Sequential(nn.Conv2d(cin, c, 1, stride=2, bias=False), nn.BatchNorm2d(c))
                     if pool else None)

    def forward(self, x):
        y = self.a(x)
        if self.pool:
            return F.avg_pool2d(y, 3, stride=2, padding=1) + self.skip(x)
        return F.relu(x + y)


class SRNet(nn.Module):
    def __init__(self, channels: int = 3):
        super().__init__()
        self.front = nn.Sequential(nn.Conv2d(channels, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                                   nn.Conv2d(32, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.unpooled = nn.Sequential(*(_Res(16, pool=False) for _ in range(3)))
        self.pooled = nn.Sequential(_Res(32, True, 16), _Res(64, True, 32), _Res(128, True, 64))
        self.fc = nn.Linear(128, 1)

    def forward(self, x):
        x = self.pooled(self.unpooled(self.front((x - 0.5) * 4)))
        return self.fc(x.mean(dim=(2, 3))).squeeze(1)


NETS = {"xunet": XuNet, "yenet": YeNet, "srnet": SRNet}


@dataclass(frozen=True)
class DetectorConfig:
    arch: str = "yenet"
    channels: int = 3


def build(config: DetectorConfig) -> nn.Module:
    if config.arch not in NETS:
        raise ExypnoError(f"unknown detector {config.arch!r} (choose from {', '.join(ARCHS)})")
    return NETS[config.arch](config.channels)


def save_detector(net: nn.Module, config: DetectorConfig, path: Path, card: dict) -> None:
    """``NAME.safetensors`` + ``NAME.json``, the format of every model file (``nets.files``)."""
    save_network(net, path, asdict(config), card, kind=KIND)


def load_detector(path: Path) -> tuple[nn.Module, dict]:
    """The detector in ``path``, rebuilt from its card (no code runs from the file), its tensors checked."""
    return load_network(path, lambda config: build(DetectorConfig(**config)), KIND)


def to_batch(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0)


@torch.no_grad()
def score_images(net: nn.Module, images: list[np.ndarray]) -> np.ndarray:
    """P(stego) for each (H, W, 3) uint8 image (any size: the nets end in global pooling)."""
    net.eval()
    return np.array([torch.sigmoid(net(to_batch([im]))).item() for im in images])

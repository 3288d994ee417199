"""Training data: pairs of (cover, secret) crops from a folder of photos.

- The split is by file and deterministic (a hash of the file name), so the validation photos are never
  trained on, whatever order the files are listed in and however often training resumes.
- Photos are decoded once and kept in memory as uint8 (the training sets here are a few hundred photos).
- Each training sample is a random crop of a random photo at a random scale in [min_scale, 1], randomly
  flipped; the cover and the secret come from two different photos.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
MAX_SIDE = 1024  # larger photos are downscaled on load: crops are small, memory is not free


def list_photos(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def is_validation(path: Path, fraction: float) -> bool:
    """Stable split by file name: the same photo is always on the same side."""
    h = int(hashlib.sha256(path.name.encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < fraction


def split_photos(folder: Path, val_fraction: float) -> tuple[list[Path], list[Path]]:
    photos = list_photos(folder)
    val = [p for p in photos if is_validation(p, val_fraction)]
    train = [p for p in photos if not is_validation(p, val_fraction)]
    return train, val


def load_rgb(path: Path, max_side: int = MAX_SIDE) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("RGB")
        if max(im.size) > max_side:
            scale = max_side / max(im.size)
            im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
        return np.asarray(im, dtype=np.uint8).copy()


def to_tensor(batch: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0)


@dataclass
class CropSampler:
    """Draws random (cover, secret) crop pairs from in-memory photos with a seeded numpy Generator."""

    photos: list[np.ndarray]
    crop: int
    min_scale: float = 0.5

    def __post_init__(self):
        small = [i for i, p in enumerate(self.photos) if min(p.shape[:2]) < self.crop]
        if small:
            raise ValueError(f"{len(small)} photos are smaller than the crop size {self.crop}")
        if len(self.photos) < 2:
            raise ValueError("need at least two photos")

    def _crop(self, rng: np.random.Generator, photo: np.ndarray) -> np.ndarray:
        h, w = photo.shape[:2]
        lo = max(self.min_scale, self.crop / min(h, w))
        scale = rng.uniform(lo, 1.0) if lo < 1.0 else 1.0
        side = min(round(self.crop / scale), h, w)  # region that shrinks to the crop at this scale
        y = rng.integers(0, h - side + 1)
        x = rng.integers(0, w - side + 1)
        region = photo[y : y + side, x : x + side]
        if side != self.crop:
            region = np.asarray(
                Image.fromarray(region).resize((self.crop, self.crop), Image.Resampling.BILINEAR)
            )
        if rng.random() < 0.5:
            region = region[:, ::-1]
        if rng.random() < 0.5:
            region = region[::-1]
        return region

    def batch(self, rng: np.random.Generator, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        covers, secrets = [], []
        for _ in range(size):
            i, j = rng.choice(len(self.photos), size=2, replace=False)
            covers.append(self._crop(rng, self.photos[i]))
            secrets.append(self._crop(rng, self.photos[j]))
        return to_tensor(np.stack(covers)), to_tensor(np.stack(secrets))


def fixed_pairs(photos: list[np.ndarray], crop: int, count: int, seed: int = 1234):
    """A fixed validation set: the same crops every time, so validation figures are comparable."""
    rng = np.random.default_rng(seed)
    sampler = CropSampler(photos, crop, min_scale=1.0)
    return sampler.batch(rng, count)

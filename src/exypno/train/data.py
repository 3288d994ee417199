"""Training data: pairs of (cover, secret) crops from a folder of photos.

- The split is by file and deterministic (``media.folders.is_validation``), so the validation photos are
  never trained on.
- Photos are decoded once and kept in memory as uint8 (the training sets here are a few hundred photos).
- Each training sample is a random crop of a random photo at a random scale in [min_scale, 1], randomly
  flipped; the cover and the secret come from two different photos.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.utils.data
from PIL import Image

from ..media.folders import is_validation, list_photos, list_sounds

MAX_SIDE = 1024  # larger photos are downscaled on load: crops are small, memory is not free


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
    """Draws random (cover, secret) crop pairs from in-memory photos with a seeded numpy Generator.

    Crops are ``crop`` x ``crop`` pixels, or ``crop`` rows by ``width`` columns when ``width`` is given
    (images paired with audio are cut to the STFT grid's 256 rows)."""

    photos: list[np.ndarray]
    crop: int
    min_scale: float = 0.5
    width: int | None = None

    def __post_init__(self):
        ch, cw = self.crop, self.width or self.crop
        small = [i for i, p in enumerate(self.photos) if p.shape[0] < ch or p.shape[1] < cw]
        if small:
            raise ValueError(f"{len(small)} photos are smaller than the crop size {cw}x{ch}")
        if len(self.photos) < 2:
            raise ValueError("need at least two photos")

    def _crop(self, rng: np.random.Generator, photo: np.ndarray) -> np.ndarray:
        h, w = photo.shape[:2]
        ch, cw = self.crop, self.width or self.crop
        lo = max(self.min_scale, ch / h, cw / w)
        scale = rng.uniform(lo, 1.0) if lo < 1.0 else 1.0
        rh, rw = min(round(ch / scale), h), min(round(cw / scale), w)  # region that shrinks to the crop
        y = rng.integers(0, h - rh + 1)
        x = rng.integers(0, w - rw + 1)
        region = photo[y : y + rh, x : x + rw]
        if (rh, rw) != (ch, cw):
            region = np.asarray(Image.fromarray(region).resize((cw, ch), Image.Resampling.BILINEAR))
        if rng.random() < 0.5:
            region = region[:, ::-1]
        if rng.random() < 0.5:
            region = region[::-1]
        return region

    def draw(self, rng: np.random.Generator, size: int) -> torch.Tensor:
        """``size`` crops of random photos, for pairings where only one side is an image."""
        return to_tensor(np.stack([self._crop(rng, self.photos[rng.integers(len(self.photos))])
                                   for _ in range(size)]))

    def batch(self, rng: np.random.Generator, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        covers, secrets = [], []
        for _ in range(size):
            i, j = rng.choice(len(self.photos), size=2, replace=False)
            covers.append(self._crop(rng, self.photos[i]))
            secrets.append(self._crop(rng, self.photos[j]))
        return to_tensor(np.stack(covers)), to_tensor(np.stack(secrets))


class BatchStream(torch.utils.data.IterableDataset):
    """Endless training batches drawn in DataLoader worker processes (``exypno train --workers N``).

    On a GPU one process cannot crop and resize photos as fast as the GPU trains on them: each worker
    draws whole batches with ``draw(rng, size)`` on its own generator, seeded by (seed, rank, first step,
    worker), so that a run is repeatable from its start. A resumed run draws other batches than the run
    would have drawn had it gone on: only the in-process default (no workers) resumes bit for bit.
    """

    def __init__(self, draw, size: int, seed: tuple[int, ...]):
        super().__init__()
        self.draw, self.size, self.seed = draw, size, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        torch.set_num_threads(1)  # workers share the cores with each other and the training process
        rng = np.random.default_rng([*self.seed, info.id if info else 0])
        while True:
            yield self.draw(rng, self.size)


def batch_stream(draw, size: int, workers: int, seed: tuple[int, ...], pin: bool = False):
    """An iterator of ``draw(rng, size)`` batches from ``workers`` processes (forked: the photos are
    shared copy-on-write, not pickled)."""
    loader = torch.utils.data.DataLoader(
        BatchStream(draw, size, seed), batch_size=None, num_workers=workers, pin_memory=pin,
        prefetch_factor=4, persistent_workers=True, multiprocessing_context="fork",
    )
    return iter(loader)


def fixed_pairs(photos: list[np.ndarray], crop: int, count: int, seed: int = 1234):
    """A fixed validation set: the same crops every time, so validation figures are comparable."""
    rng = np.random.default_rng(seed)
    sampler = CropSampler(photos, crop, min_scale=1.0)
    return sampler.batch(rng, count)


# --- audio ---------------------------------------------------------------------------------------------

def split_sounds(folder: Path, val_fraction: float) -> tuple[list[Path], list[Path]]:
    sounds = list_sounds(folder)
    return ([p for p in sounds if not is_validation(p, val_fraction)],
            [p for p in sounds if is_validation(p, val_fraction)])


def load_pcm16(path: Path) -> np.ndarray:
    """A 16 kHz mono file from scripts/install-audio as int16 (half the memory of float32)."""
    import soundfile as sf

    data, _ = sf.read(str(path), dtype="int16", always_2d=True)
    return data[:, 0].copy()


@dataclass
class ClipSampler:
    """Random segments of ``samples`` samples from in-memory recordings, each brought to a random level.

    Levels are drawn log-uniformly between ``level_db`` (RMS in dBFS), so that the models meet quiet and
    loud covers and secrets; a segment that is mostly silence is drawn again (a few tries), and a
    recording shorter than the segment sits at a random place in silence.
    """

    clips: list[np.ndarray]
    samples: int
    level_db: tuple[float, float] = (-32.0, -16.0)

    def _segment(self, rng: np.random.Generator) -> np.ndarray:
        for _ in range(4):
            clip = self.clips[rng.integers(len(self.clips))]
            if len(clip) >= self.samples:
                s = rng.integers(0, len(clip) - self.samples + 1)
                x = clip[s : s + self.samples].astype(np.float32) / 32768
            else:
                x = np.zeros(self.samples, np.float32)
                s = rng.integers(0, self.samples - len(clip) + 1)
                x[s : s + len(clip)] = clip.astype(np.float32) / 32768
            rms = float(np.sqrt(np.mean(x**2)))
            if rms > 1e-3:
                break
        gain = 10 ** (rng.uniform(*self.level_db) / 20) / max(rms, 1e-4)
        gain = min(gain, 0.99 / max(float(np.abs(x).max()), 1e-6))  # never clip
        return x * gain

    def draw(self, rng: np.random.Generator, size: int) -> torch.Tensor:
        return torch.from_numpy(np.stack([self._segment(rng) for _ in range(size)]))

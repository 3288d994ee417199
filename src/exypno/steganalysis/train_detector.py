"""Train a learned detector on (cover, stego) pairs: ``exypno detector train``.

Pairs are matched by file name (``clean/x.png`` with ``stego/x.png``); each batch holds both images of
every pair it draws, cropped at the same place, so the network sees the embedding and not the content.
A split by pair (never by image) keeps a validation set; the figures are the ROC AUC and the accuracy at
the equal-error threshold, measured on whole validation images.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ExypnoError
from ..media.folders import is_validation, list_photos
from ..media.image import read_image
from .learned import DetectorConfig, build, save_detector, score_images, to_batch
from .report import roc_auc


def paired_files(clean: Path, stego: Path) -> list[tuple[Path, Path]]:
    by_name = {p.stem: p for p in list_photos(stego)}
    pairs = [(c, by_name[c.stem]) for c in list_photos(clean) if c.stem in by_name]
    if len(pairs) < 4:
        raise ExypnoError(f"need at least 4 (clean, stego) pairs with the same file names; found {len(pairs)}")
    return pairs


def equal_error(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(threshold, accuracy) where the false-alarm and miss rates are closest."""
    best = (0.5, 0.0, np.inf)
    for t in np.unique(scores):
        fa = np.mean(scores[labels == 0] >= t)
        miss = np.mean(scores[labels == 1] < t)
        if abs(fa - miss) < best[2]:
            acc = 1 - (fa + miss) / 2
            best = (float(t), float(acc), abs(fa - miss))
    return best[0], best[1]


def _crop_pair(rng, clean: np.ndarray, stego: np.ndarray, size: int):
    h, w = clean.shape[:2]
    if h < size or w < size:
        raise ExypnoError(f"images must be at least {size}x{size} for training crops")
    y, x = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
    c, s = clean[y : y + size, x : x + size], stego[y : y + size, x : x + size]
    if rng.random() < 0.5:
        c, s = c[:, ::-1], s[:, ::-1]
    k = int(rng.integers(0, 4))
    return np.ascontiguousarray(np.rot90(c, k)), np.ascontiguousarray(np.rot90(s, k))


def evaluate_detector(net, pairs) -> dict:
    images = [read_image(p) for pair in pairs for p in pair]
    labels = np.array([0, 1] * len(pairs))
    scores = score_images(net, images)
    threshold, accuracy = equal_error(scores, labels)
    return {"auc": roc_auc(scores, labels), "eer_threshold": threshold, "eer_accuracy": accuracy,
            "pairs": len(pairs)}


def train_detector(clean: Path, stego: Path, output: Path, arch: str = "yenet", steps: int = 2000,
                   pairs_per_batch: int = 8, crop: int = 128, lr: float = 1e-3, val_fraction: float = 0.2,
                   seed: int = 0, progress: bool = True) -> dict:
    pairs = paired_files(clean, stego)
    val = [p for p in pairs if is_validation(p[0], val_fraction)]
    train = [p for p in pairs if not is_validation(p[0], val_fraction)]
    if len(val) < 2 or len(train) < 2:
        raise ExypnoError(f"{len(pairs)} pairs are too few to hold out a validation split")
    images = [(read_image(c), read_image(s)) for c, s in train]
    config = DetectorConfig(arch=arch)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build(config)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    labels = torch.tensor([0.0, 1.0] * pairs_per_batch)
    t0 = time.time()
    net.train()
    from tqdm import tqdm

    for step in tqdm(range(1, steps + 1), disable=not progress, desc=f"detector {arch}"):
        batch = []
        for i in rng.integers(0, len(images), pairs_per_batch):
            batch += _crop_pair(rng, *images[i], crop)
        loss = F.binary_cross_entropy_with_logits(net(to_batch(batch)), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
    figures = evaluate_detector(net, val)
    card = {"clean": str(clean), "stego": str(stego), "train_pairs": len(train), "steps": steps,
            "pairs_per_batch": pairs_per_batch, "crop": crop, "lr": lr, "seed": seed,
            "minutes": round((time.time() - t0) / 60, 2), "validation": figures}
    save_detector(net, config, output, card)
    return {"config": asdict(config), **card}

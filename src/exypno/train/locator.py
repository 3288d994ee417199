"""Training a model's grid locator (nets/locator.py) on that model's own stegos, cut at known offsets.

The sender's nets (CN, EN) stay as they are: the locator learns what their residual looks like, so it fits
one model and is trained again for another (scripts/add_locator.py adds it to the model's file). Stegos are
hidden from random crops of the training photos (a share of them hiding a flat picture, as a video's black
frame does: there the residual carries no secret's texture; a share of the covers noised, up to near-uniform
noise, where the encoder writes another residual and a locator trained on photos alone read a wrong shift
with confidence), rounded to 8 bits as a PNG holds them, and cut at random offsets; the label is the offset
modulo the grid. Validation cuts stegos of the validation photos at
every offset, and keeps the locator with the most right answers, then the widest worst margin.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ..nets.locator import GridLocator
from ..nets.models import StegoModel
from .data import CropSampler, load_rgb, split_photos


@dataclass
class LocatorConfig:
    data: str  # folder of training photos (the model's own: scripts/install-media)
    steps: int = 600
    batch: int = 32
    crop: int = 128  # side of the cuts it trains on
    side: int = 192  # side of the stegos they are cut from
    pool: int = 1024  # stegos hidden before training (drawn from again and again)
    flat_share: float = 0.15  # share of stegos hiding one flat colour
    noisy_share: float = 0.15  # share of covers with Gaussian noise added, of a std up to noise_max levels
    noise_max: float = 80.0
    min_scale: float = 0.15
    lr: float = 1e-3
    seed: int = 0
    val_fraction: float = 0.08  # the training loop's split (same photos on the same side)
    val_stegos: int = 32
    val_every: int = 100


def hide_pool(model: StegoModel, photos: list[np.ndarray], count: int, side: int, flat_share: float,
              rng: np.random.Generator, min_scale: float, noisy_share: float = 0.0, noise_max: float = 0.0
              ) -> torch.Tensor:
    """``count`` stegos of ``side`` x ``side`` as uint8 (N, C, side, side)."""
    sampler = CropSampler(photos, side, min_scale=min_scale)
    out, done = [], 0
    with torch.inference_mode():
        while done < count:
            covers, secrets = sampler.batch(rng, min(16, count - done))
            done += len(covers)
            flat = torch.from_numpy(rng.random(len(secrets)) < flat_share)
            colours = torch.from_numpy(rng.random((len(secrets), secrets.shape[1], 1, 1))).float()
            secrets = torch.where(flat[:, None, None, None], colours.expand_as(secrets), secrets)
            noisy = rng.random(len(covers)) < noisy_share
            std = torch.from_numpy(noisy * rng.uniform(0, noise_max / 255, len(covers))).float()[:, None, None, None]
            noise = torch.from_numpy(rng.standard_normal(covers.shape)).float()
            covers = (covers + std * noise).clamp(0, 1).mul(255).round().div(255)  # an 8-bit picture again
            out.append(model.hide(covers, secrets).clamp(0, 1).mul(255).round().to(torch.uint8))
    return torch.cat(out)


def cuts(stegos: torch.Tensor, picks: list[int], offsets: list[tuple[int, int]], crop: int, m: int
         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut stego ``picks[i]`` at ``offsets[i]``: (float batch in [0, 1], labels dy * m + dx)."""
    x = torch.stack([stegos[k, :, t : t + crop, l : l + crop] for k, (t, l) in zip(picks, offsets)]).float() / 255
    return x, torch.tensor([(t % m) * m + l % m for t, l in offsets])


def validate(locator: GridLocator, stegos: torch.Tensor, crop: int) -> dict:
    """Every stego cut at every offset in the grid's first block: share right, and the worst margin (the
    log-probability of the right shift over the best wrong one)."""
    m = locator.multiple
    offsets = [(dy, dx) for dy in range(m) for dx in range(m)]
    right, margins = 0, []
    with torch.inference_mode():
        for k in range(len(stegos)):
            x, y = cuts(stegos, [k] * len(offsets), offsets, crop, m)
            logp = locator(x).log_softmax(1)
            truth = logp.gather(1, y[:, None])[:, 0]
            other = logp.scatter(1, y[:, None], float("-inf")).max(1).values
            right += int((truth > other).sum())
            margins.append(float((truth - other).min()))
    return {"right": right / (len(stegos) * len(offsets)), "worst_margin": min(margins)}


def train_locator(model: StegoModel, cfg: LocatorConfig, out: Path | None = None, log=print) -> tuple[GridLocator, dict]:
    """Train a locator for ``model``'s stegos; with ``out``, write ``best.safetensors`` and ``log.jsonl`` there at
    every validation. Returns the best locator and its validation."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    m = model.multiple
    train_files, val_files = split_photos(Path(cfg.data), cfg.val_fraction)
    photos, val_photos = ([p for p in (load_rgb(f) for f in files) if min(p.shape[:2]) >= cfg.side]
                          for files in (train_files, val_files))
    started = time.time()
    pool = hide_pool(model, photos, cfg.pool, cfg.side, cfg.flat_share, rng, cfg.min_scale, cfg.noisy_share,
                     cfg.noise_max)
    val = hide_pool(model, val_photos, cfg.val_stegos, cfg.side, cfg.flat_share, np.random.default_rng(1234), 1.0,
                    cfg.noisy_share, cfg.noise_max)
    log(f"hid {len(pool)} training and {len(val)} validation stegos in {time.time() - started:.0f} s")
    locator = GridLocator(m, model.config.cover_channels)
    opt = torch.optim.Adam(locator.parameters(), cfg.lr)
    best, best_state = None, None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
        (out / "log.jsonl").write_text("")
    for step in range(1, cfg.steps + 1):
        locator.train()
        picks = rng.integers(len(pool), size=cfg.batch).tolist()
        offsets = [tuple(int(v) for v in rng.integers(0, cfg.side - cfg.crop + 1, 2)) for _ in picks]
        x, y = cuts(pool, picks, offsets, cfg.crop, m)
        loss = F.cross_entropy(locator(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % cfg.val_every == 0 or step == cfg.steps:
            locator.eval()
            v = validate(locator, val, cfg.crop)
            row = {"step": step, "loss": round(loss.item(), 5), **v, "seconds": round(time.time() - started, 1)}
            log(json.dumps(row))
            if best is None or (v["right"], v["worst_margin"]) > (best["right"], best["worst_margin"]):
                best = row
                best_state = {k: t.detach().clone() for k, t in locator.state_dict().items()}
                if out is not None:
                    save_file(best_state, str(out / "best.safetensors"))
            if out is not None:
                with open(out / "log.jsonl", "a") as f:
                    f.write(json.dumps(row) + "\n")
    locator.load_state_dict(best_state)
    locator.eval()
    return locator, best

"""``exypno train``: one loop that reads top to bottom.

config -> data -> model -> optimizer -> loop (loss, step, validate, checkpoint).

The channel between the encoder and the decoder is what a receiver really gets: the stego clamped to
[0, 1] and rounded to 8 bits (straight-through), then the paper's Gaussian noise layer. Validation uses
the exact 8-bit stego and an 8-bit revealed secret, as files would hold them.
"""
from __future__ import annotations

import hashlib
import json
import math
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ..errors import ExypnoError
from ..evaluate.metrics import psnr_from_mse
from ..nets import PRESETS, StegoModel, count_parameters
from ..nets.files import save_model
from ..nets.layers import GaussianNoise, quantize_8bit
from ..nets.noise import NoiseChannel
from . import distributed
from .checkpoint import load_checkpoint, read_meta, save_checkpoint
from .data import CropSampler, fixed_pairs, load_rgb, split_photos


@dataclass
class TrainConfig:
    data: str
    out: str
    preset: str = "haar"
    width: int | None = None  # overrides of the preset (haar only)
    blocks: tuple[int, int, int] | None = None
    levels: int | None = None
    crop: int = 64
    batch: int = 12
    lr: float = 1e-3
    min_lr: float = 1e-6
    alpha: float = 1.0  # weight of the cover MSE
    beta: float = 0.75  # weight of the secret MSE
    noise: float = 0.25 / 255  # max std of the always-on Gaussian noise layer (the paper's), in [0, 1] units
    attacks: str = ""  # noise layers drawn one per step (nets/noise.py), e.g. "jpeg:50-95,crop:0.5-1"
    steps: int = 10000
    val_every: int = 250
    val_pairs: int = 48
    val_crop: int = 128
    val_fraction: float = 0.08
    min_scale: float = 0.5
    seed: int = 0
    threads: int | None = None
    max_minutes: float | None = None  # stop (with a checkpoint) after this much wall time
    init: str | None = None  # start from the weights of this model file (fine-tuning), not from random
    bits: int = 0  # > 0: the secret is this many planes of random bits (a bit-hiding model), not a photo
    cover_target: float | None = None  # dB: steer alpha each step so that the cover PSNR settles here
    alpha_rate: float = 0.02  # how fast alpha moves: log(alpha) changes by this much per dB off the target
    extra: dict = field(default_factory=dict)

    def net_config(self):
        if self.init:  # fine-tuning keeps the architecture of the weights it starts from
            from ..nets.files import read_card
            from ..nets.models import NetConfig

            return NetConfig.from_dict(read_card(Path(self.init))["config"])
        base = PRESETS[self.preset]
        overrides = {k: v for k, v in (("width", self.width), ("blocks", self.blocks), ("levels", self.levels))
                     if v is not None}
        if self.bits:
            overrides["secret_channels"] = self.bits
        return type(base)(**{**asdict(base), **overrides})


class _Channel(nn.Module):
    """One end-to-end pass, sender to receiver: the module DistributedDataParallel wraps.

    stego -> 8-bit PNG values -> an attack drawn from the noise layers -> the paper's Gaussian noise -> DN.
    Returns the stego, the revealed secret and what it should be (the secret, or its crop).
    """

    def __init__(self, model: StegoModel, noise: GaussianNoise, attacks: NoiseChannel):
        super().__init__()
        self.model = model
        self.noise = noise
        self.attacks = attacks

    def forward(self, cover: torch.Tensor, secret: torch.Tensor):
        stego = quantize_8bit(self.model.hide(cover, secret))
        received, box = self.attacks(stego, cover)
        revealed = self.model.reveal(self.noise(received))
        if box is not None:
            top, left, h, w = box
            secret = secret[..., top : top + h, left : left + w]
        return stego, revealed, secret


def _evaluate(model: StegoModel, covers: torch.Tensor, secrets: torch.Tensor, device, bits: bool = False,
              chunk: int = 16) -> dict:
    """Cover PSNR on the 8-bit stego, as a PNG file would hold it; then the secret PSNR of the 8-bit reveal,
    or, for a bit-hiding model (``bits``), the error rate of the decoder's hard decisions."""
    model.eval()
    cov_mse, sec = [], []
    with torch.no_grad():
        for i in range(0, len(covers), chunk):
            c, s = covers[i : i + chunk].to(device), secrets[i : i + chunk].to(device)
            stego = torch.round(model.hide(c, s).clamp(0, 1) * 255) / 255
            out = model.reveal(stego)
            cov_mse.append(((stego - c) * 255).pow(2).mean(dim=(1, 2, 3)).cpu())
            if bits:
                sec.append(((out > 0).float() != s).float().mean(dim=(1, 2, 3)).cpu())
            else:
                revealed = torch.round(out.clamp(0, 1) * 255) / 255
                sec.append(((revealed - s) * 255).pow(2).mean(dim=(1, 2, 3)).cpu())
    model.train()
    cov = torch.cat(cov_mse).numpy()
    sec = torch.cat(sec).numpy()
    figures = {"cover_psnr": float(psnr_from_mse(cov).mean()), "cover_psnr_worst": float(psnr_from_mse(cov).min())}
    if bits:
        figures.update(bit_error_rate=float(sec.mean()), bit_error_rate_worst=float(sec.max()))
    else:
        figures.update(secret_psnr=float(psnr_from_mse(sec).mean()), secret_psnr_worst=float(psnr_from_mse(sec).min()))
    return figures


def random_bits(shape, generator: torch.Generator | None = None) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=generator).float()


def parameter_digest(model: nn.Module) -> str:
    """SHA-256 of every parameter's bytes: equal digests mean bit-identical models."""
    h = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _load_initial_weights(model: StegoModel, path: Path) -> None:
    from ..nets.files import load_model

    start, _ = load_model(path)
    if start.config != model.config or getattr(start, "part", "full") != "full":
        raise ExypnoError(f"{path}: its architecture ({start.config}) is not this run's ({model.config})")
    model.load_state_dict(start.state_dict())


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True) -> dict:
    ctx = distributed.setup()
    try:
        return _train(cfg, ctx, resume, progress)
    finally:
        distributed.teardown(ctx)


def _train(cfg: TrainConfig, ctx: distributed.Context, resume: bool, progress: bool) -> dict:
    out = Path(cfg.out)
    ckpt_path = out / "checkpoint.safetensors"
    if resume:
        if not ckpt_path.exists():
            raise ExypnoError(f"{ckpt_path}: no checkpoint to resume")
        saved = read_meta(ckpt_path)["config"]
        # Resuming keeps the run's own settings; only where things are and the stopping rules may change.
        keep = {"data": cfg.data, "out": cfg.out, "steps": cfg.steps, "max_minutes": cfg.max_minutes,
                "threads": cfg.threads}
        if saved.get("blocks") is not None:
            saved["blocks"] = tuple(saved["blocks"])
        cfg = TrainConfig(**{**saved, **keep})
    if ctx.main:
        out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    train_files, val_files = split_photos(Path(cfg.data), cfg.val_fraction)
    if len(train_files) < 2 or len(val_files) < 2:
        raise ExypnoError(f"{cfg.data}: need at least two training and two validation photos")
    train_photos = [p for p in (load_rgb(f) for f in train_files) if min(p.shape[:2]) >= cfg.crop]
    sampler = CropSampler(train_photos, cfg.crop, cfg.min_scale)
    if ctx.main:
        val_photos = [p for p in (load_rgb(f) for f in val_files) if min(p.shape[:2]) >= cfg.val_crop]
        val_covers, val_secrets = fixed_pairs(val_photos, cfg.val_crop, cfg.val_pairs)
        if cfg.bits:
            val_secrets = random_bits((len(val_covers), cfg.bits, cfg.val_crop, cfg.val_crop),
                                      torch.Generator().manual_seed(4321))

    torch.manual_seed(cfg.seed)  # the same initial model on every rank
    model = StegoModel(cfg.net_config()).to(ctx.device)
    if cfg.init and not resume:
        _load_initial_weights(model, Path(cfg.init))
    if ctx.rank:
        torch.manual_seed(cfg.seed + 1000 * ctx.rank)  # but each rank its own noise
    rng = np.random.default_rng(cfg.seed + ctx.rank)  # and its own crops
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=0.5, patience=3, min_lr=cfg.min_lr
    )
    meta = {"step": 0, "best": None, "seconds": 0.0, "config": asdict(cfg), "world_size": ctx.world,
            "alpha": cfg.alpha}
    if resume:
        meta, numpy_states, torch_states = load_checkpoint(
            ckpt_path, model=model, optimizer=optimizer, scheduler=scheduler, device=ctx.device
        )
        # Exact resume needs every rank's random streams; with another process count they start afresh.
        if len(numpy_states) == ctx.world and ctx.rank in torch_states:
            rng.bit_generator.state = numpy_states[ctx.rank]
            torch.set_rng_state(torch_states[ctx.rank])
        meta["config"] = asdict(cfg)
        meta["world_size"] = ctx.world
    channel = _Channel(model, GaussianNoise(cfg.noise), NoiseChannel(cfg.attacks))
    if ctx.world > 1:
        channel = DistributedDataParallel(channel, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)

    # SIGTERM or Ctrl-C: finish the step, validate, checkpoint, then stop (a later --resume goes on).
    stop = {"asked": False}

    def ask_stop(signum, frame):
        stop["asked"] = True

    in_main = threading.current_thread() is threading.main_thread()  # signals can only be caught there
    previous = {sig: signal.signal(sig, ask_stop) for sig in (signal.SIGTERM, signal.SIGINT)} if in_main else {}
    log = (out / "log.jsonl").open("a") if ctx.main else None
    model.train()
    start_step, t0, seconds0 = meta["step"], time.time(), meta["seconds"]
    bar = tqdm(total=cfg.steps, initial=start_step, disable=not (progress and ctx.main), dynamic_ncols=True)
    last = {}
    try:
        for step in range(start_step + 1, cfg.steps + 1):
            cover, secret = (t.to(ctx.device) for t in sampler.batch(rng, cfg.batch))
            if cfg.bits:
                secret = random_bits((cfg.batch, cfg.bits, *cover.shape[-2:])).to(ctx.device)
            stego, revealed, target = channel(cover, secret)
            cover_loss = F.mse_loss(stego, cover)
            if cfg.bits:  # the decoder's output is a logit per bit
                secret_loss = F.binary_cross_entropy_with_logits(revealed, target)
            else:
                secret_loss = F.mse_loss(revealed, target)
            alpha = meta.get("alpha", cfg.alpha)
            loss = alpha * cover_loss + cfg.beta * secret_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if not math.isfinite(loss.item()):
                raise RuntimeError(f"loss is {loss.item()} at step {step}")
            cover_db = float(psnr_from_mse(cover_loss.item() * 255**2))
            if cfg.cover_target is not None:
                # Dual ascent on "cover PSNR >= target": more weight on the cover while it is below, less above.
                # Every rank sees its own batch, so rank 0's value is shared to keep the losses identical.
                step_alpha = alpha * math.exp(cfg.alpha_rate * max(-5.0, min(5.0, cfg.cover_target - cover_db)))
                meta["alpha"] = ctx.share(min(1e7, max(1e-3, step_alpha)))
            bar.update(1)
            shown = ({"bce": f"{secret_loss.item():.3f}"} if cfg.bits else
                     {"secret": f"{psnr_from_mse(secret_loss.item() * 255**2):.1f}"})
            bar.set_postfix(loss=f"{loss.item():.2e}", cover=f"{cover_db:.1f}", **shown, refresh=False)

            elapsed = seconds0 + time.time() - t0
            out_of_time = stop["asked"] or (cfg.max_minutes is not None and time.time() - t0 > cfg.max_minutes * 60)
            out_of_time = ctx.share(out_of_time)  # rank 0's clock and signals decide for all
            if not (step % cfg.val_every == 0 or step == cfg.steps or out_of_time):
                continue
            numpy_states = ctx.gather(rng.bit_generator.state)
            torch_states = ctx.gather(torch.get_rng_state())
            val_loss = None
            if ctx.main and cfg.bits:
                figures = _evaluate(model, val_covers, val_secrets, ctx.device, bits=True)
                # Fewest bit errors, with a cover under its target counted as worse.
                short = max(0.0, (cfg.cover_target or 0.0) - figures["cover_psnr"])
                val_loss = figures["bit_error_rate"] + 0.01 * short
            elif ctx.main:
                figures = _evaluate(model, val_covers, val_secrets, ctx.device)
                # Plateau on the training objective, measured on validation in 8-bit.
                val_loss = cfg.alpha * 10 ** (-figures["cover_psnr"] / 10) + cfg.beta * 10 ** (
                    -figures["secret_psnr"] / 10
                )
            val_loss = ctx.share(val_loss)
            scheduler.step(val_loss)
            if ctx.main:
                last = {"step": step, "seconds": round(elapsed, 1), "lr": optimizer.param_groups[0]["lr"],
                        "alpha": meta.get("alpha", cfg.alpha), "samples": step * cfg.batch * ctx.world,
                        "val_loss": val_loss, **figures}
                log.write(json.dumps(last) + "\n")
                log.flush()
                meta.update(step=step, seconds=elapsed)
                if meta["best"] is None or val_loss < meta["best"]["val_loss"]:
                    meta["best"] = last
                    save_model(model, out / "best.safetensors", card={"training": last})
                save_checkpoint(ckpt_path, model=model, optimizer=optimizer, scheduler=scheduler,
                                numpy_states=numpy_states, torch_states=torch_states, meta=meta)
                what = (f"bit errors {figures['bit_error_rate']:.2e}" if cfg.bits
                        else f"secret {figures['secret_psnr']:.2f} dB")
                bar.write(f"step {step}: cover {figures['cover_psnr']:.2f} dB, {what}, lr {last['lr']:.1e}")
            if out_of_time:
                break
    finally:
        bar.close()
        if log:
            log.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return {"last": last, "best": meta["best"], "parameters": count_parameters(model),
            "parameter_digest": parameter_digest(model), "rank": ctx.rank, "world_size": ctx.world}

"""``exypno train``: one loop that reads top to bottom.

config -> data -> model -> optimizer -> loop (loss, step, validate, checkpoint).

The channel between the encoder and the decoder is what a receiver really gets: the stego as its file
holds it (clamped and rounded to 8-bit pixels, or inverted to a 16-bit PCM waveform, straight-through;
see domains.py), then the paper's Gaussian noise layer. Validation uses the exact file values of the
stego and, for images, an 8-bit revealed secret.

A pairing (``--pairing``) says what the cover and the secret are: image in image (the default), or one
of the audio pairings, where the other side comes from ``--audio`` and every tensor is an STFT grid of
256 rows by ``--crop`` frames.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import signal
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ..channel.noise import NoiseChannel, jpeg_roundtrip, on_grid
from ..errors import ExypnoError
from ..media.audio import LEVEL_DB, SPECTROGRAMS
from ..nets import PRESETS, NetConfig, StegoModel, count_parameters
from ..nets.files import save_model
from ..nets.layers import GaussianNoise
from . import distributed
from .checkpoint import load_checkpoint, read_meta, save_checkpoint
from .data import ClipSampler, CropSampler, batch_stream, fixed_pairs, load_pcm16, load_rgb, split_photos, split_sounds
from .domains import PAIRINGS, SPECTROGRAM, pairing_domains
from .memory import keep_freed_memory


@dataclass
class TrainConfig:
    data: str
    out: str
    preset: str = "haar"
    width: int | None = None  # overrides of the preset (haar only)
    blocks: tuple[int, int, int] | None = None
    levels: int | None = None
    lattice: tuple[float, ...] | None = None
    qim: tuple[float, float] | None = None  # (span, mu): the fixed lattice code (nets/lattice.py LatticeCode)
    crop: int = 64
    batch: int = 12
    lr: float = 1e-3
    lr_warmup: int = 0  # steps over which the rate rises linearly from 0 (fine-tuning: Adam's first steps
    # move every weight by about lr, which undoes a trained model before its moments are known)
    min_lr: float = 1e-6
    alpha: float = 1.0  # weight of the cover MSE
    beta: float = 0.75  # weight of the secret MSE
    # max std of the always-on Gaussian noise layer (the paper's), in [0, 1] units; None: 0.25 levels, or none
    # for lattice models, whose channel is the 16-bit file itself (such noise, 1e-3 in grid units, drowns a
    # code on periods of 0.016)
    noise: float | None = None
    attacks: str = ""  # noise layers drawn one per step (channel/noise.py), e.g. "jpeg:50-95,crop:0.5-1"
    steps: int = 10000
    val_every: int = 250
    val_pairs: int = 48
    val_crop: int = 128
    val_fraction: float = 0.08
    min_scale: float = 0.5
    seed: int = 0
    threads: int | None = None
    workers: int = 0  # > 0: draw training batches in this many worker processes (data.BatchStream)
    device: str = "auto"  # "cpu", "cuda" or "auto" (CUDA where PyTorch sees it): distributed.setup
    max_minutes: float | None = None  # stop (with a checkpoint) after this much wall time
    init: str | None = None  # start from the weights of this model file (fine-tuning), not from random
    # train DN alone, CN and EN kept as --init gave them: the stegos (so the cover's quality, and every stego
    # already written) stay as they were, and the decoder learns to read them through new noise layers
    decoder_only: bool = False
    bits: int = 0  # > 0: the secret is this many planes of random bits (a bit-hiding model), not a photo
    bit_block: int = 1  # with bits: each bit fills a square of this side (robust to JPEG; see BitsDomain)
    val_jpeg: int | None = None  # validate (and pick the best) after a JPEG re-save of the stego at this quality
    # validate also on a window of this fraction of each stego's side, at a fixed offset per pair, padded onto
    # the grid as reveal pads a crop; the best is then the one whose reveal of the crops is best
    val_cropgrid: float | None = None
    cover_target: float | None = None  # dB: steer alpha each step so that the cover PSNR settles here
    alpha_rate: float = 0.02  # how fast alpha moves: log(alpha) changes by this much per dB off the target
    cover_warmup: int = 0  # steps over which the cover target rises from warmup_db below to its value
    warmup_db: float = 20.0  # how far below cover_target the warmup starts (less when resuming a trained model)
    pairing: str = "image-in-image"  # see domains.PAIRINGS
    audio: str | None = None  # folder of sounds (scripts/install-audio), for the audio pairings
    spectrogram: str = "complex"  # the audio grid's representation (media/audio.py Spectrogram)
    secret_level: tuple[float, float] = ClipSampler.level_db  # dBFS RMS range of sound secrets (and validation's)
    extra: dict = field(default_factory=dict)

    def domains(self):
        return pairing_domains(self.pairing, self.bits, self.spectrogram, self.bit_block)

    def bit_shape(self, n: int, h: int, w: int) -> tuple[int, int, int, int]:
        return (n, self.bits, h // self.bit_block, w // self.bit_block)

    def net_config(self):
        if self.init:  # fine-tuning keeps the architecture of the weights it starts from
            from ..nets.files import read_card

            # but not a border decoder or a grid locator: they fit one encoder's stegos, and a run trains CN, EN
            # and DN. New ones are trained for the result (--decoder-only, scripts/add_border_decoder.py;
            # scripts/add_locator.py).
            return NetConfig.from_dict({**read_card(Path(self.init))["config"], "border": False, "locator": False})
        base = PRESETS[self.preset]
        overrides = {k: v for k, v in (("width", self.width), ("blocks", self.blocks), ("levels", self.levels),
                                       ("lattice", self.lattice), ("qim", self.qim)) if v is not None}
        cover, secret = self.domains()
        overrides.update(cover_channels=cover.channels, secret_channels=secret.channels)
        return type(base)(**{**asdict(base), **overrides})


class _Channel(nn.Module):
    """One end-to-end pass, sender to receiver: the module DistributedDataParallel wraps.

    stego -> the values its file holds -> an attack drawn from the noise layers (image covers) -> the
    paper's Gaussian noise -> DN. Takes media as the domains hold them (images, waveforms, bit planes);
    returns the stego as its file holds it, the decoder's output tensor and what it should reveal (the
    secret, or its crop).
    """

    def __init__(self, model: StegoModel, noise: GaussianNoise, attacks: NoiseChannel, domains,
                 decoder_only: bool = False):
        super().__init__()
        self.model = model
        self.decoder_only = decoder_only
        self.noise = noise
        self.attacks = attacks
        self.cover_domain, self.secret_domain = domains

    def forward(self, cover: torch.Tensor, secret: torch.Tensor):
        cd, sd = self.cover_domain, self.secret_domain
        cover_t = cd.to_net(cover)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.decoder_only):
            stego = cd.to_file(self.model.hide(cover_t, sd.to_net(secret)), like=cover)
        received, box = self.attacks(stego, cover) if cd.kind == "image" else (stego, None)
        revealed = self.model.reveal(self.noise(cd.to_net(received)))
        if box is not None:  # the window kept: that crop of the secret, from where it sits in the reveal
            top, left, h, w, dy, dx = box
            secret = secret[..., top : top + h, left : left + w]
            revealed = revealed[..., dy : dy + h, dx : dx + w]
        return stego, revealed, secret


def evaluate_model(model: StegoModel, covers: torch.Tensor, secrets: torch.Tensor, device, domains,
              chunk: int = 16, jpeg: int | None = None, cropgrid: float | None = None) -> dict:
    """The cover's figure on the stego as its file holds it (PSNR of the 8-bit image, SNR of the 16-bit
    waveform); then the secret's: PSNR of the 8-bit revealed image, SNR of the revealed waveform, or, for a
    bit-hiding model, the error rate of the decoder's hard decisions. With ``jpeg`` (an image cover), the
    secret's figure is taken after re-saving the stego as JPEG at that quality (and without it, as *_clean).
    With ``cropgrid`` (image in image), also on a window of that fraction of the side (secret_psnr_crop),
    at an offset that differs from pair to pair but not from one validation to the next."""
    cd, sd = domains
    model.eval()
    cov, sec, clean, cropped = [], [], [], []
    with torch.no_grad():
        for i in range(0, len(covers), chunk):
            c, s = covers[i : i + chunk].to(device), secrets[i : i + chunk].to(device)
            stego = cd.exact_file(model.hide(cd.to_net(c), sd.to_net(s)), like=c)

            def score(seen):  # the secret's figure from what the receiver sees: bit errors, or dB
                out = sd.from_net(model.reveal(cd.to_net(seen)), like=s)
                if sd.kind == "bits":
                    return ((out > 0).float() != s).float().mean(dim=(1, 2, 3)).cpu()
                return sd.db(sd.exact_file(out, like=s) if sd.kind == "image" else out, s).cpu()

            cov.append(cd.db(stego, c).cpu())
            if cropgrid:
                h, w = stego.shape[-2:]
                ch, cw = round(h * cropgrid), round(w * cropgrid)
                for j in range(len(stego)):
                    k = i + j
                    seen, (top, left, _, _, dy, dx) = on_grid(
                        stego[j : j + 1], (k * 7) % (h - ch + 1), (k * 11) % (w - cw + 1), ch, cw, model.multiple)
                    out = sd.exact_file(model.reveal(cd.to_net(seen)), like=seen)[..., dy : dy + ch, dx : dx + cw]
                    cropped.append(sd.db(out, s[j : j + 1, :, top : top + ch, left : left + cw]).cpu())
            if jpeg:
                clean.append(score(stego))
            sec.append(score(jpeg_roundtrip(stego, jpeg) if jpeg else stego))
    model.train()
    cov = torch.cat(cov).numpy()
    sec = torch.cat(sec).numpy()
    unit = {"image": "psnr", "audio": "snr"}
    figures = {f"cover_{unit[cd.kind]}": float(cov.mean()), f"cover_{unit[cd.kind]}_worst": float(cov.min())}
    if sd.kind == "bits":
        figures.update(bit_error_rate=float(sec.mean()), bit_error_rate_worst=float(sec.max()))
        if jpeg:
            figures.update(jpeg_quality=jpeg, bit_error_rate_clean=float(torch.cat(clean).mean()))
    else:
        figures.update({f"secret_{unit[sd.kind]}": float(sec.mean()), f"secret_{unit[sd.kind]}_worst": float(sec.min())})
        if jpeg:
            figures.update(jpeg_quality=jpeg, **{f"secret_{unit[sd.kind]}_clean": float(torch.cat(clean).mean())})
        if cropgrid:
            figures.update(crop_fraction=cropgrid, secret_psnr_crop=float(torch.cat(cropped).mean()))
    return figures


def _data(cfg: TrainConfig, main: bool):
    """(draw, validation): ``draw(rng, n)`` gives a training batch (cover, secret) as the domains hold them;
    ``validation`` is a fixed (covers, secrets) set on files training never sees (None off rank 0)."""
    cover_kind, secret_kind = PAIRINGS[cfg.pairing]
    frames = cfg.crop
    samplers, val_samplers = {}, {}
    if "image" in (cover_kind, secret_kind):
        train_files, val_files = split_photos(Path(cfg.data), cfg.val_fraction)
        if len(train_files) < 2 or len(val_files) < 2:
            raise ExypnoError(f"{cfg.data}: need at least two training and two validation photos")
        if cfg.pairing == "image-in-image":
            rows, val_rows, width, val_width = cfg.crop, cfg.val_crop, None, None
        else:  # an image paired with audio is a grid of STFT rows by frames
            rows = val_rows = SPECTROGRAM.bins
            width, val_width = cfg.crop, cfg.val_crop
        fits = lambda p, r, w: p.shape[0] >= r and p.shape[1] >= (w or r)  # noqa: E731
        photos = [p for p in (load_rgb(f) for f in train_files) if fits(p, rows, width)]
        samplers["image"] = CropSampler(photos, rows, cfg.min_scale, width)
        if main:
            val_photos = [p for p in (load_rgb(f) for f in val_files) if fits(p, val_rows, val_width)]
            val_samplers["image"] = CropSampler(val_photos, val_rows, 1.0, val_width)
    if "audio" in (cover_kind, secret_kind):
        if not cfg.audio:
            raise ExypnoError(f"--pairing {cfg.pairing} needs --audio FOLDER (see scripts/install-audio)")
        train_files, val_files = split_sounds(Path(cfg.audio), cfg.val_fraction)
        if len(train_files) < 2 or len(val_files) < 2:
            raise ExypnoError(f"{cfg.audio}: need at least two training and two validation sounds")
        clips = [load_pcm16(f) for f in train_files]
        val_clips = [load_pcm16(f) for f in val_files] if main else []
        spec = SPECTROGRAMS[cfg.spectrogram]  # its hop says how many samples a crop of frames is
        # Secrets come at any level; a sound cover at LEVEL_DB +-3 dB, where hide and reveal bring it first.
        for key, levels in (("audio", tuple(cfg.secret_level)), ("audio-cover", (LEVEL_DB - 3, LEVEL_DB + 3))):
            samplers[key] = ClipSampler(clips, spec.samples(frames), levels)
            if main:
                val_samplers[key] = ClipSampler(val_clips, spec.samples(cfg.val_crop), levels)
    cover_key = "audio-cover" if cover_kind == "audio" else cover_kind

    if cfg.pairing == "image-in-image":
        sampler = samplers["image"]
        draw = sampler.batch
        validation = None
        if main:
            validation = fixed_pairs(val_samplers["image"].photos, cfg.val_crop, cfg.val_pairs)
    else:
        def draw(rng, n):
            return samplers[cover_key].draw(rng, n), samplers[secret_kind].draw(rng, n)

        validation = None
        if main:
            val_rng = np.random.default_rng(1234)
            validation = (val_samplers[cover_key].draw(val_rng, cfg.val_pairs),
                          val_samplers[secret_kind].draw(val_rng, cfg.val_pairs))
    if main and cfg.bits:
        covers = validation[0]
        validation = (covers, random_bits(cfg.bit_shape(len(covers), *covers.shape[-2:]),
                                          torch.Generator().manual_seed(4321)))
    return draw, validation


def _headline(figures: dict) -> tuple[float, float | None]:
    """(cover dB, secret dB) of a validation, whatever the media: PSNR for images, SNR for audio."""
    cover = figures.get("cover_psnr", figures.get("cover_snr"))
    return cover, figures.get("secret_psnr", figures.get("secret_snr"))


def cover_target_at(cfg: TrainConfig, step: int) -> float:
    """The cover target at ``step``: with ``cover_warmup``, it starts ``warmup_db`` lower and rises linearly.

    A noise-like secret (a sound's STFT grid) is not learnt while the encoder may only whisper: with the
    cover held at 33 dB from the start, secret SNR stayed at 0.0 dB for 300 steps. A loud start lets the
    encoder and decoder find a code first; the rising target then quietens it.
    """
    if cfg.cover_warmup <= 0 or step >= cfg.cover_warmup:
        return cfg.cover_target
    return cfg.cover_target - cfg.warmup_db * (1 - step / cfg.cover_warmup)


def random_bits(shape, generator: torch.Generator | None = None) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=generator).float()


def parameter_digest(model: nn.Module) -> str:
    """SHA-256 of every parameter's bytes: equal digests mean bit-identical models."""
    h = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def hardware(device: torch.device) -> str:
    """What a run trains on, for its checkpoint and the model card."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} GPU, PyTorch {torch.__version__}"
    return f"{os.cpu_count()}-core {platform.machine()} CPU, PyTorch {torch.__version__}"


def _load_initial_weights(model: StegoModel, path: Path, spectrogram: str | None = None) -> None:
    from ..nets.files import load_model

    start, card = load_model(path)
    if replace(start.config, border=False, locator=False) != model.config or getattr(start, "part", "full") != "full":
        raise ExypnoError(f"{path}: its architecture ({start.config}) is not this run's ({model.config})")
    if spectrogram and card.get("spectrogram", spectrogram) != spectrogram:
        raise ExypnoError(f"{path}: it was trained on {card['spectrogram']!r} audio grids, this run uses "
                          f"{spectrogram!r} (--spectrogram)")
    model.load_state_dict({k: v for k, v in start.state_dict().items()
                           if not k.startswith(("border_decoder.", "locator."))})


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True) -> dict:
    ctx = distributed.setup(cfg.device)
    try:
        return _train(cfg, ctx, resume, progress)
    finally:
        distributed.teardown(ctx)


def _resumed(cfg: TrainConfig, ckpt_path: Path) -> tuple[TrainConfig, dict]:
    """The run's own config and network config, from its checkpoint: resuming keeps the run's settings; only
    where things are and the stopping rules may change."""
    if not ckpt_path.exists():
        raise ExypnoError(f"{ckpt_path}: no checkpoint to resume")
    saved_meta = read_meta(ckpt_path)
    if "net_config" not in saved_meta:
        raise ExypnoError(f"{ckpt_path}: not a checkpoint this version of exypno can resume (no net_config)")
    saved, saved_net = saved_meta["config"], saved_meta["net_config"]
    keep = {"data": cfg.data, "out": cfg.out, "steps": cfg.steps, "max_minutes": cfg.max_minutes,
            "threads": cfg.threads, "workers": cfg.workers, "device": cfg.device}
    for key in ("blocks", "lattice", "qim"):
        if saved.get(key) is not None:
            saved[key] = tuple(saved[key])
    return TrainConfig(**{**saved, **keep}), saved_net


def _check(cfg: TrainConfig, cover_domain, net_config: NetConfig, resume: bool) -> None:
    """One-line errors for options that do not go together; sets the Gaussian noise's default."""
    if cfg.attacks and cover_domain.kind != "image":
        raise ExypnoError("noise layers (--noise LIST) are for image covers only")
    if cfg.bit_block > 1 and (cfg.crop % cfg.bit_block or cfg.val_crop % cfg.bit_block or "crop" in cfg.attacks):
        raise ExypnoError(f"--bit-block {cfg.bit_block} needs crops that are multiples of it and no crop noise")
    if cfg.noise is None:
        cfg.noise = 0.0 if net_config.lattice else 0.25 / 255
    elif net_config.lattice and cfg.noise:
        raise ExypnoError("a lattice model's channel is the 16-bit file itself: train it with --noise 0")
    if cfg.decoder_only and not (cfg.init or resume):
        raise ExypnoError("--decoder-only trains the decoder of a model that hides already: give --init")
    if cfg.val_cropgrid and cfg.pairing != "image-in-image":
        raise ExypnoError("--val-cropgrid is for image in image")
    if cfg.val_jpeg and cover_domain.kind != "image":
        raise ExypnoError("--val-jpeg is for models whose cover is an image")


def _validation_loss(cfg: TrainConfig, figures: dict, step: int) -> tuple[float, float, float]:
    """(the figure the plateau and the best model go by, cover dB, secret dB) of a validation."""
    cover_db, secret_db = _headline(figures)
    if cfg.val_cropgrid:  # the best is the one that reveals crops best (the clean figure is logged)
        secret_db = figures["secret_psnr_crop"]
    short = max(0.0, (cover_target_at(cfg, step) if cfg.cover_target else 0.0) - cover_db)
    if cfg.bits:
        # Fewest bit errors, with a cover under its target counted as worse.
        return figures["bit_error_rate"] + 0.01 * short, cover_db, secret_db
    if cfg.cover_target is not None:
        # The secret's error, with every dB the cover is under its (final) target counted against it:
        # alpha moves with the target, so the weighted loss would compare different objectives.
        return 10 ** (-secret_db / 10) * (1 + max(0.0, cfg.cover_target - cover_db)), cover_db, secret_db
    # Plateau on the training objective, measured on validation as files hold it.
    return cfg.alpha * 10 ** (-cover_db / 10) + cfg.beta * 10 ** (-secret_db / 10), cover_db, secret_db


def _train(cfg: TrainConfig, ctx: distributed.Context, resume: bool, progress: bool) -> dict:
    out = Path(cfg.out)
    ckpt_path = out / "checkpoint.safetensors"
    if resume:
        cfg, saved_net = _resumed(cfg, ckpt_path)
    if ctx.main:
        out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    keep_freed_memory()

    domains = cfg.domains()
    cover_domain, secret_domain = domains
    # The architecture the run started with: --init's file may have changed since.
    net_config = NetConfig.from_dict(saved_net) if resume else cfg.net_config()
    _check(cfg, cover_domain, net_config, resume)
    draw, validation = _data(cfg, ctx.main)

    torch.manual_seed(cfg.seed)  # the same initial model on every rank
    model = StegoModel(net_config).to(ctx.device)
    if cfg.init and not resume:
        _load_initial_weights(model, Path(cfg.init),
                              cfg.spectrogram if "audio" in PAIRINGS[cfg.pairing] else None)
    if ctx.rank:
        torch.manual_seed(cfg.seed + 1000 * ctx.rank)  # but each rank its own noise
    rng = np.random.default_rng(cfg.seed + ctx.rank)  # and its own crops
    if cfg.decoder_only:
        for part in (model.compressor, model.encoder):
            part.requires_grad_(False)
    optimizer = torch.optim.Adam((p for p in model.parameters() if p.requires_grad), lr=cfg.lr)
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
    meta["net_config"] = net_config.to_dict()
    meta["hardware"] = hardware(ctx.device)
    channel = _Channel(model, GaussianNoise(cfg.noise), NoiseChannel(cfg.attacks, model.multiple), domains,
                       cfg.decoder_only)
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
    if ctx.device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop sizes: let cuDNN pick its fastest kernels once
    batches = None
    if cfg.workers > 0:
        batches = batch_stream(draw, cfg.batch, cfg.workers, (cfg.seed, ctx.rank, start_step),
                               pin=ctx.device.type == "cuda")
    last = {}
    try:
        for step in range(start_step + 1, cfg.steps + 1):
            batch = next(batches) if batches is not None else draw(rng, cfg.batch)
            cover, secret = (t.to(ctx.device, non_blocking=True) for t in batch)
            if cfg.bits:
                secret = random_bits(cfg.bit_shape(cfg.batch, *cover.shape[-2:])).to(ctx.device)
            stego, revealed, target = channel(cover, secret)
            cover_loss = cover_domain.loss(stego, cover)
            secret_loss = secret_domain.secret_loss(revealed, target)  # for bits: BCE on a logit per bit
            alpha = meta.get("alpha", cfg.alpha)
            loss = alpha * cover_loss + cfg.beta * secret_loss
            if step <= cfg.lr_warmup:
                for group in optimizer.param_groups:
                    group["lr"] = cfg.lr * step / cfg.lr_warmup
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if not math.isfinite(loss.item()):
                raise RuntimeError(f"loss is {loss.item()} at step {step}")
            cover_db = cover_domain.loss_db(cover_loss.item())
            if cfg.cover_target is not None:
                # Dual ascent on "cover PSNR >= target": more weight on the cover while it is below, less above.
                # Every rank sees its own batch, so rank 0's value is shared to keep the losses identical.
                target = cover_target_at(cfg, step)
                step_alpha = alpha * math.exp(cfg.alpha_rate * max(-5.0, min(5.0, target - cover_db)))
                meta["alpha"] = ctx.share(min(1e7, max(1e-3, step_alpha)))
            bar.update(1)
            shown = ({"bce": f"{secret_loss.item():.3f}"} if cfg.bits else
                     {"secret": f"{secret_domain.loss_db(secret_loss.item()):.1f}"})
            bar.set_postfix(loss=f"{loss.item():.2e}", cover=f"{cover_db:.1f}", **shown, refresh=False)

            elapsed = seconds0 + time.time() - t0
            out_of_time = stop["asked"] or (cfg.max_minutes is not None and time.time() - t0 > cfg.max_minutes * 60)
            out_of_time = ctx.share(out_of_time)  # rank 0's clock and signals decide for all
            if not (step % cfg.val_every == 0 or step == cfg.steps or out_of_time):
                continue
            numpy_states = ctx.gather(rng.bit_generator.state)
            torch_states = ctx.gather(torch.get_rng_state())
            val_loss = None
            if ctx.main:
                figures = evaluate_model(model, *validation, ctx.device, domains, jpeg=cfg.val_jpeg,
                                         cropgrid=cfg.val_cropgrid)
                val_loss, cover_db, secret_db = _validation_loss(cfg, figures, step)
            val_loss = ctx.share(val_loss)
            if step > max(cfg.cover_warmup, cfg.lr_warmup):  # no plateau to see while a warmup moves things
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
                    save_model(model, out / "best.safetensors", card={
                        "training": last, "pairing": cfg.pairing,
                        **({"spectrogram": cfg.spectrogram} if "audio" in PAIRINGS[cfg.pairing] else {})})
                save_checkpoint(ckpt_path, model=model, optimizer=optimizer, scheduler=scheduler,
                                numpy_states=numpy_states, torch_states=torch_states, meta=meta)
                what = (f"bit errors {figures['bit_error_rate']:.2e}" if cfg.bits
                        else f"secret {secret_db:.2f} dB")
                bar.write(f"step {step}: cover {cover_db:.2f} dB, {what}, lr {last['lr']:.1e}")
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

"""The three sub-networks (CN, EN, DN) and the presets that build them.

Every sub-network maps an image-shaped tensor to an image-shaped tensor (values nominally in [0, 1]):

- ``CompressorNet``: secret -> secret tensor, the secret's size.
- ``EncoderNet``: concat(cover, secret tensor) -> stego, the cover's size.
- ``DecoderNet``: stego -> revealed secret.

The sender needs CN + EN, the receiver DN alone; ``StegoModel`` holds all three for training.

Presets:

- ``paper``: the paper's base network in each sub-network, each followed by a 1x1 head. ~10 M parameters,
  about 9.7 TMAC per megapixel: faithful, but far too slow to train on a CPU.
- ``haar``: our default. Each sub-network works on the Haar sub-bands (``levels`` times, so a 4x4 block of
  pixels becomes 48 channels at 1/16 of the positions) with a narrow trunk of residual blocks, and the
  encoder writes stego = cover + learned residual. Wider channels at fewer positions make large GEMMs,
  which is what a CPU does well; the residual starts the stego at the cover, so cover quality is high from
  the first step and training spends its time on the secret.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .base import BaseNetwork
from .lattice import LatticeCode, LatticeFeatures, pack_picture, unpack_picture
from .locator import GridLocator
from .layers import ResidualBlock, haar, inverse_haar


@dataclass(frozen=True)
class NetConfig:
    """Every constructor argument of a ``StegoModel``; saved beside the weights as JSON."""

    preset: str = "haar"
    cover_channels: int = 3
    secret_channels: int = 3
    width: int = 64  # haar: channels of the trunk
    levels: int = 2  # haar: Haar levels (the input size must be a multiple of 2**levels)
    blocks: tuple[int, int, int] = field(default=(2, 4, 4))  # haar: residual blocks in CN, EN, DN
    lattice: tuple[float, ...] = ()  # periods of the fine features EN sees of the cover and DN of the stego
    # (span, mu): the modem is the fixed code LatticeCode on the first period, not a learnt one (lattice.py)
    qim: tuple[float, ...] = ()
    # a second decoder, for the band along the edges of a cropped stego that cut through the grid's blocks
    # (inference.image.Stego.reveal): trained on crops alone, with CN and EN fixed (exypno train --decoder-only)
    border: bool = False
    # a grid locator (nets/locator.py): finds the grid shift of a cropped stego for the receiver, trained on
    # this model's stegos (exypno.train.locator) and added to its file
    locator: bool = False

    def to_dict(self) -> dict:
        d = asdict(self)
        d["blocks"] = list(self.blocks)
        d["lattice"] = list(self.lattice)
        d["qim"] = list(self.qim)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "NetConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "blocks" in known:
            known["blocks"] = tuple(int(b) for b in known["blocks"])
        for key in ("lattice", "qim"):
            if key in known:
                known[key] = tuple(float(p) for p in known[key])
        return cls(**known)


# --- preset "paper" --------------------------------------------------------------------------------


class _PaperNet(nn.Module):
    """Base network + 1x1 convolution to ``out_channels``: the shape of all three paper sub-networks."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.base = BaseNetwork(in_channels)
        self.head = nn.Conv2d(BaseNetwork.out_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.base(x))


# --- preset "haar" ---------------------------------------------------------------------------------


class _HaarTrunk(nn.Module):
    """Haar analysis ``levels`` times -> conv3x3 -> residual blocks -> 1x1 -> Haar synthesis.

    Inputs are centred (x - 0.5) before the transform: the DC band of a 2-level Haar transform is four times
    the block mean, and an uncentred [0, 4] channel next to bands near zero slows Adam down.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int, blocks: int, levels: int):
        super().__init__()
        self.levels = levels
        bands = 4**levels
        self.stem = nn.Conv2d(in_channels * bands, width, 3, padding=1)
        self.blocks = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)))
        self.head = nn.Conv2d(width, out_channels * bands, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = 2**self.levels
        x = x - 0.5
        if h % m or w % m:  # any size works: pad to the Haar grid, crop the result back
            x = F.pad(x, (0, (-w) % m, 0, (-h) % m), mode="replicate")
        for _ in range(self.levels):
            x = haar(x)
        y = self.head(self.blocks(F.relu(self.stem(x))))
        for _ in range(self.levels):
            y = inverse_haar(y)
        return y[..., :h, :w]


# --- the three sub-networks ------------------------------------------------------------------------


class CompressorNet(nn.Module):
    """CN: secret -> secret tensor of the secret's size (around a fixed code: symbols, as many channels as
    the cover has)."""

    def __init__(self, config: NetConfig):
        super().__init__()
        c = config.secret_channels
        self.code = fixed_code(config)
        self.picture = _picture_code(config)
        out = config.cover_channels if self.picture else c  # a picture's symbols are a sound's grid
        if config.preset == "paper":
            self.net = _PaperNet(c, out)
        else:
            self.net = _HaarTrunk(c, out, config.width, config.blocks[0], config.levels)

        self.offset = 0.0 if config.preset == "paper" else 0.5  # the haar trunk works on centred values
        self.direct = _direct(config)
        if self.direct or self.code is not None:  # the secret itself, plus what the trunk learns to add
            _quiet_head(self.net, 0.0 if self.code is not None else 1e-3)

    def forward(self, secret: torch.Tensor) -> torch.Tensor:
        if self.picture:  # the picture packed on two channels, plus what the trunk learns to add
            return self.code.compand(pack_picture(secret)) + self.net(secret)
        if self.code is not None:  # the secret's symbols, plus what the trunk learns to add
            symbols = self.code.compand(secret)
            return symbols + self.net(symbols)
        return secret + self.net(secret) if self.direct else self.net(secret) + self.offset


def _direct(config: NetConfig) -> bool:
    """Whether a lattice model has a direct path: secret -> plan -> modem -> symbols -> secret.

    Why: with a pretrained modem (train/modem.py) but trunks that start at random, the random plan (std 0.19)
    sits far under the modem's unit symbols, no trunk knows what to send, and the secret of audio in audio
    does not leave 0 dB. Where the secret has as many channels as the cover, the secret tensor
    itself can be the plan: the model then starts at what the modem carries, and the trunks (their heads
    start near zero) learn corrections to it, as EN learns a residual on the cover.
    """
    return bool(config.lattice) and config.preset != "paper" and config.secret_channels == config.cover_channels


def fixed_code(config: NetConfig) -> LatticeCode | None:
    """The fixed lattice code of a ``qim`` model (a direct path: the secret's values, companded, are the
    symbols; each trunk learns a correction to them, starting at none). A picture on a sound's grid is
    packed on its two channels first (``pack_picture``)."""
    if not config.qim:
        return None
    if not (_direct(config) or _picture_code(config)) or len(config.qim) != 2:
        raise ValueError("qim needs a lattice, the haar preset, a secret of as many channels as the cover or "
                         "a picture on a sound's grid, and two numbers (span, mu)")
    return LatticeCode(config.lattice[0], *config.qim)


def _picture_code(config: NetConfig) -> bool:
    """Whether a ``qim`` model carries a picture (3 channels) on a sound's grid (2)."""
    return (bool(config.qim) and bool(config.lattice) and config.preset != "paper"
            and (config.cover_channels, config.secret_channels) == (2, 3))


def _quiet_head(trunk: nn.Module, std: float = 1e-3) -> None:
    """Start a trunk as (almost) nothing. Around a fixed code, at nothing at all (``std`` 0): heads of std 1e-3
    cost 3.4 dB of a code that carries 30.4 (audio in audio, ``benchmarks/lattice_code.py --only heads``), and
    a zero head still learns (its gradient is not zero)."""
    nn.init.normal_(trunk.head.weight, std=std)
    nn.init.zeros_(trunk.head.bias)


class _Pointwise(nn.Sequential):
    """A small MLP applied to every position alone (1x1 convolutions): the lattice modem's two ends."""

    def __init__(self, cin: int, cout: int, hidden: int = 64):
        super().__init__(nn.Conv2d(cin, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
                         nn.Conv2d(hidden, cout, 1))


class EncoderNet(nn.Module):
    """EN: concat(cover, secret tensor) -> stego (float; quantising to 8 bits is the channel's job).

    With a lattice (``NetConfig.lattice``) the trunk plans, from the cover and the secret tensor, what each
    value should carry, and a pointwise modulator turns that plan and the value's own fine features into
    its small residual: the code lives on single values, which is what the lattice features describe.
    With a fixed code (``NetConfig.qim``) the secret tensor is already symbols, the trunk learns a
    correction to them, and ``LatticeCode.write`` moves each cover value to its symbol.
    """

    def __init__(self, config: NetConfig):
        super().__init__()
        self.residual = config.preset != "paper"
        self.features = LatticeFeatures(config.lattice)
        c = config.cover_channels
        self.code = fixed_code(config)
        tensor = c if self.code is not None else config.secret_channels  # a code's secret tensor: symbols
        cin = self.features.channels(c) + tensor
        plan = c
        if config.preset == "paper":
            self.net = _PaperNet(cin, plan)
        else:
            self.net = _HaarTrunk(cin, plan, config.width, config.blocks[1], config.levels)
        learnt_modem = config.lattice and self.code is None
        self.modulator = _Pointwise(self.features.channels(c) + plan, c) if learnt_modem else None
        last = self.modulator[-1] if self.modulator is not None else getattr(self.net, "head", None)
        if self.residual and last is not None:
            # Start as the identity on the cover: a tiny residual, so early training does not wreck it.
            nn.init.normal_(last.weight, std=1e-3)
            nn.init.zeros_(last.bias)
        self.direct = _direct(config)
        if self.code is not None:
            _quiet_head(self.net, 0.0)
        elif self.direct:  # the plan starts as the secret tensor, scaled to the modem's unit symbols
            _quiet_head(self.net)
            self.carry = nn.Parameter(torch.full((1, c, 1, 1), 3.0))

    def forward(self, cover: torch.Tensor, secret_tensor: torch.Tensor) -> torch.Tensor:
        fine = self.features(cover)
        out = self.net(torch.cat([fine, secret_tensor], dim=1))
        if self.code is not None:  # the secret tensor is already symbols: send them, corrected
            return self.code.write(cover, secret_tensor + out)
        if self.direct:
            out = out + self.carry * secret_tensor
        if self.modulator is not None:
            out = self.modulator(torch.cat([fine, out], dim=1))
        return cover + out if self.residual else out


class DecoderNet(nn.Module):
    """DN: stego -> revealed secret. The only part the receiver holds.

    With a lattice, a pointwise demodulator reads each value's fine features first, and the trunk decodes
    the secret from what it read. With a fixed code the trunk cleans the symbols ``LatticeCode.read`` finds
    (a secret's spectrum has structure; the file's noise has none) before they are expanded to values."""

    SYMBOLS = 16  # channels the demodulator hands the trunk

    def __init__(self, config: NetConfig):
        super().__init__()
        self.features = LatticeFeatures(config.lattice)
        cin = self.features.channels(config.cover_channels)
        self.code = fixed_code(config)
        self.demodulator = _Pointwise(cin, self.SYMBOLS) if config.lattice and self.code is None else None
        if self.demodulator is not None:
            cin = self.SYMBOLS
        elif self.code is not None:
            cin = config.cover_channels  # the symbols read
        if config.preset == "paper":
            self.net = _PaperNet(cin, config.secret_channels)
        else:
            self.net = _HaarTrunk(cin, config.secret_channels, config.width, config.blocks[2], config.levels)

        self.offset = 0.0 if config.preset == "paper" else 0.5
        self.direct = _direct(config)
        self.picture = _picture_code(config)
        if self.code is not None:
            _quiet_head(self.net, 0.0)
        elif self.direct:  # the secret starts as the symbols read, scaled back (see EncoderNet.carry)
            _quiet_head(self.net)
            self.read = nn.Parameter(torch.full((1, config.secret_channels, 1, 1), 1 / 3.0))

    def forward(self, stego: torch.Tensor) -> torch.Tensor:
        if self.picture:  # the picture unpacked from the symbols read, plus the trunk's correction
            symbols = self.code.read(stego)
            return unpack_picture(self.code.expand(symbols)) + self.net(symbols)
        if self.code is not None:  # read the symbols, let the trunk clean them, expand them to values
            symbols = self.code.read(stego)
            return self.code.expand(symbols + self.net(symbols))
        x = self.features(stego)
        if self.demodulator is not None:
            x = self.demodulator(x)
        if self.direct:
            return self.net(x) + self.read * x[:, : self.read.shape[1]]
        return self.net(x) + self.offset


class StegoModel(nn.Module):
    """CN + EN + DN, trained together end to end."""

    def __init__(self, config: NetConfig):
        super().__init__()
        if config.preset not in PRESETS:
            raise ValueError(f"unknown preset {config.preset!r}")
        self.config = config
        self.compressor = CompressorNet(config)
        self.encoder = EncoderNet(config)
        self.decoder = DecoderNet(config)
        self.border_decoder = DecoderNet(config) if config.border else None
        self.locator = GridLocator(self.multiple, config.cover_channels) if config.locator else None

    @property
    def multiple(self) -> int:
        """Height and width must be multiples of this (callers pad, then crop back)."""
        return 1 if self.config.preset == "paper" else 2**self.config.levels

    def hide(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        return self.encoder(cover, self.compressor(secret))

    def reveal(self, stego: torch.Tensor) -> torch.Tensor:
        return self.decoder(stego)

    def reveal_border(self, stego: torch.Tensor) -> torch.Tensor:
        """The border decoder's reveal: right only near the cut edges of a crop (see NetConfig.border)."""
        return self.border_decoder(stego)


PRESETS: dict[str, NetConfig] = {
    "paper": NetConfig(preset="paper"),
    "haar": NetConfig(preset="haar"),
}


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def gmac_per_megapixel(model: StegoModel, size: int = 256) -> float:
    """Multiply-accumulates of CN + EN + DN per megapixel, counted with hooks on every convolution."""
    macs = 0

    def hook(mod: nn.Conv2d, _inp, out):
        nonlocal macs
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        macs += out.numel() * k

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            x = torch.zeros(1, model.config.cover_channels, size, size)
            s = torch.zeros(1, model.config.secret_channels, size, size)
            model.reveal(model.hide(x, s))
    finally:
        for h in handles:
            h.remove()
    return macs / (size * size) * 1e6 / 1e9

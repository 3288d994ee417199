"""Seal any file inside an image, and get it back bit for bit: ``seal``, ``unseal``, ``capacity``.

file -> container (compress, encrypt, Reed-Solomon; container.py) -> bits -> keyed slots -> bit-hiding
model (carrier.py) -> 8-bit PNG. A bit-hiding model's card names the *modes* it serves and how, e.g.

    "seal": {"png": {"repeat": 4, "nsym": [96, 64]}}

- ``repeat``: slots per coded bit; the receiver sums their logits (soft majority vote);
- ``nsym``: the Reed-Solomon parity ladder, strongest first. ``seal`` takes the strongest that fits the
  file, so a small file gets more protection than it strictly needs; ``unseal`` tries each in turn.

The sender decodes its own 8-bit stego before writing anything: a file that would not come back is
refused, never written.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ExypnoError
from ..media.image import check_output, read_image, write_png
from ..nets.files import load_model
from .carrier import BitCarrier, keyed_order
from .container import BLOCK, Layout, PayloadError, seal_bytes, unseal_bytes

MODELS = {"png": "seal"}  # each mode's shipped bit-hiding model (a JPEG-robust mode is not trained yet)
MODES = tuple(MODELS)
MAX_SIDE = 1024  # the carrier is the top-left MAX_SIDE x MAX_SIDE at most: bounded time and memory


@dataclass
class SealMode:
    name: str
    carrier: BitCarrier
    nsyms: tuple[int, ...]

    @classmethod
    def load(cls, mode: str, model: str | Path | None = None) -> "SealMode":
        if mode not in MODELS and model is None:
            raise ExypnoError(f"unknown seal mode {mode!r} (modes: {', '.join(MODES)})")
        net, card, path = _load_net(model or MODELS[mode])
        specs = card.get("seal")
        if not isinstance(specs, dict) or getattr(net, "part", "full") != "full":
            raise ExypnoError(f"{path}: not a bit-hiding model for sealing files")
        spec = specs.get(mode)
        if not isinstance(spec, dict):
            raise ExypnoError(f"{path}: has no seal mode {mode!r} (it has: {', '.join(specs)})")
        carrier = BitCarrier(net, repeat=int(spec.get("repeat", 1)))
        return cls(mode, carrier, tuple(sorted(spec.get("nsym", [32]), reverse=True)))

    def region(self, h: int, w: int) -> tuple[int, int]:
        return self.carrier.region(min(h, MAX_SIDE), min(w, MAX_SIDE))

    def layouts(self, h: int, w: int) -> list[Layout]:
        rh, rw = self.region(h, w)
        raw = self.carrier.capacity_bits(rh, rw) // 8
        return [Layout(raw - raw % BLOCK, nsym) for nsym in self.nsyms]

    def capacity(self, h: int, w: int) -> int:
        """Largest file (bytes, before compression) that fits, with the weakest parity of the ladder."""
        return self.layouts(h, w)[-1].max_file_bytes

    def order(self, h: int, w: int, passphrase: str) -> np.ndarray:
        rh, rw = self.region(h, w)
        return keyed_order(self.carrier.slots(rh, rw), passphrase)


_NETS: dict[str, tuple] = {}
_LOADED: dict[tuple[str, str], SealMode] = {}


def _load_net(model: str | Path):
    from ..api import model_path

    path = model_path(model)
    key = str(path.resolve())
    if key not in _NETS:
        net, card = load_model(path)
        _NETS[key] = (net, card, path)
    return _NETS[key]


def load_mode(mode: str, model: str | Path | None = None) -> SealMode:
    key = (mode, str(model))
    if key not in _LOADED:
        _LOADED[key] = SealMode.load(mode, model)
    return _LOADED[key]


def capacity(cover, modes=MODES, model: str | Path | None = None) -> dict[str, dict]:
    """For each mode: bytes a file may have (before compression) and net bits per cover pixel."""
    img = read_image(cover)
    h, w = img.shape[:2]
    out = {}
    for m in modes:
        mode = load_mode(m, model)
        n = mode.capacity(h, w)
        out[mode.name] = {"bytes": n, "net_bpp": n * 8 / (h * w), "region": mode.region(h, w)}
    return out


def codeword_errors(wrong_bits: np.ndarray, layout: Layout) -> np.ndarray:
    """Damaged bytes per codeword, from a mask of wrong bits over the carrier (byte j is in codeword j mod n)."""
    n = layout.codewords
    bad = np.flatnonzero(wrong_bits.reshape(-1, 8).any(axis=1))
    bad = bad[bad < n * BLOCK]
    return np.bincount(bad % n, minlength=n)


def within_ecc(wrong_bits: np.ndarray, layout: Layout) -> bool:
    """Every codeword within what Reed-Solomon corrects, with a quarter of it kept in reserve (a receiver on
    another machine may see a logit near zero fall the other way)."""
    limit = layout.nsym // 2 - max(1, layout.nsym // 8)
    return bool(codeword_errors(wrong_bits, layout).max(initial=0) <= limit)


def _unseal_with(mode: SealMode, image: np.ndarray, passphrase: str, layouts=None,
                 order: np.ndarray | None = None) -> tuple[str, bytes]:
    h, w = image.shape[:2]
    rh, rw = mode.region(h, w)
    if rh == 0 or rw == 0:  # narrower than the carrier's grid: it holds no slot, so nothing can be sealed here
        raise PayloadError(f"no sealed file: the image ({w}x{h}) is too small to carry one")
    logits = mode.carrier.logits(image[:rh, :rw])
    if order is None:  # scrypt: the sender, who has just computed it, passes it in
        order = mode.order(h, w, passphrase)
    damaged = None
    for layout in layouts or mode.layouts(h, w):
        if layout.codewords == 0:
            continue
        bits = mode.carrier.read(logits, order, layout.capacity * 8)
        try:
            return unseal_bytes(np.packbits(bits).tobytes(), passphrase, layout)
        except PayloadError as e:
            if "damaged" in str(e) or "inconsistent" in str(e):
                damaged = e
    if damaged:
        raise damaged
    raise PayloadError("no sealed file for this passphrase (wrong passphrase, or nothing sealed here)")


def seal(cover, data: bytes, name: str, passphrase: str, output=None, mode: str = "png",
         force: bool = False, steps: int = 60, model: str | Path | None = None) -> tuple[np.ndarray, dict]:
    """The stego image (uint8) carrying ``data`` (named ``name``); written as PNG to ``output`` if given."""
    if output is not None:
        check_output(output, force)
    img = read_image(cover)
    h, w = img.shape[:2]
    sm = load_mode(mode, model)
    layouts = [lay for lay in sm.layouts(h, w) if lay.codewords > 0]
    if not layouts:
        raise PayloadError(f"the cover ({w}x{h}) is too small to carry a sealed file in {sm.name} mode")
    for layout in layouts:  # strongest parity that fits
        try:
            blob = seal_bytes(data, name, passphrase, layout)
            break
        except PayloadError:
            continue
    else:
        raise PayloadError(f"the file needs more room than this cover carries in {sm.name} mode "
                           f"({sm.capacity(h, w):,} bytes before compression; try a larger cover)")
    bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8))
    rh, rw = sm.region(h, w)
    order = sm.order(h, w, passphrase)
    region, info = sm.carrier.embed(img[:rh, :rw], bits, order, steps=steps,
                                    accept=lambda wrong: within_ecc(wrong, layout))
    stego = img.copy()
    stego[:rh, :rw] = region
    # The receiver's view: the exact 8-bit stego, decoded by the receiver's code path.
    try:
        got = _unseal_with(sm, stego, passphrase, [layout], order)
    except PayloadError:
        got = None
    if got is None or got[1] != data:  # (the name rides in the same authenticated body)
        raise PayloadError(f"this cover cannot carry the file reliably in {sm.name} mode (it did not decode "
                           "back); try a smaller file or a larger, more detailed cover")
    mse = float(np.mean((stego.astype(np.float64) - img) ** 2))
    info.update(mode=sm.name, nsym=layout.nsym, carrier_bytes=layout.capacity,
                cover_psnr=float(10 * np.log10(255**2 / mse)) if mse else float("inf"))
    if output is not None:
        write_png(output, stego, force)
    return stego, info


def unseal(stego, passphrase: str, modes=MODES, model: str | Path | None = None) -> tuple[str, bytes]:
    """(original file name, bytes), exactly as sealed, trying each mode; ``PayloadError`` says why not."""
    img = read_image(stego)
    failure = None
    for m in modes:
        try:
            return _unseal_with(load_mode(m, model), img, passphrase)
        except PayloadError as e:
            if failure is None or "damaged" in str(e):
                failure = e
    raise failure

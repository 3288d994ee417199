"""Seal any file inside an image, and get it back bit for bit: ``seal``, ``unseal``, ``capacity``.

file -> container (compress, encrypt, Reed-Solomon; container.py) -> bits -> LDPC codewords (ldpc.py) ->
keyed slots -> bit-hiding model (carrier.py) -> 8-bit PNG. A bit-hiding model's card names the *modes* it
serves and how, e.g.

    "seal": {"png": {"rates": [0.4, 0.6], "ldpc_n": 8192, "nsym": 16, "llr_scale": 0.75}}

- ``rates``: the LDPC code rates, a ladder: ``seal`` takes the strongest (lowest) that fits the file, so a
  small file gets more protection than it strictly needs; ``unseal`` tries each in turn. ``capacity`` is
  the weakest's.
- ``ldpc_n``: coded bits per LDPC codeword; ``nsym``: Reed-Solomon parity bytes per 255, the outer code.
- ``llr_scale``: turns the decoder's votes into log-likelihood ratios (measured: scripts/seal_rates.py).
- ``llr``: ``"fixed"`` (default: LLR = llr_scale * vote) or ``"blind"``: the scale is estimated from the
  votes themselves, as for BPSK in Gaussian noise (2 mu / sigma^2, mu = mean |vote|), times llr_scale. A
  channel that is not the one trained on (JPEG with full-resolution chroma, say) changes how loud the votes
  are, 4x for that one; a fixed scale then makes belief propagation overconfident and it fails.
- ``repeat`` (default 1): slots per coded bit; ``block`` (default 1): the model's ``--bit-block``.
- ``jpeg`` (robust modes): the stego must also survive a re-save as JPEG at this quality (Pillow/libjpeg,
  4:2:0). The sender's refinement then works on what the receiver sees after that re-save.

The sender decodes its own 8-bit stego (and, with ``jpeg``, its JPEG re-save) before writing anything: a file
that would not come back is refused, never written.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..channel.noise import jpeg_roundtrip
from ..errors import ExypnoError
from ..media.image import check_output, read_image, resave, write_png
from ..nets.files import load_model, torch_device
from ..registry import model_path
from .carrier import BitCarrier, keyed_order
from .container import BLOCK, Layout, PayloadError, seal_bytes, stored_name, unseal_bytes
from .ldpc import Blocks, code

MODELS = {"png": "seal", "robust": "seal-robust"}  # each mode's shipped bit-hiding model
MODES = tuple(MODELS)
MAX_SIDE = 1024  # the carrier is the top-left MAX_SIDE x MAX_SIDE at most: bounded time and memory


class Unreliable(PayloadError):
    """The file fits, but this cover does not carry it back reliably (a smaller file may go)."""


NOTHING = "no sealed file for this passphrase (wrong passphrase, nothing sealed here, or damaged past reading)"


@dataclass(frozen=True)
class Rung:
    """One level of protection: LDPC codewords at one rate carrying a Reed-Solomon layout."""

    blocks: Blocks
    layout: Layout


@dataclass
class SealMode:
    name: str
    carrier: BitCarrier
    rates: tuple[float, ...]  # strongest (lowest) first
    ldpc_n: int
    nsym: int
    llr_scale: float
    jpeg: int | None = None  # the JPEG quality the stego must survive (None: it must stay lossless)
    blind: bool = False  # estimate the LLR scale from the votes (see the module's docstring)

    @classmethod
    def load(cls, mode: str, model: str | Path | None = None, device: str = "auto") -> "SealMode":
        if mode not in MODELS and model is None:
            raise ExypnoError(f"unknown seal mode {mode!r} (modes: {', '.join(MODES)})")
        net, card, path = _load_net(model or MODELS[mode], device)
        specs = card.get("seal")
        if not isinstance(specs, dict) or getattr(net, "part", "full") != "full":
            raise ExypnoError(f"{path}: not a bit-hiding model for sealing files")
        spec = specs.get(mode)
        if not isinstance(spec, dict) or "rates" not in spec:
            raise ExypnoError(f"{path}: has no seal mode {mode!r} (it has: {', '.join(specs)})")
        carrier = BitCarrier(net, repeat=int(spec.get("repeat", 1)), block=int(spec.get("block", 1)))
        return cls(mode, carrier, tuple(sorted(float(r) for r in spec["rates"])), int(spec.get("ldpc_n", 8192)),
                   int(spec.get("nsym", 16)), float(spec.get("llr_scale", 1.0)),
                   int(spec["jpeg"]) if spec.get("jpeg") else None, spec.get("llr", "fixed") == "blind")

    @property
    def survives(self) -> str:
        return (f"survives a re-save as JPEG at quality {self.jpeg}" if self.jpeg
                else "the stego must stay a PNG (lossless)")

    def views(self, stego: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """What a receiver may get, each with how it came: the stego itself and, for a robust mode, its JPEG
        re-save."""
        return [("", stego)] + ([(f" after a JPEG re-save at quality {self.jpeg}", resave(stego, "JPEG", self.jpeg))]
                                if self.jpeg else [])

    def refinement_view(self):
        """The refinement's view of the receiver: a JPEG re-save, its gradient passed straight through."""
        if not self.jpeg:
            return None
        return lambda x: x + (jpeg_roundtrip(x, self.jpeg) - x).detach()

    def region(self, h: int, w: int) -> tuple[int, int]:
        return self.carrier.region(min(h, MAX_SIDE), min(w, MAX_SIDE))

    def rungs(self, h: int, w: int) -> list[Rung]:
        rh, rw = self.region(h, w)
        count = self.carrier.capacity_bits(rh, rw) // self.ldpc_n
        out = []
        for rate in self.rates:
            blocks = Blocks(code(self.ldpc_n, int(round(rate * self.ldpc_n))), count)
            raw = blocks.info_bits // 8
            out.append(Rung(blocks, Layout(raw - raw % BLOCK, self.nsym)))
        return out

    def capacity(self, h: int, w: int) -> int:
        """Largest file (bytes, before compression) that fits, on the weakest rung of the ladder."""
        return self.rungs(h, w)[-1].layout.max_file_bytes

    def order(self, h: int, w: int, passphrase: str) -> np.ndarray:
        rh, rw = self.region(h, w)
        return keyed_order(self.carrier.slots(rh, rw), passphrase)

    def llr(self, logits: np.ndarray, order: np.ndarray, rung: Rung) -> np.ndarray:
        return self.to_llr(self.carrier.votes(logits, order, rung.blocks.coded_bits))

    def to_llr(self, votes: np.ndarray) -> np.ndarray:
        if not self.blind:
            return self.llr_scale * votes
        mu = float(np.abs(votes).mean())
        var = float(np.mean(votes.astype(np.float64) ** 2)) - mu**2
        return self.llr_scale * 2 * mu / max(var, 1e-6) * votes


_NETS: dict[str, tuple] = {}
_LOADED: dict[tuple[str, str, str], SealMode] = {}


def _load_net(model: str | Path, device: str = "auto"):
    """The bit-hiding model, once per process and device; ``device``: auto (CUDA where torch sees it), cpu or cuda."""
    path, dev = model_path(model), torch_device(device)
    key = f"{path.resolve()}@{dev}"
    if key not in _NETS:
        net, card = load_model(path)
        _NETS[key] = (net.to(dev), card, path)
    return _NETS[key]


def load_mode(mode: str, model: str | Path | None = None, device: str = "auto") -> SealMode:
    key = (mode, str(model), str(torch_device(device)))
    if key not in _LOADED:
        _LOADED[key] = SealMode.load(mode, model, device)
    return _LOADED[key]


def capacity(cover, modes=MODES, model: str | Path | None = None) -> dict[str, dict]:
    """For each mode: bytes a file may have (before compression) and net bits per cover pixel."""
    img = read_image(cover)
    h, w = img.shape[:2]
    out = {}
    for m in modes:
        mode = load_mode(m, model)
        n = mode.capacity(h, w)
        out[mode.name] = {"bytes": n, "net_bpp": n * 8 / (h * w), "region": mode.region(h, w),
                          "jpeg": mode.jpeg, "survives": mode.survives}
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


def _unseal_with(mode: SealMode, image: np.ndarray, passphrase: str, rungs=None,
                 order: np.ndarray | None = None) -> tuple[str, bytes]:
    h, w = image.shape[:2]
    rh, rw = mode.region(h, w)
    if rh == 0 or rw == 0:  # narrower than the carrier's grid: it holds no slot, so nothing can be sealed here
        raise PayloadError(f"no sealed file: the image ({w}x{h}) is too small to carry one")
    logits = mode.carrier.logits(image[:rh, :rw])
    if order is None:  # scrypt: the sender, who has just computed it, passes it in
        order = mode.order(h, w, passphrase)
    damaged = None
    for rung in rungs or mode.rungs(h, w):
        if rung.layout.codewords == 0:
            continue
        llr = mode.llr(logits, order, rung)
        # The first codewords decide: with a wrong passphrase, or nothing here, none of them converges
        # (found in a second, without decoding the whole carrier).
        first = [rung.blocks.decode_block(llr, i) for i in range(min(2, rung.blocks.count))]
        if not any(ok for _, ok in first):
            continue
        rest = [rung.blocks.decode_block(llr, i)[0] for i in range(len(first), rung.blocks.count)]
        bits = np.concatenate([b for b, _ in first] + rest)
        try:
            return unseal_bytes(np.packbits(bits[: rung.layout.capacity * 8]).tobytes(), passphrase, rung.layout)
        except PayloadError as e:
            if "damaged" in str(e) or "inconsistent" in str(e):
                damaged = e
    if damaged:
        raise damaged
    raise PayloadError(NOTHING)


def seal(cover, data: bytes, name: str, passphrase: str, output=None, mode: str = "png",
         force: bool = False, steps: int = 100, model: str | Path | None = None, device: str = "auto"
         ) -> tuple[np.ndarray, dict]:
    """The stego image (uint8) carrying ``data`` (named ``name``); written as PNG to ``output`` if given.
    ``device``: where the bit-hiding model runs (auto, cpu or cuda)."""
    if output is not None:
        check_output(output, force)
    img = read_image(cover)
    h, w = img.shape[:2]
    sm = load_mode(mode, model, device)
    rungs = [r for r in sm.rungs(h, w) if r.layout.codewords > 0]
    if not rungs:
        raise PayloadError(f"the cover ({w}x{h}) is too small to carry a sealed file in {sm.name} mode")
    for rung in rungs:  # strongest protection that fits
        try:
            blob = seal_bytes(data, name, passphrase, rung.layout)
            break
        except PayloadError:
            continue
    else:
        raise PayloadError(f"the file needs more room than this cover carries in {sm.name} mode "
                           f"({sm.capacity(h, w):,} bytes before compression; try a larger cover)")
    bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8))
    gen = np.random.default_rng()
    coded = rung.blocks.encode(bits, gen)
    code = rung.blocks.code
    sent = coded.reshape(rung.blocks.count, code.n)[:, : code.k]  # systematic: the information bits

    def accept(votes: np.ndarray):
        """Within what Reed-Solomon fixes (with its reserve)? The refinement leans on the codewords that fail."""
        llr = sm.to_llr(votes)
        # A codeword whose hard decisions are all right needs no decoding; the others go through BP.
        done = ((llr > 0) == coded.astype(bool)).reshape(rung.blocks.count, code.n).all(axis=1)
        wrong = np.zeros(sent.shape, bool)  # what the receiver's decoding gets wrong
        for i in np.flatnonzero(~done):
            got, converged = rung.blocks.decode_block(llr, i)
            wrong[i] = got != sent[i]
            done[i] = converged and not wrong[i].any()
        # Every payload bit keeps a margin; those of failed codewords weigh five times as much.
        return within_ecc(wrong.reshape(-1)[: len(bits)], rung.layout), np.repeat(1 + 4 * ~done, code.n)

    rh, rw = sm.region(h, w)
    order = sm.order(h, w, passphrase)
    region, info = sm.carrier.embed(img[:rh, :rw], coded, order, steps=steps, generator=gen, accept=accept,
                                    check_every=5, view=sm.refinement_view())
    stego = img.copy()
    stego[:rh, :rw] = region
    # The receiver's views: the exact 8-bit stego (and its JPEG re-save), decoded by the receiver's code path.
    for after, seen in sm.views(stego):
        try:
            got = _unseal_with(sm, seen, passphrase, [rung], order)
        except PayloadError:
            got = None
        if got is None or got[1] != data:  # (the name rides in the same authenticated body)
            raise Unreliable(f"this cover cannot carry the file reliably in {sm.name} mode (it did not decode "
                               f"back{after}); try a smaller file or a larger, more detailed cover")
    mse = float(np.mean((stego.astype(np.float64) - img) ** 2))
    info.update(mode=sm.name, jpeg=sm.jpeg, nsym=rung.layout.nsym, ldpc_rate=code.rate, carrier_bytes=rung.layout.capacity,
                cover_psnr=float(10 * np.log10(255**2 / mse)) if mse else float("inf"))
    if output is not None:
        write_png(output, stego, force)
    return stego, info


def seal_picture(cover, picture, name: str, passphrase: str, output=None, mode: str = "png",
                 force: bool = False, model: str | Path | None = None, device: str = "auto") -> tuple[np.ndarray, dict]:
    """Seal ``picture`` re-encoded as AVIF (payload/picture.py) as large and good as the cover carries back.

    The file is named after ``name`` with the suffix ``.avif``. Each rung's room is tried from the weakest
    code up: a cover that does not carry the largest file back reliably gets a smaller one."""
    from .picture import fit

    if output is not None:
        check_output(output, force)
    img = read_image(cover)
    h, w = img.shape[:2]
    sm = load_mode(mode, model, device)
    avif_name = (Path(name).stem or "picture") + ".avif"
    room = sorted({r.layout.max_file_bytes for r in sm.rungs(h, w) if r.layout.codewords > 0}, reverse=True)
    room = [n - len(stored_name(avif_name)) for n in room]
    if not room or room[0] < 1:
        raise PayloadError(f"the cover ({w}x{h}) is too small to carry a sealed file in {sm.name} mode")
    failure = None
    for attempt, budget in enumerate(room, 1):
        try:
            fitted = fit(picture, budget)
        except PayloadError as e:  # the rest of the rooms are smaller still
            failure = failure or e
            break
        try:
            stego, info = seal(img, fitted.data, avif_name, passphrase, output=output, mode=mode, force=force,
                               model=model, device=device)
        except Unreliable as e:
            failure = e
            continue
        info.update(name=avif_name, picture=fitted, attempts=attempt)
        return stego, info
    raise failure


def seal_file(cover, data: bytes, name: str, passphrase: str, output=None, mode: str = "png",
              force: bool = False, fit: bool = False, model: str | Path | None = None, device: str = "auto"
              ) -> tuple[np.ndarray, dict]:
    """``seal``, or with ``fit``, ``seal_picture`` for a picture larger than the cover carries as it is."""
    from .picture import is_picture

    if fit:
        img = read_image(cover)
        room = load_mode(mode, model, device).capacity(*img.shape[:2])
        if len(data) + len(stored_name(name)) > room and is_picture(data):
            return seal_picture(img, read_image(data), name, passphrase, output=output, mode=mode, force=force,
                                model=model, device=device)
        cover = img
    return seal(cover, data, name, passphrase, output=output, mode=mode, force=force, model=model, device=device)


def unseal(stego, passphrase: str, modes=MODES, model: str | Path | None = None, device: str = "auto"
           ) -> tuple[str, bytes]:
    """(original file name, bytes), exactly as sealed, trying each mode; ``PayloadError`` says why not."""
    img = read_image(stego)
    failure = None
    for m in modes:
        try:
            return _unseal_with(load_mode(m, model, device), img, passphrase)
        except PayloadError as e:
            if failure is None or "damaged" in str(e):
                failure = e
    raise failure

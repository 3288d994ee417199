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

Where the bits go: the seal's 16-byte random salt (container.py), each bit in several copies
(``SealMode.salt_copies``), is the last information bits of the last LDPC codeword, and those coded bits sit in public slots (``public_order``), so
that a receiver reads the salt (the sum of each bit's votes) before it knows anything else. One KDF of the passphrase and the salt gives the keyed order of every other
coded bit and the AES key. A receiver whose codewords do not decode but satisfy clearly more parity checks
than chance has the right passphrase and a damaged stego (``DamagedPayloadError``), not a wrong one
(``NoPayloadError``). That needs the salt to read right: damage that misreads it reads as nothing.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..channel.noise import jpeg_roundtrip
from ..errors import ExypnoError
from ..media.image import check_output, read_image, resave, write_png
from ..media.metrics import psnr_8bit
from ..nets.files import load_model, torch_device
from ..registry import model_path
from .carrier import BitCarrier, keyed_order, legacy_order, public_order
from .container import (BLOCK, SALT, DamagedPayloadError, Keys, Layout, NoPayloadError, OldFormat, PayloadError,
                        check_passphrase, seal_bytes, stored_name, unseal_bytes)
from .ldpc import Blocks, code
from .progress import bar

MODELS = {"png": "seal", "robust": "seal-robust"}  # each mode's shipped bit-hiding model
MODES = tuple(MODELS)
MAX_SIDE = 1024  # the carrier is the top-left MAX_SIDE x MAX_SIDE at most: bounded time and memory


class Unreliable(PayloadError):
    """The file fits, but this cover does not carry it back reliably (a smaller file may go)."""


NOTHING = "no sealed file for this passphrase (wrong passphrase, nothing sealed here, or damaged past reading)"
SALT_BITS = SALT * 8
# Copies of each salt bit: at least SALT_COPIES, and up to MORE_SALT_COPIES by the model's bit block (one slot
# per pixel in png mode; one per 4x4 block in robust mode, which reads surely but has few slots) where the
# extra copies cost no capacity. The receiver sums their votes. A slot here and there that no
# refinement flips (a saturated pixel) must not cost the salt, which is read before any error correction.
SALT_COPIES = 3
MORE_SALT_COPIES = {1: 5}
# A codeword's parity_excess (ldpc.py) from which a stego that does not decode is reported as damaged rather
# than as nothing: a wrong passphrase gives 0 +- 0.01 (one codeword has thousands of checks).
DAMAGED_EXCESS = 0.05


@dataclass(frozen=True)
class Rung:
    """One level of protection: LDPC codewords at one rate carrying a Reed-Solomon layout."""

    blocks: Blocks
    layout: Layout
    salt_copies: int

    @property
    def salt_index(self) -> np.ndarray:
        """The coded bits that hold the salt (``salt_copies`` of each bit in turn): the last information bits of
        the last codeword."""
        code, size = self.blocks.code, SALT_BITS * self.salt_copies
        return (self.blocks.count - 1) * code.n + code.k - size + np.arange(size)


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
        return self._rungs(h, w, self.salt_copies(h, w))

    def salt_copies(self, h: int, w: int) -> int:
        """The most copies of each salt bit, up to ``MORE_SALT_COPIES``, that leave the capacity (the weakest
        rung's room) as ``SALT_COPIES`` do; the receiver computes it from the image's size."""
        room = self._rungs(h, w, SALT_COPIES)[-1].layout
        for copies in range(MORE_SALT_COPIES.get(self.carrier.block, SALT_COPIES), SALT_COPIES, -1):
            if self._rungs(h, w, copies)[-1].layout == room:
                return copies
        return SALT_COPIES

    def _rungs(self, h: int, w: int, copies: int) -> list[Rung]:
        rh, rw = self.region(h, w)
        count = self.carrier.capacity_bits(rh, rw) // self.ldpc_n
        out = []
        for rate in self.rates:
            blocks = Blocks(code(self.ldpc_n, int(round(rate * self.ldpc_n))), count)
            raw = max(0, blocks.info_bits - SALT_BITS * copies) // 8
            out.append(Rung(blocks, Layout(raw - raw % BLOCK, self.nsym), copies))
        return out

    def capacity(self, h: int, w: int) -> int:
        """Largest file (bytes, before compression) that fits, on the weakest rung of the ladder."""
        return self.rungs(h, w)[-1].layout.max_file_bytes

    def slots(self, h: int, w: int) -> int:
        return self.carrier.slots(*self.region(h, w))

    def salt_slots(self, h: int, w: int) -> np.ndarray:
        """The public slots of the salt's bits, ``repeat`` each."""
        return public_order(self.slots(h, w))[: SALT_BITS * self.salt_copies(h, w) * self.carrier.repeat]

    def keyed_slots(self, h: int, w: int, keys: Keys) -> np.ndarray:
        """Every other slot, in the order only the key gives."""
        rest = public_order(self.slots(h, w))[len(self.salt_slots(h, w)) :]
        return rest[keyed_order(len(rest), keys.order)]

    def slot_order(self, rung: Rung, salt_slots: np.ndarray, keyed: np.ndarray) -> np.ndarray:
        """The slots of each coded bit (``repeat`` each, in turn): the salt's in the public slots, the others'
        in the keyed order."""
        salt = np.zeros(rung.blocks.coded_bits, bool)
        salt[rung.salt_index] = True
        salt = np.repeat(salt, self.carrier.repeat)
        order = np.empty(len(salt), np.int64)
        order[salt] = salt_slots
        order[~salt] = keyed[: len(salt) - len(salt_slots)]
        return order

    def read_salt(self, logits: np.ndarray, salt_slots: np.ndarray) -> bytes:
        votes = logits[salt_slots].reshape(SALT_BITS, -1).sum(axis=1)
        return np.packbits(votes > 0).tobytes()

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
    """DamagedPayloadError bytes per codeword, from a mask of wrong bits over the carrier (byte j is in codeword j mod n)."""
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
                 sender: tuple[bytes, Keys] | None = None, progress=None) -> tuple[str, bytes]:
    """The receiver: read the salt, one KDF, then each rung of the ladder. ``sender``: the salt and keys of the
    sender, who checks its own stego and has just derived them (the salt must still read as sent). ``progress``:
    a bar that counts the codewords decoded."""
    h, w = image.shape[:2]
    rh, rw = mode.region(h, w)
    if rh == 0 or rw == 0:  # narrower than the carrier's grid: it holds no slot, so nothing can be sealed here
        raise NoPayloadError(f"no sealed file: the image ({w}x{h}) is too small to carry one")
    rungs = [r for r in rungs or mode.rungs(h, w) if r.layout.codewords > 0]
    if not rungs:
        raise NoPayloadError(f"no sealed file: the image ({w}x{h}) is too small to carry one in {mode.name} mode")
    logits = mode.carrier.logits(image[:rh, :rw])
    salt_slots = mode.salt_slots(h, w)
    salt = mode.read_salt(logits, salt_slots)
    if sender is None:
        keys = Keys.derive(passphrase, salt)
    elif salt != sender[0]:
        raise NoPayloadError(NOTHING)
    else:
        keys = sender[1]
    keyed = mode.keyed_slots(h, w, keys)
    failure, excess = None, 0.0
    for rung in rungs:
        llr = mode.llr(logits, mode.slot_order(rung, salt_slots, keyed), rung)
        # The first codewords decide: with a wrong passphrase, or nothing here, none of them converges
        # (found in a second, without decoding the whole carrier).
        first = [rung.blocks.decode_block(llr, i) for i in range(min(2, rung.blocks.count))]
        if not any(ok for _, ok in first):
            excess = max(excess, rung.blocks.code.parity_excess(llr[: rung.blocks.code.n]))
            continue
        rest = []
        for i in range(len(first), rung.blocks.count):
            rest.append(rung.blocks.decode_block(llr, i)[0])
            if progress is not None:
                progress.update()
        bits = np.concatenate([b for b, _ in first] + rest)
        try:
            return unseal_bytes(np.packbits(bits[: rung.layout.capacity * 8]).tobytes(), keys, rung.layout, mode.name)
        except NoPayloadError:
            continue
        except PayloadError as e:
            failure = e
    if failure:
        raise failure
    if excess > DAMAGED_EXCESS:
        raise DamagedPayloadError("a sealed file for this passphrase is here, but damaged beyond repair (edited, cropped, "
                      "scaled or re-saved lossily?)")
    if sender is None and _old_format(mode, logits, passphrase, h, w):
        raise OldFormat("this stego was sealed by exypno 0.1.0, whose format this version does not read; "
                        "unseal it with exypno 0.1.0")
    raise NoPayloadError(NOTHING)


def _old_format(mode: SealMode, logits: np.ndarray, passphrase: str, h: int, w: int) -> bool:
    """Does the first codeword of a rung, in 0.1.0's order, satisfy clearly more checks than chance?"""
    order = legacy_order(mode.slots(h, w), passphrase)
    for rung in mode.rungs(h, w):
        if rung.layout.codewords:
            n = rung.blocks.code.n
            if rung.blocks.code.parity_excess(mode.to_llr(mode.carrier.votes(logits, order, n))) > DAMAGED_EXCESS:
                return True
    return False


def seal(cover, data: bytes, name: str, passphrase: str, output=None, mode: str = "png",
         force: bool = False, steps: int = 100, model: str | Path | None = None,
         weak_passphrase: bool = False, device: str = "auto") -> tuple[np.ndarray, dict]:
    """The stego image (uint8) carrying ``data`` (named ``name``); written as PNG to ``output`` if given.

    A passphrase under ``MIN_PASSPHRASE`` characters is refused unless ``weak_passphrase``. ``device``: where the
    bit-hiding model runs (auto, cpu or cuda)."""
    check_passphrase(passphrase, weak_passphrase)
    if output is not None:
        check_output(output, force)
    img = read_image(cover)
    h, w = img.shape[:2]
    sm = load_mode(mode, model, device)
    rungs = [r for r in sm.rungs(h, w) if r.layout.codewords > 0]
    if not rungs:
        raise PayloadError(f"the cover ({w}x{h}) is too small to carry a sealed file in {sm.name} mode")
    salt = os.urandom(SALT)
    keys = Keys.derive(passphrase, salt)
    for rung in rungs:  # strongest protection that fits
        try:
            blob = seal_bytes(data, name, keys, rung.layout, sm.name)
            break
        except PayloadError:
            continue
    else:
        raise PayloadError(f"the file needs more room than this cover carries in {sm.name} mode "
                           f"({sm.capacity(h, w):,} bytes before compression; try a larger cover)")
    bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8))
    gen = np.random.default_rng()
    salt_bits = np.unpackbits(np.frombuffer(salt, dtype=np.uint8))
    coded = rung.blocks.encode(bits, gen, tail=np.repeat(salt_bits, rung.salt_copies))
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
        # Every payload bit keeps a margin; those of failed codewords weigh five times as much, and so do the
        # salt's, which the receiver reads before any decoding.
        focus = np.repeat(1 + 4 * ~done, code.n)
        focus[rung.salt_index] = 10
        salt_ok = ((llr[rung.salt_index].reshape(SALT_BITS, rung.salt_copies).sum(axis=1) > 0) == salt_bits).all()
        return bool(within_ecc(wrong.reshape(-1)[: len(bits)], rung.layout) and salt_ok), focus

    rh, rw = sm.region(h, w)
    order = sm.slot_order(rung, sm.salt_slots(h, w), sm.keyed_slots(h, w, keys))
    with bar(f"sealing ({sm.name} mode)") as progress:
        region, info = sm.carrier.embed(img[:rh, :rw], coded, order, steps=steps, generator=gen, accept=accept,
                                        check_every=5, view=sm.refinement_view(), on_step=progress.update)
        stego = img.copy()
        stego[:rh, :rw] = region
        # The receiver's views: the exact 8-bit stego (and its JPEG re-save), decoded by the receiver's code path.
        checks = []
        for after, seen in sm.views(stego):
            try:
                checks.append((after, _unseal_with(sm, seen, passphrase, [rung], sender=(salt, keys), progress=progress)))
            except PayloadError:
                checks.append((after, None))
    for after, got in checks:
        if got is None or got[1] != data:  # (the name rides in the same authenticated body)
            raise Unreliable(f"this cover cannot carry the file reliably in {sm.name} mode (it did not decode "
                               f"back{after}); try a smaller file or a larger, more detailed cover")
    info.update(mode=sm.name, jpeg=sm.jpeg, nsym=rung.layout.nsym, ldpc_rate=code.rate, carrier_bytes=rung.layout.capacity,
                cover_psnr=float(psnr_8bit(stego, img)))
    if output is not None:
        write_png(output, stego, force)
    return stego, info


def seal_picture(cover, picture, name: str, passphrase: str, output=None, mode: str = "png",
                 force: bool = False, model: str | Path | None = None,
                 weak_passphrase: bool = False, device: str = "auto") -> tuple[np.ndarray, dict]:
    """Seal ``picture`` re-encoded as AVIF (payload/picture.py) as large and good as the cover carries back.

    The file is named after ``name`` with the suffix ``.avif``. Each rung's room is tried from the weakest
    code up: a cover that does not carry the largest file back reliably gets a smaller one."""
    from .picture import fit

    check_passphrase(passphrase, weak_passphrase)
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
                               model=model, weak_passphrase=weak_passphrase, device=device)
        except Unreliable as e:
            failure = e
            continue
        info.update(name=avif_name, picture=fitted, attempts=attempt)
        return stego, info
    raise failure


def seal_file(cover, data: bytes, name: str, passphrase: str, output=None, mode: str = "png",
              force: bool = False, fit: bool = False, model: str | Path | None = None,
              weak_passphrase: bool = False, device: str = "auto") -> tuple[np.ndarray, dict]:
    """``seal``, or with ``fit``, ``seal_picture`` for a picture larger than the cover carries as it is."""
    from .picture import is_picture

    if fit:
        img = read_image(cover)
        room = load_mode(mode, model, device).capacity(*img.shape[:2])
        if len(data) + len(stored_name(name)) > room and is_picture(data):
            return seal_picture(img, read_image(data), name, passphrase, output=output, mode=mode, force=force,
                                model=model, weak_passphrase=weak_passphrase, device=device)
        cover = img
    return seal(cover, data, name, passphrase, output=output, mode=mode, force=force, model=model,
                weak_passphrase=weak_passphrase, device=device)


def unseal(stego, passphrase: str, modes=MODES, model: str | Path | None = None, device: str = "auto"
           ) -> tuple[str, bytes]:
    """(original file name, bytes), exactly as sealed, trying each mode; ``PayloadError`` says why not."""
    img = read_image(stego)
    failures = []
    with bar("unsealing", unit="codeword") as progress:
        for m in modes:
            try:
                return _unseal_with(load_mode(m, model, device), img, passphrase, progress=progress)
            except PayloadError as e:
                failures.append(e)
    # The most telling failure: a damaged file for this passphrase, an old stego, any other, nothing here.
    rank = {DamagedPayloadError: 0, OldFormat: 1, NoPayloadError: 3}
    raise min(failures, key=lambda e: rank.get(type(e), 2))

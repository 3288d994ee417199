"""Seal any file inside an image, and get it back bit for bit: ``seal``, ``unseal``, ``capacity``.

file -> container (compress, encrypt, Reed-Solomon; container.py) -> bits -> LDPC codewords (ldpc.py) ->
keyed slots -> bit-hiding model (carrier.py) -> 8-bit PNG. A bit-hiding model's card names the *modes* it
serves and how, e.g.

    "seal": {"png": {"rates": [0.4, 0.6], "ldpc_n": 8192, "nsym": 16, "llr_scale": 0.75}}

- ``rates``: the LDPC code rates, a ladder: ``seal`` takes the strongest (lowest) that fits the file, so a
  small file gets more protection than it strictly needs; ``unseal`` tries each in turn. ``capacity`` is
  the weakest's.
- ``ldpc_n``: coded bits per LDPC codeword; ``nsym``: Reed-Solomon parity bytes per 255, the outer code.
- ``llr_scale``: turns the decoder's votes into log-likelihood ratios (measured: scripts/seal_rates.py), clipped
  at ``LLR_CLIP``.
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
from .carrier import BitCarrier, Focus, keyed_order, legacy_order, public_order
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
# No bit's LLR beyond this. The decoder is sure of most bits (median |vote| 13) and right, but the loudest of its
# wrong bits come with |vote| up to 32-246 (the 99th percentile 2-14): taken at their word, they trap belief
# propagation, and 2 to 8 of a 512x512 stego's 64 codewords fail on some covers. Clipped at 6 (5 and 8 do as
# well), none does (benchmarks/seal_refinement.py), so that most covers need no refinement.
LLR_CLIP = 6.0
# The copies of a salt bit whose sum is wrong or weak are urgent in the refinement (carrier.Focus). Where more
# than SALT_PATIENCE checks read some salt bit wrong (or the steps run out with one wrong), the sender draws a
# new salt (and with it a new key and slot order) whose misread bits are what the stego reads there, at most
# SALT_TRIES draws and MAX_KEPT_SALT_BITS such bits: the other 112 bits or more stay random, so the salt (and
# the key, which the AES-GCM nonces rely on) stays new for every seal. A seal may so take SALT_TRIES times its
# steps.
SALT_PATIENCE, SALT_TRIES, MAX_KEPT_SALT_BITS = 4, 4, 16
# The parity_excess (ldpc.py) of the first two codewords, averaged, from which a stego that does not decode is
# reported as damaged rather than as nothing: a wrong passphrase gives 0 +- 0.006 (measured on a 512x512 stego,
# every rate), a stego with noise of sigma 1 on a 96x96 cover 0.06 to 0.07. A carrier of one codeword (a cover
# under about 70x70) has that codeword's alone: 0 +- 0.009.
DAMAGED_EXCESS = 0.035


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

    def salt_votes(self, logits: np.ndarray, salt_slots: np.ndarray) -> np.ndarray:
        """Each salt bit's vote: the sum of its copies' logits (positive: a 1)."""
        return logits[salt_slots].reshape(SALT_BITS, -1).sum(axis=1)

    def read_salt(self, logits: np.ndarray, salt_slots: np.ndarray) -> bytes:
        return np.packbits(self.salt_votes(logits, salt_slots) > 0).tobytes()

    def llr(self, logits: np.ndarray, order: np.ndarray, rung: Rung) -> np.ndarray:
        return self.to_llr(self.carrier.votes(logits, order, rung.blocks.coded_bits))

    def to_llr(self, votes: np.ndarray) -> np.ndarray:
        if self.blind:
            mu = float(np.abs(votes).mean())
            var = float(np.mean(votes.astype(np.float64) ** 2)) - mu**2
            votes = 2 * mu / max(var, 1e-6) * votes
        return np.clip(self.llr_scale * votes, -LLR_CLIP, LLR_CLIP)


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


def _unseal_with(mode: SealMode, image: np.ndarray, passphrase: str, rungs=None, keys: Keys | None = None,
                 progress=None) -> tuple[str, bytes]:
    """The receiver: read the salt, one KDF, then each rung of the ladder. ``keys``: read with these instead
    (what another seal's keys read here). ``progress``: a bar that counts the codewords decoded."""
    h, w = image.shape[:2]
    rh, rw = mode.region(h, w)
    if rh == 0 or rw == 0:  # narrower than the carrier's grid: it holds no slot, so nothing can be sealed here
        raise NoPayloadError(f"no sealed file: the image ({w}x{h}) is too small to carry one")
    rungs = [r for r in rungs or mode.rungs(h, w) if r.layout.codewords > 0]
    if not rungs:
        raise NoPayloadError(f"no sealed file: the image ({w}x{h}) is too small to carry one in {mode.name} mode")
    logits = mode.carrier.logits(image[:rh, :rw])
    salt_slots = mode.salt_slots(h, w)
    keys = keys or Keys.derive(passphrase, mode.read_salt(logits, salt_slots))
    keyed = mode.keyed_slots(h, w, keys)
    failure, excess = None, 0.0
    for rung in rungs:
        llr = mode.llr(logits, mode.slot_order(rung, salt_slots, keyed), rung)
        # The first codewords decide: with a wrong passphrase, or nothing here, none of them converges
        # (found in a second, without decoding the whole carrier).
        first = [rung.blocks.decode_block(llr, i) for i in range(min(2, rung.blocks.count))]
        n = rung.blocks.code.n
        excess = max(excess, float(np.mean([rung.blocks.code.parity_excess(llr[i * n : (i + 1) * n])
                                            for i in range(len(first))])))
        if not any(ok for _, ok in first):
            continue
        rest = []
        for i in range(len(first), rung.blocks.count):
            rest.append(rung.blocks.decode_block(llr, i)[0])
            if progress is not None:
                progress.update()
        try:
            return _open(np.concatenate([b for b, _ in first] + rest), keys, rung, mode)
        except NoPayloadError:
            continue
        except PayloadError as e:
            failure = e
    if failure:
        raise failure
    if excess > DAMAGED_EXCESS:
        raise DamagedPayloadError("a sealed file for this passphrase is here, but damaged beyond repair (edited, cropped, "
                      "scaled or re-saved lossily?)")
    if _old_format(mode, logits, passphrase, h, w):
        raise OldFormat("this stego was sealed by exypno 0.1.0, whose format this version does not read; "
                        "unseal it with exypno 0.1.0")
    raise NoPayloadError(NOTHING)


def _open(bits: np.ndarray, keys: Keys, rung: Rung, mode: SealMode) -> tuple[str, bytes]:
    """(name, bytes) from a rung's decoded information bits: Reed-Solomon, then the authenticated decryption."""
    return unseal_bytes(np.packbits(bits[: rung.layout.capacity * 8]).tobytes(), keys, rung.layout, mode.name)


def _came_back(bits: np.ndarray, keys: Keys, rung: Rung, mode: SealMode, data: bytes) -> bool:
    try:
        return _open(bits, keys, rung, mode)[1] == data  # (the name rides in the same authenticated body)
    except PayloadError:
        return False


def _old_format(mode: SealMode, logits: np.ndarray, passphrase: str, h: int, w: int) -> bool:
    """Does the first codeword of a rung, in 0.1.0's order, satisfy clearly more checks than chance?"""
    order = legacy_order(mode.slots(h, w), passphrase)
    for rung in mode.rungs(h, w):
        if rung.layout.codewords:
            n = rung.blocks.code.n
            if rung.blocks.code.parity_excess(mode.to_llr(mode.carrier.votes(logits, order, n))) > DAMAGED_EXCESS:
                return True
    return False


class _SaltStuck(Exception):
    """The salt still misreads after ``SALT_PATIENCE`` refinement steps: a new salt, not more steps. ``reads``:
    salt bit -> what the stego reads there, for the bits that misread."""

    def __init__(self, reads: dict[int, int]):
        super().__init__()
        self.reads = reads


def _write(sm: SealMode, img: np.ndarray, data: bytes, name: str, passphrase: str, rungs: list[Rung], steps: int,
           gen: np.random.Generator, progress, keep: dict[int, int]) -> tuple[np.ndarray, dict, Rung, str]:
    """One try with a fresh salt, random but for the bits in ``keep`` (salt bit -> value): (the stego's carrier
    region, what the refinement did, the rung used, how the receiver saw it where it failed)."""
    salt_bits = np.unpackbits(np.frombuffer(os.urandom(SALT), dtype=np.uint8))
    for bit, value in keep.items():
        salt_bits[bit] = value
    salt = np.packbits(salt_bits).tobytes()
    keys = Keys.derive(passphrase, salt)
    h, w = img.shape[:2]
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
    coded = rung.blocks.encode(bits, gen, tail=np.repeat(salt_bits, rung.salt_copies))
    code = rung.blocks.code
    sent = coded.reshape(rung.blocks.count, code.n)[:, : code.k]  # systematic: the information bits
    rh, rw = sm.region(h, w)
    salt_slots = sm.salt_slots(h, w)
    order = sm.slot_order(rung, salt_slots, sm.keyed_slots(h, w, keys))

    failed = []  # how the last check's failing view came to the receiver
    salt_misread = []  # for each check, the salt bits it misread and what it read there

    def accept(region: np.ndarray):
        """The receiver's reading of each view of the 8-bit stego (itself and, in a robust mode, its JPEG
        re-save), as ``_unseal_with`` does it on this rung: acceptable when in every view the salt reads as sent,
        one of the first two codewords converges (the receiver's test for a rung), the decoded bits are within
        what Reed-Solomon fixes with its reserve, and the file comes back. This is the sender's self-check: a
        stego is written only once it passes. The next refinement step leans on the codewords that failed."""
        stego = img.copy()
        stego[:rh, :rw] = region
        ok, done, salt_ok, salt_weak = True, np.ones(rung.blocks.count, bool), True, np.zeros(SALT_BITS, bool)
        misread = {}  # salt bit -> what a view reads there, where it reads wrong
        failed.clear()
        for after, seen in sm.views(stego):
            logits = sm.carrier.logits(seen[:rh, :rw])
            llr = sm.llr(logits, order, rung)
            decoded = [rung.blocks.decode_block(llr, i) for i in range(rung.blocks.count)]
            got = np.stack([b for b, _ in decoded])
            wrong = got != sent
            done &= np.array([converged for _, converged in decoded]) & ~wrong.any(axis=1)
            salt_sums = sm.salt_votes(logits, salt_slots)
            salt_votes = salt_sums * (2 * salt_bits - 1.0)
            salt_ok = salt_ok and (salt_votes > 0).all()
            salt_weak |= salt_votes < sm.carrier.margin
            misread.update({int(b): int(salt_sums[b] > 0) for b in np.flatnonzero(salt_votes <= 0)})
            if ok and not (salt_ok and any(converged for _, converged in decoded[:2])
                           and within_ecc(wrong.reshape(-1)[: len(bits)], rung.layout)
                           and _came_back(got.reshape(-1), keys, rung, sm, data)):
                ok = False
                failed.append(after)
        salt_misread.append(misread)
        if sum(map(bool, salt_misread)) > SALT_PATIENCE:
            raise _SaltStuck(misread)
        # Every payload bit keeps a margin; those of failed codewords weigh five times as much. The salt's bits
        # weigh ten times, and each copy aims for a margin as many times larger as there are copies: the
        # receiver reads the sum of the copies before any decoding, and one copy stuck in a saturated pixel
        # may take the sum's sign unless the others outweigh it.
        weight = np.repeat(1.0 + 4 * ~done, code.n)
        weight[rung.salt_index] = 10
        margin = np.full(len(coded), sm.carrier.margin)
        margin[rung.salt_index] *= rung.salt_copies
        urgent = np.zeros(len(coded), bool)
        urgent[rung.salt_index] = np.repeat(salt_weak, rung.salt_copies)
        return ok, Focus(weight, margin, urgent)

    region, info = sm.carrier.embed(img[:rh, :rw], coded, order, steps=steps, generator=gen, accept=accept,
                                    view=sm.refinement_view(), on_step=progress.update)
    if not info["accepted"] and salt_misread[-1]:  # out of steps with the salt misread: a new salt may do
        raise _SaltStuck(salt_misread[-1])
    return region, info, rung, (failed or [""])[0]


def seal(cover, data: bytes, name: str, passphrase: str, output=None, mode: str = "png",
         force: bool = False, steps: int = 30, model: str | Path | None = None,
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
    gen = np.random.default_rng()
    with bar(f"sealing ({sm.name} mode)") as progress:
        keep, info, failed = {}, {"accepted": False}, ""
        for draw in range(1, SALT_TRIES + 1):
            try:
                region, info, rung, failed = _write(sm, img, data, name, passphrase, rungs, steps, gen, progress, keep)
                info["salt_draws"] = draw
                break
            except _SaltStuck as stuck:
                keep.update(stuck.reads)
                if len(keep) > MAX_KEPT_SALT_BITS:  # the salt must stay mostly random: this cover cannot carry it
                    break
    if not info["accepted"]:
        raise Unreliable(f"this cover cannot carry the file reliably in {sm.name} mode (it did not decode "
                         f"back{failed}); try a smaller file or a larger, more detailed cover")
    rh, rw = sm.region(h, w)
    stego = img.copy()
    stego[:rh, :rw] = region
    info.update(mode=sm.name, jpeg=sm.jpeg, nsym=rung.layout.nsym, ldpc_rate=rung.blocks.code.rate, carrier_bytes=rung.layout.capacity,
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

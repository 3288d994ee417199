"""The robust image model (``--model robust``): a picture hidden so that it outlives a JPEG re-save.

The aim: 30 dB of secret after JPEG 90 and 25 after JPEG 75, at a cover PSNR of 33 dB or more. The image
networks trained through real JPEG keep less (``runs/robust-2``: 25.7 dB after JPEG 90). This model is a
code, not a network:

    secret -> AVIF of the secret (small), AVIF of what that one misses (the residual; payload/picture.py)
           -> each sealed (container.py: AES-GCM, Reed-Solomon), then LDPC codewords (ldpc.py)
           -> the first on the base layer, the second on the full layer of the JPEG carrier (jpeg_carrier.py)

After a re-save at quality 90 both layers read and the receiver adds them up; after quality 75 only the
base layer reads, and it gets the small picture. What it reads is exactly the AVIF files that were sent, or
nothing: a stego that no layer reads raises ``PayloadError``, never a wrong picture.

The sender fits everything to its cover:

- The plan (how many levels each coefficient carries) comes from a ladder: the largest whose stego keeps
  ``COVER_PSNR`` over this cover (a smooth cover costs more per level than a detailed one).
- Each layer's LDPC rate: it reads a trial stego after the re-saves the layer must outlive (Pillow's JPEG at
  90 for the full layer, 75 for the base), estimates what a slot carries, and starts from the highest rate
  under that; then it reads the real stego back after those re-saves, and steps a layer down until it reads.
- The plan and the rates ride in the header (jpeg_carrier.HEADER_COEF), each bit repeated over many blocks.

There is no passphrase: like the shipped networks, the code is public, and whoever has it reads the picture
(``exypno seal`` is the way to hide a file that only a passphrase opens).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ExypnoError
from ..media.image import check_output, read_image, resave, resize, write_png
from ..media.metrics import psnr_8bit
from .container import Keys, Layout, PayloadError, seal_bytes, stored_name, unseal_bytes
from .jpeg_carrier import JpegCarrier, Plan, jpeg_fit, luma_coefficients
from .ldpc import Blocks, code
from .picture import fit, pack, unpack
from .progress import bar

COVER_PSNR = 33.2  # every stego keeps at least this (dB; the aim is 33)
PLANS = tuple(34.0 + 0.25 * i for i in range(16))  # the plans' aims (Plan.for_cover_psnr), most room first
SEED = b"exypno/robust-image/1"  # the dither and the slots' order
KEYS = Keys.public("robust-image")  # the container's framing and integrity check, not a secret
CONTAINER_MODE = "robust-image"
NSYM = 16  # Reed-Solomon parity bytes per 255
RATES = tuple(0.2 + 0.05 * i for i in range(16))  # LDPC rates, both layers
PAYLOAD = ("base", "full")
HEADER = (("plan", 4), ("base", 4), ("full", 4))  # field, bits
HEADER_REPEAT = 32  # at most; a small cover repeats each bit over as many blocks as it has
HEADER_AGREEMENT = 0.75  # share of a header bit's repeats that must agree before the layers are tried
# The sender reads each layer back after these re-saves (None: as it is), so that a receiver gets the full
# picture from JPEG 90 and up, the base from 75 and up.
MUST_READ = {"full": (None, 95, 90), "base": (90, 85, 80, 75)}
NAMES = {"base": "base", "full": "full"}  # the file names inside the containers (they cost room)
SUBSAMPLING = "4:4:4"  # AVIF's chroma: better than 4:2:0 for as many bytes here (a one-off probe, not kept)
POLISH_SPEED = 2  # the final AVIF encodes: better than speed 6 for as many bytes (a one-off probe)...
POLISH_MAX_PIXELS = 512 * 512  # ...but 3 s an encode at 512x512 and 10 at 1024x1024: larger secrets go without
RATE_MARGIN = 0.9  # start from the highest rate under this share of the estimated bits per slot
ATTEMPTS = 8
# Channels the receiver tries, the likeliest first: (JPEG quality or None, Gaussian noise std in 8-bit levels).
CHANNELS = ((None, 0.0), (90, 0.0), (75, 0.0), (95, 0.0), (100, 0.0), (98, 0.0), (92, 0.0), (85, 0.0), (80, 0.0),
            (70, 0.0), (60, 0.0), (50, 0.0), (None, 1.0), (None, 2.0), (None, 4.0))
JPEG_FIT = 0.85  # jpeg_fit above this: the image is likely a JPEG decoded at that quality
MIN_SIDE = 64
MAX_ITER = 100  # belief propagation: near the rate limit, codewords that converge take 40 to 100 rounds


@lru_cache(maxsize=None)
def carrier(plan: int) -> JpegCarrier:
    return JpegCarrier(Plan.for_cover_psnr(PLANS[plan]))


@dataclass(frozen=True)
class LayerRung:
    """One layer's LDPC codewords at one rate."""

    layer: str
    rate: int  # index in RATES
    blocks: Blocks

    @property
    def layout(self) -> Layout:
        raw = self.blocks.info_bits // 8
        return Layout(raw - raw % 255, NSYM)

    @property
    def room(self) -> int:
        """Bytes an AVIF file may have here (the container keeps the rest)."""
        return self.layout.max_file_bytes - len(stored_name(NAMES[self.layer]))


def _rung(plan: int, h: int, w: int, layer: str, rate: int) -> LayerRung | None:
    slots = carrier(plan).slots(h, w, layer)
    n = 8192 if slots >= 3 * 8192 else 4096
    if slots < n or rate >= len(RATES):
        return None
    rung = LayerRung(layer, rate, Blocks(code(n, int(round(RATES[rate] * n)), MAX_ITER), slots // n))
    return rung if rung.room > 0 else None


def _repeat(h: int, w: int) -> int:
    return min(HEADER_REPEAT, (h // 8) * (w // 8) // sum(n for _, n in HEADER))


def _header_bits(fields: dict[str, int], h: int, w: int) -> np.ndarray:
    bits = [(fields[name] >> k) & 1 for name, n in HEADER for k in range(n)]
    return np.repeat(np.array(bits, np.int64), _repeat(h, w))


def _read_header(llr: np.ndarray, h: int, w: int) -> tuple[dict[str, int], float]:
    """(the header's fields, the share of repeats agreeing with their bit's vote)."""
    n, r = sum(n for _, n in HEADER), _repeat(h, w)
    votes = llr[: n * r].reshape(n, r)
    bits = votes.sum(axis=1) > 0
    agreement = float(np.mean((votes > 0) == bits[:, None]))
    out, i = {}, 0
    for name, nb in HEADER:
        out[name] = int(sum(int(bits[i + k]) << k for k in range(nb)))
        i += nb
    return out, agreement


def _decode(rung: LayerRung, llr: np.ndarray) -> bytes:
    """The AVIF file of one layer, or PayloadError."""
    first, ok = rung.blocks.decode_block(llr, 0)
    if not ok:  # a wrong channel guess or nothing here: found after one codeword
        raise PayloadError("no robust picture here")
    rest = [rung.blocks.decode_block(llr, i)[0] for i in range(1, rung.blocks.count)]
    bits = np.concatenate([first] + rest)
    return unpack(unseal_bytes(np.packbits(bits[: rung.layout.capacity * 8]).tobytes(), KEYS, rung.layout,
                               CONTAINER_MODE)[1])


def _bits_per_slot(llr: np.ndarray, bits: np.ndarray) -> float:
    """What the channel carries per slot, from LLRs and the bits sent (the mutual information's estimate)."""
    s = np.where(bits[: len(llr)] > 0, 1.0, -1.0)
    return float(1 - np.mean(np.logaddexp(0, -llr * s)) / np.log(2))


def _picture(data: bytes, h: int, w: int) -> np.ndarray:
    """An AVIF file decoded, at h x w (the fit may have made it smaller)."""
    img = read_image(data)
    return img if img.shape[:2] == (h, w) else resize(img, h, w)


def _view(stego: np.ndarray, quality: int | None) -> np.ndarray:
    return stego if quality is None else resave(stego, "JPEG", quality)


def _random_bits(c: JpegCarrier, h: int, w: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {layer: rng.integers(0, 2, c.slots(h, w, layer)) for layer in PAYLOAD}


def _likely_channels(img: np.ndarray, coef: np.ndarray) -> tuple[list[int], list[tuple[int | None, float]]]:
    """(the JPEG qualities the image looks decoded at (``jpeg_fit``), best first; CHANNELS with those first)."""
    fits = {q: jpeg_fit(img, q, coef) for q, _ in CHANNELS if q is not None}
    first = sorted((q for q, f in fits.items() if f is not None and f > JPEG_FIT), key=lambda q: -fits[q])
    return first, [(q, 0.0) for q in first] + [c for c in CHANNELS if c[0] not in first]


@dataclass
class RobustImage:
    """Hides a picture in a picture so that a JPEG re-save keeps it; the interface of ``inference.image.Stego``."""

    card: dict = field(default_factory=lambda: {"pairing": "image-in-image", "kind": "jpeg-code"})
    notes: list[str] = field(default_factory=list)
    part: str = "full"
    info: dict = field(default_factory=dict)  # what the last hide chose
    layer: str | None = None  # the layer the last reveal read ("full" or "base")

    # --- sender ------------------------------------------------------------------------------------

    def hide(self, cover, secret, output: str | Path | None = None, force: bool = False) -> np.ndarray:
        if output is not None:
            check_output(output, force)
        self.notes = []
        cover_img, secret_img = read_image(cover), read_image(secret)
        h, w = cover_img.shape[:2]
        if min(h, w) < MIN_SIDE:
            raise ExypnoError(f"the cover ({w}x{h}) is too small for the robust model (at least {MIN_SIDE} a side)")
        if secret_img.shape[:2] != (h, w):
            sh, sw = secret_img.shape[:2]
            self.notes.append(f"secret resized from {sw}x{sh} to the cover's {w}x{h}")
            secret_img = resize(secret_img, h, w)
        rng = np.random.default_rng()
        with bar("hiding (robust model)", unit="stage") as progress:
            stego, rates, files, plan, cover_psnr = self._hide(cover_img, secret_img, rng, progress)
        self.info = {"plan": plan, "cover_psnr": cover_psnr,
                     **{layer: {"rate": RATES[rates[layer]], "picture": files[layer]} for layer in PAYLOAD}}
        if output is not None:
            write_png(output, stego, force)
        return stego

    def _hide(self, cover_img: np.ndarray, secret_img: np.ndarray, rng: np.random.Generator, progress):
        h, w = cover_img.shape[:2]
        plan = self._plan(cover_img, rng)
        progress.update()
        while True:  # the plan's trial had random bits: the real stego may cost a little more
            stego, rates, files = self._fit(plan, cover_img, secret_img, rng)
            progress.update()
            cover_psnr = float(psnr_8bit(cover_img, stego))
            if cover_psnr >= COVER_PSNR:
                break
            if plan == len(PLANS) - 1:
                raise ExypnoError(f"this cover ({w}x{h}) would fall to {cover_psnr:.1f} dB with the robust model's "
                                  f"smallest plan (it keeps {COVER_PSNR} dB); try a more detailed cover")
            plan += 1
        return stego, rates, files, plan, cover_psnr

    def _fit(self, plan: int, cover: np.ndarray, secret: np.ndarray, rng: np.random.Generator):
        """(stego, rate indices, AVIF files) for ``plan``: each layer at the highest rate that reads back."""
        h, w = cover.shape[:2]
        rates = self._first_rates(plan, cover, rng)
        memo: dict = {}

        def attempt():
            rungs = {layer: _rung(plan, h, w, layer, rates[layer]) for layer in PAYLOAD}
            if any(r is None for r in rungs.values()):
                raise ExypnoError(f"the cover ({w}x{h}) is too small or too flat to carry a picture with the "
                                  "robust model")
            files = self._files(secret, rungs, memo)
            bits = {"header": _header_bits({"plan": plan, **rates}, h, w)}
            for layer, rung in rungs.items():
                blob = seal_bytes(pack(files[layer].data), NAMES[layer], KEYS, rung.layout, CONTAINER_MODE)
                bits[layer] = rung.blocks.encode(np.unpackbits(np.frombuffer(blob, np.uint8)), rng)
            stego = carrier(plan).embed(cover, bits, SEED, rng)
            failed = [layer for layer in PAYLOAD if not self._reads_back(plan, stego, rungs[layer], files[layer].data)]
            return stego, files, failed

        for _ in range(ATTEMPTS):
            stego, files, failed = attempt()
            if not failed:
                return stego, dict(rates), files
            for layer in failed:
                rates[layer] -= 1
            if min(rates.values()) < 0:
                break
        raise ExypnoError(f"this cover ({w}x{h}) does not carry a picture back through JPEG with the robust model; "
                          "try a larger or more detailed cover")

    @staticmethod
    def _plan(cover: np.ndarray, rng: np.random.Generator) -> int:
        """The plan with the most room whose trial stego keeps COVER_PSNR (bisection: room falls along PLANS)."""
        h, w = cover.shape[:2]

        def keeps(i: int) -> bool:
            c = carrier(i)
            trial = c.embed(cover, _random_bits(c, h, w, rng), SEED, rng)
            return psnr_8bit(cover, trial) >= COVER_PSNR + 0.05  # the real payload's stego differs a little

        lo, hi = 0, len(PLANS) - 1
        if not keeps(hi):
            return hi  # a cover this costly: the smallest plan, and what PSNR it gives
        while lo < hi:
            mid = (lo + hi) // 2
            if keeps(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo

    @staticmethod
    def _files(secret: np.ndarray, rungs: dict[str, LayerRung], memo: dict):
        """The base layer's AVIF of the secret, and the full layer's AVIF of what the base misses (the residual,
        around 128): in a one-off probe (not kept) that beat a second, independent AVIF of the secret.
        ``memo`` keeps the files of earlier attempts (a layer whose room did not change keeps its file)."""
        rooms = (rungs["base"].room, rungs["full"].room)
        polish = POLISH_SPEED if secret.shape[0] * secret.shape[1] <= POLISH_MAX_PIXELS else None
        opts = {"subsampling": SUBSAMPLING, "polish_speed": polish, "size_of": lambda f: len(pack(f))}
        if rooms[:1] not in memo:
            memo[rooms[:1]] = fit(secret, rooms[0], **opts)
        base = memo[rooms[:1]]
        if rooms not in memo:
            residual = np.clip(secret.astype(np.int16) - _picture(base.data, *secret.shape[:2]) + 128, 0, 255)
            memo[rooms] = fit(residual.astype(np.uint8), rooms[1], **opts)
        return {"base": base, "full": memo[rooms]}

    @staticmethod
    def _first_rates(plan: int, cover: np.ndarray, rng: np.random.Generator) -> dict[str, int]:
        """Each layer's starting rate, from a trial stego of random bits read after its re-saves."""
        h, w = cover.shape[:2]
        c = carrier(plan)
        bits = _random_bits(c, h, w, rng)
        trial = c.embed(cover, bits, SEED, rng)
        out = {}
        for layer in PAYLOAD:
            carried = min(_bits_per_slot(c.llr(_view(trial, q), SEED, quality=q, layers=(layer,))[layer], bits[layer])
                          for q in MUST_READ[layer])
            fits = [i for i, r in enumerate(RATES) if r <= RATE_MARGIN * carried]
            out[layer] = fits[-1] if fits else 0
        return out

    @staticmethod
    def _reads_back(plan: int, stego: np.ndarray, rung: LayerRung, data: bytes) -> bool:
        for q in MUST_READ[rung.layer]:
            llr = carrier(plan).llr(_view(stego, q), SEED, quality=q, layers=(rung.layer,))[rung.layer]
            try:
                if _decode(rung, llr) != data:
                    return False
            except PayloadError:
                return False
        return True

    # --- receiver ----------------------------------------------------------------------------------

    def reveal(self, stego, output: str | Path | None = None, force: bool = False, align: bool = True) -> np.ndarray:
        """The picture, at the stego's size; ``PayloadError`` when no layer reads. (``align`` is accepted for
        ``inference.image.Stego``'s interface: this code has no pixel grid to search, and a crop does not read.)"""
        if output is not None:
            check_output(output, force)
        img = read_image(stego)
        h, w = img.shape[:2]
        if min(h, w) < MIN_SIDE:
            raise PayloadError(f"no robust picture: the image ({w}x{h}) is too small to carry one")
        picture = None
        coef = luma_coefficients(img)  # every channel's guess reads the same coefficients
        detected, channels = _likely_channels(img, coef)
        for i, (quality, noise) in enumerate(channels):
            if picture is not None and i >= len(detected) > 0:
                break  # a JPEG of a known quality, and the base read: no other guess reads the full layer
            fields, agreement = _read_header(carrier(0).llr(img, SEED, quality, noise, ("header",), coef)["header"], h, w)
            if agreement < HEADER_AGREEMENT or fields["plan"] >= len(PLANS):
                continue
            llr = carrier(fields["plan"]).llr(img, SEED, quality, noise, PAYLOAD if picture is None else ("full",), coef)
            got = {} if picture is None else {"base": picture}
            for layer in PAYLOAD:  # the base first: the full layer is what the base misses
                if layer in got:
                    continue
                rung = _rung(fields["plan"], h, w, layer, fields[layer])
                if rung is None:
                    break
                try:
                    got[layer] = _picture(_decode(rung, llr[layer]), h, w)
                except (PayloadError, ExypnoError):
                    break
            if "base" in got:
                picture, self.layer = got["base"], "base"
            if "full" in got:  # else another channel's guess may still read the full layer
                picture = np.clip(picture.astype(np.int16) + got["full"] - 128, 0, 255).astype(np.uint8)
                self.layer = "full"
                break
        if picture is None:
            raise PayloadError("no robust picture here (nothing hidden with --model robust, or damaged past reading)")
        if output is not None:
            write_png(output, picture, force)
        return picture

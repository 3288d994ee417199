"""Bits that survive a JPEG re-save: QIM on the luma 8x8 DCT, on the grid of JPEG's own tables.

Why a designed code and not a trained one: the image networks trained through real JPEG (``runs/robust-2``)
keep 25.7 dB of secret after JPEG 90, where the aim is 30. They must learn both which coefficients survive
and a lattice to write on; a fixed code knows both by construction, as the QIM code of audio in audio
does (nets/lattice.py). The payload is then a picture coded by AVIF (payload/picture.py), the best coder there is.

How it works:

- The cover's luma (JFIF's Y, what libjpeg codes) is cut into the 8x8 blocks a JPEG of it would use, and
  each block's DCT taken (orthonormal: JPEG's own transform, so its table steps are in these units).
- A *carrier* is one coefficient of one block. It carries a symbol ``t`` in ``0 .. M-1`` (its bits,
  Gray-coded) by the point ``(M k + (t + d) mod M) q`` nearest to it, ``d`` a keyed dither and ``q`` a JPEG
  table's step for that coefficient. A re-save at that table's quality rounds every coefficient to a
  multiple of ``q``: our points are its own. So the coefficient is moved only to within ``SNAP`` half steps of
  its point, and the JPEG finishes the move (for 2 levels that is 40% less squared error than moving it
  onto the point).
- Two layers of carriers. ``base``: on the quality-75 table, so they outlive JPEG 75 and anything finer.
  ``full``: on the quality-90 table, about a third of the step, so three times the levels for the same squared
  error, but only JPEG 90 and up keep them. Each coefficient index (of the 64) belongs to one layer in every
  block. A third, ``header``, is one coefficient with one bit on the quality-75 table in every plan.
- How many levels each coefficient gets (a *plan*) follows from a budget, the cover's PSNR: a carrier of M
  levels costs about ``(M q / 2 - SNAP q / 2)^3 / (3 M q / 2)`` of squared error (the DCT keeps energy;
  ``move_cost``). ``base_share`` of it goes to the base layer, cheapest bit first; the rest to the full layer,
  on the coefficients left. (A coefficient near 0, as most high frequencies of a smooth cover are, costs
  more than that: the robust model measures its stego and takes a smaller plan where it must.)
- The luma change reaches R, G and B along the luma weights, the smallest change that gives it
  (``with_luma``): a quarter less squared error than adding it to all three. Chroma moves a little; a JPEG
  codes luma on its own, so the carriers do not see it.
- The receiver takes every symbol's likelihood under a noise model (what was sent lies within half a step of
  what a JPEG of an assumed quality reads, or within its snap of its point; pixel rounding and Gaussian
  noise blur it; a floor of outliers, more in blocks with a clipped pixel) and gives each bit a
  log-likelihood ratio for the LDPC code (ldpc.py).

Only luma carries: JPEG keeps chroma at a quarter of the pixels and coarser steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.fft import dctn, idctn
from scipy.special import ndtr

from ..channel.noise import ijg_table

LAYERS = ("base", "full", "header")
# The header: one coefficient, one bit a block on the quality-75 table, in every plan, so that a receiver
# reads it before it knows the plan (which the header names).
HEADER_COEF = 8  # (1, 0): the second cheapest on that table
QUALITY = {"base": 75, "full": 90, "header": 75}  # the JPEG table each layer's carriers step on
BASE_SHARE = 0.2  # of the squared-error budget
# A carrier need not sit on its point: a JPEG at its table's quality rounds anything within half a step to
# it. So it is moved only to within SNAP x half a step; the rest of the half step is the margin for pixel
# rounding and for the rounding of a JPEG at a quality between the tables (the base layer's points must
# also come through 80, 85 and 90; the full layer's through 95). For 2 levels, a snap of 0.35 saves 40% of
# the squared error of moving onto the point.
SNAP = {"base": 0.15, "full": 0.35, "header": 0.15}
MAX_BITS = 6  # per carrier
PIXEL_NOISE = 0.4  # std, in coefficient units, of the rounding of 8-bit RGB and of libjpeg's integer luma
OUTLIERS = 0.03  # share of carriers the noise model expects anywhere (a wrong assumption about the channel)
OUTLIERS_SATURATED = 0.2  # in a block with a pixel at 0 or 255: a decoder's clipping moved its luma


def to_ycc(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """JFIF's full-range YCbCr (libjpeg's), float64."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return y, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b, 128 + 0.5 * r - 0.418688 * g - 0.081312 * b


LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


def with_luma(rgb: np.ndarray, y: np.ndarray, passes: int = 3) -> np.ndarray:
    """``rgb`` (uint8) changed to have luma ``y``, as 8-bit RGB, by the smallest change of R, G and B: along the
    luma weights (a quarter less squared error than adding the same to all three; chroma moves a little,
    which the luma JPEG codes does not see). Where a channel is at 0 or 255, the others take its share."""
    base = rgb.astype(np.float64)
    out = base + (y - base @ LUMA_WEIGHTS)[..., None] * (LUMA_WEIGHTS / (LUMA_WEIGHTS @ LUMA_WEIGHTS))
    for _ in range(passes):
        out = np.clip(out, 0, 255)
        short = y - out @ LUMA_WEIGHTS
        free = np.where(short[..., None] > 0, out < 255, out > 0) * LUMA_WEIGHTS
        out = out + free * (short / np.maximum((free * LUMA_WEIGHTS).sum(axis=-1), 1e-4))[..., None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def block_dct(y: np.ndarray) -> np.ndarray:
    """(blocks, 64): the orthonormal DCT of each 8x8 block of ``y - 128``, blocks in row-major order."""
    h, w = y.shape
    b = (y - 128).reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    return dctn(b, axes=(2, 3), norm="ortho").reshape(-1, 64)


def block_idct(c: np.ndarray, h: int, w: int) -> np.ndarray:
    b = idctn(c.reshape(h // 8, w // 8, 8, 8), axes=(2, 3), norm="ortho")
    return b.transpose(0, 2, 1, 3).reshape(h, w) + 128


def gray(v: np.ndarray) -> np.ndarray:
    return v ^ (v >> 1)


def from_gray(g: np.ndarray) -> np.ndarray:
    v = g.copy()
    shift = g >> 1
    while np.any(shift):
        v ^= shift
        shift >>= 1
    return v


def move_cost(nbits: np.ndarray, step: np.ndarray, snap: float) -> np.ndarray:
    """Mean squared move of a carrier of ``2**nbits`` levels (0 bits: none): the cover's coefficient lies
    anywhere within half a period P of its point, and moves to within ``snap`` half steps of it."""
    half, near = 2.0**nbits * step / 2, snap * step / 2
    return np.where(nbits > 0, np.maximum(half - near, 0) ** 3 / (3 * np.maximum(half, 1e-9)), 0.0)


@dataclass(frozen=True)
class Plan:
    """For each of the 64 coefficients (row-major): its layer (0 base, 1 full), its step and its bits."""

    layer: np.ndarray
    step: np.ndarray
    nbits: np.ndarray

    @classmethod
    def for_cover_psnr(cls, cover_psnr: float, base_share: float = BASE_SHARE) -> "Plan":
        # Squared luma error per block that the cover's PSNR (over R, G and B) allows: a luma change moves each
        # channel by 1 / (3 |w|^2) of its square along the weights w (``with_luma``), less the rounding.
        mse = 255**2 / 10 ** (cover_psnr / 10) - 1 / 12
        budget = 64 * mse * 3 * float(LUMA_WEIGHTS @ LUMA_WEIGHTS)
        layer = np.zeros(64, int)
        step = np.zeros(64)
        nbits = np.zeros(64, int)
        h = LAYERS.index("header")
        layer[HEADER_COEF], step[HEADER_COEF], nbits[HEADER_COEF] = h, ijg_table(QUALITY["header"]).flat[HEADER_COEF], 1
        used = float(move_cost(nbits, step, SNAP["header"]).sum())
        for i, name in enumerate(LAYERS[:h]):
            table = ijg_table(QUALITY[name]).reshape(-1).astype(np.float64)
            free = (nbits == 0) if i == 0 else (nbits == 0) | (layer == i)
            limit = budget * (base_share if i == 0 else 1.0)
            mine = np.zeros(64, int)
            while True:  # greedy: the cheapest next bit of any free coefficient
                cost = move_cost(mine + 1, table, SNAP[name]) - move_cost(mine, table, SNAP[name])
                cost[~free | (mine >= MAX_BITS) | (used + cost > limit)] = np.inf
                j = int(np.argmin(cost))
                if not np.isfinite(cost[j]):
                    break
                used += cost[j]
                mine[j] += 1
            took = mine > 0
            layer[took], step[took], nbits[took] = i, table[took], mine[took]
        return cls(layer, step, nbits)

    @cached_property
    def carriers(self) -> np.ndarray:
        return np.flatnonzero(self.nbits)

    def bits(self, name: str) -> np.ndarray:
        """Bits of each coefficient in layer ``name`` (0 elsewhere)."""
        return np.where(self.layer == LAYERS.index(name), self.nbits, 0)

    def snap(self) -> np.ndarray:
        return np.array([SNAP[LAYERS[i]] for i in self.layer])

    def distortion_psnr(self) -> float:
        """The cover PSNR the plan aims at (the mean of each carrier's move)."""
        sq = np.sum(move_cost(self.nbits, self.step, self.snap()))
        return float(10 * np.log10(255**2 / (sq / 64 / (3 * LUMA_WEIGHTS @ LUMA_WEIGHTS) + 1 / 12)))


def _rng(key: np.ndarray, *path: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(k) for k in key] + list(path))))


@dataclass(frozen=True)
class JpegCarrier:
    plan: Plan

    @staticmethod
    def region(h: int, w: int) -> tuple[int, int]:
        """The part of the cover that carries: whole 8x8 blocks from the top left (JPEG's own blocks)."""
        return h // 8 * 8, w // 8 * 8

    def slots(self, h: int, w: int, layer: str) -> int:
        rh, rw = self.region(h, w)
        return rh * rw // 64 * int(self.plan.bits(layer).sum())

    def _keyed(self, blocks: int, seed: bytes) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The dither of every carrier (blocks, carriers) and, per layer, the order of its slots. Each
        coefficient's dither and each layer's order have their own generator, so that the header's do not
        depend on the plan."""
        key = np.frombuffer(seed[:32].ljust(32, b"\0"), dtype=np.uint32)
        c = self.plan.carriers
        dither = np.stack([_rng(key, 1, j).integers(0, 1 << 30, blocks) % 2 ** self.plan.nbits[j] for j in c], axis=1)
        orders = {layer: _rng(key, 2, i).permutation(blocks * int(self.plan.bits(layer).sum()))
                  for i, layer in enumerate(LAYERS)}
        return dither, orders

    def _valid(self, layer: str) -> np.ndarray:
        """(carriers, MAX_BITS): which bit planes of each carrier are slots of ``layer``."""
        nb = self.plan.bits(layer)[self.plan.carriers]
        return np.arange(MAX_BITS)[None, :] < nb[:, None]

    def embed(self, cover: np.ndarray, bits: dict[str, np.ndarray], seed: bytes,
              rng: np.random.Generator | None = None, passes: int = 3) -> np.ndarray:
        """The stego (uint8, the cover's shape) with ``bits[layer]`` (0/1) in the first slots of each layer's
        keyed order; the other slots get random bits."""
        rng = rng or np.random.default_rng()
        h, w = cover.shape[:2]
        rh, rw = self.region(h, w)
        blocks = rh * rw // 64
        dither, orders = self._keyed(blocks, seed)
        c = self.plan.carriers
        planes = np.zeros((blocks, len(c), MAX_BITS), np.int64)
        for layer in LAYERS:
            slot = rng.integers(0, 2, self.slots(h, w, layer), dtype=np.int64)
            given = np.asarray(bits.get(layer, np.zeros(0)), dtype=np.int64)
            if len(given) > len(slot):
                raise ValueError(f"{len(given)} bits for {len(slot)} {layer} slots")
            slot[orders[layer][: len(given)]] = given
            planes[:, self._valid(layer)] = slot.reshape(blocks, -1)
        symbol = from_gray((planes << np.arange(MAX_BITS)).sum(axis=2))
        levels, q = 2 ** self.plan.nbits[c], self.plan.step[c]
        offset = ((symbol + dither) % levels) * q
        period = levels * q
        near = self.plan.snap()[c] * q / 2
        part = cover[:rh, :rw]
        coef = block_dct(to_ycc(part)[0])
        stego = cover.copy()
        for _ in range(passes):  # rounding and clipping move some carriers: put them back and go again
            x = coef[:, c]
            point = np.round((x - offset) / period) * period + offset
            coef[:, c] = np.clip(x, point - near, point + near)
            stego[:rh, :rw] = with_luma(part, block_idct(coef, rh, rw))
            coef = block_dct(to_ycc(stego[:rh, :rw])[0])
        return stego

    def llr(self, image: np.ndarray, seed: bytes, quality: int | None = None, noise: float = 0.0,
            layers: tuple[str, ...] = LAYERS, coef: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Each of ``layers``' slots' log-likelihood ratios (positive: 1), in its keyed order, for ``image``,
        assuming it was re-saved as JPEG at ``quality`` (None: not) and got Gaussian noise of std ``noise``
        (8-bit levels). ``coef``: ``luma_coefficients(image)``, when the caller has it already."""
        h, w = image.shape[:2]
        rh, rw = self.region(h, w)
        blocks = rh * rw // 64
        dither, orders = self._keyed(blocks, seed)
        part = image[:rh, :rw]
        coef = luma_coefficients(image) if coef is None else coef
        saturated = ((part == 0) | (part == 255)).any(axis=-1).reshape(rh // 8, 8, rw // 8, 8).any(axis=(1, 3))
        outliers = np.where(saturated.reshape(-1), OUTLIERS_SATURATED, OUTLIERS)[:, None, None]
        plan, c = self.plan, self.plan.carriers
        # The channel: a JPEG at ``quality`` rounds each coefficient to a multiple of its table's step, so what
        # was sent lies within half a step of what is read (a box), blurred by the rounding of pixels and by
        # noise (a Gaussian; luma mixes R, G and B: 0.67 of their noise).
        sigma = np.hypot(PIXEL_NOISE, 0.67 * noise)
        box = ijg_table(quality).reshape(-1)[c].astype(np.float64) if quality else np.zeros(len(c))
        box = box + plan.snap()[c] * plan.step[c]  # where the sender left it, within its point's snap
        out = np.zeros((blocks, len(c), MAX_BITS))
        wanted = np.isin(plan.layer[c], [LAYERS.index(name) for name in layers])
        for nbits in sorted(set(plan.nbits[c].tolist())):
            idx = np.flatnonzero((plan.nbits[c] == nbits) & wanted)
            if len(idx) == 0:
                continue
            m = 2**nbits
            q, b = plan.step[c][idx][:, None], box[idx][:, None]
            u = coef[:, c[idx]] / q[:, 0] - dither[:, idx]  # position in steps, the dither taken off
            t = np.arange(m)
            dist = ((u[..., None] - t + m / 2) % m - m / 2) * q  # (blocks, group, m)
            # A box narrower than the pixels' blur is no box (the stego itself, or a finer table's JPEG).
            b = np.where(b > 2 * sigma, b, 0.0)
            boxed = (ndtr((dist + b / 2) / sigma) - ndtr((dist - b / 2) / sigma)) / np.maximum(b, 1e-9)
            gauss = np.exp(-0.5 * (dist / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
            density = np.where(b > 0, boxed, gauss)
            lp = np.log((1 - outliers) * density + outliers / (m * q))
            g = gray(t)
            for k in range(nbits):
                one = ((g >> k) & 1).astype(bool)
                out[:, idx, k] = np.logaddexp.reduce(lp[..., one], axis=-1) - np.logaddexp.reduce(lp[..., ~one], axis=-1)
        return {layer: out[:, self._valid(layer)].reshape(-1)[orders[layer]] for layer in layers}


def luma_coefficients(image: np.ndarray) -> np.ndarray:
    """(blocks, 64): the luma DCT of the carrying region's blocks (what ``llr`` and ``jpeg_fit`` read)."""
    h, w = JpegCarrier.region(*image.shape[:2])
    return block_dct(to_ycc(image[:h, :w])[0])


def jpeg_fit(image: np.ndarray, quality: int, coef: np.ndarray | None = None) -> float | None:
    """How well ``image`` looks like a decoded JPEG at ``quality``: the share of its luma DCT coefficients (on
    the blocks from the top left) within a fifth of a step of a nonzero multiple of that quality's table, over
    the coefficients whose step is 4 or more (a decoded JPEG: near 1; anything else: less). None when too
    few coefficients tell. ``coef``: ``luma_coefficients(image)``, when the caller has it already."""
    h, w = JpegCarrier.region(*image.shape[:2])
    table = ijg_table(quality).reshape(-1).astype(np.float64)
    use = table >= 4
    if not use.any() or h == 0 or w == 0:
        return None
    ratio = (luma_coefficients(image) if coef is None else coef)[:, use] / table[use]
    nonzero = np.abs(ratio) >= 0.5  # a JPEG zeroes most coefficients, and 0 is a multiple of any step
    if nonzero.sum() < 50:
        return None
    return float(np.mean(np.abs(ratio - np.round(ratio))[nonzero] < 0.2))

"""Bits <-> pixels through a bit-hiding model: CN/EN/DN with ``D`` planes of bits as the secret.

A cover of H x W pixels has ``H' * W' * D / block**2`` bit *slots* (H', W' rounded down to the model's grid;
the rest of the cover is left untouched; a model trained with ``--bit-block B`` writes each bit over a B x B
square, which survives JPEG). A payload of n coded bits uses n * ``repeat`` slots, chosen by a keyed
pseudo-random permutation, so that:

- without the passphrase nobody knows which slots matter, and the unused slots carry random bits;
- damage in one region (a crop border, a scratch) lands on bits of many different codewords.

``embed`` runs the sender's networks, then, where the receiver would not decode the payload, refines the
stego against the decoder (as in Fixed Neural Network Steganography, Kishore et al. 2021): gradient steps
on the 8-bit stego, one level on the values that matter most, until what it decodes is acceptable (``accept``).

The receiver gets a *vote* per coded bit: the sum of its slots' logits, positive for a 1. Its size is the
decoder's confidence, which the soft-decision LDPC code (ldpc.py) uses.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ..nets.layers import quantize_8bit
from ..nets.models import StegoModel


def keyed_order(n: int, seed: bytes) -> np.ndarray:
    """A permutation of ``range(n)`` from a 32-byte secret ``seed`` (container.Keys.order): only the key's
    holder can compute it. It decides *where* bits go; secrecy comes from the encryption."""
    return np.random.Generator(np.random.PCG64(np.frombuffer(seed, dtype=np.uint32))).permutation(n)


def public_order(n: int) -> np.ndarray:
    """A fixed permutation of ``range(n)`` that everyone computes: where the salt's slots are (spread over the
    image, so that local damage costs few of them)."""
    return keyed_order(n, hashlib.sha256(b"exypno/public-order/2").digest())


def legacy_order(n: int, passphrase: str) -> np.ndarray:
    """The order of exypno 0.1.0 (scrypt N = 2^14 with a fixed salt): only to recognise its stegos and refuse
    them by name."""
    seed = hashlib.scrypt(passphrase.encode(), salt=b"exypno/keyed-order/1", n=2**14, r=8, p=1, dklen=32)
    return keyed_order(n, seed)


class Focus(NamedTuple):
    """What the next refinement step works on: for each payload bit, a weight and, where not the carrier's
    ``margin``, the |vote| to aim for. ``urgent`` bits also get a step of their own: ``URGENT_VALUES`` values
    per urgent bit (times the bit block's area, at most ``fraction`` of the values), chosen by their gradient
    alone. Where the decoder is unsure of a slot (|logit| under 0.5: 22% of the slots of a 64x64 photo), the
    logit's largest gradient is some 66 times smaller than a sure slot's (benchmarks/seal_refinement.py), so
    that a step by the largest gradients does not reach it."""

    weight: np.ndarray
    margin: np.ndarray | None = None
    urgent: np.ndarray | None = None


URGENT_VALUES = 27  # a 3x3 square of pixels, three channels


def _sparse_step(flat: torch.Tensor, g: torch.Tensor, k: int, free: torch.Tensor) -> None:
    """Move the ``k`` values of ``flat`` (a stego in [0, 1] on the 8-bit grid) with the largest gradient ``g``
    one level against it, in place, among the ``free`` ones; those moved are no longer free."""
    # A value at 0 or 255 that the gradient would push further out cannot move: leave it out, so that the step
    # goes to its neighbours (the decoder sees them too), not to nothing.
    movable = free & ~(((flat >= 1) & (g < 0)) | ((flat <= 0) & (g > 0)))
    top = (g.abs() * movable).topk(max(1, min(k, flat.numel()))).indices
    top = top[movable[top] & (g[top] != 0)]
    flat[top] = torch.round((flat[top] - torch.sign(g[top]) / 255).clamp(0, 1) * 255) / 255
    free[top] = False


# The share of a stego's 8-bit values that one refinement step changes, by one level each: a step adds at most
# 0.05 to the mean squared error, 0.03 dB of cover PSNR at 40 dB.
STEP_FRACTION = 0.05


@dataclass
class BitCarrier:
    model: StegoModel
    repeat: int = 1  # slots per coded bit; the receiver sums their logits
    margin: float = 2.0  # |vote| the refinement aims for on every payload bit
    block: int = 1  # each bit fills a block x block square (the model's --bit-block)

    @property
    def device(self) -> torch.device:
        """Where the model's networks run: the carrier's tensors go there, its results come back to the CPU."""
        return next(self.model.parameters()).device

    @property
    def planes(self) -> int:
        return self.model.config.secret_channels

    def region(self, h: int, w: int) -> tuple[int, int]:
        m = math.lcm(self.model.multiple, self.block)
        return h // m * m, w // m * m

    def grid(self, h: int, w: int) -> tuple[int, int, int]:
        """(planes, rows, columns) of bits in a cover of h x w pixels."""
        rh, rw = self.region(h, w)
        return self.planes, rh // self.block, rw // self.block

    def slots(self, h: int, w: int) -> int:
        return math.prod(self.grid(h, w))

    def capacity_bits(self, h: int, w: int) -> int:
        return self.slots(h, w) // self.repeat

    # --- sender ------------------------------------------------------------------------------------

    def embed(self, cover: np.ndarray, bits: np.ndarray, order: np.ndarray, steps: int = 30,
              generator: np.random.Generator | None = None, accept=None, view=None, on_step=None,
              fraction: float = STEP_FRACTION) -> tuple[np.ndarray, dict]:
        """Stego (uint8, the cover's shape) carrying ``bits`` (0/1) in slots ``order[: len(bits) * repeat]``.

        The hiding network writes the first stego. Each refinement step then moves the ``fraction`` of the 8-bit
        values whose gradient (of a hinge on each payload bit's vote) is largest by one level, against the
        gradient. Why one level on a few values: the stego is 8-bit, so a dense step (every value a fraction of
        a level, as Adam takes) rounds to a change of nearly every value at once, noise that costs more bits
        than it mends: on a 512x512 cover at capacity, two dense steps raise the wrong bits from 62,000-71,000
        to 115,000-117,000 of 524,288, while sparse steps keep them within a few thousand of where they were
        (benchmarks/seal_refinement.py).

        ``accept(stego)`` judges the 8-bit stego (uint8, the cover's shape) as the receiver will: it returns
        (acceptable, focus), focus a ``Focus`` for the next step (heavier on the bits of codewords that did
        not decode, say) or None. It runs before each step. Without it, refinement goes on until every bit's
        vote has the margin.

        ``view`` maps the stego (a tensor in [0, 1]) to what the receiver will see, e.g. a JPEG re-save with a
        straight-through gradient: the gradient then comes through that damage. ``on_step()`` is called after
        each refinement step (a progress bar).
        """
        h, w = cover.shape[:2]
        rh, rw = self.region(h, w)
        n_used = len(bits) * self.repeat
        if n_used > self.slots(h, w):
            raise ValueError("more bits than slots")
        gen = generator or np.random.default_rng()
        plane = gen.integers(0, 2, size=self.slots(h, w), dtype=np.uint8)  # unused slots: random bits
        used = order[:n_used]
        plane[used] = np.repeat(bits.astype(np.uint8), self.repeat)
        dev = self.device
        target = self._spread(torch.from_numpy(plane.astype(np.float32)).reshape(1, *self.grid(h, w))).to(dev)
        index = torch.from_numpy(used.astype(np.int64)).to(dev)
        sign = torch.from_numpy(bits.astype(np.float32)).to(dev) * 2 - 1
        weight, margin, urgent = torch.ones(len(bits), device=dev), self.margin, None

        c = torch.from_numpy(np.array(cover[:rh, :rw])).permute(2, 0, 1)[None].float().to(dev) / 255
        for p in self.model.parameters():  # gradients flow to the stego only
            p.requires_grad_(False)
        with torch.no_grad():
            x = quantize_8bit(self.model.hide(c, target))  # on the 8-bit grid from here on

        def stego() -> np.ndarray:
            out = cover.copy()
            out[:rh, :rw] = torch.round(x.detach() * 255)[0].permute(1, 2, 0).to(torch.uint8).cpu().numpy()
            return out

        info = {}
        for step in range(steps + 1):
            info["refine_steps"] = step
            if accept is not None:
                info["accepted"], focus = accept(stego())
                if focus is not None:
                    weight = torch.from_numpy(np.asarray(focus.weight, dtype=np.float32)).to(dev)
                    if focus.margin is not None:
                        margin = torch.from_numpy(np.asarray(focus.margin, dtype=np.float32)).to(dev)
                    urgent = (None if focus.urgent is None or not focus.urgent.any() else
                              torch.from_numpy(np.asarray(focus.urgent, dtype=np.float32)).to(dev))
                if info["accepted"] or step == steps:
                    break
            x.requires_grad_(True)
            seen = x if view is None else view(x)
            # Hinge on each bit's vote; only the payload's bits count, the filler slots do not.
            vote = self._pool(self.model.reveal(seen)).reshape(-1)[index].reshape(len(bits), self.repeat).sum(1)
            short = F.relu(margin - sign * vote)
            if accept is None:
                info.update(wrong_bits=int((sign * vote <= 0).sum()), weak_bits=int((short > 0).sum()))
                info["accepted"] = info["weak_bits"] == 0
                if info["accepted"] or step == steps:
                    break
            flat = x.detach().reshape(-1).clone()
            free = torch.ones_like(flat, dtype=torch.bool)
            if urgent is not None:
                # The urgent bits' own gradient, with its own share of values: a bit where the decoder is unsure
                # has a gradient too small to win a place among all the others' (see ``Focus``).
                g, = torch.autograd.grad((short * urgent).sum(), x, retain_graph=True)
                share = URGENT_VALUES * int(urgent.sum()) * self.block**2
                _sparse_step(flat, g.reshape(-1), min(share, int(fraction * flat.numel())), free)
            (short * weight).mean().backward()
            with torch.no_grad():
                _sparse_step(flat, x.grad.reshape(-1), int(fraction * flat.numel()), free)
                x = flat.reshape(x.shape)
            if on_step is not None:
                on_step()
        return stego(), info

    # --- receiver ----------------------------------------------------------------------------------

    def _spread(self, bits: torch.Tensor) -> torch.Tensor:
        b = self.block
        return bits if b == 1 else bits.repeat_interleave(b, dim=-2).repeat_interleave(b, dim=-1)

    def _pool(self, logits: torch.Tensor) -> torch.Tensor:
        return logits if self.block == 1 else F.avg_pool2d(logits, self.block)

    def logits(self, stego: np.ndarray) -> np.ndarray:
        """The decoder's logit for every slot (the mean over its square), flattened in slot order."""
        h, w = stego.shape[:2]
        rh, rw = self.region(h, w)
        x = torch.from_numpy(np.array(stego[:rh, :rw])).permute(2, 0, 1)[None].float().to(self.device) / 255
        with torch.inference_mode():
            return self._pool(self.model.reveal(x)).reshape(-1).cpu().numpy()

    def votes(self, logits: np.ndarray, order: np.ndarray, n_bits: int) -> np.ndarray:
        """Each of ``n_bits`` coded bits' vote: the sum of its ``repeat`` slots' logits (positive: a 1)."""
        return logits[order[: n_bits * self.repeat]].reshape(n_bits, self.repeat).sum(axis=1)

    def read(self, logits: np.ndarray, order: np.ndarray, n_bits: int) -> np.ndarray:
        """Hard decisions for ``n_bits`` coded bits."""
        return (self.votes(logits, order, n_bits) > 0).astype(np.uint8)

"""Bits <-> pixels through a bit-hiding model: CN/EN/DN with ``D`` planes of bits as the secret.

A cover of H x W pixels has ``H' * W' * D / block**2`` bit *slots* (H', W' rounded down to the model's grid;
the rest of the cover is left untouched; a model trained with ``--bit-block B`` writes each bit over a B x B
square, which survives JPEG). A payload of n coded bits uses n * ``repeat`` slots, chosen by a keyed
pseudo-random permutation, so that:

- without the passphrase nobody knows which slots matter, and the unused slots carry random bits;
- damage in one region (a crop border, a scratch) lands on bits of many different codewords.

``embed`` runs the sender's networks, then, where the receiver would not decode the payload, refines the
stego against the decoder (as in Fixed Neural Network Steganography, Kishore et al. 2021): steps of
gradient descent on the 8-bit stego until what it decodes is acceptable (``accept``).

The receiver gets a *vote* per coded bit: the sum of its slots' logits, positive for a 1. Its size is the
decoder's confidence, which the soft-decision LDPC code (ldpc.py) uses.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

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

    def embed(self, cover: np.ndarray, bits: np.ndarray, order: np.ndarray, steps: int = 60,
              generator: np.random.Generator | None = None, accept=None,
              check_every: int = 1, view=None, on_step=None) -> tuple[np.ndarray, dict]:
        """Stego (uint8, the cover's shape) carrying ``bits`` (0/1) in slots ``order[: len(bits) * repeat]``.

        ``accept(votes)`` judges the receiver's votes on the payload's bits: it returns (acceptable, focus),
        focus being a boolean array of the bits that the refinement should work on (None: all of them), e.g.
        those of the codewords that did not decode. It runs every ``check_every`` steps. Without it,
        refinement goes on until every bit decodes with the margin.

        ``view`` maps the 8-bit stego (a tensor in [0, 1]) to what the receiver will see, e.g. a JPEG re-save
        with a straight-through gradient: the votes are then the receiver's after that damage. ``on_step()`` is
        called after each refinement step (a progress bar).
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
        weight = torch.ones(len(bits), device=dev)

        c = torch.from_numpy(np.array(cover[:rh, :rw])).permute(2, 0, 1)[None].float().to(dev) / 255
        for p in self.model.parameters():  # gradients flow to the stego only
            p.requires_grad_(False)
        with torch.no_grad():
            start = quantize_8bit(self.model.hide(c, target))
        delta = (start - c).clone().requires_grad_(True)
        opt = None  # made at the first step: a stego that needs none skips torch.optim's import (1.5 s)
        info = {}
        for step in range(steps + 1):
            x = quantize_8bit(c + delta)
            if view is not None:
                x = view(x)
            # Hinge on each bit's vote; only the payload's bits count, the filler slots do not.
            vote = self._pool(self.model.reveal(x)).reshape(-1)[index].reshape(len(bits), self.repeat).sum(1)
            short = F.relu(self.margin - sign * vote)
            with torch.no_grad():
                info = {"refine_steps": step, "wrong_bits": int((sign * vote <= 0).sum()),
                        "weak_bits": int((short > 0).sum())}
                if accept is None:
                    info["accepted"] = info["weak_bits"] == 0
                elif step % check_every == 0 or step == steps:
                    info["accepted"], focus = accept(vote.cpu().numpy())
                    if focus is not None:
                        weight = torch.from_numpy(np.asarray(focus, dtype=np.float32)).to(dev)
                else:
                    info["accepted"] = False
            if info["accepted"] or step == steps:
                break
            # The distortion term is gentle: early stopping is what keeps the change small.
            loss = (short * weight).mean() + 0.01 * (delta * 255).pow(2).mean()
            opt = opt or torch.optim.Adam([delta], lr=0.4 / 255)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if on_step is not None:
                on_step()
        stego = cover.copy()
        stego[:rh, :rw] = torch.round((c + delta).detach().clamp(0, 1) * 255)[0].permute(1, 2, 0).to(torch.uint8).cpu().numpy()
        return stego, info

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

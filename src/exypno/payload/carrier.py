"""Bits <-> pixels through a bit-hiding model: CN/EN/DN with ``D`` planes of bits as the secret.

A cover of H x W pixels has ``H' * W' * D`` bit *slots* (H', W' rounded down to the model's grid; the rest
of the cover is left untouched). A payload of n coded bits uses n * ``repeat`` slots, chosen by a keyed
pseudo-random permutation, so that:

- without the passphrase nobody knows which slots matter, and the unused slots carry random bits;
- damage in one region (a crop border, a scratch) lands on bits of many different codewords.

``embed`` runs the sender's networks, then, where the decoder would misread too many bits, refines the
stego against the decoder (as in Fixed Neural Network Steganography, Kishore et al. 2021): steps of
gradient descent on the 8-bit stego until what it decodes is acceptable (``accept``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..nets.layers import quantize_8bit
from ..nets.models import StegoModel


def keyed_order(n: int, passphrase: str) -> np.ndarray:
    """A permutation of ``range(n)`` that only the passphrase's holder can compute.

    scrypt with a fixed salt: the order must be known before anything is read from the image, so it cannot
    use the payload's random salt. It only decides *where* bits go; secrecy comes from the encryption.
    """
    seed = hashlib.scrypt(passphrase.encode(), salt=b"exypno/keyed-order/1", n=2**14, r=8, p=1, dklen=32)
    return np.random.Generator(np.random.PCG64(np.frombuffer(seed, dtype=np.uint32))).permutation(n)


@dataclass
class BitCarrier:
    model: StegoModel
    repeat: int = 1  # slots per coded bit; the receiver sums their logits
    margin: float = 2.0  # |vote| the refinement aims for on every payload bit

    @property
    def planes(self) -> int:
        return self.model.config.secret_channels

    def region(self, h: int, w: int) -> tuple[int, int]:
        m = self.model.multiple
        return h // m * m, w // m * m

    def slots(self, h: int, w: int) -> int:
        rh, rw = self.region(h, w)
        return rh * rw * self.planes

    def capacity_bits(self, h: int, w: int) -> int:
        return self.slots(h, w) // self.repeat

    # --- sender ------------------------------------------------------------------------------------

    def embed(self, cover: np.ndarray, bits: np.ndarray, order: np.ndarray, steps: int = 60,
              generator: np.random.Generator | None = None, accept=None) -> tuple[np.ndarray, dict]:
        """Stego (uint8, the cover's shape) carrying ``bits`` (0/1) in slots ``order[: len(bits) * repeat]``.

        ``accept(wrong)`` judges a boolean array of wrongly decoded bits (e.g. "every codeword within what the
        error correction fixes"); refinement stops as soon as it is true for every view of the stego. Without
        it, refinement goes on until every bit decodes with the margin.
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
        target = torch.from_numpy(plane.astype(np.float32)).reshape(1, self.planes, rh, rw)
        index = torch.from_numpy(used.astype(np.int64))
        sign = torch.from_numpy(bits.astype(np.float32)) * 2 - 1

        c = torch.from_numpy(np.array(cover[:rh, :rw])).permute(2, 0, 1)[None].float() / 255
        for p in self.model.parameters():  # gradients flow to the stego only
            p.requires_grad_(False)
        with torch.no_grad():
            start = quantize_8bit(self.model.hide(c, target))
        delta = (start - c).clone().requires_grad_(True)
        opt = torch.optim.Adam([delta], lr=0.4 / 255)
        info = {}
        for step in range(steps + 1):
            x = quantize_8bit(c + delta)
            views = [x]
            # Hinge on each bit's summed logit; only the payload's bits count, the filler slots do not.
            votes = [self.model.reveal(v).reshape(-1)[index].reshape(len(bits), self.repeat).sum(1) for v in views]
            short = [F.relu(self.margin - sign * v) for v in votes]
            with torch.no_grad():
                wrong = [(sign * v <= 0).numpy() for v in votes]
                info = {"refine_steps": step, "wrong_bits": max(int(w.sum()) for w in wrong),
                        "weak_bits": max(int((s > 0).sum()) for s in short)}
                info["accepted"] = all(accept(w) for w in wrong) if accept else info["weak_bits"] == 0
            if info["accepted"] or step == steps:
                break
            # The distortion term is gentle: early stopping is what keeps the change small.
            loss = sum(s.mean() for s in short) + 0.01 * (delta * 255).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        stego = cover.copy()
        stego[:rh, :rw] = torch.round((c + delta).detach().clamp(0, 1) * 255)[0].permute(1, 2, 0).to(torch.uint8).numpy()
        return stego, info

    # --- receiver ----------------------------------------------------------------------------------

    def logits(self, stego: np.ndarray) -> np.ndarray:
        """The decoder's logit for every slot, flattened in slot order."""
        h, w = stego.shape[:2]
        rh, rw = self.region(h, w)
        x = torch.from_numpy(np.array(stego[:rh, :rw])).permute(2, 0, 1)[None].float() / 255
        with torch.inference_mode():
            return self.model.reveal(x).reshape(-1).numpy()

    def read(self, logits: np.ndarray, order: np.ndarray, n_bits: int) -> np.ndarray:
        """Hard decisions for ``n_bits`` coded bits: the sum of each bit's ``repeat`` slot logits."""
        used = logits[order[: n_bits * self.repeat]].reshape(n_bits, self.repeat).sum(axis=1)
        return (used > 0).astype(np.uint8)

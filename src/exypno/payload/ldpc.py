"""A soft-decision inner code for sealed files: irregular repeat-accumulate (IRA) LDPC codes.

Why: the bit-hiding decoder does not just say 0 or 1, it says how sure it is. Most of its wrong bits come
with a logit near zero. Reed-Solomon on hard decisions throws that away, and so
would a vote over 3 slots, which spends two thirds of the slots to fix 12% wrong bits. Belief propagation on an LDPC code uses each
bit's confidence and gets close to what the channel can carry. Reed-Solomon stays as the outer code and
catches the rare bits that a decoded block still has wrong.

The code is the one DVB-S2 and 5G use in form: H = [A | P]. A is a sparse random matrix, and P is
dual-diagonal (each parity bit is the XOR of its check's information bits and the previous parity bit), so
encoding is a running XOR. A fixed seed makes every (n, k) code the same for sender and receiver. Decoding
is belief propagation by the ``ldpc`` package (C++). It runs in syndrome form: the hard decisions' syndrome
and each bit's probability of being wrong go in, the wrong bits come out.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import scipy.sparse as sp

# Information-bit degrees: a fifth of them in 8 checks, the rest in 3, the shape of DVB-S2's profiles: the
# high-degree bits converge first and pull the others along. Not tuned further: on the seal model's real
# logits it decodes every codeword at rate 0.6 where the channel carries about 0.7 bits per slot
# (scripts/seal_rates.py).
HIGH_DEGREE, HIGH_FRACTION, LOW_DEGREE = 8, 0.2, 3
SEED = 0x5EA1


@dataclass(frozen=True)
class IraCode:
    """An IRA LDPC code of ``n`` coded bits, the first ``k`` of them the information bits (systematic)."""

    n: int
    k: int
    max_iter: int = 40  # belief-propagation rounds before giving up on a codeword

    def __post_init__(self):
        if not 0 < self.k < self.n:
            raise ValueError(f"an LDPC code needs 0 < k < n (got n={self.n}, k={self.k})")

    @property
    def rate(self) -> float:
        return self.k / self.n

    @cached_property
    def a(self) -> sp.csr_matrix:
        """The information part A (m x k), built from a fixed seed: the same for every sender and receiver."""
        m, k = self.n - self.k, self.k
        rng = np.random.default_rng([SEED, self.n, self.k])
        degrees = np.full(k, LOW_DEGREE)
        degrees[rng.permutation(k)[: int(round(HIGH_FRACTION * k))]] = HIGH_DEGREE
        degrees = np.minimum(degrees, m)
        cols = np.repeat(np.arange(k), degrees)
        # Spread the edges evenly over the checks (each check gets its share), in random order.
        rows = rng.permutation(np.resize(np.arange(m), len(cols)))
        rows = _without_repeats(cols, rows, m, rng)
        return sp.csr_matrix((np.ones(len(cols), np.uint8), (rows, cols)), shape=(m, k))

    @cached_property
    def h(self) -> sp.csr_matrix:
        """The parity-check matrix [A | P], P dual-diagonal."""
        m = self.n - self.k
        p = sp.eye(m, dtype=np.uint8, format="csr") + sp.eye(m, k=-1, dtype=np.uint8, format="csr")
        return sp.hstack([self.a, p], format="csr")

    def encode(self, info: np.ndarray) -> np.ndarray:
        """Codewords (..., n) of 0/1 uint8 for information bits (..., k)."""
        info = np.asarray(info, dtype=np.uint8)
        flat = info.reshape(-1, self.k)
        checks = (self.a @ flat.T.astype(np.int64)).T % 2  # each check's XOR of its information bits
        parity = np.cumsum(checks, axis=1) % 2  # p_i = check_i XOR p_(i-1)
        return np.concatenate([flat, parity.astype(np.uint8)], axis=1).reshape(*info.shape[:-1], self.n)

    def syndrome(self, bits: np.ndarray) -> np.ndarray:
        return (self.h @ np.asarray(bits, dtype=np.int64)) % 2

    def parity_excess(self, llr: np.ndarray, shuffles: int = 4) -> float:
        """How many more of the checks the hard decisions satisfy than the same bits in random places do.

        About 0 for bits that are not this code's codeword (a wrong order, a foreign image), whatever their
        bias; clearly above it for a codeword read with errors (0.2 for the seal model's undamaged stegos).
        """
        hard = (np.asarray(llr) > 0).astype(np.int64)
        rng = np.random.default_rng(0)
        null = np.mean([1 - self.syndrome(rng.permutation(hard)).mean() for _ in range(shuffles)])
        return float(1 - self.syndrome(hard).mean() - null)

    @cached_property
    def _decoder(self):
        from ldpc import BpDecoder

        return BpDecoder(self.h, error_rate=0.1, max_iter=self.max_iter, bp_method="product_sum",
                         schedule="serial", input_vector_type="syndrome")

    def decode(self, llr: np.ndarray) -> tuple[np.ndarray, bool]:
        """(information bits, converged) from one block's log-likelihood ratios (positive: 1 is likelier).

        ``converged`` means the result satisfies every check: it is a codeword, and with a working channel
        almost surely the one that was sent. Outer Reed-Solomon and the authenticated decryption judge it.
        """
        llr = np.asarray(llr, dtype=np.float64)
        hard = (llr > 0).astype(np.uint8)
        # P(hard decision wrong), kept away from 0 and 1 so that no bit is beyond doubt.
        wrong = np.clip(1 / (1 + np.exp(np.minimum(np.abs(llr), 60))), 1e-12, 0.5 - 1e-9)
        dec = self._decoder
        dec.update_channel_probs(wrong)
        flips = dec.decode(self.syndrome(hard).astype(np.uint8))
        return (hard ^ flips.astype(np.uint8))[: self.k], bool(dec.converge)



@lru_cache(maxsize=32)
def code(n: int, k: int, max_iter: int = 40) -> IraCode:
    """``IraCode(n, k, max_iter)``, built once per process (its parity-check matrix and decoder)."""
    return IraCode(n, k, max_iter)


def _without_repeats(cols: np.ndarray, rows: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """Swap edge endpoints until no column meets the same check twice (a repeated edge would cancel mod 2)."""
    rows = rows.copy()
    for _ in range(100):
        key = cols.astype(np.int64) * m + rows
        order = np.argsort(key, kind="stable")
        dup = order[1:][key[order[1:]] == key[order[:-1]]]
        if len(dup) == 0:
            return rows
        other = rng.integers(0, len(rows), size=len(dup))
        rows[dup], rows[other] = rows[other], rows[dup].copy()
    raise RuntimeError("could not build an LDPC code without repeated edges")


@dataclass(frozen=True)
class Blocks:
    """``count`` codewords of one code side by side: ``count * k`` information bits in ``count * n`` coded bits."""

    code: IraCode
    count: int

    @property
    def info_bits(self) -> int:
        return self.count * self.code.k

    @property
    def coded_bits(self) -> int:
        return self.count * self.code.n

    def encode(self, bits: np.ndarray, rng: np.random.Generator, tail: np.ndarray | None = None) -> np.ndarray:
        """Coded bits for ``bits`` (at most ``info_bits``) and ``tail``, the last information bits of the last
        codeword; what is between them is random."""
        info = rng.integers(0, 2, self.info_bits, dtype=np.uint8)
        info[: len(bits)] = bits
        if tail is not None and len(tail):
            info[-len(tail) :] = tail
        return self.code.encode(info.reshape(self.count, self.code.k)).reshape(-1)

    def decode_block(self, llr: np.ndarray, i: int) -> tuple[np.ndarray, bool]:
        n = self.code.n
        return self.code.decode(llr[i * n : (i + 1) * n])

    def decode(self, llr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(information bits, which codewords converged) from the coded bits' log-likelihood ratios."""
        out = [self.decode_block(llr, i) for i in range(self.count)]
        return np.concatenate([b for b, _ in out]), np.array([ok for _, ok in out])

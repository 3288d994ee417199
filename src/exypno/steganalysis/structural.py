"""Structural detectors of LSB replacement, vectorised with numpy, each giving a score in [0, 1].

- ``chi_square``: Westfeld and Pfitzmann's attack on pairs of values. LSB replacement equalises the counts
  of 2k and 2k+1. The score is the mean p-value over cumulative prefixes of the image in scan order
  (1%, 2%, ..., 100%), as StegExpose scans it, so sequential embedding of a fraction r scores about r.
- ``rs_analysis``: Fridrich, Goljan and Du's RS analysis (regular and singular groups under the flipping
  masks +M and -M, mask [0, 1, 1, 0]); estimates the embedding rate.
- ``sample_pairs``: Dumitrescu, Wu and Wang's sample pair analysis, from trace sets: in a cover, pairs whose
  difference is 2m+1 are as often "odd, then even" as "even, then odd"; embedding breaks this by an amount
  that is quadratic in the rate, which gives the estimate.
- ``primary_sets``: the earlier closed form of Dumitrescu, Wu and Memon (ICIP 2002) on the primary sets X,
  Y, W, Z of adjacent pairs.
- ``fused``: StegExpose's fusion: the mean of the four (NaN-tolerant), flagged at threshold 0.2, with a
  payload estimate from the three quantitative detectors.

All rates are "fraction of 8-bit values carrying a message bit" (a value is changed with half that
probability). Images are (H, W) or (H, W, C) uint8; colour channels are analysed apart and averaged.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

THRESHOLD = 0.2
DETECTORS = ("chi_square", "rs_analysis", "sample_pairs", "primary_sets")


def _channels(image: np.ndarray) -> list[np.ndarray]:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError("steganalysis works on 8-bit images")
    if image.ndim == 2:
        return [image.astype(np.int32)]
    return [image[..., c].astype(np.int32) for c in range(min(image.shape[2], 3))]


def _smaller_root(a: float, b: float, c: float) -> float:
    """The root of a x^2 + b x + c with the smaller absolute value.

    Near a rate of 1 the discriminant can dip below zero by sampling noise; the real part of the complex
    pair (the vertex) is then the least-squares answer, as in the published implementations' fallback.
    """
    if abs(a) < 1e-12:
        return -c / b if abs(b) > 1e-12 else math.nan
    disc = b * b - 4 * a * c
    if disc < 0:
        return -b / (2 * a)
    roots = ((-b + math.sqrt(disc)) / (2 * a), (-b - math.sqrt(disc)) / (2 * a))
    return min(roots, key=abs)


def _clip01(x: float) -> float:
    return math.nan if math.isnan(x) else min(1.0, max(0.0, x))


# --- chi-square -------------------------------------------------------------------------------------


def _chi_square_p(counts: np.ndarray) -> float:
    from scipy.stats import chi2

    even, odd = counts[0::2].astype(float), counts[1::2].astype(float)
    expected = (even + odd) / 2
    keep = expected >= 5  # the chi-square approximation needs enough counts per cell
    if keep.sum() < 2:
        return math.nan
    stat = float(np.sum((even[keep] - expected[keep]) ** 2 / expected[keep]))
    return float(chi2.sf(stat, keep.sum() - 1))


def chi_square(image: np.ndarray, steps: int = 100) -> float:
    # Interleave channels in scan order (R, G, B of each pixel), as StegExpose reads them.
    values = np.asarray(image).reshape(-1)
    n = values.size
    onehot_counts = np.zeros((steps, 256), dtype=np.int64)
    bounds = np.linspace(0, n, steps + 1).astype(int)
    for i in range(steps):
        onehot_counts[i] = np.bincount(values[bounds[i] : bounds[i + 1]], minlength=256)
    cumulative = np.cumsum(onehot_counts, axis=0)
    return float(np.nanmean([_chi_square_p(c) for c in cumulative]))


# --- RS analysis ------------------------------------------------------------------------------------


def _flip(x: np.ndarray) -> np.ndarray:  # F1: 0<->1, 2<->3, ...
    return x ^ 1


def _flip_neg(x: np.ndarray) -> np.ndarray:  # F-1: -1<->0, 1<->2, ...
    return ((x + 1) ^ 1) - 1


def _rs_counts(groups: np.ndarray, mask: np.ndarray) -> tuple[float, float, float, float]:
    """Fractions of regular and singular groups under +M and -M."""

    def smoothness(g):
        return np.abs(np.diff(g, axis=1)).sum(axis=1)

    f0 = smoothness(groups)
    pos = np.where(mask, _flip(groups), groups)
    neg = np.where(mask, _flip_neg(groups), groups)
    fp, fn = smoothness(pos), smoothness(neg)
    n = len(groups)
    return (fp > f0).sum() / n, (fp < f0).sum() / n, (fn > f0).sum() / n, (fn < f0).sum() / n


def _rs_channel(x: np.ndarray, mask=(0, 1, 1, 0)) -> float:
    m = np.array(mask, dtype=bool)
    k = len(mask)
    estimates = []
    for plane in (x, x.T):  # horizontal and vertical groups
        w = plane.shape[1] // k * k
        if w == 0:
            continue
        groups = plane[:, :w].reshape(-1, k)
        r, s, rn, sn = _rs_counts(groups, m)
        r1, s1, rn1, sn1 = _rs_counts(groups ^ 1, m)  # every LSB flipped: the 1 - p/2 point
        d0, d1, dn0, dn1 = r - s, r1 - s1, rn - sn, rn1 - sn1
        z = _smaller_root(2 * (d1 + d0), dn0 - dn1 - d1 - 3 * d0, d0 - dn0)
        if not math.isnan(z) and abs(z - 0.5) > 1e-12:
            estimates.append(z / (z - 0.5))
    return float(np.mean(estimates)) if estimates else math.nan


def rs_analysis(image: np.ndarray) -> float:
    return _clip01(float(np.nanmean([_rs_channel(c) for c in _channels(image)])))


# --- sample pairs and primary sets ------------------------------------------------------------------


def _pairs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All horizontally and vertically adjacent pairs (u, v)."""
    u = np.concatenate([x[:, :-1].ravel(), x[:-1, :].ravel()])
    v = np.concatenate([x[:, 1:].ravel(), x[1:, :].ravel()])
    return u, v


def _spa_channel(x: np.ndarray, span: int = 32) -> float:
    u, v = _pairs(x)
    # Count both orders, so trace sets m >= 0 cover small differences of either sign.
    u, v = np.concatenate([u, v]), np.concatenate([v, u])
    m = (v >> 1) - (u >> 1)
    a, b = u & 1, v & 1
    sel = (m >= 0) & (m <= span + 1)
    idx = m[sel]
    total = np.bincount(idx, minlength=span + 2).astype(float)
    n01 = np.bincount(idx, weights=((a == 0) & (b == 1))[sel], minlength=span + 2)
    n10 = np.bincount(idx, weights=((a == 1) & (b == 0))[sel], minlength=span + 2)
    s, d = n01 + n10, n01 - n10
    dt = np.sum(total[:-1] - total[1:])
    ds = np.sum(s[:-1] - s[1:])
    sd = np.sum(d[:-1] + d[1:])
    # Cover assumption sum_m n01(m) = sum_m n10(m+1), written in the stego counts with q = p/2:
    #   2 dt q^2 - 2 (sd + dt) q + (ds + sd) = 0
    q = _smaller_root(2 * dt, -2 * (sd + dt), ds + sd)
    return 2 * q


def sample_pairs(image: np.ndarray) -> float:
    return _clip01(float(np.nanmean([_spa_channel(c) for c in _channels(image)])))


def _primary_sets_channel(x: np.ndarray) -> float:
    u, v = _pairs(x)
    v_even = (v & 1) == 0
    big_x = np.sum((v_even & (u < v)) | (~v_even & (u > v)))
    big_y = np.sum((v_even & (u > v)) | (~v_even & (u < v)))
    z = np.sum(u == v)
    w = np.sum(((u >> 1) == (v >> 1)) & (u != v))
    p = float(u.size)
    return _smaller_root(0.5 * (w + z), 2 * big_x - p, big_y - big_x)


def primary_sets(image: np.ndarray) -> float:
    return _clip01(float(np.nanmean([_primary_sets_channel(c) for c in _channels(image)])))


# --- fusion -----------------------------------------------------------------------------------------


def analyze(image: np.ndarray) -> dict:
    """Every structural detector, the fused score, the verdict at threshold 0.2 and a payload estimate."""
    image = np.asarray(image)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN means: too few pixels to judge, or nothing to fuse
        scores = {
            "chi_square": chi_square(image),
            "rs_analysis": rs_analysis(image),
            "sample_pairs": sample_pairs(image),
            "primary_sets": primary_sets(image),
        }
        fused = float(np.nanmean(list(scores.values())))
        rate = float(np.nanmean([scores[k] for k in ("rs_analysis", "sample_pairs", "primary_sets")]))
    values = image.size if image.ndim == 2 else image.shape[0] * image.shape[1] * min(image.shape[2], 3)
    return {
        **scores,
        "fused": fused,
        "stego": bool(fused >= THRESHOLD) if not math.isnan(fused) else None,  # None: too little to judge
        "estimated_rate": rate,
        "estimated_payload_bytes": None if math.isnan(rate) else int(rate * values / 8),
    }

"""Pilots: how the receiver of a sound stego finds its frames and its gain, so that a cut stego still reveals.

The sound-cover models (a fixed lattice code, ``nets/lattice.py``) read the fine position of each value, so
the receiver must cut the stego into the very frames the sender wrote and scale it by the very power-of-two
gain the sender used (``level_gain(exact=True)``). An uncut stego gives both: its frames start at sample 0,
and its level gives the cover's gain. A stego cut at its start gives neither: its first whole frame starts
anywhere in its first frame's length, and its level, hence its gain, may move by an octave or more.
Without help it reveals noise.

So every frame carries a pilot in one value of the grid's last row: a waveform column's last sample (which
a secret's waveform grid leaves empty, ``media/audio.py`` Waveform), or a block spectrum's Nyquist value
(the frame's alternating sum). The sender moves it to a phase in the code's guard band, where no symbol
goes: +0.95 pi or -0.95 pi, by the frame's place in a pattern of four (``PATTERN``). One pass over the
samples gives that value at every start, and the receiver scores every start, every power-of-two gain and
every place in the pattern by how well the pilots read, and keeps the best (``find_frames``). That also
says:

- the frame's index modulo 4, which a grid's networks need: their Haar trunks work on blocks of 4 columns,
  and a picture's two chromas sit on alternate columns (``pack_picture``);
- whether the sound holds a secret of this model at all: a sound without pilots scores near zero (white
  noise) or below (natural sounds read near phase 0), and its other values fill the guard band
  (``guard_share``), so the receiver says so instead of revealing noise as if it were a secret.

On the waveform grid a volume change by any factor is found too: every sample sits on the lattice scaled
by it, and only the right gain (``fine_gains``, then ``_refined`` on the pilots) puts them all back.

The cost: a sound secret on the waveform grid gives up nothing (511 samples a column carry it); a picture
on a block grid gives up the luma of its bottom row, which the reveal takes from the row above
(``clear_pilots``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from ..media.audio import Spectrogram, Waveform
from ..nets.lattice import LatticeCode

ROW = 255  # every pilot sits in the grid's last row: the Nyquist bin of a spectrum, a column's last sample
PHASE = 0.95 * math.pi  # in the guard band between the symbols' +-0.9 pi: no symbol is ever written there
PATTERN = np.array([1.0, 1.0, -1.0, -1.0])  # the pilot's sign, frame by frame: its place gives the index mod 4
GAINS = 2.0 ** np.arange(-8, 5)  # every gain level_gain(exact=True) gives (2^-7 .. 2^3), and one more each way
MIN_SCORE = 0.6  # the mean agreement cos(read - pilot) over the frames, to believe that pilots are there
SEARCH_SIGMAS = 4.5  # and, when every start and gain is tried, this many standard deviations of chance
SEARCH_FRAMES = 1000  # frames (32 s) the search and the guard check read: enough, and the time stays flat
FINE_STEP = 2e-4  # relative step of the search for a gain that is not a power of two (fine_gain)
FINE_SAMPLES = 1 << 16  # the samples that search reads
GUARD_DEEP = 0.95 * math.pi  # |phase| beyond this is deep in the guard band (symbols end at 0.9 pi)
GUARD_SHARE = 0.01  # a stego's values (pilots aside) leave it empty; anything else puts ~5% of its values there


@dataclass(frozen=True)
class Frames:
    """Where a sound stego's frames are: ``offset`` samples before the first whole frame, whose index in the
    stego as written was ``index`` modulo 4; ``gain`` brings the stego to the networks' level; ``score`` in
    [-1, 1] (1: every pilot read exactly); ``frames``: how many whole frames were read."""

    offset: int
    gain: float
    index: int
    score: float
    frames: int


def channel(spec: Spectrogram | Waveform) -> int:
    """The grid channel of the pilots: a spectrum's real part (its Nyquist value), or a waveform column's second
    half (its last sample, which a secret's waveform grid leaves empty)."""
    return 1 if isinstance(spec, Waveform) else 0


def pilot_phases(frames: int, first: int = 0) -> np.ndarray:
    """The pilots' phases, frame by frame, from the pattern's ``first`` place on."""
    return PHASE * np.resize(np.roll(PATTERN, -first), frames)


def write_pilots(grid: torch.Tensor, code: LatticeCode, spec: Spectrogram | Waveform) -> torch.Tensor:
    """A stego grid (B, 2, 256, F) at the networks' gain, with every frame's pilot written (moved by at most
    half a period, as every other value is)."""
    out, c = grid.clone(), channel(spec)
    out[:, c, ROW] = code.write_phase(grid[:, c, ROW], torch.from_numpy(pilot_phases(grid.shape[-1])).to(grid))
    return out


def clear_pilots(grid: torch.Tensor, code: LatticeCode, spec: Spectrogram | Waveform, picture: bool) -> torch.Tensor:
    """Before the decoder reads a grid: each pilot moved to a phase that belongs there. For a picture the row
    above's (its bottom row of luma repeats the one above it); for a sound phase 0, the value 0 (a spectrum's
    Nyquist real part: no 8 kHz component; a waveform column's last value carries no sample)."""
    out, c = grid.clone(), channel(spec)
    target = code.phase(grid[:, c, ROW - 1]) if picture else 0.0
    out[:, c, ROW] = code.write_phase(grid[:, c, ROW], target)
    return out


def pilot_values(wave: np.ndarray, spec: Spectrogram | Waveform) -> np.ndarray:
    """The grid value at the pilot's place of a frame starting at every sample that has a whole frame after
    it: on a ``Waveform`` grid the frame's last sample, on a ``block`` spectrogram its Nyquist value, the
    frame's alternating sum."""
    n = spec.hop
    if len(wave) < n:
        return np.zeros(0)
    if isinstance(spec, Waveform):
        return wave[n - 1 :].astype(np.float64) * spec.scale
    alternating = wave.astype(np.float64)
    alternating[1::2] *= -1
    sums = np.concatenate([[0.0], np.cumsum(alternating)])
    starts = np.arange(len(wave) - n + 1)
    return (sums[starts + n] - sums[starts]) * np.where(starts % 2, -1.0, 1.0) * spec.scale


def _scores(phase: np.ndarray, n: int, offsets: int) -> tuple[np.ndarray, np.ndarray]:
    """For every offset o < ``offsets`` and place k in the pattern: the mean agreement cos(read - pilot) of the
    frames starting at o, o + n, ... with pilots whose first is the pattern's k-th, as [k, o]; and how many
    frames that is, per offset."""
    rows = -(-len(phase) // n)
    grid = np.full(rows * n, np.nan)
    grid[: len(phase)] = phase
    grid = grid.reshape(rows, n)[:, :offsets]  # [frame, offset]
    valid = ~np.isnan(grid)
    count = np.maximum(valid.sum(0), 1)
    cos = np.where(valid, np.cos(np.nan_to_num(grid)), 0.0).sum(0) / count
    sin = np.where(valid, np.sin(np.nan_to_num(grid)), 0.0)
    by_place = np.stack([sin[r::4].sum(0) for r in range(4)]) / count  # [frame index mod 4, offset]
    signs = np.stack([np.roll(PATTERN, -k) for k in range(4)])  # [k, r]: the sign of frame r after a start at k
    # cos(read - s PHASE) = cos(read) cos(PHASE) + s sin(read) sin(PHASE)
    return math.cos(PHASE) * cos[None] + math.sin(PHASE) * (signs @ by_place), valid.sum(0)


def guard_share(wave: np.ndarray, code: LatticeCode, spec: Spectrogram | Waveform, frames: Frames) -> float:
    """The share of the grid's values, read at ``frames``' start and gain, whose phase lies deep in the code's
    guard band (beyond ``GUARD_DEEP``), pilots left out. No symbol is written there, so a stego's values leave
    it empty but for the file's rounding; a sound that is no stego fills it as any other part of the circle."""
    body = wave[frames.offset :][: SEARCH_FRAMES * spec.hop]
    grid = spec.to_tensor(torch.from_numpy(body[: spec.samples(spec.frames(len(body)))] * frames.gain)[None])
    phase = grid[0].double().numpy() * (2 * math.pi / code.period)
    phase[channel(spec), ROW] = 0.0
    return float(_guard_of(phase.reshape(1, -1))[0])


def fine_gains(wave: np.ndarray, code: LatticeCode, hint: float, keep: int = 24) -> list[float]:
    """Gains within 1.5 octaves of ``hint`` at which a waveform stego's samples leave the code's guard band
    empty, best first. For a stego whose volume was changed by a factor that is not a power of two: every
    sample sits on the lattice scaled by that factor, and only the right gain puts them all back. But some
    wrong ones leave the band as empty (a third of the right gain folds the phases onto thirds of the
    circle), so the pilots choose among these. Only samples of a period or more tell gains apart; a step of
    ``FINE_STEP`` turns the loudest by about 0.2 rad."""
    x = wave[:FINE_SAMPLES].astype(np.float64) * (2 * math.pi / code.period)
    x = x[np.abs(x * hint) > 2 * math.pi][:4096]
    if len(x) < 256:
        return []
    gains = hint * 2.0 ** np.arange(-1.5, 1.5, math.log2(1 + FINE_STEP))
    share = np.concatenate([_guard_of(np.outer(g, x)) for g in np.array_split(gains, max(1, len(gains) // 512))])
    order = [int(i) for i in np.argsort(share, kind="stable") if share[i] <= GUARD_SHARE]
    picked: list[int] = []
    for i in order:  # one gain per dip: neighbours of a pick are the same dip
        if all(abs(i - j) > 3 for j in picked):
            picked.append(i)
        if len(picked) == keep:
            break
    return [float(gains[i]) for i in picked]


def _best_start(values: np.ndarray, gains, n: int) -> Frames | None:
    """Of every start, gain and place in the pattern, the one whose pilots read best (None without gains).
    ``values``: the pilot values at every start, in radians per unit of gain."""
    best = None
    for gain in gains:
        scores, count = _scores(values * gain, n, min(n, len(values)))
        k, o = np.unravel_index(int(np.argmax(scores)), scores.shape)
        if best is None or scores[k, o] > best.score:
            best = Frames(int(o), float(gain), int(k), float(scores[k, o]), int(count[o]))
    return best


def _refined(frames: Frames, values: np.ndarray, n: int) -> Frames:
    """``frames`` with its gain fitted to its pilots by least squares (Gauss-Newton on the wrapped phase
    errors): a gain from a grid is off by up to half a step, which turns a loud sample by 0.1 rad."""
    v = values[frames.offset :: n]
    target = pilot_phases(len(v), frames.index)
    gain = frames.gain
    for _ in range(3):
        error = np.remainder(gain * v - target + math.pi, 2 * math.pi) - math.pi
        gain -= float(error @ v) / max(float(v @ v), 1e-30)
    return dataclasses.replace(frames, gain=gain)


def _guard_of(phases: np.ndarray) -> np.ndarray:
    """Row by row: the share of phases deep in the guard band."""
    wrapped = np.remainder(phases + math.pi, 2 * math.pi) - math.pi
    return (np.abs(wrapped) > GUARD_DEEP).mean(axis=-1)


def find_frames(wave: np.ndarray, code: LatticeCode, spec: Spectrogram | Waveform, hint: float) -> Frames | None:
    """Where the frames of a sound stego start, at what gain, and the first one's index modulo 4; None when no
    start and gain reads as pilots (a sound that holds no secret of this code, or one changed after hiding).

    ``hint``: the gain the stego's level gives. The stego as written (frames from sample 0, the first one
    first, this gain) is tried alone first, and believed at ``MIN_SCORE``; only then is every start and gain
    searched, where the bar rises for short stegos with the chance that one of thousands of tries reads
    well by luck (``SEARCH_SIGMAS`` standard deviations of a mean of random phases). Either way the values
    around the pilots must leave the guard band empty (``guard_share``): a steady tone can read as pilots
    at some start and gain (at 31.25 Hz times an odd half its samples 512 apart alternate in sign, and
    those near pi read as pilots of either sign), but not its other values too."""
    n = spec.hop
    values = pilot_values(wave, spec)
    if not len(values):
        return None
    scale = 2 * math.pi / code.period
    whole = len(wave) // n
    phase = values[::n][:whole] * hint * scale
    written = float(np.mean(np.cos(phase - pilot_phases(whole))))
    searched = values[: SEARCH_FRAMES * n] * scale  # what a long stego's first frames give is enough
    if written >= MIN_SCORE:
        best, bar = Frames(0, float(hint), 0, written, whole), MIN_SCORE
    else:
        best = _best_start(searched, GAINS, n)
        bar = max(MIN_SCORE, SEARCH_SIGMAS / math.sqrt(2 * best.frames))
    if best.score >= bar and guard_share(wave, code, spec, best) <= GUARD_SHARE:
        return best
    if isinstance(spec, Waveform):  # a volume change by a factor that is not a power of two: the pilots at
        best = _best_start(searched, fine_gains(wave, code, hint), n)  # each gain that empties the guard band
        if best is not None and best.score >= max(MIN_SCORE, SEARCH_SIGMAS / math.sqrt(2 * best.frames)):
            best = _refined(best, searched, n)
            if guard_share(wave, code, spec, best) <= GUARD_SHARE:
                return best
    return None

"""Audio files <-> mono float waveforms, and waveforms <-> two-channel STFT "images" for the networks.

- ``read_audio``: WAV, FLAC or OGG through soundfile; mixed down to mono, resampled (polyphase, scipy) to
  the model's rate; one clear ``ExypnoError`` for a missing, empty, corrupt or silent-length file, or one
  over ``MAX_SECONDS`` or ``MAX_CHANNELS`` (refused from its header, before it is read).
- ``write_wav16``: 16-bit PCM WAV, written atomically, never over a file without ``force``.
- ``Spectrogram``: ``torch.stft``/``torch.istft`` with a Hann window; the network sees two channels.
  ``compressed`` (the default) is the real and imaginary parts of |X|^0.3 e^{i angle X}: a power-law
  compression keeps quiet bins visible to an MSE loss without the singularity of a log, and stays a smooth
  invertible map. ``complex`` is plain real/imaginary parts, scaled.
- ``pcm16_channel``: the receiver's view of a stego spectrogram: ISTFT -> clamp and round to 16 bits
  (straight-through) -> STFT, differentiable, so training sees what a WAV file holds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import torch

from ..errors import ExypnoError, TooLarge
from . import files

SAMPLE_RATE = 16000
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga")
MAX_SECONDS = 600  # 10 minutes: the longest sound (or video, see media/video.py) read; limits in docs/limits.md
MAX_CHANNELS = 16
MIN_RATE, MAX_RATE = 1_000, 384_000  # sample rates read (Hz)
MAX_SAMPLES = MAX_SECONDS * 48000 * 2  # ten minutes of 48 kHz stereo, over all channels


def check_length(seconds: float, what) -> None:
    """Refuse a sound or video longer than ``MAX_SECONDS``, before it is read."""
    if seconds > MAX_SECONDS:
        raise TooLarge(f"{what}: {seconds:,.0f} s long; sounds and videos are at most {MAX_SECONDS} s")


def read_audio(path: Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    import soundfile as sf

    path = files.check_input(path)
    try:
        info = sf.info(str(path))
        check_length(info.frames / max(info.samplerate, 1), path)
        if not MIN_RATE <= info.samplerate <= MAX_RATE:  # a rate of millions makes resampling's filter huge
            raise ExypnoError(f"{path}: a sample rate of {info.samplerate:,} Hz; sounds are {MIN_RATE:,} to "
                              f"{MAX_RATE:,} Hz")
        if not 0 < info.channels <= MAX_CHANNELS:
            raise ExypnoError(f"{path}: {info.channels} channels; sounds have at most {MAX_CHANNELS}")
        if info.frames * info.channels > MAX_SAMPLES:
            raise TooLarge(f"{path}: {info.frames * info.channels:,} samples; sounds hold at most {MAX_SAMPLES:,}")
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise ExypnoError(f"{path}: not an audio file Exypno can read ({str(e).splitlines()[0][:60]})") from None
    if len(data) == 0:
        raise ExypnoError(f"{path}: holds no samples")
    return resample(data.mean(axis=1), file_rate, rate)


def audio_seconds(path: Path) -> float:
    """How long a sound file plays, from its header."""
    import soundfile as sf

    path = files.check_input(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise ExypnoError(f"{path}: not an audio file Exypno can read ({str(e).splitlines()[0][:60]})") from None
    return info.frames / info.samplerate if info.samplerate else 0.0


def resample(x: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return x.astype(np.float32)
    from scipy.signal import resample_poly

    g = gcd(int(from_rate), int(to_rate))
    return resample_poly(x, to_rate // g, from_rate // g).astype(np.float32)


def check_wav_output(path, force: bool = False) -> Path:
    """Before any work: the output must be a .wav (a lossy format would destroy a secret) and writable."""
    path = Path(path)
    if path.suffix.lower() != ".wav":
        raise ExypnoError(f"{path}: audio is written as 16-bit WAV only (a lossy format would destroy the "
                          "secret); use a .wav name")
    return files.check_output(path, force)


def write_wav16(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE, force: bool = False) -> Path:
    with WavWriter(path, rate, force) as wav:
        wav.write(samples)
    return wav.path


class WavWriter(files.AtomicWriter):
    """Write a 16-bit mono WAV piece by piece (bounded memory); it appears under its name only when complete.

    ``truncate_to`` drops everything after a sample count before the file is published."""

    def __init__(self, path: Path, rate: int = SAMPLE_RATE, force: bool = False):
        import soundfile as sf

        super().__init__(check_wav_output(path, force), ".wav", force)
        self._file = sf.SoundFile(self._tmp, "w", rate, 1, "PCM_16")
        self.samples = 0
        self._keep = None

    def write(self, samples: np.ndarray) -> None:
        self._file.write(_pcm16(samples))
        self.samples += len(samples)

    def truncate_to(self, samples: int) -> None:
        self._keep = samples

    def _finish(self, ok: bool) -> None:
        import soundfile as sf

        self._file.close()
        if ok and self._keep is not None and self._keep < self.samples:
            with sf.SoundFile(self._tmp, "r+") as f:
                f.truncate(self._keep)


def _pcm16(samples: np.ndarray) -> np.ndarray:
    """The 16-bit integers a WAV of ``samples`` holds."""
    return np.round(np.clip(samples, -1.0, 32767 / 32768) * 32768).astype(np.int16)


def pcm16_values(samples: np.ndarray) -> np.ndarray:
    """What a 16-bit WAV of ``samples`` reads back as (float32)."""
    return (_pcm16(samples) / 32768).astype(np.float32)


def quantize_pcm16(x: torch.Tensor) -> torch.Tensor:
    """Clamp to the 16-bit range and round to its grid; the gradient passes straight through the rounding."""
    clamped = x.clamp(-1.0, 32767 / 32768)
    return clamped + (torch.round(clamped * 32768) / 32768 - clamped).detach()


@dataclass(frozen=True)
class Spectrogram:
    n_fft: int = 510  # 256 frequency bins
    hop: int = 128
    representation: str = "compressed"
    power: float = 0.3
    scale: float = 1.0
    window: str = "hann"  # "rect": with hop == n_fft, frames that neither overlap nor taper (see SPECTROGRAMS)
    center: bool = True

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    def frames(self, samples: int) -> int:
        return samples // self.hop + (1 if self.center else 0)

    def samples(self, frames: int) -> int:
        return (frames - (1 if self.center else 0)) * self.hop

    def _window(self, device) -> torch.Tensor:
        if self.window == "rect":
            return torch.ones(self.n_fft, device=device)
        return torch.hann_window(self.n_fft, device=device)

    def to_tensor(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, N) waveform -> (B, 2, bins, frames)."""
        spec = torch.stft(wave, self.n_fft, self.hop, window=self._window(wave.device), center=self.center,
                          return_complex=True)
        if self.representation == "compressed":
            mag = spec.abs().clamp_min(1e-8)
            spec = spec / mag * mag.pow(self.power)
        elif self.representation != "complex":
            raise ValueError(f"unknown representation {self.representation!r}")
        return torch.stack([spec.real, spec.imag], dim=1) * self.scale

    def to_wave(self, tensor: torch.Tensor, length: int) -> torch.Tensor:
        """(B, 2, bins, frames) -> (B, length) waveform. Without centring the frames end at
        ``samples(frames)`` and what lies after them is zeros (``hide_audio`` pads a cover to whole frames)."""
        spec = torch.complex(tensor[:, 0], tensor[:, 1]) / self.scale
        if self.representation == "compressed":
            mag = spec.abs().clamp_min(1e-8)
            spec = spec / mag * mag.pow(1 / self.power)
        body = length if self.center else min(length, self.samples(tensor.shape[-1]))
        wave = torch.istft(spec, self.n_fft, self.hop, window=self._window(tensor.device), center=self.center,
                           length=body)
        return wave if body == length else torch.nn.functional.pad(wave, (0, length - body))

    def pcm16_channel(self, tensor: torch.Tensor, length: int) -> torch.Tensor:
        """What the receiver's STFT of a 16-bit WAV of this spectrogram is (differentiable)."""
        return self.to_tensor(quantize_pcm16(self.to_wave(tensor, length)))


@dataclass(frozen=True)
class Waveform:
    """The samples themselves on a grid: each column holds ``hop`` = 512 consecutive samples, the first 256
    on channel 0 and the next 256 on channel 1 (rows in time order), times ``scale``.

    For a fixed code on single values (``nets/lattice.py``), which needs no transform: what is written on a
    value stays in one sample. So a cut stego loses only the samples cut off, where a code on a spectrum loses
    the whole of both frames a cut goes through; and a sound secret's samples are companded as telephony's
    mu-law does, which carries more than companding its spectrum (``benchmarks/lattice_code.py``).

    A secret's grid (``secret_grid``) leaves the last value of every column empty (zero), where the sender
    writes a pilot on the cover (``pairings/pilots.py``): it carries 511 samples a column, and is
    pre-emphasised (``emphasis``: x[t] - e x[t - 1] over those samples, undone on the way back)."""

    hop: int = 512
    scale: float = 1.0
    center: bool = False
    emphasis: float = 0.0
    pilot: bool = False  # the last value of every column carries no sample (a secret's grid)

    @property
    def bins(self) -> int:
        return self.hop // 2

    @property
    def carried(self) -> int:
        """Samples one column carries."""
        return self.hop - 1 if self.pilot else self.hop

    def frames(self, samples: int) -> int:
        return samples // self.carried

    def samples(self, frames: int) -> int:
        return frames * self.carried

    def to_tensor(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, N) waveform -> (B, 2, 256, N // carried); samples after the last whole column are dropped."""
        b, n = wave.shape
        frames = n // self.carried
        cols = wave[:, : frames * self.carried].reshape(b, frames, self.carried)
        if self.emphasis:  # column by column, so that every column decodes alone (a cut stego's first)
            cols = torch.cat([cols[..., :1], cols[..., 1:] - self.emphasis * cols[..., :-1]], dim=-1)
        if self.pilot:
            cols = torch.nn.functional.pad(cols, (0, 1))
        return cols.reshape(b, frames, 2, self.bins).permute(0, 2, 3, 1) * self.scale

    def to_wave(self, tensor: torch.Tensor, length: int) -> torch.Tensor:
        """(B, 2, 256, F) -> (B, length): the samples the columns carry, one after another, cut or padded with
        zeros."""
        b, frames = tensor.shape[0], tensor.shape[-1]
        cols = (tensor / self.scale).permute(0, 3, 1, 2).reshape(b * frames, 1, self.hop)[..., : self.carried]
        if self.emphasis:  # y[t] = x[t] + e y[t - 1] in each column, as a causal filter cut where e^k < 1e-7
            taps = self.emphasis ** torch.arange(int(math.log(1e-7) / math.log(self.emphasis)) + 1,
                                                 dtype=cols.dtype, device=cols.device)
            cols = torch.nn.functional.conv1d(torch.nn.functional.pad(cols, (len(taps) - 1, 0)), taps.flip(0)[None, None])
        wave = cols.reshape(b, -1)
        if wave.shape[-1] >= length:
            return wave[:, :length]
        return torch.nn.functional.pad(wave, (0, length - wave.shape[-1]))

    def pcm16_channel(self, tensor: torch.Tensor, length: int) -> torch.Tensor:
        return self.to_tensor(quantize_pcm16(self.to_wave(tensor, length)))


# A sound secret on the waveform grid is pre-emphasised (x[t] - 0.6 x[t - 1]) before the code carries it and
# de-emphasised after: the code's noise, white where the secret is carried, comes out tilted towards the low
# frequencies where speech and music have their energy. On the held-out sounds, the code alone
# (benchmarks/lattice_code.py --only emphasis): secret 32.35 dB SNR, speech PESQ 3.02 without; 36.04 dB and
# 3.86 at 0.6 (0.5: 35.64, 3.76; 0.7: 36.13, 3.89 but a worse worst case, 24.28 dB against 24.81).
EMPHASIS = 0.6


SPECTROGRAMS = {
    # the representations a model may be trained on (its card says which); the scales bring speech and
    # music at -32..-16 dBFS RMS to a standard deviation near 0.3, close to that of photos in [0, 1]
    "complex": Spectrogram(representation="complex", scale=0.5),
    "compressed": Spectrogram(representation="compressed", scale=1.0),
    # "block": frames of 510 samples side by side, untapered: 256 complex bins per 510 real samples, so
    # every grid is the spectrum of some waveform and survives the inversion (the Hann grids at hop 128 are
    # 4 times redundant: a random change of one keeps a quarter of its energy through ISTFT -> STFT). Sound
    # covers need that: what EN writes is what DN reads, to the 16-bit rounding (tests/test_audio_media.py).
    "block": Spectrogram(hop=510, window="rect", center=False, representation="complex", scale=0.3),
    # "waveform": no transform at all (see Waveform)
    "waveform": Waveform(),
}


def deemphasize(columns: np.ndarray, emphasis: float, first: int = 0) -> np.ndarray:
    """Undo a waveform grid's pre-emphasis, column by column: y[t] = x[t] + e y[t - 1] from each column's
    first sample (``Waveform.to_tensor`` starts each column afresh). ``columns``: (frames, samples). ``first``:
    where a cut stego's samples start in the first column. The sample before them is lost with the cut, and
    its loss rings on through the next few dozen samples; taken as equal to the first it rings less, on the
    whole, than taken as 0 (a probe; ``benchmarks/audio_cuts.py`` gives what a cut loses)."""
    from scipy.signal import lfilter

    y = columns.astype(np.float64)
    if not emphasis or not y.size:
        return y.astype(np.float32)
    y = lfilter([1.0], [1.0, -emphasis], y, axis=-1)
    if first and first < y.shape[-1]:
        h = lfilter([1.0], [1.0, -emphasis], columns[0, first:].astype(np.float64))  # as if u = 0
        # u, the lost sample, guessed as h[0] / (1 - e) (as if it equalled the next one), then shrunk by how
        # far that guess can be trusted: the least-squares factor for the secret's own lag-1 correlation
        # rho (read on the samples revealed after the cut's first few dozen, which u no longer reaches)
        after = np.concatenate([h[48:], y[1:].reshape(-1)])[:4096]
        rho = float(after[1:] @ after[:-1]) / max(float(after @ after), 1e-12)
        k = 1 / (1 - emphasis)
        trust = max(0.0, (1 - k * (1 - rho)) / (1 + 2 * (1 - rho) * k * (k - 1)))
        y[0, first:] = h + trust * k * h[0] * emphasis ** np.arange(1, len(h) + 1)
    return y.astype(np.float32)


def secret_grid(name: str) -> Spectrogram | Waveform:
    """The grid a sound *secret* goes on for a model trained on grid ``name``: the same, but on the waveform
    grid pre-emphasised (``EMPHASIS``) and leaving each column's last value to the pilot."""
    grid = SPECTROGRAMS[name]
    return Waveform(emphasis=EMPHASIS, pilot=True) if isinstance(grid, Waveform) else grid


LEVEL_DB = -24.0  # RMS (dBFS) a sound cover is brought to before the networks see it (and trained at, +-3 dB)


def level_gain(wave: np.ndarray, exact: bool = False) -> float:
    """The gain that brings ``wave`` to ``LEVEL_DB``. Sender and receiver compute it alike, on the cover and on
    the stego: at 30 dB SNR and more their levels differ by under 0.3%, so the receiver's networks see the
    stego at the level the sender's saw it, whatever the level of the file (the residual then scales with the
    cover, and loud covers do not drown it).

    ``exact``: for models whose code sits on a fine lattice of values (``NetConfig.lattice``), where a 0.3%
    error in scale moves every loud value by several periods: the gain rounded to a power of two, the same on
    both sides unless the level lies at the very edge between two (``hide_audio`` checks that the stego's gain
    is the cover's). Loud covers are brought to within 3 dB of ``LEVEL_DB``. Quiet ones are raised by only
    half as many octaves: the file's 16-bit step, which sets the code's noise, grows against the lattice with
    every octave of gain, so a full gain would cost the secret 6 dB per halving of the cover's level, while
    half of it costs the secret and the cover 3 dB each (held-out covers at -44 dBFS: secret 8.12 dB with the
    full gain, 14.83 with half; ``benchmarks/lattice_code.py --only levels``)."""
    rms = float(np.sqrt(np.mean(np.square(wave, dtype=np.float64)))) if len(wave) else 0.0
    gain = float(np.clip(10 ** (LEVEL_DB / 20) / max(rms, 1e-9), 0.01, 100.0))
    if not exact:
        return gain
    octaves = float(np.log2(gain))
    return float(2.0 ** round(octaves if octaves <= 0 else octaves / 2))


def segments(x: np.ndarray, length: int) -> list[np.ndarray]:
    """Cut a long waveform into pieces of ``length`` samples; the last one is zero-padded."""
    if len(x) == 0:
        return []
    n = -(-len(x) // length)
    padded = np.zeros(n * length, np.float32)
    padded[: len(x)] = x
    return list(padded.reshape(n, length))

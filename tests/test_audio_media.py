"""Audio media: file I/O, resampling, the STFT round trip and the 16-bit channel."""
import numpy as np
import pytest
import soundfile as sf
import torch

from exypno.errors import ExypnoError
from exypno.media.audio import Spectrogram, quantize_pcm16, read_audio, resample, segments, write_wav16


def tone(seconds=0.5, rate=16000, hz=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize("representation", ["compressed", "complex"])
def test_stft_round_trip_is_exact(representation):
    spec = Spectrogram(representation=representation)
    x = torch.from_numpy(np.stack([tone(), tone(hz=1000)]))
    t = spec.to_tensor(x)
    assert t.shape == (2, 2, 256, spec.frames(x.shape[1]))
    assert torch.allclose(spec.to_wave(t, x.shape[1]), x, atol=1e-4)


def test_pcm16_channel_is_what_a_wav_file_gives(tmp_path):
    spec = Spectrogram()
    x = torch.from_numpy(tone())[None]
    t = spec.to_tensor(x).requires_grad_(True)
    received = spec.pcm16_channel(t, x.shape[1])
    write_wav16(tmp_path / "a.wav", spec.to_wave(t, x.shape[1])[0].detach().numpy())
    from_file = spec.to_tensor(torch.from_numpy(read_audio(tmp_path / "a.wav"))[None])
    assert torch.allclose(received, from_file, atol=1e-4)
    received.sum().backward()
    assert t.grad is not None and torch.isfinite(t.grad).all()


def test_read_mixes_down_and_resamples(tmp_path):
    stereo = np.stack([tone(rate=44100), tone(rate=44100)], axis=1)
    sf.write(tmp_path / "s.flac", stereo, 44100)
    x = read_audio(tmp_path / "s.flac")
    assert x.ndim == 1 and abs(len(x) - 8000) <= 1
    assert abs(np.abs(x).max() - 0.3) < 0.02


def test_quantize_pcm16_rounds_and_passes_gradient():
    x = torch.tensor([0.5, 1.5, -2.0, 1e-6], requires_grad=True)
    q = quantize_pcm16(x)
    assert torch.equal(q * 32768, torch.round(q * 32768))
    q.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("case", ["missing", "empty", "garbage", "no samples"])
def test_bad_audio(tmp_path, case):
    p = tmp_path / "x.wav"
    if case == "empty":
        p.write_bytes(b"")
    elif case == "garbage":
        p.write_bytes(b"RIFF not really" * 10)
    elif case == "no samples":
        sf.write(p, np.zeros(0, np.float32), 16000)
    with pytest.raises(ExypnoError):
        read_audio(p)


def test_write_refuses_lossy_names_and_overwrites(tmp_path):
    with pytest.raises(ExypnoError, match="WAV only"):
        write_wav16(tmp_path / "a.ogg", tone())
    write_wav16(tmp_path / "a.wav", tone())
    with pytest.raises(ExypnoError, match="already exists"):
        write_wav16(tmp_path / "a.wav", tone())


def test_segments_and_resample():
    parts = segments(np.ones(10, np.float32), 4)
    assert [len(p) for p in parts] == [4, 4, 4] and parts[-1].tolist() == [1, 1, 0, 0]
    assert segments(np.zeros(0, np.float32), 4) == []
    assert len(resample(tone(rate=8000), 8000, 16000)) == 8000


def test_block_grids_are_spectra_of_waveforms_and_hann_grids_are_not():
    """Why sound covers use the "block" grid: any grid EN writes survives ISTFT -> STFT (to float rounding),
    where a random change of a Hann grid at hop 128 keeps only about a quarter of its energy."""
    from exypno.media.audio import SPECTROGRAMS

    torch.manual_seed(0)
    for name, kept in (("block", (0.99, 1.0)), ("complex", (0.2, 0.3))):
        spec = SPECTROGRAMS[name]
        n = spec.samples(12)
        grid = spec.to_tensor(torch.randn(2, n) * 0.05)
        change = torch.randn_like(grid) * 0.01
        back = spec.to_tensor(spec.to_wave(grid + change, n)) - grid
        ratio = (back.pow(2).sum() / change.pow(2).sum()).item()
        assert kept[0] < ratio < kept[1], (name, ratio)


def test_block_round_trip_leaves_the_tail_after_the_last_frame_silent():
    from exypno.media.audio import SPECTROGRAMS

    spec = SPECTROGRAMS["block"]
    x = torch.from_numpy(tone())[None]  # 8000 samples: 15 frames of 510 cover 7650
    t = spec.to_tensor(x)
    assert t.shape == (1, 2, 256, 15) == (1, 2, 256, spec.frames(8000))
    y = spec.to_wave(t, 8000)
    assert torch.allclose(y[:, :7650], x[:, :7650], atol=1e-5) and not y[:, 7650:].any()


def test_exact_level_gain_is_a_power_of_two_that_survives_a_30_db_residual():
    from exypno.media.audio import LEVEL_DB, level_gain

    rng = np.random.default_rng(0)
    for level in np.linspace(-45, -5, 41):
        x = rng.normal(size=16000).astype(np.float32)
        x *= 10 ** (level / 20) / np.sqrt(np.mean(x**2))
        g = level_gain(x, exact=True)
        assert np.log2(g) == round(np.log2(g))
        seen = 20 * np.log10(np.sqrt(np.mean((x * g) ** 2)))
        aim = LEVEL_DB if level >= LEVEL_DB else (level + LEVEL_DB) / 2  # quiet covers: half the octaves
        assert abs(seen - aim) <= 3.02 * (1 if level >= LEVEL_DB else 2)
        residual = rng.normal(size=len(x)) * np.sqrt(np.mean(x**2)) * 10 ** (-30 / 20)
        octaves = np.log2(level_gain(x))
        octaves = octaves if octaves <= 0 else octaves / 2
        edge = abs(octaves % 1 - 0.5) < 0.002  # within 0.14% of the edge between two gains
        assert edge or level_gain(x + residual, exact=True) == g

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

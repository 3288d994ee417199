"""Every input is bounded (pixels, seconds, frames) and read without silent damage (docs/limits.md)."""
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from exypno.cli import main
from exypno.errors import ExypnoError
from exypno.media import audio, image, video
from exypno.media.image import MAX_PIXELS, read_image

from .conftest import smooth_photo
from .test_video import make_video


def png_bytes(width: int, height: int, raw: bytes, colour: int = 2) -> bytes:
    """A PNG whose header says ``width`` x ``height`` and whose image data is ``raw``, compressed whole."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    head = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def test_a_png_whose_rows_end_early_is_refused(tmp_path):
    # 342 bytes that declare 9000x9000 and hold ten rows: Pillow alone fills the rest with black
    data = png_bytes(9000, 9000, b"".join(b"\0" + bytes(9000 * 3) for _ in range(10)))
    path = tmp_path / "short.png"
    path.write_bytes(data)
    for source in (path, data):
        with pytest.raises(ExypnoError, match="truncated"):
            read_image(source)
    whole = png_bytes(40, 30, b"".join(b"\0" + bytes(range(120)) for _ in range(30)))
    assert read_image(whole).shape == (30, 40, 3)


@pytest.mark.parametrize("side", [10_001, 15_000])  # over the limit; over Pillow's own error at twice it
def test_one_pixel_limit_with_our_words(side):
    data = png_bytes(side, side, b"\0")
    with pytest.raises(ExypnoError, match=f"over the limit of {MAX_PIXELS // 1_000_000} megapixels"):
        read_image(data)


def test_reveal_size_is_bounded_before_anything_is_allocated(tmp_path, capsys):
    sf.write(tmp_path / "s.wav", np.zeros(16000, np.int16), 16000, subtype="PCM_16")
    assert main(["reveal", str(tmp_path / "s.wav"), "-o", str(tmp_path / "x.png"), "--size", "100000x100000"]) == 2
    assert "100000x100000 is over the limit" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_sixteen_bit_and_float_pictures_are_scaled_not_clipped(tmp_path):
    grey16 = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "g16.png")
    notes = []
    got = read_image(tmp_path / "g16.png", notes)
    assert np.abs(got[..., 0].astype(int) - grey16 / 257).max() <= 0.5
    assert (got == 255).mean() < 0.01 and notes == [f"{tmp_path / 'g16.png'}: 16-bit pixels scaled to 8 bits"]

    ramp = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    Image.fromarray(ramp).save(tmp_path / "f.tiff")
    got = read_image(tmp_path / "f.tiff")
    assert np.abs(got[..., 1].astype(int) - ramp * 255).max() <= 0.5

    Image.fromarray(ramp * 1000).save(tmp_path / "wide.tiff")
    with pytest.raises(ExypnoError, match="float pixels outside"):
        read_image(tmp_path / "wide.tiff")


def test_what_reading_drops_is_told(tmp_path, rng):
    rgba = np.dstack([smooth_photo(rng, 32, 32), np.full((32, 32), 255, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "opaque.png")
    notes = []
    read_image(tmp_path / "opaque.png", notes)
    assert notes == []  # a fully opaque alpha loses nothing
    rgba[:4, :4, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "clear.png")
    read_image(tmp_path / "clear.png", notes)
    assert len(notes) == 1 and "transparency" in notes[0]

    frames = [Image.fromarray(smooth_photo(rng, 32, 32)) for _ in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    notes = []
    read_image(tmp_path / "anim.gif", notes)
    assert len(notes) == 1 and "first frame" in notes[0]


@pytest.mark.parametrize("side", [1, 2, image.MIN_COVER_SIDE - 1])
def test_tiny_covers_are_refused_with_their_size(tmp_path, rng, capsys, side):
    Image.fromarray(smooth_photo(rng, side, side)).save(tmp_path / "c.png")
    Image.fromarray(smooth_photo(rng, 32, 32)).save(tmp_path / "s.png")
    code = main(["hide", "--cover", str(tmp_path / "c.png"), "--secret", str(tmp_path / "s.png"),
                 "-o", str(tmp_path / "o.png")])
    assert code == 2 and f"{side}x{side} cover is too small" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_hide_notes_what_reading_did(tmp_path, rng, capsys):
    rgba = np.dstack([smooth_photo(rng, 32, 32), np.full((32, 32), 128, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "c.png")
    Image.fromarray(smooth_photo(rng, 32, 32)).save(tmp_path / "s.png")
    assert main(["hide", "--cover", str(tmp_path / "c.png"), "--secret", str(tmp_path / "s.png"),
                 "-o", str(tmp_path / "o.png")]) == 0
    assert "note: " in capsys.readouterr().err


def test_long_sounds_are_refused_from_their_header(tmp_path):
    sf.write(tmp_path / "long.wav", np.zeros(1000 * (audio.MAX_SECONDS + 1), np.int16), 1000, subtype="PCM_16")
    with pytest.raises(ExypnoError, match=f"at most {audio.MAX_SECONDS} s"):
        audio.read_audio(tmp_path / "long.wav")


def test_a_gif_cut_inside_a_block_is_one_error():
    # found by fuzzing: Pillow's is_animated raised struct.error, which escaped read_image
    data = (Path(__file__).parent / "corpus" / "media" / "struct-error-is-animated").read_bytes()[1:]
    with pytest.raises(ExypnoError, match="damaged or truncated"):
        read_image(data)


def test_absurd_sample_rates_are_refused(tmp_path):
    # found by fuzzing: a WAV header saying 16,728,095 Hz sent resampling's filter design out of memory
    sf.write(tmp_path / "fast.wav", np.zeros(100, np.int16), 16_728_095, subtype="PCM_16")
    with pytest.raises(ExypnoError, match="sample rate of 16,728,095 Hz"):
        audio.read_audio(tmp_path / "fast.wav")


def test_long_videos_are_refused(tmp_path, rng, monkeypatch):
    path = make_video(tmp_path / "v.mp4", 6, rng, audio=False)
    monkeypatch.setattr(video, "MAX_FRAMES", 4)
    with pytest.raises(ExypnoError, match="over 4 frames"):
        video.probe(path)
    with pytest.raises(ExypnoError, match="over 4 frames"):
        list(video.frames(path))

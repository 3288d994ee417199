"""Audio pairings: the length and capacity rules, files in and out, training, and the shipped models."""
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from exypno.api import Stego
from exypno.registry import WEIGHTS_DIR
from exypno.errors import ExypnoError
from exypno.media.audio import SAMPLE_RATE, SPECTROGRAMS
from exypno.nets import NetConfig, StegoModel
from exypno.nets.files import save_model
from exypno.pairings.audio import hide_audio, image_capacity_seconds, image_frames, image_seconds, reveal_audio
from exypno.pairings.kinds import pairing_of, reveal_pairing
from exypno.train.loop import TrainConfig, train

from .conftest import smooth_photo

CHANNELS = {"audio-in-audio": (2, 2), "image-in-audio": (2, 3), "audio-in-image": (3, 2)}


def sound(rng, seconds, kind="speech"):
    """A speech- or music-like test sound at 16 kHz: harmonics with a moving pitch, under an envelope."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = rng.uniform(110, 220) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    if kind == "speech":
        x *= np.clip(np.sin(2 * np.pi * 3 * t + rng.uniform(0, 6)), 0, None)  # syllables
    x += rng.normal(0, 0.01, len(t))
    return (0.1 * x / np.sqrt(np.mean(x**2))).astype(np.float32)


def write_sound(path, x, rate=SAMPLE_RATE):
    sf.write(str(path), x, rate, subtype="PCM_16")
    return path


def tiny_model(tmp_path, pairing):
    torch.manual_seed(0)
    cover, secret = CHANNELS[pairing]
    model = StegoModel(NetConfig(width=8, blocks=(1, 1, 1), cover_channels=cover, secret_channels=secret))
    path = tmp_path / f"{pairing}.safetensors"
    save_model(model, path, card={"pairing": pairing, "spectrogram": "complex"})
    return Stego.load(path)


@pytest.fixture
def files(tmp_path, rng):
    d = tmp_path / "in"
    d.mkdir()
    out = {
        "cover.wav": write_sound(d / "cover.wav", sound(rng, 3.0, "music")),
        "secret.wav": write_sound(d / "secret.wav", sound(rng, 1.5)),
        "long.wav": write_sound(d / "long.wav", sound(rng, 4.0)),
        "photo.png": d / "photo.png",
        "tall.png": d / "tall.png",
        "small.png": d / "small.png",
    }
    Image.fromarray(smooth_photo(rng, 300, 200)).save(out["photo.png"])
    Image.fromarray(smooth_photo(rng, 512, 96)).save(out["tall.png"])
    Image.fromarray(smooth_photo(rng, 100, 100)).save(out["small.png"])
    return out


def test_pairing_follows_the_file_types():
    assert pairing_of("a.wav", "b.flac") == "audio-in-audio"
    assert pairing_of("a.ogg", "b.png") == "image-in-audio"
    assert pairing_of("a.jpg", "b.wav") == "audio-in-image"
    assert pairing_of("a.png", "b.png") == "image-in-image"
    assert reveal_pairing("s.wav", "out.png") == "image-in-audio"
    assert reveal_pairing("s.png", "out.wav") == "audio-in-image"
    assert pairing_of("c.mp4", "s.wav") == "audio-in-video" and pairing_of("c.mkv", "s.avi") == "video-in-video"
    assert reveal_pairing("s.mkv", "out.png") == "image-in-video"
    with pytest.raises(ExypnoError, match="a video secret needs a video cover"):
        pairing_of("c.png", "s.mkv")


@pytest.mark.parametrize("cover, secret, pairing", [(3, 3, "image-in-image"), (2, 2, "audio-in-audio"),
                                                    (2, 3, "image-in-audio"), (3, 2, "audio-in-image"),
                                                    (3, 8, "bits")])
def test_a_card_without_a_pairing_is_read_by_its_channels(cover, secret, pairing):
    from types import SimpleNamespace

    from exypno.pairings.kinds import trained_pairing

    config = SimpleNamespace(cover_channels=cover, secret_channels=secret)
    assert trained_pairing(SimpleNamespace(card={}, model=SimpleNamespace(config=config))) == pairing


def test_capacity_rules():
    assert image_frames(512, 256) == 512 and image_frames(256, 512) == 128
    assert image_seconds(256, 256) == pytest.approx(255 * 128 / SAMPLE_RATE)
    block = SPECTROGRAMS["block"]  # frames of 510 samples: the same seconds, a quarter of the columns
    assert image_frames(256, 256, block) == 65 and image_seconds(256, 256, block) == pytest.approx(65 * 510 / SAMPLE_RATE)
    assert image_capacity_seconds(255, 1000) == 0.0  # under one band of 256 rows: no audio
    assert image_capacity_seconds(600, 100) == pytest.approx((2 * 100 - 1) * 128 / SAMPLE_RATE)  # two bands


def test_audio_in_audio_round_trip(tmp_path, files):
    model = tiny_model(tmp_path, "audio-in-audio")
    stego, _ = hide_audio(model, files["cover.wav"], files["secret.wav"], tmp_path / "stego.wav")
    info = sf.info(str(tmp_path / "stego.wav"))
    assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
    assert info.frames == len(stego) == 3 * SAMPLE_RATE  # the cover's length
    revealed = reveal_audio(model, tmp_path / "stego.wav", tmp_path / "revealed.wav")
    assert sf.info(str(tmp_path / "revealed.wav")).frames == len(revealed) == 3 * SAMPLE_RATE  # padded secret


def test_a_secret_longer_than_the_cover_is_refused_and_nothing_written(tmp_path, files):
    model = tiny_model(tmp_path, "audio-in-audio")
    with pytest.raises(ExypnoError, match=r"4.00 s of audio; the cover carries at most 3.00 s"):
        hide_audio(model, files["cover.wav"], files["long.wav"], tmp_path / "stego.wav")
    assert not (tmp_path / "stego.wav").exists()


def test_image_in_audio_round_trip_stretches_over_the_cover(tmp_path, files):
    model = tiny_model(tmp_path, "image-in-audio")
    _, notes = hide_audio(model, files["cover.wav"], files["photo.png"], tmp_path / "stego.wav")
    assert "--size 200x300" in notes[0]
    grid = reveal_audio(model, tmp_path / "stego.wav", tmp_path / "grid.png")
    assert grid.shape == (256, 3 * SAMPLE_RATE // 128 + 1, 3)  # the picture as stretched over every frame
    img = reveal_audio(model, tmp_path / "stego.wav", tmp_path / "secret.png", size=(200, 300))
    assert img.shape == (300, 200, 3)


def test_image_needs_enough_cover(tmp_path, files, rng):
    model = tiny_model(tmp_path, "image-in-audio")
    short = write_sound(tmp_path / "short.wav", sound(rng, 0.5))
    with pytest.raises(ExypnoError, match=r"a 200x300 image needs 1.36 s of cover; this cover is 0.50 s"):
        hide_audio(model, short, files["photo.png"], tmp_path / "stego.wav")
    assert not (tmp_path / "stego.wav").exists()


def test_audio_in_image_round_trip_and_capacity(tmp_path, files):
    model = tiny_model(tmp_path, "audio-in-image")
    stego, notes = hide_audio(model, files["tall.png"], files["secret.wav"], tmp_path / "stego.png")
    assert stego.shape == (512, 96, 3)
    revealed = reveal_audio(model, tmp_path / "stego.png", tmp_path / "secret.wav")
    assert len(revealed) == (2 * 96 - 1) * 128  # two bands of 96 frames: the full capacity
    with pytest.raises(ExypnoError, match=r"carries at most 1.53 s"):
        hide_audio(model, files["tall.png"], files["cover.wav"], tmp_path / "s2.png")
    with pytest.raises(ExypnoError, match="at least 256 pixels tall"):
        hide_audio(model, files["small.png"], files["secret.wav"], tmp_path / "s3.png")
    assert not (tmp_path / "s2.png").exists() and not (tmp_path / "s3.png").exists()


def test_wrong_model_and_converted_stego_are_refused(tmp_path, files):
    model = tiny_model(tmp_path, "audio-in-audio")
    with pytest.raises(ExypnoError, match="hides audio in audio, not image in audio"):
        hide_audio(model, files["cover.wav"], files["photo.png"], tmp_path / "x.wav")
    hide_audio(model, files["cover.wav"], files["secret.wav"], tmp_path / "stego.wav")
    x, _ = sf.read(str(tmp_path / "stego.wav"))
    sf.write(str(tmp_path / "resampled.wav"), x[::2], 8000, subtype="PCM_16")
    with pytest.raises(ExypnoError, match="8000 Hz.*converted after hiding"):
        reveal_audio(model, tmp_path / "resampled.wav", tmp_path / "r.wav")


def test_cli_picks_the_pairing_and_reports_bad_input(tmp_path, files):
    tiny_model(tmp_path, "audio-in-audio")
    path = str(tmp_path / "audio-in-audio.safetensors")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "exypno", *args], capture_output=True, text=True)

    ok = run("hide", "--cover", str(files["cover.wav"]), "--secret", str(files["secret.wav"]),
             "-o", str(tmp_path / "s.wav"), "--model", path)
    assert ok.returncode == 0, ok.stderr
    ok = run("reveal", str(tmp_path / "s.wav"), "-o", str(tmp_path / "r.wav"), "--model", path)
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "junk.wav").write_bytes(b"RIFF....not audio")
    for bad, msg in (("empty.wav", "file is empty"), ("junk.wav", "not an audio file")):
        r = run("hide", "--cover", str(tmp_path / bad), "--secret", str(files["secret.wav"]),
                "-o", str(tmp_path / "x.wav"), "--model", path)
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.wav").exists()
    r = run("hide", "--cover", str(files["cover.wav"]), "--secret", str(files["secret.wav"]),
            "-o", str(tmp_path / "x.mp3"), "--model", path)
    assert r.returncode == 2 and "16-bit WAV only" in r.stderr


@pytest.mark.parametrize("pairing", ["audio-in-audio", "image-in-audio", "audio-in-image"])
def test_training_runs_each_pairing_through_the_file_channel(tmp_path, rng, pairing):
    sounds, photos = tmp_path / "sounds", tmp_path / "photos"
    sounds.mkdir()
    photos.mkdir()
    for i in range(10):
        write_sound(sounds / f"s{i}.wav", sound(rng, 0.5, ("speech", "music")[i % 2]))
        Image.fromarray(smooth_photo(rng, 256, 40)).save(photos / f"p{i}.png")
    cfg = TrainConfig(data=str(photos), audio=str(sounds), out=str(tmp_path / "run"), pairing=pairing, width=8,
                      blocks=(1, 1, 1), crop=8, val_crop=16, batch=2, val_pairs=3, val_every=2, steps=4,
                      val_fraction=0.3, threads=1, cover_target=30, cover_warmup=2)
    result = train(cfg, progress=False)
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    cover_unit = "snr" if pairing.endswith("audio") else "psnr"
    secret_unit = "snr" if pairing.startswith("audio") else "psnr"
    assert {f"cover_{cover_unit}", f"secret_{secret_unit}"} <= set(log[-1])
    card = json.loads((tmp_path / "run" / "best.json").read_text())
    assert card["pairing"] == pairing and card["spectrogram"] == "complex"
    assert result["last"]["step"] == 4


def test_shipped_image_in_audio_model_hides_a_photo(tmp_path, files):
    from skimage import data

    from exypno.evaluate.audio import snr
    from exypno.media.metrics import psnr_8bit
    from exypno.media.audio import read_audio
    from exypno.media.image import resize

    Image.fromarray(data.astronaut()).save(tmp_path / "astronaut.png")
    model = Stego.load("image-in-audio")
    stego, _ = hide_audio(model, files["cover.wav"], tmp_path / "astronaut.png", tmp_path / "stego.wav")
    cover = read_audio(files["cover.wav"])
    # here 40.6 dB; held-out sounds: 43.4 dB mean, 40.0 worst (benchmarks/audio_quality.py)
    assert snr(cover, stego[: len(cover)]) > 39
    revealed = reveal_audio(model, tmp_path / "stego.wav", tmp_path / "secret.png", size=(512, 512))
    truth = resize(data.astronaut(), 512, 512)
    # here 25.3 dB (3 s of cover: 256 columns squeezed into 95); held-out (4 s covers): 30.1 mean, 25.4 worst
    assert psnr_8bit(truth, revealed) > 24
    with pytest.raises(ExypnoError, match="holds no secret of this model"):  # a sound that holds nothing
        reveal_audio(model, files["cover.wav"], tmp_path / "nothing.png", size=(512, 512))


def test_a_cover_is_hidden_in_at_the_same_level_whatever_its_loudness(tmp_path, files):
    """Sender and receiver bring the sound to one level first: a cover 20 dB quieter gives the same reveal."""
    from exypno.evaluate.audio import snr
    from exypno.media.audio import read_audio
    from exypno.media.audio import LEVEL_DB, level_gain

    x = read_audio(files["cover.wav"])
    assert 20 * np.log10(np.sqrt(np.mean((x * level_gain(x)) ** 2))) == pytest.approx(LEVEL_DB, abs=0.01)
    quiet = write_sound(tmp_path / "quiet.wav", x * 0.1)
    model = tiny_model(tmp_path, "image-in-audio")
    loud_stego, _ = hide_audio(model, files["cover.wav"], files["photo.png"], tmp_path / "loud.wav")
    quiet_stego, _ = hide_audio(model, quiet, files["photo.png"], tmp_path / "quiet_stego.wav")
    assert snr(x, loud_stego) == pytest.approx(snr(read_audio(quiet), quiet_stego), abs=1.5)  # 16-bit rounding
    a = reveal_audio(model, tmp_path / "loud.wav", tmp_path / "a.png").astype(int)
    b = reveal_audio(model, tmp_path / "quiet_stego.wav", tmp_path / "b.png").astype(int)
    assert np.abs(a - b).mean() < 1.0  # 8-bit levels


def test_a_pairing_without_a_shipped_model_says_so(tmp_path, files, capsys, monkeypatch):
    import exypno.registry
    from exypno.cli import main

    monkeypatch.setattr(exypno.registry, "WEIGHTS_DIR", tmp_path / "no-weights")  # an install without its weights
    code = main(["hide", "--cover", str(files["cover.wav"]), "--secret", str(files["secret.wav"]),
                 "-o", str(tmp_path / "s.wav")])
    assert code == 2
    assert "no model for audio in audio is shipped yet" in capsys.readouterr().err
    assert not (tmp_path / "s.wav").exists()


def test_shipped_audio_in_audio_model_carries_a_sound(tmp_path, files):
    from exypno.evaluate.audio import snr
    from exypno.media.audio import read_audio

    model = Stego.load("audio-in-audio")
    stego, _ = hide_audio(model, files["cover.wav"], files["secret.wav"], tmp_path / "stego.wav")
    cover, secret = read_audio(files["cover.wav"]), read_audio(files["secret.wav"])
    revealed = reveal_audio(model, tmp_path / "stego.wav", tmp_path / "secret.wav")[: len(secret)]
    # held-out sounds (benchmarks/audio_quality.py): cover 37.4 dB mean, 33.8 worst; secret 36.0, 24.9 worst
    assert snr(cover, stego[: len(cover)]) > 34 and snr(secret, revealed) > 36  # here 34.7 and 40.4
    with pytest.raises(ExypnoError, match="holds no secret of this model"):  # a sound that holds nothing
        reveal_audio(model, files["cover.wav"], tmp_path / "nothing.wav")
    assert not (tmp_path / "nothing.wav").exists()


def test_shipped_audio_in_image_model_carries_a_sound(tmp_path, files):
    from skimage import data

    from exypno.evaluate.audio import snr
    from exypno.media.metrics import psnr_8bit
    from exypno.media.audio import read_audio
    from exypno.media.image import resize

    cover = resize(data.astronaut(), 512, 512)
    Image.fromarray(cover).save(tmp_path / "astronaut.png")
    model = Stego.load("audio-in-image")
    stego, _ = hide_audio(model, tmp_path / "astronaut.png", files["secret.wav"], tmp_path / "stego.png")
    assert psnr_8bit(cover, stego) > 34  # held-out photos: 37.7 dB mean, 33.8 worst (benchmarks/audio_quality.py)
    secret = read_audio(files["secret.wav"])
    revealed = reveal_audio(model, tmp_path / "stego.png", tmp_path / "secret.wav")[: len(secret)]
    nothing = reveal_audio(model, tmp_path / "astronaut.png", tmp_path / "nothing.wav")[: len(secret)]
    assert snr(secret, revealed) > 8  # held-out sounds: 14.1 dB mean, 10.3 worst
    assert snr(secret, nothing) < 1  # a photo that holds nothing gives no sound back


def tiny_sound_run(tmp_path, rng, **config) -> TrainConfig:
    """Two steps of audio-in-audio training on ten short sounds, at the smallest widths."""
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    for i in range(10):
        write_sound(sounds / f"s{i}.wav", sound(rng, 0.6, ("speech", "music")[i % 2]))
    return TrainConfig(data=None, audio=str(sounds), out=str(tmp_path / "run"), pairing="audio-in-audio", width=8,
                       blocks=(1, 1, 1), crop=8, val_crop=8, batch=2, val_pairs=3, val_every=2, steps=2,
                       val_fraction=0.3, threads=1, **config)


def lattice_model(tmp_path):
    torch.manual_seed(0)
    model = StegoModel(NetConfig(width=8, blocks=(1, 1, 1), cover_channels=2, secret_channels=2, lattice=(0.04, 0.01)))
    path = tmp_path / "lattice.safetensors"
    save_model(model, path, card={"pairing": "audio-in-audio", "spectrogram": "block"})
    return Stego.load(path)


def test_a_lattice_model_on_block_grids_writes_whole_frames_at_the_senders_gain(tmp_path, files, rng):
    from exypno.evaluate.audio import snr
    from exypno.media.audio import level_gain, read_audio

    model = lattice_model(tmp_path)
    stego, _ = hide_audio(model, files["cover.wav"], files["secret.wav"], tmp_path / "s.wav")
    cover = read_audio(files["cover.wav"])
    assert len(cover) == 48000 and len(stego) == 95 * 510  # whole frames of 510 samples: 30 ms more
    assert snr(cover, stego[: len(cover)]) > 30 and not np.abs(stego[len(cover):]).max() > 0.01
    assert level_gain(stego, exact=True) == level_gain(np.pad(cover, (0, 450)), exact=True)  # the receiver's gain
    revealed = reveal_audio(model, tmp_path / "s.wav", tmp_path / "r.wav")
    assert len(revealed) == len(stego)
    short = write_sound(tmp_path / "short.wav", sound(rng, 0.02))  # 320 samples: one frame, padded
    assert len(hide_audio(model, short, short, tmp_path / "short_stego.wav")[0]) == 510
    sf.write(str(tmp_path / "tiny.wav"), np.zeros(100, np.float32), SAMPLE_RATE, subtype="PCM_16")
    with pytest.raises(ExypnoError, match="too short to carry anything"):
        reveal_audio(model, tmp_path / "tiny.wav", tmp_path / "never.wav")
    assert not (tmp_path / "never.wav").exists()


# a quiet cover carries less: the file's 16-bit step grows against it (media/audio.py level_gain)
@pytest.mark.parametrize("cover_db, least", [(-24, (35, 31)), (-34, (31, 25)), (-44, (28, 19))])
def test_a_qim_model_carries_a_sound_through_real_wav_files(tmp_path, files, rng, cover_db, least):
    from exypno.evaluate.audio import snr
    from exypno.media.audio import read_audio

    torch.manual_seed(0)  # the shipped recipe: the samples themselves, mu-law, pre-emphasised
    config = NetConfig(width=8, blocks=(1, 1, 1), cover_channels=2, secret_channels=2, lattice=(0.003125,), qim=(1.0, 255.0))
    save_model(StegoModel(config), tmp_path / "qim.safetensors", card={"pairing": "audio-in-audio", "spectrogram": "waveform"})
    model = Stego.load(tmp_path / "qim.safetensors")  # its trunks' heads start at zero: the code alone
    cover = read_audio(files["cover.wav"])
    cover *= 10 ** (cover_db / 20) / np.sqrt(np.mean(cover**2))
    write_sound(tmp_path / "cover.wav", cover)
    stego, _ = hide_audio(model, tmp_path / "cover.wav", files["secret.wav"], tmp_path / "s.wav")
    secret = read_audio(files["secret.wav"])
    revealed = reveal_audio(model, tmp_path / "s.wav", tmp_path / "r.wav")[: len(secret)]
    cover = read_audio(tmp_path / "cover.wav")
    # the same split on held-out sounds: benchmarks/lattice_code.py --only levels
    assert snr(cover, stego[: len(cover)]) > least[0] and snr(secret, revealed) > least[1]
    with pytest.raises(ExypnoError, match="holds no secret of this model"):  # the plain cover: no pilots
        reveal_audio(model, tmp_path / "cover.wav", tmp_path / "nothing.wav")


def test_evaluate_scores_revealed_speech_with_stoi_and_pesq(tmp_path, files, rng):
    from exypno.evaluate.audio import evaluate_audio_pairs, pesq_wb, stoi

    speech = write_sound(tmp_path / "speech__a.wav", sound(rng, 2.0))
    summary = evaluate_audio_pairs([(files["cover.wav"], speech)], tmp_path / "eval", seconds=2.0, quiet=True)
    assert summary["secret_snr"]["mean"] > 20
    # here STOI 0.88 and PESQ 4.5: STOI reads the test sound's faint noise between syllables, which is at the
    # code's own noise level; held-out speech (benchmarks/audio_quality.py): STOI 0.995, PESQ 3.92
    assert summary["secret_stoi"]["mean"] > 0.85 and summary["secret_pesq"]["mean"] > 3.5
    x = sound(rng, 2.0)
    noisy = x + rng.normal(0, np.sqrt(np.mean(x**2)), len(x)).astype(np.float32)  # 0 dB SNR
    assert stoi(x, noisy) < summary["secret_stoi"]["mean"] and pesq_wb(x, noisy) < 2.0
    assert pesq_wb(x, np.zeros_like(x)) is None or pesq_wb(x, np.zeros_like(x)) < 1.5
    assert pesq_wb(np.zeros_like(x), x) is None  # no speech in the reference: no score, not a crash
    # any name, given the pattern (the CLI's --speech)
    other = write_sound(tmp_path / "interview.wav", sound(rng, 2.0))
    assert "secret_stoi" not in evaluate_audio_pairs([(files["cover.wav"], other)], tmp_path / "e2", seconds=2.0,
                                                     quiet=True)
    assert "secret_stoi" in evaluate_audio_pairs([(files["cover.wav"], other)], tmp_path / "e3", seconds=2.0,
                                                 quiet=True, speech="interview*")


def test_a_qim_picture_model_squeezes_a_picture_into_a_short_cover_and_says_so(tmp_path, files, rng):
    from exypno.evaluate.audio import snr
    from exypno.media.metrics import psnr_8bit
    from exypno.media.audio import read_audio
    from exypno.media.image import read_image

    torch.manual_seed(0)
    config = NetConfig(width=8, blocks=(1, 1, 1), cover_channels=2, secret_channels=3, lattice=(1 / 128,), qim=(0.5, 0.0))
    save_model(StegoModel(config), tmp_path / "qim.safetensors", card={"pairing": "image-in-audio", "spectrogram": "block"})
    model = Stego.load(tmp_path / "qim.safetensors")  # zero heads: the code and the 4:2:2 packing alone
    square = tmp_path / "square.png"
    Image.fromarray(smooth_photo(rng, 256, 256)).save(square)
    stego, notes = hide_audio(model, files["cover.wav"], square, tmp_path / "s.wav")  # 3 s: 95 frames
    assert "256 columns, squeezed into 95: 8.16 s of cover would keep every one" in notes[1]
    assert snr(read_audio(files["cover.wav"]), stego[:48000]) > 40
    revealed = reveal_audio(model, tmp_path / "s.wav", tmp_path / "r.png", size=(256, 256))
    assert psnr_8bit(read_image(square), revealed) > 30
    short = write_sound(tmp_path / "short.wav", sound(rng, 1.5))  # 48 frames: under the 65 a 256x256 needs
    with pytest.raises(ExypnoError, match=r"a 256x256 image needs 2.07 s of cover; this cover is 1.50 s"):
        hide_audio(model, short, square, tmp_path / "never.wav")
    assert not (tmp_path / "never.wav").exists()


def test_training_and_modem_pretraining_on_block_grids_with_a_lattice(tmp_path, rng):
    from exypno.media.audio import SPECTROGRAMS
    from exypno.train.data import ClipSampler
    from exypno.train.modem import pretrain

    cfg = tiny_sound_run(tmp_path, rng, spectrogram="block", lattice=(0.04, 0.01), noise=1 / 255)
    with pytest.raises(ExypnoError, match="--noise 0"):  # the Gaussian layer would drown the lattice
        train(cfg, progress=False)
    cfg.noise = None  # the default: none, for a lattice model
    train(cfg, progress=False)
    from exypno.train.checkpoint import read_meta

    assert read_meta(tmp_path / "run" / "checkpoint.safetensors")["config"]["noise"] == 0
    card = json.loads((tmp_path / "run" / "best.json").read_text())
    assert card["spectrogram"] == "block" and card["config"]["lattice"] == [0.04, 0.01]
    from exypno.train.loop import _load_initial_weights

    with pytest.raises(ExypnoError, match="trained on 'block' audio grids"):  # --init on another grid
        _load_initial_weights(StegoModel(cfg.net_config()), tmp_path / "run" / "best.safetensors", "complex")

    model = StegoModel(NetConfig(width=8, blocks=(1, 1, 1), cover_channels=2, secret_channels=2, lattice=(0.04,)))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    clips = [(sound(rng, 0.6) * 32768).astype(np.int16) for _ in range(3)]
    spec = SPECTROGRAMS["block"]
    figures = pretrain(model, ClipSampler(clips, spec.samples(8)), spec, steps=3, minutes=1, batch=2, log=lambda _: None)
    assert figures["step"] == 3 and {"cover_snr", "symbol_snr"} <= set(figures)
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(".modulator." in k or ".demodulator." in k for k in changed)  # only the modem learns

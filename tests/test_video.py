"""Video: lossless FFV1 round trip, frame rate, frame count and audio kept, pairings, bad input."""
import av
import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

import exypno
from exypno.cli import main
from exypno.media.audio import SAMPLE_RATE, SPECTROGRAMS
from exypno.media.shuffle import shuffle_blocks, unshuffle_blocks
from exypno.media.video import VideoWriter, frames, probe
from exypno.pairings.audio import hide_grid_in_image
from exypno.pairings.video import hide_audio_in_video, samples_per_frame

from .conftest import smooth_photo
from .test_audio_pairings import sound, tiny_model, write_sound


def make_video(path, n, rng, size=(48, 64), fps=12, audio=True):
    out = av.open(str(path), "w")
    v = out.add_stream("mpeg4", rate=fps)
    v.height, v.width = size
    v.pix_fmt = "yuv420p"
    if audio:
        a = out.add_stream("aac", rate=16000)
        a.layout = "mono"
    for i in range(n):
        frame = av.VideoFrame.from_ndarray(smooth_photo(rng, *size), format="rgb24")
        frame.pts = i
        for p in v.encode(frame):
            out.mux(p)
    if audio:
        t = 0
        for i in range(int(n / fps * 16000) // 1024 + 1):
            samples = (np.sin(np.arange(1024) * 0.05 + i) * 0.3).astype(np.float32)[None]
            af = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            af.sample_rate, af.pts = 16000, t
            t += 1024
            for p in a.encode(af):
                out.mux(p)
        for p in a.encode():
            out.mux(p)
    for p in v.encode():
        out.mux(p)
    out.close()
    return path


def audio_packets(path):
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


def test_ffv1_writer_is_bit_exact_and_keeps_rate_and_audio(tmp_path, rng):
    cover = make_video(tmp_path / "c.mkv", 10, rng)
    original = list(frames(cover))
    with VideoWriter(tmp_path / "copy.mkv", 64, 48, probe(cover).fps, audio_from=cover) as w:
        for f in original:
            w.write(f)
    info = probe(tmp_path / "copy.mkv")
    assert (info.fps, info.frames, info.has_audio) == (12, 10, True)
    assert all(np.array_equal(a, b) for a, b in zip(original, frames(tmp_path / "copy.mkv")))
    assert audio_packets(tmp_path / "copy.mkv") == audio_packets(cover)


def test_video_in_video_matches_the_image_model_frame_by_frame(tmp_path, rng):
    cover = make_video(tmp_path / "c.avi", 6, rng, audio=False)
    secret = make_video(tmp_path / "s.mkv", 6, rng, audio=False)
    assert main(["hide", "--cover", str(cover), "--secret", str(secret), "-o", str(tmp_path / "st.mkv")]) == 0
    assert main(["reveal", str(tmp_path / "st.mkv"), "-o", str(tmp_path / "r.mkv")]) == 0
    model = exypno.load("default")
    for c, s, st, r in zip(frames(cover), frames(secret), frames(tmp_path / "st.mkv"), frames(tmp_path / "r.mkv")):
        expected = model.hide(c, s)
        assert np.array_equal(st, expected)  # lossless: the stego frame is the image model's output
        assert np.array_equal(r, model.reveal(expected))
    assert probe(tmp_path / "r.mkv").frames == 6


def test_image_in_video_averages_the_frames(tmp_path, rng):
    cover = make_video(tmp_path / "c.mkv", 8, rng)
    secret = tmp_path / "s.png"
    Image.fromarray(smooth_photo(rng, 48, 64)).save(secret)
    assert main(["hide", "--cover", str(cover), "--secret", str(secret), "-o", str(tmp_path / "st.mkv")]) == 0
    assert audio_packets(tmp_path / "st.mkv") == audio_packets(cover)
    assert main(["reveal", str(tmp_path / "st.mkv"), "-o", str(tmp_path / "r.png")]) == 0
    model = exypno.load("default")
    per_frame = np.stack([model.reveal(f) for f in frames(tmp_path / "st.mkv")]).astype(float)
    averaged = np.asarray(Image.open(tmp_path / "r.png")).astype(float)
    assert np.abs(averaged - per_frame.mean(axis=0)).max() <= 0.5 + 1e-9


def test_key_shuffles_blocks_and_only_the_key_restores_them(tmp_path, rng):
    image = smooth_photo(rng, 40, 70)
    shuffled = shuffle_blocks(image, "k1")
    assert not np.array_equal(shuffled, image)
    assert np.array_equal(unshuffle_blocks(shuffled, "k1"), image)
    assert not np.array_equal(unshuffle_blocks(shuffled, "k2"), image)
    assert np.array_equal(shuffled[32:, :], image[32:, :]) and np.array_equal(shuffled[:, 64:], image[:, 64:])


def test_secret_longer_than_cover_is_refused(tmp_path, rng, capsys):
    cover = make_video(tmp_path / "c.mkv", 3, rng, audio=False)
    secret = make_video(tmp_path / "s.mkv", 5, rng, audio=False)
    assert main(["hide", "--cover", str(cover), "--secret", str(secret), "-o", str(tmp_path / "st.mkv")]) == 2
    assert "5 frames, the cover only 3" in capsys.readouterr().err
    assert not (tmp_path / "st.mkv").exists()


@pytest.mark.parametrize("case", ["corrupt", "truncated", "audio only", "lossy output"])
def test_bad_video_input(tmp_path, rng, capsys, case):
    cover = make_video(tmp_path / "c.mkv", 4, rng)
    secret = tmp_path / "s.png"
    Image.fromarray(smooth_photo(rng, 48, 64)).save(secret)
    out = tmp_path / "st.mkv"
    if case == "corrupt":
        cover = tmp_path / "junk.mp4"
        cover.write_bytes(b"\x00\x01garbage" * 100)
    elif case == "truncated":
        data = (tmp_path / "c.mkv").read_bytes()
        cover = tmp_path / "cut.mkv"
        cover.write_bytes(data[: len(data) // 3])
    elif case == "audio only":
        c = av.open(str(tmp_path / "a.mkv"), "w")
        a = c.add_stream("aac", rate=16000)
        a.layout = "mono"
        af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        af.sample_rate, af.pts = 16000, 0
        for p in list(a.encode(af)) + list(a.encode()):
            c.mux(p)
        c.close()
        cover = tmp_path / "a.mkv"
    else:
        out = tmp_path / "st.mp4"
    code = main(["hide", "--cover", str(cover), "--secret", str(secret), "-o", str(out)])
    err = capsys.readouterr().err
    if case == "truncated" and code == 0:  # FFmpeg may decode the frames that are whole; then it is a shorter clip
        assert probe(out).frames <= 4
        return
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("exypno: error:")
    assert not out.exists()
    assert not list(tmp_path.glob(".exypno-*"))


def test_evaluate_reports_per_frame_figures_for_videos(tmp_path, rng, capsys):
    import json

    clips = tmp_path / "clips"
    clips.mkdir()
    make_video(clips / "a.mkv", 5, rng, audio=False)
    make_video(clips / "b.mkv", 4, rng, audio=False)  # shorter: the cover's last frame carries black
    photo = tmp_path / "photo.png"
    Image.fromarray(smooth_photo(rng, 60, 80)).save(photo)
    assert main(["evaluate", "--covers", str(clips), "--secrets", str(clips), "--out", str(tmp_path / "ev"),
                 "--limit", "1"]) == 0  # a hides b (b hiding a would be refused: a is longer)
    table = capsys.readouterr().out
    assert "per-frame figures after the lossless FFV1 round trip" in table
    result = json.loads((tmp_path / "ev" / "results.json").read_text())
    first = result["pairs"][0]
    assert first["frames"] == 5 and first["hide_fps"] > 0 and result["peak_rss_mb"] > 0
    assert first["cover_psnr"]["worst"] <= first["cover_psnr"]["mean"] and first["cover_psnr"]["mean"] > 25
    assert first["secret_psnr"]["mean"] > 15  # 4 secret frames compared (a.mkv hides b.mkv)
    assert (tmp_path / "ev" / "figure.png").stat().st_size > 0
    assert main(["evaluate", "--covers", str(clips / "a.mkv"), "--secrets", str(photo),
                 "--out", str(tmp_path / "ev2")]) == 0
    averaged = json.loads((tmp_path / "ev2" / "results.json").read_text())["pairs"][0]["secret_psnr"]["averaged"]
    assert averaged > 15


def test_audio_in_video_cuts_the_sound_to_the_frames(tmp_path, rng):
    model = tiny_model(tmp_path, "audio-in-image")
    path = str(tmp_path / "audio-in-image.safetensors")
    cover = make_video(tmp_path / "c.mkv", 6, rng, size=(256, 40))
    secret = write_sound(tmp_path / "s.wav", sound(rng, 1.0))
    piece = samples_per_frame(SPECTROGRAMS["complex"], 256, 40)
    assert piece == 39 * 128  # one band of 40 STFT frames per video frame
    notes = hide_audio_in_video(model, cover, secret, tmp_path / "st.mkv")
    assert "fill 4 of the cover's 6 frames" in notes[0]
    info = probe(tmp_path / "st.mkv")
    assert (info.frames, info.fps, info.has_audio) == (6, 12, True)
    assert audio_packets(tmp_path / "st.mkv") == audio_packets(cover)
    # every stego frame is what the model makes of that frame and its piece of the sound
    wave = np.zeros(6 * piece, np.float32)
    wave[:SAMPLE_RATE] = sf.read(str(secret), dtype="float32")[0]
    for i, (c, st) in enumerate(zip(frames(cover), frames(tmp_path / "st.mkv"))):
        chunk = torch.from_numpy(wave[i * piece : (i + 1) * piece])[None]
        assert np.array_equal(st, hide_grid_in_image(model, c, SPECTROGRAMS["complex"].to_tensor(chunk)))
    assert main(["reveal", str(tmp_path / "st.mkv"), "-o", str(tmp_path / "r.wav"), "--model", path]) == 0
    n = sf.info(str(tmp_path / "r.wav")).frames
    assert n % piece == 0 and 0 < n <= 6 * piece  # whole pieces, up to the last one that is not silent


def test_audio_in_video_refuses_what_it_cannot_carry(tmp_path, rng, capsys):
    tiny_model(tmp_path, "audio-in-image")
    path = str(tmp_path / "audio-in-image.safetensors")
    cover = make_video(tmp_path / "c.mkv", 3, rng, size=(256, 40))
    short_frames = make_video(tmp_path / "flat.mkv", 3, rng, size=(200, 40))
    secret = write_sound(tmp_path / "s.wav", sound(rng, 1.0))  # 4 frames' worth
    for args, message in (
        (["--cover", str(cover), "--secret", str(secret), "--model", path], "carry at most 0.94 s"),
        (["--cover", str(short_frames), "--secret", str(secret), "--model", path], "under 256 pixels tall"),
        (["--cover", str(cover), "--secret", str(secret), "--model", "default"],
         "hides image in image, not audio in image"),
        (["--cover", str(cover), "--secret", str(secret), "--model", path, "--key", "k"], "--key"),
    ):
        code = main(["hide", *args, "-o", str(tmp_path / "st.mkv")])
        err = capsys.readouterr().err
        assert code == 2 and message in err and err.count("\n") == 1, err
        assert not (tmp_path / "st.mkv").exists()


def test_api_hides_and_reveals_in_video(tmp_path, rng):
    cover = make_video(tmp_path / "c.mkv", 3, rng, audio=False)
    secret = tmp_path / "s.png"
    Image.fromarray(smooth_photo(rng, 48, 64)).save(secret)
    assert exypno.hide(cover, secret, tmp_path / "st.mkv") is None
    revealed = exypno.reveal(tmp_path / "st.mkv", tmp_path / "r.png")
    assert revealed.shape == (48, 64, 3) and (tmp_path / "r.png").exists()
    with pytest.raises(exypno.ExypnoError, match="give an output"):
        exypno.reveal(tmp_path / "st.mkv")


def test_shipped_audio_in_video_gives_the_sound_back_at_its_length(tmp_path, rng):
    from exypno.evaluate.audio import snr

    cover = make_video(tmp_path / "c.mkv", 6, rng, size=(256, 64))
    secret = write_sound(tmp_path / "s.wav", sound(rng, 1.2))  # 2.4 frames of 0.504 s
    assert main(["hide", "--cover", str(cover), "--secret", str(secret), "-o", str(tmp_path / "st.mkv")]) == 0
    assert main(["reveal", str(tmp_path / "st.mkv"), "-o", str(tmp_path / "r.wav")]) == 0
    revealed, _ = sf.read(str(tmp_path / "r.wav"), dtype="float32")
    assert len(revealed) == 3 * 63 * 128  # the three frames that carry sound; the silent ones are dropped
    x, _ = sf.read(str(secret), dtype="float32")
    assert snr(x, revealed[: len(x)]) > 8


def test_evaluate_measures_a_sound_hidden_in_a_video(tmp_path, rng, capsys):
    import json

    tiny_model(tmp_path, "audio-in-image")
    cover = make_video(tmp_path / "c.mkv", 4, rng, size=(256, 40), audio=False)
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    write_sound(sounds / "voice.wav", sound(rng, 0.5))
    assert main(["evaluate", "--covers", str(cover), "--secrets", str(sounds), "--out", str(tmp_path / "ev"),
                 "--model", str(tmp_path / "audio-in-image.safetensors")]) == 0
    assert "SNR" in capsys.readouterr().out
    pair = json.loads((tmp_path / "ev" / "results.json").read_text())["pairs"][0]
    assert pair["frames"] == 4 and pair["secret_seconds"] == 0.5
    assert np.isfinite(pair["secret_snr"]) and np.isfinite(pair["secret_segsnr"])
    assert (tmp_path / "ev" / "000_c__voice.revealed.wav").exists()


def test_sigterm_mid_video_leaves_no_temporary_file(tmp_path, rng):
    import signal
    import subprocess
    import sys
    import time

    cover = make_video(tmp_path / "c.mkv", 300, rng, size=(96, 128), audio=False)
    secret = tmp_path / "s.png"
    Image.fromarray(smooth_photo(rng, 96, 128)).save(secret)
    proc = subprocess.Popen([sys.executable, "-m", "exypno", "hide", "--cover", str(cover), "--secret", str(secret),
                             "-o", str(tmp_path / "st.mkv")], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".exypno-*")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the hide ended before it could be interrupted"
    time.sleep(0.3)  # some frames into the file
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    assert not list(tmp_path.glob(".exypno-*")) and not (tmp_path / "st.mkv").exists()

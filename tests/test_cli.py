"""The CLI as a user meets it: real files, exit codes, one-line errors, nothing half-written."""
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from exypno.cli import main
from exypno.media.metrics import psnr_8bit

from .conftest import smooth_photo


@pytest.fixture
def pair(tmp_path, rng):
    cover, secret = tmp_path / "cover.png", tmp_path / "secret.png"
    Image.fromarray(smooth_photo(rng, 64, 80)).save(cover)
    Image.fromarray(smooth_photo(rng, 64, 80)).save(secret)
    return cover, secret


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_hide_reveal_round_trip(capsys, tmp_path, pair):
    cover, secret = pair
    stego, revealed = tmp_path / "stego.png", tmp_path / "revealed.png"
    assert run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", stego)[0] == 0
    assert run(capsys, "reveal", stego, "-o", revealed)[0] == 0
    c, s = np.asarray(Image.open(cover)), np.asarray(Image.open(secret))
    assert psnr_8bit(c, np.asarray(Image.open(stego))) > 30
    assert psnr_8bit(s, np.asarray(Image.open(revealed))) > 18  # noisy synthetic photos: a plumbing check


def test_no_align_reveals_an_uncropped_stego_as_is_and_a_crop_on_the_wrong_grid(capsys, tmp_path):
    from skimage import data

    from exypno.media.image import square

    cover, secret = tmp_path / "cover.png", tmp_path / "secret.png"
    Image.fromarray(square(data.astronaut(), 128)).save(cover)
    Image.fromarray(square(data.coffee(), 128)).save(secret)
    stego, crop = tmp_path / "stego.png", tmp_path / "crop.png"
    assert run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", stego)[0] == 0
    Image.fromarray(np.asarray(Image.open(stego))[5:, 6:]).save(crop)  # off the 4-pixel grid
    revealed = {}
    for name, path in (("whole", stego), ("crop", crop)):
        for flags in ((), ("--no-align",)):
            out = tmp_path / f"{name}{len(flags)}.png"
            assert run(capsys, "reveal", path, "-o", out, *flags)[0] == 0
            revealed[name, bool(flags)] = np.asarray(Image.open(out))
    truth = np.asarray(Image.open(secret))
    assert np.array_equal(revealed["whole", True], revealed["whole", False])  # no shift found, none taken
    aligned, unaligned = (psnr_8bit(truth[5:, 6:], revealed["crop", flag]) for flag in (False, True))
    assert aligned > 22 and unaligned < aligned - 8, (aligned, unaligned)
    import soundfile

    soundfile.write(tmp_path / "x.wav", np.zeros(16000, np.int16), 16000, subtype="PCM_16")
    code, _, err = run(capsys, "reveal", "--no-align", tmp_path / "x.wav", "-o", tmp_path / "y.png")
    assert code == 2 and "--no-align is for an image revealed from an image" in err
    assert not (tmp_path / "y.png").exists()


def test_secret_of_another_size_is_resized_and_said(capsys, tmp_path, pair, rng):
    cover, _ = pair
    secret = tmp_path / "big.jpg"
    Image.fromarray(smooth_photo(rng, 100, 50)).save(secret)
    code, _, err = run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", tmp_path / "s.png")
    assert code == 0
    assert "resized from 50x100 to the cover's 80x64" in err
    assert Image.open(tmp_path / "s.png").size == (80, 64)


def _bad_files(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    good = tmp_path / "good.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:100])
    # A PNG that declares 30000 x 30000 pixels (900 MP) in a few hundred bytes.
    bomb = tmp_path / "bomb.png"
    ihdr = (30000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])

    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
                     + chunk(b"IEND", b""))
    return {"missing": tmp_path / "nope.png", "empty": empty, "not an image": text, "truncated": truncated,
            "bomb": bomb}


@pytest.mark.parametrize("case", ["missing", "empty", "not an image", "truncated", "bomb"])
@pytest.mark.parametrize("role", ["cover", "secret", "stego"])
def test_bad_input_files(capsys, tmp_path, pair, case, role):
    bad = _bad_files(tmp_path)[case]
    out = tmp_path / "out.png"
    cover, secret = pair
    if role == "stego":
        code, _, err = run(capsys, "reveal", bad, "-o", out)
    else:
        args = {"cover": cover, "secret": secret, role: bad}
        code, _, err = run(capsys, "hide", "--cover", args["cover"], "--secret", args["secret"], "-o", out)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("exypno: error: ")
    assert str(bad.name) in err
    assert not out.exists()


def test_existing_output_needs_force(capsys, tmp_path, pair):
    cover, secret = pair
    out = tmp_path / "stego.png"
    out.write_bytes(b"precious")
    code, _, err = run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", out)
    assert code == 2 and "already exists" in err and "--force" in err
    assert out.read_bytes() == b"precious"
    assert run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", out, "--force")[0] == 0
    assert Image.open(out).size == (80, 64)


@pytest.mark.parametrize("name", ["stego.jpg", "stego.webp", "stego"])
def test_lossy_or_unknown_output_is_refused(capsys, tmp_path, pair, name):
    cover, secret = pair
    code, _, err = run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", tmp_path / name)
    assert code == 2 and "PNG only" in err
    assert not (tmp_path / name).exists()


def test_unwritable_output(capsys, tmp_path, pair):
    cover, secret = pair
    code, _, err = run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", tmp_path / "no" / "dir.png")
    assert code == 2 and "does not exist" in err
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if not __import__("os").access(ro, __import__("os").W_OK):  # root can write anywhere
            code, _, err = run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", ro / "s.png")
            assert code == 2 and "not writable" in err
    finally:
        ro.chmod(0o700)
    assert list(tmp_path.glob("**/.exypno-*")) == []


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, b"\x08\x00\x00\x00\x00\x00\x00\x00{}"])
def test_model_file_that_is_not_ours(capsys, tmp_path, pair, content):
    cover, secret = pair
    model = tmp_path / "m.safetensors"
    model.write_bytes(content)
    code, _, err = run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", tmp_path / "s.png",
                       "--model", model)
    assert code == 2 and err.count("\n") == 1 and "m." in err
    (tmp_path / "m.json").write_text('{"format": "exypno-model/1", "config": {"preset": "haar"}}')
    code, _, err = run(capsys, "reveal", cover, "-o", tmp_path / "r.png", "--model", model)
    assert code == 2 and err.count("\n") == 1
    assert not (tmp_path / "s.png").exists() and not (tmp_path / "r.png").exists()


def test_unknown_model_name(capsys, tmp_path, pair):
    cover, secret = pair
    code, _, err = run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", tmp_path / "s.png",
                       "--model", "nonesuch")
    assert code == 2 and "no shipped model named 'nonesuch'" in err


def test_export_sender_and_receiver_work_apart(capsys, tmp_path, pair):
    cover, secret = pair
    sender, receiver = tmp_path / "alice.safetensors", tmp_path / "bob.safetensors"
    assert run(capsys, "export", "--part", "sender", "-o", sender)[0] == 0
    assert run(capsys, "export", "--part", "receiver", "-o", receiver)[0] == 0
    from safetensors import safe_open

    def prefixes(path):
        with safe_open(str(path), framework="pt") as f:
            return {k.split(".")[0] for k in f.keys()}

    assert prefixes(sender) == {"compressor", "encoder"}
    assert prefixes(receiver) == {"decoder", "border_decoder", "locator"}  # the receiver finds crops as the default does
    stego = tmp_path / "stego.png"
    assert run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", stego, "--model", sender)[0] == 0
    assert run(capsys, "reveal", stego, "-o", tmp_path / "r.png", "--model", receiver)[0] == 0
    both = tmp_path / "both.png"
    run(capsys, "reveal", stego, "-o", both)
    assert np.array_equal(np.asarray(Image.open(both)), np.asarray(Image.open(tmp_path / "r.png")))
    code, _, err = run(capsys, "reveal", stego, "-o", tmp_path / "x.png", "--model", sender)
    assert code == 2 and "cannot reveal" in err
    code, _, err = run(capsys, "hide", "--cover", cover, "--secret", secret, "-o", tmp_path / "y.png",
                       "--model", receiver)
    assert code == 2 and "cannot hide" in err


def test_models_lists_presets(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "paper" in out and "haar" in out and "default" in out


def test_console_script_prints_no_traceback(tmp_path):
    exe = __import__("shutil").which("exypno") or f"{sys.executable} -m exypno.cli"
    cmd = f"{exe} reveal {tmp_path / 'missing.png'} -o {tmp_path / 'r.png'}"
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1

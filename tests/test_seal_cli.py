"""``exypno seal / unseal / capacity`` and the API, with the shipped models, as a user meets them."""
import os

import numpy as np
import pytest
from PIL import Image

import exypno
from exypno.cli import main

from .conftest import smooth_photo


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    cover = tmp_path / "cover.png"
    Image.fromarray(smooth_photo(np.random.default_rng(5), 96, 128)).save(cover)
    secret = tmp_path / "notes.txt"
    secret.write_bytes(b"meet at the old mill at noon\n" * 8)
    pw = tmp_path / "pw.txt"
    pw.write_text("correct horse battery staple\n")
    return cover, secret, pw


def test_seal_unseal_round_trip_keeps_bytes_and_name(capsys, tmp_path, files):
    cover, secret, pw = files
    stego = tmp_path / "stego.png"
    code, out, err = run(capsys, "seal", "--cover", cover, "--file", secret, "-o", stego, "--passphrase-file", pw)
    assert code == 0, err
    assert "sealed in png mode" in out
    outdir = tmp_path / "out"
    outdir.mkdir()
    code, out, err = run(capsys, "unseal", stego, "-o", outdir, "--passphrase-file", pw)
    assert code == 0, err
    assert (outdir / "notes.txt").read_bytes() == secret.read_bytes()


def test_unseal_into_a_new_folder_named_with_a_slash(capsys, tmp_path, files):
    """``-o outdir/`` (as README writes it) is a folder even before it exists: made once the file is back."""
    cover, secret, pw = files
    stego = tmp_path / "stego.png"
    assert run(capsys, "seal", "--cover", cover, "--file", secret, "-o", stego, "--passphrase-file", pw)[0] == 0
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase at all\n")
    code, _, err = run(capsys, "unseal", stego, "-o", f"{tmp_path / 'never'}/", "--passphrase-file", wrong)
    assert code == 2 and "no sealed file" in err and not (tmp_path / "never").exists()
    code, out, err = run(capsys, "unseal", stego, "-o", f"{tmp_path / 'new' / 'dir'}/", "--passphrase-file", pw)
    assert code == 0, err
    assert (tmp_path / "new" / "dir" / "notes.txt").read_bytes() == secret.read_bytes()
    (tmp_path / "a-file").write_bytes(b"x")
    code, _, err = run(capsys, "unseal", stego, "-o", f"{tmp_path / 'a-file'}/", "--passphrase-file", pw)
    assert code == 2 and "not a folder" in err and (tmp_path / "a-file").read_bytes() == b"x"


def test_passphrase_from_the_environment(capsys, tmp_path, files, monkeypatch):
    cover, secret, _ = files
    monkeypatch.setenv("EXYPNO_PASSPHRASE", "from env")
    stego, got = tmp_path / "s.png", tmp_path / "got.bin"
    assert run(capsys, "seal", "--cover", cover, "--file", secret, "-o", stego)[0] == 0
    assert run(capsys, "unseal", stego, "-o", got)[0] == 0
    assert got.read_bytes() == secret.read_bytes()


def test_no_passphrase_without_a_terminal_is_an_error(capsys, tmp_path, files, monkeypatch):
    cover, secret, _ = files
    monkeypatch.delenv("EXYPNO_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run(capsys, "seal", "--cover", cover, "--file", secret, "-o", tmp_path / "s.png")
    assert code == 2 and "no passphrase" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.png").exists()


def test_wrong_passphrase_and_plain_cover_exit_2_and_write_nothing(capsys, tmp_path, files):
    cover, secret, pw = files
    stego = tmp_path / "stego.png"
    assert run(capsys, "seal", "--cover", cover, "--file", secret, "-o", stego, "--passphrase-file", pw)[0] == 0
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("incorrect horse")
    for image, p in ((stego, wrong), (cover, pw)):
        out = tmp_path / "out.bin"
        code, _, err = run(capsys, "unseal", image, "-o", out, "--passphrase-file", p)
        assert code == 2
        assert "no sealed file for this passphrase" in err and len(err.strip().splitlines()) == 1
        assert not out.exists()


def test_too_large_file_and_existing_output_are_refused(capsys, tmp_path, files):
    cover, _, pw = files
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(200_000))
    stego = tmp_path / "stego.png"
    code, _, err = run(capsys, "seal", "--cover", cover, "--file", big, "-o", stego, "--passphrase-file", pw)
    assert code == 2 and "more room" in err and not stego.exists()
    stego.write_bytes(b"keep me")
    code, _, err = run(capsys, "seal", "--cover", cover, "--file", pw, "-o", stego, "--passphrase-file", pw)
    assert code == 2 and "already exists" in err and stego.read_bytes() == b"keep me"
    code, _, err = run(capsys, "seal", "--cover", cover, "--file", pw, "-o", tmp_path / "s.jpg", "--passphrase-file", pw)
    assert code == 2 and "PNG only" in err


def test_capacity_says_what_a_cover_carries(capsys, files):
    code, out, _ = run(capsys, "capacity", files[0])
    assert code == 0
    line = out.strip().splitlines()[0]
    assert line.startswith("png") and "net bits per pixel" in line
    assert int(line.split()[1].replace(",", "")) > 100


def test_api_seal_bytes_and_unseal(tmp_path, files):
    cover, _, _ = files
    stego = exypno.seal(cover, b"\x00\x01 binary \xff", "password", name="blob.bin", output=tmp_path / "s.png")
    assert stego.shape == (96, 128, 3)
    assert exypno.unseal(tmp_path / "s.png", "password") == ("blob.bin", b"\x00\x01 binary \xff")
    assert exypno.capacity(cover)["png"]["bytes"] > 0


def test_a_jpeg_resave_is_reported_never_misread(tmp_path, files):
    """PNG mode does not survive JPEG: unsealing a re-saved stego must fail cleanly, not return other bytes."""
    import io

    from exypno.errors import ExypnoError

    stego = exypno.seal(files[0], b"short note", "password", name="n.txt")
    buf = io.BytesIO()
    Image.fromarray(stego).save(buf, format="JPEG", quality=95)
    resaved = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    with pytest.raises(ExypnoError):
        exypno.unseal(resaved, "password")


def test_robust_seal_then_a_jpeg_file_unseals(capsys, tmp_path, files):
    _, secret, pw = files
    cover = tmp_path / "big.png"
    Image.fromarray(smooth_photo(np.random.default_rng(8), 256, 256)).save(cover)
    stego = tmp_path / "stego.png"
    code, out, err = run(capsys, "seal", "--robust", "--cover", cover, "--file", secret, "-o", stego,
                         "--passphrase-file", pw)
    assert code == 0, err
    assert "sealed in robust mode" in out and "JPEG re-save at quality 90" in out
    jpeg = tmp_path / "shared.jpg"
    Image.open(stego).save(jpeg, quality=90)  # what a photo site or a chat app might do to it
    got = tmp_path / "got.txt"
    code, out, err = run(capsys, "unseal", jpeg, "-o", got, "--passphrase-file", pw)
    assert code == 0, err
    assert got.read_bytes() == secret.read_bytes()
    code, out, _ = run(capsys, "capacity", cover)
    lines = out.strip().splitlines()
    assert lines[1].startswith("robust") and "JPEG at quality 90" in lines[1]


def test_a_short_passphrase_needs_weak_passphrase(capsys, tmp_path, files):
    cover, secret, _ = files
    short = tmp_path / "short.txt"
    short.write_text("abc")
    stego = tmp_path / "s.png"
    code, _, err = run(capsys, "seal", "--cover", cover, "--file", secret, "-o", stego, "--passphrase-file", short)
    assert code == 2 and "at least 8" in err and not stego.exists()
    code, _, err = run(capsys, "seal", "--cover", cover, "--file", secret, "-o", stego, "--passphrase-file", short,
                       "--weak-passphrase")
    assert code == 0, err

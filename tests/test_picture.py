"""A picture re-encoded to fit a sealed carrier (payload/picture.py), and ``seal --fit`` as a user meets it."""
import io

import numpy as np
import pytest
from PIL import Image

from exypno.cli import main
from exypno.media.metrics import psnr_8bit
from exypno.payload.container import PayloadError
from exypno.media.image import read_image
from exypno.payload.picture import MIN_QUALITY, encode, fit, is_picture

from .conftest import smooth_photo


@pytest.fixture(scope="module")
def photo():
    return smooth_photo(np.random.default_rng(11), 120, 160)


def test_fit_takes_the_highest_quality_that_fits(photo):
    budget = 2_000
    got = fit(photo, budget)
    assert len(got.data) <= budget and got.size == got.original == (160, 120)
    assert got.quality > MIN_QUALITY and (got.quality == 100 or len(encode(photo, got.quality + 1)) > budget)
    assert abs(psnr_8bit(photo, read_image(got.data)) - got.psnr) < 1e-6


def test_a_budget_too_small_for_full_size_scales_the_picture_down(photo):
    budget = len(encode(photo, MIN_QUALITY)) - 1
    got = fit(photo, budget)
    assert len(got.data) <= budget and got.size[0] < 160 and got.size[1] < 120
    assert read_image(got.data).shape == (got.size[1], got.size[0], 3)
    with pytest.raises(PayloadError, match="does not fit"):
        fit(photo, 40)


def test_is_picture_reads_the_header_only():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    assert is_picture(buf.getvalue())
    assert not is_picture(b"\x89PNG not really" + bytes(100)) and not is_picture(b"plain text")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_seal_fit_reencodes_a_photo_too_large_and_unseal_gives_the_avif(capsys, tmp_path, photo):
    cover, secret, pw = tmp_path / "cover.png", tmp_path / "holiday.png", tmp_path / "pw"
    Image.fromarray(smooth_photo(np.random.default_rng(5), 128, 128)).save(cover)
    Image.fromarray(photo).save(secret)
    pw.write_text("password\n")
    stego = tmp_path / "stego.png"
    code, _, err = run(capsys, "seal", "--cover", cover, "--file", secret, "-o", stego, "--passphrase-file", pw)
    assert code == 2 and "needs more room" in err and not stego.exists()  # without --fit: refused
    code, out, err = run(capsys, "seal", "--cover", cover, "--file", secret, "-o", stego, "--passphrase-file", pw,
                         "--fit")
    assert code == 0, err
    assert "holiday.png re-encoded to fit as holiday.avif (160x120; AVIF quality" in out
    outdir = tmp_path / "out"
    outdir.mkdir()
    code, out, err = run(capsys, "unseal", stego, "-o", outdir, "--passphrase-file", pw)
    assert code == 0, err
    revealed = np.asarray(Image.open(outdir / "holiday.avif").convert("RGB"))
    assert psnr_8bit(photo, revealed) > 30
    code, out, err = run(capsys, "unseal", stego, "-o", tmp_path / "back.png", "--passphrase-file", pw)
    assert code == 0 and "note:" in err and "'holiday.avif'" in err  # bytes kept, the misleading name said
    assert (tmp_path / "back.png").read_bytes() == (outdir / "holiday.avif").read_bytes()
    assert psnr_8bit(np.asarray(Image.open(cover)), np.asarray(Image.open(stego))) > 35


def test_seal_fit_keeps_what_fits_and_refuses_what_is_no_picture(capsys, tmp_path):
    cover, pw = tmp_path / "cover.png", tmp_path / "pw"
    Image.fromarray(smooth_photo(np.random.default_rng(5), 128, 128)).save(cover)
    pw.write_text("password\n")
    small = tmp_path / "icon.png"
    Image.fromarray(smooth_photo(np.random.default_rng(1), 8, 8)).save(small)
    stego = tmp_path / "a.png"
    assert run(capsys, "seal", "--cover", cover, "--file", small, "-o", stego, "--passphrase-file", pw, "--fit")[0] == 0
    assert run(capsys, "unseal", stego, "-o", tmp_path / "back.png", "--passphrase-file", pw)[0] == 0
    assert (tmp_path / "back.png").read_bytes() == small.read_bytes()  # it fitted: sealed as it is, exactly
    blob = tmp_path / "random.bin"
    blob.write_bytes(np.random.default_rng(0).bytes(50_000))
    code, _, err = run(capsys, "seal", "--cover", cover, "--file", blob, "-o", tmp_path / "b.png",
                       "--passphrase-file", pw, "--fit")
    assert code == 2 and "needs more room" in err and not (tmp_path / "b.png").exists()


def test_pack_spends_few_bytes_on_avifs_header_and_gives_the_file_back(photo):
    from exypno.payload.picture import AVIF_HEADER, pack, unpack

    for quality in (20, 60):
        data = encode(photo, quality, subsampling="4:4:4")
        packed = pack(data)
        assert unpack(packed) == data
        assert len(packed) < len(data) - len(AVIF_HEADER) + 60  # the header costs tens of bytes, not 275
    with pytest.raises(PayloadError, match="not a packed AVIF"):
        unpack(b"\x00" * 40)

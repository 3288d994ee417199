"""The robust image model (``--model robust``, payload/robust_image.py) as a user meets it: through the API,
the CLI and ``evaluate --attack``, after real JPEG re-saves."""
import numpy as np
import pytest

from exypno import api, registry
from exypno.cli import main
from exypno.errors import ExypnoError
from exypno.evaluate.heldout import heldout_photos
from exypno.media.metrics import psnr_8bit
from exypno.media.image import read_image, resave, write_png
from exypno.payload.container import PayloadError
from exypno.payload.robust_image import COVER_PSNR, RobustImage


@pytest.fixture(scope="module")
def pair():
    photos = heldout_photos(128)
    return photos["coffee"], photos["chelsea"]


@pytest.fixture(scope="module")
def hidden(pair):
    model = RobustImage()
    stego = model.hide(*pair)
    return model, stego


def test_the_stego_keeps_the_cover_and_reveals_the_secret(pair, hidden):
    cover, secret = pair
    model, stego = hidden
    assert stego.shape == cover.shape and stego.dtype == np.uint8
    assert psnr_8bit(cover, stego) >= COVER_PSNR
    got = model.reveal(stego)
    assert model.layer == "full" and got.shape == secret.shape
    assert psnr_8bit(secret, got) > 24  # a 128x128 secret in a 128x128 cover, as AVIF; more at 256 (README)


def test_jpeg_90_keeps_the_full_picture_and_75_the_base(pair, hidden):
    _, secret = pair
    model, stego = hidden
    clean = model.reveal(stego)
    assert np.array_equal(model.reveal(resave(stego, "JPEG", 90)), clean)  # the same files read back exactly
    assert model.layer == "full"
    base = model.reveal(resave(stego, "JPEG", 75))
    assert model.layer == "base"
    assert 18 < psnr_8bit(secret, base) < psnr_8bit(secret, clean)


def test_nothing_hidden_or_too_damaged_is_refused_not_made_up(pair, hidden):
    cover, _ = pair
    model, stego = hidden
    with pytest.raises(PayloadError, match="no robust picture"):
        model.reveal(cover)
    with pytest.raises(PayloadError, match="no robust picture"):
        model.reveal(resave(stego, "JPEG", 30))
    with pytest.raises(PayloadError, match="too small"):
        model.reveal(stego[:40, :40])


def test_cli_hides_and_reveals_with_model_robust(tmp_path, pair, capsys):
    cover, secret = pair
    write_png(tmp_path / "c.png", cover)
    write_png(tmp_path / "s.png", secret)
    assert main(["hide", "--model", "robust", "--cover", str(tmp_path / "c.png"), "--secret",
                 str(tmp_path / "s.png"), "-o", str(tmp_path / "stego.png")]) == 0
    stego = read_image(tmp_path / "stego.png")
    from PIL import Image

    Image.fromarray(stego).save(tmp_path / "stego.jpg", quality=90)
    assert main(["reveal", "--model", "robust", str(tmp_path / "stego.jpg"), "-o",
                 str(tmp_path / "out.png")]) == 0
    assert psnr_8bit(secret, read_image(tmp_path / "out.png")) > 24
    capsys.readouterr()
    # Nothing there: one line, no output file.
    assert main(["reveal", "--model", "robust", str(tmp_path / "c.png"), "-o",
                 str(tmp_path / "none.png")]) != 0
    err = capsys.readouterr().err
    assert "no robust picture" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "none.png").exists()


def test_the_robust_model_is_for_image_in_image_only(tmp_path, pair):
    with pytest.raises(ExypnoError, match="image in an image only"):
        api.hide(pair[0], tmp_path / "secret.wav", tmp_path / "out.png", model="robust")
    with pytest.raises(ExypnoError, match="no weights"):
        registry.model_path("robust")


def test_evaluate_attacks_counts_what_the_robust_model_refuses(tmp_path, pair):
    from exypno.evaluate.report import evaluate_attacks

    cover, secret = pair
    write_png(tmp_path / "c.png", cover)
    write_png(tmp_path / "s.png", secret)
    r = evaluate_attacks([(tmp_path / "c.png", tmp_path / "s.png")], tmp_path / "out", attacks="jpeg:90,crop:0.5",
                         model="robust", quiet=True)
    assert r["attacks"]["jpeg:90"]["refused"] == 0 and r["attacks"]["jpeg:90"]["secret_psnr"] > 24
    assert r["attacks"]["crop:0.5"]["refused"] == 1  # the code reads whole stegos only


def test_a_cover_that_cannot_carry_it_is_refused_before_anything_is_written(tmp_path, pair):
    white = np.full((96, 96, 3), 255, np.uint8)  # luma cannot go up anywhere
    with pytest.raises(ExypnoError, match="robust model"):
        RobustImage().hide(white, pair[1], output=tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()

"""The grid locator (nets/locator.py), its training (train/locator.py) and its use in ``reveal``."""
import numpy as np
import pytest
import torch

import exypno
from exypno.api import Stego
from exypno.inference import image as engine
from exypno.nets.files import load_model, save_model
from exypno.nets.locator import GridLocator
from exypno.nets.models import NetConfig, StegoModel
from exypno.train.locator import LocatorConfig, train_locator
from tests.conftest import smooth_photo


def test_a_crops_logits_are_the_whole_stegos_permuted_by_its_offset():
    """Unpadded convolutions: a picture with the grid's period, cut 1 row and 2 columns in, is the same
    picture with its phase moved, and the locator says so, exactly."""
    torch.manual_seed(0)
    locator = GridLocator(4).eval()
    tile = torch.rand(1, 3, 4, 4)
    whole = tile.repeat(1, 1, 16, 16)
    cut = whole[..., 1:61, 2:62]
    with torch.no_grad():
        a, b = locator(whole)[0].view(4, 4), locator(cut)[0].view(4, 4)
    assert torch.allclose(b, torch.roll(a, shifts=(1, 2), dims=(0, 1)), atol=1e-5)
    assert not torch.allclose(a, a.mean())  # a random net does tell the phases apart


@pytest.fixture(scope="module")
def tiny_model_with_locator(tmp_path_factory):
    """A tiny untrained model (its encoder's residual already has the grid's blocks, once it is large enough to
    outlive 8-bit rounding) and a locator trained on its stegos, on photo-like pictures."""
    d = tmp_path_factory.mktemp("photos")
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(smooth_photo(rng, 80, 96)).save(d / f"p{i:02d}.png")
    torch.manual_seed(0)
    model = StegoModel(NetConfig(width=8, blocks=(1, 1, 1))).eval()
    torch.nn.init.normal_(model.encoder.net.head.weight, std=0.05)  # a residual of about 3 levels, as trained ones
    cfg = LocatorConfig(data=str(d), steps=80, batch=16, crop=48, side=64, pool=48, min_scale=0.5,
                        val_stegos=4, val_every=40, val_fraction=0.3)
    out = tmp_path_factory.mktemp("run")
    locator, best = train_locator(model, cfg, out=out, log=lambda *_: None)
    with_locator = StegoModel(NetConfig(width=8, blocks=(1, 1, 1), locator=True)).eval()
    with_locator.load_state_dict(model.state_dict(), strict=False)
    with_locator.locator.load_state_dict(locator.state_dict())
    return with_locator, best, out


def test_a_locator_learns_a_models_grid(tiny_model_with_locator):
    model, best, out = tiny_model_with_locator
    assert best["right"] >= 0.9
    assert (out / "best.safetensors").is_file() and len((out / "log.jsonl").read_text().splitlines()) == 2
    stego_model = Stego(model)
    rng = np.random.default_rng(5)
    cover, secret = smooth_photo(rng, 128, 128), smooth_photo(rng, 128, 128)
    stego = stego_model.hide(cover, secret)
    assert stego_model.alignment(stego) == (0, 0)
    right = 0
    for top, left in [(1, 2), (3, 3), (2, 0), (5, 7)]:
        right += stego_model.alignment(np.ascontiguousarray(stego[top : top + 96, left : left + 96])) == (top % 4, left % 4)
    assert right >= 3


def test_the_receiver_part_keeps_the_locator(tiny_model_with_locator, tmp_path):
    model, _, _ = tiny_model_with_locator
    save_model(model, tmp_path / "r.safetensors", part="receiver")
    loaded, card = load_model(tmp_path / "r.safetensors")
    for k, v in model.locator.state_dict().items():
        assert torch.equal(loaded.locator.state_dict()[k], v)
    assert card["part"] == "receiver"


def test_a_shift_must_beat_no_shift_by_the_margin(monkeypatch):
    model = exypno.load("default")
    evidence = {(dy, dx): -20.0 for dy in range(4) for dx in range(4)}
    image = np.zeros((256, 256, 3), np.uint8)
    for margin, expected in ((engine.LOCATE_MARGIN - 0.5, (0, 0)), (engine.LOCATE_MARGIN + 0.5, (2, 1))):
        monkeypatch.setattr(model, "shift_evidence", lambda img, m=margin: evidence | {(0, 0): -5.0, (2, 1): -5.0 + m})
        assert model.alignment(image) == expected
    monkeypatch.setattr(model, "shift_evidence", lambda img: evidence | {(0, 0): -1.0})
    assert model.alignment(image) == (0, 0)


def test_a_stego_too_small_to_tell_keeps_its_grid():
    model = exypno.load("default")
    tiny = np.random.default_rng(0).integers(0, 256, (engine.LOCATOR_MIN - 1, 40, 3), dtype=np.uint8)
    assert model.shift_evidence(tiny) == {} and model.alignment(tiny) == (0, 0)


@pytest.mark.parametrize("cover", ["uniform", "gaussian 20", "gaussian 60"])
def test_the_default_keeps_the_grid_of_a_stego_whose_cover_is_noise(cover):
    """A locator trained on photos alone read a wrong shift with confidence in uncropped stegos of noise
    covers, where the encoder writes another residual: the reveal fell from 24 dB to 9 (gaussian 20)."""
    from skimage import data

    from exypno.media.image import square

    rng = np.random.default_rng(1)
    if cover == "uniform":
        img = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    else:
        img = np.clip(128 + rng.normal(0, float(cover.split()[1]), (128, 128, 3)), 0, 255).astype(np.uint8)
    model = exypno.load("default")
    stego = model.hide(img, square(data.coffee(), 128))
    assert model.alignment(stego) == (0, 0)

"""The Python API and the shipped weights: any input type, any size, tiles, a real PNG round trip."""
import numpy as np
import pytest
from PIL import Image

import exypno
from exypno import api
from exypno.inference import tiling
from exypno.evaluate.heldout import heldout_photos
from exypno.media.metrics import psnr_8bit
from exypno.media.image import square

from .conftest import reveal_without_border_decoder, smooth_photo


def test_api_accepts_paths_pil_and_arrays(tmp_path, rng):
    cover = smooth_photo(rng, 48, 40)
    secret = smooth_photo(rng, 48, 40)
    Image.fromarray(cover).save(tmp_path / "c.png")
    a = exypno.hide(cover, secret)
    b = exypno.hide(tmp_path / "c.png", Image.fromarray(secret))
    c = exypno.hide(cover.astype(np.float32) / 255, secret)
    assert a.dtype == np.uint8 and a.shape == cover.shape
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert exypno.reveal(a).shape == secret.shape


@pytest.mark.parametrize("shape", [(37, 53), (16, 23), (67, 16)])  # any size from 16x16 (media.image.MIN_COVER_SIDE)
def test_any_size(rng, shape):
    cover = smooth_photo(rng, *shape)
    stego = exypno.hide(cover, smooth_photo(rng, *shape))
    assert stego.shape == cover.shape
    assert exypno.reveal(stego).shape == cover.shape


def test_tiles_match_the_whole_image(monkeypatch, rng):
    cover, secret = smooth_photo(rng, 200, 260), smooth_photo(rng, 200, 260)
    whole = exypno.hide(cover, secret)
    revealed_whole = exypno.reveal(whole)
    monkeypatch.setattr(tiling, "TILE", 64)
    tiled = exypno.hide(cover, secret)
    # Tiles see MARGIN pixels of context, more than the receptive field: identical up to float rounding.
    assert np.abs(tiled.astype(int) - whole).max() <= 1
    assert np.mean(tiled != whole) < 0.001
    assert np.abs(exypno.reveal(whole).astype(int) - revealed_whole).max() <= 1


def test_shipped_weights_through_png_files(tmp_path):
    """The shipped default on photos it never trained on (scikit-image), through real PNG files."""
    from skimage import data

    cover, secret = square(data.astronaut(), 256), square(data.coffee(), 256)
    model = exypno.load("default")
    model.hide(cover, secret, output=tmp_path / "stego.png")
    model.reveal(tmp_path / "stego.png", output=tmp_path / "revealed.png")
    stego = np.asarray(Image.open(tmp_path / "stego.png"))
    revealed = np.asarray(Image.open(tmp_path / "revealed.png"))
    assert stego.dtype == np.uint8 and stego.shape == (256, 256, 3)
    assert psnr_8bit(cover, stego) >= 35.0  # the shipped default gives 35.91
    assert psnr_8bit(secret, revealed) >= 33.0  # the shipped default gives 34.47


def test_shipped_card_says_how_it_was_made():
    card = exypno.load("default").card
    for key in ("preset", "data", "command", "steps", "wall_time_hours", "figures"):
        assert key in card, key
    assert card["config"]["border"] and "--decoder-only" in card["border_decoder"]["command"]
    assert card["config"]["locator"] and "scripts/add_locator.py" in card["locator"]["command"]


@pytest.mark.parametrize("top,left", [(5, 7), (64, 66), (32, 32)])
def test_a_cropped_stego_finds_its_grid_and_reveals_its_region(top, left):
    from skimage import data

    cover, secret = square(data.astronaut(), 192), square(data.coffee(), 192)
    model = exypno.load("default")
    stego = model.hide(cover, secret)
    crop = stego[top : top + 96, left : left + 96]
    revealed = model.reveal(crop)
    assert model.shift == (top % 4, left % 4)
    region = secret[top : top + 96, left : left + 96]
    clean = model.reveal(stego)[top : top + 96, left : left + 96]
    # Inside, exactly what the uncropped stego reveals; the borders lose the context the crop cut away.
    inner = np.s_[12:-12, 12:-12]
    assert abs(psnr_8bit(region[inner], revealed[inner]) - psnr_8bit(region[inner], clean[inner])) < 0.2
    # The borders reveal worse. Where the crop's edges cut through the grid's blocks, the border decoder reads
    # them, and gains several dB over the decoder alone (benchmarks/crop_border.py measures it). At (32, 32)
    # every edge is on the grid, and the border decoder reads those that the two decoders disagree on.
    assert psnr_8bit(region, revealed) > psnr_8bit(region, clean) - 7
    assert psnr_8bit(region[4:-4, 4:-4], revealed[4:-4, 4:-4]) > psnr_8bit(region[4:-4, 4:-4], clean[4:-4, 4:-4]) - 3
    plain = reveal_without_border_decoder(model, crop)
    if (top % 4, left % 4) != (0, 0):
        assert psnr_8bit(region, revealed) > psnr_8bit(region, plain) + 1.5
    else:
        assert psnr_8bit(region, revealed) >= psnr_8bit(region, plain)
    assert psnr_8bit(region, model.reveal(crop, align=False)) < 15 or (top % 4, left % 4) == (0, 0)


def contrast_searching() -> exypno.api.Stego:
    """The default without its grid locator: ``alignment`` compares the contrast of every shift's reveal, as
    for a model that has no locator."""
    model = api.Stego.load("default")  # not exypno.load's: that one is shared
    model.model.locator = None
    return model


def test_a_shift_is_taken_on_its_contrast_summed_over_the_patches(monkeypatch):
    """The centre patch alone once chose a wrong shift for an uncropped stego (a wallpaper with a flat centre),
    and missed the right shift of many crops of smooth pictures, where it stood out little."""
    model = contrast_searching()
    image = np.zeros((1024, 1024, 3), np.uint8)
    assert len(model.patch_spots(1024, 1024)) == 5

    def contrasts(centre_gain, other_gain, centre_none=1.0):
        seen = []

        def fake(patch):
            seen.append(patch.shape)
            gain = centre_gain if len(seen) == 1 else other_gain
            none = centre_none if len(seen) == 1 else 1.0
            return {(dy, dx): 1.0 for dy in range(4) for dx in range(4)} | {(2, 0): gain, (0, 0): none}
        return fake, seen

    fake, seen = contrasts(1.6, 0.9)  # the centre favours (2, 0), the others do not: 5.2 against 5.0
    monkeypatch.setattr(model, "_contrasts", fake)
    assert model.alignment(image) == (0, 0) and len(seen) == 5
    fake, seen = contrasts(1.1, 1.25)  # (2, 0) stands out on no patch by 1.2, but over all: 6.1 against 5.0
    monkeypatch.setattr(model, "_contrasts", fake)
    assert model.alignment(image) == (2, 0) and len(seen) == 5
    fake, seen = contrasts(1.1, 5.0, centre_none=1.2)  # the centre favours no shift: the search stops there
    monkeypatch.setattr(model, "_contrasts", fake)
    assert model.alignment(image) == (0, 0) and len(seen) == 1


def test_a_shift_must_stand_out_from_every_other_shift(monkeypatch):
    """Wrong shifts of a flat secret's stego all give garbage, with far more contrast than the right reveal."""
    model = contrast_searching()
    garbage = {(dy, dx): 3.0 + 0.1 * (dy + dx) for dy in range(4) for dx in range(4)} | {(0, 0): 0.5}
    monkeypatch.setattr(model, "_contrasts", lambda patch: garbage)
    assert model.alignment(np.zeros((256, 256, 3), np.uint8)) == (0, 0)


@pytest.mark.parametrize("search", ["locator", "contrast"])
@pytest.mark.parametrize("level", [0, 128, 255])
def test_an_uncropped_stego_of_a_flat_secret_keeps_its_grid(level, search):
    """A black video frame as the secret once got shift (0, 3) and revealed at 2.7 dB instead of 42."""
    model = exypno.load("default") if search == "locator" else contrast_searching()
    cover = heldout_photos(256)["coffee"]
    stego = model.hide(cover, np.full_like(cover, level))
    assert model.alignment(stego) == (0, 0)
    assert np.abs(model.reveal(stego).astype(int) - level).mean() < 8


def test_the_patches_are_the_centre_and_the_quadrants_centres(monkeypatch):
    """They once overlapped the centre patch by half on 256x256 stegos, and a wrong shift got through."""
    model = contrast_searching()
    yy, xx = np.mgrid[0:1024, 0:1024] // 4
    image = np.stack([yy, xx, np.zeros_like(yy)], axis=-1).astype(np.uint8)  # each pixel says where it is
    corners = []

    def fake(patch):
        corners.append((4 * int(patch[0, 0, 0]), 4 * int(patch[0, 0, 1])))
        return {(dy, dx): 1.0 for dy in range(4) for dx in range(4)} | {(2, 0): 2.0}

    monkeypatch.setattr(model, "_contrasts", fake)
    model.alignment(image)
    assert corners == [(384, 384), (128, 128), (128, 640), (640, 128), (640, 640)]
    assert model.patch_spots(256, 256) == [(0, 0)]  # one patch fills a small stego

"""The JPEG carrier (payload/jpeg_carrier.py): plans, the luma change, and bits through real JPEG re-saves."""
import numpy as np
import pytest

from exypno.evaluate.heldout import heldout_photos
from exypno.media.metrics import psnr_8bit
from exypno.media.image import resave
from exypno.channel.noise import ijg_table
from exypno.payload.jpeg_carrier import (HEADER_COEF, LAYERS, LUMA_WEIGHTS, JpegCarrier, Plan, block_dct,
                                         block_idct, from_gray, gray, to_ycc, with_luma)

SEED = b"test"


@pytest.fixture(scope="module")
def cover():
    return heldout_photos(128)["chelsea"]


def test_gray_code_round_trips_and_neighbours_differ_in_one_bit():
    v = np.arange(64)
    assert np.array_equal(from_gray(gray(v)), v)
    assert all(bin(int(a ^ b)).count("1") == 1 for a, b in zip(gray(v[:-1]), gray(v[1:])))


def test_block_dct_is_jpegs_orthonormal_transform():
    y = np.random.default_rng(0).uniform(0, 255, (16, 24))
    c = block_dct(y)
    assert c.shape == (6, 64)
    assert np.allclose(c[:, 0], (y.reshape(2, 8, 3, 8).transpose(0, 2, 1, 3).reshape(6, 64).mean(1) - 128) * 8)
    assert np.allclose(block_idct(c, 16, 24), y)


def test_with_luma_gives_the_luma_asked_for_even_where_a_channel_is_saturated():
    rgb = np.array([[[255, 40, 40], [10, 200, 0], [128, 128, 128]]], np.uint8)
    target = to_ycc(rgb)[0] + np.array([[6.0, -5.0, 3.0]])
    out = with_luma(rgb, target)
    assert np.abs(out.astype(float) @ LUMA_WEIGHTS - target).max() < 0.6  # 8-bit rounding only
    # Unsaturated: the change lies along the luma weights (the smallest for that luma), not on all three alike.
    d = out[0, 2].astype(float) - 128
    assert d[1] > d[0] > d[2]


def test_plans_keep_the_header_and_step_on_jpegs_tables():
    small, large = Plan.for_cover_psnr(38.0), Plan.for_cover_psnr(34.0)
    for plan in (small, large):
        assert plan.layer[HEADER_COEF] == LAYERS.index("header") and plan.nbits[HEADER_COEF] == 1
        for i, name in enumerate(LAYERS[:2]):
            on = plan.layer == i
            on[HEADER_COEF] = False
            assert np.array_equal(plan.step[on & (plan.nbits > 0)],
                                  ijg_table({"base": 75, "full": 90}[name]).reshape(-1)[on & (plan.nbits > 0)])
        assert abs(plan.distortion_psnr() - (38.0 if plan is small else 34.0)) < 0.6
    assert large.nbits.sum() > small.nbits.sum()


def _sent_and_read(cover, quality, plan=Plan.for_cover_psnr(35.0)):
    car = JpegCarrier(plan)
    rng = np.random.default_rng(1)
    h, w = cover.shape[:2]
    bits = {layer: rng.integers(0, 2, car.slots(h, w, layer)) for layer in LAYERS}
    stego = car.embed(cover, bits, SEED, rng)
    seen = stego if quality is None else resave(stego, "JPEG", quality)
    llr = car.llr(seen, SEED, quality=quality)
    return stego, {layer: float(np.mean((llr[layer] > 0) == bits[layer].astype(bool))) for layer in LAYERS}


def test_bits_read_back_from_the_stego_and_its_jpeg_re_saves(cover):
    stego, clean = _sent_and_read(cover, None)
    assert psnr_8bit(cover, stego) > 33
    assert min(clean.values()) > 0.99
    _, q90 = _sent_and_read(cover, 90)
    assert min(q90.values()) > 0.97
    _, q75 = _sent_and_read(cover, 75)
    assert q75["base"] > 0.97 and q75["header"] > 0.97
    assert q75["full"] < 0.8  # the full layer is on the quality-90 table: JPEG 75 rounds it away


def test_a_wrong_seed_reads_nothing(cover):
    car = JpegCarrier(Plan.for_cover_psnr(35.0))
    rng = np.random.default_rng(2)
    bits = {layer: rng.integers(0, 2, car.slots(128, 128, layer)) for layer in LAYERS}
    stego = car.embed(cover, bits, SEED, rng)
    llr = car.llr(stego, b"other", layers=("base",))["base"]
    assert abs(np.mean((llr > 0) == bits["base"].astype(bool)) - 0.5) < 0.05


def test_jpeg_fit_tells_the_quality_an_image_was_decoded_at(cover):
    from exypno.payload.jpeg_carrier import jpeg_fit

    qualities = (95, 90, 85, 75, 50)
    assert all((jpeg_fit(cover, q) or 0) < 0.6 for q in qualities)  # a PNG photo: no JPEG grid
    for saved in qualities:
        fits = {q: jpeg_fit(resave(cover, "JPEG", saved), q) or 0 for q in qualities}
        assert max(fits, key=fits.get) == saved and fits[saved] > 0.85

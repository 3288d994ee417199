import numpy as np

from exypno.baselines import lsb_hide, lsb_reveal
from exypno.media.metrics import psnr_8bit


def test_lsb_round_trip_keeps_top_bits(rng):
    cover = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    secret = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for k in range(1, 6):
        stego = lsb_hide(cover, secret, k)
        assert np.array_equal(stego >> k, cover >> k)
        assert np.array_equal(lsb_reveal(stego, k) >> (8 - k), secret >> (8 - k))


def test_lsb_figures_match_the_known_trade(rng):
    # Uniform values: 3 bits give ~38 dB cover / ~28.8 dB secret, 4 bits ~32 / ~34.9.
    cover = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    secret = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    for k, (c, s) in {3: (37.9, 28.8), 4: (31.9, 34.9)}.items():
        stego = lsb_hide(cover, secret, k)
        assert abs(psnr_8bit(cover, stego) - c) < 0.3
        assert abs(psnr_8bit(secret, lsb_reveal(stego, k)) - s) < 0.3

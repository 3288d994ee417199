import os

import numpy as np
import pytest
import torch

from exypno.payload.container import TEST_ONLY_CHEAP_KDF

torch.set_num_threads(2)
# Every seal and unseal in the tests derives its keys with scrypt N = 2^10, not the real 2^17 (0.8 s a call);
# test_kdf_costs_a_full_scrypt_per_guess keeps the real cost.
os.environ[TEST_ONLY_CHEAP_KDF] = "1"


def smooth_photo(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A photo-like uint8 image: smooth colour fields plus a little texture (no network, no files)."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.zeros((h, w, 3))
    for c in range(3):
        for _ in range(4):
            fy, fx, ph = rng.uniform(0.5, 6, 2).tolist() + [rng.uniform(0, 6.3)]
            img[..., c] += np.sin(2 * np.pi * (fy * yy + fx * xx) + ph) * rng.uniform(0.1, 0.3)
    img += rng.normal(0, 0.03, img.shape)
    img = (img - img.min()) / (img.max() - img.min())
    return (img * 255).astype(np.uint8)


def reveal_without_border_decoder(model, stego) -> np.ndarray:
    """What ``model`` (an inference.image.Stego) reveals of ``stego`` with its decoder alone, its border decoder set aside."""
    border = model.model.border_decoder
    try:
        model.model.border_decoder = None
        return model.reveal(stego)
    finally:
        model.model.border_decoder = border


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def photo_dir(tmp_path, rng):
    from PIL import Image

    d = tmp_path / "photos"
    d.mkdir()
    for i in range(16):
        Image.fromarray(smooth_photo(rng, 72 + 8 * (i % 3), 96)).save(d / f"p{i:02d}.png")
    return d


@pytest.fixture(scope="session")
def sealed(tmp_path_factory):
    """A 96x96 photo-like cover with a small file sealed in it by the shipped "png" model (passphrase "password")."""
    from exypno.payload.seal import seal

    cover = smooth_photo(np.random.default_rng(3), 96, 96)
    data = b"hello, sealed world\n" * 20
    stego, info = seal(cover, data, "x.bin", "password", mode="png")
    return {"mode": "png", "cover": cover, "stego": stego, "data": data, "info": info}


@pytest.fixture(scope="session")
def sealed_robust():
    """A 256x256 photo-like cover (the smallest robust mode fills) with a file sealed in robust mode ("password")."""
    from exypno.payload.seal import seal

    cover = smooth_photo(np.random.default_rng(7), 256, 256)
    data = b"robust hello " * 8
    stego, info = seal(cover, data, "r.txt", "password", mode="robust")
    return {"mode": "robust", "cover": cover, "stego": stego, "data": data, "info": info}

"""Image quality figures, always on what a file holds: 8-bit values.

PSNR is over all RGB values together (not the Y channel, not before rounding), so figures compare with
plain k-bit LSB and with each other.
"""
from __future__ import annotations

import numpy as np


def mse_8bit(a, b) -> np.ndarray:
    """Per-image MSE in 8-bit levels^2 of two uint8 batches/arrays shaped (..., H, W, C) or (N, C, H, W)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    axes = tuple(range(1, a.ndim)) if a.ndim == 4 else None
    return np.mean((a - b) ** 2, axis=axes)


def psnr_from_mse(mse) -> np.ndarray:
    mse = np.maximum(np.asarray(mse, dtype=np.float64), 1e-10)
    return 10 * np.log10(255.0**2 / mse)


def psnr_8bit(a, b):
    return psnr_from_mse(mse_8bit(a, b))


def ssim_8bit(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two (H, W, 3) uint8 images (scikit-image, Gaussian window as in Wang et al. 2004)."""
    from skimage.metrics import structural_similarity

    return float(
        structural_similarity(a, b, channel_axis=-1, data_range=255, gaussian_weights=True, sigma=1.5,
                              use_sample_covariance=False)
    )

"""``exypno demo``: hide scikit-image's coffee photo in its astronaut photo with the shipped weights.

Writes cover.png, secret.png, stego.png, revealed.png and comparison.png into one folder (its own files
are overwritten on a rerun) and prints cover and secret PSNR measured on the files. With ``sealed``, then
the same secret through ``exypno seal --fit`` (sealed.png, carrying coffee.avif), with its figures.
"""
from __future__ import annotations

import time
from pathlib import Path

from .errors import ExypnoError
from .evaluate.figures import comparison_figure
from .media.image import read_image, square, write_png
from .media.metrics import psnr_8bit, ssim_8bit


def bundled_photos(size: int):
    from skimage import data

    return square(data.astronaut(), size), square(data.coffee(), size)


def run_demo(out: Path, model="default", size: int = 512, sealed: bool = False) -> dict:
    from .api import Stego

    if out.exists() and not out.is_dir():
        raise ExypnoError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    cover, secret = bundled_photos(size)
    files = {k: out / f"{k}.png" for k in ("cover", "secret", "stego", "revealed")}
    write_png(files["cover"], cover, force=True)
    write_png(files["secret"], secret, force=True)

    stego_model = Stego.load(model)
    t0 = time.perf_counter()
    stego_model.hide(files["cover"], files["secret"], output=files["stego"], force=True)
    t1 = time.perf_counter()
    stego_model.reveal(files["stego"], output=files["revealed"], force=True)
    t2 = time.perf_counter()

    stego, revealed = read_image(files["stego"]), read_image(files["revealed"])
    figures = {
        "cover_psnr": float(psnr_8bit(cover, stego)), "secret_psnr": float(psnr_8bit(secret, revealed)),
        "cover_ssim": ssim_8bit(cover, stego), "secret_ssim": ssim_8bit(secret, revealed),
    }  # fmt: skip
    comparison_figure(
        [dict(cover=cover, stego=stego, secret=secret, revealed=revealed)], out / "comparison.png",
        title=f"model {model}: cover {figures['cover_psnr']:.2f} dB, secret {figures['secret_psnr']:.2f} dB",
    )
    print(f"cover  (astronaut, {size}x{size}) -> {files['stego']}   hide {t1 - t0:.2f} s")
    print(f"secret (coffee,    {size}x{size}) -> {files['revealed']}   reveal {t2 - t1:.2f} s")
    print(f"cover PSNR  {figures['cover_psnr']:.2f} dB   SSIM {figures['cover_ssim']:.4f}   (stego vs cover)")
    print(f"secret PSNR {figures['secret_psnr']:.2f} dB   SSIM {figures['secret_ssim']:.4f}   (revealed vs secret)")
    print(f"figure: {out / 'comparison.png'}")
    if sealed:
        figures.update(_sealed_demo(out, cover, secret))
    return figures


def _sealed_demo(out: Path, cover, secret) -> dict:
    """The same secret through ``exypno seal --fit``: re-encoded as AVIF to fit, encrypted, error-corrected,
    carried by the bit-hiding model; the receiver gets that file back exactly (payload/picture.py)."""
    from .payload.seal import seal_picture, unseal

    passphrase = "exypno demo"
    t0 = time.perf_counter()
    _, info = seal_picture(cover, secret, "coffee.png", passphrase, output=out / "sealed.png", force=True)
    t1 = time.perf_counter()
    _, data = unseal(out / "sealed.png", passphrase)
    t2 = time.perf_counter()
    (out / "coffee.avif").write_bytes(data)
    revealed = read_image(data)
    pic = info["picture"]
    shown = revealed if revealed.shape == secret.shape else None
    figures = {"sealed_cover_psnr": float(psnr_8bit(cover, read_image(out / "sealed.png"))),
               "sealed_secret_psnr": float(psnr_8bit(secret, shown)) if shown is not None else pic.psnr}
    print(f"sealed instead ('exypno seal --fit', passphrase {passphrase!r}): {out / 'sealed.png'} carries "
          f"{out / 'coffee.avif'} ({pic.describe()})   "
          f"seal {t1 - t0:.1f} s, unseal {t2 - t1:.1f} s")
    print(f"  cover PSNR  {figures['sealed_cover_psnr']:.2f} dB   secret PSNR {figures['sealed_secret_psnr']:.2f} dB"
          f"   (exact file back, or nothing; the stego must stay a PNG)")
    return figures

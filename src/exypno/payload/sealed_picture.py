"""``exypno seal --fit`` as a hider with the interface of every hider (``hide``, ``reveal``).

``hide`` seals the secret picture re-encoded as AVIF, as large and good as the cover carries back
(``seal.seal_picture``, ``picture.py``), under the passphrase given at construction; ``reveal`` unseals that
file and decodes it. The picture revealed is the one that was fitted: smaller than the secret when the cover
had no room for it at its own size.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..media.image import check_output, read_image, write_png


@dataclass
class SealedPicture:
    passphrase: str
    mode: str = "png"
    model: str | Path | None = None  # the bit-hiding model (default: the mode's shipped one)
    device: str = "auto"  # where it runs: auto, cpu or cuda
    notes: list[str] = field(default_factory=list)  # what was done to the secret, for the CLI
    figures: dict = field(default_factory=dict)  # what the last hide measured: seconds, fit, the AVIF file

    def hide(self, cover, secret, output=None, force: bool = False) -> np.ndarray:
        from .seal import seal_picture

        t0 = time.perf_counter()
        stego, info = seal_picture(cover, secret, "secret.png", self.passphrase, output=output, mode=self.mode,
                                   force=force, model=self.model, device=self.device)
        pic = info["picture"]
        self.notes = [f"secret sealed as {info['name']}: {pic.describe()}"]
        self.figures = {"seal_seconds": round(time.perf_counter() - t0, 2), "fit_attempts": info["attempts"],
                        "avif_bytes": len(pic.data), "avif_quality": pic.quality}
        return stego

    def reveal(self, stego, output=None, force: bool = False, align: bool = True) -> np.ndarray:
        from .seal import unseal

        if output is not None:
            check_output(output, force)
        _, data = unseal(stego, self.passphrase, model=self.model, device=self.device)
        picture = read_image(data)
        if output is not None:
            write_png(output, picture, force)
        return picture

    @staticmethod
    def summarize(figures: list[dict]) -> dict:
        """Over the pairs of an evaluation: the median time to seal, and how often the largest file did not
        come back (sealed at the next rung's size)."""
        return {"seal_seconds_median": float(np.median([f["seal_seconds"] for f in figures])),
                "fit_retries": sum(f["fit_attempts"] > 1 for f in figures)}

"""Figures: cover | stego | 10x difference | secret | revealed | 10x difference, one row per pair."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def amplified_difference(a: np.ndarray, b: np.ndarray, gain: float = 10.0) -> np.ndarray:
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)) * gain
    return np.clip(diff, 0, 255).astype(np.uint8)


def comparison_figure(rows: list[dict], path: Path, title: str | None = None) -> Path:
    """rows: dicts with cover, stego, secret, revealed (uint8 arrays) and optional label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = ("cover", "stego", "|stego-cover| x10", "secret", "revealed", "|revealed-secret| x10")
    fig, axes = plt.subplots(len(rows), 6, figsize=(15, 2.7 * len(rows) + 0.4), squeeze=False)
    for r, row in enumerate(rows):
        images = (
            row["cover"], row["stego"], amplified_difference(row["stego"], row["cover"]),
            row["secret"], row["revealed"], amplified_difference(row["revealed"], row["secret"]),
        )  # fmt: skip
        for c, (ax, im) in enumerate(zip(axes[r], images)):
            ax.imshow(im)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(cols[c], fontsize=10)
        if row.get("label"):
            axes[r][0].set_ylabel(row["label"], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path

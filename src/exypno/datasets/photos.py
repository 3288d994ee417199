"""Lay out the training photos of DESIGN §4 in one folder.

``scripts/install-media`` installs the Debian packages, then runs ``python -m exypno.datasets.photos DEST``.
Sources:

- endless-sky-data: landscape and city photos, 720x360 JPEG;
- gcompris-qt-data: photos inside Qt .rcc bundles (monuments, animals, music, the "erase" backgrounds,
  categorisation pictures); only opaque RGB pictures at least 160 pixels on a side, which leaves out
  drawings with transparency;
- opencv-doc: the natural photos among OpenCV's sample data (not the charts, logos and calibration boards).
"""
from __future__ import annotations

import argparse
import io
import shutil
import sys
from pathlib import Path

from PIL import Image

from .rcc import iter_rcc

ENDLESS_SKY = Path("/usr/share/games/endless-sky/images/land")
GCOMPRIS = Path("/usr/share/gcompris-qt/rcc")
GCOMPRIS_BUNDLES = (
    "categorization",
    "erase",
    "explore_farm_animals",
    "explore_monuments",
    "explore_world_animals",
    "explore_world_music",
)
OPENCV = Path("/usr/share/doc/opencv-doc/examples/data")
OPENCV_PHOTOS = (
    "aero1.jpg", "aero3.jpg", "apple.jpg", "baboon.jpg", "basketball1.png", "board.jpg", "building.jpg",
    "butterfly.jpg", "fruits.jpg", "home.jpg", "lena.jpg", "leuvenA.jpg", "leuvenB.jpg", "messi5.jpg",
    "orange.jpg", "smarties.png", "squirrel_cls.jpg", "stuff.jpg",
)  # fmt: skip
MIN_SIDE = 160


def _keep(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as im:
        return im.mode == "RGB" and min(im.size) >= MIN_SIDE


def collect(dest: Path) -> dict[str, int]:
    dest.mkdir(parents=True, exist_ok=True)
    counts = {"endless-sky": 0, "gcompris": 0, "opencv": 0}
    for f in sorted(ENDLESS_SKY.glob("*.jpg")):
        shutil.copyfile(f, dest / f"endless-sky__{f.name}")
        counts["endless-sky"] += 1
    for bundle in GCOMPRIS_BUNDLES:
        rcc = GCOMPRIS / f"{bundle}.rcc"
        if not rcc.exists():
            continue
        for path, data in iter_rcc(rcc.read_bytes()):
            if Path(path).suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") and _keep(data):
                name = "gcompris__" + bundle + "__" + path.strip("/").replace("/", "__")
                (dest / name).write_bytes(data)
                counts["gcompris"] += 1
    for name in OPENCV_PHOTOS:
        f = OPENCV / name
        if f.exists():
            shutil.copyfile(f, dest / f"opencv__{name}")
            counts["opencv"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Copy the training photos of the Debian packages into DEST.")
    parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    counts = collect(args.dest)
    if not any(counts.values()):
        print("no photos found: run scripts/install-media first", file=sys.stderr)
        return 2
    print(", ".join(f"{k}: {v}" for k, v in counts.items()), f"-> {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

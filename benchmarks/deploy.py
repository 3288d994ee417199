"""Torch float, ONNX float and ONNX int8 side by side at 512x512: hide and reveal times (median of 9, through
``Stego`` with files in memory), peak memory of each path in its own process, file sizes, and held-out cover
and secret PSNR after the 8-bit round trip (the seven held-out photos, photo i hiding photo i + 1).

    python benchmarks/deploy.py --photos data/photos --threads 2   # -> benchmarks/results/deploy.json
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(kind: str, folder: Path, size: int, repeats: int, threads: int) -> dict:
    import resource

    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from exypno.api import Stego
    from exypno.evaluate.heldout import heldout_photos
    from exypno.media.metrics import psnr_8bit as psnr

    sender = Stego.load({"torch": "default", "onnx-float": folder / "full.onnx", "onnx-int8": folder / "full8.onnx"}[kind], "cpu")
    photos = list(heldout_photos(size).values())
    cover, secret = photos[0], photos[1]
    times = {"hide": [], "reveal": []}
    for _ in range(repeats + 1):  # the first run warms up, and is not counted
        t = time.perf_counter()
        stego = sender.hide(cover, secret)
        times["hide"].append(time.perf_counter() - t)
        t = time.perf_counter()
        sender.reveal(stego)
        times["reveal"].append(time.perf_counter() - t)
    covers, secrets = [], []
    for i in range(len(photos)):
        stego = sender.hide(photos[i], photos[(i + 1) % len(photos)])
        covers.append(float(psnr(photos[i], stego)))
        secrets.append(float(psnr(photos[(i + 1) % len(photos)], sender.reveal(stego))))
    return {"hide_s": statistics.median(times["hide"][1:]), "reveal_s": statistics.median(times["reveal"][1:]),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "heldout_cover_psnr": float(np.mean(covers)), "heldout_secret_psnr": float(np.mean(secrets))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", default="data/photos", help="training photos to calibrate int8 on")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/deploy.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:  # a child: one path, so that its peak memory is its own
        print(json.dumps(run_one(args.one, Path(args.folder), args.size, args.repeats, args.threads)))
        return
    exy = [sys.executable, "-m", "exypno", "export"]
    with tempfile.TemporaryDirectory(prefix="exypno-deploy-") as tmp:
        folder = Path(tmp)
        subprocess.run(exy + ["--part", "full", "-o", str(folder / "full.onnx")], check=True)
        subprocess.run(exy + ["--part", "full", "--quantize", "int8", "--calibrate", args.photos,
                              "-o", str(folder / "full8.onnx")], check=True)
        from exypno.registry import model_path

        sizes = {"torch": model_path("default").stat().st_size, "onnx-float": (folder / "full.onnx").stat().st_size,
                 "onnx-int8": (folder / "full8.onnx").stat().st_size}
        rows = {}
        for kind in sizes:
            out = subprocess.run([sys.executable, __file__, "--one", kind, "--folder", tmp, "--size", str(args.size),
                                  "--repeats", str(args.repeats), "--threads", str(args.threads)],
                                 check=True, capture_output=True, text=True).stdout
            rows[kind] = {**json.loads(out.strip().splitlines()[-1]), "file_bytes": sizes[kind]}
    import onnxruntime
    import torch

    result = {"command": "python benchmarks/deploy.py " + " ".join(sys.argv[1:]), "size": args.size,
              "repeats": args.repeats, "threads": args.threads, "model": "default (full: sender + receiver)",
              "hardware": f"{platform.machine()} CPU, {args.threads} threads, shared with other jobs",
              "torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "rows": rows}
    print(f"{'path':<11} {'hide s':>7} {'reveal s':>9} {'peak MB':>8} {'file MB':>8} {'cover dB':>9} {'secret dB':>10}")
    for kind, r in rows.items():
        print(f"{kind:<11} {r['hide_s']:>7.3f} {r['reveal_s']:>9.3f} {r['peak_rss_mb']:>8.0f} {r['file_bytes'] / 1e6:>8.2f} "
              f"{r['heldout_cover_psnr']:>9.2f} {r['heldout_secret_psnr']:>10.2f}")
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Training throughput with 1 and 2 DDP processes (gloo) on this machine: does a second process help?

    .venv/bin/python benchmarks/ddp_speed.py [--data data/photos] [--steps 60] [--batch 12] [--crop 64]

Runs the real ``exypno train`` under ``torch.distributed.run`` with the same per-process batch:
1 process with 2 threads, then 2 processes with 1 thread each (the machine has 2 cores). Throughput is the
run's own count of samples over its training seconds (photo loading excluded). Prints a table and writes
benchmarks/results/ddp_speed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(nproc: int, threads: int, args, tmp: Path) -> dict:
    out = tmp / f"n{nproc}"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "exypno.cli", "train", "--data", str(args.data), "--out", str(out), "--steps", str(args.steps),
           "--val-every", str(args.steps), "--crop", str(args.crop), "--batch", str(args.batch),
           "--threads", str(threads), "--quiet"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    last = json.loads((out / "log.jsonl").read_text().splitlines()[-1])
    return {"processes": nproc, "threads_each": threads, "samples": last["samples"], "seconds": last["seconds"],
            "samples_per_s": last["samples"] / last["seconds"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "photos")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ddp_speed.json")
    args = ap.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"{args.data}: no photos; run scripts/install-media first")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(1, 2, args, Path(tmp)), run(2, 1, args, Path(tmp))]
    print(f"exypno train, haar preset, crop {args.crop}, batch {args.batch} per process, {args.steps} steps, "
          f"{os.cpu_count()} CPUs")
    print(f"{'processes':>10}{'threads each':>14}{'samples':>9}{'seconds':>9}{'samples/s':>11}")
    for r in rows:
        print(f"{r['processes']:>10}{r['threads_each']:>14}{r['samples']:>9}{r['seconds']:>9.1f}{r['samples_per_s']:>11.2f}")
    print(f"speed-up of 2 processes: {rows[1]['samples_per_s'] / rows[0]['samples_per_s']:.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"config": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=2)
                        + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

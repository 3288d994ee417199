"""The long fuzzing run: each target of tests/fuzz_targets.py (sealed container, media readers, attack specs)
under atheris for a share of the time, growing the corpus kept in tests/corpus/TARGET. Prints a table of
inputs run and crashes found, and writes benchmarks/results/fuzz.json. A crash (an exception other than
ExypnoError, or a hard fault) is saved as benchmarks/results/fuzz-crashes/TARGET-crash-*.

    python benchmarks/fuzz.py --minutes 60            # split evenly over the targets
    python benchmarks/fuzz.py --minutes 20 --target container

A target that crashes is restarted (libFuzzer stops at the first crash), so one run can find several.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests import fuzz_targets  # noqa: E402


def fuzz(target: str, seconds: float, crashes: Path) -> dict:
    corpus = fuzz_targets.write_seeds(target)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    runs, found, restarts, end = 0, [], 0, time.time() + seconds
    while time.time() < end - 5:
        left = int(end - time.time())
        proc = subprocess.run([sys.executable, "-m", "tests.fuzz_targets", target, f"-max_total_time={left}",
                               f"-artifact_prefix={crashes}/{target}-", "-print_final_stats=1", str(corpus)],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        log = proc.stdout + proc.stderr
        done = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log) or re.findall(r"#(\d+)\s", log)
        runs += int(done[-1]) if done else 0
        if proc.returncode == 0:
            break
        restarts += 1
        tail = log[log.find("Uncaught Python exception"):][:600] if "Uncaught" in log else log[-600:]
        found.append(tail)
    return {"target": target, "seconds": round(seconds), "inputs": runs, "crashes": len(found),
            "crash_logs": found, "corpus_files": len(list(corpus.iterdir()))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0, help="total time, split evenly over the targets")
    p.add_argument("--target", action="append", choices=list(fuzz_targets.TARGETS),
                   help="only these targets (repeatable; default all)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fuzz.json"))
    args = p.parse_args()
    targets = args.target or list(fuzz_targets.TARGETS)
    crashes = ROOT / "benchmarks" / "results" / "fuzz-crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    fuzz_targets.LAYOUT = fuzz_targets.container_layout()
    results = []
    for t in targets:  # the record is written after each target, so a run cut short keeps what it did
        results.append(fuzz(t, args.minutes * 60 / len(targets), crashes))
        write_record(args.out, results)
    print(f"{'target':<12}{'seconds':>9}{'inputs':>12}{'crashes':>9}{'corpus':>8}")
    for r in results:
        print(f"{r['target']:<12}{r['seconds']:>9}{r['inputs']:>12,}{r['crashes']:>9}{r['corpus_files']:>8}")
    total = write_record(args.out, results)
    print(f"{'total':<12}{'':>9}{total['inputs']:>12,}{total['crashes']:>9}")
    print(f"wrote {args.out}")


def write_record(out: str, results: list[dict]) -> dict:
    from importlib.metadata import version

    total = {"inputs": sum(r["inputs"] for r in results), "crashes": sum(r["crashes"] for r in results)}
    record = {"command": "python benchmarks/fuzz.py " + " ".join(sys.argv[1:]), "total": total, "targets": results,
              "atheris": version("atheris"), "python": platform.python_version(), "cpu": platform.processor() or
              platform.machine(), "cores": os.cpu_count()}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(record, indent=2) + "\n")
    return total


if __name__ == "__main__":
    main()

"""Load on `exypno serve` over loopback: many clients hiding and revealing at once, then a soak at a few.

    .venv/bin/python benchmarks/serve_load.py [--clients 50] [--rounds 3] [--soak-clients 8] [--soak-seconds 600]

Starts `exypno serve` on 127.0.0.1 in a subprocess (its job pool at its default: one job per core), then:
- burst: ``--clients`` clients at once, each doing ``--rounds`` rounds of POST /v1/hide then POST /v1/reveal on
  256x256 held-out photos (evaluate/heldout.py). Requests/s, p50/p95/p99 latency per request, errors (any answer
  but 200), and the server's peak RSS (VmHWM), which the job pool should keep bounded whatever the clients.
- quality: every client's first stego and reveal are compared, by PSNR, with what ``exypno.hide``/``reveal`` give
  in this process (the CLI's own path): the API must give the same figures.
- soak: ``--soak-clients`` clients in a loop for ``--soak-seconds``; the server's RSS at the start and the end.
Writes benchmarks/results/serve_load.json and prints a table. Every loop is bounded; the server is stopped at
the end.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

import exypno
from exypno.evaluate.heldout import heldout_photos
from exypno.media.metrics import psnr_8bit


def png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "exypno", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    return {f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)}


class Load:
    def __init__(self, url: str, pairs: list[tuple[str, bytes, str, bytes]]):
        self.url, self.pairs = url, pairs
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.firsts: dict[int, tuple[str, str, bytes, bytes]] = {}  # client -> (cover, secret, stego, revealed)

    async def post(self, http: httpx.AsyncClient, path: str, files: dict) -> bytes | None:
        t0 = time.perf_counter()
        try:
            r = await http.post(self.url + path, files=files)
        except httpx.HTTPError as e:
            self.errors.append(f"{path}: {type(e).__name__}")
            return None
        self.latencies.append(time.perf_counter() - t0)
        if r.status_code != 200:
            self.errors.append(f"{path}: {r.status_code} {r.text[:100]}")
            return None
        return r.content

    async def client(self, i: int, http: httpx.AsyncClient, rounds: int | None, until: float | None) -> int:
        done = 0
        while (rounds is None or done < rounds) and (until is None or time.monotonic() < until):
            cname, cover, sname, secret = self.pairs[(i + done) % len(self.pairs)]
            stego = await self.post(http, "/v1/hide", {"cover": (f"{cname}.png", cover), "secret": (f"{sname}.png", secret)})
            revealed = stego and await self.post(http, "/v1/reveal", {"stego": ("stego.png", stego)})
            if revealed and i not in self.firsts:
                self.firsts[i] = (cname, sname, stego, revealed)
            done += 1
        return done

    async def run(self, clients: int, rounds: int | None = None, seconds: float | None = None) -> int:
        until = time.monotonic() + seconds if seconds else None
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(timeout=httpx.Timeout(900), limits=limits) as http:
            done = await asyncio.gather(*(self.client(i, http, rounds, until) for i in range(clients)))
        return sum(done)


async def sample_rss(pid: int, samples: list[tuple[float, float]], stop: asyncio.Event, every: float = 1.0) -> None:
    t0 = time.monotonic()
    while not stop.is_set():
        samples.append((time.monotonic() - t0, rss_mb(pid)))
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass


async def measured(load: Load, pid: int, **kw) -> tuple[int, float, list[tuple[float, float]]]:
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, samples, stop))
    t0 = time.perf_counter()
    rounds = await load.run(**kw)
    wall = time.perf_counter() - t0
    stop.set()
    await sampler
    return rounds, wall, samples


def quality(load: Load, photos: dict[str, np.ndarray]) -> dict:
    """PSNR of the API's stegos and reveals against what exypno.hide / reveal give in this process, on one thread as
    the server's jobs run (other thread counts sum in another order, and may round a few pixels the other way)."""
    import torch

    torch.set_num_threads(1)
    api_cover, api_secret, direct_cover, direct_secret, identical, most = [], [], [], [], 0, 0
    for cname, sname, stego_bytes, revealed_bytes in load.firsts.values():
        cover, secret = photos[cname], photos[sname]
        stego = np.asarray(Image.open(io.BytesIO(stego_bytes)).convert("RGB"))
        revealed = np.asarray(Image.open(io.BytesIO(revealed_bytes)).convert("RGB"))
        d_stego = exypno.hide(cover, secret)
        d_revealed = exypno.reveal(d_stego)
        api_cover.append(psnr_8bit(cover, stego))
        api_secret.append(psnr_8bit(secret, revealed))
        direct_cover.append(psnr_8bit(cover, d_stego))
        direct_secret.append(psnr_8bit(secret, d_revealed))
        identical += int(np.array_equal(stego, d_stego) and np.array_equal(revealed, d_revealed))
        most = max(most, int(np.abs(stego.astype(int) - d_stego).max()), int(np.abs(revealed.astype(int) - d_revealed).max()))
    return {"pairs": len(api_cover), "identical": identical, "max_pixel_difference": most,
            "api_cover_psnr": float(np.mean(api_cover)), "api_secret_psnr": float(np.mean(api_secret)),
            "direct_cover_psnr": float(np.mean(direct_cover)), "direct_secret_psnr": float(np.mean(direct_secret))}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3, help="hide + reveal rounds per client in the burst")
    ap.add_argument("--soak-clients", type=int, default=8)
    ap.add_argument("--soak-seconds", type=float, default=600)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "serve_load.json")
    args = ap.parse_args()
    photos = heldout_photos(256)
    names = sorted(photos)
    encoded = {n: png(photos[n]) for n in names}
    pairs = [(c, encoded[c], s, encoded[s]) for c in names for s in names if c != s]
    port = free_port()
    server = start_server(port)
    try:
        url = f"http://127.0.0.1:{port}"
        idle = rss_mb(server.pid)
        burst = Load(url, pairs)
        rounds, wall, samples = asyncio.run(measured(burst, server.pid, clients=args.clients, rounds=args.rounds))
        peak = rss_mb(server.pid, "VmHWM")
        result = {
            "command": " ".join(["benchmarks/serve_load.py", *sys.argv[1:]]),
            "cpu": f"{os.cpu_count()} cores, shared with other work while measured",
            "server": "exypno serve --port PORT (one process, job pool at its default: one job per core)",
            "photos": "256x256 held-out photos (evaluate/heldout.py), every ordered pair",
            "idle_rss_mb": idle,
            "burst": {"clients": args.clients, "rounds": rounds, "requests": len(burst.latencies) + len(burst.errors),
                      "seconds": wall, "requests_per_s": len(burst.latencies) / wall, **percentiles(burst.latencies),
                      "errors": len(burst.errors), "error_examples": burst.errors[:5],
                      "peak_rss_mb": peak, "rss_mb_during": max(r for _, r in samples)},
            "quality": quality(burst, photos),
        }
        if args.soak_seconds > 0:
            soak = Load(url, pairs)
            rounds, wall, samples = asyncio.run(measured(soak, server.pid, clients=args.soak_clients,
                                                         seconds=args.soak_seconds))
            tenth = max(1, len(samples) // 10)
            result["soak"] = {"clients": args.soak_clients, "seconds": wall, "rounds": rounds,
                              "requests_per_s": len(soak.latencies) / wall, **percentiles(soak.latencies),
                              "errors": len(soak.errors), "error_examples": soak.errors[:5],
                              "rss_mb_start": float(np.mean([r for _, r in samples[:tenth]])),
                              "rss_mb_end": float(np.mean([r for _, r in samples[-tenth:]])),
                              "peak_rss_mb": rss_mb(server.pid, "VmHWM")}
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    b, q = result["burst"], result["quality"]
    print(f"{'run':<8} {'clients':>7} {'requests':>8} {'req/s':>6} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7} {'errors':>6} "
          f"{'RSS MB':>16}")
    rss = f"idle {idle:.0f}, peak {peak:.0f}"
    print(f"{'burst':<8} {b['clients']:>7} {b['requests']:>8} {b['requests_per_s']:>6.2f} {b['p50']:>7.2f} "
          f"{b['p95']:>7.2f} {b['p99']:>7.2f} {b['errors']:>6} {rss:>16}")
    if "soak" in result:
        s = result["soak"]
        rss = f"{s['rss_mb_start']:.0f} -> {s['rss_mb_end']:.0f}"
        print(f"{'soak':<8} {s['clients']:>7} {len(soak.latencies) + s['errors']:>8} {s['requests_per_s']:>6.2f} "
              f"{s['p50']:>7.2f} {s['p95']:>7.2f} {s['p99']:>7.2f} {s['errors']:>6} {rss:>16}")
    print(f"quality over {q['pairs']} pairs: API cover {q['api_cover_psnr']:.2f} / secret {q['api_secret_psnr']:.2f} dB; "
          f"exypno.hide/reveal {q['direct_cover_psnr']:.2f} / {q['direct_secret_psnr']:.2f} dB; "
          f"{q['identical']} of {q['pairs']} bit-identical (largest difference {q['max_pixel_difference']} levels)")
    print(f"wrote {args.out}")
    return 0 if not b["errors"] and not result.get("soak", {}).get("errors") else 1


if __name__ == "__main__":
    sys.exit(main())

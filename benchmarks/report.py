"""README's results table, generated from the benchmarks' JSON so that it cannot drift from them.

    .venv/bin/python benchmarks/report.py            # print the Markdown table
    .venv/bin/python benchmarks/report.py --write    # replace the block between the markers in README.md

Each row says what was measured, the figure, and the command that wrote the JSON it comes from. A row
whose JSON is absent (a benchmark not run in this checkout) is left out. To add a row: write a function
that takes the parsed JSON and yields (what, figure, command), and register it with ``@source("NAME.json")``.
The order of the table is the order of the functions in this file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
START = "<!-- results:start -->"
END = "<!-- results:end -->"

Row = tuple[str, str, str]
SOURCES: list[tuple[str, Callable[[object], Iterator[Row]]]] = []


def source(name: str):
    """Register a function that turns benchmarks/results/NAME into table rows."""

    def register(fn):
        SOURCES.append((name, fn))
        return fn

    return register


def db(x: float) -> str:
    return f"{x:.2f}"


def seconds(x: float) -> str:
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def py(script: str, *args: str) -> str:
    return " ".join(["python", f"benchmarks/{script}", *args])


# ---- images ---------------------------------------------------------------------------------------------


@source("image_quality.json")
def image_quality(d) -> Iterator[Row]:
    rows = {(r["set"], r["method"]): r for r in d["rows"]}
    cmd = py("image_quality.py")
    for (subset, method), what in [
        (("held-out (skimage+sklearn)", "default"), "photo in photo, 7 held-out photos, every ordered pair"),
        (("held-out (KDE wallpapers)", "default"), "photo in photo, 30 held-out wallpapers"),
        (("held-out (skimage+sklearn)", "sealed-avif"), "photo sealed as AVIF (`seal --fit`), the 7 photos"),
        (("held-out (skimage+sklearn)", "lsb-3"), "3-bit LSB on the same pairs, for scale"),
    ]:
        r = rows.get((subset, method))
        if r:
            yield (f"{what}, {d['size']}x{d['size']}",
                   f"cover {db(r['cover_psnr_mean'])} / secret {db(r['secret_psnr_mean'])} dB PSNR", f"`{cmd}`")


@source("api_speed.json")
def api_speed(d) -> Iterator[Row]:
    yield (f"{d['model']} model, hide + reveal of a {d['size']}x{d['size']} pair (model loaded, {d['threads']} CPU threads)",
           f"{seconds(d['total_median_s'])} (hide {seconds(d['hide_median_s'])}, reveal {seconds(d['reveal_median_s'])})",
           f"`{py('api_speed.py')}`")


@source("large_image.json")
def large_image(d) -> Iterator[Row]:
    yield (f"a {d['megapixels']:.0f}-megapixel photo in another",
           f"hide {seconds(d['hide_s'])}, reveal {seconds(d['reveal_s'])}, peak memory {d['peak_rss_mb'] / 1024:.2f} GB",
           f"`{py('large_image.py')}`")


@source("attacks.json")
def attacks(d) -> Iterator[Row]:
    run = next(r for r in d if r["model"] == "default")
    a = run["attacks"]
    cmd = f"`{py('attacks.py')}`"
    yield ("default model: secret after Gaussian noise of std 2 levels / a crop to 50%",
           f"{db(a['gaussian:2']['secret_psnr'])} / {db(a['crop:0.5']['secret_psnr'])} dB "
           f"(clean {db(a['none']['secret_psnr'])})", cmd)
    yield ("default model: secret after a re-save as JPEG 90 (lost)", f"{db(a['jpeg:90']['secret_psnr'])} dB", cmd)


@source("attacks-robust.json")
def attacks_robust(d) -> Iterator[Row]:
    run = next(r for r in d if r["model"] == "robust")
    a = run["attacks"]
    yield ("`robust` model: secret after a re-save as JPEG 90 / 75",
           f"{db(a['jpeg:90']['secret_psnr'])} / {db(a['jpeg:75']['secret_psnr'])} dB at cover {db(run['cover_psnr'])} dB",
           f"`{py('attacks.py', '--model robust', '--out benchmarks/results/attacks-robust.json')}`")


@source("api_speed-robust-512.json")
def api_speed_robust(d) -> Iterator[Row]:
    yield (f"`robust` model, {d['size']}x{d['size']}",
           f"hide {seconds(d['hide_median_s'])}, reveal {seconds(d['reveal_median_s'])}",
           f"`{py('api_speed.py', '--model robust', '--size 512', '--repeat 2', '--out benchmarks/results/api_speed-robust-512.json')}`")


# ---- sealed files ---------------------------------------------------------------------------------------


@source("seal_capacity.json")
def seal_capacity(d) -> Iterator[Row]:
    covers = max(r["summary"]["covers"] for r in d["results"].values())
    cmd = f"`{py('seal_capacity.py', f'--limit {covers}')}`"
    for mode, result in d["results"].items():
        s, rows = result["summary"], result.get("rows", [])
        kept = [q for q in (95, 90, 85, 75) if s.get(f"jpeg{q}_success") == 1.0]
        survives = f", survives JPEG {' and '.join(map(str, kept))}" if kept else ""
        if "seal_unseal_s_median" in s:
            took = (f"seal + unseal {seconds(s['seal_unseal_s_median'])} median (slowest {seconds(s['seal_unseal_s_max'])}; "
                    f"{s['small_bytes']} bytes: {seconds(s['small_seal_s_median'] + s['small_unseal_s_median'])})")
        else:
            took = f"seal {seconds(statistics.median(r['seal_s'] for r in rows) if rows else s['seal_s_mean'])} median"
        yield (f"`seal` ({mode} mode): any file, exact, in a {d['size']}x{d['size']} cover",
               f"{s['net_bytes']:,} bytes ({s['net_bpp']:.3f} net bits/pixel), {s['success'] * s['covers']:.0f}/{s['covers']} exact, "
               f"cover {db(s['cover_psnr_mean'])} dB, {took}{survives}", cmd)


# ---- sound and video ------------------------------------------------------------------------------------


@source("audio_quality.json")
def audio_quality(d) -> Iterator[Row]:
    cmd = f"`{py('audio_quality.py')}`"
    if "image-in-audio" in d:
        g = d["image-in-audio"]["groups"]["all"]
        yield (f"photo in sound, {g['pairs']} held-out pairs",
               f"cover {db(g['cover_snr']['mean'])} dB SNR / secret {db(g['secret_psnr']['mean'])} dB PSNR", cmd)
    if "audio-in-image" in d:
        g = d["audio-in-image"]["groups"]["all"]
        yield (f"sound in photo, {g['pairs']} held-out pairs",
               f"cover {db(g['cover_psnr']['mean'])} dB PSNR / secret {db(g['secret_snr']['mean'])} dB SNR", cmd)
    if "audio-in-audio" in d:
        g = d["audio-in-audio"]["groups"]["all"]
        yield (f"sound in sound, {g['pairs']} held-out pairs",
               f"cover {db(g['cover_snr']['mean'])} / secret {db(g['secret_snr']['mean'])} dB SNR", cmd)


@source("audio_cuts.json")
def audio_cuts(d) -> Iterator[Row]:
    for pairing, unit in (("audio-in-audio", "SNR"), ("image-in-audio", "PSNR")):
        if pairing in d:
            c = d[pairing]["attacks"]["cut:0.5"]
            yield (f"{pairing.replace('-', ' ')}: a stego cut to half its length, against the whole stego's reveal",
                   f"{db(c['clean'] - c['secret'])} dB {unit} lost", f"`{py('audio_cuts.py')}`")


@source("video.json")
def video(d) -> Iterator[Row]:
    v, t = d["video_in_video"], d["throughput"]["short"]
    yield (f"video in video, {t['frames']} frames at {d['size']} (lossless FFV1)",
           f"cover {db(v['cover_psnr_mean'])} / secret {db(v['secret_psnr_mean'])} dB PSNR, "
           f"{t['fps']:.2f} frames/s, peak memory {t['peak_rss_mb']:.0f} MB", f"`{py('video.py', '--frames 20')}`")


# ---- security -------------------------------------------------------------------------------------------


@source("security.json")
def security(d) -> Iterator[Row]:
    s = next(r for r in d["structural"]["all@512"] if r["stego"] == "exypno")
    learned = [r["auc"] for r in d["learned"] if r["stego"] == "exypno" and r["tested_on"] == "held-out"]
    cmd = f"`{py('security.py', '--steps 300', '--crop 64')}`"
    yield ("default model against StegExpose-style structural detectors, 512x512 photos",
           f"AUC {s['auc']:.2f}, {s['detected']:.0%} flagged at 0.2", cmd)
    if learned:
        yield ("default model against small learned detectors trained on another photo source",
               f"AUC {min(learned):.2f} to {max(learned):.2f} (found)", cmd)


# ---- the server and the hardening --------------------------------------------------------------------


def command_of(d: dict, default: str) -> str:
    """The command a result records for itself, else the benchmark's usual one."""
    command = d.get("command") or default
    return f"`{'python ' + command if command.startswith('benchmarks/') else command}`"


@source("serve_load.json")
def serve_load(d) -> Iterator[Row]:
    b = d["burst"]
    yield (f"`exypno serve`: {b['clients']} clients at once, hide then reveal of 256x256 photos over HTTP",
           f"{b['requests_per_s']:.1f} requests/s, p50 {seconds(b['p50'])}, p95 {seconds(b['p95'])}, "
           f"{b['errors']} errors, peak memory {b['peak_rss_mb']:.0f} MB", command_of(d, py("serve_load.py")))
    if "soak" in d:
        s = d["soak"]
        yield (f"`exypno serve`: {s['clients']} clients for {s['seconds'] / 60:.0f} minutes",
               f"{s['errors']} errors, memory {s['rss_mb_start']:.0f} MB at the start, {s['rss_mb_end']:.0f} MB at the end",
               command_of(d, py("serve_load.py")))


@source("fuzz.json")
def fuzz(d) -> Iterator[Row]:
    total, targets = d["total"], d["targets"]
    minutes = sum(r["seconds"] for r in targets) / 60
    yield (f"fuzzing the readers of untrusted files ({', '.join(r['target'] for r in targets)})",
           f"{total['inputs']:,} inputs in {minutes:.0f} minutes, {total['crashes']} crashes", command_of(d, py("fuzz.py")))


def table() -> str:
    lines = ["| what | figure | command |", "|---|---|---|"]
    for name, fn in SOURCES:
        path = RESULTS / name
        if not path.exists():
            continue
        for what, figure, command in fn(json.loads(path.read_text())):
            lines.append(f"| {what} | {figure} | {command} |")
    return "\n".join(lines) + "\n"


def block() -> str:
    return f"{START}\n{table()}{END}"


def replace_block(text: str) -> str:
    head, sep, rest = text.partition(START)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise SystemExit(f"README.md has no {START} ... {END} block")
    return head + block() + tail


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="replace the results block in README.md")
    args = ap.parse_args()
    if args.write:
        README.write_text(replace_block(README.read_text()))
    else:
        sys.stdout.write(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())

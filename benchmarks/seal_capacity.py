"""Sealed files in 512x512 covers never trained on: bytes carried exactly, cover quality, success rate.

    bash scripts/install-heldout     # once: 30 KDE Plasma wallpapers (photos and renders) -> data/heldout
    .venv/bin/python benchmarks/seal_capacity.py [--covers data/heldout] [--limit N]

For each mode and each cover: a file of random bytes (incompressible) as large as ``exypno capacity`` says,
sealed with a fresh passphrase, written as PNG, read back and unsealed. Success means the exact bytes
and name come back; a seal that the sender refuses (it did not decode back) is a failure too.
Every stego is also re-saved as JPEG (Pillow/libjpeg) at quality 95, 90, 85 and 75 with 4:2:0 chroma, and at
90 with full-resolution chroma (4:4:4, as some editors save), and unsealed: the robust mode's sender checks
quality 90 (4:2:0) itself, the others measure how far it carries; for PNG mode, that it fails cleanly.
Then, on each stego: a wrong passphrase, and unsealing the plain cover, must both be reported as
"no sealed file" (``NoPayloadError``); with the right passphrase, the stego with Gaussian noise (std 4 and 16)
and cropped (8 pixels off the right and bottom edges) is reported as damaged (``DamagedPayloadError``) or as nothing.
Times are medians; seal and unseal include one key derivation each (scrypt N = 2^17), measured on its own.
A 100-byte file is also sealed into each cover and unsealed, timed the same way.
Prints a table and writes benchmarks/results/seal_capacity.json (a run of some ``--modes`` keeps the other
modes' last results there).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import time
from pathlib import Path

import numpy as np

from exypno.errors import ExypnoError
from exypno.payload.container import DamagedPayloadError, Keys, NoPayloadError
from exypno.evaluate.heldout import wallpaper_covers
from exypno.media.metrics import ssim_8bit as ssim
from exypno.media.image import read_image, resave
from exypno.payload.seal import MODES, load_mode, seal, unseal

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = [  # SteganoGAN (Zhang et al. 2019), for scale; not run here
    ("SteganoGAN dense, published", "4.40 bpp (RS-bpp claim)"),
    ("SteganoGAN, net of its error correction, measured outside this repo", "0.01-0.02 net bpp"),
]


# (quality, Pillow subsampling): 2 is 4:2:0, Pillow's and most software's default; 0 is 4:4:4
JPEGS = {"jpeg95": (95, 2), "jpeg90": (90, 2), "jpeg85": (85, 2), "jpeg75": (75, 2), "jpeg90_444": (90, 0)}




def _ok(image, passphrase: str, name: str, data: bytes, model) -> bool:
    try:
        return unseal(image, passphrase, model=model) == (name, data)
    except ExypnoError:
        return False


def _reported_as(image, passphrase: str, model, kind) -> bool:
    try:
        unseal(image, passphrase, model=model)
    except ExypnoError as e:
        return isinstance(e, kind)
    return False


def _reported_as_nothing(image, passphrase: str, model) -> bool:
    return _reported_as(image, passphrase, model, NoPayloadError)


def _damage(stego: np.ndarray, kind: str) -> np.ndarray:
    if kind == "crop8":
        return stego[:-8, :-8]
    std = float(kind.removeprefix("noise"))
    noise = np.random.default_rng(0).normal(0, std, stego.shape)
    return np.clip(np.rint(stego + noise), 0, 255).astype(np.uint8)


DAMAGE = ("noise4", "noise16", "crop8")
SMALL = 100  # bytes of the small file timed on each cover


def run_mode(mode: str, covers: dict[str, np.ndarray], tmp: Path, quiet: bool, model: str | None = None) -> dict:
    sm = load_mode(mode, model)
    rows = []
    for i, (cname, cover) in enumerate(covers.items()):
        h, w = cover.shape[:2]
        name = f"{cname}.bin"
        data = os.urandom(sm.capacity(h, w) - len(name))  # the capacity holds the file and its name
        passphrase = secrets.token_urlsafe(12)
        out = tmp / f"{mode}-{cname}.png"
        t0 = time.time()
        try:
            seal(cover, data, name, passphrase, output=out, mode=mode, force=True, model=model)
            sealed = True
        except ExypnoError as e:
            sealed, err = False, str(e)
        t_seal = time.time() - t0
        row = {"cover": cname, "bytes": len(data), "sealed": sealed, "seal_s": round(t_seal, 2)}
        if sealed:
            stego = read_image(out)  # the real PNG round trip
            t0 = time.time()
            row["ok"] = _ok(stego, passphrase, name, data, model)
            row["unseal_s"] = round(time.time() - t0, 2)
            diff = stego.astype(np.float64) - cover
            row["cover_psnr"] = float(10 * np.log10(255**2 / max(np.mean(diff**2), 1e-12)))
            row["cover_ssim"] = float(ssim(cover, stego))
            row["wrong_passphrase_reported"] = _reported_as_nothing(stego, passphrase + "x", model)
            for key, (q, sub) in JPEGS.items():  # what a JPEG re-save does
                row[f"{key}_ok"] = _ok(resave(stego, "JPEG", q, sub), passphrase, name, data, model)
            for kind in DAMAGE:  # the right passphrase on a damaged stego: damaged, nothing, or (still) the file
                damaged = _damage(stego, kind)
                row[f"{kind}"] = ("ok" if _ok(damaged, passphrase, name, data, model) else
                                  "damaged" if _reported_as(damaged, passphrase, model, DamagedPayloadError) else "other")
        else:
            row.update(ok=False, error=err)
        row["plain_cover_reported"] = _reported_as_nothing(cover, passphrase, model)
        # A small file: the time a seal and an unseal take when the file is far below the capacity.
        small = os.urandom(SMALL)
        t0 = time.time()
        try:
            stego = seal(cover, small, "small.bin", passphrase, mode=mode, model=model)
            row["small_seal_s"] = round(time.time() - t0, 2)
            t0 = time.time()
            row["small_ok"] = _ok(stego[0], passphrase, "small.bin", small, model)
            row["small_unseal_s"] = round(time.time() - t0, 2)
        except ExypnoError:
            row.update(small_ok=False, small_seal_s=round(time.time() - t0, 2))
        rows.append(row)
        if not quiet:
            print(f"  {mode} {i + 1}/{len(covers)} {cname}: {row}", flush=True)
    done = [r for r in rows if r["sealed"]]
    n = len(rows)
    summary = {
        "mode": mode,
        "covers": n,
        "net_bytes": sm.capacity(512, 512),
        "net_bpp": sm.capacity(512, 512) * 8 / 512**2,
        "success": sum(r["ok"] for r in rows) / n,
        "cover_psnr_mean": float(np.mean([r["cover_psnr"] for r in done])) if done else None,
        "cover_psnr_worst": float(np.min([r["cover_psnr"] for r in done])) if done else None,
        "cover_ssim_mean": float(np.mean([r["cover_ssim"] for r in done])) if done else None,
        "seal_s_mean": float(np.mean([r["seal_s"] for r in rows])),
        "seal_s_median": float(np.median([r["seal_s"] for r in rows])),
        "seal_s_max": float(np.max([r["seal_s"] for r in rows])),
        "unseal_s_mean": float(np.mean([r["unseal_s"] for r in done])) if done else None,
        "unseal_s_median": float(np.median([r["unseal_s"] for r in done])) if done else None,
        # (over the covers that sealed; a refusal's time counts in seal_s_max)
        "seal_unseal_s_median": float(np.median([r["seal_s"] + r["unseal_s"] for r in done])) if done else None,
        "seal_unseal_s_max": float(np.max([r["seal_s"] + r["unseal_s"] for r in done])) if done else None,
        "small_bytes": SMALL,
        "small_success": sum(r["small_ok"] for r in rows) / n,
        "small_seal_s_median": float(np.median([r["small_seal_s"] for r in rows])),
        "small_unseal_s_median": (float(np.median([r["small_unseal_s"] for r in rows if "small_unseal_s" in r]))
                                  if any("small_unseal_s" in r for r in rows) else None),
        "wrong_passphrase_reported": sum(r.get("wrong_passphrase_reported", False) for r in done) / max(1, len(done)),
        "plain_cover_reported": sum(r["plain_cover_reported"] for r in rows) / n,
    }
    for key in JPEGS:
        summary[f"{key}_success"] = sum(r.get(f"{key}_ok", False) for r in rows) / n
    for kind in DAMAGE:
        summary[f"{kind}_reported_damaged"] = sum(r.get(kind) == "damaged" for r in done) / max(1, len(done))
        summary[f"{kind}_still_ok"] = sum(r.get(kind) == "ok" for r in done) / max(1, len(done))
    return {"summary": summary, "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--covers", type=Path, default=ROOT / "data" / "heldout")
    ap.add_argument("--modes", nargs="+", default=list(MODES))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--limit", type=int, help="at most this many covers")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "seal_capacity.json")
    args = ap.parse_args()
    if not args.covers.is_dir():
        raise SystemExit(f"{args.covers}: no covers; run scripts/install-heldout first")
    covers = wallpaper_covers(args.covers, args.size)
    if args.limit:
        covers = dict(list(covers.items())[: args.limit])
    kdf_s = []
    for _ in range(3):
        t0 = time.perf_counter()
        Keys.derive("a passphrase", os.urandom(16))
        kdf_s.append(time.perf_counter() - t0)
    print(f"one key derivation (scrypt N = 2^17, r = 8): {np.median(kdf_s):.2f} s (median of 3)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            results[mode] = run_mode(mode, covers, Path(tmp), args.quiet)
            results[mode]["summary"]["cover_set"] = f"{args.covers.name} ({len(covers)})"

    print(f"\n{args.size}x{args.size} covers from {args.covers.name} ({len(covers)}), random files of the stated size")
    print(f"{'mode':<8}{'net bytes':>10}{'net bpp':>9}{'success':>9}{'PSNR':>8}{'worst':>8}{'SSIM':>7}"
          + "".join(f"{k.replace('jpeg', 'JPEG'):>11}" for k in JPEGS)
          + f"{'seal s':>8}{'unseal s':>9}{'wrong pw':>9}{'no payload':>11}")
    for mode, r in results.items():
        s = r["summary"]

        def f(v, spec):
            return format(v, spec) if v is not None else format("-", spec.split(".")[0].rstrip("f%"))

        print(f"{mode:<8}{s['net_bytes']:>10,}{s['net_bpp']:>9.3f}{s['success']:>9.0%}{f(s['cover_psnr_mean'], '>8.2f')}"
              f"{f(s['cover_psnr_worst'], '>8.2f')}{f(s['cover_ssim_mean'], '>7.3f')}"
              + "".join(f(s.get(f"{k}_success"), ">11.0%") for k in JPEGS)
              + f"{s['seal_s_median']:>8.1f}{f(s['unseal_s_median'], '>9.1f')}{s['wrong_passphrase_reported']:>9.0%}"
              f"{s['plain_cover_reported']:>11.0%}")
    for name, value in REFERENCE:
        print(f"{name:<40}{value}")
    for mode, r in results.items():
        s = r["summary"]
        print(f"{mode}: right passphrase on a damaged stego, reported as damaged: "
              + ", ".join(f"{k} {s[f'{k}_reported_damaged']:.0%} (still read {s[f'{k}_still_ok']:.0%})" for k in DAMAGE)
              + f"; slowest seal {s['seal_s_max']:.1f} s, slowest seal + unseal "
              + (f"{s['seal_unseal_s_max']:.1f} s" if s["seal_unseal_s_max"] is not None else "-"))
        print(f"{mode}: a {s['small_bytes']}-byte file: seal {s['small_seal_s_median']:.2f} s + unseal "
              + (f"{s['small_unseal_s_median']:.2f} s" if s["small_unseal_s_median"] is not None else "-")
              + f" (medians), {s['small_success']:.0%} exact")
    print("(seal s, unseal s: medians, each with one key derivation; JPEG90_444: quality 90 with full-resolution chroma)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(args.out.read_text())["results"] if args.out.exists() else {}
    kept = {m: r for m, r in kept.items() if m not in results}
    args.out.write_text(json.dumps({"size": args.size, "reference": REFERENCE, "kdf_s_median": float(np.median(kdf_s)),
                                    "results": {**kept, **results}},
                                   indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

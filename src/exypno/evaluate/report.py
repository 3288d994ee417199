"""``exypno evaluate``: hide and reveal pairs of photos through real PNG files and report the figures.

Every pair goes file -> stego PNG on disk -> read back -> reveal -> revealed PNG on disk -> read back, so the
figures are what a user gets. Pairs: the i-th cover with the i-th secret (sorted by name); when both
folders are the same, the i-th photo hides the (i+1)-th.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import ExypnoError
from ..media.files import make_folder
from ..media.folders import list_photos
from ..media.image import check_cover_size, check_side, read_image, resize, square, write_png
from ..media.metrics import mse_8bit, psnr_from_mse, ssim_8bit
from .figures import comparison_figure


def pair_files(covers: Path, secrets: Path, list_covers=list_photos, list_secrets=None,
               what: str = "images") -> list[tuple[Path, Path]]:
    """The i-th cover with the i-th secret (sorted by name); a folder with itself: the i-th hides the (i+1)-th.
    ``list_covers``/``list_secrets`` say which files count (images by default; sounds and videos elsewhere)."""
    c, s = list_covers(covers), (list_secrets or list_covers)(secrets)
    if not c:
        raise ExypnoError(f"{covers}: no {what}")
    if not s:
        raise ExypnoError(f"{secrets}: no {what}")
    if Path(covers).resolve() == Path(secrets).resolve():
        if len(c) < 2:
            raise ExypnoError(f"{covers}: need two {what} to pair a folder with itself")
        return [(c[i], c[(i + 1) % len(c)]) for i in range(len(c))]
    return list(zip(c, s))


def summarize(per_pair: list[dict]) -> dict:
    out = {"pairs": len(per_pair)}
    for side in ("cover", "secret"):
        mse = np.array([p[f"{side}_mse"] for p in per_pair])
        psnr = psnr_from_mse(mse)
        ssim = np.array([p[f"{side}_ssim"] for p in per_pair])
        out[side] = {
            "psnr_mean": float(psnr.mean()), "psnr_worst": float(psnr.min()),
            "ssim_mean": float(ssim.mean()), "ssim_worst": float(ssim.min()),
            "mse_mean": float(mse.mean()), "mse_worst": float(mse.max()),
        }  # fmt: skip
    return out


def format_table(summary: dict, name: str) -> str:
    lines = [f"{name}: {summary['pairs']} pairs, figures after the PNG round trip (8-bit RGB)",
             f"{'':8}{'PSNR mean':>11}{'worst':>8}{'SSIM mean':>11}{'worst':>8}{'MSE mean':>10}{'worst':>9}"]
    for side in ("cover", "secret"):
        s = summary[side]
        lines.append(f"{side:8}{s['psnr_mean']:>11.2f}{s['psnr_worst']:>8.2f}{s['ssim_mean']:>11.4f}"
                     f"{s['ssim_worst']:>8.4f}{s['mse_mean']:>10.2f}{s['mse_worst']:>9.2f}")
    return "\n".join(lines)


SEALED_PASSPHRASE = "exypno evaluate"  # sealed evaluation: the key is not what is measured


def method(model="default", lsb: int | None = None, sealed: bool = False, device: str = "auto"):
    """(the hider, its name in the report): ``model`` (a network or a code), or ``lsb`` (k-bit LSB), or
    ``sealed``: the secret sealed as a picture re-encoded to fit (``exypno seal --fit``), revealed by unseal.
    ``device``: where the networks run (auto, cpu, cuda)."""
    from ..api import load
    from ..baselines import LSB
    from ..payload.sealed_picture import SealedPicture

    if lsb:
        return LSB(lsb), f"lsb-{lsb}"
    if sealed:
        return SealedPicture(SEALED_PASSPHRASE, device=device), "sealed-avif"
    return load(model, device), str(model)


def evaluate_pairs(pairs, out: Path, model="default", size: int | None = None, lsb: int | None = None,
                   force: bool = False, figure_rows: int = 4, quiet: bool = False, sealed: bool = False,
                   device: str = "auto") -> dict:
    """Run every pair through PNG files in ``out`` with the hider ``method`` gives; write results.json and
    figure.png; return the summary.

    A hider that reveals a smaller picture than the secret (the sealed one, fitted at a smaller size) is
    measured at the secret's size; one that measures more of its own (``figures``) adds it to each pair's
    record, and its ``summarize`` to the summary."""
    from ..baselines.lsb import check_bits

    if size is not None:
        check_side(size, "--size")
    if lsb is not None:
        check_bits(lsb)  # 0 is a wrong K, not "no LSB"
    hider, name = method(model, lsb, sealed, device)
    make_folder(out)
    per_pair, rows = [], []
    for i, (cover_path, secret_path) in enumerate(pairs):
        cover, secret = read_image(cover_path), read_image(secret_path)
        if size:
            cover, secret = square(cover, size), square(secret, size)
        check_cover_size(cover.shape[1], cover.shape[0], cover_path)
        stem = f"{i:03d}_{Path(cover_path).stem}__{Path(secret_path).stem}"
        stego_file, revealed_file = out / f"{stem}.stego.png", out / f"{stem}.revealed.png"
        secret = resize(secret, *cover.shape[:2])  # what is really hidden
        hider.hide(cover, secret, output=stego_file, force=force)
        extra = dict(getattr(hider, "figures", {}))
        hider.reveal(stego_file, output=revealed_file, force=force)
        stego, revealed = read_image(stego_file), read_image(revealed_file)
        if revealed.shape != secret.shape:
            revealed = resize(revealed, *secret.shape[:2])
        record = {
            "cover": str(cover_path), "secret": str(secret_path),
            "cover_mse": float(mse_8bit(cover, stego)), "secret_mse": float(mse_8bit(secret, revealed)),
            "cover_ssim": ssim_8bit(cover, stego), "secret_ssim": ssim_8bit(secret, revealed),
        }  # fmt: skip
        record["cover_psnr"] = float(psnr_from_mse(record["cover_mse"]))
        record["secret_psnr"] = float(psnr_from_mse(record["secret_mse"]))
        record.update(extra)
        per_pair.append(record)
        if len(rows) < figure_rows:
            rows.append(dict(cover=cover, stego=stego, secret=secret, revealed=revealed,
                             label=f"{record['cover_psnr']:.1f} / {record['secret_psnr']:.1f} dB"))
    summary = summarize(per_pair)
    if hasattr(hider, "summarize"):
        summary.update(hider.summarize(per_pair))
    summary["model"] = name
    summary["size"] = size
    (out / "results.json").write_text(json.dumps({"summary": summary, "pairs": per_pair}, indent=2) + "\n")
    comparison_figure(rows, out / "figure.png", title=f"{name}: cover / secret PSNR after PNG round trip")
    if not quiet:
        print(format_table(summary, name))
        print(f"wrote {out / 'results.json'} and {out / 'figure.png'}")
    return summary


def evaluate_folders(covers: Path, secrets: Path, out: Path, model="default", size=None, lsb=None,
                     limit=None, force=False, sealed: bool = False, device: str = "auto") -> dict:
    pairs = pair_files(covers, secrets)
    if limit:
        pairs = pairs[:limit]
    return evaluate_pairs(pairs, out, model=model, size=size, lsb=lsb, force=force, sealed=sealed, device=device)


def evaluate_attacks(pairs, out: Path, attacks: str = "default", model="default", size: int | None = None,
                     seed: int = 0, quiet: bool = False, align: bool = True, device: str = "auto") -> dict:
    """Secret PSNR/SSIM after each attack on the stego file (``channel/attacks.py``), for any model.

    ``align=False`` reveals without the grid search (``Stego.alignment``): crops at odd offsets then fail,
    but a model on which the search misfires can be measured on what it reveals.

    Each revealed secret is compared with the region of the secret that the attacked stego still shows; the
    clean reveal of that same region is given beside it, so a crop's cost is what the crop itself costs.
    """
    from ..api import load
    from ..channel.attacks import parse_attacks

    if size is not None:
        check_side(size, "--size")

    todo = parse_attacks(attacks)
    make_folder(out)
    stego_model = load(model, device)
    rng = np.random.default_rng(seed)
    per = {a.name: [] for a in todo}
    covers_db = []
    for i, (cover_path, secret_path) in enumerate(pairs):
        cover, secret = read_image(cover_path), read_image(secret_path)
        if size:
            cover, secret = square(cover, size), square(secret, size)
        secret = resize(secret, *cover.shape[:2])
        stego_file = out / f"{i:03d}.stego.png"
        stego_model.hide(cover, secret, output=stego_file, force=True)
        stego = read_image(stego_file)  # the real file
        covers_db.append(float(psnr_from_mse(mse_8bit(cover, stego))))
        clean = stego_model.reveal(stego, align=align)
        for attack in todo:
            attacked, (t, l, h, w) = attack(stego, rng)
            region = secret[t : t + h, l : l + w]
            try:
                revealed, refused = stego_model.reveal(attacked, align=align), 0
            except ExypnoError:  # a code that reads nothing says so (the robust model): scored as flat grey
                revealed, refused = np.full_like(region, 128), 1
            per[attack.name].append({
                "refused": refused,
                "secret_psnr": float(psnr_from_mse(mse_8bit(region, revealed))),
                "secret_ssim": ssim_8bit(region, revealed) if min(h, w) >= 7 else float("nan"),
                "clean_psnr": float(psnr_from_mse(mse_8bit(region, clean[t : t + h, l : l + w]))),
                "stego_psnr": float(psnr_from_mse(mse_8bit(stego[t : t + h, l : l + w], attacked)))
                if attacked.shape == stego[t : t + h, l : l + w].shape else float("nan"),
            })  # fmt: skip
    table = {}
    for name, rows in per.items():
        table[name] = {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}
        table[name]["secret_psnr_worst"] = float(min(r["secret_psnr"] for r in rows))
        table[name]["refused"] = int(sum(r["refused"] for r in rows))
    result = {"model": str(model), "pairs": len(pairs), "size": size, "seed": seed, "align": align,
              "cover_psnr": float(np.mean(covers_db)), "cover_psnr_worst": float(np.min(covers_db)), "attacks": table}
    (out / "attacks.json").write_text(json.dumps(result, indent=2) + "\n")
    if not quiet:
        print(format_attack_table(result))
        print(f"wrote {out / 'attacks.json'}")
    return result


def format_attack_table(result: dict) -> str:
    cover = f"; cover PSNR {result['cover_psnr']:.2f} dB (worst {result['cover_psnr_worst']:.2f})" if "cover_psnr" in result else ""
    search = "" if result.get("align", True) else " (no grid search)"
    lines = [f"{result['model']}: {result['pairs']} pairs; secret revealed from the attacked stego file{search}{cover}",
             f"{'attack':<14}{'secret PSNR':>12}{'worst':>8}{'SSIM':>8}{'no attack':>11}{'stego PSNR':>12}"
             f"{'refused':>9}"]
    for name, r in result["attacks"].items():
        stego = "unchanged" if r["stego_psnr"] > 100 else f"{r['stego_psnr']:.2f}"  # identical pixels
        lines.append(f"{name:<14}{r['secret_psnr']:>12.2f}{r['secret_psnr_worst']:>8.2f}{r['secret_ssim']:>8.3f}"
                     f"{r['clean_psnr']:>11.2f}{stego:>12}{r.get('refused', 0):>9}")
    lines.append("('no attack': the clean reveal on the same region; 'stego PSNR': the attacked file against "
                 "the stego; 'refused': reveals that read nothing and said so, scored as a flat grey picture)")
    return "\n".join(lines)

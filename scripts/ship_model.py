"""Ship a training run's best model as src/exypno/weights/NAME.safetensors with its model card.

    python scripts/ship_model.py runs/default --name default [--figures benchmarks/results/image_quality.json]

The card records what a user needs to trust and reproduce the model: preset and config, the data, the
exact training command (rebuilt from the run's saved config), steps, samples and wall time, the
validation figures of the run, and the benchmark figures when given.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from exypno.nets.files import load_model, save_model  # noqa: E402
from exypno.train.checkpoint import read_meta  # noqa: E402

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "exypno" / "weights"
ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs"
DATA = ("Photos of the Debian packages endless-sky-data (273), gcompris-qt-data (250, from its .rcc bundles) "
        "and opencv-doc (17), laid out by scripts/install-media; ~8% of the files (by a hash of the name) are "
        "a validation split never trained on.")
AUDIO_DATA = ("Speech of the Debian packages asterisk-core-sounds-en-g722 and -fr-g722 (1,101 prompts, 16 kHz) "
              "and music of wesnoth-1.16-music (41 tracks, first 180 s each), as 16 kHz mono WAV by "
              "scripts/install-audio; ~8% of the files (by a hash of the name) are a validation split never "
              "trained on.")
PURPOSES = {
    "image-in-image": "Hide an RGB image in an RGB image of the same size; the stego is an 8-bit PNG.",
    "audio-in-audio": "Hide a sound in a sound as long; the stego is a 16 kHz 16-bit WAV.",
    "image-in-audio": "Hide an RGB image in a sound (256 rows by one column per STFT frame); the stego is a "
                      "16 kHz 16-bit WAV.",
    "audio-in-image": "Hide a sound in an RGB image (each band of 256 rows carries one frame per column); the "
                      "stego is an 8-bit PNG.",
}
FLAGS = [("pairing", "--pairing"), ("audio", "--audio"), ("spectrogram", "--spectrogram"), ("init", "--init"), ("preset", "--preset"), ("width", "--width"), ("levels", "--levels"), ("lattice", "--lattice"), ("qim", "--qim"),
         ("crop", "--crop"), ("min_scale", "--min-scale"),
         ("batch", "--batch"), ("lr", "--lr"), ("lr_warmup", "--lr-warmup"), ("workers", "--workers"), ("alpha", "--alpha"), ("beta", "--beta"), ("seed", "--seed"),
         ("val_every", "--val-every"), ("val_crop", "--val-crop"), ("bits", "--bits"), ("bit_block", "--bit-block"),
         ("val_jpeg", "--val-jpeg"), ("val_cropgrid", "--val-cropgrid"), ("cover_target", "--cover-target"),
         ("alpha_rate", "--alpha-rate"), ("cover_warmup", "--cover-warmup"), ("warmup_db", "--warmup-db"),
         ("secret_level", "--secret-level")]
DEFAULTS = {"pairing": "image-in-image", "lr_warmup": 0, "workers": 0, "cover_warmup": 0, "bits": 0, "bit_block": 1, "val_jpeg": None}  # flags left out at these values


def _flag_value(value) -> str:
    return " ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def command_of(cfg: dict) -> str:
    parts = ["exypno train", *([f"--data {cfg['data']}"] if cfg.get("data") else []), f"--out {cfg['out']}"]
    for key, flag in FLAGS:
        if cfg.get(key) is not None and cfg[key] != DEFAULTS.get(key, object()):
            if key == "spectrogram" and cfg.get("pairing", "image-in-image") == "image-in-image":
                continue
            if key == "warmup_db" and not cfg.get("cover_warmup"):
                continue
            if key == "secret_level" and not cfg.get("pairing", "").startswith("audio-"):
                continue
            parts.append(f"{flag} {_flag_value(cfg[key])}")
    if cfg.get("decoder_only"):
        parts.append("--decoder-only")
    if cfg.get("blocks"):
        parts.append("--blocks " + " ".join(str(b) for b in cfg["blocks"]))
    parts.append(f"--noise '{cfg['attacks']}'" if cfg.get("attacks") else f"--noise {round(cfg['noise'] * 255, 4)}")
    parts.append(f"--steps {cfg['steps']}")
    return " ".join(parts)


CPU = "2-core x86_64 CPU, PyTorch 2.13.0 (CPU build)"  # for a checkpoint that does not record its hardware


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_of(init: Path) -> Path | None:
    """The run folder whose best model ``init`` is: its own folder, or (for a copy, such as one taken to
    another machine) the run in runs/ whose best.safetensors has the same bytes."""
    if (init.parent / "checkpoint.safetensors").exists():
        return init.parent
    if init.exists():
        wanted = _digest(init)
        same = [b.parent.relative_to(ROOT) for b in sorted(RUNS.glob("*/best.safetensors")) if _digest(b) == wanted]
        if same and (ROOT / same[0] / "checkpoint.safetensors").exists():
            return same[0]
    return None


def stages(run: Path, hardware: dict[str, str]) -> list[dict]:
    """The run and, through --init, the runs it started from (oldest first)."""
    chain = []
    while True:
        meta = read_meta(run / "checkpoint.safetensors")
        _, card = load_model(run / "best.safetensors")
        chain.append({"run": str(run), "command": command_of(meta["config"]), "best_step": card["training"]["step"],
                      "steps_run": meta["step"], "hours": round(meta["seconds"] / 3600, 2),
                      "hardware": meta.get("hardware") or hardware.get(run.name, CPU)})
        init = meta["config"].get("init")
        start = _run_of(Path(init)) if init else None
        if start is None:
            modem = load_model(Path(init))[1].get("modem") if init and Path(init).exists() else None
            if modem:  # a pretrained lattice modem (exypno.train.modem), not a run
                steps = [*modem.get("earlier", []), modem]  # a copied modem lists where it came from
                chain.append({"run": init, "command": " && ".join(m["command"] for m in steps), "best_step": 0,
                              "steps_run": modem["step"], "hours": round(sum(m["seconds"] for m in steps) / 3600, 2),
                              "hardware": modem["hardware"],
                              "what": f"lattice modem alone: symbol SNR {modem['symbol_snr']} dB at cover SNR "
                                      f"{modem['cover_snr']} dB"})
            return chain[::-1]
        if start != Path(init).parent:
            chain[-1]["init_is_a_copy_of"] = str(start / "best.safetensors")
        run = start


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("--name", default="default")
    ap.add_argument("--figures", type=Path, help="benchmark JSON whose 'figures' go into the card")
    ap.add_argument("--seal", help="a bit-hiding model's seal modes (JSON, see payload/seal.py), e.g. '{\"png\": "
                                   "{\"rates\": [0.25, 0.4, 0.6], \"ldpc_n\": 8192, \"nsym\": 16, "
                                   "\"llr_scale\": 0.75}}'")
    ap.add_argument("--hardware", action="append", default=[], metavar="RUN=TEXT",
                    help="where a run trained, for runs whose checkpoint does not record it (default: this CPU)")
    args = ap.parse_args()
    meta = read_meta(args.run / "checkpoint.safetensors")
    model, best_card = load_model(args.run / "best.safetensors")
    best = best_card["training"]
    cfg = meta["config"]
    history = stages(args.run, dict(h.split("=", 1) for h in args.hardware))
    # Time spent: every earlier stage in full (its best model was the start of the next), this one to its best.
    hours = sum(h["hours"] for h in history[:-1]) + best["seconds"] / 3600
    pairing = cfg.get("pairing", "image-in-image")
    data = DATA if pairing == "image-in-image" else (AUDIO_DATA if pairing == "audio-in-audio" else DATA + " " + AUDIO_DATA)
    card = {
        "name": args.name,
        "pairing": pairing,
        **({"spectrogram": cfg.get("spectrogram", "complex")} if pairing != "image-in-image" else {}),
        "purpose": (PURPOSES[pairing] if not args.seal
                    else f"Carry {cfg['bits']} planes of bits in an RGB image, for 'exypno seal' "
                         f"(modes: {', '.join(json.loads(args.seal))})."),
        "preset": cfg["preset"],
        "data": data,
        "command": " && ".join(h["command"] for h in history),
        "stages": history,
        "steps": sum(h["best_step"] for h in history),
        "wall_time_hours": round(hours, 2),
        "hardware": "; ".join(dict.fromkeys(h["hardware"] for h in history)),
        "validation": {k: round(v, 5) for k, v in best.items() if "snr" in k or "bit_error" in k},
        "figures": {},
    }
    if args.seal:
        card["seal"] = json.loads(args.seal)
    if args.figures:
        doc = json.loads(args.figures.read_text())
        card["figures"] = doc["figures"] if "figures" in doc else doc[pairing]["figures"]  # audio: per pairing
    save_model(model, WEIGHTS / f"{args.name}.safetensors", card=card)
    print(json.dumps(card, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
from dataclasses import MISSING, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from exypno.cli import subcommand  # noqa: E402
from exypno.nets.files import load_model, save_model  # noqa: E402
from exypno.train.checkpoint import read_meta  # noqa: E402
from exypno.train.loop import TrainConfig  # noqa: E402

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
RUNNING = ("threads", "device", "max_minutes")  # how and where a run ran, not what it trains: left out


def _omitted(key: str, cfg: dict) -> bool:
    """Flags of no effect on this run: the sound grid of an image pairing, the warmup's depth without a warmup,
    the level of sound secrets where the secret is no sound."""
    pairing = cfg.get("pairing") or "image-in-image"
    return ((key == "spectrogram" and pairing == "image-in-image")
            or (key == "warmup_db" and not cfg.get("cover_warmup"))
            or (key == "secret_level" and not pairing.startswith("audio-")))


def _flag_value(value) -> str:
    return " ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def command_of(cfg: dict) -> str:
    """The ``exypno train`` command of a run's config (a TrainConfig as a dict): a flag for each field the train
    command sets (``exypno.cli.train_config``), in the command's order; a field at its default is left out."""
    defaults = {f.name: f.default_factory() if f.default_factory is not MISSING else f.default
                for f in fields(TrainConfig)}
    parts = ["exypno train"]
    for action in subcommand("train")._actions:
        key, flag = action.dest, action.option_strings[-1] if action.option_strings else None
        if flag is None or key not in defaults or key in RUNNING or _omitted(key, cfg):
            continue
        if key == "noise":  # one flag for two fields: noise layers, or the Gaussian layer in 8-bit levels
            value = cfg.get("attacks") or cfg.get("noise")
            if value is not None:
                parts.append(f"--noise '{value}'" if cfg.get("attacks") else f"--noise {round(value * 255, 4)}")
            continue
        value = cfg.get(key, defaults[key])
        if value is None or (tuple(value) if isinstance(value, list) else value) == defaults[key]:
            continue
        parts.append(flag if value is True else f"{flag} {_flag_value(value)}")
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

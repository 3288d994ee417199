"""Give a shipped model a border decoder: the decoder of a ``--decoder-only`` run trained on its crops.

    python scripts/add_border_decoder.py src/exypno/weights/default.safetensors runs/default-dn

The run must have started (``--init``) from this model with CN and EN fixed: its stegos are then the
model's own, bit for bit, and the script checks that. The model keeps its decoder for everything but the
band along a crop's cut edges (``inference.image.Stego.reveal``); its card records how the border decoder was trained.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from exypno.nets.files import load_model, save_model  # noqa: E402
from exypno.nets.models import StegoModel  # noqa: E402
from exypno.train.checkpoint import read_meta  # noqa: E402
from ship_model import CPU, command_of  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path, help="the model file to extend (rewritten in place)")
    ap.add_argument("run", type=Path, help="the --decoder-only run whose best decoder becomes the border decoder")
    args = ap.parse_args()
    model, card = load_model(args.model)
    trained, run_card = load_model(args.run / "best.safetensors")
    meta = read_meta(args.run / "checkpoint.safetensors")
    if not meta["config"].get("decoder_only"):
        sys.exit(f"{args.run}: not a --decoder-only run")
    ours, theirs = model.state_dict(), trained.state_dict()
    sender = [k for k in ours if k.startswith(("compressor.", "encoder."))]
    if any(not torch.equal(ours[k], theirs[k]) for k in sender):
        sys.exit(f"{args.run}: its CN and EN differ from {args.model}'s: it did not train on this model's stegos")
    config = replace(model.config, border=True)
    if replace(trained.config, border=True, locator=config.locator) != config:
        sys.exit(f"{args.run}: another architecture than {args.model}")
    extended = StegoModel(config)
    extended.load_state_dict(ours, strict=False)
    extended.border_decoder.load_state_dict(trained.decoder.state_dict())
    training = run_card["training"]
    card["border_decoder"] = {
        "run": str(args.run), "command": command_of(meta["config"]), "best_step": training["step"],
        "steps_run": meta["step"], "hours": round(training["seconds"] / 3600, 2),
        "hardware": meta.get("hardware") or CPU,
        "validation": {k: round(v, 5) for k, v in training.items() if k.startswith(("secret_psnr", "crop_"))},
    }
    save_model(extended, args.model, card=card)
    print(json.dumps(card["border_decoder"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

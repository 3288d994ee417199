"""Train a grid locator for a shipped model on its own stegos, and add it to the model's file.

    python scripts/add_locator.py src/exypno/weights/default.safetensors --data data/photos --out runs/default-locator

The locator (``exypno.nets.locator``) tells ``reveal`` which grid shift a cropped stego has; without one, the
receiver compares the decoder's reveals of every shift (``inference.image.Stego.alignment``). The model file keeps its
nets as they are and gains ``locator.*`` tensors; its card records the command, the time and the validation.
``--out`` keeps the run's log and best locator. Trained on the CPU: ``train_locator`` says how long it took.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, fields, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from exypno.nets.files import load_model, save_model  # noqa: E402
from exypno.nets.models import StegoModel  # noqa: E402
from exypno.train.locator import LocatorConfig, train_locator  # noqa: E402
from exypno.train.loop import hardware  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path, help="the model file (full: CN, EN, DN) to extend; rewritten in place")
    ap.add_argument("--data", required=True, help="folder of training photos (scripts/install-media)")
    ap.add_argument("--out", type=Path, help="keep the run's log.jsonl and best.safetensors here")
    defaults = LocatorConfig(data="")
    for f in fields(LocatorConfig):
        if f.name != "data":
            ap.add_argument("--" + f.name.replace("_", "-"), type=type(getattr(defaults, f.name)),
                            default=getattr(defaults, f.name))
    args = ap.parse_args()
    model, card = load_model(args.model)
    if getattr(model, "part", "full") != "full":
        sys.exit(f"{args.model}: a locator learns the sender's stegos; this file has no sender")
    if model.multiple == 1:
        sys.exit(f"{args.model}: a model on the pixel grid needs no locator")
    cfg = LocatorConfig(**{f.name: getattr(args, f.name) for f in fields(LocatorConfig)})
    torch.set_num_threads(os.cpu_count() or 1)
    locator, best = train_locator(model, cfg, out=args.out)
    extended = StegoModel(replace(model.config, locator=True))
    extended.load_state_dict(model.state_dict(), strict=False)
    extended.locator.load_state_dict(locator.state_dict())
    changed = {k: v for k, v in asdict(cfg).items() if v != getattr(defaults, k) and k != "data"}
    card["locator"] = {
        "command": "python scripts/add_locator.py " + " ".join(
            [str(args.model), f"--data {cfg.data}", *([f"--out {args.out}"] if args.out else []),
             *(f"--{k.replace('_', '-')} {v}" for k, v in changed.items())]),
        "config": asdict(cfg),
        "hardware": hardware(torch.device("cpu")),
        "best": best,
    }
    save_model(extended, args.model, card=card)
    print(json.dumps(card["locator"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

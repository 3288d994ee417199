"""Models as files you can trust: ``NAME.safetensors`` (tensors only) + ``NAME.json`` (config and card).

Loading never executes code from the file. A model may hold all three sub-networks or only the sender's
(CN + EN) or the receiver's (DN) part; ``part`` in the card says which.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import ExypnoError
from .models import NetConfig, StegoModel

FORMAT = "exypno-model/1"
PART_PREFIXES = {
    "full": ("compressor.", "encoder.", "decoder.", "border_decoder.", "locator."),
    "sender": ("compressor.", "encoder."),
    "receiver": ("decoder.", "border_decoder.", "locator."),
}


def card_path(weights: Path) -> Path:
    return Path(weights).with_suffix(".json")


def torch_device(name: str = "auto") -> torch.device:
    """``auto`` (CUDA where torch sees it, else the CPU), ``cpu`` or ``cuda``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise ExypnoError(f"unknown device {name!r} (auto, cpu or cuda)")
    if name == "cuda" and not torch.cuda.is_available():
        raise ExypnoError("--device cuda: torch sees no CUDA device here (use auto or cpu)")
    return torch.device(name)


def save_model(model: StegoModel, weights: Path, card: dict | None = None, part: str = "full") -> None:
    weights = Path(weights)
    if weights.suffix != ".safetensors":
        raise ExypnoError(f"{weights}: a model file must end in .safetensors")
    prefixes = PART_PREFIXES[part]
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k.startswith(prefixes)}
    doc = dict(card or {})
    doc.update(format=FORMAT, part=part, config=model.config.to_dict())
    save_file(tensors, str(weights), metadata={"format": FORMAT, "part": part})
    card_path(weights).write_text(json.dumps(doc, indent=2) + "\n")


def read_card(weights: Path) -> dict:
    path = card_path(weights)
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError:
        raise ExypnoError(f"{path}: model card missing (a model is NAME.safetensors + NAME.json)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExypnoError(f"{path}: not an Exypno model card ({e.__class__.__name__})") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT or "config" not in card:
        raise ExypnoError(f"{path}: not an Exypno model card")
    return card


def load_model(weights: Path) -> tuple[StegoModel, dict]:
    """Rebuild the model from its card and load its tensors; eval mode, CPU."""
    weights = Path(weights)
    if not weights.is_file():
        raise ExypnoError(f"{weights}: model file not found")
    card = read_card(weights)
    try:
        config = NetConfig.from_dict(card["config"])
        model = StegoModel(config)
    except (TypeError, ValueError) as e:
        raise ExypnoError(f"{weights}: bad model config ({e})") from None
    try:
        tensors = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise ExypnoError(f"{weights}: not a safetensors file ({str(e).splitlines()[0][:80]})") from None
    part = card.get("part", "full")
    if part not in PART_PREFIXES:
        raise ExypnoError(f"{weights}: unknown model part {part!r}")
    expected = {k for k in model.state_dict() if k.startswith(PART_PREFIXES[part])}
    if set(tensors) != expected:
        raise ExypnoError(f"{weights}: tensors do not match the card's model (not an Exypno {part} model?)")
    try:
        model.load_state_dict(tensors, strict=False)
    except RuntimeError:
        raise ExypnoError(f"{weights}: tensor shapes do not match the card's model") from None
    model.eval()
    return model, card


def exported(weights: Path, part: str) -> tuple[StegoModel, dict]:
    """The model in ``weights`` and the card its ``part`` is exported with (saying where it came from); a model
    file that holds another part only cannot give this one."""
    model, card = load_model(weights)
    have = card.get("part", "full")
    if have != "full" and have != part:
        raise ExypnoError(f"{weights}: holds the {have} part only; cannot export the {part} part")
    card = {k: v for k, v in card.items() if k not in ("format", "part", "config")}
    card["exported_from"] = Path(weights).name
    return model, card


def export_part(weights: Path, out: Path, part: str) -> None:
    """Write the ``part`` of the model in ``weights`` as ``out`` + its card."""
    model, card = exported(weights, part)
    save_model(model, out, card=card, part=part)

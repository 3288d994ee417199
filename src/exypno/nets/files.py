"""Models as files you can trust: ``NAME.safetensors`` (tensors only) + ``NAME.json`` (config and card).

Loading never executes code from the file: the card's ``config`` rebuilds the network, and the tensors must be
exactly the ones that network (or the card's ``part`` of it) holds, in its shapes. Every network we write is
such a file: a hiding model, which may hold all three sub-networks or only the sender's (CN + EN) or the
receiver's (DN) part (``part`` in the card), and a learned detector (``"kind": "detector"`` in the card; a
card without a kind is a hiding model's).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import ExypnoError
from .models import NetConfig, StegoModel

FORMAT = "exypno-model/1"
HIDER = "model"  # the kind of a card without one
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


def save_network(net: nn.Module, weights: Path, config: dict, card: dict | None = None, part: str = "full",
                 prefixes: tuple[str, ...] = ("",), kind: str = HIDER) -> None:
    """Write the tensors of ``net`` whose names start with one of ``prefixes`` as ``weights`` and the card
    (``card`` with the format, the part, the kind and ``config``, every argument that rebuilds ``net``) beside."""
    weights = Path(weights)
    if weights.suffix != ".safetensors":
        raise ExypnoError(f"{weights}: a {kind} file must end in .safetensors")
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items() if k.startswith(prefixes)}
    doc = dict(card or {})
    doc.update(format=FORMAT, part=part, config=config)
    if kind != HIDER:
        doc["kind"] = kind
    save_file(tensors, str(weights), metadata={"format": FORMAT, "part": part})
    card_path(weights).write_text(json.dumps(doc, indent=2) + "\n")


def read_card(weights: Path, kind: str = HIDER) -> dict:
    """The card beside ``weights``, checked to be ours and of ``kind``."""
    path = card_path(weights)
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError:
        raise ExypnoError(f"{path}: not an Exypno {kind}: its card is missing (a {kind} is NAME.safetensors + "
                          "NAME.json)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExypnoError(f"{path}: not an Exypno {kind} card ({e.__class__.__name__})") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT or not isinstance(card.get("config"), dict):
        raise ExypnoError(f"{path}: not an Exypno {kind} card")
    if card.get("kind", HIDER) != kind:
        raise ExypnoError(f"{path}: not an Exypno {kind} (its card says {card.get('kind', HIDER)})")
    return card


def load_network(weights: Path, build: Callable[[dict], nn.Module], kind: str = HIDER,
                 part_prefixes: dict[str, tuple[str, ...]] | None = None) -> tuple[nn.Module, dict]:
    """Rebuild a network from its card by ``build(config)`` and load its tensors, which must be exactly those of
    the card's part (``part_prefixes``: part -> tensor name prefixes; without it, the whole network); eval mode,
    CPU."""
    weights = Path(weights)
    if not weights.is_file():
        raise ExypnoError(f"{weights}: {kind} file not found")
    card = read_card(weights, kind)
    try:
        net = build(card["config"])
    except (TypeError, ValueError, KeyError) as e:
        raise ExypnoError(f"{weights}: bad {kind} config ({e})") from None
    try:
        tensors = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise ExypnoError(f"{weights}: not a safetensors file ({str(e).splitlines()[0][:80]})") from None
    part = card.get("part", "full")
    prefixes = (part_prefixes or {"full": ("",)}).get(part)
    if prefixes is None:
        raise ExypnoError(f"{weights}: unknown {kind} part {part!r}")
    expected = {k for k in net.state_dict() if k.startswith(prefixes)}
    if set(tensors) != expected:
        raise ExypnoError(f"{weights}: tensors do not match the card's {kind} (not an Exypno {kind}?)")
    try:
        net.load_state_dict(tensors, strict=False)
    except RuntimeError:
        raise ExypnoError(f"{weights}: tensor shapes do not match the card's {kind}") from None
    net.eval()
    return net, card


def save_model(model: StegoModel, weights: Path, card: dict | None = None, part: str = "full") -> None:
    save_network(model, weights, model.config.to_dict(), card, part, PART_PREFIXES[part])


def load_model(weights: Path) -> tuple[StegoModel, dict]:
    """Rebuild the hiding model from its card and load its tensors; eval mode, CPU."""
    return load_network(weights, lambda config: StegoModel(NetConfig.from_dict(config)), HIDER, PART_PREFIXES)


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

"""The shipped models: where their files lie, which one each pairing needs, and which models are codes.

The bottom of the package: it imports nothing of ours but the errors, so every layer may ask it.

A pairing is named ``<secret kind>-in-<cover kind>``, as the paper names them. Video is carried frame by
frame by an image-cover model, so each video pairing runs the model of the matching image pairing
(``image_pairing``).
"""
from __future__ import annotations

from pathlib import Path

from .errors import ModelError

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_MODEL = "default"

# Models that are codes, not networks: no weights, nothing trained (payload/robust_image.py says why).
CODES = {"robust": "image in image that outlives a JPEG re-save (a code: no weights)"}

PAIRINGS = ("image-in-image", "audio-in-audio", "image-in-audio", "audio-in-image",
            "image-in-video", "video-in-video", "audio-in-video")
PAIRING_MODELS = {  # pairing that a model is trained for -> the shipped model that does it
    "image-in-image": "default",
    "audio-in-audio": "audio-in-audio",
    "image-in-audio": "image-in-audio",
    "audio-in-image": "audio-in-image",
}
CHANNELS = {"image": 3, "audio": 2}  # the planes a network sees of a kind: RGB, and an STFT's real and imaginary


def shipped() -> list[Path]:
    """The shipped networks' weight files, by name."""
    return sorted(WEIGHTS_DIR.glob("*.safetensors"))


def model_path(name: str | Path) -> Path:
    """A shipped model's name (``default``) or a path to NAME.safetensors or NAME.onnx."""
    p = Path(name)
    if p.suffix in (".safetensors", ".onnx") or p.exists() or len(p.parts) > 1:
        return p
    path = WEIGHTS_DIR / f"{name}.safetensors"
    if not path.exists():
        names = ", ".join(sorted([f.stem for f in shipped()] + list(CODES))) or "none"
        if name in CODES:
            raise ModelError(f"{name!r} is a code, not a network: it has no weights to load or export")
        raise ModelError(f"no shipped model named {name!r} (shipped: {names}; or give a .safetensors path)")
    return path


def image_pairing(pairing: str) -> str:
    """The pairing of the model that does ``pairing``: video frames are images to the networks."""
    secret, cover = pairing.split("-in-")
    return f"{'image' if secret == 'video' else secret}-in-{'image' if cover == 'video' else cover}"


def shipped_model(pairing: str) -> str:
    """The name of the shipped model for ``pairing``; a clear error when none is shipped yet."""
    name = PAIRING_MODELS[image_pairing(pairing)]
    if not (WEIGHTS_DIR / f"{name}.safetensors").exists():
        raise ModelError(f"no model for {pairing.replace('-', ' ')} is shipped yet: train one "
                         f"(exypno train --pairing {image_pairing(pairing)}) and pass it with --model")
    return name

"""What a file is (image, audio or video), the pairing two files make, and whether a model does it.

The pairing is named ``<secret kind>-in-<cover kind>`` from the file suffixes; the registry says which
shipped model each pairing needs.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ExypnoError, ModelError
from ..media.audio import AUDIO_SUFFIXES
from ..media.video import VIDEO_SUFFIXES
from ..registry import CHANNELS, PAIRING_MODELS, PAIRINGS, image_pairing, shipped_model


def kind(path) -> str:
    """"audio", "video" or "image" (anything else, including arrays, is read as an image)."""
    suffix = Path(path).suffix.lower() if isinstance(path, (str, Path)) else ""
    return "audio" if suffix in AUDIO_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES else "image"


def is_audio(path) -> bool:
    return kind(path) == "audio"


def is_video(path) -> bool:
    return kind(path) == "video"


def _checked(pairing: str) -> str:
    if pairing not in PAIRINGS:
        secret, cover = pairing.split("-in-")
        raise ExypnoError(f"Exypno does not hide {secret} in {cover}: a video secret needs a video cover, and "
                          "a video is revealed only from a video")
    return pairing


def pairing_of(cover, secret) -> str:
    """The pairing that a cover and a secret make."""
    return _checked(f"{kind(secret)}-in-{kind(cover)}")


def reveal_pairing(stego, output) -> str:
    """The pairing a reveal means: the stego's kind, and the kind of the output asked for."""
    return _checked(f"{kind(output)}-in-{kind(stego)}")


# (cover, secret) channels -> the pairing a model is trained for, for cards that do not say
CHANNEL_PAIRINGS = {(CHANNELS[cover], CHANNELS[secret]): pairing
                    for pairing in PAIRING_MODELS for secret, cover in [pairing.split("-in-")]}


def trained_pairing(stego_model) -> str:
    """The pairing a loaded model was trained for (its card, or its channel counts); "bits" for a sealer."""
    if stego_model.card.get("pairing"):
        return stego_model.card["pairing"]
    config = stego_model.model.config
    return CHANNEL_PAIRINGS.get((config.cover_channels, config.secret_channels), "bits")


def check_model(stego_model, pairing: str) -> None:
    """A clear error unless ``stego_model`` does ``pairing`` (a video pairing: its image pairing)."""
    if stego_model.card.get("kind") == "jpeg-code" and pairing != "image-in-image":
        raise ModelError(f"the robust model hides an image in an image only, not {pairing.replace('-', ' ')}")
    have, need = trained_pairing(stego_model), image_pairing(pairing)
    if have != need:
        try:
            hint = f" (the shipped one for that: --model {shipped_model(pairing)})"
        except ModelError:
            hint = " (none is shipped for that yet)"
        raise ModelError(f"this model hides {have.replace('-', ' ')}, not {need.replace('-', ' ')}{hint}")

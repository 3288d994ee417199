"""What a file is (image, audio or video), the pairing two files make, and the shipped model for each.

The pairing is named ``<secret kind>-in-<cover kind>`` from the file suffixes, as the paper names them.
Video is carried frame by frame by an image-cover model, so each video pairing runs the model of the
matching image pairing (``image_pairing``).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ExypnoError
from ..media.audio import AUDIO_SUFFIXES
from ..media.video import VIDEO_SUFFIXES

PAIRINGS = ("image-in-image", "audio-in-audio", "image-in-audio", "audio-in-image",
            "image-in-video", "video-in-video", "audio-in-video")
PAIRING_MODELS = {  # pairing that a model is trained for -> the shipped model that does it
    "image-in-image": "default",
    "audio-in-audio": "audio-in-audio",
    "image-in-audio": "image-in-audio",
    "audio-in-image": "audio-in-image",
}


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


def image_pairing(pairing: str) -> str:
    """The pairing of the model that does ``pairing``: video frames are images to the networks."""
    secret, cover = pairing.split("-in-")
    return f"{'image' if secret == 'video' else secret}-in-{'image' if cover == 'video' else cover}"


def shipped_model(pairing: str) -> str:
    """The name of the shipped model for ``pairing``; a clear error when none is shipped yet."""
    from ..api import WEIGHTS_DIR

    name = PAIRING_MODELS[image_pairing(pairing)]
    if not (WEIGHTS_DIR / f"{name}.safetensors").exists():
        raise ExypnoError(f"no model for {pairing.replace('-', ' ')} is shipped yet: train one "
                          f"(exypno train --pairing {image_pairing(pairing)}) and pass it with --model")
    return name


CHANNEL_PAIRINGS = {(3, 3): "image-in-image", (2, 2): "audio-in-audio", (2, 3): "image-in-audio",
                    (3, 2): "audio-in-image"}  # (cover, secret) channels -> pairing, for cards that do not say


def trained_pairing(stego_model) -> str:
    """The pairing a loaded model was trained for (its card, or its channel counts); "bits" for a sealer."""
    if stego_model.card.get("pairing"):
        return stego_model.card["pairing"]
    config = stego_model.model.config
    return CHANNEL_PAIRINGS.get((config.cover_channels, config.secret_channels), "bits")


def check_model(stego_model, pairing: str) -> None:
    """A clear error unless ``stego_model`` does ``pairing`` (a video pairing: its image pairing)."""
    if stego_model.card.get("kind") == "jpeg-code" and pairing != "image-in-image":
        raise ExypnoError(f"the robust model hides an image in an image only, not {pairing.replace('-', ' ')}")
    have, need = trained_pairing(stego_model), image_pairing(pairing)
    if have != need:
        try:
            hint = f" (the shipped one for that: --model {shipped_model(pairing)})"
        except ExypnoError:
            hint = " (none is shipped for that yet)"
        raise ExypnoError(f"this model hides {have.replace('-', ' ')}, not {need.replace('-', ' ')}{hint}")

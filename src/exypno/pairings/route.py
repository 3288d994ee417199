"""One entry for hiding and one for revealing files of any kinds: the pairing follows from the file types
(``kinds.py``) and picks the code that does it. The CLI and the API both come through here."""
from __future__ import annotations

from pathlib import Path

from ..errors import ExypnoError
from .audio import hide_audio, reveal_audio
from .kinds import check_model, is_video, pairing_of, reveal_pairing
from .video import hide_audio_in_video, hide_in_video, reveal_audio_from_video, reveal_from_video


def _no_key(key, what: str) -> None:
    if key:
        raise ExypnoError(f"--key (block shuffling) is for an image or a video hidden in a video, not {what}")


def hide_file(stego_model, cover, secret, output, key: str | None = None, force: bool = False,
              progress: bool = False):
    """Hide ``secret`` in ``cover`` with ``stego_model`` (the pairing's model) and write ``output``.

    Returns (the stego as written, or None for a video; notes for the user)."""
    pairing = pairing_of(cover, secret)
    check_model(stego_model, pairing)
    if pairing == "image-in-image":
        _no_key(key, "image in image")
        stego = stego_model.hide(cover, secret, output=output, force=force)
        return stego, stego_model.notes
    if output is None:
        raise ExypnoError(f"hiding {pairing.replace('-', ' ')} writes a file: give an output")
    if pairing == "audio-in-video":
        _no_key(key, "audio")
        return None, hide_audio_in_video(stego_model, Path(cover), Path(secret), Path(output), force, progress)
    if is_video(cover):
        return None, hide_in_video(stego_model, Path(cover), secret, Path(output), key=key, force=force,
                                   progress=progress)
    _no_key(key, pairing.replace("-", " "))
    return hide_audio(stego_model, cover, secret, Path(output), force=force)


def reveal_file(stego_model, stego, output, key: str | None = None, size: tuple[int, int] | None = None,
                force: bool = False, progress: bool = False, align: bool = True):
    """Reveal the secret of ``stego`` into ``output``, whose type says what the secret is.

    Returns the revealed secret (an image, or samples on the 16-bit grid), or None for a video or a sound
    revealed from a video (written as it comes, frame by frame). ``size`` (W, H): an image revealed from audio gets its size back.
    ``align=False`` (image in image): skip the search for a cropped stego's pixel grid (see ``Stego.alignment``)."""
    pairing = reveal_pairing(stego, output)
    check_model(stego_model, pairing)
    if size is not None and pairing != "image-in-audio":
        raise ExypnoError("--size is for an image revealed from audio")
    if not align and pairing != "image-in-image":
        raise ExypnoError("--no-align is for an image revealed from an image")
    if pairing == "image-in-image":
        _no_key(key, "image in image")
        return stego_model.reveal(stego, output=output, force=force, align=align)
    if output is None:
        raise ExypnoError(f"revealing {pairing.replace('-', ' ')} writes a file: give an output")
    if pairing == "audio-in-video":
        _no_key(key, "audio")
        reveal_audio_from_video(stego_model, Path(stego), Path(output), force, progress)
        return None
    if is_video(stego):
        return reveal_from_video(stego_model, Path(stego), Path(output), key=key, force=force, progress=progress)
    _no_key(key, pairing.replace("-", " "))
    return reveal_audio(stego_model, Path(stego), Path(output), force=force, size=size)

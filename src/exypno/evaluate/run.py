"""One entry for ``exypno evaluate``: the folders' content says what is measured.

A folder of videos (or one video) as covers: the video pairings (``video.py``). Sounds on either side: the
audio pairings (``audio.py``), or with ``attack`` the sound attacks (``sound_attacks.py``). Otherwise image
pairs: with ``attack`` the attacks on the stego file, else quality and secrecy, for a model, k-bit LSB
(``lsb``) or sealed files (``sealed``) (``report.py``).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ExypnoError
from ..media.files import output_folder
from ..media.folders import list_sounds, list_videos
from .audio import evaluate_audio_pairs, sound_pairs
from .report import evaluate_attacks, evaluate_folders, pair_files
from .sound_attacks import evaluate_sound_attacks
from .video import evaluate_video_pairs, video_pairs


def evaluate(covers, secrets, out, model: str | None = None, attack: str | None = None, lsb: int | None = None,
             sealed: bool = False, size: int | None = None, limit: int | None = None, force: bool = False,
             seed: int = 0, seconds: float = 4.0, speech: str = "speech*", device: str = "auto"):
    """Measure the pairs that ``covers`` and ``secrets`` make and write the report into ``out``; ``device``:
    where the networks run (auto, cpu or cuda). A folder it makes is removed again if the evaluation fails
    before writing in it."""
    with output_folder(out):
        return _evaluate(Path(covers), Path(secrets), Path(out), model, attack, lsb, sealed, size, limit, force,
                         seed, seconds, speech, device)


def _evaluate(covers, secrets, out, model, attack, lsb, sealed, size, limit, force, seed, seconds, speech, device):
    if list_videos(covers):
        if attack or lsb is not None or size is not None or sealed:
            raise ExypnoError("--attack, --lsb, --sealed and --size are for image pairs")
        pairs = video_pairs(covers, secrets)[: limit or None]
        return evaluate_video_pairs(pairs, out, model=model, force=force, device=device)
    if list_sounds(covers) or list_sounds(secrets):
        if lsb is not None or sealed:
            raise ExypnoError("--lsb and --sealed are for image pairs")
        pairs = sound_pairs(covers, secrets)[: limit or None]
        if attack:  # cuts, noise and volume changes of the sound stego file
            return evaluate_sound_attacks(pairs, out, attacks=attack, model=model, seconds=seconds,
                                          size=256 if size is None else size, seed=seed, device=device)
        return evaluate_audio_pairs(pairs, out, model=model, seconds=seconds, size=256 if size is None else size, force=force,
                                    speech=speech, device=device)
    if attack:
        if lsb is not None or sealed:
            raise ExypnoError("--attack evaluates a model; --lsb and --sealed cannot be combined with it")
        pairs = pair_files(covers, secrets)[: limit or None]
        return evaluate_attacks(pairs, out, attacks=attack, model=model or "default", size=size, seed=seed,
                                device=device)
    return evaluate_folders(covers=covers, secrets=secrets, out=out, model=model or "default", size=size, lsb=lsb,
                            limit=limit, force=force, sealed=sealed, device=device)

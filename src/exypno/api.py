"""The Python face: ``exypno.hide`` / ``exypno.reveal``, ``seal`` / ``unseal``, and ``Stego`` for a model kept
loaded. It only wires: the pairing follows from the file types (``pairings``), the model from the registry,
and the work is done below (``inference``, ``payload``).

Images go in as paths, PIL images or arrays and come out as (H, W, 3) uint8 arrays, optionally written as
PNG; any size works (``inference/tiling.py``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .baselines import LSB, lsb_embed_bits
from .errors import ExypnoError
from .inference import Stego, load, open_model
from .media.audio import audio_seconds
from .media.image import check_output, image_size, read_image, write_png
from .media.video import probe
from .nets import PRESETS, StegoModel, count_parameters, gmac_per_megapixel
from .nets.files import export_part
from .pairings import hide_file, pairing_of, reveal_file, reveal_pairing
from .pairings.kinds import kind
from .payload import seal as _seal
from .registry import CODES, DEFAULT_MODEL, model_path, shipped, shipped_model
from .steganalysis import structural

__all__ = ["DEFAULT_MODEL", "Outcome", "Stego", "analyze", "capacity", "export", "hide", "hide_many", "load",
           "lsb_embed", "lsb_hide", "lsb_reveal", "measure", "models", "open_model", "presets", "reveal",
           "reveal_many", "seal", "seal_file", "seal_many", "unseal", "unseal_many"]


def hide(cover, secret, output=None, model: str | Path | None = None, force: bool = False, key: str | None = None,
         device: str = "auto", progress: bool = False, on_note=None):
    """Hide ``secret`` in ``cover``; the pairing follows from the file types, as in the CLI.

    Image in image returns the stego (H, W, 3) uint8 and writes it only if ``output`` is given. With audio or
    video on either side (a path ending in .wav/.flac/.ogg, or .mkv/.mp4/...), ``output`` is required; the
    return is the stego as written (a waveform on the 16-bit grid, or an image), or None for a video.
    ``model``: default, the pairing's shipped one (or a NAME.onnx file, run by onnxruntime). ``key``: block
    shuffling, for a secret hidden in a video. ``device``: auto, cpu or cuda. ``progress``: a progress bar for
    a video. ``on_note``: called with each note on what was done to the input (a secret resized to the cover,
    a picture squeezed into a short sound).
    """
    stego_model = load(model or shipped_model(pairing_of(cover, secret)), device)
    stego, notes = hide_file(stego_model, cover, secret, output, key=key, force=force, progress=progress)
    for note in notes if on_note else ():
        on_note(note)
    return stego


def reveal(stego, output=None, model: str | Path | None = None, force: bool = False,
           size: tuple[int, int] | None = None, key: str | None = None, align: bool = True, device: str = "auto",
           progress: bool = False):
    """Reveal the secret of ``stego``; ``output``'s type says what the secret is (an image by default).

    From audio or video, or to audio, ``output`` is required. Returns the secret as written (an image, or
    samples on the 16-bit grid), or None when written from a video as a video or a sound. ``size`` (W, H)
    gives an image revealed from audio its size back; ``key``: the shuffling key used to hide in a video;
    ``align=False``: an image stego is known to be uncropped, so its pixel grid is not searched."""
    return reveal_file(load(model or shipped_model(reveal_pairing(stego, output)), device), stego, output, key=key,
                       size=size, force=force, align=align, progress=progress)


# --- sealing files (payload/seal.py) ------------------------------------------------------------------


def seal(cover, file, passphrase: str, output: str | Path | None = None, name: str | None = None,
         force: bool = False, robust: bool = False, fit: bool = False, weak_passphrase: bool = False,
         device: str = "auto") -> np.ndarray:
    """Seal ``file`` (a path, or bytes with ``name``) in ``cover``: compressed, encrypted, error-corrected.

    A passphrase under 8 characters is refused unless ``weak_passphrase``; each guess at one costs a slow KDF.
    ``robust``: a mode that carries far less but survives a re-save as JPEG at quality 90 (``capacity``).
    ``fit``: a picture larger than the cover carries is re-encoded as AVIF, as good as fits (``unseal`` then
    gives NAME.avif); see ``payload/picture.py``. ``device``: where the bit-hiding model runs (auto, cpu, cuda).

    Returns the stego as uint8 (H, W, 3), written as PNG to ``output`` if given. Raises ``ExypnoError`` (a
    ``PayloadError``) when the file does not fit or would not decode back.
    """
    return seal_file(cover, file, passphrase, output=output, name=name, force=force, robust=robust, fit=fit,
                     weak_passphrase=weak_passphrase, device=device)[0]


def seal_file(cover, file, passphrase: str, output: str | Path | None = None, name: str | None = None,
              force: bool = False, robust: bool = False, fit: bool = False,
              weak_passphrase: bool = False, device: str = "auto") -> tuple[np.ndarray, dict]:
    """``seal``, and what was done: (stego, info), info with the mode, the file's stored name, the cover's
    PSNR, the LDPC rate and Reed-Solomon parity, the JPEG quality checked, and the re-encoded picture if any.
    ``passphrase`` may be a function that asks for it: it is called once the output and the file are checked."""
    if output is not None:
        check_output(output, force)  # fail before reading the file or asking for anything slow
    if isinstance(file, (bytes, bytearray)):
        data, name = bytes(file), name or "sealed.bin"
    else:
        path = Path(file)
        if not path.is_file():
            raise ExypnoError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
        try:
            data = path.read_bytes()  # an empty file is a file too: it seals and comes back empty
        except OSError as e:
            raise ExypnoError(f"{path}: cannot read ({e.strerror or e})") from None
        name = name or path.name
    passphrase = passphrase() if callable(passphrase) else passphrase
    stego, info = _seal.seal_file(cover, data, name, passphrase, output=output, force=force,
                                  mode="robust" if robust else "png", fit=fit, weak_passphrase=weak_passphrase,
                                  device=device)
    return stego, {**info, "bytes": len(data)}


def unseal(stego, passphrase: str, device: str = "auto") -> tuple[str, bytes]:
    """(original file name, bytes), exactly as sealed; ``ExypnoError`` says why not (wrong passphrase, nothing
    sealed, damaged beyond repair). ``device``: auto, cpu or cuda."""
    return _seal.unseal(stego, passphrase, device=device)


def capacity(cover) -> dict[str, dict]:
    """Bytes a file may have (before compression) in each seal mode, and the net bits per pixel."""
    return _seal.capacity(cover)


# --- folders in, folders out ----------------------------------------------------------------------------

BATCH = 8  # image pairs of one size that go through the networks together (hide_many)


@dataclass
class Outcome:
    """One file of a ``*_many`` call: what was read, what was written (None where it failed), and why not."""

    source: Path
    output: Path | None = None
    error: str | None = None


def folder_files(source) -> list[Path]:
    """A folder's files in sorted name order (hidden ones left out), or a list of paths as given."""
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.is_dir():
            raise ExypnoError(f"{folder}: not a folder")
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise ExypnoError(f"{folder}: no files in the folder")
        return files
    return [Path(p) for p in source]


def _stego_suffix(cover: Path) -> str:
    from .pairings.kinds import kind

    return {"image": ".png", "audio": ".wav", "video": ".mkv"}[kind(cover)]


def _each(items, progress: bool, what: str):
    from tqdm import tqdm

    return tqdm(items, desc=what, unit="file", disable=not progress, leave=False)


def _report(outcome: Outcome, error: ExypnoError, progress: bool) -> None:
    from tqdm import tqdm

    outcome.error = str(error)
    if progress:
        tqdm.write(f"exypno: error: {outcome.source}: {error}", file=__import__("sys").stderr)


def hide_many(covers, secrets, output_dir, model: str | Path | None = None, force: bool = False,
              device: str = "auto", progress: bool = False) -> list[Outcome]:
    """Hide secrets in covers, paired in sorted name order (``secrets`` may be one file, for every cover), into
    ``output_dir``/COVER_STEM.png (.wav, .mkv). A file that fails is reported in its ``Outcome`` and the rest
    go on. Image pairs of the same size go through the networks ``BATCH`` at a time."""
    out_dir = Path(output_dir)
    if not out_dir.is_dir():
        raise ExypnoError(f"{out_dir}: output folder does not exist")
    cover_files = folder_files(covers)
    one = isinstance(secrets, (str, Path)) and Path(secrets).is_file()
    secret_files = [Path(secrets)] * len(cover_files) if one else folder_files(secrets)
    if len(secret_files) != len(cover_files):
        raise ExypnoError(f"{len(cover_files)} covers but {len(secret_files)} secrets: give as many, or one secret")
    outcomes = [Outcome(c, out_dir / f"{c.stem}{_stego_suffix(c)}") for c in cover_files]
    names = [o.output for o in outcomes]
    for o in outcomes:
        if names.count(o.output) > 1:
            _report(o, ExypnoError(f"{o.output.name}: another cover has the same name (stem)"), progress)
    stego = load(model or shipped_model(pairing_of(cover_files[0], secret_files[0])), device)
    batch: list[tuple[Outcome, np.ndarray, np.ndarray]] = []
    for o, secret in zip(_each(outcomes, progress, "hide"), secret_files):
        if o.error:
            continue
        try:
            check_output(o.output, force)
            if isinstance(stego, Stego) and pairing_of(o.source, secret) == "image-in-image":
                cover_img, secret_img = read_image(o.source), read_image(secret)
                if batch and batch[0][1].shape != cover_img.shape:
                    batch = _hide_batch(stego, batch, force, progress)
                batch.append((o, cover_img, secret_img))
                if len(batch) == BATCH:
                    batch = _hide_batch(stego, batch, force, progress)
            else:
                hide_file(stego, o.source, secret, o.output, force=force)
        except ExypnoError as e:
            _report(o, e, progress)
    _hide_batch(stego, batch, force, progress)
    for o in outcomes:
        if o.error:
            o.output = None
    return outcomes


def _hide_batch(stego: Stego, batch: list[tuple[Outcome, np.ndarray, np.ndarray]], force: bool, progress: bool
                ) -> list:
    """Hide a batch of one cover size and write each stego; an error is its file's, or, from the networks,
    every file's of the batch. Returns an empty batch."""
    try:
        stegos = stego.hide_arrays([c for _, c, _ in batch], [s for _, _, s in batch]) if batch else []
    except ExypnoError as e:
        for o, _, _ in batch:
            _report(o, e, progress)
        return []
    for (o, _, _), img in zip(batch, stegos):
        try:
            write_png(o.output, img, force)
        except ExypnoError as e:
            _report(o, e, progress)
    return []


def reveal_many(stegos, output_dir, model: str | Path | None = None, force: bool = False, suffix: str = ".png",
                device: str = "auto", progress: bool = False, align: bool = True) -> list[Outcome]:
    """Reveal every stego (a folder, or a list of paths) into ``output_dir``/STEM``suffix``; a file that fails is
    reported in its ``Outcome`` and the rest go on."""
    out_dir = Path(output_dir)
    if not out_dir.is_dir():
        raise ExypnoError(f"{out_dir}: output folder does not exist")
    outcomes = [Outcome(s, out_dir / f"{s.stem}{suffix}") for s in folder_files(stegos)]
    stego_model = load(model or shipped_model(reveal_pairing(outcomes[0].source, outcomes[0].output)), device)
    for o in _each(outcomes, progress, "reveal"):
        try:
            reveal_file(stego_model, o.source, o.output, force=force, align=align)
        except ExypnoError as e:
            _report(o, e, progress)
            o.output = None
    return outcomes


def seal_many(covers, file, passphrase: str, output_dir, force: bool = False, robust: bool = False,
              fit: bool = False, progress: bool = False, device: str = "auto") -> list[Outcome]:
    """Seal ``file`` (one, for every cover; or a folder, paired with the covers in sorted name order) in every
    cover, into ``output_dir``/COVER_STEM.png; a file that fails is reported in its ``Outcome``."""
    out_dir = Path(output_dir)
    if not out_dir.is_dir():
        raise ExypnoError(f"{out_dir}: output folder does not exist")
    cover_files = folder_files(covers)
    files = [Path(file)] * len(cover_files) if Path(file).is_file() else folder_files(file)
    if len(files) != len(cover_files):
        raise ExypnoError(f"{len(cover_files)} covers but {len(files)} files: give as many, or one file")
    outcomes = [Outcome(c, out_dir / f"{c.stem}.png") for c in cover_files]
    for o, f in zip(_each(outcomes, progress, "seal"), files):
        try:
            seal(o.source, f, passphrase, output=o.output, force=force, robust=robust, fit=fit, device=device)
        except ExypnoError as e:
            _report(o, e, progress)
            o.output = None
    return outcomes


def unseal_many(stegos, passphrase: str, output_dir, force: bool = False, progress: bool = False,
                device: str = "auto") -> list[Outcome]:
    """Unseal every stego into ``output_dir`` under the name it was sealed with; a file that fails (or whose
    name another stego's file already took) is reported in its ``Outcome``. The sender's name is made safe
    (``media.files.safe_name``) and never written over a file, even with ``force``."""
    from .media.files import safe_name, write_bytes

    out_dir = Path(output_dir)
    if not out_dir.is_dir():
        raise ExypnoError(f"{out_dir}: output folder does not exist")
    outcomes = [Outcome(s) for s in folder_files(stegos)]
    for o in _each(outcomes, progress, "unseal"):
        try:
            name, data = unseal(o.source, passphrase, device)
            o.output = write_bytes(out_dir / safe_name(name), data, force=False)
        except ExypnoError as e:
            _report(o, e, progress)
    return outcomes


# --- what the apps show beside the work: models, sizes, analysis ----------------------------------------


def models() -> dict[str, dict]:
    """Every shipped model by name, with its card; the codes (``registry.CODES``) with a line saying what they do."""
    cards = {f.stem: json.loads(f.with_suffix(".json").read_text()) for f in shipped()}
    return cards | {name: {"name": name, "kind": "code", "purpose": what} for name, what in CODES.items()}


def measure(path) -> dict:
    """A media file's kind and size, read from its header without decoding it: ``{"kind": "image", "pixels": N}``,
    ``{"kind": "audio", "seconds": S}`` or ``{"kind": "video", "frames": N, "pixels": N}`` (per frame)."""
    what = kind(path)
    if what == "audio":
        return {"kind": what, "seconds": audio_seconds(path)}
    if what == "video":
        info = probe(path)
        return {"kind": what, "frames": info.frames, "pixels": info.width * info.height}
    w, h = image_size(path)
    return {"kind": what, "pixels": w * h}


def analyze(image) -> dict:
    """The structural LSB detectors' scores of one image (a path, bytes or array), their fusion and verdict."""
    return structural.analyze(read_image(image))


# --- the k-bit LSB baseline (baselines/lsb.py) ---------------------------------------------------------


def lsb_hide(cover, secret, bits: int = 3, output=None, force: bool = False, on_note=None) -> np.ndarray:
    """The top ``bits`` bits of the secret in the low bits of the cover (the secret resized to the cover's size
    if it differs; ``on_note`` hears of it); written as PNG to ``output`` if given."""
    hider = LSB(bits)
    stego = hider.hide(cover, secret, output=output, force=force)
    for note in hider.notes if on_note else ():
        on_note(note)
    return stego


def lsb_reveal(stego, bits: int = 3, output=None, force: bool = False) -> np.ndarray:
    """The secret's top ``bits`` bits back from an LSB stego; written as PNG to ``output`` if given."""
    return LSB(bits).reveal(stego, output=output, force=force)


def lsb_embed(cover, rate: float, seed: int = 0, matching: bool = False, order: str = "random", output=None,
              force: bool = False) -> np.ndarray:
    """Random message bits in a fraction ``rate`` of the cover's values, to calibrate detectors."""
    if output is not None:
        check_output(output, force)
    stego = lsb_embed_bits(read_image(cover), rate, np.random.default_rng(seed), matching=matching, order=order)
    if output is not None:
        write_png(output, stego, force)
    return stego


# --- models (registry.py, nets/files.py) -----------------------------------------------------------------


def presets() -> list[dict]:
    """The network presets: name, parameters (CN + EN + DN, RGB in RGB) and GMAC per megapixel."""
    out = []
    for name, config in PRESETS.items():
        model = StegoModel(config)
        out.append({"name": name, "parameters": count_parameters(model),
                    "gmac_per_megapixel": gmac_per_megapixel(model, 64)})
    return out


def export(model: str | Path, output: str | Path, part: str = "full", force: bool = False) -> Path:
    """Write the ``part`` of a model ("full", "sender": CN + EN, "receiver": DN) as OUTPUT.safetensors + .json."""
    out = Path(output)
    if out.suffix != ".safetensors":
        raise ExypnoError(f"{out}: the output must end in .safetensors")
    for path in (out, out.with_suffix(".json")):
        check_output(path, force, lossless=False)
    export_part(model_path(model), out, part)
    return out

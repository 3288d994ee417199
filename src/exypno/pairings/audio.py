"""Audio pairings on the image-shaped networks: audio in audio, image in audio, audio in image.

Sound becomes a grid of 256 rows by one column per frame (``media/audio.py``); the model card says which
grid its networks saw: an STFT of Hann frames at a hop of 128 samples, ``block`` frames of 510 samples side
by side, or the samples themselves, 512 to a column (``waveform``); a stego on the last two runs to the end
of its last frame. The rules:

- **audio in audio**: the secret is as long as the cover at most; a longer one is refused with the
  capacity stated, a shorter one is padded with silence. The stego is a 16 kHz mono 16-bit WAV.
- **image in audio**: the secret image is resized to 256 rows, keeping its aspect, so a W x H image has
  ``round(W * 256 / H)`` columns and needs 128 samples of cover per column (``image_seconds``; a shorter
  cover is refused). It is then stretched in time over the whole cover's frames, so a longer cover spreads
  each pixel over more frames and the reveal, shrunk back with ``reveal_audio(..., size=(W, H))``, averages
  them. A ``block`` frame is four such hops: at the shortest cover the picture is squeezed to a quarter of
  its columns, and ``hide_audio`` says how long a cover keeps them all. Without ``size`` the reveal is the
  stretched picture, 256 rows by one column per frame.
- **audio in image**: every full band of 256 rows of the cover carries ``width`` frames of secret, bands
  one after another in time (``image_capacity_seconds``). A shorter secret is padded with silence, and the
  reveal gives the full capacity, silence included.

Reading a stego WAV at another rate than 16 kHz would resample it and destroy the secret, so it is refused.

A sound stego of a fixed-code model (``NetConfig.qim``) carries a pilot in every frame (``pilots.py``): the
receiver finds the frames and the gain from them, so a stego cut at any sample reveals what it keeps (a sound
on the waveform grid to the sample, in the stego's own time line, 511 samples of secret a frame; a picture
its whole frames' columns), and a sound without pilots is refused instead of revealing noise.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from ..errors import ExypnoError, ModelError
from ..inference.tiling import run_tiled
from ..media import audio, files
from ..media.image import check_output, check_pixels, read_image, resize, write_png
from ..media.tensor import to_image, to_tensor
from ..nets.models import fixed_code
from . import pilots
from .kinds import check_model, pairing_of, reveal_pairing

ROWS = audio.Spectrogram().bins  # 256: the height of every audio grid, and of an image paired with audio
# columns mirrored in at both ends of a cut picture's grid, as context for DN's trunk, which learnt to add
# detail from the columns around (copies of the edge column or zeros did worse in a probe). The columns next
# to a cut still reveal worse than the whole stego's: benchmarks/audio_cuts.py prints by how much.
CUT_CONTEXT = 8
RATE = audio.SAMPLE_RATE


def _spectrogram(card: dict) -> audio.Spectrogram:
    name = card.get("spectrogram", "complex")
    if name not in audio.SPECTROGRAMS:
        raise ModelError(f"model card names an unknown spectrogram {name!r}")
    return audio.SPECTROGRAMS[name]


def _secret_grid(card: dict) -> audio.Spectrogram | audio.Waveform:
    return audio.secret_grid(card.get("spectrogram", "complex"))


def _ready(stego_model, pairing: str, lacking: str, action: str):
    """(spectrogram, networks) of a model that does ``pairing`` and is not the ``lacking`` part."""
    check_model(stego_model, pairing)
    if stego_model.part == lacking:
        what = "a receiver (decoder only)" if lacking == "receiver" else "a sender (compressor + encoder)"
        raise ModelError(f"this model file is {what}: it cannot {action}")
    return _spectrogram(stego_model.card), stego_model.model


def seconds(frames: int, spec: audio.Spectrogram | None = None) -> float:
    return (spec or audio.Spectrogram()).samples(frames) / RATE


def image_columns(width: int, height: int) -> int:
    """Columns an image of this size has once resized to the grid's 256 rows."""
    return max(1, round(width * ROWS / height))


def image_frames(width: int, height: int, spec: audio.Spectrogram | None = None) -> int:
    """Frames of ``spec`` in the shortest cover an image of this size may have: one hop of 128 samples (8 ms)
    per column. A frame of the Hann grid is such a hop, so there every column gets a frame. A ``block`` frame
    is 510 samples: at that length the image is squeezed to a quarter of its columns, and a cover four times
    as long keeps them all (a fixed code carries one value per grid value, where the Hann grid's four-fold
    overlap let a learnt model spread a picture thinner)."""
    hann = audio.Spectrogram()
    spec = spec or hann
    return -(-image_columns(width, height) * hann.hop // spec.hop)


def image_seconds(width: int, height: int, spec: audio.Spectrogram | None = None) -> float:
    return seconds(image_frames(width, height, spec), spec)


def image_capacity_frames(height: int, width: int) -> int:
    return (height // ROWS) * width


def image_capacity_seconds(height: int, width: int) -> float:
    frames = image_capacity_frames(height, width)
    return seconds(frames) if frames else 0.0


def into_bands(grid: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(1, 2, 256, (height // 256) * width) audio grid -> (1, 2, height, width): band after band, rows below
    the last full band left silent."""
    bands = torch.zeros(1, 2, height, width)
    for band in range(height // ROWS):
        bands[..., band * ROWS : (band + 1) * ROWS, :] = grid[..., band * width : (band + 1) * width]
    return bands


def from_bands(bands: torch.Tensor) -> torch.Tensor:
    """The inverse of ``into_bands``: the full 256-row bands, one after another in time."""
    return torch.cat([bands[..., b * ROWS : (b + 1) * ROWS, :] for b in range(bands.shape[-2] // ROWS)], dim=-1)


def hide_grid_in_image(stego_model, cover_img: np.ndarray, grid: torch.Tensor) -> np.ndarray:
    """The 8-bit stego of a cover image carrying ``grid`` (its capacity's worth of STFT frames)."""
    h, w = cover_img.shape[:2]
    model = stego_model.model
    return to_image(_run(stego_model, model.hide, [to_tensor(cover_img), into_bands(grid, h, w)],
                          model.config.cover_channels))


def reveal_grid_from_image(stego_model, img: np.ndarray) -> torch.Tensor:
    """The STFT frames an image carries, (1, 2, 256, capacity)."""
    model = stego_model.model
    return from_bands(_run(stego_model, model.reveal, [to_tensor(img)], model.config.secret_channels))


def _run(stego_model, fn, inputs, out_channels):
    with torch.inference_mode():
        inputs = [x.to(stego_model.device) for x in inputs]
        return run_tiled(fn, inputs, stego_model.model.multiple, out_channels).cpu()


def _read_stego_wav(path: Path) -> np.ndarray:
    import soundfile as sf

    path = files.check_input(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        raise ExypnoError(f"{path}: not an audio file Exypno can read") from None
    if info.samplerate != RATE or info.channels != 1:
        raise ExypnoError(f"{path}: a stego is 16 kHz mono; this file is {info.samplerate} Hz, {info.channels} "
                          "channel(s), so it was converted after hiding and holds no secret any more")
    return audio.read_audio(path)


def hide_audio(stego_model, cover, secret, output, force: bool = False) -> tuple[np.ndarray, list[str]]:
    """Hide ``secret`` in ``cover`` (one of them, or both, audio) and write the stego to ``output``.

    Returns the stego as written (an 8-bit image, or a waveform on the 16-bit grid) and notes for the user."""
    pairing = pairing_of(cover, secret)
    spec, model = _ready(stego_model, pairing, "receiver", "hide")
    notes = []
    if pairing == "audio-in-image":
        check_output(output, force)
        cover_img = read_image(cover)
        h, w = cover_img.shape[:2]
        capacity = image_capacity_frames(h, w)
        if not capacity:
            raise ExypnoError(f"{cover}: an image must be at least {ROWS} pixels tall to carry audio")
        wave = audio.read_audio(Path(secret))
        frames = spec.frames(len(wave))
        if frames > capacity:
            raise ExypnoError(f"{secret}: {len(wave) / RATE:.2f} s of audio; this {w}x{h} image carries at most "
                              f"{image_capacity_seconds(h, w):.2f} s")
        padded = np.zeros(spec.samples(capacity), np.float32)
        padded[: len(wave)] = wave
        stego = hide_grid_in_image(stego_model, cover_img, spec.to_tensor(torch.from_numpy(padded)[None]))
        write_png(output, stego, force)
        notes.append(f"the stego carries {capacity} frames ({seconds(capacity):.2f} s); the secret fills "
                     f"{len(wave) / RATE:.2f} s of it")
        return stego, notes

    cover_wave = audio.read_audio(Path(cover))
    cover_seconds = len(cover_wave) / RATE
    audio.check_wav_output(output, force)
    if not spec.center:  # block grids hold whole frames: the stego runs to the end of the last (< 32 ms more)
        cover_wave = np.pad(cover_wave, (0, (-len(cover_wave)) % spec.hop))
    frames = spec.frames(len(cover_wave))
    if pairing == "audio-in-audio":
        wave = audio.read_audio(Path(secret))
        if len(wave) > len(cover_wave):
            raise ExypnoError(f"{secret}: {len(wave) / RATE:.2f} s of audio; the cover carries at most "
                              f"{len(cover_wave) / RATE:.2f} s")
        secret_grid = _secret_grid(stego_model.card)
        if not spec.center and secret_grid.samples(frames) < len(wave):
            # a waveform grid's pilots take one sample in 512: the stego runs on with silence to carry it all
            frames = -(-len(wave) // secret_grid.samples(1))
            notes.append(f"the stego runs {(spec.samples(frames) - len(cover_wave)) / RATE * 1000:.0f} ms past "
                         "the cover's end (silence), to leave room for the pilots")
            cover_wave = np.pad(cover_wave, (0, spec.samples(frames) - len(cover_wave)))
        padded = np.zeros(len(cover_wave) if spec.center else secret_grid.samples(frames), np.float32)
        padded[: len(wave)] = wave
        secret_t = secret_grid.to_tensor(torch.from_numpy(padded)[None])
    else:  # image in audio
        img = read_image(secret)
        sh, sw = img.shape[:2]
        need, need_seconds = image_frames(sw, sh, spec), image_seconds(sw, sh, spec)
        if need > frames:
            raise ExypnoError(f"{secret}: a {sw}x{sh} image needs {need_seconds:.2f} s of cover; "
                              f"this cover is {cover_seconds:.2f} s")
        secret_t = to_tensor(resize(img, ROWS, frames))  # stretched over the whole cover (see module doc)
        notes.append(f"the image needs {need} frames ({need_seconds:.2f} s) and is stretched over "
                     f"the cover's {frames} ({frames / need:.1f} times); reveal it with --size {sw}x{sh}")
        columns = image_columns(sw, sh)
        if frames < columns:
            notes.append(f"at 256 rows it has {columns} columns, squeezed into {frames}: "
                         f"{seconds(columns, spec):.2f} s of cover would keep every one")
    exact = bool(model.config.lattice)
    gain = audio.level_gain(cover_wave, exact)
    wave = _stego_wave(stego_model, spec, cover_wave, secret_t, gain)
    if exact:  # the receiver must bring the stego to the very gain the sender used (see level_gain)
        heard = audio.level_gain(audio.pcm16_values(wave), exact)
        if heard != gain:
            gain = heard  # the level sits on the edge between two gains: hide at the one the stego will show
            wave = _stego_wave(stego_model, spec, cover_wave, secret_t, gain)
            if audio.level_gain(audio.pcm16_values(wave), exact) != gain:
                raise ExypnoError(f"{cover}: its level lies on the edge between two of the model's gains; "
                                  "change its volume by 1% and hide again")
    audio.write_wav16(output, wave, RATE, force)
    return audio.pcm16_values(wave), notes


def _stego_wave(stego_model, spec, cover_wave: np.ndarray, secret_t: torch.Tensor, gain: float) -> np.ndarray:
    """The stego waveform of a sound cover (float): the networks see the cover at ``gain``. A fixed code's
    stego carries a pilot in every frame (``pilots.py``), so that a cut stego still reveals."""
    model = stego_model.model
    cover_grid = spec.to_tensor(torch.from_numpy(cover_wave * gain)[None])
    stego = _run(stego_model, model.hide, [cover_grid, secret_t], model.config.cover_channels)
    code = fixed_code(model.config)
    if code is not None:
        stego = pilots.write_pilots(stego, code, spec)
    return spec.to_wave(stego, len(cover_wave))[0].numpy() / gain


def reveal_audio(stego_model, stego, output, force: bool = False, size: tuple[int, int] | None = None) -> np.ndarray:
    """Reveal the secret of ``stego`` into ``output`` (a .wav for audio, a .png for an image); return it.

    ``size`` (W, H): for image in audio, the secret's size; the copies along the cover are averaged.
    """
    pairing = reveal_pairing(stego, output)
    if size is not None:
        check_pixels(*size, "--size")
    spec, model = _ready(stego_model, pairing, "sender", "reveal")
    if pairing == "audio-in-image":
        audio.check_wav_output(output, force)
        img = read_image(stego)
        h, w = img.shape[:2]
        if h < ROWS:
            raise ExypnoError(f"{stego}: under {ROWS} pixels tall, so it carries no audio")
        grid = reveal_grid_from_image(stego_model, img)
        wave = spec.to_wave(grid, spec.samples(grid.shape[-1]))[0].numpy()
        audio.write_wav16(output, wave, RATE, force)
        return audio.pcm16_values(wave)
    wave = _read_stego_wav(Path(stego))
    if pairing == "audio-in-audio":
        audio.check_wav_output(output, force)
    else:
        check_output(output, force)
    if spec.frames(len(wave)) < 1:
        raise ExypnoError(f"{stego}: {len(wave) / RATE * 1000:.0f} ms of sound, too short to carry anything")
    gain = audio.level_gain(wave, bool(model.config.lattice))  # as the sender saw the cover
    code = fixed_code(model.config)
    start, index = 0, 0
    if code is not None:  # find the frames and the gain from the pilots: the stego may have been cut
        found = pilots.find_frames(wave, code, spec, gain)
        if found is None:
            raise ExypnoError(f"{stego}: no frame carries this model's pilots: the sound holds no secret of this "
                              "model, or was changed after hiding (re-encoded, resampled, mixed, or its volume "
                              "changed)")
        start, gain, index = found.offset, found.gain, found.index
    # On a waveform grid the cut frame before the first whole one still reveals, sample by sample: pad it out
    # to a whole frame at the front. A spectrogram's cut frame is lost: drop it.
    shift = spec.hop - start if start and isinstance(spec, audio.Waveform) else -start
    body = np.concatenate([np.zeros(shift, np.float32), wave]) if shift > 0 else wave[-shift:]
    body = np.pad(body, (0, (-len(body)) % spec.hop if isinstance(spec, audio.Waveform) else 0))
    grid = spec.to_tensor(torch.from_numpy(body * gain)[None])
    if code is not None:
        grid = pilots.clear_pilots(grid, code, spec, picture=pairing == "image-in-audio")
    # Put every column where its index modulo 4 puts it in the stego as written: the Haar trunks work on
    # blocks of 4 columns, and a picture's chromas alternate (Cb on even columns, Cr on odd ones).
    lead = (index - (1 if shift > 0 else 0)) % 4  # the frame padded out before the first whole one, if any
    trail = 0
    if pairing == "image-in-audio" and start:  # a cut picture: its trunk's context at either end, mirrored
        lead, trail = lead + CUT_CONTEXT, CUT_CONTEXT  # (a mirror keeps every column's parity)
        mode = "reflect" if grid.shape[-1] > lead else "replicate"  # a mirror needs more columns than it adds
        grid = torch.nn.functional.pad(grid, (lead, trail, 0, 0), mode=mode)
    elif lead:
        grid = torch.nn.functional.pad(grid, (lead, 0))
    grid = _run(stego_model, model.reveal, [grid], model.config.secret_channels)
    grid = grid[..., lead : grid.shape[-1] - trail]
    if pairing == "audio-in-audio":
        secret_grid = _secret_grid(stego_model.card)
        if isinstance(secret_grid, audio.Waveform):  # the samples carried inside the file, padding left out
            flat = dataclasses.replace(secret_grid, emphasis=0.0)
            revealed = flat.to_wave(grid, flat.samples(grid.shape[-1]))[0].numpy()  # still pre-emphasised
            revealed = audio.deemphasize(revealed.reshape(-1, flat.carried), secret_grid.emphasis,
                                         first=max(shift, 0)).reshape(-1)
            i = np.arange(len(revealed))
            at = i // flat.carried * spec.hop + i % flat.carried  # where each sample sat in ``body``
            revealed_wave = revealed[(at >= max(shift, 0)) & (at < max(shift, 0) + len(wave))]
        else:  # on the stego's own time line; a spectrogram's cut first frame is silence
            revealed = secret_grid.to_wave(grid, len(body))[0].numpy()
            revealed_wave = np.concatenate([np.zeros(-shift, np.float32), revealed])[: len(wave)]
        audio.write_wav16(output, revealed_wave, RATE, force)
        return audio.pcm16_values(revealed_wave)
    img = to_image(grid)  # (256, frames, 3): the image as stretched over the cover
    if size is not None:
        sw, sh = size
        if image_frames(sw, sh, spec) > img.shape[1]:
            raise ExypnoError(f"{stego}: too short to hold a {sw}x{sh} image")
        img = resize(img, sh, sw)
    write_png(output, img, force)
    return img

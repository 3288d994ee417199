"""Fuzz targets: each takes one input (bytes) and returns quietly or raises ``ExypnoError``; anything else that
escapes is a bug. atheris drives them (``python -m tests.fuzz_targets TARGET -max_total_time=20``), from the
test suite (tests/test_fuzz.py, bounded) and from benchmarks/fuzz.py (the long run, corpus in tests/corpus/).

- ``container``: the sealed container after the channel, ``unseal_bytes`` (payload/container.py), with keys
  derived once, as a receiver does.
- ``media``: the first byte picks a reader, the rest is the file: PNG/any picture (``read_image``), WAV/FLAC/
  OGG (``read_audio``), a video's ``probe`` and its first frames.
- ``spec``: the attack and noise-layer grammars (``channel.spec``: ``parse_attacks``, ``parse_sound_attacks``, ``NoiseChannel``).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
PASSPHRASE = "fuzzing passphrase"


def container_layout():
    """The layout and keys the container target unseals with (the key is derived once, as a receiver does)."""
    global KEYS
    from exypno.payload import Keys, Layout

    KEYS = Keys.derive(PASSPHRASE, bytes(16))
    return Layout(capacity=255 * 4, nsym=32)


def container(data: bytes) -> None:
    from exypno.payload import PayloadError, unseal_bytes

    try:
        name, body = unseal_bytes(data, KEYS, LAYOUT, "png")
    except PayloadError:
        return
    assert isinstance(name, str) and isinstance(body, bytes)


_FILES = {0: ".png", 1: ".wav", 2: ".mkv"}
_SCRATCH = tempfile.mkdtemp(prefix="exypno-fuzz-")


def media(data: bytes) -> None:
    from exypno.errors import ExypnoError
    from exypno.media import audio, video
    from exypno.media.image import read_image

    if not data:
        return
    kind, body = data[0] % 3, data[1:]
    try:
        if kind == 0:
            read_image(body)
            return
        path = os.path.join(_SCRATCH, "input" + _FILES[kind])
        with open(path, "wb") as f:
            f.write(body)
        if kind == 1:
            audio.read_audio(Path(path))
        else:
            video.probe(Path(path))
            for i, _ in enumerate(video.frames(Path(path))):
                if i == 2:
                    break
    except ExypnoError:
        return


def spec(data: bytes) -> None:
    from exypno.errors import ExypnoError
    from exypno.channel.attacks import parse_attacks
    from exypno.evaluate.sound_attacks import parse_sound_attacks
    from exypno.channel.noise import NoiseChannel

    text = data.decode("utf-8", "replace")
    for parse in (parse_attacks, parse_sound_attacks, NoiseChannel):
        try:
            parse(text)
        except ExypnoError:
            pass


TARGETS = {"container": container, "media": media, "spec": spec}
LAYOUT = KEYS = None


def seeds(target: str) -> list[bytes]:
    """Valid inputs to start from: the fuzzer mutates them into the parser's deeper paths."""
    import io

    import numpy as np

    if target == "container":
        from exypno.payload import seal_bytes

        return [seal_bytes(b"hello" * n, f"f{n}.txt", KEYS, LAYOUT, "png") for n in (0, 1, 40)]
    if target == "spec":
        return [b"default", b"jpeg:90,crop:0.5,gaussian:2", b"cut:0.5,noise:2,volume:0.7",
                b"gaussian:2,jpeg:50-95,crop:0.5-1,identity"]
    from PIL import Image

    rng = np.random.default_rng(0)
    out = []
    for fmt in ("PNG", "GIF", "BMP"):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (6, 5, 3), dtype=np.uint8)).save(buf, format=fmt)
        out.append(b"\0" + buf.getvalue())
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, rng.normal(0, 0.1, 200).astype(np.float32), 8000, format="WAV", subtype="PCM_16")
    out.append(b"\1" + buf.getvalue())
    return out


def write_seeds(target: str) -> Path:
    """The corpus folder of ``target``, with the seeds in it (kept between runs: the fuzzer adds what it finds)."""
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(seeds(target)):
        path = folder / f"seed-{i}"
        if not path.exists():
            path.write_bytes(seed)
    return folder


def main(argv: list[str]) -> None:
    """``python -m tests.fuzz_targets TARGET [libFuzzer flags]``: fuzz one target (atheris, coverage-guided)."""
    global LAYOUT
    import atheris

    target = argv[1]
    with atheris.instrument_imports(include=["exypno"]):
        import exypno.errors  # noqa: F401
        import exypno.channel.attacks  # noqa: F401
        import exypno.channel.spec  # noqa: F401
        import exypno.evaluate.sound_attacks  # noqa: F401
        import exypno.media.audio  # noqa: F401
        import exypno.media.image  # noqa: F401
        import exypno.media.video  # noqa: F401
        import exypno.channel.noise  # noqa: F401
        import exypno.payload.container  # noqa: F401
    LAYOUT = container_layout()
    fn = TARGETS[target]
    atheris.Setup([argv[0], *argv[2:]], fn)
    atheris.Fuzz()


if __name__ == "__main__":
    LAYOUT = None
    main(sys.argv)

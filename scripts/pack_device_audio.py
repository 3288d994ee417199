"""Take the audio training data to a lent GPU machine, which takes 64 MiB with the whole working tree.

    .venv/bin/python scripts/pack_device_audio.py pack [--out device-carry] [--budget-mb 40]
    python3 scripts/pack_device_audio.py unpack device-carry        # on the device, after the wheels

`pack` writes device-carry/ (git-ignored; name it in the device call's carry):
- audio/NAME.wav.flac: FLAC (lossless) copies of data/audio, whose 275 MB of WAV FLAC takes to about
  0.6: every music track's first --music-seconds, every validation speech prompt, and as many training
  prompts (every k-th, by name) as the budget leaves. Unpacking restores the names, so the split (a hash
  of the name) is the CPU runs'; the validation figures are not, since its music is cut short.
- heldout-audio/NAME.wav.flac: all of data/heldout-audio, for benchmarks/audio_quality.py.
- wheels/: soundfile, cffi and pycparser for CPython 3.12 on x86_64 Linux, which the device's image lacks
  (install with pip install --no-index --no-deps --target DIR wheels/*.whl).
`unpack` writes the WAV files back under data/ with their own names.
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ("soundfile==0.14.0", "cffi==2.1.1", "pycparser==3.12")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64")


def _flac(path: Path, seconds: float | None = None) -> bytes:
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="int16", always_2d=True)
    if seconds is not None:
        data = data[: int(seconds * rate)]
    buf = io.BytesIO()
    sf.write(buf, data, rate, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def pack(args) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from exypno.train.data import is_validation, list_sounds

    out = args.out
    (out / "audio").mkdir(parents=True, exist_ok=True)
    (out / "heldout-audio").mkdir(parents=True, exist_ok=True)
    budget = args.budget_mb * 1e6
    used = 0
    sounds = list_sounds(args.audio)
    music = [p for p in sounds if p.name.startswith("music__")]
    val = [p for p in sounds if is_validation(p, 0.08) and p not in music]
    speech = [p for p in sounds if p not in val and p not in music]
    chosen = [(p, None) for p in val] + [(p, args.music_seconds) for p in music]
    blobs = {p: _flac(p, s) for p, s in chosen}
    used = sum(len(b) for b in blobs.values())
    speech_blobs = {p: _flac(p) for p in speech}
    room = budget - used
    step = 1
    while sum(len(speech_blobs[p]) for p in speech[::step]) > room and step < len(speech):
        step += 1
    for p in speech[::step]:
        blobs[p] = speech_blobs[p]
    for p, blob in blobs.items():
        (out / "audio" / f"{p.name}.flac").write_bytes(blob)
    held = 0
    for p in list_sounds(args.heldout):
        blob = _flac(p)
        held += len(blob)
        (out / "heldout-audio" / f"{p.name}.flac").write_bytes(blob)
    total = sum(len(b) for b in blobs.values())
    print(f"audio: {len(music)} music tracks' first {args.music_seconds:g} s, {len(val)} validation speech prompts, "
          f"every {step}th of {len(speech)} training prompts ({len(speech[::step])}): {total / 1e6:.1f} MB FLAC")
    print(f"heldout-audio: {held / 1e6:.1f} MB FLAC")
    (out / "wheels").mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           "--python-version", "3.12", "--implementation", "cp", "-d", str(out / "wheels"), *WHEELS]
    for platform in PLATFORMS:
        cmd[5:5] = ["--platform", platform]
    subprocess.run(cmd, check=True)
    print("wheels:", ", ".join(sorted(w.name for w in (out / "wheels").glob("*.whl"))))
    return 0


def unpack(args) -> int:
    import soundfile as sf

    for sub, dest in (("audio", ROOT / "data" / "audio"), ("heldout-audio", ROOT / "data" / "heldout-audio")):
        dest.mkdir(parents=True, exist_ok=True)
        files = sorted((args.carry / sub).glob("*.flac"))
        for f in files:
            data, rate = sf.read(str(f), dtype="int16", always_2d=True)
            sf.write(str(dest / f.name[: -len(".flac")]), data, rate, subtype="PCM_16")
        print(f"{dest}: {len(files)} files")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--audio", type=Path, default=ROOT / "data" / "audio")
    p.add_argument("--heldout", type=Path, default=ROOT / "data" / "heldout-audio")
    p.add_argument("--out", type=Path, default=ROOT / "device-carry")
    p.add_argument("--budget-mb", type=float, default=40.0, help="FLAC of data/audio, in MB")
    p.add_argument("--music-seconds", type=float, default=25.0)
    u = sub.add_parser("unpack")
    u.add_argument("carry", type=Path)
    args = ap.parse_args()
    return pack(args) if args.cmd == "pack" else unpack(args)


if __name__ == "__main__":
    sys.exit(main())

"""The ``exypno`` command: a thin layer over the API. Errors a user can cause print one line, exit 2."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import ExypnoError

EXIT_USAGE = 2


def _model_arg(p: argparse.ArgumentParser, auto: bool = False) -> None:
    if auto:
        p.add_argument("--model", help="shipped model name or path to NAME.safetensors (default: the shipped "
                                       "model of the pairing the files make; 'robust': image in image that "
                                       "outlives a JPEG re-save)")
    else:
        p.add_argument("--model", default="default", help="shipped model name or path to NAME.safetensors")


def _device_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where the networks run (default auto: CUDA where torch sees it, else the CPU)")


def _device(args) -> str:
    """--device, checked now (``cuda`` where torch sees none is an error before any slow step or prompt)."""
    from .nets.files import torch_device

    torch_device(args.device)
    return args.device


def _many(outcomes) -> int:
    """The summary of a folder run: exit 2 if any file failed (each was reported as it failed)."""
    failed = [o for o in outcomes if o.error]
    print(f"wrote {len(outcomes) - len(failed)} of {len(outcomes)} files")
    if failed:
        print(f"exypno: error: {len(failed)} of {len(outcomes)} files failed", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _size_arg(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w > 0 and h > 0:
            return w, h
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r}: give the size as WIDTHxHEIGHT, e.g. 512x384")


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def cmd_hide(args) -> int:
    from . import api

    if Path(args.cover).is_dir():
        return _many(api.hide_many(args.cover, args.secret, args.output, model=args.model, force=args.force,
                               device=args.device, progress=True))

    api.hide(args.cover, args.secret, Path(args.output), model=args.model, force=args.force, key=args.key,
             device=args.device, progress=True, on_note=_note)
    print(f"wrote {args.output}")
    return 0


def cmd_reveal(args) -> int:
    from . import api

    if Path(args.stego).is_dir():
        return _many(api.reveal_many(args.stego, args.output, model=args.model, force=args.force, device=args.device,
                                 progress=True, align=args.align))

    api.reveal(args.stego, Path(args.output), model=args.model, force=args.force, size=args.size, key=args.key,
               align=args.align, device=args.device, progress=True)
    print(f"wrote {args.output}")
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(Path(args.out), model=args.model, size=args.size, sealed=args.sealed)
    return 0


def cmd_models(args) -> int:
    from . import api

    print(f"{'preset':<8} {'parameters':>12} {'GMAC/MP':>10}   (CN + EN + DN, RGB in RGB)")
    for p in api.presets():
        print(f"{p['name']:<8} {p['parameters']:>12,} {p['gmac_per_megapixel']:>10.1f}")
    print("\nshipped weights:")
    models = api.models()
    for name, card in models.items():  # the networks' cards first, then the codes
        if card.get("kind") == "code":
            continue
        summary = ", ".join(f"{k} {v:.2f}" for k, v in card.get("figures", {}).items() if isinstance(v, (int, float)))
        part = card.get("part", "full") + "".join(f"+{k}" for k in ("border", "locator") if card["config"].get(k))
        print(f"  {name:<16} preset {card['config']['preset']:<6} {part:<20} {summary}")
    for name, card in models.items():
        if card.get("kind") == "code":
            print(f"  {name:<16} {card['purpose']}")
    return 0


def cmd_export(args) -> int:
    from . import api

    out = Path(args.output)
    if args.format == "onnx" or out.suffix == ".onnx":
        return _export_onnx(args, out)
    if args.quantize:
        raise ExypnoError("--quantize is for --format onnx")
    out = api.export(args.model, out, part=args.part, force=args.force)
    print(f"wrote {out} and {out.with_suffix('.json')} ({args.part})")
    return 0


def _export_onnx(args, out: Path) -> int:
    from .nets.files import exported
    from .nets.onnx_files import export_onnx
    from .registry import model_path

    if out.suffix != ".onnx":
        raise ExypnoError(f"{out}: an ONNX model must end in .onnx")
    src = model_path(args.model)
    if src.suffix != ".safetensors":
        raise ExypnoError(f"{src}: export reads a .safetensors model")
    model, card = exported(src, args.part)
    if not args.quantize:
        export_onnx(model, card, args.part, out, force=args.force)
        print(f"wrote {out} ({args.part}, float32, {out.stat().st_size:,} bytes)")
        return 0
    import tempfile

    from .nets.onnx_files import calibration_feeds, model_roles, quantize_int8
    from .train.calibration import calibration_photos

    pairs = calibration_photos(Path(args.calibrate), model.multiple)
    with tempfile.TemporaryDirectory(prefix="exypno-export-") as tmp:
        float_path = export_onnx(model, card, args.part, Path(tmp) / "float.onnx")
        quantize_int8(float_path, out, calibration_feeds(model, pairs, model_roles(model, args.part)), args.force)
    print(f"wrote {out} ({args.part}, int8, {out.stat().st_size:,} bytes; calibrated on {len(pairs)} pairs of "
          f"photos from {args.calibrate})")
    return 0


def _noise_arg(text: str | None) -> tuple[float | None, str]:
    """--noise: a number is the paper's always-on Gaussian layer (max std, 8-bit levels); a list of layers
    ("jpeg:50-95,crop:0.5-1") is drawn one per step on top of 8-bit rounding. None: the loop's default."""
    if text is None:
        return None, ""
    try:
        return float(text) / 255, ""
    except ValueError:
        from .channel.noise import NoiseChannel

        NoiseChannel(text)  # parse now: a typo fails before any data is loaded
        return 0.0, text


def train_config(args):
    """The TrainConfig of the train command's flags: every flag is the field of its name (--noise gives
    ``noise`` or ``attacks``); flags not given keep the field's default."""
    from dataclasses import fields

    from .train.loop import TrainConfig

    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    given = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}
    noise, given["attacks"] = _noise_arg(given.pop("noise", None))
    return TrainConfig(**given, **({"noise": noise} if noise is not None else {}))


def cmd_train(args) -> int:
    from .train.domains import PAIRINGS
    from .train.loop import train

    cfg = train_config(args)
    if not cfg.data and "image" in PAIRINGS[cfg.pairing]:
        raise ExypnoError(f"--pairing {cfg.pairing} needs --data (a folder of photos, see scripts/install-media)")
    result = train(cfg, resume=args.resume, progress=not args.quiet)
    if result["rank"] == 0:  # under torchrun, one summary
        print(json.dumps(result, indent=2))
    return 0


def cmd_evaluate(args) -> int:
    from .evaluate.run import evaluate

    evaluate(args.covers, args.secrets, args.out, model=args.model, attack=args.attack, lsb=args.lsb,
             sealed=args.sealed, size=args.size, limit=args.limit, force=args.force, seed=args.seed,
             seconds=args.seconds, speech=args.speech, device=_device(args))
    return 0


def cmd_lsb(args) -> int:
    from . import api

    if args.action == "hide":
        api.lsb_hide(args.cover, args.secret, args.bits, output=args.output, force=args.force, on_note=_note)
    elif args.action == "reveal":
        api.lsb_reveal(args.stego, args.bits, output=args.output, force=args.force)
    else:
        api.lsb_embed(args.cover, args.rate, seed=args.seed, matching=args.matching, order=args.order,
                      output=args.output, force=args.force)
    print(f"wrote {args.output}")
    return 0


def cmd_analyze(args) -> int:
    from .media.files import output_folder
    from .steganalysis.report import run_analyze

    with output_folder(Path(args.out)):  # removed again if nothing could be analyzed
        run_analyze([Path(p) for p in args.paths], args.clean and Path(args.clean), args.stego and Path(args.stego),
                    Path(args.out), detectors=[Path(d) for d in args.detector])
    return 0


def cmd_detector(args) -> int:
    if args.action == "train":
        from .steganalysis.train_detector import train_detector

        result = train_detector(Path(args.clean), Path(args.stego), Path(args.output), arch=args.arch,
                                steps=args.steps, crop=args.crop, seed=args.seed, progress=not args.quiet)
        v = result["validation"]
        print(f"{args.arch}: validation AUC {v['auc']:.3f}, accuracy at equal error {v['eer_accuracy']:.1%} "
              f"({v['pairs']} pairs); wrote {args.output}")
        return 0
    from .media.image import read_image
    from .steganalysis.learned import load_detector, score_images

    net, _ = load_detector(Path(args.detector))
    for f in args.images:
        print(f"{score_images(net, [read_image(f)])[0]:.4f}  {f}")
    return 0


PASSPHRASE_ENV = "EXYPNO_PASSPHRASE"


def _passphrase(args, confirm: bool) -> str:
    """--passphrase-file, else $EXYPNO_PASSPHRASE, else a prompt: never the command line (ps shows it)."""
    import os

    if args.passphrase_file:
        path = Path(args.passphrase_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ExypnoError(f"{path}: cannot read the passphrase file ({getattr(e, 'strerror', None) or e})") from None
        text = text.rstrip("\r\n")
        if not text:
            raise ExypnoError(f"{path}: the passphrase file is empty")
        return text
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if not sys.stdin.isatty():
        raise ExypnoError(f"no passphrase: give --passphrase-file, set {PASSPHRASE_ENV}, or run in a terminal")
    import getpass

    first = getpass.getpass("passphrase: ")
    if not first:
        raise ExypnoError("the passphrase is empty")
    if confirm and getpass.getpass("again: ") != first:
        raise ExypnoError("the two passphrases differ")
    return first


def cmd_seal(args) -> int:
    from .media.files import remember_input
    from . import api

    device = _device(args)
    if Path(args.cover).is_dir():
        return _many(api.seal_many(args.cover, args.file, _passphrase(args, confirm=True), args.output,
                                   force=args.force, robust=args.robust, fit=args.fit, progress=True, device=device))
    remember_input(args.file)  # --force never writes the stego over the file sealed
    remember_input(args.cover)
    path = Path(args.file)
    _, info = api.seal_file(args.cover, path, lambda: _passphrase(args, confirm=True), output=args.output,
                            force=args.force, robust=args.robust, fit=args.fit, weak_passphrase=args.weak_passphrase, device=device)
    checked = f"; checked after a JPEG re-save at quality {info['jpeg']}" if info["jpeg"] else ""
    what = f"{info['bytes']:,} bytes"
    if "picture" in info:
        what = f"{path.name} re-encoded to fit as {info['name']} ({info['picture'].describe()}),"
    print(f"wrote {args.output}: {what} sealed in {info['mode']} mode "
          f"(cover PSNR {info['cover_psnr']:.2f} dB; LDPC rate {info['ldpc_rate']:.2f}, Reed-Solomon parity "
          f"{info['nsym']}/255{checked})")
    return 0


def cmd_unseal(args) -> int:
    from . import api
    from .media.files import check_input, safe_name, write_bytes, write_new

    if Path(args.stego).is_dir():
        if not args.output:
            raise ExypnoError("unsealing a folder needs -o OUTDIR")
        device = _device(args)
        return _many(api.unseal_many(args.stego, _passphrase(args, confirm=False), args.output, force=args.force,
                                     progress=True, device=device))
    check_input(args.stego)
    out = Path(args.output) if args.output else None
    # A folder: one that exists, or a name ending in a slash (made once the file is back).
    to_folder = out is None or out.is_dir() or args.output.endswith(("/", os.sep))
    if not to_folder:
        from .media.files import check_output

        check_output(out, args.force)  # fail before the slow part
    elif out is not None and out.exists() and not out.is_dir():
        raise ExypnoError(f"{out}: exists and is not a folder")
    device = _device(args)
    passphrase = _passphrase(args, confirm=False)
    name, data = api.unseal(args.stego, passphrase, device=device)
    safe = safe_name(name)  # the sender chose it: never a path, a hidden or option-like name, or over a file
    if not to_folder:
        target = write_bytes(out, data, args.force)  # --force is for a name the receiver gave
    else:
        if out is not None:
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ExypnoError(f"{out}: cannot make this folder ({e.strerror})") from None
        target = write_new(out or Path("."), safe, data)
        if target.name != name:
            print(f"note: sealed as {name!r}; written as {target.name!r}", file=sys.stderr)
    print(f"wrote {target}: {len(data):,} bytes (sealed as {name!r})")
    if target.suffix.lower() != Path(safe).suffix.lower():
        print(f"note: {target} holds the bytes of {safe!r}, exactly; its name says {target.suffix or 'no type'}",
              file=sys.stderr)
    return 0


def cmd_capacity(args) -> int:
    from .api import capacity

    for mode, c in capacity(args.cover).items():
        rh, rw = c["region"]
        print(f"{mode:<7} {c['bytes']:>10,} bytes for the file and its name, before compression "
              f"({c['net_bpp']:.3f} net bits per pixel; carrier {rw}x{rh} pixels); {c['survives']}")
    return 0


def cmd_serve(args) -> int:
    from .serve import run

    run(args.host, args.port, args.workers, token=args.token, device=_device(args), upload_mb=args.max_upload_mb,
        pixels=args.max_pixels, audio_seconds=args.max_audio_seconds, video_frames=args.max_video_frames,
        timeout=args.timeout, jobs=args.jobs)
    return 0


def subcommand(name: str) -> argparse.ArgumentParser:
    """The parser of one command, such as ``train``: its flags, for a script that writes a command line."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .registry import PAIRING_MODELS

    parser = argparse.ArgumentParser(prog="exypno", description="Hide images, sounds, videos and sealed files "
                                                                  "in images, sounds and videos with neural networks.")
    parser.add_argument("--version", action="version", version=f"exypno {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("hide", help="hide an image, a video or a sound in an image (-> PNG), a video (-> MKV) or "
                                     "a sound (-> WAV); the pairing follows from the file types")
    p.add_argument("--cover", required=True,
                   help="image, video (the stego is then lossless FFV1 .mkv) or sound (WAV/FLAC/OGG: a 16 kHz WAV)")
    p.add_argument("--secret", required=True, help="image or sound; or video when the cover is a video")
    p.add_argument("-o", "--output", required=True, help="stego image (.png), video (.mkv) or sound (.wav)")
    p.add_argument("--key", help="an image or video secret in a video: shuffle its 16x16 blocks with this key (reveal "
                        "needs it)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    _model_arg(p, auto=True)
    _device_arg(p)
    p.set_defaults(func=cmd_hide)

    p = sub.add_parser("reveal", help="reveal the secret of a stego image, video or sound")
    p.add_argument("stego")
    p.add_argument("-o", "--output", required=True,
                   help="revealed secret: .png (from a video: the average over its frames), .mkv (a video) or "
                        ".wav (a sound; from a video: up to the last frame that is not silent)")
    p.add_argument("--key", help="the block-shuffling key given to hide")
    p.add_argument("--size", type=_size_arg, metavar="WxH",
                   help="an image revealed from a sound: its size (hide prints it); the copies are averaged")
    p.add_argument("--no-align", dest="align", action="store_false",
                   help="an image stego that was not cropped: skip the search for its pixel grid (faster, and "
                        "right for models whose search misfires, such as JPEG-trained ones)")
    p.add_argument("--force", action="store_true")
    _model_arg(p, auto=True)
    _device_arg(p)
    p.set_defaults(func=cmd_reveal)

    p = sub.add_parser("demo", help="hide a bundled photo in another, reveal it, print PSNR, save a figure")
    p.add_argument("--out", default="exypno-demo", help="folder for the demo's files (default exypno-demo)")
    p.add_argument("--sealed", action="store_true",
                   help="also seal the same secret as a picture ('seal --fit'; slower: a minute or more at 512)")
    p.add_argument("--size", type=int, default=512)
    _model_arg(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("models", help="list presets (parameters, GMAC per megapixel) and shipped weights")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("export", help="write the sender (CN+EN) or receiver (DN, and its border decoder and grid locator if it has them) part of a model")
    p.add_argument("--part", choices=("sender", "receiver", "full"), required=True)
    p.add_argument("-o", "--output", required=True, help="NAME.safetensors (NAME.json is written beside), or "
                                                           "NAME.onnx (the card in its metadata)")
    p.add_argument("--format", choices=("safetensors", "onnx"), help="default: by the output's suffix")
    p.add_argument("--quantize", choices=("int8",), help="ONNX: onnxruntime's static int8 quantisation")
    p.add_argument("--calibrate", default="data/photos", metavar="DIR",
                   help="--quantize: photos to calibrate on, training photos (default data/photos, from "
                        "scripts/install-media); the validation split is left out")
    p.add_argument("--force", action="store_true")
    _model_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("train", help="train CN, EN and DN together on folders of photos or sounds")
    p.add_argument("--data", default="", help="folder of photos (see scripts/install-media)")
    p.add_argument("--audio", help="folder of sounds, for the audio pairings (see scripts/install-audio)")
    p.add_argument("--pairing", default="image-in-image", choices=tuple(PAIRING_MODELS),
                   help="what the cover and the secret are (default image-in-image)")
    p.add_argument("--out", required=True, help="run folder: checkpoint, best model, log.jsonl")
    p.add_argument("--preset", default="haar", choices=("haar", "paper"))
    p.add_argument("--width", type=int)
    p.add_argument("--levels", type=int)
    p.add_argument("--blocks", type=int, nargs=3, metavar=("CN", "EN", "DN"))
    p.add_argument("--lattice", type=float, nargs="+", metavar="PERIOD",
                   help="periods of the fine (sin, cos) features EN sees of the cover and DN of the stego, in the "
                        "network's units: a code on values a near-lossless channel keeps (audio covers)")
    p.add_argument("--qim", type=float, nargs=2, metavar=("SPAN", "MU"),
                   help="with --lattice: a fixed code on its first period (quantisation index modulation) carries "
                        "the secret's values, mu-law companded over [-SPAN, SPAN]; the trunks learn corrections "
                        "(audio in audio: --spectrogram waveform --lattice 0.003125 --qim 1 255)")
    p.add_argument("--spectrogram", default="complex", choices=("complex", "compressed", "block", "waveform"),
                   help="audio grid: STFT real and imaginary parts (Hann, hop 128), the same after |X|^0.3 "
                        "compression, 'block': non-overlapping rectangular frames, which any grid inverts to, or "
                        "'waveform': the samples themselves, 512 to a column (for a fixed code, --qim)")
    p.add_argument("--crop", type=int, default=64,
                   help="side of the training crops; with audio, STFT frames (images are cut to 256 rows by CROP)")
    p.add_argument("--val-crop", type=int, help="the same for validation (default 128)")
    p.add_argument("--min-scale", type=float, default=0.5,
                   help="photos are scaled by a random factor in [MIN_SCALE, 1] before cropping (default 0.5)")
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--alpha", type=float, default=1.0, help="weight of the cover MSE")
    p.add_argument("--beta", type=float, default=0.75, help="weight of the secret loss (MSE, or BCE with --bits)")
    p.add_argument("--bits", type=int, default=0,
                   help="train a bit-hiding model: the secret is this many planes of random bits (for seal)")
    p.add_argument("--bit-block", type=int, default=1,
                   help="with --bits: each bit fills a square of this side, a coarser signal that survives JPEG")
    p.add_argument("--val-jpeg", type=int, metavar="QUALITY",
                   help="validate the secret (bit errors, or PSNR) after a JPEG re-save of the stego at this "
                        "quality, and pick the best by it")
    p.add_argument("--val-cropgrid", type=float, metavar="FRACTION",
                   help="validate also on a window of this fraction of each stego's side, put on the grid as "
                        "reveal puts a crop, and pick the best by the crops' reveal (a decoder for crops' borders)")
    p.add_argument("--cover-target", type=float,
                   help="steer alpha during training so that the cover PSNR settles at this many dB")
    p.add_argument("--cover-warmup", type=int, default=0,
                   help="with --cover-target: raise the target from --warmup-db below it over this many steps")
    p.add_argument("--secret-level", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="audio secrets: RMS levels (dBFS) drawn between these (default -32 -16)")
    p.add_argument("--warmup-db", type=float, default=20.0,
                   help="with --cover-warmup: how many dB below the target the warmup starts (default 20; "
                        "less when --init starts from a model that already hides)")
    p.add_argument("--alpha-rate", type=float, default=0.02,
                   help="with --cover-target: change of log(alpha) per step and per dB off the target")
    p.add_argument("--noise",
                   help="a number: max std of the paper's Gaussian noise layer in 8-bit levels (default 0.25; "
                        "0 with --lattice, whose code the 16-bit file keeps and such noise would drown); "
                        "or noise layers drawn one per step, e.g. 'gaussian:2,jpeg:50-95,crop:0.5-1,"
                        "cropgrid:0.5-1,resize:0.5-1,dropout:0.3,identity'")
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr-warmup", type=int, default=0, metavar="STEPS",
                   help="raise the rate linearly from 0 over this many steps (for --init: Adam's first steps "
                        "would otherwise undo much of a trained model)")
    p.add_argument("--threads", type=int)
    p.add_argument("--workers", type=int, default=0,
                   help="draw training batches in this many processes (for a GPU, which one process cannot "
                        "feed); resuming is then repeatable but not bit for bit")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="where to train: cuda (one GPU per process, an error where there is none), cpu, or "
                        "auto (default: CUDA where PyTorch sees it)")
    p.add_argument("--max-minutes", type=float, help="stop with a checkpoint after this many minutes")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    p.add_argument("--init", help="start from this model's weights (fine-tuning); its architecture is kept")
    p.add_argument("--decoder-only", action="store_true",
                   help="with --init: train DN alone; CN and EN stay as they are, and so do the stegos they write "
                        "(new noise layers for a shipped model, with no change to its covers)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("lsb", help="the k-bit LSB baseline: hide/reveal an image, or embed random bits")
    lsb = p.add_subparsers(dest="action", required=True)
    q = lsb.add_parser("hide", help="the top K bits of the secret replace the low K bits of the cover")
    q.add_argument("--cover", required=True)
    q.add_argument("--secret", required=True)
    q.add_argument("--bits", type=int, default=3, help="K, 1..7 (default 3)")
    q.add_argument("-o", "--output", required=True)
    q.add_argument("--force", action="store_true")
    q = lsb.add_parser("reveal", help="recover the secret's top K bits")
    q.add_argument("stego")
    q.add_argument("--bits", type=int, default=3)
    q.add_argument("-o", "--output", required=True)
    q.add_argument("--force", action="store_true")
    q = lsb.add_parser("embed", help="random message bits in a fraction of the values (detector calibration)")
    q.add_argument("--cover", required=True)
    q.add_argument("--rate", type=float, required=True, help="fraction of 8-bit values carrying a bit, 0..1")
    q.add_argument("--matching", action="store_true", help="LSB matching (+-1) instead of replacement")
    q.add_argument("--order", choices=("random", "sequential"), default="random")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("-o", "--output", required=True)
    q.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_lsb)

    p = sub.add_parser("analyze", help="structural LSB detectors and their StegExpose-style fusion")
    p.add_argument("paths", nargs="*", help="image files or folders")
    p.add_argument("--clean", help="folder of images known clean (labels for ROC/AUC)")
    p.add_argument("--stego", help="folder of images known to hold a payload")
    p.add_argument("--out", default="exypno-analyze", help="folder for scores.csv and roc.png")
    p.add_argument("--detector", action="append", default=[],
                   help="a learned detector (NAME.safetensors from 'exypno detector train'); repeatable")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("detector", help="learned steganalysers: train on (clean, stego) pairs, score images")
    det = p.add_subparsers(dest="action", required=True)
    q = det.add_parser("train", help="train on pairs with the same file names in --clean and --stego")
    q.add_argument("--clean", required=True)
    q.add_argument("--stego", required=True)
    q.add_argument("-o", "--output", required=True, help="NAME.safetensors (NAME.json is written beside)")
    q.add_argument("--arch", choices=("xunet", "yenet", "srnet"), default="yenet")
    q.add_argument("--steps", type=int, default=2000)
    q.add_argument("--crop", type=int, default=128)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--quiet", action="store_true")
    q = det.add_parser("score", help="P(stego) for each image")
    q.add_argument("detector")
    q.add_argument("images", nargs="+")
    p.set_defaults(func=cmd_detector)

    p = sub.add_parser("seal", help="seal any file in a cover image: compressed, encrypted, error-corrected")
    p.add_argument("--cover", required=True, help="cover image")
    p.add_argument("--file", required=True, help="the file to seal")
    p.add_argument("-o", "--output", required=True, help="stego image (.png)")
    p.add_argument("--robust", action="store_true",
                   help="robust mode: carries far less (see 'exypno capacity'), but survives a re-save as JPEG "
                        "at quality 90")
    p.add_argument("--fit", action="store_true",
                   help="a picture larger than the cover carries is re-encoded as AVIF at the best quality that "
                        "fits (smaller, if it must be); unseal gives NAME.avif")
    p.add_argument("--passphrase-file", help=f"read the passphrase from this file (else ${PASSPHRASE_ENV}, else a prompt)")
    p.add_argument("--weak-passphrase", action="store_true", help="seal even with a passphrase under 8 characters")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    _device_arg(p)
    p.set_defaults(func=cmd_seal)

    p = sub.add_parser("unseal", help="recover a sealed file, exactly, or say why not")
    p.add_argument("stego")
    p.add_argument("-o", "--output", help="output file, or a folder for the original name: one that exists, or a "
                                           "name ending in / (default: the original name, here)")
    p.add_argument("--passphrase-file", help=f"read the passphrase from this file (else ${PASSPHRASE_ENV}, else a prompt)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    _device_arg(p)
    p.set_defaults(func=cmd_unseal)

    p = sub.add_parser("capacity", help="how many bytes a cover image can carry in each seal mode")
    p.add_argument("cover")
    p.set_defaults(func=cmd_capacity)

    p = sub.add_parser("evaluate", help="hide/reveal pairs through real files (PNG, WAV); print PSNR/SSIM or SNR/segmental SNR/STOI")
    p.add_argument("--covers", required=True)
    p.add_argument("--secrets", required=True)
    p.add_argument("--out", default="exypno-eval", help="folder for stego/revealed PNGs, JSON and figure")
    p.add_argument("--size", type=int, help="scale and centre-crop every photo to SIZE x SIZE first")
    p.add_argument("--lsb", type=int, metavar="K", help="evaluate K-bit LSB hiding instead of a model")
    p.add_argument("--sealed", action="store_true",
                   help="evaluate sealing each secret as a picture re-encoded to fit ('seal --fit') instead of a model")
    p.add_argument("--limit", type=int, help="at most this many pairs")
    p.add_argument("--attack", nargs="?", const="default", metavar="LIST",
                   help="distort the stego file before revealing: a list such as 'jpeg:90,gaussian:2,crop:0.5,"
                        "resize:0.75,webp:90', or nothing for the standard list (JPEG 95/90/75/50, WebP 90, "
                        "noise 1/2/4, crops 75%%/50%%, resize 75%%); a sound stego: 'cut:0.5,noise:2,volume:0.7' "
                        "(standard: cuts to 75%%/50%%, noise 0.5/2 steps, volume 0.5/0.7)")
    p.add_argument("--seed", type=int, default=0, help="seed of the attacks' randomness (crop offsets, noise)")
    p.add_argument("--seconds", type=float, default=4.0, help="sounds: cut every clip to this many seconds")
    p.add_argument("--speech", default="speech*", metavar="PATTERN",
                   help="sound secrets whose file name matches this pattern are speech: scored also by STOI and "
                        "wide-band PESQ (default 'speech*', as scripts/install-audio names them; '*' for all)")
    p.add_argument("--force", action="store_true")
    _model_arg(p, auto=True)
    _device_arg(p)
    p.set_defaults(func=cmd_evaluate)

    from .serve.limits import Limits

    d = Limits()
    p = sub.add_parser("serve", help="the HTTP API and a web page (needs: pip install 'exypno[serve]')")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="server processes (each loads its own models)")
    p.add_argument("--token", help="require 'Authorization: Bearer TOKEN' on the API (or set $EXYPNO_SERVE_TOKEN: "
                                   "ps shows a command line)")
    p.add_argument("--jobs", type=int, default=d.jobs, help="model jobs at once per process; more requests queue "
                                                             "(default: the cores over the workers)")
    p.add_argument("--max-upload-mb", type=float, default=d.upload_mb, help="largest request body, in MB (default "
                                                                             "%(default)g)")
    p.add_argument("--max-pixels", type=int, default=d.pixels, help="largest image or video frame (default "
                                                                     "%(default)d, the library's own bound)")
    p.add_argument("--max-audio-seconds", type=float, default=d.audio_seconds, help="longest sound (default "
                                                                                     "%(default)g)")
    p.add_argument("--max-video-frames", type=int, default=d.video_frames, help="longest video (default %(default)d)")
    p.add_argument("--timeout", type=float, default=d.timeout,
                   help="seconds a request may queue and run before it is answered 504 (default %(default)g)")
    _device_arg(p)
    p.set_defaults(func=cmd_serve)
    return parser


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that half-written temporary files are removed on the way out."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    parser = build_parser()
    args = parser.parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)  # training installs its own, for a checkpoint
    try:
        from .media.files import one_command

        with one_command():  # --force never replaces a file the command reads
            return args.func(args)
    except ExypnoError as e:
        print(f"exypno: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("exypno: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("exypno: terminated", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

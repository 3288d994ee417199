"""Video hiding with the image model: throughput, memory, quality, averaging and block shuffling.

    .venv/bin/python benchmarks/video.py [--model default] [--frames 20] [--audio-model audio-in-image]

Clips: opencv-doc's vtest.avi (cover, people walking) and Megamind.avi (secret; it has a sound track, so
it is also the cover of the audio check), scaled to 640x360 and written as lossless FFV1 first. A short
clip of N frames and a 4x longer one are each hidden in a fresh process, which reports frames per second
and its own peak memory. Prints a table and writes benchmarks/results/video.json.

Audio in video (with the audio-in-image model, when data/heldout-audio is installed by
scripts/install-audio): the held-out speech recordings, one after another, up to 30 s, hidden in the
short cover; cover PSNR per frame, secret SNR through the FFV1 file, and the length the reveal gives back.
Image in video on a moving cover: a window panning across a held-out photo (``moving_cover``).
``--only PART`` measures one of these two alone and updates video.json.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OPENCV = Path("/usr/share/doc/opencv-doc/examples/data")
ROOT = Path(__file__).resolve().parents[1]
W, H = 640, 360


def make_clip(src: Path, dst: Path, n: int, keep_audio: bool = False) -> Path:
    from exypno.media import video
    from exypno.media.image import resize

    info = video.probe(src)
    with video.VideoWriter(dst, W, H, info.fps, audio_from=src if keep_audio else None, force=True) as w:
        for i, frame in enumerate(video.frames(src)):
            if i == n:
                break
            w.write(resize(frame, H, W))
    return dst


def hide_job(model: str, cover: str, secret: str, out: str) -> None:
    """Run in a child process: hide, then print fps and peak RSS as JSON."""
    import exypno
    from exypno.media import video
    from exypno.pairings.video import hide_in_video

    stego = exypno.load(model)
    n = video.probe(Path(cover)).frames
    t0 = time.perf_counter()
    hide_in_video(stego, Path(cover), Path(secret), Path(out), force=True)
    dt = time.perf_counter() - t0
    print(json.dumps({"frames": n, "seconds": dt, "fps": n / dt,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def per_frame_psnr(a_frames, b_frames) -> np.ndarray:
    from exypno.media.metrics import psnr_8bit

    return np.array([psnr_8bit(a, b) for a, b in zip(a_frames, b_frames)])


def held_out_speech(folder: Path) -> list[Path]:
    return sorted(folder.glob("speech*.wav")) if folder.is_dir() else []


def audio_in_video(model_name: str, cover: Path, speech: list[Path], tmp: Path) -> dict:
    """Held-out speech (up to 30 s) hidden in ``cover`` and revealed, through the files."""
    import exypno
    from exypno.evaluate.audio import snr
    from exypno.media import audio, video
    from exypno.pairings.video import hide_audio_in_video, reveal_audio_from_video

    model = exypno.load(model_name)
    wave = np.concatenate([audio.read_audio(p) for p in speech])[: 30 * audio.SAMPLE_RATE]
    audio.write_wav16(tmp / "speech.wav", wave, force=True)
    wave = audio.read_audio(tmp / "speech.wav")
    t0 = time.perf_counter()
    hide_audio_in_video(model, cover, tmp / "speech.wav", tmp / "aiv.mkv", force=True)
    seconds = time.perf_counter() - t0
    reveal_audio_from_video(model, tmp / "aiv.mkv", tmp / "aiv.wav", force=True)
    revealed = audio.read_audio(tmp / "aiv.wav")
    cover_psnr = per_frame_psnr(video.frames(cover), video.frames(tmp / "aiv.mkv"))
    n = min(len(wave), len(revealed))
    return {"model": model_name, "frames": video.probe(cover).frames, "secret_seconds": len(wave) / audio.SAMPLE_RATE,
            "revealed_seconds": len(revealed) / audio.SAMPLE_RATE, "fps": video.probe(cover).frames / seconds,
            "cover_psnr_mean": cover_psnr.mean(), "cover_psnr_worst": cover_psnr.min(),
            "secret_snr": snr(wave[:n], revealed[:n])}


def print_audio_in_video(a: dict) -> None:
    print(f"audio in video: {a['secret_seconds']:.1f} s of held-out speech in {a['frames']} frames at {W}x{H}; "
          f"cover {a['cover_psnr_mean']:.2f} dB (worst frame {a['cover_psnr_worst']:.2f}), secret SNR "
          f"{a['secret_snr']:.2f} dB, the reveal gives {a['revealed_seconds']:.1f} s, {a['fps']:.2f} frames/s")


def moving_cover(model_name: str, n: int, tmp: Path) -> dict:
    """Image in video on a cover that moves: a 640x360 window panning across a held-out photo. Each frame
    hides the secret on different content, so the frames' errors differ and averaging has more to gain
    than on a fixed camera."""
    import exypno
    from exypno.evaluate.heldout import heldout_photos
    from exypno.media.metrics import psnr_8bit
    from exypno.media import video
    from exypno.media.image import read_image, resize
    from exypno.pairings.video import hide_in_video, reveal_from_video

    model = exypno.load(model_name)
    photos = heldout_photos(None)
    scene = resize(photos["coffee"], 540, 720)  # 400x600 upscaled: a window of 640x360 pans 80 px down-right
    with video.VideoWriter(tmp / "pan.mkv", W, H, 25, force=True) as w:
        for i in range(n):
            dx, dy = round(80 * i / max(n - 1, 1)), round(180 * i / max(n - 1, 1))
            w.write(scene[dy : dy + H, dx : dx + W])
    photo = resize(photos["astronaut"], H, W)
    hide_in_video(model, tmp / "pan.mkv", photo, tmp / "pan_st.mkv", force=True)
    singles = per_frame_psnr((photo for _ in range(n)), (model.reveal(f, align=False)
                                                         for f in video.frames(tmp / "pan_st.mkv")))
    reveal_from_video(model, tmp / "pan_st.mkv", tmp / "pan_avg.png", force=True)
    averaged = float(psnr_8bit(photo, read_image(tmp / "pan_avg.png")))
    return {"frames": n, "one_frame_psnr_mean": singles.mean(), "averaged_psnr": averaged,
            "gain_db": averaged - singles.mean()}


def print_moving_cover(m: dict) -> None:
    print(f"image in video, panning cover: one frame {m['one_frame_psnr_mean']:.2f} dB, averaged over "
          f"{m['frames']} frames {m['averaged_psnr']:.2f} dB (+{m['gain_db']:.2f} dB)")


def only(args) -> int:
    out = ROOT / "benchmarks" / "results" / "video.json"
    result = json.loads(out.read_text()) if out.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.only == "moving-cover":
            result["moving_cover"] = moving_cover(args.model, args.frames, tmp)
            print_moving_cover(result["moving_cover"])
        else:
            speech = held_out_speech(args.sounds)
            if not speech:
                print(f"{args.sounds}: no held-out speech; run scripts/install-audio", file=sys.stderr)
                return 2
            cover = make_clip(OPENCV / "vtest.avi", tmp / "cover_s.mkv", args.frames)
            result["audio_in_video"] = audio_in_video(args.audio_model, cover, speech, tmp)
            print_audio_in_video(result["audio_in_video"])
    out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"wrote {out}")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--job":
        hide_job(*sys.argv[2:6])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--audio-model", default="audio-in-image")
    ap.add_argument("--sounds", type=Path, default=ROOT / "data" / "heldout-audio")
    ap.add_argument("--only", choices=("audio-in-video", "moving-cover"),
                    help="measure this part alone and update its entry in the existing video.json")
    args = ap.parse_args()
    if args.only:
        return only(args)

    import exypno
    from exypno.evaluate.heldout import heldout_photos
    from exypno.media import video
    from exypno.media.image import resize
    from exypno.pairings.video import hide_in_video, reveal_from_video

    model = exypno.load(args.model)
    result = {"model": args.model, "size": f"{W}x{H}"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = args.frames
        clips = {"short": (make_clip(OPENCV / "vtest.avi", tmp / "cover_s.mkv", n),
                           make_clip(OPENCV / "Megamind.avi", tmp / "secret_s.mkv", n)),
                 "long": (make_clip(OPENCV / "vtest.avi", tmp / "cover_l.mkv", 4 * n),
                          make_clip(OPENCV / "Megamind.avi", tmp / "secret_l.mkv", 4 * n))}
        runs = {}
        for name, (cover, secret) in clips.items():
            out = subprocess.run([sys.executable, __file__, "--job", args.model, str(cover), str(secret),
                                  str(tmp / f"stego_{name}.mkv")], capture_output=True, text=True, check=True)
            runs[name] = json.loads(out.stdout.strip().splitlines()[-1])
        result["throughput"] = runs

        # Quality: the stego and revealed files against the image model on the same frames.
        cover, secret = clips["short"]
        stego_file = tmp / "stego_short.mkv"
        reveal_from_video(model, stego_file, tmp / "revealed.mkv", force=True)
        direct = [model.hide(c, s) for c, s in zip(video.frames(cover), video.frames(secret))]
        cover_psnr = per_frame_psnr(video.frames(cover), video.frames(stego_file))
        secret_psnr = per_frame_psnr(video.frames(secret), video.frames(tmp / "revealed.mkv"))
        image_cover = per_frame_psnr(video.frames(cover), direct)
        image_secret = per_frame_psnr(video.frames(secret), (model.reveal(d) for d in direct))
        result["video_in_video"] = {
            "cover_psnr_mean": cover_psnr.mean(), "cover_psnr_worst": cover_psnr.min(),
            "secret_psnr_mean": secret_psnr.mean(), "secret_psnr_worst": secret_psnr.min(),
            "image_model_cover_psnr_mean": image_cover.mean(), "image_model_secret_psnr_mean": image_secret.mean()}

        # Image in video: one frame's reveal against the average over frames.
        photo = resize(heldout_photos(None)["astronaut"], H, W)
        hide_in_video(model, cover, photo, tmp / "img.mkv", force=True)
        singles = per_frame_psnr((photo for _ in range(n)), (model.reveal(f) for f in video.frames(tmp / "img.mkv")))
        reveal_from_video(model, tmp / "img.mkv", tmp / "avg.png", force=True)
        from exypno.media.metrics import psnr_8bit
        from exypno.media.image import read_image

        averaged = float(psnr_8bit(photo, read_image(tmp / "avg.png")))
        result["image_in_video"] = {"one_frame_psnr_mean": singles.mean(), "averaged_psnr": averaged,
                                    "gain_db": averaged - singles.mean()}

        # Keyed block shuffling: what it costs the secret.
        hide_in_video(model, cover, secret, tmp / "key.mkv", key="benchmark", force=True)
        reveal_from_video(model, tmp / "key.mkv", tmp / "key_rev.mkv", key="benchmark", force=True)
        keyed = per_frame_psnr(video.frames(secret), video.frames(tmp / "key_rev.mkv"))
        keyed_cover = per_frame_psnr(video.frames(cover), video.frames(tmp / "key.mkv"))
        result["block_shuffling"] = {"cover_psnr_mean": keyed_cover.mean(), "secret_psnr_mean": keyed.mean()}

        # Audio and frame rate of a cover with sound survive.
        audio_cover = make_clip(OPENCV / "Megamind.avi", tmp / "mm_cover.mkv", n, keep_audio=True)
        short_audio = tmp / "mm.mkv"
        hide_in_video(model, audio_cover, photo, short_audio, force=True)
        import av

        def packets(p):
            with av.open(str(p)) as c:
                return [bytes(x) for x in c.demux(c.streams.audio[0]) if x.size]

        a, b = video.probe(audio_cover), video.probe(short_audio)
        result["audio_kept"] = {"same_audio_packets": packets(audio_cover) == packets(short_audio),
                                "fps": [str(a.fps), str(b.fps)], "frames": [a.frames, b.frames]}

        result["moving_cover"] = moving_cover(args.model, n, tmp)
        speech = held_out_speech(args.sounds)
        if speech:
            result["audio_in_video"] = audio_in_video(args.audio_model, cover, speech, tmp)

    t, v, i, k = result["throughput"], result["video_in_video"], result["image_in_video"], result["block_shuffling"]
    print(f"{'clip':<7}{'frames':>7}{'fps':>7}{'peak RSS MB':>13}   ({W}x{H}, video in video, lossless FFV1)")
    for name in ("short", "long"):
        print(f"{name:<7}{t[name]['frames']:>7}{t[name]['fps']:>7.2f}{t[name]['peak_rss_mb']:>13.0f}")
    print(f"\nvideo in video ({n} frames): cover {v['cover_psnr_mean']:.2f} dB (worst {v['cover_psnr_worst']:.2f}), "
          f"secret {v['secret_psnr_mean']:.2f} dB (worst {v['secret_psnr_worst']:.2f}); image model on the same "
          f"frames: {v['image_model_cover_psnr_mean']:.2f} / {v['image_model_secret_psnr_mean']:.2f} dB")
    print(f"image in video: one frame {i['one_frame_psnr_mean']:.2f} dB, averaged over {n} frames "
          f"{i['averaged_psnr']:.2f} dB (+{i['gain_db']:.2f} dB)")
    print(f"block shuffling (--key): cover {k['cover_psnr_mean']:.2f} dB, secret {k['secret_psnr_mean']:.2f} dB")
    print(f"audio kept: {result['audio_kept']}")
    print_moving_cover(result["moving_cover"])
    if "audio_in_video" in result:
        print_audio_in_video(result["audio_in_video"])
    out = ROOT / "benchmarks" / "results" / "video.json"
    out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

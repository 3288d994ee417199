"""Video hiding with the image model: throughput, memory, quality, averaging and block shuffling.

    .venv/bin/python benchmarks/video.py [--model default] [--frames 20]

Clips: opencv-doc's vtest.avi (cover, people walking) and Megamind.avi (secret; it has a sound track, so
it is also the cover of the audio check), scaled to 640x360 and written as lossless FFV1 first. A short
clip of N frames and a 4x longer one are each hidden in a fresh process, which reports frames per second
and its own peak memory. Prints a table and writes benchmarks/results/video.json.
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
    from exypno.pairings import hide_in_video

    stego = exypno.load(model)
    n = video.probe(Path(cover)).frames
    t0 = time.perf_counter()
    hide_in_video(stego, Path(cover), Path(secret), Path(out), force=True)
    dt = time.perf_counter() - t0
    print(json.dumps({"frames": n, "seconds": dt, "fps": n / dt,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def per_frame_psnr(a_frames, b_frames) -> np.ndarray:
    from exypno.evaluate.metrics import psnr_8bit

    return np.array([psnr_8bit(a, b) for a, b in zip(a_frames, b_frames)])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--job":
        hide_job(*sys.argv[2:6])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--frames", type=int, default=20)
    args = ap.parse_args()

    import exypno
    from exypno.evaluate.heldout import heldout_photos
    from exypno.media import video
    from exypno.media.image import resize
    from exypno.pairings import hide_in_video, reveal_from_video

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
        from exypno.evaluate.metrics import psnr_8bit
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
    out = ROOT / "benchmarks" / "results" / "video.json"
    out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

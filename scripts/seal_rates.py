"""Choose a seal mode's LLR scale and LDPC rates from a bit model's decoder outputs on validation photos.

    .venv/bin/python scripts/seal_rates.py MODEL [--data data/photos | --covers DIR] [--block B] [--jpeg 90]
                                                 [--rates 0.4 0.6]

For each validation photo of the training folder (or, with ``--covers``, each picture of a folder, e.g. the
held-out wallpapers of scripts/install-heldout, to see how much harder they are): every slot gets a
random bit, the stego is rounded to 8 bits (and re-saved as JPEG if asked), and the decoder reads it back
without any refinement. Prints:

- the bit error rate of the hard decisions;
- the information the votes carry per slot, ``1 - E[log2(1 + exp(-s * a * vote))]`` for a few scales ``a``
  (s = +-1, the true bit): a lower bound on what the channel carries, which an ideal code would reach. The
  card's ``llr_scale`` is the scale that carries the most;
- for each LDPC rate, the share of codewords that belief propagation decodes (the sender refines the
  stego where one fails, and Reed-Solomon absorbs a failed codeword or two). The card's ``rates`` are
  those that decode.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from exypno.channel.attacks import Attack  # noqa: E402
from exypno.evaluate.heldout import wallpaper_covers  # noqa: E402
from exypno.media.image import square  # noqa: E402
from exypno.nets.files import load_model  # noqa: E402
from exypno.payload.carrier import BitCarrier  # noqa: E402
from exypno.payload.ldpc import IraCode  # noqa: E402
from exypno.payload.seal import LLR_CLIP  # noqa: E402
from exypno.train.data import load_rgb, split_photos  # noqa: E402

SCALES = (0.25, 0.5, 0.75, 1.0, 1.5)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", type=Path)
    ap.add_argument("--data", type=Path, default=Path("data/photos"))
    ap.add_argument("--covers", type=Path, help="measure on every picture of this folder instead")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--block", type=int, default=1, help="the model's --bit-block")
    ap.add_argument("--repeat", type=int, default=1, help="slots per coded bit")
    ap.add_argument("--jpeg", type=int, help="re-save the stego as JPEG at this quality before reading")
    ap.add_argument("--rates", type=float, nargs="+", default=[0.4, 0.5, 0.6, 0.65])
    ap.add_argument("--ldpc-n", type=int, default=8192)
    args = ap.parse_args()
    model, _ = load_model(args.model)
    carrier = BitCarrier(model, repeat=args.repeat, block=args.block)
    if args.covers:
        photos = list(wallpaper_covers(args.covers, args.size).values())[: args.limit]
    else:
        _, val = split_photos(args.data, 0.08)
        photos = [square(load_rgb(p), args.size) for p in val[: args.limit]]
    rng = np.random.default_rng(0)
    votes, truths, psnrs = [], [], []
    for cover in photos:
        n = carrier.slots(*cover.shape[:2])
        plane = rng.integers(0, 2, n).astype(np.float32)
        c = torch.from_numpy(np.array(cover)).permute(2, 0, 1)[None].float() / 255
        target = carrier._spread(torch.from_numpy(plane).reshape(1, *carrier.grid(*cover.shape[:2])))
        with torch.no_grad():
            stego = model.hide(c, target)
        img = torch.round(stego.clamp(0, 1) * 255)[0].permute(1, 2, 0).to(torch.uint8).numpy()
        psnrs.append(10 * np.log10(255**2 / np.mean((img.astype(float) - cover) ** 2)))
        if args.jpeg:
            img = Attack("jpeg", args.jpeg)(img, rng)[0]
        order = rng.permutation(n)  # as a passphrase's keyed order would
        k = n // args.repeat
        votes.append(carrier.votes(carrier.logits(img), order, k))
        truths.append(plane[order[: k * args.repeat]].reshape(k, args.repeat)[:, 0])
    print(f"{args.model}: {len(photos)} {'pictures of ' + str(args.covers) if args.covers else 'validation photos'} at {args.size}x{args.size}, cover PSNR "
          f"{np.mean(psnrs):.2f} dB (no refinement){f', JPEG {args.jpeg}' if args.jpeg else ''}")
    sign = [2 * t - 1 for t in truths]
    print(f"bit errors {np.mean([(v * s <= 0).mean() for v, s in zip(votes, sign)]):.4f}")
    info = {a: [1 - np.mean(np.logaddexp(0, -s * a * v)) / np.log(2) for v, s in zip(votes, sign)] for a in SCALES}
    print("bits per coded bit: " + ", ".join(f"scale {a}: {np.mean(i):.3f} (worst {np.min(i):.3f})"
                                              for a, i in info.items()))
    scale = max(info, key=lambda a: np.mean(info[a]))
    print(f"with llr_scale {scale}, LDPC codewords of {args.ldpc_n} bits that decode:")
    for rate in args.rates:
        code = IraCode(args.ldpc_n, int(round(rate * args.ldpc_n)))
        ok = total = 0
        for v, s in zip(votes, sign):
            for i in range(len(v) // args.ldpc_n):
                part = slice(i * args.ldpc_n, (i + 1) * args.ldpc_n)
                # The decoder only sees which bits are wrong and how sure each vote is: send the zero word.
                wrong = v[part] * s[part] <= 0
                llr = np.minimum(np.abs(v[part]) * scale, LLR_CLIP)  # as seal.py's receiver clips them
                got, converged = code.decode(np.where(wrong, 1.0, -1.0) * llr)
                ok += converged and not got.any()
                total += 1
        kb = rate * carrier.slots(args.size, args.size) / args.repeat / 8 / 1024
        print(f"  rate {rate:.2f}: {ok}/{total}  ({kb:.1f} KB of information bits per {args.size}x{args.size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Why the sealing sender refines as it does: the figures behind payload/seal.py's LLR_CLIP and carrier.py's
sparse steps and urgent salt steps.

    bash scripts/install-heldout     # once: held-out wallpapers -> data/heldout
    .venv/bin/python benchmarks/seal_refinement.py [--covers data/heldout] [--limit 3] [--steps 10]

For each held-out cover (512x512), random coded bits at the png mode's capacity are hidden by the network in
one pass (no refinement), and the receiver's votes read back from the 8-bit stego:

- wrong bits, and how loud the wrong ones are (|vote| at the 99th percentile and at most);
- codewords that belief propagation does not bring back, with the LLRs clipped at LLR_CLIP and unclipped;
- the wrong bits after each of ``--steps`` refinement steps, dense (Adam, 0.4/255 a step through a
  straight-through rounding, as a float optimiser takes them) and sparse (carrier.py: the 5% of values with the
  largest gradient, one level each), from the same first stego.

Then, on scikit-image's astronaut at 64x64 (a small cover, where the decoder is unsure of many slots): the share
of slots with |logit| under 0.5, and how much larger the gradient of a sure slot's logit (|logit| over 5) is
than an unsure one's (median over 16 of each, of the largest |d logit / d value|).
Prints a table and writes benchmarks/results/seal_refinement.json.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from exypno.evaluate.heldout import wallpaper_covers
from exypno.media.image import square
from exypno.nets.layers import quantize_8bit
from exypno.payload.carrier import STEP_FRACTION, _sparse_step
from exypno.payload.container import Keys
from exypno.payload.seal import LLR_CLIP, load_mode

ROOT = Path(__file__).resolve().parents[1]


def _first_stego(mode, cover, rung, order, coded, rng):
    stego, _ = mode.carrier.embed(cover, coded, order, steps=0, generator=rng, accept=lambda s: (True, None))
    return stego


def _failed(mode, rung, llr, coded) -> int:
    n, k = rung.blocks.code.n, rung.blocks.code.k
    bad = 0
    for i in range(rung.blocks.count):
        got, ok = rung.blocks.decode_block(llr, i)
        bad += (not ok) or bool((got != coded[i * n : i * n + k]).any())
    return bad


def _trajectory(mode, stego, coded, order, steps: int, dense: bool) -> list[int]:
    """Wrong bits of the 8-bit stego after each refinement step, from ``stego``."""
    car = mode.carrier
    net = car.model
    for p in net.parameters():
        p.requires_grad_(False)
    index = torch.from_numpy(order[: len(coded)].astype(np.int64))
    sign = torch.from_numpy(coded.astype(np.float32)) * 2 - 1
    x = torch.from_numpy(np.array(stego)).permute(2, 0, 1)[None].float() / 255
    c = x.clone()
    delta = torch.zeros_like(x, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=0.4 / 255)
    wrong = []
    for step in range(steps + 1):
        seen = quantize_8bit(c + delta) if dense else x.requires_grad_(True)
        vote = net.reveal(seen).reshape(-1)[index]
        wrong.append(int((sign * vote <= 0).sum()))
        if step == steps:
            break
        short = F.relu(car.margin - sign * vote)
        if dense:
            opt.zero_grad()
            (short.mean() + 0.01 * (delta * 255).pow(2).mean()).backward()
            opt.step()
        else:
            short.mean().backward()
            with torch.no_grad():
                flat = x.detach().reshape(-1).clone()
                _sparse_step(flat, x.grad.reshape(-1), int(STEP_FRACTION * flat.numel()),
                             torch.ones_like(flat, dtype=torch.bool))
                x = flat.reshape(x.shape)
    return wrong


def _unsure_slots(mode) -> dict:
    from skimage import data

    car = mode.carrier
    cover = square(data.astronaut(), 64)
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, car.slots(64, 64), dtype=np.uint8)
    order = np.arange(len(bits))
    stego, _ = car.embed(cover, bits, order, steps=0, generator=rng, accept=lambda s: (True, None))
    x = torch.from_numpy(stego).permute(2, 0, 1)[None].float().div(255).requires_grad_(True)
    logits = car.model.reveal(x).reshape(-1)
    size = logits.detach().abs().numpy()
    pick = {"unsure": np.flatnonzero(size < 0.5), "sure": np.flatnonzero(size > 5)}
    grads = {}
    for kind, slots in pick.items():
        grads[kind] = float(np.median([torch.autograd.grad(logits[int(i)], x, retain_graph=True)[0].abs().max().item()
                                       for i in rng.choice(slots, 16, replace=False)]))
    return {"cover": "astronaut 64x64", "unsure_share": float((size < 0.5).mean()),
            "gradient_sure": grads["sure"], "gradient_unsure": grads["unsure"],
            "gradient_ratio": grads["sure"] / grads["unsure"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--covers", type=Path, default=ROOT / "data" / "heldout")
    ap.add_argument("--limit", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "seal_refinement.json")
    args = ap.parse_args()
    if not args.covers.is_dir():
        raise SystemExit(f"{args.covers}: no covers; run scripts/install-heldout first")
    torch.manual_seed(0)
    mode = load_mode("png", device="cpu")
    covers = dict(list(wallpaper_covers(args.covers, 512).items())[: args.limit])
    rows = []
    for name, cover in covers.items():
        t0 = time.time()
        rng = np.random.default_rng(0)
        rung = mode.rungs(512, 512)[-1]  # the capacity's
        keys = Keys.derive("a passphrase", bytes(16))
        order = mode.slot_order(rung, mode.salt_slots(512, 512), mode.keyed_slots(512, 512, keys))
        coded = rung.blocks.encode(rng.integers(0, 2, rung.blocks.info_bits, dtype=np.uint8), rng)
        stego = _first_stego(mode, cover, rung, order, coded, rng)
        votes = mode.carrier.votes(mode.carrier.logits(stego), order, len(coded))
        wrong = (votes > 0) != coded.astype(bool)
        loud = np.abs(votes[wrong])
        row = {"cover": name, "coded_bits": len(coded), "codewords": rung.blocks.count, "wrong_bits": int(wrong.sum()),
               "wrong_vote_p99": float(np.percentile(loud, 99)), "wrong_vote_max": float(loud.max()),
               "failed_clipped": _failed(mode, rung, mode.to_llr(votes), coded),
               "failed_unclipped": _failed(mode, rung, mode.llr_scale * votes, coded),
               "dense_wrong": _trajectory(mode, stego, coded, order, args.steps, dense=True),
               "sparse_wrong": _trajectory(mode, stego, coded, order, args.steps, dense=False)}
        row["seconds"] = round(time.time() - t0, 1)
        rows.append(row)
        print(f"  {name}: {row}", flush=True)
    unsure = _unsure_slots(mode)
    print(f"\n512x512, png mode at capacity ({rows[0]['codewords']} codewords of {rung.blocks.code.n} bits), "
          f"the hiding network's first stego:")
    print(f"{'cover':<14}{'wrong bits':>11}{'|vote| p99':>11}{'max':>7}{'failed (clip ' + format(LLR_CLIP, 'g') + ')':>18}"
          f"{'unclipped':>11}   wrong bits after steps 0, 1, 2, 5, {args.steps}: dense / sparse")
    for r in rows:
        pick = [0, 1, 2, 5, args.steps]
        print(f"{r['cover']:<14}{r['wrong_bits']:>11,}{r['wrong_vote_p99']:>11.1f}{r['wrong_vote_max']:>7.0f}"
              f"{r['failed_clipped']:>18}{r['failed_unclipped']:>11}   "
              + " ".join(f"{r['dense_wrong'][i]:,}" for i in pick if i < len(r['dense_wrong'])) + " / "
              + " ".join(f"{r['sparse_wrong'][i]:,}" for i in pick if i < len(r['sparse_wrong'])))
    print(f"{unsure['cover']}: {unsure['unsure_share']:.0%} of slots with |logit| < 0.5; the gradient of a sure "
          f"slot's logit is {unsure['gradient_ratio']:.0f}x an unsure one's ({unsure['gradient_sure']:.1f} vs "
          f"{unsure['gradient_unsure']:.2f})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"size": 512, "llr_clip": LLR_CLIP, "step_fraction": STEP_FRACTION,
                                    "rows": rows, "unsure_slots": unsure}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training throughput of the presets on this machine: samples per second of fwd + bwd + Adam step.

    .venv/bin/python benchmarks/train_speed.py [--size 64] [--batch 12] [--steps 3]

Random tensors (data loading is not measured), 8-bit rounding between EN and DN as in training.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from exypno.nets import PRESETS, StegoModel, count_parameters, gmac_per_megapixel
from exypno.nets.layers import quantize_8bit


def samples_per_second(model: StegoModel, size: int, batch: int, steps: int) -> float:
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    cover, secret = torch.rand(batch, 3, size, size), torch.rand(batch, 3, size, size)
    for i in range(steps + 1):
        if i == 1:
            t0 = time.perf_counter()  # the first step warms up
        stego = model.hide(cover, secret)
        revealed = model.reveal(quantize_8bit(stego))
        loss = ((stego - cover) ** 2).mean() + ((revealed - secret) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return batch * steps / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    torch.manual_seed(0)
    print(f"{'preset':<8}{'parameters':>12}{'GMAC/MP':>10}{'samples/s':>11}   ({args.size}x{args.size}, batch "
          f"{args.batch}, {torch.get_num_threads()} threads)")
    for name, config in PRESETS.items():
        model = StegoModel(config)
        sps = samples_per_second(model, args.size, args.batch, args.steps)
        print(f"{name:<8}{count_parameters(model):>12,}{gmac_per_megapixel(model, 64):>10.1f}{sps:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Data-parallel training under ``torchrun`` with PyTorch's own DistributedDataParallel.

``exypno train`` runs unchanged on one process, or under ``torchrun --nproc_per_node N`` (gloo on CPU,
NCCL on GPUs, one GPU per process). Every rank draws its own crops (its own seeded stream: the crops are
random, so this is the distributed sampler of an infinite data set), gradients are averaged by DDP, and
rank 0 alone validates, logs and writes checkpoints; it tells the others when to stop and what the
scheduler saw, so every rank takes the same steps.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import ExypnoError

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def share(self, obj):
        """Rank 0's ``obj`` on every rank (a no-op on one process)."""
        if self.world == 1:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list:
        """Every rank's ``obj``, in rank order, on every rank."""
        if self.world == 1:
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out


def setup(device: str = "auto") -> Context:
    """Join the process group torchrun describes in the environment, or run alone, on ``device``: "cuda"
    (one GPU per process; an error where there is none), "cpu", or "auto" (CUDA where PyTorch sees it)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if device not in DEVICES:
        raise ExypnoError(f"--device {device!r}: one of {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ExypnoError("--device cuda: PyTorch sees no CUDA device here (a CPU build, or no GPU)")
    cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if world == 1:
        return Context(device=torch.device("cuda") if cuda else torch.device("cpu"))
    local = int(os.environ.get("LOCAL_RANK", os.environ.get("RANK", "0")))
    if cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device("cuda", local) if cuda else torch.device("cpu")
    return Context(rank=dist.get_rank(), world=dist.get_world_size(), device=device)


def teardown(ctx: Context) -> None:
    if ctx.world > 1 and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()

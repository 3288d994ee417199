"""Training checkpoints as one safetensors file: no pickles, even for resuming.

Tensors: the model (``model.*``), Adam's moments (``optim.<i>.<name>``) and each rank's torch RNG state
(``rng.torch.<rank>``). Metadata (JSON strings): the training config, step, best figure, optimizer
hyper-parameters, the LR scheduler's state and each rank's numpy generator state. Together they resume a
run exactly, on the same number of processes.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, safe_open, save_file


def save_checkpoint(path: Path, *, model, optimizer, scheduler, numpy_states: list[dict],
                    torch_states: list[torch.Tensor], meta: dict) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for idx, state in opt["state"].items():
        for name, value in state.items():
            tensors[f"optim.{idx}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    for rank, state in enumerate(torch_states):
        tensors[f"rng.torch.{rank}"] = state
    metadata = {
        "meta": json.dumps(meta),
        "param_groups": json.dumps(opt["param_groups"]),
        "scheduler": json.dumps(scheduler.state_dict()),
        "numpy_rng": json.dumps(numpy_states),
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)  # never leave a half-written checkpoint


def load_checkpoint(path: Path, *, model, optimizer, scheduler, device="cpu") -> tuple[dict, list, dict]:
    """Load model, optimizer and scheduler; return (meta, numpy states by rank, torch states by rank)."""
    tensors = load_file(str(path), device=str(device))
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value.cpu() if name == "step" else value
    optimizer.load_state_dict({"state": state, "param_groups": json.loads(metadata["param_groups"])})
    scheduler.load_state_dict(json.loads(metadata["scheduler"]))
    numpy_states = json.loads(metadata["numpy_rng"])
    if isinstance(numpy_states, dict):  # checkpoints of single-process runs before DDP support
        numpy_states = [numpy_states]
    torch_states = {int(k.rsplit(".", 1)[1]): v.cpu() for k, v in tensors.items() if k.startswith("rng.torch.")}
    if "rng.torch" in tensors:
        torch_states[0] = tensors["rng.torch"].cpu()
    return json.loads(metadata["meta"]), numpy_states, torch_states


def read_meta(path: Path) -> dict:
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["meta"])

"""Training checkpoints as one safetensors file: no pickles, even for resuming.

Tensors: the model (``model.*``), Adam's moments (``optim.<i>.<name>``) and torch's RNG state.
Metadata (JSON strings): the training config, step, best figure, optimizer hyper-parameters,
the LR scheduler's state and the numpy generator's state. Together they resume a run exactly.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, safe_open, save_file


def save_checkpoint(path: Path, *, model, optimizer, scheduler, rng: np.random.Generator, meta: dict) -> None:
    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for idx, state in opt["state"].items():
        for name, value in state.items():
            tensors[f"optim.{idx}.{name}"] = torch.as_tensor(value).contiguous()
    tensors["rng.torch"] = torch.get_rng_state()
    metadata = {
        "meta": json.dumps(meta),
        "param_groups": json.dumps(opt["param_groups"]),
        "scheduler": json.dumps(scheduler.state_dict()),
        "numpy_rng": json.dumps(rng.bit_generator.state),
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)  # never leave a half-written checkpoint


def load_checkpoint(path: Path, *, model, optimizer, scheduler, rng: np.random.Generator) -> dict:
    tensors = load_file(str(path))
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": json.loads(metadata["param_groups"])})
    scheduler.load_state_dict(json.loads(metadata["scheduler"]))
    rng.bit_generator.state = json.loads(metadata["numpy_rng"])
    torch.set_rng_state(tensors["rng.torch"])
    return json.loads(metadata["meta"])


def read_meta(path: Path) -> dict:
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["meta"])

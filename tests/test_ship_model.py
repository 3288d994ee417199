"""The training command a model card gives (scripts/ship_model.py) is the run's config, read back by the CLI."""
import importlib.util
import json
import math
import shlex
from dataclasses import asdict
from pathlib import Path

import pytest

from exypno.cli import build_parser, train_config
from exypno.train.loop import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
RUNS = [p for p in sorted((ROOT / "runs").glob("*/config.json")) if "config" in json.loads(p.read_text())]


def ship_model():
    spec = importlib.util.spec_from_file_location("ship_model", ROOT / "scripts" / "ship_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parsed(command: str) -> dict:
    words = shlex.split(command)
    assert words[:2] == ["exypno", "train"], command
    return asdict(train_config(build_parser().parse_args(words[1:])))


def assert_same_run(cfg: dict, back: dict, module) -> None:
    """Every field the command can set agrees, but those of no effect on the run."""
    for key, value in back.items():
        if key in ("val_pairs", "val_fraction", "min_lr", "extra", *module.RUNNING) or module._omitted(key, cfg):
            continue
        want = cfg.get(key, asdict(TrainConfig(data="", out=""))[key])
        want = tuple(want) if isinstance(want, list) else want
        if key == "noise" and want is not None and value is not None:
            assert math.isclose(value, want, abs_tol=1e-7), (key, value, want)
        else:
            assert value == want, (key, value, want)


def test_defaults_are_left_out_and_the_rest_is_read_back():
    module = ship_model()
    assert module.command_of(asdict(TrainConfig(data="d", out="o"))) == "exypno train --data d --out o"
    cfg = asdict(TrainConfig(data="d", out="o", pairing="audio-in-audio", audio="a", spectrogram="waveform",
                             lattice=(0.003125,), qim=(1.0, 255.0), secret_level=(-30.0, -12.0), decoder_only=True,
                             attacks="jpeg:70-95,identity", noise=0.0, lr=3e-4, max_minutes=5.0, threads=2))
    command = module.command_of(cfg)
    assert "--max-minutes" not in command and "--threads" not in command and "--decoder-only" in command
    assert_same_run(cfg, parsed(command), module)
    image = asdict(TrainConfig(data="d", out="o", spectrogram="block", secret_level=(-30.0, -12.0), warmup_db=3.0))
    assert module.command_of(image) == "exypno train --data d --out o"  # of no effect on an image pairing


@pytest.mark.parametrize("run", RUNS, ids=[p.parent.name for p in RUNS])
def test_the_command_of_each_kept_run_gives_its_config_back(run):
    module = ship_model()
    cfg = json.loads(run.read_text())["config"]
    assert_same_run(cfg, parsed(module.command_of(cfg)), module)

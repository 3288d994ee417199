"""DDP on CPU: two gloo processes on a tiny model stay identical, and a checkpoint resumes exactly."""
import json
import os
import socket

import torch.multiprocessing as mp

from exypno.train.loop import TrainConfig, train


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, cfg: dict, resume: bool, report: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    cfg = dict(cfg, blocks=tuple(cfg["blocks"]))
    result = train(TrainConfig(**cfg), resume=resume, progress=False)
    with open(f"{report}.{rank}", "w") as f:
        json.dump({"digest": result["parameter_digest"], "world": result["world_size"]}, f)
    # The work is done and reported: leave without the interpreter's finalisation, where a gloo thread still
    # holding a tensor now and then aborts the process (SIGABRT, "terminate called without an active
    # exception"; pytorch/pytorch#179291).
    os._exit(0)


def _run(tmp_path, name, steps, resume=False):
    cfg = dict(data=str(tmp_path / "photos"), out=str(tmp_path / name), width=8, blocks=[1, 1, 1], crop=32,
               batch=2, val_crop=32, val_pairs=4, val_every=2, val_fraction=0.3, threads=1, steps=steps)
    report = str(tmp_path / f"{name}.report")
    # The free port is free when asked, not surely when gloo binds it: another process may take it between.
    # That failure comes before any training step, so a new port starts the same run again.
    for attempt in range(3):
        try:
            mp.spawn(_worker, args=(2, _free_port(), cfg, resume, report), nprocs=2, join=True)
            break
        except mp.ProcessRaisedException as e:
            if attempt == 2 or "address already in use" not in str(e).lower():
                raise
    return [json.loads(open(f"{report}.{r}").read()) for r in range(2)]


def test_two_processes_stay_identical_and_resume_exactly(photo_dir, tmp_path):
    assert photo_dir == tmp_path / "photos"
    straight = _run(tmp_path, "straight", steps=6)
    assert straight[0]["world"] == straight[1]["world"] == 2
    assert straight[0]["digest"] == straight[1]["digest"]  # DDP kept the ranks in lockstep

    _run(tmp_path, "split", steps=4)
    resumed = _run(tmp_path, "split", steps=6, resume=True)
    assert resumed[0]["digest"] == resumed[1]["digest"]
    assert resumed[0]["digest"] == straight[0]["digest"]  # 4 + 2 steps == 6 steps, bit for bit

    log = [json.loads(line) for line in (tmp_path / "split" / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log] == [2, 4, 6]  # rank 0 alone writes the log
    assert log[-1]["samples"] == 6 * 2 * 2  # steps x batch x processes

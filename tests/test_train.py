import json

import pytest

import torch
from safetensors.torch import load_file

from exypno.nets import NetConfig, StegoModel
from exypno.nets.files import load_model
from exypno.media.folders import is_validation, list_photos
from exypno.train.data import CropSampler, load_rgb, split_photos
from exypno.train.loop import TrainConfig, train


def tiny(photo_dir, out, **kw):
    base = dict(data=str(photo_dir), out=str(out), width=8, blocks=(1, 1, 1), crop=32, batch=2, val_crop=32,
                val_pairs=4, val_every=2, val_fraction=0.3, threads=1)
    base.update(kw)
    return TrainConfig(**base)


def test_split_is_by_file_and_stable(photo_dir):
    train_files, val_files = split_photos(photo_dir, 0.3)
    assert set(train_files).isdisjoint(val_files)
    assert set(train_files) | set(val_files) == set(list_photos(photo_dir))
    assert all(is_validation(p, 0.3) for p in val_files)
    assert split_photos(photo_dir, 0.3) == (train_files, val_files)


def test_sampler_crops_pairs_of_different_photos(photo_dir, rng):
    photos = [load_rgb(p) for p in list_photos(photo_dir)]
    cover, secret = CropSampler(photos, 32).batch(rng, 5)
    assert cover.shape == secret.shape == (5, 3, 32, 32)
    assert 0 <= cover.min() and cover.max() <= 1
    assert not torch.equal(cover, secret)


def test_training_reduces_loss_and_logs(photo_dir, tmp_path):
    result = train(tiny(photo_dir, tmp_path / "run", steps=12), progress=False)
    lines = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == list(range(2, 13, 2))
    assert {"cover_psnr", "secret_psnr", "lr", "seconds"} <= set(lines[0])
    assert lines[-1]["val_loss"] < lines[0]["val_loss"]
    model, card = load_model(tmp_path / "run" / "best.safetensors")
    assert card["config"]["width"] == 8
    assert result["best"]["val_loss"] == min(x["val_loss"] for x in lines)


def test_resume_gives_the_same_next_steps(photo_dir, tmp_path):
    train(tiny(photo_dir, tmp_path / "straight", steps=6), progress=False)
    train(tiny(photo_dir, tmp_path / "split", steps=4), progress=False)
    train(tiny(photo_dir, tmp_path / "split", steps=6), resume=True, progress=False)
    a = load_file(str(tmp_path / "straight" / "checkpoint.safetensors"))
    b = load_file(str(tmp_path / "split" / "checkpoint.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        if not k.startswith("rng"):
            assert torch.equal(a[k], b[k]), k
    log_a = (tmp_path / "straight" / "log.jsonl").read_text().splitlines()
    log_b = (tmp_path / "split" / "log.jsonl").read_text().splitlines()
    strip = lambda line: {k: v for k, v in json.loads(line).items() if k != "seconds"}  # noqa: E731
    assert [strip(x) for x in log_a] == [strip(x) for x in log_b]


def test_worker_processes_draw_repeatable_batches(photo_dir, tmp_path):
    # --workers: batches come from forked DataLoader workers; the same seed gives the same run.
    a = train(tiny(photo_dir, tmp_path / "a", steps=4, workers=2), progress=False)
    b = train(tiny(photo_dir, tmp_path / "b", steps=4, workers=2), progress=False)
    c = train(tiny(photo_dir, tmp_path / "c", steps=4), progress=False)
    assert a["parameter_digest"] == b["parameter_digest"]
    assert a["parameter_digest"] != c["parameter_digest"]  # other batches than the in-process stream
    assert train(tiny(photo_dir, tmp_path / "a", steps=6, workers=2), resume=True, progress=False)["last"]["step"] == 6


def test_lr_warmup_raises_the_rate_from_zero(photo_dir, tmp_path):
    train(tiny(photo_dir, tmp_path / "w", steps=4, lr=1e-3, lr_warmup=8), progress=False)
    logged = [json.loads(x)["lr"] for x in (tmp_path / "w" / "log.jsonl").read_text().splitlines()]
    assert logged == pytest.approx([2.5e-4, 5e-4])  # steps 2 and 4 of 8


def test_paper_preset_trains_in_the_same_loop(photo_dir, tmp_path):
    result = train(tiny(photo_dir, tmp_path / "paper", preset="paper", crop=16, val_crop=16, val_pairs=2,
                        batch=1, steps=1, val_every=1), progress=False)
    assert result["parameters"] > 9e6


def test_init_fine_tunes_from_a_model_file(photo_dir, tmp_path):
    first = train(tiny(photo_dir, tmp_path / "a", steps=2), progress=False)
    cfg = tiny(photo_dir, tmp_path / "b", steps=2, width=None, blocks=None, lr=0.0,
               init=str(tmp_path / "a" / "best.safetensors"))
    assert cfg.net_config().width == 8  # the architecture comes from the weights
    second = train(cfg, progress=False)
    best_a, _ = load_model(tmp_path / "a" / "best.safetensors")
    from exypno.train.loop import parameter_digest

    assert second["parameter_digest"] == parameter_digest(best_a)  # lr 0: still exactly the initial weights
    assert first["parameter_digest"] != parameter_digest(StegoModel(best_a.config))


def test_decoder_only_keeps_the_sender_and_trains_the_decoder(photo_dir, tmp_path):
    from exypno.errors import ExypnoError

    train(tiny(photo_dir, tmp_path / "a", steps=2), progress=False)
    start, _ = load_model(tmp_path / "a" / "best.safetensors")
    cfg = tiny(photo_dir, tmp_path / "b", steps=4, width=None, blocks=None, init=str(tmp_path / "a" / "best.safetensors"),
               decoder_only=True, attacks="identity,cropgrid:0.5-1", val_cropgrid=0.5)
    train(cfg, progress=False)
    logged = [json.loads(x) for x in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert all(x["crop_fraction"] == 0.5 and x["secret_psnr_crop"] < x["secret_psnr"] + 3 for x in logged)
    assert logged[0]["cover_psnr"] == logged[-1]["cover_psnr"]  # the same stegos
    from exypno.train.loop import _data, evaluate_model

    _, (covers, secrets) = _data(cfg, True)
    whole = evaluate_model(start, covers, secrets, "cpu", cfg.domains(), cropgrid=1.0)  # the window is all
    assert whole["secret_psnr_crop"] == pytest.approx(whole["secret_psnr"])
    half = evaluate_model(start, covers, secrets, "cpu", cfg.domains(), cropgrid=0.5)
    assert half["secret_psnr_crop"] != pytest.approx(whole["secret_psnr"])
    trained = load_file(str(tmp_path / "b" / "checkpoint.safetensors"))
    for name, value in start.named_parameters():
        same = torch.equal(trained[f"model.{name}"], value) if f"model.{name}" in trained else None
        assert same is not None, name
        assert same == (not name.startswith("decoder.")), name  # CN and EN as they were; DN moved
    with pytest.raises(ExypnoError, match="--init"):
        train(tiny(photo_dir, tmp_path / "c", steps=2, decoder_only=True), progress=False)


def test_a_run_from_a_model_with_a_border_decoder_trains_without_it_and_resumes(photo_dir, tmp_path):
    from dataclasses import replace

    from exypno.nets.files import save_model

    train(tiny(photo_dir, tmp_path / "a", steps=2), progress=False)
    plain, _ = load_model(tmp_path / "a" / "best.safetensors")
    bordered = StegoModel(replace(plain.config, border=True))
    bordered.load_state_dict({**plain.state_dict(),
                              **{f"border_decoder.{k}": v for k, v in plain.decoder.state_dict().items()}})
    init = tmp_path / "init.safetensors"
    save_model(bordered, init)
    cfg = tiny(photo_dir, tmp_path / "b", steps=2, width=None, blocks=None, init=str(init))
    assert cfg.net_config() == plain.config  # a border decoder fits one encoder: the run does not carry it
    train(cfg, progress=False)
    assert not any(k.startswith("model.border_decoder.") for k in load_file(str(tmp_path / "b" / "checkpoint.safetensors")))
    # --init's file changes under the run (as the default did when its border decoder shipped): the run
    # resumes with the architecture it started with, kept in its checkpoint.
    save_model(StegoModel(NetConfig(width=16, blocks=(1, 1, 1))), init)
    train(tiny(photo_dir, tmp_path / "b", steps=4), resume=True, progress=False)
    resumed, _ = load_model(tmp_path / "b" / "best.safetensors")
    assert resumed.config == plain.config
    assert len((tmp_path / "b" / "log.jsonl").read_text().splitlines()) == 2


def test_init_refuses_another_architecture(photo_dir, tmp_path):
    import pytest

    from exypno.errors import ExypnoError
    from exypno.train.loop import _load_initial_weights

    train(tiny(photo_dir, tmp_path / "a", steps=2), progress=False)
    with pytest.raises(ExypnoError, match="architecture"):
        _load_initial_weights(StegoModel(NetConfig(width=16, blocks=(1, 1, 1))), tmp_path / "a" / "best.safetensors")


def test_a_moved_run_resumes_where_it_now_is(photo_dir, tmp_path):
    import shutil

    train(tiny(photo_dir, tmp_path / "old", steps=2), progress=False)
    shutil.copytree(tmp_path / "old", tmp_path / "new")
    before = (tmp_path / "old" / "log.jsonl").read_text()
    train(tiny(photo_dir, tmp_path / "new", steps=4), resume=True, progress=False)
    assert (tmp_path / "old" / "log.jsonl").read_text() == before  # the original is untouched
    assert len((tmp_path / "new" / "log.jsonl").read_text().splitlines()) == 2


def test_bit_model_trains_with_a_cover_target_and_resumes_exactly(photo_dir, tmp_path):
    straight = train(tiny(photo_dir, tmp_path / "a", steps=8, bits=2, cover_target=30.0, lr=3e-3), progress=False)
    lines = [json.loads(x) for x in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert {"bit_error_rate", "cover_psnr", "alpha"} <= set(lines[0])
    assert len({round(x["alpha"], 9) for x in lines}) > 1  # the cover target steers alpha
    model, card = load_model(tmp_path / "a" / "best.safetensors")
    assert card["config"]["secret_channels"] == 2
    # Resuming carries alpha along: the same parameters as the straight run.
    train(tiny(photo_dir, tmp_path / "b", steps=4, bits=2, cover_target=30.0, lr=3e-3), progress=False)
    split = train(tiny(photo_dir, tmp_path / "b", steps=8), resume=True, progress=False)
    assert split["parameter_digest"] == straight["parameter_digest"]


def test_a_jpeg_robust_bit_model_trains_on_bit_squares_and_validates_after_jpeg(photo_dir, tmp_path):
    import pytest

    from exypno.errors import ExypnoError

    train(tiny(photo_dir, tmp_path / "j", steps=4, bits=2, bit_block=4, val_jpeg=90, attacks="jpeg:80-95,identity"),
          progress=False)
    line = json.loads((tmp_path / "j" / "log.jsonl").read_text().splitlines()[-1])
    assert line["jpeg_quality"] == 90 and {"bit_error_rate", "bit_error_rate_clean"} <= set(line)
    with pytest.raises(ExypnoError, match="bit-block"):  # a crop would cut through the squares
        train(tiny(photo_dir, tmp_path / "c", steps=2, bits=2, bit_block=4, attacks="crop:0.5-1"), progress=False)
    with pytest.raises(ExypnoError, match="bit-block"):
        train(tiny(photo_dir, tmp_path / "d", steps=2, bits=2, bit_block=3), progress=False)


def test_an_image_model_validates_its_secret_after_jpeg(photo_dir, tmp_path):
    train(tiny(photo_dir, tmp_path / "i", steps=3, val_jpeg=75, attacks="djpeg:70-95,identity"), progress=False)
    line = json.loads((tmp_path / "i" / "log.jsonl").read_text().splitlines()[-1])
    assert line["jpeg_quality"] == 75 and line["secret_psnr"] < line["secret_psnr_clean"]


def test_bit_squares_spread_to_pixels_and_pool_back():
    from exypno.train.domains import BitsDomain

    d = BitsDomain(2, block=4)
    bits = torch.randint(0, 2, (1, 2, 3, 5)).float()
    spread = d.to_net(bits)
    assert spread.shape == (1, 2, 12, 20) and (spread[0, 1, 4:8, 8:12] == bits[0, 1, 1, 2]).all()
    assert torch.equal(d.from_net(spread), bits)
    logits = (2 * spread - 1) * 5
    assert d.secret_loss(logits, bits) < 0.01


def test_device_picks_where_the_run_trains(photo_dir, tmp_path):
    import pytest

    from exypno.errors import ExypnoError
    from exypno.train.checkpoint import read_meta

    train(tiny(photo_dir, tmp_path / "cpu", steps=2, device="cpu"), progress=False)
    assert "CPU" in read_meta(tmp_path / "cpu" / "checkpoint.safetensors")["hardware"]
    if torch.cuda.is_available():
        train(tiny(photo_dir, tmp_path / "gpu", steps=2, device="cuda"), progress=False)
        assert "GPU" in read_meta(tmp_path / "gpu" / "checkpoint.safetensors")["hardware"]
    else:  # asked for a GPU where there is none: one error, not a silent run on the CPU
        with pytest.raises(ExypnoError, match="--device cuda"):
            train(tiny(photo_dir, tmp_path / "gpu", steps=2, device="cuda"), progress=False)
        assert not (tmp_path / "gpu").exists()
    with pytest.raises(ExypnoError, match="--device"):
        train(tiny(photo_dir, tmp_path / "tpu", steps=2, device="tpu"), progress=False)


def test_every_train_flag_is_a_train_config_field():
    """The train command's options are TrainConfig's fields, by name: declared once, no second list to keep."""
    from dataclasses import fields

    from exypno.cli import build_parser
    from exypno.train.loop import TrainConfig

    given = set(vars(build_parser().parse_args(["train", "--out", "x"])))
    assert given - {f.name for f in fields(TrainConfig)} <= {"command", "func", "resume", "quiet"}

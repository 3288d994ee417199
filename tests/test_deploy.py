"""ONNX export and onnxruntime inference, int8 files, folders in and out, and the device flag."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exypno.api import Stego, hide_many, reveal_many
from exypno.cli import main
from exypno.errors import ExypnoError
from exypno.media.metrics import psnr_8bit
from exypno.media.image import write_png

pytest.importorskip("onnxruntime")  # the exypno[onnx] extra, which scripts/setup installs


def photo(seed: int, h: int = 64, w: int = 64) -> np.ndarray:
    """A smooth picture with some texture, so that PSNR means something."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:h, :w]
    base = np.stack([np.sin(x / (5 + seed)) , np.cos(y / 7), np.sin((x + y) / 9)], -1) * 80 + 128
    return np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def onnx_full(tmp_path_factory) -> Path:
    from exypno.nets.files import load_model
    from exypno.registry import model_path
    from exypno.nets.onnx_files import export_onnx

    model, card = load_model(model_path("default"))
    return export_onnx(model, card, "full", tmp_path_factory.mktemp("onnx") / "full.onnx")


def test_onnx_float_path_matches_torch(onnx_full):
    """The same engine above both runtimes: stego and reveal within 0.1 dB of PyTorch's."""
    torch_stego, onnx_stego = Stego.load("default", "cpu"), Stego.load(onnx_full, "cpu")
    cover, secret = photo(1, 96, 128), photo(2, 96, 128)
    a, b = torch_stego.hide(cover, secret), onnx_stego.hide(cover, secret)
    assert abs(psnr_8bit(cover, a) - psnr_8bit(cover, b)) < 0.1
    assert np.abs(a.astype(int) - b).max() <= 1  # a rounding step at most
    ra, rb = torch_stego.reveal(a), onnx_stego.reveal(a)
    assert abs(psnr_8bit(secret, ra) - psnr_8bit(secret, rb)) < 0.1
    assert psnr_8bit(secret, rb) > 20  # a reveal, not noise


def test_onnx_file_says_what_it_is(onnx_full, tmp_path):
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(onnx_full)).metadata_props}
    assert meta["exypno.format"] == "exypno-onnx/1" and meta["exypno.part"] == "full"
    assert '"preset": "haar"' in meta["exypno.card"]
    plain = tmp_path / "plain.onnx"
    model = onnx.load(str(onnx_full))
    del model.metadata_props[:]
    plain.write_bytes(model.SerializeToString())
    with pytest.raises(ExypnoError, match="not an Exypno ONNX model"):
        Stego.load(plain, "cpu")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ExypnoError):
        Stego.load(tmp_path / "junk.onnx", "cpu")


def test_int8_file_loads_and_reveals(onnx_full, tmp_path):
    """int8 from calibration pairs (here two synthetic ones: the suite has no training photos): smaller, and
    it still hides and reveals."""
    from exypno.nets.files import load_model
    from exypno.registry import model_path
    from exypno.nets.onnx_files import calibration_feeds, model_roles, quantize_int8

    model, _ = load_model(model_path("default"))
    feeds = calibration_feeds(model, [(photo(3), photo(4)), (photo(5), photo(6))], model_roles(model, "full"))
    int8 = quantize_int8(onnx_full, tmp_path / "int8.onnx", feeds)
    assert int8.stat().st_size < 0.45 * onnx_full.stat().st_size
    nets = Stego.load(int8, "cpu")
    assert nets.model.precision == "int8"
    cover, secret = photo(7), photo(8)
    stego = nets.hide(cover, secret)
    assert psnr_8bit(cover, stego) > 30
    assert psnr_8bit(secret, nets.reveal(stego)) > 20


def test_int8_without_training_photos_says_where_to_get_them(tmp_path, capsys):
    """A fresh clone has no data/photos: one line naming --calibrate DIR and scripts/install-media, no file."""
    out = tmp_path / "r8.onnx"
    assert main(["export", "--part", "receiver", "--quantize", "int8", "--calibrate", str(tmp_path / "none"),
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--calibrate DIR" in err and "scripts/install-media" in err
    assert not out.exists()


def test_sender_onnx_cannot_reveal(tmp_path, capsys):
    out = tmp_path / "sender.onnx"
    assert main(["export", "--part", "sender", "-o", str(out)]) == 0
    write_png(tmp_path / "c.png", photo(1))
    assert main(["reveal", str(tmp_path / "c.png"), "-o", str(tmp_path / "r.png"), "--model", str(out)]) == 2
    assert "sender" in capsys.readouterr().err


def test_folders_with_one_bad_file(tmp_path, capsys):
    covers, secrets, out, revealed = (tmp_path / n for n in ("covers", "secrets", "out", "revealed"))
    for d in (covers, secrets, out, revealed):
        d.mkdir()
    for i in range(3):
        write_png(covers / f"c{i}.png", photo(i))
        write_png(secrets / f"s{i}.png", photo(10 + i))
    (covers / "c3.png").write_bytes(b"not a picture")  # the bad file
    write_png(secrets / "s3.png", photo(13))
    assert main(["hide", "--cover", str(covers), "--secret", str(secrets), "-o", str(out), "--device", "cpu"]) == 2
    captured = capsys.readouterr()
    assert "c3.png" in captured.err and "1 of 4 files failed" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["c0.png", "c1.png", "c2.png"]
    batched = Stego.load("default", "cpu").hide(photo(1), photo(11))  # the batch gives what one file gives
    from exypno.media.image import read_image

    assert np.abs(read_image(out / "c1.png").astype(int) - batched).max() <= 1  # batched convolutions: a level at most
    assert main(["reveal", str(out), "-o", str(revealed), "--device", "cpu"]) == 0
    assert psnr_8bit(photo(11), read_image(revealed / "c1.png")) > 20
    again = hide_many(covers, secrets / "s0.png", out, device="cpu")  # one secret; no overwriting
    assert all(o.error and "already exists" in o.error for o in again[:3]) and again[3].error
    assert [o.output for o in reveal_many(out, revealed, device="cpu", force=True)] == [revealed / f"c{i}.png" for i in range(3)]


def test_device_flag(tmp_path, capsys):
    import torch

    from exypno.nets.files import torch_device

    assert torch_device("cpu") == torch.device("cpu")
    assert torch_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    write_png(tmp_path / "c.png", photo(1))
    write_png(tmp_path / "s.png", photo(2))
    assert main(["hide", "--cover", str(tmp_path / "c.png"), "--secret", str(tmp_path / "s.png"),
                 "-o", str(tmp_path / "st.png"), "--device", "cpu"]) == 0
    if not torch.cuda.is_available():
        assert main(["reveal", str(tmp_path / "st.png"), "-o", str(tmp_path / "r.png"), "--device", "cuda"]) == 2
        assert "CUDA" in capsys.readouterr().err


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the error where torch sees no CUDA")
def test_device_cuda_without_cuda_is_one_line(tmp_path, capsys, monkeypatch):
    """seal, unseal and evaluate say so in one line, before a prompt or any slow step."""
    monkeypatch.delenv("EXYPNO_PASSPHRASE", raising=False)
    write_png(tmp_path / "c.png", photo(1))
    (tmp_path / "f.txt").write_text("x")
    (tmp_path / "d").mkdir()
    for argv in (["seal", "--cover", str(tmp_path / "c.png"), "--file", str(tmp_path / "f.txt"), "-o", str(tmp_path / "s.png")],
                 ["unseal", str(tmp_path / "c.png"), "-o", str(tmp_path / "out.txt")],
                 ["evaluate", "--covers", str(tmp_path), "--secrets", str(tmp_path), "--out", str(tmp_path / "d")]):
        assert main(argv + ["--device", "cuda"]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "torch sees no CUDA device" in err, (argv, err)


def test_seal_and_unseal_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("EXYPNO_PASSPHRASE", "correct horse")
    covers, sealed, files = tmp_path / "covers", tmp_path / "sealed", tmp_path / "files"
    for d in (covers, sealed, files):
        d.mkdir()
    write_png(covers / "a.png", photo(1, 128, 128))
    (covers / "b.txt").write_text("not a cover")
    (tmp_path / "note.txt").write_bytes(b"hello folders")
    assert main(["seal", "--cover", str(covers), "--file", str(tmp_path / "note.txt"), "-o", str(sealed),
                 "--device", "cpu"]) == 2
    assert [p.name for p in sealed.iterdir()] == ["a.png"]
    assert main(["unseal", str(sealed), "-o", str(files), "--device", "cpu"]) == 0
    assert (files / "note.txt").read_bytes() == b"hello folders"
    from exypno.payload.seal import load_mode

    assert load_mode("png", device="cpu").carrier.device.type == "cpu"  # the bit-hiding model, where asked

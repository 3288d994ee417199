"""Noise layers: each one alone, the spec parser, and the crop target in the training loop."""
import numpy as np
import pytest
import torch

from exypno.errors import ExypnoError
from exypno.channel.noise import (Crop, CropGrid, DiffJpeg, Dropout, Gaussian, Jpeg, NoiseChannel, Resize,
                               jpeg_approx, jpeg_roundtrip, parse_layers)


@pytest.fixture
def batch():
    torch.manual_seed(0)
    x = torch.nn.functional.interpolate(torch.rand(2, 3, 8, 8), size=(32, 32), mode="bilinear")
    return x.requires_grad_(True), torch.rand(2, 3, 32, 32)


def test_gaussian_adds_bounded_noise(batch):
    x, cover = batch
    y, box = Gaussian(4)(x, cover)
    assert box is None and y.shape == x.shape
    assert 0 < (y - x).std() * 255 < 4


def test_jpeg_is_real_jpeg_with_straight_through_gradient(batch):
    x, cover = batch
    y, _ = Jpeg(50, 50)(x, cover)
    import io

    from PIL import Image

    first = torch.round(x[0].detach() * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    buf = io.BytesIO()
    Image.fromarray(first).save(buf, format="JPEG", quality=50)
    expected = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    got = torch.round(y[0].detach() * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.array_equal(got, expected)  # exactly what Pillow's JPEG gives back
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_crop_returns_the_box(batch):
    x, cover = batch
    torch.manual_seed(1)
    y, (top, left, h, w, dy, dx) = Crop(0.5, 0.5)(x, cover)
    assert y.shape[-2:] == (16, 16) == (h, w) and (dy, dx) == (0, 0)
    assert torch.equal(y, x[..., top : top + h, left : left + w])


@pytest.mark.parametrize("seed", range(6))
def test_cropgrid_pads_a_crop_back_onto_the_grid_as_reveal_does(batch, seed):
    x, cover = batch
    torch.manual_seed(seed)
    y, (top, left, h, w, dy, dx) = CropGrid(0.4, 0.8, multiple=4)(x, cover)
    assert (dy, dx) == (top % 4, left % 4)
    assert y.shape[-2] % 4 == 0 and y.shape[-1] % 4 == 0
    assert torch.equal(y[..., dy : dy + h, dx : dx + w], x[..., top : top + h, left : left + w])
    # What Stego.reveal gives the decoder for this crop once its search found (dy, dx): numpy's reflect
    # padding at the top and left, then torch's to whole blocks at the bottom and right.
    crop = x[0, :, top : top + h, left : left + w].detach().permute(1, 2, 0).numpy()
    pad = np.pad(crop, ((dy, 0), (dx, 0), (0, 0)), mode="reflect")
    pad = torch.nn.functional.pad(torch.from_numpy(pad).permute(2, 0, 1)[None],
                                  (0, (-pad.shape[1]) % 4, 0, (-pad.shape[0]) % 4), mode="reflect")
    assert torch.equal(y[:1].detach(), pad)


def test_resize_keeps_size_and_blurs(batch):
    x, cover = batch
    y, _ = Resize(0.5, 0.5)(x, cover)
    assert y.shape == x.shape
    assert 0 < (y - x).abs().mean() < 0.1


def test_dropout_takes_cover_pixels(batch):
    x, cover = batch
    y, _ = Dropout(0.3)(x, cover)
    from_cover = torch.isclose(y, cover).all(dim=1)
    assert 0.2 < from_cover.float().mean() < 0.4


def test_differentiable_jpeg_is_close_to_the_real_one():
    from exypno.evaluate.heldout import heldout_photos

    x = torch.from_numpy(np.stack(list(heldout_photos(64).values())[:3])).permute(0, 3, 1, 2).float() / 255
    for quality in (95, 75, 50):
        real, approx = jpeg_roundtrip(x, quality), jpeg_approx(x, quality).clamp(0, 1)
        gap = 10 * torch.log10(1 / ((real - approx) ** 2).mean())
        loss = 10 * torch.log10(1 / ((real - x) ** 2).mean())
        assert gap > loss + 8  # measured on 256x256 photos: 44-47 dB from real JPEG, which is 31-37 dB from x
    assert jpeg_approx(x[:, :, :50, :37], 90).shape == (3, 3, 50, 37)  # any size (padded to 16 inside)


def test_djpeg_gives_real_jpeg_values_and_the_approximations_gradient(batch):
    x, cover = batch
    y, box = DiffJpeg(60, 60)(x, cover)
    assert box is None and torch.equal(y.detach(), jpeg_roundtrip(x.detach(), 60))
    y.sum().backward()
    assert torch.isfinite(x.grad).all() and not torch.allclose(x.grad, torch.ones_like(x))  # not straight-through
    # What the approximation's gradient says: a change at the highest frequency (a checkerboard) is mostly
    # quantised away, a change of the mean is kept.
    photo = jpeg_roundtrip(torch.rand(1, 3, 4, 4).repeat_interleave(8, 2).repeat_interleave(8, 3), 95)
    board = ((torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2 * 2.0 - 1).expand(1, 3, 32, 32)
    kept = []
    for direction in (board, torch.ones_like(board)):
        p = photo.clone().requires_grad_(True)
        (jpeg_approx(p, 50) * direction).sum().backward()
        kept.append((p.grad * direction).sum() / direction.pow(2).sum())
    assert kept[0] < 0.1 < kept[1]


def test_spec_parser_and_errors():
    ch = NoiseChannel("gaussian:2, jpeg:50-95,djpeg:70-95,crop:0.5-1.0,cropgrid:0.5-1,resize:0.5-1,dropout:0.3,"
                      "identity")
    assert [type(m).__name__ for m in ch.layers] == ["Gaussian", "Jpeg", "DiffJpeg", "Crop", "CropGrid", "Resize",
                                                     "Dropout", "Identity"]
    assert NoiseChannel("cropgrid:0.5-1", multiple=2).layers[0].multiple == 2
    for bad in ("blur:3", "jpeg:95-50", "jpeg", "crop:0-2", "gaussian:x"):
        with pytest.raises(ExypnoError):
            parse_layers(bad)


def test_channel_is_clean_in_eval(batch):
    x, cover = batch
    ch = NoiseChannel("gaussian:10").eval()
    assert ch(x, cover) == (x, None)


def test_training_with_crops_and_jpeg(photo_dir, tmp_path):
    from exypno.train.loop import TrainConfig, train

    cfg = TrainConfig(data=str(photo_dir), out=str(tmp_path / "r"), width=8, blocks=(1, 1, 1), crop=32, batch=2,
                      val_crop=32, val_pairs=4, val_every=3, val_fraction=0.3, threads=1, steps=6,
                      attacks="crop:0.3-0.9,cropgrid:0.3-0.9,jpeg:60-90")
    result = train(cfg, progress=False)
    from exypno.train.checkpoint import read_meta

    meta = read_meta(tmp_path / "r" / "checkpoint.safetensors")
    assert result["last"]["step"] == meta["step"] == 6 and meta["config"]["attacks"] == cfg.attacks


def test_cli_rejects_a_bad_spec_before_loading_data(tmp_path, capsys):
    from exypno.cli import main

    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--noise", "blur:3"]) == 2
    assert "unknown noise layer 'blur'" in capsys.readouterr().err

"""A model's border decoder: which edges of a stego are cut, the band it reveals, and how it is added."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from exypno.inference.image import BORDER_BAND, CUT_FLOOR, CUT_RATIO, Stego, border_band, cut_edges, edge_ratios
from exypno.nets import NetConfig, StegoModel
from exypno.nets.files import load_model, save_model

from .conftest import reveal_without_border_decoder, smooth_photo

ROOT = Path(__file__).resolve().parents[1]


def test_cut_edges_are_those_off_the_grid():
    assert cut_edges(256, 256, 0, 0, 4) == (False, False, False, False)  # uncropped, or cut on the grid
    assert cut_edges(128, 128, 1, 2, 4) == (True, True, True, True)  # at (1, 2): its far edges are off too
    assert cut_edges(126, 128, 0, 0, 4) == (False, False, True, False)  # its bottom rows cut
    assert cut_edges(127, 128, 1, 3, 4) == (True, True, False, True)  # 1 + 127 ends on the grid
    assert cut_edges(127, 131, 0, 0, 1) == (False, False, False, False)  # no grid (the paper preset)
    # an edge on the grid is a crop's where the two decoders disagree along it far more than further in
    ratios = [1.2, CUT_RATIO + 0.1, None, CUT_RATIO - 0.1]
    assert cut_edges(256, 256, 0, 0, 4, ratios) == (False, True, False, False)
    assert cut_edges(126, 128, 0, 0, 4, ratios) == (False, True, True, False)


def test_edge_ratios_find_the_edge_where_the_decoders_part():
    revealed = np.full((100, 80, 3), 120, np.uint8)
    border = revealed.copy()
    border[:, -BORDER_BAND:] += 9  # the right edge's band disagrees by 9 levels, the rest not at all
    top, left, bottom, right = edge_ratios(revealed, border)
    assert top == left == bottom == 1.0 and right == pytest.approx((9 + CUT_FLOOR) / CUT_FLOOR)
    assert edge_ratios(revealed[:60], border[:60])[:3:2] == [None, None]  # too short to compare top and bottom


def test_border_band_follows_the_cut_edges():
    band = border_band(40, 30, (True, False, False, True), width=5)
    assert band[:5].all() and band[:, -5:].all()
    assert not band[5:, :-5].any()
    assert not border_band(40, 30, (False,) * 4, 5).any()


def tiny(border: bool, seed: int = 0) -> StegoModel:
    torch.manual_seed(seed)
    return StegoModel(NetConfig(width=8, blocks=(1, 1, 1), border=border)).eval()


def test_a_border_decoder_reveals_only_the_band_along_cut_edges(tmp_path, rng):
    model = tiny(True)
    with torch.no_grad():  # a border decoder unlike the decoder, so that its pixels can be told apart
        for p in model.border_decoder.parameters():
            p.add_(0.05 * torch.randn_like(p))
    plain = StegoModel(NetConfig(width=8, blocks=(1, 1, 1))).eval()
    plain.load_state_dict(model.state_dict(), strict=False)
    save_model(model, tmp_path / "b.safetensors")
    save_model(plain, tmp_path / "p.safetensors")
    with_border, without = Stego.load(tmp_path / "b.safetensors"), Stego.load(tmp_path / "p.safetensors")
    stego = smooth_photo(rng, 96, 96)
    # an uncropped stego on the grid: no edge is taken for cut, and the border decoder is not used
    assert np.array_equal(with_border.reveal(stego, align=False), without.reveal(stego, align=False))
    assert with_border.cut == (False,) * 4
    crop = stego[5:90, 7:88]  # 85 x 81 at (5, 7): all four edges cut through the blocks
    a = with_border.reveal(np.ascontiguousarray(crop), align=False)
    b = without.reveal(np.ascontiguousarray(crop), align=False)
    band = border_band(*crop.shape[:2], cut_edges(*crop.shape[:2], 0, 0, 4), BORDER_BAND)  # no shift given: far edges only
    assert band.any() and not band.all()
    assert np.array_equal(a[~band], b[~band])
    assert not np.array_equal(a[band], b[band])
    assert band[-BORDER_BAND:].all() and not band[: -BORDER_BAND, : -BORDER_BAND].any()


def test_the_receiver_part_keeps_the_border_decoder(tmp_path):
    model = tiny(True)
    save_model(model, tmp_path / "r.safetensors", part="receiver")
    back, _ = load_model(tmp_path / "r.safetensors")
    assert back.config.border
    for name, value in model.border_decoder.state_dict().items():
        assert torch.equal(back.border_decoder.state_dict()[name], value)


def test_add_border_decoder_takes_a_decoder_only_run_of_the_same_model(photo_dir, tmp_path):
    from exypno.train.loop import TrainConfig, train

    def cfg(out, **kw):
        return TrainConfig(**{**dict(data=str(photo_dir), out=str(out), width=8, blocks=(1, 1, 1), crop=32, batch=2,
                                     val_crop=32, val_pairs=4, val_every=2, val_fraction=0.3, threads=1), **kw})

    train(cfg(tmp_path / "a", steps=2), progress=False)
    base = tmp_path / "a" / "best.safetensors"
    train(cfg(tmp_path / "d", steps=2, width=None, blocks=None, init=str(base), decoder_only=True,
              attacks="cropgrid:0.5-1", val_cropgrid=0.5), progress=False)
    script = [sys.executable, str(ROOT / "scripts" / "add_border_decoder.py")]
    refused = subprocess.run(script + [str(base), str(tmp_path / "a")], capture_output=True, text=True)
    assert refused.returncode != 0 and "not a --decoder-only run" in refused.stderr
    done = subprocess.run(script + [str(base), str(tmp_path / "d")], capture_output=True, text=True, check=True)
    record = json.loads(done.stdout)
    assert "--decoder-only" in record["command"] and "--val-cropgrid 0.5" in record["command"]
    model, card = load_model(base)
    trained, _ = load_model(tmp_path / "d" / "best.safetensors")
    assert model.config.border and card["border_decoder"]["best_step"] == record["best_step"]
    for name, value in trained.decoder.state_dict().items():
        assert torch.equal(model.border_decoder.state_dict()[name], value)
    # another model's run is refused: its stegos are not this model's
    train(cfg(tmp_path / "other", steps=2, seed=1), progress=False)
    other = tmp_path / "other" / "best.safetensors"
    wrong = subprocess.run(script + [str(other), str(tmp_path / "d")], capture_output=True, text=True)
    assert wrong.returncode != 0 and "did not train on this model's stegos" in wrong.stderr


@pytest.mark.parametrize("border", [False, True])
def test_a_model_with_or_without_a_border_decoder_round_trips(tmp_path, border):
    model = tiny(border)
    save_model(model, tmp_path / "m.safetensors")
    back, _ = load_model(tmp_path / "m.safetensors")
    assert back.config.border == border and (back.border_decoder is None) == (not border)


def test_the_shipped_default_reads_the_cut_far_edges_of_an_odd_sized_stego():
    """A picture whose side is no multiple of 4 has its last blocks cut off the grid in its stego."""
    from exypno.evaluate.heldout import heldout_photos
    from exypno.media.metrics import psnr_8bit

    photos = heldout_photos(250)
    cover, secret = photos["astronaut"], photos["coffee"]
    model = Stego.load("default")
    stego = model.hide(cover, secret)
    plain = psnr_8bit(secret, reveal_without_border_decoder(model, stego))
    # 14 such pairs (benchmarks/crop_border.py --whole --size 250): 33.43 dB against 32.01
    assert psnr_8bit(secret, model.reveal(stego)) > plain + 0.3


def test_border_strips_give_what_the_whole_picture_gives(monkeypatch):
    """On a large crop the border decoder runs on strips along the cut edges, not on the whole picture."""
    from exypno.evaluate.heldout import heldout_photos

    from exypno.media.image import resize

    photos = heldout_photos(None)
    cover, secret = resize(photos["rocket"], 960, 1000), resize(photos["china"], 960, 1000)
    model = Stego.load("default")
    crop = np.ascontiguousarray(model.hide(cover, secret)[3:958, 6:997])  # 955 x 991, every edge off the grid
    strips = model._border_strips(955 + 3, 991 + 2, 3, 2)
    assert len(strips) == 4  # here strips, not the whole picture
    by_strips = model.reveal_shifted(crop, 3, 2)
    monkeypatch.setattr(Stego, "_border_strips", lambda self, hp, wp, *a: [((slice(None),) * 2,) * 2])
    whole = model.reveal_shifted(crop, 3, 2)
    # MARGIN pixels of context past the band, as tiles have: equal up to float rounding
    assert np.abs(by_strips.astype(int) - whole).max() <= 1 and np.mean(by_strips != whole) < 0.001


def test_the_shipped_default_finds_a_crop_s_edges_on_the_grid_and_not_the_picture_s_own():
    """An edge on the grid is a crop's or the picture's own; the two decoders' disagreement tells them apart. It
    finds few of a crop's edges on these photos (7% in benchmarks/edge_cuts.py --covers heldout, 33% on the
    wallpapers), the ones where the decoder alone is worst; this crop has two."""
    from exypno.evaluate.heldout import heldout_photos
    from exypno.media.metrics import psnr_8bit

    photos = heldout_photos(256)
    model = Stego.load("default")
    stego = model.hide(photos["coffee"], photos["rocket"])
    model.reveal(stego)
    assert model.shift == (0, 0) and model.cut == (False,) * 4  # uncropped: the decoder alone
    top, left = 32, 96
    crop = np.ascontiguousarray(stego[top : top + 128, left : left + 128])
    region = photos["rocket"][top : top + 128, left : left + 128]
    revealed = model.reveal(crop)
    assert model.shift == (0, 0) and model.cut == (True, False, False, True)
    # known uncropped (align=False, as a video's frames are read): edges on the grid are not looked at
    assert np.array_equal(model.reveal(crop, align=False), reveal_without_border_decoder(model, crop))
    assert model.cut == (False,) * 4
    plain = reveal_without_border_decoder(model, crop)
    assert psnr_8bit(region, revealed) > psnr_8bit(region, plain) + 0.8

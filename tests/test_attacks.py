"""Attacks on stego files for ``exypno evaluate --attack``."""
import json

import numpy as np
import pytest
from PIL import Image

from exypno.cli import main
from exypno.errors import ExypnoError
from exypno.channel.attacks import LIMITS, parse_attacks

from .conftest import smooth_photo


def test_the_default_list_holds_every_kind_and_each_runs(rng):
    attacks = parse_attacks("default")
    assert {a.kind for a in attacks} == {"none", *LIMITS}
    img = smooth_photo(rng, 64, 80)
    for attack in attacks:
        out, (top, left, h, w) = attack(img, rng)
        assert out.dtype == np.uint8 and out.shape == (h, w, 3), attack.name
        assert 0 <= top and top + h <= 64 and 0 <= left and left + w <= 80, attack.name


@pytest.mark.parametrize("bad", ["jpeg", "jpeg:abc", "jpeg:0", "crop:1.5", "blur:2", ""])
def test_bad_attack_lists_are_one_line_errors(bad):
    with pytest.raises(ExypnoError):
        parse_attacks(bad)


def test_each_attack_changes_the_image_as_said(rng):
    img = smooth_photo(rng, 64, 80)
    for attack in parse_attacks("jpeg:50,webp:50,gaussian:4,resize:0.5"):
        out, box = attack(img, rng)
        assert out.shape == img.shape and out.dtype == np.uint8 and box == (0, 0, 64, 80)
        assert np.abs(out.astype(int) - img).mean() > 0.3
    out, (t, l, h, w) = parse_attacks("crop:0.5")[0](img, rng)
    assert (h, w) == (32, 40) and (out == img[t : t + h, l : l + w]).all()
    assert parse_attacks("none")[0](img, rng)[0] is img


def test_evaluate_attack_prints_a_table_and_writes_json(capsys, tmp_path, rng):
    d = tmp_path / "photos"
    d.mkdir()
    for i in range(2):
        Image.fromarray(smooth_photo(rng, 64, 64)).save(d / f"p{i}.png")
    out = tmp_path / "eval"
    assert main(["evaluate", "--covers", str(d), "--secrets", str(d), "--out", str(out),
                 "--attack", "none,jpeg:90,crop:0.5"]) == 0
    text = capsys.readouterr().out
    assert "jpeg:90" in text and "crop:0.5" in text
    result = json.loads((out / "attacks.json").read_text())
    assert result["pairs"] == 2
    a = result["attacks"]
    assert abs(a["none"]["secret_psnr"] - a["none"]["clean_psnr"]) < 1e-9  # no attack: the clean reveal
    assert a["jpeg:90"]["secret_psnr"] < a["none"]["secret_psnr"]
    assert 25 < result["cover_psnr"] < 60 and result["cover_psnr_worst"] <= result["cover_psnr"]
    assert result["align"] and "cover PSNR" in text


def test_attacks_can_be_revealed_without_the_grid_search(tmp_path, rng):
    from exypno.evaluate.report import evaluate_attacks

    d = tmp_path / "photos"
    d.mkdir()
    for i in range(2):
        Image.fromarray(smooth_photo(rng, 64, 64)).save(d / f"p{i}.png")
    pairs = [(d / "p0.png", d / "p1.png")]
    kept = evaluate_attacks(pairs, tmp_path / "a", attacks="none,crop:0.5", quiet=True, align=False)
    searched = evaluate_attacks(pairs, tmp_path / "b", attacks="none,crop:0.5", quiet=True)
    assert not kept["align"] and kept["attacks"]["none"] == searched["attacks"]["none"]  # uncropped: no shift found

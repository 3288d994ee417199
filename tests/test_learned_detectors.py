"""Learned detectors: shapes, files, and a tiny training run that learns to see LSB replacement."""
import pytest
import torch
from PIL import Image

from exypno.baselines import lsb_hide
from exypno.cli import main
from exypno.errors import ExypnoError
from exypno.steganalysis.learned import DetectorConfig, build, load_detector, save_detector


@pytest.mark.parametrize("arch", ["xunet", "yenet", "srnet"])
def test_detectors_give_one_logit_for_any_size(arch):
    net = build(DetectorConfig(arch=arch)).eval()
    with torch.no_grad():
        assert net(torch.rand(2, 3, 64, 64)).shape == (2,)
        assert net(torch.rand(1, 3, 40, 56)).shape == (1,)


def test_detector_learns_2bit_lsb_stego(tmp_path, rng, capsys):
    from exypno.evaluate.heldout import heldout_photos

    photos = list(heldout_photos(128).values())
    clean, stego = tmp_path / "clean", tmp_path / "stego"
    clean.mkdir()
    stego.mkdir()
    for i in range(28):
        y, x = rng.integers(0, 64, 2)
        photo = photos[i % len(photos)][y : y + 64, x : x + 64]
        Image.fromarray(photo).save(clean / f"{i:02d}.png")
        Image.fromarray(lsb_hide(photo, photos[(i + 3) % len(photos)][:64, :64], 2)).save(stego / f"{i:02d}.png")
    out = tmp_path / "det.safetensors"
    code = main(["detector", "train", "--clean", str(clean), "--stego", str(stego), "-o", str(out), "--arch", "xunet",
                 "--steps", "60", "--crop", "32", "--quiet"])
    assert code == 0
    net, card = load_detector(out)
    assert card["validation"]["auc"] > 0.9, card["validation"]
    capsys.readouterr()
    assert main(["detector", "score", str(out), str(stego / "00.png"), str(clean / "00.png")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    report = tmp_path / "report"
    assert main(["analyze", "--clean", str(clean), "--stego", str(stego), "--detector", str(out),
                 "--out", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "det" in printed and "fused" in printed
    header = (report / "scores.csv").read_text().splitlines()[0]
    assert header.split(",")[-2:] == ["det", "label"]


def test_detector_file_that_is_not_ours(tmp_path, capsys):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"nope")
    assert main(["detector", "score", str(bad), str(bad)]) == 2
    assert "not an Exypno detector" in capsys.readouterr().err


def test_a_detector_is_a_model_file_of_its_own_kind(tmp_path):
    """Detectors are written and read by ``nets.files``: the card rebuilds the network, the tensors are checked,
    and a hiding model's file is not taken for a detector, nor a detector's for a hiding model."""
    import json

    from exypno.nets.files import FORMAT, load_model
    from exypno.registry import model_path

    torch.manual_seed(0)
    net = build(DetectorConfig(arch="srnet")).eval()
    path = tmp_path / "det.safetensors"
    save_detector(net, DetectorConfig(arch="srnet"), path, {"steps": 3})
    card = json.loads(path.with_suffix(".json").read_text())
    assert (card["format"], card["kind"], card["config"], card["steps"]) == (FORMAT, "detector",
                                                                           {"arch": "srnet", "channels": 3}, 3)
    loaded, _ = load_detector(path)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x))
    with pytest.raises(ExypnoError, match="not an Exypno model"):
        load_model(path)
    with pytest.raises(ExypnoError, match="not an Exypno detector"):
        load_detector(model_path("default"))
    path.with_suffix(".json").write_text(json.dumps({**card, "config": {"arch": "xunet", "channels": 3}}))
    with pytest.raises(ExypnoError, match="tensors do not match"):
        load_detector(path)

"""exypno evaluate and exypno demo: real PNG round trips, tables, JSON and figures."""
import json

import numpy as np
from PIL import Image

from exypno.cli import main

from .conftest import smooth_photo


def test_evaluate_lsb_matches_its_known_figures(tmp_path, rng, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "eval"
    assert main(["evaluate", "--covers", str(folder), "--secrets", str(folder), "--lsb", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "lsb-3: 3 pairs" in printed
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert abs(summary["cover"]["psnr_mean"] - 37.9) < 0.5  # uniform noise images: the textbook figure
    assert abs(summary["secret"]["psnr_mean"] - 28.8) < 0.5
    assert (out / "figure.png").stat().st_size > 0
    assert len(list(out.glob("*.stego.png"))) == 3


def test_evaluate_model_pairs_folders_and_writes_files(tmp_path, rng, capsys):
    covers, secrets = tmp_path / "c", tmp_path / "s"
    covers.mkdir()
    secrets.mkdir()
    for i in range(2):
        Image.fromarray(smooth_photo(rng, 70, 90)).save(covers / f"{i}.png")
        Image.fromarray(smooth_photo(rng, 50, 50)).save(secrets / f"{i}.jpg")
    out = tmp_path / "eval"
    code = main(["evaluate", "--covers", str(covers), "--secrets", str(secrets), "--size", "64", "--out", str(out)])
    assert code == 0
    data = json.loads((out / "results.json").read_text())
    assert data["summary"]["pairs"] == 2 and data["summary"]["size"] == 64
    assert {"cover_psnr", "secret_psnr", "cover_ssim", "secret_ssim"} <= set(data["pairs"][0])
    assert Image.open(next(out.glob("*.stego.png"))).size == (64, 64)
    # A second run refuses to overwrite without --force.
    assert main(["evaluate", "--covers", str(covers), "--secrets", str(secrets), "--out", str(out)]) == 2


def test_evaluate_sealed_reveals_the_fitted_picture(tmp_path, rng, capsys):
    covers, secrets = tmp_path / "c", tmp_path / "s"
    covers.mkdir()
    secrets.mkdir()
    Image.fromarray(smooth_photo(rng, 96, 96)).save(covers / "0.png")
    Image.fromarray(smooth_photo(rng, 96, 96)).save(secrets / "0.png")
    out = tmp_path / "eval"
    assert main(["evaluate", "--covers", str(covers), "--secrets", str(secrets), "--sealed", "--out", str(out)]) == 0
    assert "sealed-avif: 1 pairs" in capsys.readouterr().out
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert summary["cover"]["psnr_mean"] > 32 and summary["secret"]["psnr_mean"] > 28  # a plumbing check: 96x96
    assert summary["fit_retries"] in (0, 1) and summary["seal_seconds_median"] > 0
    assert main(["evaluate", "--covers", str(covers), "--secrets", str(secrets), "--sealed", "--attack"]) == 2


def test_evaluate_empty_folder_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", "--covers", str(tmp_path / "empty"), "--secrets", str(tmp_path / "empty")]) == 2
    assert "no images" in capsys.readouterr().err


def test_demo_writes_its_files_and_prints_psnr(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--size", "64", "--sealed"]) == 0
    printed = capsys.readouterr().out
    assert "cover PSNR" in printed and "secret PSNR" in printed
    for name in ("cover", "secret", "stego", "revealed", "comparison", "sealed"):
        assert (out / f"{name}.png").exists()
    assert "sealed instead ('exypno seal --fit'" in printed and (out / "coffee.avif").stat().st_size > 0
    assert main(["demo", "--out", str(out), "--size", "64"]) == 0  # a rerun overwrites its own files

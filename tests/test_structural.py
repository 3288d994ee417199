"""Structural LSB detectors on photos we embed ourselves at known rates."""
import numpy as np
import pytest

from exypno.baselines import lsb_embed_bits
from exypno.evaluate.heldout import heldout_photos
from exypno.steganalysis import analyze, chi_square, primary_sets, rs_analysis, sample_pairs

RATES = (0.0, 0.1, 0.5, 1.0)


@pytest.fixture(scope="module")
def photos():
    p = heldout_photos(256)
    return [p["astronaut"], p["coffee"], p["china"]]


@pytest.mark.parametrize("detector", [rs_analysis, sample_pairs, primary_sets])
def test_quantitative_detectors_estimate_random_lsb_replacement(photos, detector):
    rng = np.random.default_rng(1)
    for photo in photos:
        scores = [detector(lsb_embed_bits(photo, r, rng)) for r in RATES]
        assert scores == sorted(scores), (detector.__name__, scores)
        assert abs(scores[2] - 0.5) < 0.1 and scores[3] > 0.85
        assert scores[0] < 0.1


def test_chi_square_rises_with_sequential_embedding():
    rng = np.random.default_rng(2)
    big = heldout_photos(512)
    for photo in (big["astronaut"], big["coffee"], big["china"]):
        scores = [chi_square(lsb_embed_bits(photo, r, rng, order="sequential")) for r in RATES]
        assert all(b >= a - 0.01 for a, b in zip(scores, scores[1:])), scores
        assert scores[0] < 0.3 and scores[3] > 0.9  # small clean images give the early prefixes some p
        assert abs(scores[2] - 0.5) < 0.25


def test_fusion_flags_full_replacement_and_passes_clean_photos(photos):
    rng = np.random.default_rng(3)
    for photo in photos:
        clean, full = analyze(photo), analyze(lsb_embed_bits(photo, 1.0, rng))
        assert not clean["stego"] and clean["fused"] < 0.2
        assert full["stego"] and full["fused"] > 0.8
        assert 0.85 < full["estimated_rate"] <= 1.0
        assert all(not np.isnan(full[k]) for k in ("chi_square", "rs_analysis", "sample_pairs", "primary_sets"))


def test_lsb_matching_leaves_replacement_detectors_mostly_blind(photos):
    rng = np.random.default_rng(4)
    matched = [analyze(lsb_embed_bits(p, 1.0, rng, matching=True))["fused"] for p in photos]
    replaced = [analyze(lsb_embed_bits(p, 1.0, rng))["fused"] for p in photos]
    assert max(matched) < min(replaced) - 0.4


def test_lsb_matching_changes_values_by_one_at_most(photos, rng):
    stego = lsb_embed_bits(photos[0], 1.0, rng, matching=True)
    assert np.abs(stego.astype(int) - photos[0]).max() == 1


def test_analyze_cli_with_labels_writes_csv_and_roc(tmp_path, photos, capsys):
    from PIL import Image

    from exypno.cli import main

    clean, stego = tmp_path / "clean", tmp_path / "stego"
    clean.mkdir()
    stego.mkdir()
    for i, p in enumerate(photos):
        Image.fromarray(p).save(clean / f"{i}.png")
        assert main(["lsb", "embed", "--cover", str(clean / f"{i}.png"), "--rate", "1", "--seed", str(i),
                     "-o", str(stego / f"{i}.png")]) == 0
    out = tmp_path / "report"
    assert main(["analyze", "--clean", str(clean), "--stego", str(stego), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fused" in printed and "AUC" in printed
    assert (out / "roc.png").stat().st_size > 0
    rows = (out / "scores.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * len(photos)
    from exypno.steganalysis.report import roc_auc

    assert roc_auc(np.array([0.1, 0.2, 0.9, 0.8]), np.array([0, 0, 1, 1])) == 1.0
    assert roc_auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5


def test_lsb_cli_round_trip(tmp_path, photos):
    from PIL import Image

    from exypno.cli import main

    Image.fromarray(photos[0]).save(tmp_path / "c.png")
    Image.fromarray(photos[1]).save(tmp_path / "s.png")
    assert main(["lsb", "hide", "--cover", str(tmp_path / "c.png"), "--secret", str(tmp_path / "s.png"),
                 "--bits", "4", "-o", str(tmp_path / "st.png")]) == 0
    assert main(["lsb", "reveal", str(tmp_path / "st.png"), "--bits", "4", "-o", str(tmp_path / "r.png")]) == 0
    revealed = np.asarray(Image.open(tmp_path / "r.png"))
    assert np.array_equal(revealed >> 4, photos[1] >> 4)
    assert main(["lsb", "hide", "--cover", str(tmp_path / "c.png"), "--secret", str(tmp_path / "s.png"),
                 "--bits", "9", "-o", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()

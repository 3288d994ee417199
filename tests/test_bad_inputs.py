"""The one-line promise over every command: each bad input below gives exit 2, at most two lines on stderr, no
traceback, and leaves every file as it was (nothing new, nothing changed). docs/limits.md lists the limits."""
import os

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from exypno.cli import main

from .conftest import smooth_photo
from .test_limits import png_bytes


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A folder of good and bad inputs, made once per case; the command runs inside it."""
    rng = np.random.default_rng(1)
    for name in ("cover.png", "secret.png"):
        Image.fromarray(smooth_photo(rng, 48, 64)).save(tmp_path / name)
    for side in (1, 2):
        Image.fromarray(smooth_photo(rng, side, side)).save(tmp_path / f"tiny{side}.png")
    for d in ("covers", "secrets", "tinies", "tinies2"):
        (tmp_path / d).mkdir()
    for d in ("covers", "secrets"):
        Image.fromarray(smooth_photo(rng, 48, 64)).save(tmp_path / d / "a.png")
    Image.fromarray(smooth_photo(rng, 1, 1)).save(tmp_path / "tinies" / "a.png")
    Image.fromarray(smooth_photo(rng, 1, 1)).save(tmp_path / "tinies2" / "a.png")
    (tmp_path / "short.png").write_bytes(png_bytes(9000, 9000, b"".join(b"\0" + bytes(27000) for _ in range(10))))
    (tmp_path / "huge.png").write_bytes(png_bytes(12000, 9000, b"\0"))
    Image.fromarray(np.full((32, 32), 7.5e3, np.float32)).save(tmp_path / "float.tiff")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not a picture")
    (tmp_path / "notes.txt").write_text("a file to seal")
    (tmp_path / "existing").write_text("a file, not a folder")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.png").write_bytes(b"\x89PNG broken")
    sf.write(tmp_path / "voice.wav", np.zeros(16000, np.int16), 16000, subtype="PCM_16")
    sf.write(tmp_path / "long.wav", np.zeros(1000 * 601, np.int16), 1000, subtype="PCM_16")
    (tmp_path / "link.png").symlink_to(tmp_path / "cover.png")
    os.link(tmp_path / "cover.png", tmp_path / "hard.png")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXYPNO_PASSPHRASE", "correct horse battery")
    return tmp_path


HIDE = ["hide", "--cover", "cover.png", "--secret", "secret.png"]
EVAL = ["evaluate", "--covers", "covers", "--secrets", "secrets"]
CASES = {
    # inputs that cannot be read
    "missing cover": ["hide", "--cover", "nope.png", "--secret", "secret.png", "-o", "o.png"],
    "empty cover": ["hide", "--cover", "empty.png", "--secret", "secret.png", "-o", "o.png"],
    "text as a stego": ["reveal", "text.png", "-o", "o.png"],
    "truncated PNG": ["hide", "--cover", "short.png", "--secret", "secret.png", "-o", "o.png"],
    "over the pixel limit": ["hide", "--cover", "cover.png", "--secret", "huge.png", "-o", "o.png"],
    "float picture out of range": ["hide", "--cover", "float.tiff", "--secret", "secret.png", "-o", "o.png"],
    "1x1 cover": ["hide", "--cover", "tiny1.png", "--secret", "secret.png", "-o", "o.png"],
    "2x2 cover": ["hide", "--cover", "tiny2.png", "--secret", "secret.png", "-o", "o.png"],
    "sound over 600 s": ["hide", "--cover", "long.wav", "--secret", "voice.wav", "-o", "o.wav"],
    "not a sealed stego": ["unseal", "cover.png"],
    # sizes and numbers a user gives
    "reveal size over the limit": ["reveal", "voice.wav", "-o", "x.png", "--size", "100000x100000"],
    "evaluate size negative": [*EVAL, "--size", "-5", "--out", "ev"],
    "evaluate lsb 0": [*EVAL, "--lsb", "0", "--out", "ev"],
    "evaluate lsb 9": [*EVAL, "--lsb", "9", "--out", "ev"],
    "evaluate 1x1 pictures": ["evaluate", "--covers", "tinies", "--secrets", "tinies2", "--lsb", "2", "--out", "ev"],
    "lsb bits 0": ["lsb", "hide", *HIDE[1:], "--bits", "0", "-o", "o.png"],
    # outputs that cannot be written
    "hide into /proc": [*HIDE, "-o", "/proc/x.png"],
    "output name of 300 characters": [*HIDE, "-o", "n" * 296 + ".png"],
    "output in a missing folder": [*HIDE, "-o", "nope/o.png"],
    "lossy output": [*HIDE, "-o", "o.jpg"],
    "existing output without --force": [*HIDE, "-o", "secret.png"],
    "evaluate into /proc": [*EVAL, "--out", "/proc/exypno-eval"],
    "evaluate onto a file": [*EVAL, "--out", "existing"],
    "analyze into /proc": ["analyze", "cover.png", "--out", "/proc/exypno-analyze"],
    "analyze onto a file": ["analyze", "cover.png", "--out", "existing"],
    "analyze nothing readable": ["analyze", "bad", "--out", "an"],
    # --force never replaces an input
    "hide over its cover": [*HIDE, "-o", "cover.png", "--force"],
    "hide over a symlink to its cover": [*HIDE, "-o", "link.png", "--force"],
    "hide over a hard link to its cover": [*HIDE, "-o", "hard.png", "--force"],
    "reveal over its stego": ["reveal", "cover.png", "-o", "cover.png", "--force"],
    "seal over the file sealed": ["seal", "--cover", "cover.png", "--file", "secret.png", "-o", "secret.png",
                                  "--force"],
    "seal over its cover": ["seal", "--cover", "cover.png", "--file", "notes.txt", "-o", "cover.png", "--force"],
    "lsb reveal over its stego": ["lsb", "reveal", "hard.png", "-o", "cover.png", "--force"],
}


def snapshot(folder):
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_and_leaves_everything(place, capsys, case):
    before = snapshot(place)
    capsys.readouterr()
    code = main(CASES[case])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("exypno: error: ") and len(err.splitlines()) <= 2 and "Traceback" not in err, err
    assert snapshot(place) == before


def test_analyze_goes_on_past_bad_files_and_says_what_it_cannot_judge(place, capsys):
    Image.fromarray(smooth_photo(np.random.default_rng(2), 48, 64)).save(place / "bad" / "good.png")
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(place / "bad" / "tiny.png")
    assert main(["analyze", "bad", "--out", "an"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.endswith((".png", "judge", "clean", "STEGO",
                                                                                   "unreadable"))}
    assert lines["broken.png"].endswith("unreadable") and lines["tiny.png"].endswith("cannot judge")
    assert lines["good.png"].endswith(("clean", "STEGO"))
    assert "broken.png" in (place / "an" / "scores.csv").read_text()

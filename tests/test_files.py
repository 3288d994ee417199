"""Writing never loses a file: atomic publication, no overwrite without --force, never over an input, no
temporary file left behind, and sender-chosen names made safe (media/files.py, docs/limits.md)."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from exypno.cli import main
from exypno.errors import ExypnoError
from exypno.media import files

from .conftest import smooth_photo


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(files.TEMP_PREFIX))


@pytest.mark.parametrize("where", ["/proc/x.png", "/proc/self/nope/x.png"])
def test_unwritable_places_give_one_error(where):
    with pytest.raises(ExypnoError):
        files.write_bytes(where, b"x")


def test_a_name_too_long_gives_one_error(tmp_path, capsys, rng):
    with pytest.raises(ExypnoError, match="longer than 255 bytes"):
        files.write_bytes(tmp_path / ("a" * 300 + ".png"), b"x")
    Image.fromarray(smooth_photo(rng, 32, 32)).save(tmp_path / "c.png")
    code = main(["hide", "--cover", str(tmp_path / "c.png"), "--secret", str(tmp_path / "c.png"),
                 "-o", str(tmp_path / ("b" * 300 + ".png"))])
    assert code == 2 and len(capsys.readouterr().err.splitlines()) == 1


def test_publish_never_replaces_a_file_that_appeared_meanwhile(tmp_path):
    target = tmp_path / "out.bin"
    tmp = files._temporary(tmp_path)
    target.write_bytes(b"someone else's")  # written by another process after our last check
    with pytest.raises(ExypnoError, match="already exists"):
        files.publish(tmp, target)
    assert target.read_bytes() == b"someone else's"
    files.publish(tmp, target, force=True)  # --force replaces it
    assert target.read_bytes() == b"" and leftovers(tmp_path) == []


def test_force_never_replaces_an_input(tmp_path, rng):
    cover = tmp_path / "c.png"
    Image.fromarray(smooth_photo(rng, 32, 32)).save(cover)
    before = cover.read_bytes()
    (tmp_path / "sym.png").symlink_to(cover)
    os.link(cover, tmp_path / "hard.png")
    for out in (cover, tmp_path / "sym.png", tmp_path / "hard.png"):
        code = main(["hide", "--cover", str(cover), "--secret", str(cover), "-o", str(out), "--force"])
        assert code == 2 and cover.read_bytes() == before
    code = main(["lsb", "reveal", str(tmp_path / "hard.png"), "-o", str(cover), "--force"])
    assert code == 2 and cover.read_bytes() == before and leftovers(tmp_path) == []


def test_seal_force_never_replaces_the_file_sealed(tmp_path, rng, monkeypatch):
    Image.fromarray(smooth_photo(rng, 96, 96)).save(tmp_path / "c.png")
    Image.fromarray(smooth_photo(rng, 96, 96)).save(tmp_path / "f.png")
    before = (tmp_path / "f.png").read_bytes()
    monkeypatch.setenv("EXYPNO_PASSPHRASE", "correct horse battery")
    code = main(["seal", "--cover", str(tmp_path / "c.png"), "--file", str(tmp_path / "f.png"),
                 "-o", str(tmp_path / "f.png"), "--force"])
    assert code == 2 and (tmp_path / "f.png").read_bytes() == before


def test_a_signal_as_a_temporary_is_made_leaves_none(tmp_path, monkeypatch):
    real = files._create

    def interrupted(path):
        real(path)
        raise KeyboardInterrupt  # what Python's SIGINT handler raises, landing just after the file is made

    monkeypatch.setattr(files, "_create", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_bytes(tmp_path / "x.bin", b"data")
    files.remove_temporaries()  # as on the way out of the process
    assert leftovers(tmp_path) == []


def test_temporaries_of_killed_processes_are_swept(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # its pid is now free
    dead = tmp_path / f"{files.TEMP_PREFIX}{child.pid}-abc.mkv"
    alive = tmp_path / f"{files.TEMP_PREFIX}{os.getppid()}-abc.mkv"
    for p in (dead, alive):
        p.write_bytes(b"partial")
        os.utime(p, (time.time() - 3600,) * 2)
    files.write_bytes(tmp_path / "x.bin", b"data")
    assert leftovers(tmp_path) == [alive.name]


@pytest.mark.parametrize("name, safe", [
    (".bashrc", "_.bashrc"), ("-rf", "_-rf"), ("a\nb.txt", "ab.txt"), ("x\0y", "xy"), ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x.doc", "x.doc"), ("..", "unsealed.bin"), ("", "unsealed.bin"), ("\u202eexe.txt", "exe.txt"),
])
def test_safe_name(name, safe):
    assert files.safe_name(name) == safe


def test_safe_name_cuts_long_names_and_keeps_the_suffix():
    safe = files.safe_name("é" * 300 + ".pdf")
    assert safe.endswith(".pdf") and len(safe.encode()) <= files.SAFE_NAME_BYTES


@pytest.fixture
def hostile_stego(tmp_path_factory):
    """Stegos sealed ("correct horse battery") under names a hostile sender might choose."""
    from exypno.payload.seal import seal

    folder = tmp_path_factory.mktemp("hostile")
    cover = smooth_photo(np.random.default_rng(5), 96, 96)
    made = {}
    for i, name in enumerate([".bashrc", "-rf", "line\nbreak", "nul\0byte", "n" * 300]):
        stego, _ = seal(cover, b"payload %d" % i, name, "correct horse battery", mode="png")
        Image.fromarray(stego).save(folder / f"{i}.png")
        made[name] = folder / f"{i}.png"
    return made


def test_unseal_writes_only_safe_new_names(tmp_path, hostile_stego, monkeypatch, capsys):
    monkeypatch.setenv("EXYPNO_PASSPHRASE", "correct horse battery")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".bashrc").write_text("mine")
    for name, stego in hostile_stego.items():
        assert main(["unseal", str(stego), "--force"]) == 0, capsys.readouterr().err
    written = sorted(p.name for p in tmp_path.iterdir())
    assert (tmp_path / ".bashrc").read_text() == "mine"
    assert "_.bashrc" in written and "_-rf" in written and "linebreak" in written and "nulbyte" in written
    assert all(not n.startswith("-") and "\n" not in n and len(n.encode()) <= 255 for n in written)
    assert main(["unseal", str(hostile_stego["-rf"]), "--force"]) == 0  # the name is taken: a free one
    assert (tmp_path / "_-rf (2)").read_bytes() == (tmp_path / "_-rf").read_bytes()
    assert "written as '_-rf (2)'" in capsys.readouterr().err

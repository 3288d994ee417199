"""A bounded coverage-guided fuzzing run (atheris) of each target in tests/fuzz_targets.py: the sealed
container's parser, the media readers and the attack-spec grammars. No input may raise anything but an
ExypnoError. The long run is benchmarks/fuzz.py."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import fuzz_targets

ROOT = Path(__file__).parents[1]
SECONDS = 12


@pytest.mark.parametrize("target", list(fuzz_targets.TARGETS))
def test_fuzz_briefly(tmp_path, target):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "tests" / "corpus" / target, corpus)  # the kept corpus is only read here
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    run = subprocess.run([sys.executable, "-m", "tests.fuzz_targets", target, f"-max_total_time={SECONDS}",
                          f"-artifact_prefix={tmp_path}/", str(corpus)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 120)
    log = run.stdout + run.stderr
    assert run.returncode == 0 and "Uncaught Python exception" not in log, log[-3000:]
    runs = int(re.search(r"Done (\d+) runs", log).group(1))
    assert runs > 20, log[-2000:]
    assert not list(tmp_path.glob("crash-*"))

"""README's results table is what benchmarks/report.py makes of the committed JSON results."""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("report", ROOT / "benchmarks" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_block_is_generated_from_the_results(report):
    readme = (ROOT / "README.md").read_text()
    assert readme.count(report.START) == 1 and readme.count(report.END) == 1
    generated = report.block()
    assert generated in readme, "README's results table is stale: run `python benchmarks/report.py --write`"
    assert readme == report.replace_block(readme)


def test_every_source_gives_rows_from_the_committed_results(report):
    for name, fn in report.SOURCES:
        path = report.RESULTS / name
        if path.exists():
            rows = list(fn(json.loads(path.read_text())))
            assert rows, name
            assert all(len(r) == 3 and all(r) for r in rows), name


def test_absent_results_are_left_out(report, tmp_path, monkeypatch):
    shutil.copy(report.RESULTS / "api_speed.json", tmp_path)
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    lines = report.table().splitlines()
    assert len(lines) == 3 and "api_speed.py" in lines[2]
    figure = json.loads((tmp_path / "api_speed.json").read_text())["total_median_s"]
    assert f"{figure:.2f} s" in lines[2]


def test_replace_block_keeps_the_rest(report):
    text = f"before\n{report.START}\nold\n{report.END}\nafter\n"
    out = report.replace_block(text)
    assert out.startswith("before\n") and out.endswith("\nafter\n") and "old" not in out
    with pytest.raises(SystemExit):
        report.replace_block("no markers")

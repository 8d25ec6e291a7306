"""``python -m benchmarks chaos``: a seed replays the same run; --plot draws a PNG.

Shape and determinism only, never speed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

# What a seed fixes (everything but the wall clock).
DETERMINISTIC = ("completed", "failed", "failures", "kills", "restarts", "victims_hash")


def _chaos(*args: str) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "chaos", "--quick", "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.strip()]
    return json.loads(line), done.stderr


@pytest.fixture(scope="module")
def seven() -> list[tuple[dict, str]]:
    return [_chaos("--seed", "7"), _chaos("--seed", "7")]


def test_the_same_seed_replays_the_same_run(seven):
    (first, _), (second, _) = seven
    assert {k: first[k] for k in DETERMINISTIC} == {k: second[k] for k in DETERMINISTIC}
    assert first["scheduler_seeded"] is True


def test_a_run_reports_its_seed_and_an_intact_tree(seven):
    row, stderr = seven[0]
    assert row["seed"] == 7
    assert "seed 7" in stderr  # printed before the run starts
    assert "--seed 7" in stderr  # with the command that replays it
    assert row["id"] == "w7" and row["runs"] == 1 and row["quick"] is True
    assert row["replayed"] is None  # one run: nothing to compare within it
    assert row["tree_intact"] is True
    assert row["lost_acknowledged"] == 0
    assert row["completed"] + row["failed"] == row["clients"] * row["calls_per_tick"] * row["size"]
    assert row["restarts"] == row["kills"] == row["size"]


def test_plot_writes_a_png_and_an_unseeded_run_prints_the_seed_it_chose(tmp_path, seven):
    out = tmp_path / "chaos.png"
    row, stderr = _chaos("--plot", str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000
    chosen = re.search(r"seed (\d+)", stderr)
    assert chosen and int(chosen.group(1)) == row["seed"]
    if row["seed"] != 7:
        assert row["victims_hash"] != seven[0][0]["victims_hash"]

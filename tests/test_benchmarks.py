"""The benchmarks run end to end at quick sizes and report well-formed results.

These tests check the shape of what ``python -m benchmarks`` prints, never a
speed: timings on a shared CI machine say nothing reliable.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FIELDS = {
    "workload",
    "id",
    "size",
    "figure",
    "unit",
    "baseline",
    "baseline_figure",
    "ratio",
    "rss_per_process",
    "baseline_rss_per_process",
    "runs",
    "quick",
    "python",
    "trio",
}

UNITS = {
    "w1": "us/spawn+stop",
    "w2": "us/round trip",
    "w3": "us/call",
    "w4": "casts/s",
    "w5": "ms/round",
}
RATES = {"w4"}


def _run_benchmarks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_quick_json_reports_every_workload_once_with_consistent_figures():
    done = _run_benchmarks("--quick", "--json")
    assert done.returncode == 0, done.stderr

    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert sorted(row["id"] for row in rows) == ["w1", "w2", "w3", "w4", "w5"]

    for row in rows:
        assert set(row) == FIELDS, row
        id_ = row["id"]
        assert row["workload"].startswith(id_.upper() + " ")
        assert row["unit"] == UNITS[id_]
        assert row["baseline"] == "raw trio"
        assert isinstance(row["size"], int) and row["size"] > 0
        assert row["quick"] is True
        assert row["runs"] == 5
        assert row["python"] and row["trio"]

        figure, baseline = row["figure"], row["baseline_figure"]
        for value in (figure, baseline):
            assert isinstance(value, float) and math.isfinite(value) and value > 0, row
        # Below 1.0 always means ours did better: times divide ours by raw,
        # rates raw by ours.
        expected = baseline / figure if id_ in RATES else figure / baseline
        assert row["ratio"] == pytest.approx(expected, rel=1e-9), row

        if id_ == "w1" and sys.platform.startswith("linux"):
            # RSS is read from /proc; elsewhere it may be missing (null).
            for key in ("rss_per_process", "baseline_rss_per_process"):
                assert isinstance(row[key], int) and row[key] > 0, row
        elif id_ != "w1":
            assert row["rss_per_process"] is None
            assert row["baseline_rss_per_process"] is None


def test_unknown_workload_fails_with_a_clear_message():
    done = _run_benchmarks("w9", "--quick")
    assert done.returncode != 0
    assert "unknown workload 'w9'" in done.stderr
    assert "w1 (spawn)" in done.stderr  # it lists the choices
    assert done.stdout == ""

"""The registry benchmarks run at quick sizes and report well-formed JSON lines (never a speed)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FIELDS = [
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
]

# id → (workload name, unit)
EXPECTED = {
    "reg": ("REG lookup", "us/lookup"),
    "reg-dispatch": ("REG dispatch", "ms/dispatch"),
}


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_quick_json_lines_of_the_registry_benchmarks():
    done = _run("reg", "reg-dispatch", "--quick", "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [row["id"] for row in rows] == ["reg", "reg-dispatch"]
    for row in rows:
        assert list(row) == FIELDS, row
        assert (row["workload"], row["unit"]) == EXPECTED[row["id"]]
        assert row["size"] == 2_000
        assert (row["runs"], row["quick"], row["baseline"]) == (5, True, "raw trio")
        assert row["rss_per_process"] is None and row["baseline_rss_per_process"] is None
        assert row["python"] and row["trio"]
        figure, baseline = row["figure"], row["baseline_figure"]
        for value in (figure, baseline):
            assert isinstance(value, float) and math.isfinite(value) and value > 0, row
        assert row["ratio"] == pytest.approx(figure / baseline, rel=1e-9)  # times: ours ÷ raw


@pytest.mark.slow
def test_the_registry_aliases_select_the_same_workloads():
    done = _run("registry", "registry-dispatch", "--quick", "--json", "--runs", "1")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [(row["id"], row["runs"]) for row in rows] == [("reg", 1), ("reg-dispatch", 1)]


def test_the_registry_benchmarks_are_listed_among_the_choices():
    # Not run by default: tests/test_benchmarks.py checks that a bare run gives w1..w8 only.
    done = _run("nope", "--quick")
    assert done.returncode != 0 and done.stdout == ""
    assert "w8 (intensity), reg (registry), reg-dispatch (registry-dispatch)" in done.stderr

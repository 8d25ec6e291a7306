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
from _bench_cli import FIELDS as COMMON_FIELDS

ROOT = Path(__file__).resolve().parent.parent

FIELDS = set(COMMON_FIELDS)

# Each workload's own fields, after the common ones.
EXTRA = {
    "w7": {
        "completed",
        "failed",
        "failed_percent",
        "failures",
        "kills",
        "restarts",
        "tree_intact",
        "lost_acknowledged",
        "seed",
        "victims_hash",
        "scheduler_seeded",
        "virtual_seconds",
        "kill_every_ms",
        "workers",
        "clients",
        "calls_per_tick",
        "wall_seconds",
        "reports",
        "replayed",
    },
    "w8": {"gave_up", "reason", "init_attempts", "reports"},
}

UNITS = {
    "w1": "us/spawn+stop",
    "w2": "us/round trip",
    "w3": "us/call",
    "w4": "casts/s",
    "w5": "ms/round",
    "w6": "us/kill+restart",
    "w7": "calls/s",
    "w8": "ms to give up",
}
RATES = {"w4", "w7"}
NO_BASELINE = {"w7", "w8"}


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
    assert [row["id"] for row in rows] == ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]

    for row in rows:
        id_ = row["id"]
        assert set(row) == FIELDS | EXTRA.get(id_, set()), row
        assert list(row)[: len(FIELDS)] == [key for key in row if key in FIELDS]  # common fields first
        assert row["workload"].startswith(id_.upper() + " ")
        assert row["unit"] == UNITS[id_]
        assert isinstance(row["size"], int) and row["size"] > 0
        assert row["quick"] is True
        assert row["runs"] == 5
        assert row["python"] and row["trio"]

        figure, baseline = row["figure"], row["baseline_figure"]
        assert isinstance(figure, float) and math.isfinite(figure) and figure > 0, row
        if id_ in NO_BASELINE:
            assert row["baseline"] is None and baseline is None and row["ratio"] is None, row
        else:
            assert row["baseline"] == "raw trio"
            assert isinstance(baseline, float) and math.isfinite(baseline) and baseline > 0, row
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

    by_id = {row["id"]: row for row in rows}
    _check_chaos(by_id["w7"])
    _check_intensity(by_id["w8"])


def _check_chaos(row: dict) -> None:
    # The tree took every kill and lost no acknowledged work.
    assert row["tree_intact"] is True, row
    assert row["lost_acknowledged"] == 0, row
    assert row["seed"] == 1  # the default seed of `python -m benchmarks`
    assert row["replayed"] is True  # every run of the seed gave the same counts
    assert row["scheduler_seeded"] is True
    calls = row["clients"] * row["calls_per_tick"] * row["size"]  # size: ticks
    assert row["completed"] + row["failed"] == calls, row
    assert row["completed"] > 0
    assert sum(row["failures"].values()) == row["failed"]
    assert row["failed_percent"] == pytest.approx(100 * row["failed"] / calls)
    assert row["kills"] == row["size"]  # one per tick: a name is always back by the next
    assert row["restarts"] == row["kills"]
    assert row["reports"] == row["kills"]  # one child_terminated per kill
    assert isinstance(row["victims_hash"], str) and len(row["victims_hash"]) == 16
    int(row["victims_hash"], 16)


def _check_intensity(row: dict) -> None:
    assert row["gave_up"] is True, row
    assert row["reason"] == "{shutdown,'reached_max_restart_intensity'}"
    assert row["init_attempts"] == 4  # the healthy start, then 3 failed restarts
    # child_terminated, start_error x 3, reached_max_restart_intensity
    assert row["reports"] == 5


@pytest.mark.slow
def test_table_shows_a_workload_without_baseline_and_its_own_fields():
    done = _run_benchmarks("w8", "--quick", "--runs", "1")
    assert done.returncode == 0, done.stderr
    [row] = [line for line in done.stdout.splitlines() if line.startswith("W8 intensity")]
    cells = row.split()
    assert cells[-3:] == ["-", "-", "-"]  # ratio, RSS ours, RSS raw
    assert "ms to give up" in row
    assert "gave up yes, reason {shutdown,'reached_max_restart_intensity'}" in done.stdout


def test_unknown_workload_fails_with_a_clear_message():
    done = _run_benchmarks("w9", "--quick")
    assert done.returncode != 0
    assert "unknown workload 'w9'" in done.stderr
    assert "w1 (spawn)" in done.stderr  # it lists the choices
    assert done.stdout == ""

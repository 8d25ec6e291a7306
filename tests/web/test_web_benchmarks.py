"""The web load benchmarks (benchmarks/web/) run end to end at quick sizes, well-formed.

``python -m benchmarks web-conns web-fanout web-pingpong web-churn --quick
--json`` in a subprocess; each run starts its own server process (ours: the
demo chat tree; raw: bare trio + h11 + wsproto). Only the shape and the
sanity of what it prints are checked, never a speed.

Skipped where it cannot run: without the ``web`` extra (wsproto, h11,
orjson) or without ``/proc`` (the server's RSS is read there).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _bench_cli import FIELDS as COMMON_FIELDS

from benchmarks.web.load import official_client

ROOT = Path(__file__).resolve().parents[2]

FIELDS = list(COMMON_FIELDS)

COMMON_OWN = ["errors", "first_error", "server_log_lines", "server_workers", "server_rss", "server_cpu_percent"]
TREE = ["server_workers", "server_rss", "server_cpu_percent"]  # the server's whole process tree (load.tree_usage)

EXPECTED = {
    # id: (name, unit, rate, size at --quick, has a baseline, the workload's own fields)
    "web-conns": (
        "C1 web conns",
        "B/conn",
        False,
        100,
        True,
        ["connections", "server_rss_before", "server_rss_after", "connect_s", "errors", "first_error", "server_log_lines",
         *TREE],
    ),
    "web-fanout": (
        "C2 web fanout",
        "ms p50",
        False,
        50,
        True,
        ["subscribers", "rounds", "p99_ms", "max_ms", "errors", "first_error", "server_log_lines", *TREE],
    ),
    "web-pingpong": (
        "C3 web pingpong",
        "round trips/s",
        True,
        500,
        True,
        ["clients", "generator", "p50_ms", "p99_ms", "errors", "first_error", "server_log_lines", *TREE],
    ),
    "web-churn": (
        "C4 web churn", "cycles/s", True, 50, False,
        ["workers", "generator", "completed", "errors", "first_error", "server_log_lines", *TREE],
    ),
}

RUNS = 5  # per side: the CLI's default
# The load generator of web-pingpong and web-churn: the official client wherever `make test` installed it (Node, npm ci).
GENERATOR = "phoenix.js" if official_client() is not None else "python"


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _need_web() -> None:
    missing = [name for name in ("wsproto", "h11", "orjson") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the web extra is not installed (missing {', '.join(missing)}): pip install trio-otp[web]")
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc: the server's RSS cannot be read here")


@pytest.mark.slow
def test_quick_json_reports_the_four_web_workloads_with_sane_figures():
    _need_web()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "web-conns",
            "web-fanout",
            "web-pingpong",
            "web-churn",
            "--quick",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr

    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [row["id"] for row in rows] == list(EXPECTED)

    for row in rows:
        name, unit, rate, size, has_baseline, own = EXPECTED[row["id"]]
        assert list(row) == FIELDS + own, row  # the common fields first, in the harness's order
        assert set(COMMON_OWN) <= set(own)
        assert (row["workload"], row["unit"], row["size"]) == (name, unit, size)
        assert row["quick"] is True and row["runs"] == RUNS
        assert row["python"] and row["trio"]
        assert row["rss_per_process"] is None and row["baseline_rss_per_process"] is None
        assert _positive(row["figure"]), row
        # Nothing went wrong: no error replies, no unexpected closes, a quiet server.
        assert row["errors"] == 0 and row["first_error"] is None, row
        assert row["server_log_lines"] == 0, row
        # The demo as it ships: one worker per core; its whole tree's memory and CPU.
        assert row["server_workers"] == len(os.sched_getaffinity(0)), row
        assert _positive(row["server_rss"]) and _positive(row["server_cpu_percent"]), row

        if has_baseline:
            assert row["baseline"] == "raw trio"
            assert _positive(row["baseline_figure"]), row
            figure, baseline = row["figure"], row["baseline_figure"]
            expected = baseline / figure if rate else figure / baseline
            assert row["ratio"] == pytest.approx(expected, rel=1e-9), row
        else:
            assert row["baseline"] is None and row["baseline_figure"] is None and row["ratio"] is None, row

    by_id = {row["id"]: row for row in rows}

    conns = by_id["web-conns"]
    assert conns["connections"] == 100
    assert conns["server_rss_after"] > conns["server_rss_before"] > 0, conns
    assert _positive(conns["connect_s"]), conns

    fanout = by_id["web-fanout"]
    assert (fanout["subscribers"], fanout["rounds"]) == (50, 5)
    assert _positive(fanout["p99_ms"]) and _positive(fanout["max_ms"]), fanout
    # Percentiles of the median run (its p50 is the figure).
    assert fanout["figure"] <= fanout["p99_ms"] <= fanout["max_ms"], fanout

    pingpong = by_id["web-pingpong"]
    assert pingpong["clients"] == 2
    # The official client drives it wherever `make test` installed it (Node, npm ci in tests/js).
    assert pingpong["generator"] == GENERATOR, pingpong
    assert _positive(pingpong["p50_ms"]) and _positive(pingpong["p99_ms"]), pingpong
    assert pingpong["p50_ms"] <= pingpong["p99_ms"], pingpong

    churn = by_id["web-churn"]
    assert churn["workers"] == 10 and churn["generator"] == GENERATOR, churn
    assert churn["completed"] == 50 and churn["errors"] == 0, churn


HOLD_FIELDS = [
    "sockets", "p50_ms", "p99_ms", "pings", "gc_passes", "gc_slow_pauses", "gc_max_pause_ms", "gc_nodes", "rss_per_socket",
    "idle_rss", "held_rss", "connect_s", "errors", "first_error", "server_log_lines", "server_workers", "server_rss",
    "server_cpu_percent",
]


@pytest.mark.slow
def test_quick_json_reports_the_hold_workload_with_sane_figures():
    _need_web()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "web-hold", "--quick", "--json", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    [row] = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert list(row) == FIELDS + HOLD_FIELDS, row
    assert (row["workload"], row["unit"], row["size"], row["runs"]) == ("C6 web hold", "ms ping p100", 100, 1)
    # 100 sockets held, a fresh client's ping every 100 ms for 2 s; the demo as shipped (a worker per core), quiet.
    assert row["sockets"] == 100 and row["pings"] == 20, row
    assert row["errors"] == 0 and row["first_error"] is None and row["server_log_lines"] == 0, row
    workers = len(os.sched_getaffinity(0))
    assert row["server_workers"] == workers, row
    # Every worker's collector answered the one scrape (web.metrics, cluster=True).
    assert row["gc_nodes"] == workers, row
    assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["figure"], row
    # The collector's figures, from the demo's /metrics: passes per generation while pinging.
    assert len(row["gc_passes"]) == 3 and all(isinstance(n, int) and n >= 0 for n in row["gc_passes"]), row
    assert 0 <= row["gc_slow_pauses"] <= sum(row["gc_passes"]), row
    assert _positive(row["gc_max_pause_ms"]), row  # (the freeze once listening is one pass)
    assert row["held_rss"] > row["idle_rss"] > 0 and _positive(row["rss_per_socket"]), row
    assert row["baseline"] == "raw trio" and _positive(row["baseline_figure"]), row

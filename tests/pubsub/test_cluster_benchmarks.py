"""The cluster benchmarks (benchmarks/cluster/) run end to end at quick sizes, well-formed.

``python -m benchmarks xbroadcast xlatency presence --quick --json`` in a
subprocess, against the redis-servers it starts itself. Only the shape and
the sanity of what it prints are checked, never a speed.

Without the ``redis-server`` binary (and no ``REDIS_PORT`` naming a running
server) the test is skipped, except in CI (``CI=true``), where a missing
Redis is a failure: the rule of ``tests/_redis.py``.
"""

from __future__ import annotations

import math
import os
import shutil

import pytest
from _bench_cli import FIELDS, check_common, run_json

EXPECTED = {
    # id: (name, unit, rate, size at --quick, the workload's own fields)
    "xbroadcast": ("XB broadcast", "msgs/s", True, 500, ["frame_bytes"]),
    "xlatency": ("XB latency", "ms p50", False, 200, ["p90_ms", "p99_ms", "max_ms"]),
    "presence": ("Presence convergence", "ms", False, 500, ["entries", "nodes", "tracked_ms"]),
}


def _need_redis() -> None:
    if os.environ.get("REDIS_PORT") or shutil.which("redis-server"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("redis-server is not installed; .ci/run should have installed it (apt-get install redis-server)")
    pytest.skip("redis-server is not installed (apt-get install redis-server)")


def _positive(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_quick_json_reports_the_three_cluster_workloads_with_sane_figures():
    _need_redis()
    by_id = run_json("xbroadcast", "xlatency", "presence", timeout=300)
    for row in by_id.values():
        name, unit, rate, size, own = EXPECTED[row["id"]]
        assert list(row) == list(FIELDS) + own, row  # the common fields first, in the harness's order
        assert (row["workload"], row["unit"], row["size"]) == (name, unit, size)
        assert row["runs"] == 5
        assert row["rss_per_process"] is None and row["baseline_rss_per_process"] is None
        # Below 1.0 always means ours did better: raw/ours for rates, ours/raw for times.
        check_common(row, rate=rate, has_baseline=row["id"] != "presence")

    broadcast = by_id["xbroadcast"]
    assert isinstance(broadcast["frame_bytes"], int) and broadcast["frame_bytes"] > 33  # version + HMAC + payload

    latency = by_id["xlatency"]
    for key in ("p90_ms", "p99_ms", "max_ms"):
        assert _positive(latency[key]), latency
    # Percentiles of the median run (5 runs: its p50 is the figure).
    assert latency["figure"] <= latency["p90_ms"] <= latency["p99_ms"] <= latency["max_ms"], latency

    presence = by_id["presence"]
    assert presence["entries"] == 500 and presence["nodes"] == 3, presence
    assert _positive(presence["tracked_ms"]), presence


FAULT_FIELDS = [
    "fault_s", "recover_s", "node_downs", "false_node_downs", "noconnection_downs", "false_downs", "presences_left",
    "presence_flaps", "lost", "counted", "log_lines", "failed_targets", "passed",
]


@pytest.mark.slow
def test_quick_cluster_faults_reports_every_fault_and_the_defaults_meet_every_target():
    # Three node OS processes with the library's defaults, a fresh redis-server per fault (about 40 s).
    _need_redis()
    result = run_json("cluster-faults", timeout=600)["cluster-faults"]
    assert list(result) == list(FIELDS) + ["presences_per_node", "faults", "failed_faults"], result
    assert (result["workload"], result["unit"], result["size"], result["runs"]) == (
        "XF cluster faults", "faults passed", 4, 1
    )
    check_common(result, rate=True, has_baseline=False)
    faults = result["faults"]
    assert list(faults) == ["redis-restart", "pause", "refusal", "kill"]
    for name, report in faults.items():
        assert set(FAULT_FIELDS) <= set(report), (name, report)
        assert report["passed"] and report["failed_targets"] == [], (name, report)
        assert report["counted"] == report["lost"]
    assert (result["figure"], result["failed_faults"]) == (4.0, [])
    # A 2 s Redis restart: nothing declared, nothing lost; Redis refusing clients loses broadcasts, all counted.
    assert {key: faults["redis-restart"][key] for key in ("node_downs", "noconnection_downs", "lost")} == {
        "node_downs": 0, "noconnection_downs": 0, "lost": 0
    }
    assert faults["refusal"]["lost"] > 0 and faults["refusal"]["log_lines_per_s_per_conn"] <= 1.0
    # The killed node: declared down by both others, its monitored server too, its presences gone everywhere.
    kill = faults["kill"]
    assert (kill["node_downs"], kill["noconnection_downs"], kill["presences_left"]) == (2, 2, 2 * 100)

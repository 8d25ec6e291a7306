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

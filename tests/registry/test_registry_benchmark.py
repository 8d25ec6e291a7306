"""The registry benchmarks run at quick sizes and report well-formed JSON lines (never a speed)."""

from __future__ import annotations

import json

import pytest
from _bench_cli import FIELDS, check_common, run_cli, run_json

# id → (workload name, unit)
EXPECTED = {
    "reg": ("REG lookup", "us/lookup"),
    "reg-dispatch": ("REG dispatch", "ms/dispatch"),
}


@pytest.mark.slow
def test_quick_json_lines_of_the_registry_benchmarks():
    rows = run_json("reg", "reg-dispatch", timeout=300)
    for row in rows.values():
        assert list(row) == list(FIELDS), row
        check_common(row, rate=False)  # times: ours ÷ raw
        assert (row["workload"], row["unit"]) == EXPECTED[row["id"]]
        assert row["size"] == 2_000
        assert (row["runs"], row["baseline"]) == (5, "raw trio")
        assert row["rss_per_process"] is None and row["baseline_rss_per_process"] is None


@pytest.mark.slow
def test_the_registry_aliases_select_the_same_workloads():
    done = run_cli("registry", "registry-dispatch", "--quick", "--json", "--runs", "1", timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [(row["id"], row["runs"]) for row in rows] == [("reg", 1), ("reg-dispatch", 1)]


def test_the_registry_benchmarks_are_listed_among_the_choices():
    # Not run by default: tests/test_benchmarks.py checks that a bare run gives w1..w8 only.
    done = run_cli("nope", "--quick")
    assert done.returncode != 0 and done.stdout == ""
    assert "w8 (intensity), reg (registry), reg-dispatch (registry-dispatch)" in done.stderr

"""The benchmarks run end to end at quick sizes and report well-formed results.

These tests check the shape of what ``python -m benchmarks`` prints, never a
speed: timings on a shared CI machine say nothing reliable.
"""

from __future__ import annotations

import ast
import json
import math
import pickle
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


# ------------------------------------------------------------------ hot code upgrade (benchmarks/kernel/upgrade.py)

UPGRADE_FIELDS = [
    "servers", "clients", "pause_p99_us", "pause_max_us", "upgrade_ms", "upgraded", "failed", "calls", "casts",
    "calls_failed", "messages_lost",
]


@pytest.mark.slow
def test_quick_json_reports_a_hot_upgrade_under_load_that_lost_no_message():
    from _bench_cli import check_common, run_json

    row = run_json("upgrade")["upgrade"]
    assert list(row) == list(COMMON_FIELDS) + UPGRADE_FIELDS, row
    check_common(row, rate=False, has_baseline=False)
    assert (row["workload"], row["unit"], row["size"], row["runs"]) == ("UPG upgrade", "us/pause p50", 100, 5)
    assert (row["servers"], row["clients"], row["upgraded"], row["failed"]) == (100, 5, 100, 0), row
    assert (row["calls_failed"], row["messages_lost"]) == (0, 0), row
    assert row["calls"] == row["casts"] > 0  # one cast beside each call
    # (p99 and max are rounded to 0.1 us; the figure, a p50, is not.)
    assert 0 < row["figure"] <= row["pause_p99_us"] + 0.1 and row["pause_p99_us"] <= row["pause_max_us"], row
    assert row["upgrade_ms"] > 0


# ------------------------------------------------------------------ Port throughput (benchmarks/kernel/port_throughput.py)


@pytest.mark.slow
def test_quick_json_reports_the_port_throughput_against_reading_the_pipe_in_trio():
    from _bench_cli import check_common, run_json

    row = run_json("port")["port"]
    assert list(row) == list(COMMON_FIELDS) + ["bytes", "messages", "mean_message_bytes", "target_ratio"], row
    check_common(row, rate=True)
    assert (row["workload"], row["unit"], row["size"], row["runs"]) == ("PORT stdout", "MB/s", 8, 5)
    assert row["baseline"] == "raw trio" and row["target_ratio"] == 1.25
    # Every byte of `head -c 8M /dev/zero` came, in chunks of at most the port's read size.
    assert row["bytes"] == 8 * 1024 * 1024
    assert row["mean_message_bytes"] == row["bytes"] // row["messages"] <= 128 * 1024, row


# ------------------------------------------------------------------ the LiveView benchmarks (benchmarks/live/)

# What a live-render and a live-list run report (a stream's adds its mount time).
RENDER_FIELDS = [
    "rows", "assigns", "render_us", "diff_us", "diff_bytes", "full_ms", "full_render_ms", "full_diff_ms",
    "full_diff_bytes", "percent_of_full", "target_percent", "target_met", "baseline_is",
]

LIVE = {
    # id: (name, unit, rate, the workload's own fields, in order)
    "live-events": (
        "L1 live events",
        "events/s",
        True,
        [
            "events",
            "p50_ms",
            "p99_ms",
            "echo_p50_ms",
            "echo_p99_ms",
            "round_trip_ratio",
            "p50_ratio",
            "target_ratio",
            "target_met",
            "diff_bytes",
            "baseline_is",
            "errors",
            "first_error",
            "server_log_lines",
        ],
    ),
    "live-render": ("L2 live render", "us/re-render", False, RENDER_FIELDS[:-1] + ["stream_mount_ms", "baseline_is"]),
    "live-list": ("L3 live list", "us/re-render", False, RENDER_FIELDS),
    "live-diff": (
        "L4 live diff",
        "B/diff",
        False,
        [
            "rows",
            "components",
            "target_bytes",
            "target_met",
            "stream_insert_bytes",
            "stream_view_html_bytes",
            "component_update_bytes",
            "component_view_html_bytes",
            "baseline_is",
        ],
    ),
}
LIVE_QUICK_SIZE = 200  # events (L1), rows (L2-L4)


@pytest.mark.slow
def test_quick_json_reports_the_liveview_workloads_against_their_targets():
    from _bench_cli import check_common, run_json

    by_id = run_json(*LIVE)
    for id_, (name, unit, rate, own) in LIVE.items():
        row = by_id[id_]
        assert list(row) == list(COMMON_FIELDS) + own, row  # the common fields first, in the harness's order
        check_common(row, rate=rate)
        assert (row["workload"], row["unit"], row["size"], row["runs"]) == (name, unit, LIVE_QUICK_SIZE, 5)
        assert row["baseline"] == "raw trio" and isinstance(row["baseline_is"], str) and row["baseline_is"]
        assert row["rss_per_process"] is None and row["baseline_rss_per_process"] is None
        assert isinstance(row["target_met"], bool), row

    events = by_id["live-events"]
    # Every click got its diff, nothing went wrong, both servers stayed quiet.
    assert events["errors"] == 0 and events["first_error"] is None, events
    assert events["server_log_lines"] == 0, events
    assert events["events"] == LIVE_QUICK_SIZE
    assert 0 < events["p50_ms"] <= events["p99_ms"] and 0 < events["echo_p50_ms"] <= events["echo_p99_ms"], events
    assert events["target_met"] == (events["round_trip_ratio"] <= events["target_ratio"] == 2.0), events
    assert events["diff_bytes"] > 0

    for id_ in ("live-render", "live-list"):
        render = by_id[id_]
        assert (render["rows"], render["assigns"]) == (LIVE_QUICK_SIZE, 50)
        assert render["percent_of_full"] == pytest.approx(100 * render["figure"] / (render["full_ms"] * 1e3), rel=1e-9)
        assert render["target_met"] == (render["percent_of_full"] <= render["target_percent"] == 1.0), render
        assert 0 < render["render_us"] and 0 < render["diff_us"] and 0 < render["full_render_ms"] and 0 < render["full_diff_ms"]
        # One changed assign sends one slot; the full render sends every row.
        assert 0 < render["diff_bytes"] < render["full_diff_bytes"], render
    assert by_id["live-render"]["stream_mount_ms"] > 0

    sizes = by_id["live-diff"]
    assert (sizes["rows"], sizes["components"]) == (LIVE_QUICK_SIZE, 20)
    assert sizes["target_met"] == (sizes["figure"] <= sizes["target_bytes"] == 30), sizes
    # Each diff is smaller than the view's HTML it updates.
    assert sizes["figure"] < sizes["baseline_figure"]
    assert 0 < sizes["stream_insert_bytes"] < sizes["stream_view_html_bytes"], sizes
    assert 0 < sizes["component_update_bytes"] < sizes["component_view_html_bytes"], sizes


# ------------------------------------------------------------------ the micro benchmarks (benchmarks/micro/)

MICRO = {
    # id: (name, unit, size at --quick, the workload's own fields, in order)
    "micro-diff": ("M diff", "us/diff", 100, ["rows", "diff_bytes", "full_diff_us"]),
    "micro-frames": ("M frames", "ns/round", 5_000, ["stdlib_json_ns"]),
    "micro-presence": ("M presence", "us/join", 1_000, ["merge_us", "list_ms", "leave_us"]),
}


@pytest.mark.slow
def test_quick_json_reports_the_micro_benchmarks_of_the_pure_cores():
    from _bench_cli import check_common, run_json

    by_id = run_json(*MICRO)
    assert list(by_id) == list(MICRO)
    for id_, (name, unit, size, own) in MICRO.items():
        row = by_id[id_]
        assert list(row) == list(COMMON_FIELDS) + own, row
        check_common(row, rate=False)
        assert (row["workload"], row["unit"], row["size"], row["runs"]) == (name, unit, size, 5)
        assert row["baseline"] == "raw trio"
        assert all(isinstance(row[key], (int, float)) and row[key] > 0 for key in own), row
    # One changed row among 100 makes a small diff, smaller than the first full one costs in time.
    assert by_id["micro-diff"]["rows"] == 100 and 0 < by_id["micro-diff"]["diff_bytes"] < 100


def test_the_cluster_baselines_pad_to_the_adapters_real_frame_size():
    # benchmarks/cluster/nodes.py computes the frame length from the format
    # otp.pubsub.redis documents; the adapter's own encoder must agree.
    pytest.importorskip("hiredis")
    from benchmarks.cluster import nodes
    from otp import pubsub

    for message in [("bench", 19_999), (1234.5, 7, b""), {"a": [1, 2, 3]}]:
        adapter = nodes.adapter("127.0.0.1", 6379, nodes.NODES[0])  # never connects: it only encodes here
        frame = adapter._encode(nodes.TOPIC, message, pubsub.dispatch)
        assert nodes.frame_bytes(message) == len(frame)
        padded = pickle.dumps((nodes.NODES[0], nodes.TOPIC, message, nodes.raw_padding(message)))
        # Within a byte: pickle memoizes the padding once it is not empty (one opcode more).
        assert len(frame) <= len(padded) <= len(frame) + 1


# ------------------------------------------------------------------ names and layout

# Every workload name `python -m benchmarks` took before the regrouping, with the id it runs.
NAMES = {
    **{f"w{n}": f"w{n}" for n in range(1, 9)},
    "W2": "w2", "spawn": "w1", "call": "w3", "chaos": "w7",
    "reg": "reg", "reg-dispatch": "reg-dispatch",
    "xbroadcast": "xbroadcast", "xb": "xbroadcast", "xlatency": "xlatency", "latency": "xlatency",
    "presence": "presence", "tracker": "presence",
    "web-conns": "web-conns", "c1": "web-conns", "web-fanout": "web-fanout", "c2": "web-fanout",
    "web-pingpong": "web-pingpong", "c3": "web-pingpong", "web-churn": "web-churn", "churn": "web-churn",
    "live-events": "live-events", "l1": "live-events", "events": "live-events",
    "live-render": "live-render", "render": "live-render", "live-list": "live-list", "list": "live-list",
    "live-diff": "live-diff", "diff": "live-diff", "l4": "live-diff",
}

GROUPS = {
    "kernel": ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "reg", "reg-dispatch", "upgrade", "port"],
    "cluster": ["xbroadcast", "xlatency", "presence", "cluster-faults"],
    "web": ["web-conns", "web-fanout", "web-pingpong", "web-churn", "web-deflate", "web-hold", "abuse"],
    "live": ["live-events", "live-render", "live-list", "live-diff"],
    "micro": ["micro-diff", "micro-frames", "micro-presence"],
}


@pytest.mark.parametrize("name", NAMES)
def test_every_workload_name_typed_before_the_regrouping_still_selects_it(name):
    from benchmarks.__main__ import ALL, _expand_groups
    from benchmarks._harness import select

    assert [w.id for w in select(ALL, _expand_groups([name]))] == [NAMES[name]]


@pytest.mark.parametrize("group", GROUPS)
def test_a_group_name_selects_the_whole_group_in_table_order(group):
    from benchmarks.__main__ import ALL, _expand_groups
    from benchmarks._harness import select

    assert [w.id for w in select(ALL, _expand_groups([group]))] == GROUPS[group]


def _imports(path: Path):
    """``(line, module, name)`` of every import in ``path``; ``name`` None for ``import module``."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                yield node.lineno, module, alias.name


def _private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split(".") if part)


def _private_uses(path: Path, root: Path = ROOT) -> list[str]:
    """Where ``path`` reaches past a public name: of otp or web, or of another benchmark module."""
    found = []
    for line, module, name in _imports(path):
        where = f"{path.relative_to(root)}:{line}: {module}{'' if name is None else ' ' + name}"
        if module.split(".")[0] in ("otp", "web"):
            if _private(module) or (name is not None and name.startswith("_")):
                found.append(where)
        elif module.startswith("."):
            # Inside benchmarks: the shared _harness is the one private package
            # a workload may import from; no other module's private names.
            inner = module.lstrip(".").replace("_harness", "harness")
            if _private(inner) or (name is not None and name.startswith("_")):
                found.append(where)
    return found


def test_benchmarks_use_only_public_names_of_otp_web_and_each_other():
    modules = sorted((ROOT / "benchmarks").rglob("*.py"))
    assert len(modules) > 30  # the walk found the tree
    assert [where for path in modules for where in _private_uses(path)] == []


def test_the_import_check_catches_private_names(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "from web.live._router import CSRF_SALT\n"
        "from web.live import _diff\n"
        "import otp.tracker._state\n"
        "from .web.load import _Errors\n"
        "from .._harness import Sample\n"
        "from web.live import LiveView\n"
    )
    found = _private_uses(source, root=tmp_path)
    assert [where.split(": ", 1)[1] for where in found] == [
        "web.live._router CSRF_SALT",
        "web.live _diff",
        "otp.tracker._state",
        ".web.load _Errors",
    ]


def test_a_workload_with_max_runs_is_run_at_most_that_often_whatever_runs_asks():
    from benchmarks._harness import Sample, Workload, measure

    calls = []

    def ours(size: int) -> Sample:
        calls.append(size)
        return Sample(float(size))

    once = Workload("t", "T", (), "x/s", True, ours, None, 3, 2, max_runs=1)
    assert measure(once, runs=5).figure == 3.0
    assert calls == [3]
    calls.clear()
    unbounded = Workload("t", "T", (), "x/s", True, ours, None, 3, 2)
    measure(unbounded, runs=4)
    assert calls == [3, 3, 3, 3]

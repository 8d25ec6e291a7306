"""``python -m benchmarks web-deflate --quick`` end to end: well-formed, and compression saves bytes.

Bytes on the wire are counted, not timed, so they are asserted: the
compressed column must carry fewer bytes per fan-out frame and per
LiveView diff than the plain one. Speeds and RSS are only checked sane.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _bench_cli import FIELDS

ROOT = Path(__file__).resolve().parents[2]

OWN = [
    "subscribers", "rounds", "fanout_wire_bytes", "fanout_text_bytes", "fanout_saved_pct", "fanout_p50_ms",
    "server_rss_per_socket", "clicks", "live_join_wire_bytes", "live_join_text_bytes", "live_click_wire_bytes",
    "live_click_text_bytes", "compressed", "baseline_is", "errors", "first_error", "server_log_lines",
]


@pytest.mark.slow
def test_quick_json_reports_web_deflate_with_the_bytes_compression_saves():
    pytest.importorskip("wsproto")
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc: the server's RSS cannot be read here")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "web-deflate", "--quick", "--json", "--runs", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    [row] = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert list(row) == list(FIELDS) + OWN, row
    assert (row["id"], row["workload"], row["unit"], row["size"]) == ("web-deflate", "C5 web deflate", "B/frame", 50)
    assert (row["subscribers"], row["rounds"], row["clicks"], row["compressed"]) == (50, 5, 20, True)
    assert row["errors"] == 0 and row["first_error"] is None and row["server_log_lines"] == 0, row
    # The plain column carries the frame's text, its 2-byte header and, spread over
    # the frames, the shouter's push replies; the compressed one far less.
    assert row["fanout_text_bytes"] + 2 <= row["baseline_figure"] < row["fanout_text_bytes"] + 6, row
    assert row["figure"] < row["baseline_figure"] / 2, row
    assert row["fanout_saved_pct"] > 50, row
    assert row["live_click_wire_bytes"] < row["live_click_text_bytes"] / 2, row
    assert 0 < row["live_join_wire_bytes"] < row["live_join_text_bytes"], row
    assert row["server_rss_per_socket"] > 0 and row["fanout_p50_ms"] > 0, row

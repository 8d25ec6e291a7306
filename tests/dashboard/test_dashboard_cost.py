"""The dashboard cost measurement runs (a short window), so the figure in the closing note can be re-made."""

import json
import subprocess
import sys

import pytest
from _node_tools import require_node

pytestmark = pytest.mark.slow


def test_dashboard_cost_reports_cpu_and_memory_closed_and_open():
    require_node(chromium=True, package="playwright-core")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.web.dashboard_cost", "--seconds", "1", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == {"seconds", "closed", "open", "cpu_percent_added", "rss_mib_added"}
    for window in (result["closed"], result["open"]):
        assert set(window) == {"cpu_percent", "rss_mib"} and window["rss_mib"] > 10
    assert result["cpu_percent_added"] == round(result["open"]["cpu_percent"] - result["closed"]["cpu_percent"], 2)

"""Running ``python -m benchmarks`` from the tests, and what every JSON line must hold.

The benchmark tests check the shape and sanity of what the CLI prints,
never a speed (timings on a shared CI machine say nothing reliable).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIELDS = (
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
)


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m benchmarks *args`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def run_json(*ids: str, timeout: float = 600) -> dict[str, dict]:
    """The ``--quick --json`` results of ``ids``, by id; asserts a clean exit and one line per id."""
    done = run_cli(*ids, "--quick", "--json", timeout=timeout)
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert sorted(r["id"] for r in results) == sorted(ids), done.stdout
    return {r["id"]: r for r in results}


def check_common(result: dict, *, rate: bool, has_baseline: bool = True) -> None:
    """Every common field present; figures finite and positive; the ratio consistent with them."""
    assert list(result)[: len(FIELDS)] == list(FIELDS), list(result)
    assert result["quick"] is True
    assert math.isfinite(result["figure"]) and result["figure"] > 0
    if not has_baseline:
        assert (result["baseline"], result["baseline_figure"], result["ratio"]) == (None, None, None)
        return
    assert math.isfinite(result["baseline_figure"]) and result["baseline_figure"] > 0
    expected = result["baseline_figure"] / result["figure"] if rate else result["figure"] / result["baseline_figure"]
    assert math.isclose(result["ratio"], expected, rel_tol=1e-9)

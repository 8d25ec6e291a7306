"""What the dashboard costs the node: CPU and memory of the demo with /dashboard closed, then open.

::

    python -m benchmarks.web.dashboard_cost [--seconds 10] [--json]

Starts the demo app (``python -m web.demo chat``) in its own OS process,
measures its CPU time and resident memory over ``seconds`` with no page
open (the sampler still runs: that is the dashboard's cost while closed),
then with the dashboard's home page open in headless Chromium (the official
client, redrawn every second), and reports both and the difference. Needs
node, ``npm ci`` in tests/js and Debian's chromium (``make test`` installs them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "tests" / "js"
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE / (1 << 20)


def window(pid: int, seconds: float) -> dict:
    """CPU percent and resident memory of ``pid`` over ``seconds``."""
    cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    return {"cpu_percent": round(100 * (cpu_seconds(pid) - cpu) / elapsed, 2), "rss_mib": round(rss_mib(pid), 1)}


def measure(seconds: float) -> dict:
    demo = subprocess.Popen(
        [sys.executable, "-m", "web.demo", "chat", "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )
    try:
        base = re.search(r"http://\S+", demo.stdout.readline()).group()
        time.sleep(2.0)  # let start-up settle before the first window
        closed = window(demo.pid, seconds)
        browser = subprocess.Popen(
            [shutil.which("node"), "hold_page.mjs", f"{base}/dashboard", str(seconds + 4)], cwd=JS,
            stdout=subprocess.PIPE, text=True,
        )
        try:
            assert browser.stdout.readline().strip() == "open", "the dashboard did not connect"
            time.sleep(1.0)
            opened = window(demo.pid, seconds)
        finally:
            browser.kill()
    finally:
        demo.terminate()
        demo.wait(timeout=10)
    return {
        "seconds": seconds,
        "closed": closed,
        "open": opened,
        "cpu_percent_added": round(opened["cpu_percent"] - closed["cpu_percent"], 2),
        "rss_mib_added": round(opened["rss_mib"] - closed["rss_mib"], 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web.dashboard_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.seconds)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"dashboard closed: {result['closed']['cpu_percent']}% CPU, {result['closed']['rss_mib']} MiB")
        print(f"dashboard open:   {result['open']['cpu_percent']}% CPU, {result['open']['rss_mib']} MiB")
        print(f"added by an open dashboard: {result['cpu_percent_added']} CPU points, {result['rss_mib_added']} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

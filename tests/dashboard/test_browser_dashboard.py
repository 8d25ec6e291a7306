"""The dashboard in headless Chromium with the official phoenix_live_view client.

tests/js/browser_dashboard.mjs opens the demo's /dashboard, waits for the
charts, takes a screenshot (into the test's temporary folder: a test never
rewrites a tracked file; ``UPDATE_SCREENSHOTS=1`` writes the one the README
shows, docs/dashboard.png, for a commit of its own), kills
the demo's ``demo.clock`` worker from the processes page and sees its
supervisor restart it, on the processes page and on the tree page.
"""

import os
from pathlib import Path

import pytest
from _node_tools import run_js

from otp import Supervisor
from otp.testing import capture_crash_reports
from web.demo.app import chat_children

pytestmark = pytest.mark.slow

README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"


async def test_the_dashboard_kills_a_worker_from_the_page_and_shows_the_restart(tmp_path):
    screenshot = README_SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / "dashboard.png"
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    base = lines[0].removeprefix("listening on ")
    with capture_crash_reports() as reports:
        result = await run_js("browser_dashboard.mjs", base, str(screenshot), chromium=True, package="playwright-core")
    stderr = result.pop("stderr")
    assert result == {
        "ok": True,
        "title": "Home · dashboard",
        "asked": True,
        "killed": True,
        "restarted": True,
        "treeShowsNewPid": True,
        "restarts": "1",
        "errors": [],
    }, stderr
    assert any("demo.clock" in report.getMessage() and "killed" in report.getMessage() for report in reports)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

"""The LiveView counter in headless Chromium with the official phoenix_live_view client (1.2.12).

The dead render shows Count: 0; the client joins over /live, and each click
is an event whose diff the client patches in. tests/js/browser_live.mjs
drives the page (`make test` installs chromium and the npm packages).
"""

import json
import os
import shutil
from pathlib import Path

import pytest
import trio

from otp import Supervisor
from web.demo.live import live_children

JS = Path(__file__).resolve().parents[1] / "js"

pytestmark = pytest.mark.slow


def tools_or_skip() -> str:
    node = shutil.which("node")
    ready = node and shutil.which("chromium") and (JS / "node_modules" / "playwright-core").is_dir()
    if not ready:
        if os.environ.get("CI") == "true":
            pytest.fail("node, chromium and tests/js/node_modules are needed in CI (make test installs them)")
        pytest.skip("needs node, chromium and `npm ci` in tests/js")
    return node


async def test_the_official_liveview_client_connects_and_clicks_update_the_count(tmp_path):
    node = tools_or_skip()
    lines = []
    await Supervisor.start_link(live_children("127.0.0.1", 0, on_listening=lines.append))
    base = lines[0].removeprefix("listening on ")
    shot = tmp_path / "counter.png"
    done = await trio.run_process(
        [node, str(JS / "browser_live.mjs"), base, str(shot)], cwd=JS, capture_stdout=True, capture_stderr=True, check=False
    )
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert result == {"ok": True, "dead": "Count: 0", "live": "Count: 2", "errors": []}, done.stderr.decode()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

"""The LiveView counter in headless Chromium with the official phoenix_live_view client (1.2.12).

The dead render shows Count: 0; the client joins over /live, and each click
is an event whose diff the client patches in. tests/js/browser_live.mjs
drives the page (`make test` installs chromium and the npm packages).
"""

import pytest
from _node_tools import run_js

from otp import Supervisor
from web.demo.live import live_children

pytestmark = pytest.mark.slow


async def test_the_official_liveview_client_connects_and_clicks_update_the_count(tmp_path):
    lines = []
    await Supervisor.start_link(live_children("127.0.0.1", 0, on_listening=lines.append))
    base = lines[0].removeprefix("listening on ")
    shot = tmp_path / "counter.png"
    result = await run_js("browser_live.mjs", base, str(shot), chromium=True, package="playwright-core")
    stderr = result.pop("stderr")
    assert result == {"ok": True, "dead": "Count: 0", "live": "Count: 2", "errors": []}, stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

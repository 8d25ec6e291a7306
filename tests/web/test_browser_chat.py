"""The demo chat page in two tabs of headless Chromium: both users online, a message crosses.

tests/js/browser_chat.mjs drives Debian's chromium with playwright-core
(`make test` installs both). Skips without them, except in CI (CI=true).
"""

import pytest
from _node_tools import run_js

from otp import Supervisor
from web.demo.app import chat_children

pytestmark = pytest.mark.slow


async def test_two_tabs_see_each_other_online_and_a_message_crosses(tmp_path):
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    base = lines[0].removeprefix("listening on ")
    shot = tmp_path / "chat.png"
    result = await run_js("browser_chat.mjs", base, str(shot), chromium=True, package="playwright-core")
    stderr = result.pop("stderr")
    assert result == {"ok": True, "online": "online: alice, bob", "bobSaw": True}, stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

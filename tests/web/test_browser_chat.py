"""The demo chat page in two tabs of headless Chromium: both users online, a message crosses.

tests/js/browser_chat.mjs drives Debian's chromium with playwright-core
(`make test` installs both). Skips without them, except in CI (CI=true).
"""

import json
import os
import shutil
from pathlib import Path

import pytest
import trio

from otp import Supervisor
from web.demo.app import chat_children

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


async def test_two_tabs_see_each_other_online_and_a_message_crosses(tmp_path):
    node = tools_or_skip()
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    base = lines[0].removeprefix("listening on ")
    shot = tmp_path / "chat.png"
    done = await trio.run_process(
        [node, str(JS / "browser_chat.mjs"), base, str(shot)], cwd=JS, capture_stdout=True, capture_stderr=True, check=False
    )
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert result == {"ok": True, "online": "online: alice, bob", "bobSaw": True}, done.stderr.decode()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

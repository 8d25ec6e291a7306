"""The demo's LiveView pages (docs/demo/live.md) in headless Chromium with the official phoenix_live_view client (1.2.12).

tests/js/browser_demo_live.mjs opens each page against the real demo tree
(`make test` installs chromium and the npm packages) and reports what the
page showed; every fact is asserted here.
"""

import json
import subprocess

import pytest
import trio
from _node_tools import JS, require_node, run_js

import otp
from otp import Registry, Supervisor
from otp.testing import capture_crash_reports
from web.demo.app import chat_children
from web.demo.chat import PUBSUB

pytestmark = pytest.mark.slow


async def test_the_demo_live_pages_work_in_a_real_browser():
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    base = lines[0].removeprefix("listening on ")
    result = await run_js("browser_demo_live.mjs", base, chromium=True, package="playwright-core")
    stderr = result.pop("stderr")
    assert result == {
        "ok": True,
        "results": {
            "counter": {"start": "0", "after": "1", "otherCount": "0", "flashCleared": True, "title": "Counter"},
            "component": {"cid": "1", "likes": "2", "count": "0"},
            "navigation": {
                "patched": "?step=2", "countByTwo": "2", "navigated": "/live/async", "samePage": True, "title": "Async",
            },
            "crash": {"recovered": True, "recoveredWithin5s": True, "countAfterRecovery": "1"},
            "chat": {
                "onlineBoth": ["ann", "bob"],
                "tooLong": "a message is at most 200 characters (201 now)",
                "typing": "ann typing…",
                "received": "ann: hello bob",
                "shown": "ann: hello bob",
                "inputCleared": True,
                "order": ["ann: hello bob", "bob: hi ann"],
                "onlineAfter": ["ann"],
            },
            "upload": {"progress": "100", "uploaded": "notes.bin (150000 bytes)", "tooLarge": "the file is too large"},
            "async": {"deadPanel": "loading", "panel": "ready"},
        },
        "errors": [],
    }, stderr


async def test_a_liveview_killed_from_the_server_side_recovers_in_the_browser():
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    base = lines[0].removeprefix("listening on ")
    node = require_node(chromium=True, package="playwright-core")
    browser = await trio.lowlevel.open_process(
        [node, str(JS / "browser_live_kill.mjs"), base], cwd=JS, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        output = LineReader(browser.stdout)
        ready = await output.line()
        assert ready.startswith("ready phx-"), ready
        topic = f"lv:{ready.removeprefix('ready ')}"
        view = await live_view_process(topic)
        assert view is not None
        with capture_crash_reports():
            otp.exit(view, otp.KILL)
            result = json.loads(await output.line())
        assert await browser.wait() == 0
    finally:
        if browser.returncode is None:
            browser.kill()
    assert result == {"ok": True, "sawError": True, "recoveredCount": "0", "afterClick": "1", "errors": []}


async def live_view_process(topic):
    """The view's process: the one channel process subscribed to its topic."""
    subscribers = [pid for pid, _ in Registry.lookup(PUBSUB, topic)]
    assert len(subscribers) <= 1, subscribers
    return subscribers[0] if subscribers else None


class LineReader:
    def __init__(self, stream):
        self.stream, self.buffer = stream, b""

    async def line(self) -> str:
        while b"\n" not in self.buffer:
            chunk = await self.stream.receive_some(4096)
            assert chunk, f"the browser script ended early: {self.buffer!r}"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

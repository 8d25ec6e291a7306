"""The demo's LiveView pages (DEMO_LIVE.md) in headless Chromium with the official phoenix_live_view client (1.2.12).

tests/js/browser_demo_live.mjs opens each page against the real demo tree
(`make test` installs chromium and the npm packages) and reports what the
page showed; every fact is asserted here.
"""

import pytest
from _node_tools import run_js

from otp import Supervisor
from web.demo.app import chat_children

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

"""The demo's LiveView pages (docs/demo/live.md) over long-poll in headless Chromium, with the official client.

tests/js/browser_longpoll.mjs runs the scenarios of browser_demo_live.mjs
(tests/live/test_browser_live.py runs them over the WebSocket) in two ways:

* forced: the client never tries a WebSocket (its remembered fallback is set
  in the tab before the page loads);
* blocked: the browser reaches the demo through a proxy that refuses every
  WebSocket upgrade, as some corporate proxies do; the pages' layout falls
  back to ``/live/longpoll`` by itself (``longPollFallbackMs``).

Every fact must be the one the WebSocket gives, and every page must have
talked over long-poll, no WebSocket carrying a frame.
"""

import pytest
import trio
from _node_tools import run_js

from otp import Supervisor
from web.demo.app import chat_children

pytestmark = pytest.mark.slow

# What browser_demo_live.mjs reports of the demo's pages (as over the WebSocket).
DEMO_FACTS = {
    "counter": {"start": "0", "after": "1", "otherCount": "0", "flashCleared": True, "title": "Counter"},
    "component": {"cid": "1", "likes": "2", "count": "0"},
    "navigation": {"patched": "?step=2", "countByTwo": "2", "navigated": "/live/async", "samePage": True, "title": "Async"},
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
}
PAGES = 10  # the pages the scenarios open


async def start_demo() -> int:
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    return int(lines[0].rsplit(":", 1)[1])


async def test_the_demo_live_pages_work_with_the_client_forced_onto_long_poll():
    port = await start_demo()
    result = await run_js("browser_longpoll.mjs", "forced", f"http://127.0.0.1:{port}", chromium=True, package="playwright-core")
    stderr = result.pop("stderr")
    assert result == {
        "ok": True,
        "results": DEMO_FACTS,
        "errors": [],
        "transport": {"pages": PAGES, "onLongPoll": PAGES, "websocketFrames": 0},
    }, stderr


async def test_the_demo_live_pages_fall_back_to_long_poll_when_a_proxy_blocks_websockets():
    port = await start_demo()
    proxy = WebSocketBlockingProxy(port)
    async with trio.open_nursery() as nursery:
        proxy_port = await nursery.start(proxy.serve)
        result = await run_js(
            "browser_longpoll.mjs", "blocked", f"http://127.0.0.1:{proxy_port}", chromium=True, package="playwright-core"
        )
        nursery.cancel_scope.cancel()
    stderr = result.pop("stderr")
    assert result == {
        "ok": True,
        "results": DEMO_FACTS,
        "errors": [],
        "transport": {"pages": PAGES, "onLongPoll": PAGES, "websocketFrames": 0},
    }, stderr
    assert proxy.refused >= PAGES  # every page tried its WebSocket first (and was refused)


class WebSocketBlockingProxy:
    """A TCP proxy to the demo that answers every WebSocket upgrade with 403, and passes everything else.

    It reads the first request of each connection: a browser opens a
    connection of its own for each WebSocket, so that is where an upgrade
    comes. The rest of the connection is copied both ways as it is.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.refused = 0

    async def serve(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        task_status.started(listeners[0].socket.getsockname()[1])
        await trio.serve_listeners(self.relay, listeners)

    async def relay(self, client: trio.SocketStream) -> None:
        async with client:
            head = await self.first_head(client)
            if head is None:
                return
            if b"\r\nupgrade: websocket" in head.lower():
                self.refused += 1
                await client.send_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                return
            async with await trio.open_tcp_stream("127.0.0.1", self.upstream_port) as upstream:
                await upstream.send_all(head)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self.copy, client, upstream, nursery.cancel_scope)
                    nursery.start_soon(self.copy, upstream, client, nursery.cancel_scope)

    @staticmethod
    async def first_head(client: trio.SocketStream) -> bytes | None:
        """The bytes of the first request up to the end of its head (and whatever came with it); None at EOF."""
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                chunk = await client.receive_some(65536)
            except trio.BrokenResourceError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    @staticmethod
    async def copy(source: trio.SocketStream, sink: trio.SocketStream, both: trio.CancelScope) -> None:
        try:
            while chunk := await source.receive_some(65536):
                await sink.send_all(chunk)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        both.cancel()  # one side closed: so is the relay

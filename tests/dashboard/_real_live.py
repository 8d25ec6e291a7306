"""web.testing's LiveViewTest over a real endpoint: a real HTTP dead render, a real WebSocket, the same helpers.

``web.testing.live()`` loads a page in-process (the router's render, a test
transport). The dashboard's protection needs what only a real endpoint has:
the client's address, the ``Dashboard.http`` check in front of the
handler, and the connection, socket and endpoint processes that serve the
page. So :func:`open_live` loads the page over loopback sockets (the
clients of ``tests/web/_clients.py``) and builds a
:class:`~web.testing.LiveViewTest` on :class:`RealSocket`, which has the
few methods it uses (``join``, ``push``, ``receive_frame``,
``join_refs``): ``element``, ``render_click`` and the rest then work
unchanged, and the HTML they return is the page as the official client
would show it.
"""

from __future__ import annotations

import html
import itertools
import re
import sys
from pathlib import Path

import orjson
import trio

from web.testing import LiveViewTest
from web.testing._live import Page

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))  # tests/web: the loopback clients
from _clients import HOST, HTTPClient, HTTPResponse, WSClient  # noqa: E402

__all__ = ["RealSocket", "open_live", "dead_render", "HTTPClient", "HTTPResponse"]

TIMEOUT = 5.0  # seconds any one frame may take before a test fails (a bound, never a wait)


class RealSocket:
    """The client side of one real ``/live/websocket`` connection, shaped like web.testing's ClientSocket."""

    def __init__(self, ws: WSClient) -> None:
        self.ws = ws
        self.join_refs: dict[str, str] = {}
        self._refs = itertools.count(1)
        self._arrived: list = []  # frames read but not yet taken (a selective receive keeps them in order)
        self._unsent: list[str] = []  # pushed, to be written before the next wait

    def push(self, topic: str, event: str, payload: object = None, *, join_ref: object = ...) -> str:
        ref = str(next(self._refs))
        join_ref = self.join_refs.get(topic) if join_ref is ... else join_ref
        self._unsent.append(orjson.dumps([join_ref, ref, topic, event, {} if payload is None else payload]).decode())
        return ref

    async def join(self, topic: str, payload: dict, *, timeout: float = TIMEOUT) -> tuple[str, dict]:
        ref = str(next(self._refs))
        self.join_refs[topic] = ref
        await self.ws.send_text(orjson.dumps([ref, ref, topic, "phx_join", payload]).decode())
        frame = await self.receive_frame(lambda f: f[1] == ref and f[3] == "phx_reply", timeout=timeout)
        assert frame is not None, f"no reply to the join of {topic} within {timeout} s"
        return frame[4]["status"], frame[4]["response"]

    async def receive_frame(self, match, *, timeout: float) -> list | None:
        """The oldest frame for which ``match(frame)`` holds (others stay queued), or None after ``timeout``."""
        await self._flush()
        while True:
            for index, frame in enumerate(self._arrived):
                if isinstance(frame, list) and match(frame):
                    return self._arrived.pop(index)
            with trio.move_on_after(timeout) as waited:
                message = await self.ws.receive()
            if waited.cancelled_caught:
                return None
            self._arrived.append(orjson.loads(message) if isinstance(message, str) else message)

    async def _flush(self) -> None:
        # push is sync in web.testing's client (a message to a process); here the
        # frame goes out on the socket before the next wait for an answer.
        while self._unsent:
            await self.ws.send_text(self._unsent.pop(0))


def _page_tokens(body: str) -> tuple[str, str, str | None, str, str | None]:
    """``(view id, session, static, csrf, title)`` from a dead render's HTML."""
    view_id = re.search(r'<div id="([^"]+)" data-phx-main', body).group(1)
    session = html.unescape(re.search(r'data-phx-session="([^"]+)"', body).group(1))
    static = html.unescape(re.search(r'data-phx-static="([^"]*)"', body).group(1)) or None
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', body).group(1)
    title = re.search(r"<title>(.*?)</title>", body)
    return view_id, session, static, csrf, html.unescape(title.group(1)) if title else None


async def dead_render(port: int, path: str, *, headers=()) -> HTTPResponse:
    """GET ``path`` on a fresh loopback connection."""
    client = await HTTPClient.open(port)
    try:
        return await client.request("GET", path, headers=headers)
    finally:
        await client.aclose()


async def open_live(port: int, path: str, *, headers=()) -> LiveViewTest:
    """Load ``path`` as a browser would, over the real endpoint; the joined :class:`LiveViewTest`."""
    response = await dead_render(port, path, headers=headers)
    assert response.status == 200, f"GET {path}: {response.status} {response.body[:300]!r}"
    view_id, session, static, csrf, title = _page_tokens(response.body.decode())
    ws = await WSClient.connect(port, f"/live/websocket?_csrf_token={csrf}&vsn=2.0.0")
    assert isinstance(ws, WSClient), f"the LiveView socket refused the upgrade: {ws!r}"
    socket = RealSocket(ws)
    page = Page(router=None, session=None, timeout=TIMEOUT, client=socket, csrf=csrf)
    url = f"http://{HOST}:{port}{path}"
    view = LiveViewTest(page, view_id, session, static, url, title)
    payload = {"url": url, "params": view._join_params(0), "session": session, "static": static, "sticky": False}
    return await view._join(payload)

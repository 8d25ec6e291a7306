"""The LiveView demo: a counter page driven by the official phoenix_live_view client.

``GET /counter`` is the dead render (LIVEVIEW.md §1): a page with the CSRF
meta tag, the view's container (signed session) and the two vendored client
scripts. The page's script connects a ``LiveSocket`` to ``/live``; the join
re-mounts the view in a process and every click is an ``event`` answered
with a diff. The CSRF token is signed; a socket whose token does not verify
is accepted, but its joins are answered ``stale`` so the page reloads
(Phoenix's behaviour, LIVEVIEW.md §2.1).
"""

from __future__ import annotations

import os
import secrets

from markupsafe import escape

from otp import DynamicSupervisor, PubSub
from web._http import Request, Response
from web.live import LiveView, LiveViewChannel, compile_template, render_page
from web.socket import Socket
from web.token import InvalidToken, sign, verify
from web.transports.phoenix import phoenix_socket

from .app import _STATIC, endpoint_child

__all__ = ["Counter", "live_children", "SECRET"]

SECRET = os.environ.get("LIVE_DEMO_SECRET") or secrets.token_urlsafe(32)
CSRF_SALT = "csrf"
PUBSUB = "live"
CHANNELS = "live.channels"

COUNTER = compile_template(
    """<div>
  <h1>Count: {@count}</h1>
  <button phx-click="inc">+</button>
</div>""",
    filename="web/demo/live.py:Counter",
)


class Counter(LiveView):
    async def mount(self, params, session, socket):
        socket.assign(count=0)

    async def handle_event(self, event, value, socket):
        if event == "inc":
            socket.update("count", lambda n: n + 1)

    def render(self, assigns, changed):
        return COUNTER.render(assigns, changed)


class CounterChannel(LiveViewChannel):
    views = {"counter": Counter}
    secret = SECRET

    async def join(self, topic, payload, socket):
        if not socket.assigns.get("csrf_ok"):
            from web.channel import Error

            return Error({"reason": "stale"})
        return await super().join(topic, payload, socket)


class LiveUserSocket(Socket):
    channels = {"lv:*": CounterChannel}

    async def connect(self, params, connect_info):
        try:
            verify(SECRET, CSRF_SALT, params.get("_csrf_token"))
        except InvalidToken:
            return {"csrf_ok": False}
        return {"csrf_ok": True}


_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="csrf-token" content="{csrf}">
  <title>Counter</title>
</head>
<body>
{container}
<script src="/phoenix.min.js"></script>
<script src="/phoenix_live_view.min.js"></script>
<script>
  let csrf = document.querySelector("meta[name='csrf-token']").getAttribute("content");
  let liveSocket = new LiveView.LiveSocket("/live", Phoenix.Socket, {{params: {{_csrf_token: csrf}}}});
  liveSocket.connect();
  window.liveSocket = liveSocket;
</script>
</body>
</html>
"""


async def pages(request: Request) -> Response:
    if request.method == "GET" and request.path == "/counter":
        container = await render_page(Counter, "counter", secret=SECRET)
        csrf = sign(SECRET, CSRF_SALT, secrets.token_urlsafe(16))
        body = _PAGE.format(csrf=escape(csrf), container=container)
        return Response(200, {"content-type": "text/html; charset=utf-8"}, body)
    if request.method == "GET" and request.path in ("/phoenix.min.js", "/phoenix_live_view.min.js"):
        script = _STATIC / request.path.lstrip("/")
        if script.is_file():
            return Response(200, {"content-type": "text/javascript"}, script.read_bytes())
    return Response(404, {"content-type": "text/plain"}, b"not found")


def live_children(host: str, port: int, *, on_listening=None) -> list:
    socket = phoenix_socket(LiveUserSocket, pubsub=PUBSUB, channel_supervisor=CHANNELS, path="/live/websocket")
    return [
        PubSub.child_spec(PUBSUB),
        DynamicSupervisor.child_spec(name=CHANNELS),
        endpoint_child(pages, socket, host, port, on_listening),
    ]

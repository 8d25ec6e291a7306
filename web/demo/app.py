"""The demo's supervision tree: PubSub, Presence, the channels' supervisor, and the endpoint.

::

    Supervisor (one_for_one)
    ├── PubSub "chat"            (Registry + Local adapter)
    ├── Presence "chat_presence" (a Tracker broadcasting presence_diff)
    ├── DynamicSupervisor "chat.channels"   one temporary child per joined channel or LiveView
    └── Endpoint                 acceptor + one process per connection (+ its socket process)

One endpoint serves both demos: the channels chat of DEMO_CHAT.md (``/``
and ``/socket/websocket``) and the LiveView pages of DEMO_LIVE.md
(``/live/...`` and ``/live/websocket``, see ``live.py``).
"""

from __future__ import annotations

from importlib import resources

from otp import ChildSpec, ChildType, DynamicSupervisor, PubSub
from web.endpoint import Endpoint
from web.presence import Presence
from web.transports.phoenix import phoenix_socket

from .._http import Request, Response
from .chat import PRESENCE, PUBSUB, ChatSocket

__all__ = ["chat_children", "pages", "endpoint_child"]

_STATIC = resources.files(__package__) / "static"
CHANNELS = "chat.channels"  # the DynamicSupervisor of channel processes


_SCRIPTS = ("/phoenix.min.js", "/phoenix_live_view.min.js")  # the official clients, vendored from npm


async def pages(request: Request) -> Response:
    """``/``: the channels chat page; the two client scripts."""
    if request.method != "GET":
        return Response(405, {"allow": "GET"}, b"")
    if request.path == "/":
        return Response(200, {"content-type": "text/html; charset=utf-8"}, (_STATIC / "index.html").read_bytes())
    if request.path in _SCRIPTS:
        script = _STATIC / request.path.lstrip("/")
        if script.is_file():
            return Response(200, {"content-type": "text/javascript"}, script.read_bytes())
    return Response(404, {"content-type": "text/plain"}, b"not found")


def endpoint_child(handler, websocket, host: str, port: int, on_listening=None) -> ChildSpec:
    """The endpoint's child spec; ``on_listening(line)`` gets the "listening on http://..." line."""

    async def start_endpoint():
        pid = await Endpoint.start_link(handler, host=host, port=port, websocket=websocket)
        bound_host, bound_port = Endpoint.address(pid)
        if on_listening is not None:
            on_listening(f"listening on http://{bound_host}:{bound_port}")
        return pid

    return ChildSpec(id="endpoint", start=(start_endpoint,), type=ChildType.SUPERVISOR)


def chat_children(host: str, port: int, *, on_listening=None) -> list:
    """The tree's children, in start order; ``on_listening(line)`` gets the "listening on" line."""
    from .live import live_router

    chat_socket = phoenix_socket(ChatSocket, pubsub=PUBSUB, channel_supervisor=CHANNELS)
    router = live_router(pubsub=PUBSUB, channel_supervisor=CHANNELS)
    return [
        PubSub.child_spec(PUBSUB),
        Presence.child_spec(PUBSUB, pubsub=PUBSUB, name=PRESENCE),
        DynamicSupervisor.child_spec(name=CHANNELS),
        endpoint_child(router.http(pages), [chat_socket, router.websocket()], host, port, on_listening),
    ]

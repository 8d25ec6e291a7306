"""The chat demo's supervision tree: PubSub, Presence, the channels' supervisor, and the endpoint.

::

    Supervisor (one_for_one)
    ├── PubSub "chat"            (Registry + Local adapter)
    ├── Presence "chat_presence" (a Tracker broadcasting presence_diff)
    ├── DynamicSupervisor "chat.channels"   one temporary child per joined channel
    └── Endpoint                 acceptor + one process per connection (+ its socket process)
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


async def pages(request: Request) -> Response:
    """``/``: the chat page; ``/phoenix.min.js``: the official client, vendored from npm."""
    if request.method != "GET":
        return Response(405, {"allow": "GET"}, b"")
    if request.path == "/":
        return Response(200, {"content-type": "text/html; charset=utf-8"}, (_STATIC / "index.html").read_bytes())
    if request.path == "/phoenix.min.js":
        script = _STATIC / "phoenix.min.js"
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
    socket = phoenix_socket(ChatSocket, pubsub=PUBSUB, channel_supervisor=CHANNELS)
    return [
        PubSub.child_spec(PUBSUB),
        Presence.child_spec(PUBSUB, pubsub=PUBSUB, name=PRESENCE),
        DynamicSupervisor.child_spec(name=CHANNELS),
        endpoint_child(pages, socket, host, port, on_listening),
    ]

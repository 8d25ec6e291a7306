"""Mount a :class:`~web.socket.Socket` on the endpoint: the Phoenix WebSocket transport.

``phoenix_socket(UserSocket, pubsub="chat")`` returns the
:class:`~web.transports.websocket.WebSocket` mount for ``/socket/websocket``::

    endpoint = await Endpoint.start_link(pages, port=4000, websocket=phoenix_socket(UserSocket, pubsub="chat"))

The upgrade runs the socket's ``connect(params, connect_info)`` (a refusal,
or a ``vsn`` other than 2.0.x, is answered 403 with no WebSocket). Once
open, every connection gets a *socket process* of its own, linked to the
connection's process: it owns the channel protocol
(:class:`~web.socket.SocketState`), takes the connection's frames as
messages (a :class:`~web.socket.ClientFrame` each, then one
:class:`~web.socket.TransportClosed`), monitors its channel processes, and
writes through the connection's sender. Closing the WebSocket ends its channels
(``Shutdown("closed")``), and nothing more is sent.

Each ``connect`` is timed and emitted as the telemetry event ``("web",
"socket", "connect")`` (see ``otp.telemetry``).
"""

from __future__ import annotations

import time

from otp import send, spawn_link, telemetry

from .._telemetry import SOCKET_CONNECT
from ..socket import ClientFrame, Socket, SocketState, TransportClosed
from .websocket import ConnectInfo, SocketHandler, WebSocket

__all__ = ["phoenix_socket", "PhoenixSocketHandler"]


class _SenderTransport:
    """What SocketState writes through: the connection's sender."""

    __slots__ = ("sender",)

    def __init__(self, sender) -> None:
        self.sender = sender

    def send(self, frame: str | bytes) -> None:
        if isinstance(frame, str):
            self.sender.send_text(frame)
        else:
            self.sender.send_binary(frame)

    def close(self, code: int) -> None:
        self.sender.close(code)


async def _socket_process(socket: Socket, assigns: dict, transport: _SenderTransport, pubsub: str, channel_supervisor) -> None:
    await SocketState(socket, assigns, transport, pubsub=pubsub, channel_supervisor=channel_supervisor).serve()


class PhoenixSocketHandler(SocketHandler):
    """Feeds one connection's frames to its socket process."""

    def __init__(self, socket: Socket, assigns: dict, pubsub: str, channel_supervisor=None) -> None:
        self.socket, self.assigns, self.pubsub = socket, assigns, pubsub
        self.channel_supervisor = channel_supervisor
        self.process = None

    async def on_open(self, sender) -> None:
        self.process = spawn_link(
            _socket_process, self.socket, self.assigns, _SenderTransport(sender), self.pubsub, self.channel_supervisor
        )

    async def on_text(self, text: str) -> None:
        send(self.process, ClientFrame(text))

    async def on_binary(self, data: bytes) -> None:
        send(self.process, ClientFrame(data))

    async def on_close(self, code: int) -> None:
        if self.process is not None:
            send(self.process, TransportClosed())


def phoenix_socket(
    socket_cls: type[Socket], *, pubsub: str, channel_supervisor: object = None, path: str = "/socket/websocket", **options
) -> WebSocket:
    """The WebSocket mount serving ``socket_cls`` at ``path`` (see the module docstring).

    ``channel_supervisor``: a DynamicSupervisor (name or pid) to start the
    channel processes under; without it they are plain processes linked to
    nothing but monitored by their socket.
    """

    async def accept(info: ConnectInfo):
        if not str(info.params.get("vsn", "")).startswith("2.0."):
            return None  # only the V2 serializer (CHANNELS.md §1.2)
        socket = socket_cls()
        params = {k: v for k, v in info.params.items() if k != "vsn"}
        connect_info = {"headers": info.headers, "peer": info.peer, "uri": info.path, "token": info.token}
        started = time.perf_counter()
        assigns = await socket.connect(params, connect_info)
        if telemetry.attached(SOCKET_CONNECT):
            metadata = {"socket": socket_cls, "result": "error" if assigns is None else "ok", "peer": info.peer}
            telemetry.execute(SOCKET_CONNECT, {"duration": time.perf_counter() - started}, metadata)
        return None if assigns is None else (socket, assigns)

    def handler(info: ConnectInfo, accepted) -> PhoenixSocketHandler:
        socket, assigns = accepted
        return PhoenixSocketHandler(socket, assigns, pubsub, channel_supervisor)

    return WebSocket(handler, path=path, accept=accept, **options)



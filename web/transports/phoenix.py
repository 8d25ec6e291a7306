"""Mount a :class:`~web.socket.Socket` on the endpoint: the Phoenix WebSocket transport.

``phoenix_socket(UserSocket, pubsub="chat")`` returns the
:class:`~web.transports.websocket.WebSocket` mount for ``/socket/websocket``::

    endpoint = await Endpoint.start_link(pages, port=4000, websocket=phoenix_socket(UserSocket, pubsub="chat"))

``longpoll=True`` serves the same socket over long-poll at
``/socket/longpoll`` too (see :mod:`web.transports.longpoll`): each
long-poll client's session process plays the part of the connection's
process below, and everything else is the same.

The upgrade runs the socket's ``connect(params, connect_info)`` (a refusal,
or a ``vsn`` other than 2.0.x, is answered 403 with no WebSocket). Once
open, every connection gets a *socket process* of its own, linked to the
connection's process: it owns the channel protocol
(:class:`~web.socket.SocketState`), takes the connection's frames as
messages (a :class:`~web.socket.ClientFrame` each, then one
:class:`~web.socket.TransportClosed`), monitors its channel processes, and
writes through the connection's sender. Closing the WebSocket ends its channels
(``Shutdown("closed")``), and nothing more is sent.

The connection's process applies the socket's limits as it reads (see
:mod:`web.socket`): it hands at most a window of frames to the socket
process before it waits for them to be handled, and reads no faster than
``Socket.rate_limit``. Failed joins are counted per socket and per peer
address in one table per mount (:class:`~web.socket.FailedJoins`).

Each ``connect`` is timed and emitted as the telemetry event ``("web",
"socket", "connect")`` (see ``otp.telemetry``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from otp import Destination, Pid, send, spawn_link, telemetry
from otp.log import ThrottledLogger

from .._telemetry import SOCKET_CONNECT
from ..socket import (
    STATISTICS,
    ClientFrame,
    FailedJoins,
    InboundWindow,
    RateLimiter,
    Socket,
    SocketState,
    TransportClosed,
)
from ._session import POLICY_VIOLATION
from .websocket import ConnectInfo, Sender, SocketHandler, WebSocket

__all__ = ["phoenix_socket", "PhoenixSocketHandler"]

logger = logging.getLogger("web.socket")  # what it logs is about the sockets it serves
_EVERY_LINE = ThrottledLogger(logger, interval=0)  # for a handler given no mount's logger


class _SenderTransport(InboundWindow):
    """What SocketState writes through (the connection's sender), and the window of frames handed to it.

    One object for both, shared by the connection process and the socket
    process: one allocation per connection, not two.
    """

    __slots__ = ("sender",)

    def __init__(self, sender: Sender) -> None:
        super().__init__()
        self.sender = sender

    def send(self, frame: str | bytes) -> None:
        if isinstance(frame, str):
            self.sender.send_text(frame)
        else:
            self.sender.send_binary(frame)

    def close(self, code: int) -> None:
        self.sender.close(code)


async def _socket_process(handler: PhoenixSocketHandler) -> None:
    # One argument: this frame lives as long as the socket, and each one costs 8 bytes a connection.
    await SocketState(
        handler.socket,
        handler.assigns,
        handler.transport,
        pubsub=handler.pubsub,
        channel_supervisor=handler.channel_supervisor,
        window=handler.transport,
        peer=handler.peer,
        failed_joins=handler.failed_joins,
        log=handler.log,
    ).serve()


class PhoenixSocketHandler(SocketHandler):
    """Feeds one connection's frames to its socket process, within the socket's limits.

    Args:
        socket, assigns: the connected socket and what its ``connect`` returned.
        pubsub: the PubSub its channels broadcast on.
        channel_supervisor: a DynamicSupervisor to start channels under, or None.
        peer: the client's address (its host), for the failed-join table.
        failed_joins: the mount's :class:`~web.socket.FailedJoins`, or None.
        log: the mount's :class:`otp.log.ThrottledLogger` (one line per cause
            per interval, whatever the number of sockets), or None: every line.
    """

    def __init__(
        self,
        socket: Socket,
        assigns: dict,
        pubsub: str,
        channel_supervisor: Destination | None = None,
        *,
        peer: str | None = None,
        failed_joins: FailedJoins | None = None,
        log: ThrottledLogger | None = None,
    ) -> None:
        self.socket, self.assigns, self.pubsub = socket, assigns, pubsub
        self.channel_supervisor = channel_supervisor
        self.peer, self.failed_joins = peer, failed_joins
        self.log = _EVERY_LINE if log is None else log
        self.limiter = None if socket.rate_limit is None else RateLimiter(socket.rate_limit, socket.rate_limit_grace)
        # Both set by on_open, which the session calls before any other callback.
        self.transport: _SenderTransport | None = None
        self.process: Pid | None = None

    async def on_open(self, sender: Sender) -> None:
        self.transport = _SenderTransport(sender)
        self.process = spawn_link(_socket_process, self)

    async def on_text(self, text: str) -> None:
        await self._forward(text)

    async def on_binary(self, data: bytes) -> None:
        await self._forward(data)

    async def _forward(self, data: str | bytes) -> None:
        # Limits at read time: while this waits, nothing more is read from the
        # client, so a flood is held back by TCP instead of piling up here.
        if self.limiter is not None and not await self.limiter.admit():
            return self._close_rate_limited()
        assert self.process is not None and self.transport is not None  # (on_open came first)
        send(self.process, ClientFrame(data))
        if self.transport.added(len(data)):
            await self.transport.wait_room()

    def _close_rate_limited(self) -> None:
        # Called once: after the close, the session hands over no more frames.
        STATISTICS["rate_limited"] += 1
        assert self.socket.rate_limit is not None  # (only a socket with a rate limit has a limiter)
        rate, burst = self.socket.rate_limit
        self.log.warning(
            "rate_limited",
            "socket %s (peer %s): closing (1008): over %s messages/s (burst %s) for %s s running "
            "(rate_limit, rate_limit_grace)",
            self.socket.id(self.assigns), self.peer, rate, burst, self.socket.rate_limit_grace, detail=self.peer or "",
        )
        assert self.transport is not None  # (on_open came first)
        self.transport.close(POLICY_VIOLATION)

    async def on_close(self, code: int) -> None:
        if self.process is not None:
            send(self.process, TransportClosed())


def phoenix_socket(
    socket_cls: type[Socket],
    *,
    pubsub: str,
    channel_supervisor: Destination | None = None,
    path: str = "/socket/websocket",
    **options: Any,
) -> WebSocket:
    """The WebSocket mount serving ``socket_cls`` at ``path`` (see the module docstring).

    ``channel_supervisor``: a DynamicSupervisor (name or pid) to start the
    channel processes under; without it they are plain processes linked to
    nothing but monitored by their socket.
    """
    limit = socket_cls.failed_join_limit
    failed_joins = None if limit is None else FailedJoins(*limit)  # shared by every socket of this mount
    log = ThrottledLogger(logger)  # one line per cause per 10 s for all of this mount's sockets

    async def accept(info: ConnectInfo):
        if not str(info.params.get("vsn", "")).startswith("2.0."):
            return None  # only the V2 serializer (docs/protocol/channels.md, "Connecting")
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
        peer = info.peer[0] if info.peer else None
        return PhoenixSocketHandler(
            socket, assigns, pubsub, channel_supervisor, peer=peer, failed_joins=failed_joins, log=log
        )

    return WebSocket(handler, path=path, accept=accept, **options)

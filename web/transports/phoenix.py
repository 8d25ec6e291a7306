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
open, the connection's own process *is* the socket's process, as in
Phoenix: it runs the channel protocol (:class:`~web.socket.SocketState`)
on each frame as it reads it, takes its channels' messages (``Joined``,
their ``Down``) and a "disconnect" broadcast between two frames (the
transport wakes it for them: ``SocketHandler.on_info``), monitors its
channel processes, and writes through the connection's sender. Closing the
WebSocket ends its channels (``Shutdown("closed")``), and nothing more is
sent; the process's end, whatever its reason, ends them too (each channel
monitors it). One process a socket, not two: a joined socket costs its
connection, its channels, and nothing in between.

The socket's limits apply as the process reads (see :mod:`web.socket`):
while it handles a frame (a join waiting for its channel, say), it reads
nothing, so a client sending faster than it is served is held back by TCP;
and it reads no faster than ``Socket.rate_limit``. Failed joins are counted
per socket and per peer address in one table per mount
(:class:`~web.socket.FailedJoins`).

Each ``connect`` is timed and emitted as the telemetry event ``("web",
"socket", "connect")`` (see ``otp.telemetry``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from otp import Destination, telemetry
from otp.log import ThrottledLogger
from otp.lowlevel import set_behaviour

from .._telemetry import SOCKET_CONNECT
from ..socket import STATISTICS, FailedJoins, RateLimiter, Socket, SocketState
from ._session import POLICY_VIOLATION
from .websocket import ConnectInfo, Sender, SocketHandler, WebSocket

__all__ = ["phoenix_socket", "PhoenixSocketHandler"]

logger = logging.getLogger("web.socket")  # what it logs is about the sockets it serves
_EVERY_LINE = ThrottledLogger(logger, interval=0)  # for a handler given no mount's logger


class PhoenixSocketHandler(SocketHandler):
    """Runs one connection's channel protocol in the connection's process, within the socket's limits.

    ``on_open`` makes its :class:`~web.socket.SocketState` (writing through
    the sender); each frame goes through the rate limit, if any, then to
    :meth:`~web.socket.SocketState.handle_frame`; each message for the
    process to :meth:`~web.socket.SocketState.handle_info`; ``on_close``
    ends the channels. The long-poll session process calls it the same way.

    Args:
        socket, assigns: the connected socket and what its ``connect`` returned.
        pubsub: the PubSub its channels broadcast on.
        channel_supervisor: a DynamicSupervisor to start channels under, or None.
        peer: the client's address (its host), for the failed-join table.
        failed_joins: the mount's :class:`~web.socket.FailedJoins`, or None.
        log: the mount's :class:`otp.log.ThrottledLogger` (one line per cause
            per interval, whatever the number of sockets), or None: every line.
    """

    # Slots: one of these lives as long as its socket, on every socket.
    __slots__ = ("socket", "assigns", "pubsub", "channel_supervisor", "peer", "failed_joins", "log", "limiter", "state")

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
        self.state: SocketState | None = None  # made by on_open, which the transport calls first

    async def on_open(self, sender: Sender) -> None:
        self.state = SocketState(
            self.socket,
            self.assigns,
            sender,
            pubsub=self.pubsub,
            channel_supervisor=self.channel_supervisor,
            peer=self.peer,
            failed_joins=self.failed_joins,
            log=self.log,
        )
        set_behaviour("socket", self.state)  # process_info(pid).kind == "socket": the dashboard counts them

    async def on_text(self, text: str) -> None:
        await self._handle(text)

    async def on_binary(self, data: bytes) -> None:
        await self._handle(data)

    async def _handle(self, data: str | bytes) -> None:
        # The rate limit at read time: while this waits, nothing more is read
        # from the client, so a flood is held back by TCP instead of piling up here.
        if self.limiter is not None and not await self.limiter.admit():
            return self._close_rate_limited()
        assert self.state is not None  # (on_open came first)
        await self.state.handle_frame(data)

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
        assert self.state is not None  # (on_open came first)
        self.state.transport.close(POLICY_VIOLATION)

    async def on_info(self, message: object) -> None:
        assert self.state is not None  # (on_open came first)
        self.state.handle_info(message)  # a channel's Joined or Down, a "disconnect"; anything else is dropped

    async def on_close(self, code: int) -> None:
        if self.state is not None:
            await self.state.close()


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

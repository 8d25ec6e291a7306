"""Sockets: one connection's protocol state, and the behaviour apps subclass.

Phoenix.Socket in Python. Subclass :class:`Socket` to authenticate a
connection and route topics to channels::

    class UserSocket(Socket):
        channels = {"room:*": RoomChannel}          # a trailing * matches any suffix

        async def connect(self, params, connect_info):
            user = params.get("user")
            if not user:
                return None                          # refused: HTTP 403, no WebSocket
            return {"user": user}                    # the socket's assigns

        def id(self, assigns):
            return f"users_socket:{assigns['user']}"  # or None: anonymous

:class:`SocketState` is the protocol of CHANNELS.md §3, run by the process
that owns the connection: it decodes each frame, answers heartbeats, starts
one channel process per ``phx_join``, forwards pushes and leaves to it, and
turns each channel's end into ``phx_close`` (normal) or ``phx_error``
(crash). It writes through a *transport*: any object with ``send(frame)``
(sync, never blocking; ``str`` text, ``bytes`` binary) and ``close(code)``.
The WebSocket transport and ``web.testing`` both provide one.

The process that owns the connection runs :meth:`SocketState.serve`; the
transport feeds it two messages, besides the channels' own:

=====================  ==============================================
message                meaning
=====================  ==============================================
``ClientFrame(data)``  one complete frame from the client
``TransportClosed()``  the connection is gone: end every channel, stop
=====================  ==============================================

A channel that ends abnormally (a crash, a kill, during or after its join)
is emitted as the telemetry event ``("web", "channel", "crash")`` (see
``otp.telemetry``).
"""

from __future__ import annotations

import collections
import logging

import trio

from otp import ChildSpec, DynamicSupervisor, Restart, monitor, telemetry
from otp import pubsub as pubsub_module
from otp import KILL, Down, ReceiveTimeout, Shutdown, current_pid, demonitor, exit, is_normal, receive, send, spawn_monitor

from . import serializer
from ._channel_server import CLOSED, Go, Joined, Leave, run_channel, start_supervised_channel
from ._message import Broadcast, Message, Reply
from ._telemetry import CHANNEL_CRASH
from .serializer import FrameError

__all__ = ["Socket", "SocketState", "ClientFrame", "TransportClosed", "MAX_CHANNELS", "STATISTICS", "disconnect"]

logger = logging.getLogger("web")

MAX_CHANNELS = 100  # per socket, as Phoenix
GOING_AWAY = 1001  # a "disconnect" broadcast (CHANNELS.md §3.9)
POLICY_VIOLATION = 1008  # over the rate limit
STATISTICS: collections.Counter = collections.Counter()  # what sockets were closed for
DUPLICATE_JOIN = Shutdown("duplicate_join")
PROTOCOL_ERROR = 1011  # close code for a client that breaks the protocol


class ClientFrame:
    """Transport → socket process: one complete frame from the client (``str`` text, ``bytes`` binary)."""

    __slots__ = ("data",)

    def __init__(self, data: str | bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"ClientFrame({self.data!r})"


class TransportClosed:
    """Transport → socket process: the connection is closed; end the channels and stop serving."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TransportClosed()"


class Socket:
    """Subclass: set ``channels`` and override ``connect`` (and ``id``).

    ``rate_limit = (per_second, burst)`` bounds the messages one client may
    send; past it the connection is closed (1008) and counted in
    ``web.socket.STATISTICS["rate_limited"]``.
    """

    channels: dict = {}
    rate_limit: tuple[float, float] = (200.0, 400.0)

    async def connect(self, params: dict, connect_info: dict) -> dict | None:
        """Accept (return the assigns, a dict) or refuse (return None) a connection."""
        return {}

    def id(self, assigns: dict) -> str | None:
        """The socket's id, for "disconnect" broadcasts; None: anonymous."""
        return None

    def route(self, topic: str):
        """The channel class for ``topic``, or None (exact keys first, then ``prefix*``)."""
        exact = self.channels.get(topic)
        if exact is not None:
            return exact
        for pattern, channel in self.channels.items():
            if pattern.endswith("*") and topic.startswith(pattern[:-1]):
                return channel
        return None


def disconnect(pubsub: str, socket_id: str) -> None:
    """Close every socket whose ``id`` is ``socket_id``, on every node (a force logout)."""
    pubsub_module.broadcast(pubsub, socket_id, Broadcast(socket_id, "disconnect", {}))


class _RateLimit:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    __slots__ = ("rate", "burst", "tokens", "last")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.last = rate, burst, burst, None

    def allow(self, now: float) -> bool:
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class _Membership:
    __slots__ = ("topic", "join_ref", "ref", "pid", "monitor", "joined", "leaving", "replaces")

    def __init__(self, topic: str, join_ref: str, ref: str, pid, monitor_ref) -> None:
        self.topic, self.join_ref, self.ref = topic, join_ref, ref
        self.pid, self.monitor = pid, monitor_ref
        self.joined = False  # True once the channel said Joined
        self.leaving = False
        self.replaces: _Membership | None = None  # a duplicate join's old membership, to close after our reply


class SocketState:
    """The channel protocol of one connection, driven by the process that owns it."""

    def __init__(self, socket: Socket, assigns: dict, transport, *, pubsub: str, channel_supervisor: object = None) -> None:
        self.socket = socket
        self.assigns = assigns
        self.transport = transport
        self.pubsub = pubsub
        self.channel_supervisor = channel_supervisor
        self.id = socket.id(assigns)
        self.by_topic: dict[str, _Membership] = {}
        self.by_ref: dict = {}  # channel monitor ref -> membership
        self.limiter = _RateLimit(*socket.rate_limit)
        if self.id is not None:
            # "disconnect" broadcasts on the socket's id close it (CHANNELS.md §3.9).
            pubsub_module.subscribe(pubsub, self.id)

    # ------------------------------------------------------------ frames from the client

    async def handle_frame(self, data: str | bytes) -> None:
        """One frame from the client. A malformed one closes the connection (1011)."""
        if not self.limiter.allow(trio.current_time()):
            logger.warning("socket %s: closing: over %s messages/s (burst %s)", self.id, *self.socket.rate_limit)
            STATISTICS["rate_limited"] += 1
            await self.close()
            self.transport.close(POLICY_VIOLATION)
            return
        try:
            message = serializer.decode_binary(data) if isinstance(data, bytes) else serializer.decode_text(data)
        except FrameError as error:
            logger.warning("socket %s: closing after a malformed frame: %s", self.id, error.reason)
            self.transport.close(PROTOCOL_ERROR)
            return
        if message.topic == "phoenix" and message.event == "heartbeat":
            self._reply(None, message, "ok", {})
        elif message.event == "phx_join":
            await self._join(message)
        elif message.event == "phx_leave":
            self._leave(message)
        else:
            self._push(message)

    async def _join(self, message: Message) -> None:
        channel = self.socket.route(message.topic) if message.topic != "phoenix" else None
        if channel is None:
            self._reply(None, message, "error", {"reason": "unmatched topic"})
            return
        old = self.by_topic.get(message.topic)
        if old is not None:
            await self._stop_duplicate(old)
        elif len(self.by_topic) >= MAX_CHANNELS:
            self._reply(message.join_ref, message, "error", {"reason": "too many channels joined"})
            return
        pid, ref = await self._start_channel(channel, message)
        membership = _Membership(message.topic, message.join_ref, message.ref, pid, ref)
        self.by_topic[message.topic] = membership
        self.by_ref[ref] = membership
        if old is not None and not old.leaving:
            membership.replaces = old  # its phx_close goes after our join's reply

    async def _start_channel(self, channel, message: Message):
        args = (channel, message, current_pid(), self.transport, self.assigns, self.id, self.pubsub)
        if self.channel_supervisor is None:
            return spawn_monitor(run_channel, *args)
        spec = ChildSpec(id=message.topic, start=(start_supervised_channel, *args), restart=Restart.TEMPORARY)
        pid = await DynamicSupervisor.start_child(self.channel_supervisor, spec)
        ref = monitor(pid)
        send(pid, Go())
        return pid, ref

    async def _stop_duplicate(self, old: _Membership) -> None:
        # CHANNELS.md §3.8: stop the old membership's process (kill it after
        # 5 s), then join anew; its phx_close follows the new join's reply.
        self._forget(old)
        exit(old.pid, DUPLICATE_JOIN)
        try:
            await receive(lambda m: m.__class__ is Down and m.ref == old.monitor, timeout=5.0)
        except ReceiveTimeout:
            exit(old.pid, KILL)
            await receive(lambda m: m.__class__ is Down and m.ref == old.monitor)

    def _leave(self, message: Message) -> None:
        membership = self.by_topic.get(message.topic)
        if membership is None:
            self._reply(message.join_ref, message, "ok", {})  # not joined: ok anyway
        elif message.join_ref is None or message.join_ref == membership.join_ref:
            membership.leaving = True
            send(membership.pid, Leave(message.ref))  # it replies, then stops: then phx_close
        # else: an older membership's leave; ignore it

    def _push(self, message: Message) -> None:
        membership = self.by_topic.get(message.topic)
        if membership is None:
            self._reply(None, message, "error", {"reason": "unmatched topic"})
        elif message.join_ref is None or message.join_ref == membership.join_ref:
            send(membership.pid, message)
        # else: stale join_ref: ignored, no reply (CHANNELS.md §3.3)

    # ------------------------------------------------------------ messages to the owning process

    def handle_info(self, message: object) -> bool:
        """A message for the protocol (channel joined or ended); False if it is not one."""
        if message.__class__ is Joined:
            membership = self.by_topic.get(message.topic)
            if membership is not None and membership.pid == message.pid:
                membership.joined = True
                self._close_replaced(membership)
            return True
        if message.__class__ is Down and message.ref in self.by_ref:
            self._channel_ended(self.by_ref[message.ref], message.reason)
            return True
        if message.__class__ is Broadcast and message.topic == self.id and message.event == "disconnect":
            self.transport.close(GOING_AWAY)
            return True
        return False

    def _channel_ended(self, membership: _Membership, reason: object) -> None:
        self._forget(membership)
        if not is_normal(reason) and telemetry.attached(CHANNEL_CRASH):
            self._emit_crash(membership, reason)
        if not membership.joined:
            if not is_normal(reason):  # died during join: CHANNELS.md §3.2
                self._reply(membership.join_ref, _join_of(membership), "error", {"reason": "join crashed"})
            self._close_replaced(membership)
            return
        if is_normal(reason):
            self._close_frame(membership)
        else:
            self._send_frame(Message(membership.join_ref, membership.join_ref, membership.topic, "phx_error", {"reason": "channel_crash"}))

    async def serve(self) -> None:
        """Run the protocol from the owning process's mailbox until the connection closes.

        Messages: :class:`ClientFrame` and :class:`TransportClosed` from the
        transport, and the channels' own (``Joined``, ``Down``, broadcasts).
        """
        while True:
            message = await receive()
            # No local for message.__class__: this frame lives as long as the
            # socket, and every local in it costs 8 bytes a connection.
            if message.__class__ is ClientFrame:
                await self.handle_frame(message.data)
            elif message.__class__ is TransportClosed:
                await self.close()
                return
            else:
                self.handle_info(message)

    async def close(self) -> None:
        """The connection is closing: end every channel (``Shutdown("closed")``), send nothing."""
        for membership in list(self.by_topic.values()):
            self._forget(membership)
            demonitor(membership.monitor, flush=True)
            exit(membership.pid, CLOSED)

    # ------------------------------------------------------------ helpers

    def _emit_crash(self, membership: _Membership, reason: object) -> None:
        metadata = {
            "topic": membership.topic,
            "pid": membership.pid,
            "socket_id": self.id,
            "reason": reason,
            "joined": membership.joined,
        }
        telemetry.execute(CHANNEL_CRASH, {}, metadata)

    def _forget(self, membership: _Membership) -> None:
        if self.by_topic.get(membership.topic) is membership:
            del self.by_topic[membership.topic]
        self.by_ref.pop(membership.monitor, None)

    def _close_replaced(self, membership: _Membership) -> None:
        if membership.replaces is not None:
            self._close_frame(membership.replaces)
            membership.replaces = None

    def _close_frame(self, membership: _Membership) -> None:
        self._send_frame(Message(membership.join_ref, membership.join_ref, membership.topic, "phx_close", {}))

    def _reply(self, join_ref, message: Message, status: str, response: dict) -> None:
        self._send_frame(Reply(join_ref, message.ref, message.topic, status, response))

    def _send_frame(self, item) -> None:
        self.transport.send(serializer.encode(item))


def _join_of(membership: _Membership) -> Message:
    return Message(membership.join_ref, membership.ref, membership.topic, "phx_join", {})


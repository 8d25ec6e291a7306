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

:class:`SocketState` is the protocol of docs/protocol/channels.md, run by the process
that owns the connection: it decodes each frame, answers heartbeats, starts
one channel process per ``phx_join``, forwards pushes and leaves to it, and
turns each channel's end into ``phx_close`` (normal) or ``phx_error``
(crash). It writes through a *transport*: any object with ``send(frame)``
(sync, never blocking; ``str`` text, ``bytes`` binary) and ``close(code)``.
The WebSocket transport's sender is one, and ``web.testing`` provides one.

The process that owns the connection drives it, one call at a time:
:meth:`~SocketState.handle_frame` for each frame the client sends,
:meth:`~SocketState.handle_info` for each message sent to the process (its
channels' ``Joined`` and ``Down``, a "disconnect" broadcast), and
:meth:`~SocketState.close` once the connection is gone. The WebSocket and
long-poll transports call them from the connection's (or the session's)
own process, as it reads (:mod:`web.transports.phoenix`): that process is
the socket's, there is no other. A transport that hands the frames to a
process of their own runs :meth:`SocketState.serve` there instead, and
feeds it two messages besides the channels' own (``web.testing`` does):

=====================  ==============================================
message                meaning
=====================  ==============================================
``ClientFrame(data)``  one complete frame from the client
``TransportClosed()``  the connection is gone: end every channel, stop
=====================  ==============================================

A channel that ends abnormally (a crash, a kill, during or after its join)
is emitted as the telemetry event ``("web", "channel", "crash")`` (see
``otp.telemetry``).

What a client may cost
----------------------
Limits apply as frames are read, so a flood is held back by TCP (the
client's writes block), never queued in a mailbox and judged after the fact:

=========================  =====================================================
limit                      what happens past it
=========================  =====================================================
one frame being handled    the process that reads is the one that handles it:
                           nothing more is read until it is (a join waiting
                           for its channel, say); nothing refused or logged
``INBOUND_FRAMES`` frames  (a transport feeding :meth:`SocketState.serve`)
or ``INBOUND_BYTES``       it stops reading until the socket process has
handed over, unhandled     handled some (:class:`InboundWindow`)
``Socket.rate_limit``      frames are read only as fast as the limit allows
(off by default)           (:class:`RateLimiter`); a client throttled without a
                           break for ``rate_limit_grace`` s is closed with 1008,
                           one warning, ``STATISTICS["rate_limited"]``
``failed_join_limit`` of   joins of that socket or address wait for the bucket
``Socket``, per socket     to refill, or are refused at once with
and per peer address       ``{"reason": "too many failed joins"}``
                           (:class:`FailedJoins`); one warning per socket
=========================  =====================================================
"""

from __future__ import annotations

import collections
import itertools
import logging
from typing import Any, ClassVar

import trio

from otp import (
    KILL,
    ChildSpec,
    Destination,
    Down,
    DynamicSupervisor,
    ReceiveTimeout,
    Restart,
    Shutdown,
    current_pid,
    demonitor,
    exit,
    is_normal,
    monitor,
    receive,
    send,
    spawn_monitor,
    telemetry,
)
from otp import pubsub as pubsub_module
from otp.log import ThrottledLogger

from . import serializer
from ._channel_server import CLOSED, Go, Joined, Leave, run_channel, start_supervised_channel
from ._message import Broadcast, Message, Reply
from ._telemetry import CHANNEL_CRASH
from .channel import Channel
from .serializer import FrameError

__all__ = [
    "Socket",
    "SocketState",
    "ClientFrame",
    "TransportClosed",
    "InboundWindow",
    "RateLimiter",
    "FailedJoins",
    "TokenBucket",
    "MAX_CHANNELS",
    "INBOUND_FRAMES",
    "INBOUND_BYTES",
    "STATISTICS",
    "disconnect",
]

logger = logging.getLogger("web.socket")
_EVERY_LINE = ThrottledLogger(logger, interval=0)  # for a SocketState given no mount's logger

MAX_CHANNELS = 100  # per socket, as Phoenix
INBOUND_FRAMES = 16  # frames handed to the socket process and not yet handled, at most (InboundWindow)
INBOUND_BYTES = 1 << 20  # ... and their characters or bytes: one more frame may pass it
GOING_AWAY = 1001  # a "disconnect" broadcast (docs/protocol/channels.md, "Disconnecting a user")
POLICY_VIOLATION = 1008  # over the rate limit for longer than its grace
TOO_MANY_FAILED_JOINS = {"reason": "too many failed joins"}
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

    Limits (class attributes; see the module's table):

    * ``rate_limit = (per_second, burst)``: the messages one client may send,
      ``None`` (the default, as in Phoenix) for no limit. Past it the
      client's frames are read only as fast as the limit allows; a client
      that is held back on every message for ``rate_limit_grace`` seconds
      running is closed with 1008 and counted in
      ``web.socket.STATISTICS["rate_limited"]``. A client that slows down,
      even for an instant, starts its grace anew.
    * ``failed_join_limit = (per_second, burst)``: joins refused by the
      channel (an ``Error`` reply, or a crash before the join's reply) that
      one socket, and all sockets of one peer address on this mount
      together, may make. A refused join takes a token; a join starts at
      once while both buckets hold one, else waits until they do (the
      socket handles nothing else meanwhile), unless that would take more
      than ``burst / per_second`` seconds: then it is refused at once with
      ``{"reason": "too many failed joins"}``, no channel started. 5/s with
      a burst of 20 lets a password be guessed about 18,000 times an hour
      from one address instead of millions, and no legitimate user ever
      fails 20 joins in a row. ``None``: no limit. Clients behind one proxy
      share its address.
    """

    channels: ClassVar[dict[str, type[Channel]]] = {}
    rate_limit: tuple[float, float] | None = None
    rate_limit_grace: float = 10.0
    failed_join_limit: tuple[float, float] | None = (5.0, 20.0)

    # params, connect_info and assigns are dicts, typed Any so that a subclass may
    # annotate them as narrowly as it likes without an override error.

    async def connect(self, params: Any, connect_info: Any) -> dict[str, Any] | None:
        """Accept (return the assigns, a dict) or refuse (return None) a connection."""
        return {}

    def id(self, assigns: Any) -> str | None:
        """The socket's id, for "disconnect" broadcasts; None: anonymous."""
        return None

    def route(self, topic: str) -> type[Channel] | None:
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


# ---------------------------------------------------------------- limits (see the module's table)


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; taking from an empty bucket goes into debt.

    Pure: the caller says what time it is.

    >>> bucket = TokenBucket(2.0, 3.0, now=0.0)
    >>> for _ in range(4):
    ...     bucket.take(now=0.0)
    >>> bucket.tokens, bucket.wait(now=0.0)  # one token owed: a whole one in 1 s
    (-1.0, 1.0)
    >>> bucket.wait(now=1.0)
    0.0
    """

    __slots__ = ("rate", "burst", "tokens", "last")

    def __init__(self, rate: float, burst: float, *, now: float) -> None:
        self.rate, self.burst, self.tokens, self.last = rate, burst, burst, now

    def refill(self, now: float) -> None:
        if now > self.last:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now

    def wait(self, now: float) -> float:
        """Seconds until the bucket holds a whole token (0.0: it does now)."""
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        """Take one token, into debt if need be (each one owed is a ``1 / rate`` s longer wait)."""
        self.refill(now)
        self.tokens -= 1

    def full(self, now: float) -> bool:
        self.refill(now)
        return self.tokens >= self.burst


class InboundWindow:
    """The frames a transport has handed to its socket process and that it has not handled yet.

    Shared by the connection process (the transport) and the socket process,
    which run one at a time, so plain counters will do. The transport calls
    :meth:`added` for each frame it sends and, when that says the window is
    full, awaits :meth:`wait_room` before reading the next one; the socket
    process calls :meth:`handled` after each. So at most ``INBOUND_FRAMES``
    frames (or ``INBOUND_BYTES`` and one frame) wait in the socket's
    mailbox, and a client sending faster than its socket works is held back
    by TCP. The transport reads again once the window is half empty, not at
    the first free place: a flood then costs one wake-up per half window,
    not one per frame.
    """

    __slots__ = ("frames", "size", "_room")

    def __init__(self) -> None:
        self.frames = 0
        self.size = 0  # characters of text frames, bytes of binary ones
        self._room: trio.Event | None = None

    def added(self, size: int) -> bool:
        """Count one more frame sent; True if the transport must now :meth:`wait_room`."""
        self.frames += 1
        self.size += size
        return self.frames >= INBOUND_FRAMES or self.size >= INBOUND_BYTES

    async def wait_room(self) -> None:
        """Until the socket process has handled half the window (always a checkpoint)."""
        self._room = trio.Event()
        await self._room.wait()

    def handled(self, size: int) -> None:
        """The socket process is done with one frame of ``size``."""
        self.frames -= 1
        self.size -= size
        if self._room is not None and self.frames <= INBOUND_FRAMES // 2 and self.size <= INBOUND_BYTES // 2:
            self._room.set()
            self._room = None


class RateLimiter:
    """``Socket.rate_limit`` as the transport reads: hold a frame back until a token is there.

    The client is *throttled* while every frame it sends finds the bucket
    empty; a frame that finds a token ends it. :meth:`admit` says False once
    a client has been throttled for ``grace`` seconds running: the transport
    closes it then.
    """

    __slots__ = ("bucket", "grace", "throttled_since")

    def __init__(self, rate_limit: tuple[float, float], grace: float) -> None:
        self.bucket = TokenBucket(*rate_limit, now=trio.current_time())
        self.grace = grace
        self.throttled_since: float | None = None

    async def admit(self) -> bool:
        """Wait until the frame just read may go on (a checkpoint only when it waits); False: close."""
        now = trio.current_time()
        wait = self.bucket.wait(now)
        if wait == 0.0:
            self.throttled_since = None
        else:
            if self.throttled_since is None:
                self.throttled_since = now
            elif now - self.throttled_since >= self.grace:
                return False
            await trio.sleep(wait)
            now = trio.current_time()
        self.bucket.take(now)
        return True


class FailedJoins:
    """The failed-join buckets of the peer addresses of one socket mount, in a bounded table.

    Only addresses that failed a join have an entry (a missing one is a full
    bucket). When ``max_addresses`` have one, the entries whose bucket
    refilled are dropped, then, if that is not a tenth of them, those that
    failed longest ago (they start again with a full bucket): an attacker
    with many addresses cannot grow the table, and each failure costs O(1)
    on average (the table is swept once per tenth of it, not at every new
    address).

    >>> table = FailedJoins(1.0, 2.0, max_addresses=2)
    >>> for _ in range(3):
    ...     table.charge("10.0.0.1", now=0.0)
    >>> table.wait("10.0.0.1", now=0.0)  # one owed
    2.0
    >>> table.charge("10.0.0.2", now=0.0)
    >>> table.charge("10.0.0.3", now=0.0)  # a third address: the oldest failure is forgotten
    >>> len(table), table.wait("10.0.0.1", now=0.0)
    (2, 0.0)
    """

    __slots__ = ("rate", "burst", "max_addresses", "_buckets")

    def __init__(self, rate: float, burst: float, *, max_addresses: int = 10_000) -> None:
        self.rate, self.burst, self.max_addresses = rate, burst, max_addresses
        self._buckets: dict[str, TokenBucket] = {}  # by last failure, oldest first

    def wait(self, address: str, now: float) -> float:
        bucket = self._buckets.get(address)
        return 0.0 if bucket is None else bucket.wait(now)

    def charge(self, address: str, now: float) -> None:
        bucket = self._buckets.pop(address, None)
        if bucket is None:
            self._make_room(now)
            bucket = TokenBucket(self.rate, self.burst, now=now)
        bucket.take(now)
        self._buckets[address] = bucket  # last: the most recent failure

    def _make_room(self, now: float) -> None:
        if len(self._buckets) < self.max_addresses:
            return
        for address in [a for a, bucket in self._buckets.items() if bucket.full(now)]:
            del self._buckets[address]
        excess = len(self._buckets) - self.max_addresses * 9 // 10
        for address in list(itertools.islice(self._buckets, max(excess, 0))):
            del self._buckets[address]  # the oldest failures first

    def __len__(self) -> int:
        return len(self._buckets)


class _Membership:
    __slots__ = ("topic", "join_ref", "ref", "pid", "monitor", "joined", "leaving", "replaces")

    def __init__(self, topic: str, join_ref: str | None, ref: str | None, pid, monitor_ref) -> None:
        self.topic, self.join_ref, self.ref = topic, join_ref, ref
        self.pid, self.monitor = pid, monitor_ref
        self.joined = False  # True once the channel said Joined
        self.leaving = False
        self.replaces: _Membership | None = None  # a duplicate join's old membership, to close after our reply


class SocketState:
    """The channel protocol of one connection, driven by the process that owns it.

    One lives as long as its connection, on every connection: it has slots,
    and keeps its memberships in a list (at most ``MAX_CHANNELS``, nearly
    always one or two), scanned by topic or by monitor: 64 bytes where a
    dict by topic and another by monitor took 464.

    Args:
        socket, assigns: the connected socket and what its ``connect`` returned.
        transport: what frames are written through (see the module docstring).
        pubsub: the PubSub the channels broadcast on.
        channel_supervisor: a DynamicSupervisor to start channels under, or None.
        window: the :class:`InboundWindow` the transport counts the frames it
            hands over in, for :meth:`serve`; None if it does not.
        peer: the client's address, whose failed joins ``failed_joins`` counts.
        failed_joins: the mount's :class:`FailedJoins`, shared by all its
            sockets; None: failed joins are counted per socket only.
        log: the mount's :class:`otp.log.ThrottledLogger`, so that a crowd of
            misbehaving sockets gives one line per cause per interval; None:
            every line is written (``web.testing``, a socket on its own).
    """

    __slots__ = (
        "socket", "log", "assigns", "transport", "pubsub", "channel_supervisor", "window", "peer",
        "failed_joins", "join_failures", "joins_slowed", "id", "memberships",
    )

    def __init__(
        self,
        socket: Socket,
        assigns: dict,
        transport,
        *,
        pubsub: str,
        channel_supervisor: Destination | None = None,
        window: InboundWindow | None = None,
        peer: str | None = None,
        failed_joins: FailedJoins | None = None,
        log: ThrottledLogger | None = None,
    ) -> None:
        self.socket = socket
        self.log = _EVERY_LINE if log is None else log  # the mount's, shared by its sockets
        self.assigns = assigns
        self.transport = transport
        self.pubsub = pubsub
        self.channel_supervisor = channel_supervisor
        self.window = window
        self.peer = peer
        self.failed_joins = failed_joins if peer is not None else None
        self.join_failures: TokenBucket | None = None  # this socket's, from its first failed join
        self.joins_slowed = False  # logged once per socket
        self.id = socket.id(assigns)
        self.memberships: list[_Membership] = []  # one per topic joined
        if self.id is not None:
            # "disconnect" broadcasts on the socket's id close it (docs/protocol/channels.md, "Disconnecting a user").
            pubsub_module.subscribe(pubsub, self.id)

    # ------------------------------------------------------------ frames from the client

    async def handle_frame(self, data: str | bytes) -> None:
        """One frame from the client.

        A frame with a readable envelope (refs, topic, event) around a payload
        we will not take (nested too deep, a lone surrogate: the table in
        :mod:`web.serializer`) gets an error reply to its ref, and the socket
        goes on; any other malformed frame closes the connection (1011).
        """
        try:
            message = serializer.decode_binary(data) if isinstance(data, bytes) else serializer.decode_text(data)
        except serializer.PayloadError as error:
            # A readable envelope around a payload we will not take (too deep, a lone
            # surrogate): answer that message only; the connection and its channels go on.
            self._send_frame(Reply(error.join_ref, error.ref, error.topic, "error", {"reason": error.reason}))
            return
        except FrameError as error:
            self.log.warning(
                "malformed_frame", "socket %s: closing after a malformed frame: %s", self.id, error.reason, detail=self.peer or ""
            )
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
        if not await self._may_join(message):
            self._reply(message.join_ref, message, "error", TOO_MANY_FAILED_JOINS)
            return
        old = self._membership_of(message.topic)
        if old is not None:
            await self._stop_duplicate(old)
        elif len(self.memberships) >= MAX_CHANNELS:
            self._reply(message.join_ref, message, "error", {"reason": "too many channels joined"})
            return
        pid, ref = await self._start_channel(channel, message)
        membership = _Membership(message.topic, message.join_ref, message.ref, pid, ref)
        self.memberships.append(membership)
        if old is not None and not old.leaving:
            membership.replaces = old  # its phx_close goes after our join's reply

    async def _start_channel(self, channel, message: Message):
        args = (current_pid(), self.transport, self.assigns, self.id, self.pubsub)
        if self.channel_supervisor is None:
            return spawn_monitor(run_channel, channel, message, *args)
        spec = ChildSpec(id=message.topic, start=(start_supervised_channel, channel, *args), restart=Restart.TEMPORARY)
        pid = await DynamicSupervisor.start_child(self.channel_supervisor, spec)
        assert pid is not None  # (start_supervised_channel starts a process: it never ignores)
        ref = monitor(pid)
        send(pid, Go(message))  # the join, once we watch it (not in the spec: its supervisor keeps that)
        return pid, ref

    async def _stop_duplicate(self, old: _Membership) -> None:
        # docs/protocol/channels.md, "Duplicate joins": stop the old membership's process (kill it after
        # 5 s), then join anew; its phx_close follows the new join's reply.
        self._forget(old)
        exit(old.pid, DUPLICATE_JOIN)
        try:
            down = await receive(lambda m: m.__class__ is Down and m.ref == old.monitor, timeout=5.0)
        except ReceiveTimeout:
            exit(old.pid, KILL)
            await receive(lambda m: m.__class__ is Down and m.ref == old.monitor)
            return
        # Race: a client joining again at once must not get its first join's
        # refusal for free. (Our exit waits in the mailbox of a channel still
        # in its join: it ends by itself, normally when refused.)
        if not old.joined and down.reason != DUPLICATE_JOIN:
            self._join_failed()

    def _leave(self, message: Message) -> None:
        membership = self._membership_of(message.topic)
        if membership is None:
            self._reply(message.join_ref, message, "ok", {})  # not joined: ok anyway
        elif message.join_ref is None or message.join_ref == membership.join_ref:
            membership.leaving = True
            send(membership.pid, Leave(message.ref))  # it replies, then stops: then phx_close
        # else: an older membership's leave; ignore it

    def _push(self, message: Message) -> None:
        membership = self._membership_of(message.topic)
        if membership is None:
            self._reply(None, message, "error", {"reason": "unmatched topic"})
        elif message.join_ref is None or message.join_ref == membership.join_ref:
            send(membership.pid, message)
        # else: stale join_ref: ignored, no reply (docs/protocol/channels.md, "Pushes and replies")

    # ------------------------------------------------------------ messages to the owning process

    def handle_info(self, message: object) -> bool:
        """A message for the protocol (channel joined or ended); False if it is not one."""
        if message.__class__ is Joined:
            membership = self._membership_of(message.topic)
            if membership is not None and membership.pid == message.pid:
                membership.joined = True
                self._close_replaced(membership)
            return True
        if message.__class__ is Down:
            membership = self._membership_monitored_by(message.ref)
            if membership is None:
                return False  # not one of our channels' (a forgotten one's: see _stop_duplicate)
            self._channel_ended(membership, message.reason)
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
            self._join_failed()
            if not is_normal(reason):  # died during join: docs/protocol/channels.md, "Joining"
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
                if self.window is not None:
                    self.window.handled(len(message.data))
            elif message.__class__ is TransportClosed:
                await self.close()
                return
            else:
                self.handle_info(message)

    async def close(self) -> None:
        """The connection is closing: end every channel (``Shutdown("closed")``), send nothing."""
        for membership in list(self.memberships):
            self._forget(membership)
            demonitor(membership.monitor, flush=True)
            exit(membership.pid, CLOSED)

    # ------------------------------------------------------------ failed joins (Socket.failed_join_limit)

    async def _may_join(self, message: Message) -> bool:
        """Wait until this socket and its address may try a join; False: refuse it at once."""
        limit = self.socket.failed_join_limit
        if limit is None:
            return True
        now = trio.current_time()
        wait = self.join_failures.wait(now) if self.join_failures is not None else 0.0
        if self.failed_joins is not None and self.peer is not None:
            wait = max(wait, self.failed_joins.wait(self.peer, now))
        if wait == 0.0:
            return True
        self._log_joins_slowed(limit)
        per_second, burst = limit
        if wait > burst / per_second:
            return False
        await trio.sleep(wait)
        return True

    def _join_failed(self) -> None:
        limit = self.socket.failed_join_limit
        if limit is None:
            return
        now = trio.current_time()
        if self.join_failures is None:
            self.join_failures = TokenBucket(*limit, now=now)
        self.join_failures.take(now)
        if self.failed_joins is not None and self.peer is not None:
            self.failed_joins.charge(self.peer, now)

    def _log_joins_slowed(self, limit: tuple[float, float]) -> None:
        if not self.joins_slowed:
            self.joins_slowed = True
            self.log.warning(
                "joins_slowed",
                "socket %s (peer %s): slowing its joins: too many failed joins (failed_join_limit %s/s, burst %s)",
                self.id, self.peer, *limit, detail=self.peer or "",
            )

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
        if membership in self.memberships:
            self.memberships.remove(membership)

    def _membership_of(self, topic: str) -> _Membership | None:
        for membership in self.memberships:
            if membership.topic == topic:
                return membership
        return None

    def _membership_monitored_by(self, ref) -> _Membership | None:
        for membership in self.memberships:
            if membership.monitor == ref:
                return membership
        return None

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


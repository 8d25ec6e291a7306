"""The Redis adapter: PubSub across nodes through a Redis server (extra ``redis``).

Like Phoenix.PubSub.Redis: every node publishes its broadcasts to one Redis
channel per PubSub and subscribes to it, plus one channel of its own for
``direct_broadcast``. Each node holds two connections: one publishing, one
subscribed. Run a node with it::

    from otp import pubsub
    from otp.pubsub.redis import Redis

    await pubsub.start_link("chat", adapter=Redis(port=6379, secret=b"shared secret", node_name="web-1"))

Trust boundary
--------------
Messages cross Redis pickled (``pickle``, or ``cloudpickle`` for what plain
pickle cannot carry), and unpickling runs code. So a frame is signed:
``version byte + HMAC-SHA256(secret, body) + body``, the body being the
origin node's name (length-prefixed) then the pickle, and a node unpickles
only frames whose HMAC verifies with its ``secret``. Only nodes that share the Redis server *and* the secret can talk;
anyone who can write to the Redis channel but lacks the secret is ignored
(and counted in ``statistics().dropped["bad_signature"]``). Keep the secret
secret, and Redis on a private network.

When Redis goes away
--------------------
Both connections reconnect with exponential backoff. Meanwhile broadcasts
are queued, up to ``max_pending``; beyond that ``broadcast`` raises
:class:`RedisUnavailable` and the refusal is counted
(``dropped["queue_full"]``): a broadcast is never silently lost on this node.
A frame stays queued until Redis acknowledges its PUBLISH, so a connection
that breaks mid-write resends it (at-least-once). Redis's own pub/sub does
not store messages: a node whose subscription is down at the moment of a
PUBLISH misses it. So after Redis comes back, the queue is flushed only once
as many nodes have resubscribed as were receiving before (or after
``resubscribe_wait``), and PUBLISH's receiver count is checked: a broadcast
that reached fewer nodes than before is counted
(``dropped["fewer_receivers"]``) and logged, never lost in silence.

Telemetry
---------
Every change of these counters is also an event (see ``otp.telemetry``):
``("otp", "pubsub", "redis", "reconnect")`` when a connection comes back
(``reconnects``; metadata ``pubsub``, ``node_name``, ``role``) and
``("otp", "pubsub", "redis", "drop")`` for each dropped or refused frame
(``dropped``: the total for that reason; metadata ``reason`` too).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import itertools
import logging
import os
import pickle
import socket

import attrs
import cloudpickle
import trio

from .. import telemetry
from .._child_spec import ChildSpec, ChildType, Restart
from .._kernel import OTPError, WouldBlock, current_pid, receive, receive_nowait, register, send, spawn_link
from ..supervisor import Strategy, Supervisor
from ._dispatch import local_broadcast
from ._resp import Connection, RedisError, pack

__all__ = ["Redis", "RedisUnavailable", "RedisStatistics"]

logger = logging.getLogger("otp.pubsub.redis")

_VERSION = b"\x01"
_DIGEST = 32

RECONNECT = ("otp", "pubsub", "redis", "reconnect")  # telemetry events
DROP = ("otp", "pubsub", "redis", "drop")


def _pickle(value: object) -> bytes:
    # Plain pickle is four times faster; cloudpickle is for what it cannot
    # do (lambdas, classes defined in __main__). Both load with pickle.loads.
    try:
        return pickle.dumps(value, protocol=5)
    except (pickle.PicklingError, TypeError, AttributeError):
        return cloudpickle.dumps(value, protocol=5)


class RedisUnavailable(OTPError):
    """A broadcast was refused: Redis is unreachable and the queue is full."""


@attrs.frozen
class RedisStatistics:
    """A snapshot of one adapter's traffic and health."""

    node_name: str
    publisher_connected: bool
    subscriber_connected: bool
    published: int
    received: int
    pending: int
    reconnects: int
    dropped: dict


class _Wake:
    """Tells the publisher process that its queue is no longer empty."""

    __slots__ = ()


_WAKE = _Wake()


class Redis:
    """A PubSub adapter carrying broadcasts between nodes through Redis.

    Args:
        host, port: the Redis server.
        secret: shared by all nodes; frames are HMAC-signed with it (required).
        node_name: this node's name (default: hostname-pid-random).
        prefix: prefix of the Redis channel names.
        max_pending: broadcasts queued while Redis is unreachable.
        backoff: (first, max) seconds between reconnection attempts.
        resubscribe_wait: after Redis comes back, how long queued broadcasts
            wait for the other nodes to resubscribe before they are sent.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        *,
        secret: bytes,
        node_name: str | None = None,
        prefix: str = "otp",
        max_pending: int = 10_000,
        backoff: tuple[float, float] = (0.05, 2.0),
        resubscribe_wait: float = 5.0,
    ) -> None:
        if not isinstance(secret, bytes) or len(secret) < 8:
            raise ValueError("Redis adapter: secret must be bytes, at least 8 long, shared by every node")
        self.host, self.port = host, port
        self.secret = secret
        self.node_name = node_name or f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"
        self._origin = self.node_name.encode()
        if len(self._origin) > 255:
            raise ValueError(f"Redis adapter: node_name must be at most 255 bytes; got {len(self._origin)}")
        self.prefix = prefix
        self.max_pending = max_pending
        self.backoff = backoff
        self.resubscribe_wait = resubscribe_wait
        self._queue: collections.deque[tuple[bytes, bytes]] = collections.deque()  # (channel, frame)
        self._publisher_name: str | None = None
        self._pubsub: str | None = None  # the PubSub's name, once child_spec is asked for
        self._publisher_pid = None
        self._published = 0
        self._received = 0
        self._reconnects = 0
        self._connected = {"publisher": False, "subscriber": False}
        self._dropped: collections.Counter = collections.Counter()
        self._max_receivers = 0
        self._waiters: list[tuple[bool, trio.Event]] = []
        self._ever_connected = {"publisher": False, "subscriber": False}

    def __repr__(self) -> str:
        return f"Redis({self.host!r}, {self.port}, node_name={self.node_name!r})"

    # ------------------------------------------------------------ the adapter protocol

    def child_spec(self, pubsub: str) -> ChildSpec:
        self._publisher_name = f"{pubsub}.redis_publisher"
        self._pubsub = pubsub

        async def start() -> object:
            children = [
                ChildSpec(id="publisher", start=(_start_worker, _publisher, self, pubsub)),
                ChildSpec(id="subscriber", start=(_start_worker, _subscriber, self, pubsub)),
            ]
            return await Supervisor.start_link(children, strategy=Strategy.ONE_FOR_ONE, max_restarts=10, max_seconds=1.0)

        return ChildSpec(id="redis", start=(start,), type=ChildType.SUPERVISOR, restart=Restart.PERMANENT)

    def broadcast(self, pubsub: str, topic: str, message: object, dispatcher: object) -> None:
        self._enqueue(self._channel(pubsub), self._encode(topic, message, dispatcher))

    def direct_broadcast(self, pubsub: str, node_name: str, topic: str, message: object, dispatcher: object) -> None:
        if node_name == self.node_name:
            local_broadcast(pubsub, topic, message, dispatcher=dispatcher)
        else:
            self._enqueue(self._channel(pubsub, node_name), self._encode(topic, message, dispatcher))

    async def wait_connected(self, connected: bool = True) -> None:
        """Wait until both connections are up (or, with False, until one is down)."""
        if self._is_connected() != connected:
            event = trio.Event()
            self._waiters.append((connected, event))
            await event.wait()

    def _is_connected(self) -> bool:
        return self._connected["publisher"] and self._connected["subscriber"]

    def _set_connected(self, role: str, up: bool) -> None:
        if up:
            if self._ever_connected[role]:
                self._reconnects += 1
                if telemetry.attached(RECONNECT):
                    metadata = {"pubsub": self._pubsub, "node_name": self.node_name, "role": role}
                    telemetry.execute(RECONNECT, {"reconnects": self._reconnects}, metadata)
            self._ever_connected[role] = True
        self._connected[role] = up
        state = self._is_connected()
        waiting = self._waiters
        self._waiters = [(want, event) for want, event in waiting if want != state]
        for want, event in waiting:
            if want == state:
                event.set()

    def _drop(self, reason: str) -> None:
        """Count a frame dropped (or a broadcast refused) for ``reason``, and emit it."""
        self._dropped[reason] += 1
        if telemetry.attached(DROP):
            metadata = {"pubsub": self._pubsub, "node_name": self.node_name, "reason": reason}
            telemetry.execute(DROP, {"dropped": self._dropped[reason]}, metadata)

    def statistics(self) -> RedisStatistics:
        return RedisStatistics(
            node_name=self.node_name,
            publisher_connected=self._connected["publisher"],
            subscriber_connected=self._connected["subscriber"],
            published=self._published,
            received=self._received,
            pending=len(self._queue),
            reconnects=self._reconnects,
            dropped=dict(self._dropped),
        )

    # ------------------------------------------------------------ frames

    def _channel(self, pubsub: str, node_name: str | None = None) -> bytes:
        base = f"{self.prefix}:{pubsub}"
        return (base if node_name is None else f"{base}:node:{node_name}").encode()

    def _encode(self, topic: str, message: object, dispatcher: object) -> bytes:
        # The origin node travels in clear before the pickle (still under the
        # HMAC), so a node drops its own broadcasts without unpickling them.
        origin = self._origin
        body = len(origin).to_bytes(1, "big") + origin + _pickle((topic, message, dispatcher))
        return _VERSION + hmac.digest(self.secret, body, hashlib.sha256) + body

    def _decode(self, frame: bytes) -> tuple | None:
        """``(origin, topic, message, dispatcher)``, or None for a frame to drop (counted)."""
        if len(frame) < 2 + _DIGEST or frame[:1] != _VERSION:
            self._drop("bad_frame")
            return None
        digest, body = frame[1 : 1 + _DIGEST], frame[1 + _DIGEST :]
        if not hmac.compare_digest(digest, hmac.digest(self.secret, body, hashlib.sha256)):
            self._drop("bad_signature")
            logger.warning("%r: dropped a frame with a bad signature (wrong secret?)", self)
            return None
        length = body[0]
        origin = body[1 : 1 + length].decode()
        return (origin, *pickle.loads(body[1 + length :]))

    def _is_own(self, frame: bytes) -> bool:
        """A frame this node published (checked before any decoding)."""
        start = 1 + _DIGEST
        origin = self._origin
        return frame[start : start + 1 + len(origin)] == len(origin).to_bytes(1, "big") + origin

    def _enqueue(self, channel: bytes, frame: bytes) -> None:
        # The bound is for the time Redis is away (either connection down:
        # the publisher only notices when it next writes). Connected, the
        # queue is only the frames in flight, and the publisher drains it.
        if not self._is_connected() and len(self._queue) >= self.max_pending:
            self._drop("queue_full")
            raise RedisUnavailable(
                f"broadcast refused: Redis at {self.host}:{self.port} is unreachable and "
                f"{len(self._queue)} broadcasts are already waiting (max_pending={self.max_pending})"
            )
        was_empty = not self._queue
        self._queue.append((channel, frame))
        if was_empty and self._publisher_pid is not None:
            # By pid, not name: this may run outside any process (a node's
            # root ending). A dead publisher drops it; its successor flushes.
            send(self._publisher_pid, _WAKE)

    # ------------------------------------------------------------ connections

    async def _connect(self, role: str) -> Connection:
        """Connect, retrying with exponential backoff until Redis answers."""
        delay, limit = self.backoff
        attempt = 0
        while True:
            try:
                connection = await Connection.open(self.host, self.port)
            except OSError as error:
                if attempt == 0:
                    logger.warning("%r %s: cannot reach Redis (%s); retrying", self, role, error)
                attempt += 1
                await trio.sleep(delay)
                delay = min(delay * 2, limit)
                continue
            if attempt:
                logger.warning("%r %s: connected to Redis after %d failed attempts", self, role, attempt)
            return connection


async def _start_worker(worker, adapter: Redis, pubsub: str) -> object:
    return spawn_link(worker, adapter, pubsub)


async def _publisher(adapter: Redis, pubsub: str) -> None:
    register(adapter._publisher_name, current_pid())
    adapter._publisher_pid = current_pid()
    queue = adapter._queue
    while True:
        connection = await adapter._connect("publisher")
        adapter._set_connected("publisher", True)
        try:
            if queue:
                await _wait_for_subscribers(adapter, connection, pubsub)
            await _publish_until_broken(adapter, connection, queue)
        except (OSError, RedisError, trio.BrokenResourceError, trio.ClosedResourceError) as error:
            logger.warning("%r publisher: connection lost (%s); %d broadcasts queued", adapter, error, len(queue))
        finally:
            adapter._set_connected("publisher", False)
            await connection.aclose()


async def _wait_for_subscribers(adapter: Redis, connection: Connection, pubsub: str) -> None:
    """After Redis came back, give the other nodes time to resubscribe before flushing.

    Redis keeps no messages for subscribers that are not connected, so what
    we queued while it was away would reach only the nodes that happened to
    reconnect first. Wait (bounded by ``resubscribe_wait``) until as many
    subscribers are back as we have seen receive before; whatever is still
    missing after that is counted as ``fewer_receivers``, not lost silently.
    """
    channel = adapter._channel(pubsub)
    deadline = trio.current_time() + adapter.resubscribe_wait
    while adapter._max_receivers and trio.current_time() < deadline:
        await connection.send(pack(b"PUBSUB", b"NUMSUB", channel))
        _, count = await connection.read()
        if count >= adapter._max_receivers:
            return
        await trio.sleep(0.02)  # Redis cannot tell us when a subscriber arrives: ask again


async def _publish_until_broken(adapter: Redis, connection: Connection, queue: collections.deque) -> None:
    while True:
        if not queue:
            await receive(lambda m: m is _WAKE)
            continue
        batch = list(itertools.islice(queue, 1000))
        await connection.send(b"".join(pack(b"PUBLISH", channel, frame) for channel, frame in batch))
        for channel, _ in batch:
            receivers = await connection.read()
            queue.popleft()  # acknowledged: only now is it off our hands
            adapter._published += 1
            _count_receivers(adapter, channel, receivers)
        while True:  # drop wake-ups for what this batch already sent
            try:
                receive_nowait(lambda m: m is _WAKE)
            except WouldBlock:
                break


def _count_receivers(adapter: Redis, channel: bytes, receivers: int) -> None:
    if b":node:" in channel:
        if receivers == 0:
            adapter._drop("no_such_node")
        return
    if receivers < adapter._max_receivers:
        adapter._drop("fewer_receivers")
        logger.warning(
            "%r: a broadcast reached %d subscribed nodes, %d before: some node missed it",
            adapter, receivers, adapter._max_receivers,
        )
    # Follow the count down too: a node that left for good is reported once.
    adapter._max_receivers = receivers


async def _subscriber(adapter: Redis, pubsub: str) -> None:
    channels = [adapter._channel(pubsub), adapter._channel(pubsub, adapter.node_name)]
    while True:
        connection = await adapter._connect("subscriber")
        try:
            await connection.send(pack(b"SUBSCRIBE", *channels))
            for _ in channels:
                await connection.read()  # the subscribe confirmations
            adapter._set_connected("subscriber", True)
            await _deliver_until_broken(adapter, connection, pubsub)
        except (OSError, RedisError, trio.BrokenResourceError, trio.ClosedResourceError) as error:
            logger.warning("%r subscriber: connection lost (%s)", adapter, error)
        finally:
            adapter._set_connected("subscriber", False)
            await connection.aclose()


async def _deliver_until_broken(adapter: Redis, connection: Connection, pubsub: str) -> None:
    own = adapter._channel(pubsub)
    while True:
        kind, channel, frame = await connection.read()
        if kind != b"message":
            continue
        if channel == own and adapter._is_own(frame):
            continue  # our own broadcast: already delivered locally
        decoded = adapter._decode(frame)
        if decoded is None:
            continue
        origin, topic, message, dispatcher = decoded
        adapter._received += 1
        local_broadcast(pubsub, topic, message, dispatcher=dispatcher)



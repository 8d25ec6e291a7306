"""The Redis adapter: PubSub across nodes through a Redis server (extra ``redis``).

Like Phoenix.PubSub.Redis: every node publishes its broadcasts to one Redis
channel per PubSub and subscribes to it, plus one channel of its own for
``direct_broadcast``. Each node holds two connections: one publishing, one
subscribed. Run a node with it::

    from otp import pubsub
    from otp.pubsub.redis import Redis

    await pubsub.start_link("chat", adapter=Redis(port=6379, secret=b"shared secret", node_name="web-1"))

Connecting
----------
Where Redis is, and how to get in, is a host and a port, or a URL, or
:class:`RedisSettings` (what the URL is parsed into)::

    redis://host:6379                  no password (a Redis on a private network)
    redis://:password@host             AUTH password (Redis's requirepass)
    redis://user:password@host/2       AUTH user password (an ACL user), then SELECT 2
    rediss://user:password@host:6380   the same over TLS, the server's certificate
                                       verified against the system's CAs, and its host name
    rediss://host?ca_file=/etc/redis/ca.pem&cert_file=/etc/redis/client.pem&key_file=/etc/redis/client.key
                                       a private CA, and a client certificate for a server
                                       that requires one (tls-auth-clients yes)

The query options are ``ca_file``, ``cert_file``, ``key_file``,
``check_hostname``, ``verify`` (``true``/``false``; ``verify=false``
accepts any certificate, for providers that give none to check) and
``connect_timeout`` (seconds, default 10). A hosted Redis hands out a URL;
keep it out of the code::

    import os
    from otp.pubsub.redis import Redis, RedisSettings

    settings = RedisSettings.from_url(os.environ["REDIS_URL"])  # "rediss://default:...@eu1-redis.example.net:6380"
    await pubsub.start_link("chat", adapter=Redis(settings, secret=os.environb[b"CLUSTER_SECRET"]))

``RedisSettings(...)`` takes the same as keywords, and ``ssl_context=`` for
a ready :class:`ssl.SSLContext`. ``otp.dist.start(name, redis=...)`` takes
either as well. The password never appears in a repr, a log line or an
error. A refused password raises (and logs) :class:`RedisAuthError` naming
the user and the server; a certificate that does not verify,
:class:`RedisTLSError`. The adapter keeps retrying either, with its
backoff, not in a loop, so a password fixed in Redis (``ACL SETUSER``) is
picked up at the next attempt.

What an ACL user needs: the pub/sub commands and the channels under the
adapter's ``prefix`` (``ACL SETUSER app on >password resetchannels
&otp:* +@pubsub``, and ``+select`` for a database other than 0; the tests
run the adapter and ``otp.dist`` as exactly that user). Redis's pub/sub
channels are shared by all databases of a server: two clusters on one
Redis are kept apart by ``prefix``, not by the database.

Trust boundary
--------------
Messages cross Redis pickled (``pickle``, or ``cloudpickle`` for what plain
pickle cannot carry), and unpickling runs code. So a frame is signed:
``version byte + HMAC-SHA256(secret, body) + body``, and a node unpickles
only frames whose HMAC verifies with its ``secret``. Only nodes that share the Redis server *and* the secret can talk;
anyone who can write to the Redis channel but lacks the secret is ignored
(and counted in ``statistics().dropped["bad_signature"]``). Keep the secret
secret, and Redis on a private network.

The body (version 2) is the origin node's name (one length byte, then the
name), then a kind byte (``B`` a broadcast, ``D`` a direct broadcast, ``H``
a heartbeat, ``G`` a goodbye), the origin's incarnation (8 bytes, random
for each adapter, so a restarted node is told apart) and a sequence number
(8 bytes), then the pickle of ``(topic, message, dispatcher)`` (nothing for
``H`` and ``G``). Nodes of this version read version 1 frames too (no
sequence: never counted as missed); a version 1 node drops version 2
frames as ``bad_frame``, counted, without unpickling them.

When Redis goes away
--------------------
Both connections reconnect with exponential backoff. Meanwhile broadcasts
are queued, up to ``max_pending``; beyond that ``broadcast`` raises
:class:`RedisUnavailable` and the refusal is counted
(``dropped["queue_full"]``): a broadcast is never silently lost on this node.
A frame stays queued until Redis acknowledges its PUBLISH, so a connection
that breaks mid-write resends it; a receiver that already had it drops the
copy by its sequence number (``dropped["duplicate"]``). Redis's own pub/sub
does not store messages: a node whose subscription is down at the moment
of a PUBLISH misses it. So after Redis comes back, the queue is flushed
only once the nodes known to be up have resubscribed (or after
``resubscribe_wait``), and whatever is missed is counted, as below.

When this node is cut off
-------------------------
A node that hears nothing from another cannot tell, from that alone,
whether the other went away or it itself lost the bus. So the adapter
watches its own frames: each one it publishes (a heartbeat at least
every ``heartbeat`` seconds) comes back to its own subscriber through
Redis. While both connections are up and they keep coming back, the bus
works for this node, and another node's silence means something about
that node. When a connection goes down, or its own frames stop coming
back for ``2 × heartbeat`` seconds (Redis restarted, stopped, refusing
clients or unreachable; this OS process stopped or starved), it does
not, and :meth:`Redis.silence_counts_from` says None. When they come back,
silence counts afresh: from then, or, if a connection of ours was down,
from then plus ``backoff[1]`` (the other nodes' connections may come back
up to that much later than ours). ``otp.dist``
declares a node down, and a Tracker a replica, only on silence counted
this way; the telemetry event ``bus_back`` says when it starts (again).

Counting what is lost
---------------------
A broadcast is never lost in silence. Every node publishes a heartbeat
every ``heartbeat`` seconds on the PubSub's channel, carrying the number of
its last broadcast; each of its broadcasts carries the next number. So:

======================  ====================================================================
who counts              what
======================  ====================================================================
the receiving node      every broadcast of another node it did not get: a gap in that
                        node's numbers, seen at its next broadcast or heartbeat (at most
                        ``heartbeat`` seconds later). Exact, and by origin:
                        ``statistics().missed`` (origin node → count), the telemetry
                        event ``missed``, a log line. Counted from the first frame the
                        receiver heard of that node's run (a later restart is a new run)
the publishing node     every broadcast whose PUBLISH reached fewer subscribers than the
                        nodes expected (this one, if subscribed, plus every node heard
                        from): ``dropped["fewer_receivers"]``, once per short broadcast.
                        Redis's count at the PUBLISH: an early signal, not exact (a
                        subscriber killed in the same instant is still counted by Redis,
                        a subscriber that is no node of ours fills a missing one's place)
======================  ====================================================================

A node is expected from its first frame until it is gone: it said goodbye
(its publisher, being stopped, sends one; at most half a second is spent
on it), or nothing came from it for ``node_timeout`` seconds while this
node was subscribed (a log line). Either way the telemetry event
``node_gone`` says so, and a frame from it later makes it expected again.
``statistics().nodes`` lists the other nodes expected now. Direct
broadcasts are not numbered: one that reaches no subscriber is counted as
``dropped["no_such_node"]``.

Log lines are bounded whatever happens: at most one line per
``log_interval`` seconds per cause (missed broadcasts, short broadcasts,
bad signatures, connections lost or refused, reconnections, silent
nodes), the first at once, then one with the count of what followed, by
origin or by detail. So while Redis refuses this node (``ERR max number of
clients reached``), it writes two lines at once (the connection refused,
the broadcasts that reached too few) and then two per ``log_interval``,
whatever the number of attempts; each attempt still waits for the
backoff.

Telemetry
---------
Every change of these counters is also an event (see ``otp.telemetry``):
``("otp", "pubsub", "redis", "reconnect")`` when a connection comes back
(``reconnects``; metadata ``pubsub``, ``node_name``, ``role``),
``("otp", "pubsub", "redis", "drop")`` for each dropped or refused frame
(``dropped``: the total for that reason; metadata ``reason`` too, and for
``fewer_receivers`` also ``expected`` and ``receivers``),
``("otp", "pubsub", "redis", "missed")`` for each gap a receiver finds
(``missed``: the gap, ``total``: all missed from that origin; metadata
``pubsub``, ``node_name``, ``origin``) and ``("otp", "pubsub", "redis",
"node_gone")`` when a node stops being expected (metadata ``pubsub``,
``node_name``, ``node``, ``reason``: ``"goodbye"`` or ``"silent"``), and
``("otp", "pubsub", "redis", "connect_failed")`` for each attempt to
connect that failed (``failures``: in a row for that connection,
``retry_in``: seconds until the next; metadata ``pubsub``, ``node_name``,
``role``, ``error``: the exception, such as :class:`RedisAuthError`), and
``("otp", "pubsub", "redis", "bus_back")`` when this node's own frames come
back through Redis, the first time and after a break
(``silence_counts_from``; metadata ``pubsub``, ``node_name``).

The log lines go to the logger ``otp.pubsub.redis`` (``logger=`` names
another; ``otp.dist``'s own adapter logs as ``otp.dist.redis``), each
naming its adapter: host, port, node and PubSub.
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
import struct
from collections.abc import Awaitable, Callable

import attrs
import cloudpickle
import trio

from .. import telemetry
from .._child_spec import ChildSpec, ChildType, Restart
from .._kernel import (
    OTPError,
    Pid,
    WouldBlock,
    current_pid,
    receive,
    receive_nowait,
    register,
    send,
    send_after,
    spawn_link,
)
from .._util import fixup_module_metadata as _fixup_module_metadata
from ..log import LogThrottle, Summary
from ..supervisor import Strategy, Supervisor
from ._dispatch import Dispatcher, local_broadcast
from ._resp import (
    Connection,
    RedisAuthError,
    RedisError,
    RedisReplyError,
    RedisSettings,
    RedisTLSError,
    pack,
    redis_settings,
)

__all__ = [
    "Redis",
    "RedisSettings",
    "RedisUnavailable",
    "RedisStatistics",
    "RedisError",
    "RedisReplyError",
    "RedisAuthError",
    "RedisTLSError",
]

_VERSION_1 = b"\x01"  # no kind, incarnation or sequence: read, never written
_VERSION = b"\x02"
_DIGEST = 32
_HEADER = struct.Struct(">cQQ")  # kind, incarnation, sequence: right after the origin's name

# Frame kinds. Only broadcasts are numbered; a heartbeat or goodbye carries the
# number of the origin's last broadcast, which is how a receiver finds a gap at
# the end of a burst, and a direct broadcast carries 0.
BROADCAST, DIRECT, HEARTBEAT, GOODBYE = b"B", b"D", b"H", b"G"
_KINDS = (BROADCAST, DIRECT, HEARTBEAT, GOODBYE)

RECONNECT = ("otp", "pubsub", "redis", "reconnect")  # telemetry events
DROP = ("otp", "pubsub", "redis", "drop")
MISSED = ("otp", "pubsub", "redis", "missed")
NODE_GONE = ("otp", "pubsub", "redis", "node_gone")
CONNECT_FAILED = ("otp", "pubsub", "redis", "connect_failed")
BUS_BACK = ("otp", "pubsub", "redis", "bus_back")

MAX_ORIGINS = 10_000  # nodes whose numbering a receiver remembers (a sanity bound: only signed frames add one)
_DETAILS_SHOWN = 10  # distinct details (origins, errors) in one log line; the rest are summed as "others"
_GOODBYE_TIMEOUT = 0.5  # seconds a stopping adapter spends on its goodbye at most


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
    """A snapshot of one adapter's traffic and health.

    ``published`` and ``received`` count broadcasts (heartbeats and
    goodbyes are not); ``missed`` is origin node → broadcasts of it this
    node never got; ``nodes`` the other nodes expected to receive now.
    """

    node_name: str
    publisher_connected: bool
    subscriber_connected: bool
    published: int
    received: int
    pending: int
    reconnects: int
    dropped: dict
    missed: dict = attrs.field(factory=dict)
    nodes: tuple = ()


@attrs.frozen
class _Frame:
    """A frame that passed its signature check, its pickle not yet loaded."""

    origin: str
    kind: bytes
    incarnation: int
    sequence: int
    payload: bytes


@attrs.define
class _Origin:
    """What a receiver knows of one other node: its run, its last broadcast number, when it was heard."""

    incarnation: int
    last: int | None  # None until a numbered frame of this run is heard
    heard_at: float
    expected: bool = True


class _Wake:
    """Tells the publisher process that its queue is no longer empty."""

    __slots__ = ()


class _Beat:
    """The publisher's timer: heartbeat, judge silent nodes, write held log lines."""

    __slots__ = ()


class _Announce:
    """Say we are here now, not at the next beat: our subscription just came up, or a newcomer spoke."""

    __slots__ = ()


_WAKE, _BEAT, _ANNOUNCE = _Wake(), _Beat(), _Announce()


class _LogLines:
    """At most one log line per ``interval`` seconds per cause (an :class:`otp.log.LogThrottle` each).

    The first at once, then the count of the rest; causes and their lines
    are in ``_LINES``; each note may name a detail (an origin node, an error)
    and the line sums the notes by detail.
    """

    def __init__(self, owner: object, interval: float, logger: logging.Logger) -> None:
        self.owner = owner
        self.interval = interval
        self.logger = logger
        self._throttles: dict[str, LogThrottle] = {}

    def note(self, cause: str, count: int = 1, detail: str = "") -> None:
        throttle = self._throttles.get(cause)
        if throttle is None:
            throttle = self._throttles[cause] = LogThrottle(self.interval, details_shown=_DETAILS_SHOWN)
        self._write(cause, throttle.note(trio.current_time(), count, detail))

    def flush(self) -> None:
        """Write the held lines whose interval has passed."""
        now = trio.current_time()
        for cause, throttle in self._throttles.items():
            self._write(cause, throttle.flush(now))

    def _write(self, cause: str, summary: Summary | None) -> None:
        if summary is not None:
            details = summary.describe()
            line = "%r: %s: %d%s"
            self.logger.warning(line, self.owner, _LINES[cause], summary.count, f" ({details})" if details else "")


_LINES = {
    "missed": "broadcasts of other nodes missed (gaps in their numbers; by origin)",
    "fewer_receivers": "broadcasts that reached fewer subscribed nodes than expected (expected/reached)",
    "bad_signature": "frames dropped for a bad signature (wrong secret?)",
    "silent_nodes": "nodes silent for node_timeout, no longer expected",
    # One cause for both connections, lost or refused: while Redis is away or
    # refuses us, an adapter writes one line at once, then one per interval.
    "connection": "connection to Redis lost or refused, retrying with backoff (by connection and error)",
    "reconnected": "connected to Redis after failed attempts (by connection)",
}


@attrs.define
class _Backoff:
    """How long one connection (publisher or subscriber) waits before its next attempt to connect.

    Nothing at first and after a connection that worked was lost (Redis
    restarted: come back at once); ``first`` after a failure, doubling with
    each failure that follows, up to ``limit``. A connection that opens
    does not reset it: one that Redis then refuses to serve (a channel an
    ACL user may not use) fails again, and waits longer.
    """

    first: float
    limit: float
    delay: float = 0.0

    def failed(self) -> None:
        self.delay = min(self.delay * 2, self.limit) if self.delay else self.first

    def reset(self) -> None:
        self.delay = 0.0


class Redis:
    """A PubSub adapter carrying broadcasts between nodes through Redis.

    Args:
        host, port: the Redis server: a host name and a port (6379 if not
            given), or alone a ``redis://``/``rediss://`` URL or
            :class:`RedisSettings` (password, ACL user, database, TLS: see
            "Connecting" in the module docstring).
        secret: shared by all nodes; frames are HMAC-signed with it (required).
        node_name: this node's name (default: hostname-pid-random).
        prefix: prefix of the Redis channel names.
        max_pending: broadcasts queued while Redis is unreachable.
        backoff: (first, max) seconds between reconnection attempts: the
            wait doubles with each failed attempt (or refusal, such as a
            wrong password), and a connection lost after it worked is
            retried at once.
        resubscribe_wait: after Redis comes back, how long queued broadcasts
            wait for the other nodes to resubscribe before they are sent.
        heartbeat: seconds between this node's heartbeats (its liveness, and
            the number of its last broadcast for the receivers' gap count).
        node_timeout: seconds without a frame after which another node is no
            longer expected to receive (see "Counting what is lost").
        log_interval: seconds between two log lines of one cause, at least.
        logger: the name of the logger its lines go to (``otp.dist`` gives
            its own adapter ``"otp.dist.redis"``, so that the two read apart).
    """

    def __init__(
        self,
        host: str | RedisSettings = "127.0.0.1",
        port: int | None = None,
        *,
        secret: bytes,
        node_name: str | None = None,
        prefix: str = "otp",
        max_pending: int = 10_000,
        backoff: tuple[float, float] = (0.05, 2.0),
        resubscribe_wait: float = 5.0,
        heartbeat: float = 1.0,
        node_timeout: float = 5.0,
        log_interval: float = 10.0,
        logger: str = "otp.pubsub.redis",
    ) -> None:
        if not isinstance(secret, bytes) or len(secret) < 8:
            raise ValueError("Redis adapter: secret must be bytes, at least 8 long, shared by every node")
        if not 0 < heartbeat < node_timeout:
            raise ValueError(f"Redis adapter: need 0 < heartbeat < node_timeout; got {heartbeat} and {node_timeout}")
        if not 0 < backoff[0] <= backoff[1]:
            raise ValueError(f"Redis adapter: backoff is (first, max) seconds with 0 < first <= max; got {backoff}")
        self.settings = redis_settings(host, port)
        self.settings.tls_context()  # a missing or malformed certificate file fails here, not at every retry
        self.host, self.port = self.settings.host, self.settings.port
        self.secret = secret
        self.node_name = node_name or f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"
        self._origin = self.node_name.encode()
        if len(self._origin) > 255:
            raise ValueError(f"Redis adapter: node_name must be at most 255 bytes; got {len(self._origin)}")
        self.prefix = prefix
        self.max_pending = max_pending
        self.backoff = backoff
        self.resubscribe_wait = resubscribe_wait
        self.heartbeat = heartbeat
        self.node_timeout = node_timeout
        self._incarnation = int.from_bytes(os.urandom(8), "big")
        self._sequence = 0  # the number of this node's last broadcast
        self._queue: collections.deque[tuple[bytes, bytes, bytes]] = collections.deque()  # (channel, frame, kind)
        self._heartbeats_queued = 0  # of the queue: not the app's, so neither pending nor in max_pending
        self._publisher_name: str | None = None
        self._pubsub: str | None = None  # the PubSub's name, once child_spec is asked for
        self._publisher_pid: Pid | None = None
        self._published = 0
        self._received = 0
        self._reconnects = 0
        self._connected = {"publisher": False, "subscriber": False}
        self._dropped: collections.Counter = collections.Counter()
        self._missed: collections.Counter = collections.Counter()
        self._origins: dict[str, _Origin] = {}  # the other nodes heard from, oldest heard first
        self._waiters: list[tuple[bool, trio.Event]] = []
        self._ever_connected = {"publisher": False, "subscriber": False}
        self._retry = {"publisher": _Backoff(*backoff), "subscriber": _Backoff(*backoff)}
        self._log = _LogLines(self, log_interval, logging.getLogger(logger))
        # Whether the bus works for this node, from its own frames coming back
        # through Redis ("When this node is cut off" in the module docstring).
        self._echo_at: float | None = None  # when the last one came back; None since a connection went down
        self._silence_from: float | None = None  # what silence_counts_from says while they come back

    def __repr__(self) -> str:
        pubsub = "" if self._pubsub is None else f", pubsub={self._pubsub!r}"
        return f"Redis({self.host!r}, {self.port}, node_name={self.node_name!r}{pubsub})"

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

    def broadcast(self, pubsub: str, topic: str, message: object, dispatcher: Dispatcher) -> None:
        payload = _pickle((topic, message, dispatcher))  # may raise: then nothing was numbered
        self._make_room()
        self._sequence += 1
        self._enqueue(self._channel(pubsub), self._frame(BROADCAST, self._sequence, payload), BROADCAST)

    def direct_broadcast(self, pubsub: str, node_name: str, topic: str, message: object, dispatcher: Dispatcher) -> None:
        if node_name == self.node_name:
            local_broadcast(pubsub, topic, message, dispatcher=dispatcher)
        else:
            payload = _pickle((topic, message, dispatcher))
            self._make_room()
            self._enqueue(self._channel(pubsub, node_name), self._frame(DIRECT, 0, payload), DIRECT)

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
            elif role == "subscriber" and self._publisher_pid is not None:
                send(self._publisher_pid, _ANNOUNCE)  # subscribed: now the others may expect us
            self._ever_connected[role] = True
            if role == "subscriber":
                self._forgive_silence()
        else:
            self._echo_at = None  # what comes back next starts a new run: the bus was broken for us
        self._connected[role] = up
        state = self._is_connected()
        waiting = self._waiters
        self._waiters = [(want, event) for want, event in waiting if want != state]
        for want, event in waiting:
            if want == state:
                event.set()

    def _drop(self, reason: str, **details: object) -> None:
        """Count a frame dropped (or a broadcast refused) for ``reason``, and emit it."""
        self._dropped[reason] += 1
        if telemetry.attached(DROP):
            metadata = {"pubsub": self._pubsub, "node_name": self.node_name, "reason": reason, **details}
            telemetry.execute(DROP, {"dropped": self._dropped[reason]}, metadata)

    def statistics(self) -> RedisStatistics:
        return RedisStatistics(
            node_name=self.node_name,
            publisher_connected=self._connected["publisher"],
            subscriber_connected=self._connected["subscriber"],
            published=self._published,
            received=self._received,
            pending=len(self._queue) - self._heartbeats_queued,
            reconnects=self._reconnects,
            dropped=dict(self._dropped),
            missed=dict(self._missed),
            nodes=tuple(sorted(self._expected_nodes())),
        )

    # ------------------------------------------------------------ is this node cut off?

    def silence_counts_from(self) -> float | None:
        """From when (trio's clock) another node's silence says something about it; None while it says nothing.

        None while this node does not hear the bus itself: one of its
        connections is down, or its own frames have not come back through
        Redis for ``2 × heartbeat`` seconds (Redis stopped or unreachable
        with the connections still open, or this OS process not running).
        Once its frames come back, another node's silence counts from then,
        or from then plus ``backoff[1]`` after one of its connections was
        down (that node's may come back that much later than ours).
        ``otp.dist`` and the Tracker judge silence this way (see "When this
        node is cut off").
        """
        echo_at = self._echo_at
        if echo_at is None or not self._is_connected() or trio.current_time() - echo_at > self._echo_timeout():
            return None
        return self._silence_from

    def _echo_timeout(self) -> float:
        # A heartbeat goes out every `heartbeat` seconds (more often under
        # traffic): two missed in a row, and the bus is not working for us.
        return 2 * self.heartbeat

    def _echoed(self) -> None:
        """One of our frames came back through Redis: the bus works for this node, both ways."""
        now = trio.current_time()
        if self._silence_from is None:
            self._bus_back(now)  # the first time: nobody was heard before, nobody lags behind
        elif self._echo_at is None:
            # A connection of ours went down since the last one: the others' may
            # have too, and may come back up to backoff[1] later than ours.
            self._bus_back(now + self.backoff[1])
        elif now - self._echo_at > self._echo_timeout():
            # The bus stalled for us (Redis stopped, or this process): the others'
            # frames waited with ours, and come now.
            self._bus_back(now)
        self._echo_at = now

    def _bus_back(self, silence_from: float) -> None:
        self._silence_from = silence_from
        if telemetry.attached(BUS_BACK):
            metadata = {"pubsub": self._pubsub, "node_name": self.node_name}
            telemetry.execute(BUS_BACK, {"silence_counts_from": silence_from}, metadata)

    # ------------------------------------------------------------ frames

    def _channel(self, pubsub: str, node_name: str | None = None) -> bytes:
        base = f"{self.prefix}:{pubsub}"
        return (base if node_name is None else f"{base}:node:{node_name}").encode()

    def _frame(self, kind: bytes, sequence: int, payload: bytes = b"") -> bytes:
        # The origin travels in clear before the rest (still under the HMAC),
        # so a node drops its own broadcasts without unpickling them.
        origin = self._origin
        body = len(origin).to_bytes(1, "big") + origin + _HEADER.pack(kind, self._incarnation, sequence) + payload
        return _VERSION + hmac.digest(self.secret, body, hashlib.sha256) + body

    def _encode(self, topic: str, message: object, dispatcher: object) -> bytes:
        """The frame that would carry this broadcast next (its size is what the benchmarks pad to)."""
        return self._frame(BROADCAST, self._sequence + 1, _pickle((topic, message, dispatcher)))

    def _decode(self, frame: bytes) -> _Frame | None:
        """The frame's fields once its signature verifies; None for a frame to drop (counted)."""
        version = frame[:1]
        if len(frame) < 2 + _DIGEST or version not in (_VERSION, _VERSION_1):
            self._drop("bad_frame")
            return None
        digest, body = frame[1 : 1 + _DIGEST], frame[1 + _DIGEST :]
        if not hmac.compare_digest(digest, hmac.digest(self.secret, body, hashlib.sha256)):
            self._drop("bad_signature")
            self._log.note("bad_signature")
            return None
        length = body[0]
        origin = body[1 : 1 + length].decode()
        if version == _VERSION_1:
            return _Frame(origin, BROADCAST, 0, 0, body[1 + length :])  # unnumbered: never a gap
        kind, incarnation, sequence = _HEADER.unpack_from(body, 1 + length)
        return _Frame(origin, kind, incarnation, sequence, body[1 + length + _HEADER.size :])

    def _is_own(self, frame: bytes) -> bool:
        """A frame this node published (checked before any decoding)."""
        start = 1 + _DIGEST
        origin = self._origin
        return frame[start : start + 1 + len(origin)] == len(origin).to_bytes(1, "big") + origin

    def _make_room(self) -> None:
        # The bound is for the time Redis is away (either connection down:
        # the publisher only notices when it next writes). Connected, the
        # queue is only the frames in flight, and the publisher drains it.
        pending = len(self._queue) - self._heartbeats_queued
        if not self._is_connected() and pending >= self.max_pending:
            self._drop("queue_full")
            raise RedisUnavailable(
                f"broadcast refused: Redis at {self.host}:{self.port} is unreachable and "
                f"{pending} broadcasts are already waiting (max_pending={self.max_pending})"
            )

    def _enqueue(self, channel: bytes, frame: bytes, kind: bytes) -> None:
        was_empty = not self._queue
        if kind == HEARTBEAT:
            self._heartbeats_queued += 1
        self._queue.append((channel, frame, kind))
        if was_empty and self._publisher_pid is not None:
            # By pid, not name: this may run outside any process (a node's
            # root ending). A dead publisher drops it; its successor flushes.
            send(self._publisher_pid, _WAKE)

    # ------------------------------------------------------------ who should receive, and what was missed

    def _heard(self, frame: _Frame) -> bool:
        """Account for a frame of another node; True if it is a broadcast to deliver."""
        if frame.kind not in _KINDS:
            self._drop("bad_frame")  # a kind of a later version: nothing we know how to use
            return False
        now = trio.current_time()
        known = self._origins.pop(frame.origin, None)  # put back last: the dict stays in order of hearing
        if known is None or known.incarnation != frame.incarnation:
            known = _Origin(frame.incarnation, None, now)  # a node we did not know, or one that restarted
            if frame.kind != GOODBYE and self._publisher_pid is not None:
                send(self._publisher_pid, _ANNOUNCE)  # a newcomer: let it know about us now
        deliver = self._follow(frame, known)
        if frame.kind == GOODBYE:
            self._gone(frame.origin, "goodbye")
        else:
            self._remember(frame.origin, known, now)
        return deliver

    def _follow(self, frame: _Frame, known: _Origin) -> bool:
        """Follow the origin's numbering: a gap is what we missed of it; a number seen already, a copy.

        The first numbered frame heard of a run is the baseline: what that
        run sent before it may have preceded this node, so it is not counted.
        """
        if frame.kind == DIRECT or frame.incarnation == 0:  # unnumbered: direct, or a version 1 node
            return frame.kind in (BROADCAST, DIRECT)
        if known.last is None:
            known.last = frame.sequence
            return frame.kind == BROADCAST
        if frame.kind == BROADCAST and frame.sequence <= known.last:
            self._drop("duplicate")  # a resend of a PUBLISH whose acknowledgement was lost
            return False
        gap = frame.sequence - known.last - (1 if frame.kind == BROADCAST else 0)
        if gap > 0:
            self._count_missed(frame.origin, gap)
        known.last = max(known.last, frame.sequence)
        return frame.kind == BROADCAST

    def _remember(self, origin: str, known: _Origin, now: float) -> None:
        known.heard_at = now
        known.expected = True
        self._origins[origin] = known
        if len(self._origins) > MAX_ORIGINS:
            del self._origins[next(iter(self._origins))]  # the one heard from longest ago

    def _count_missed(self, origin: str, gap: int) -> None:
        self._missed[origin] += gap
        self._log.note("missed", gap, origin)
        if telemetry.attached(MISSED):
            metadata = {"pubsub": self._pubsub, "node_name": self.node_name, "origin": origin}
            telemetry.execute(MISSED, {"missed": gap, "total": self._missed[origin]}, metadata)

    def _gone(self, node: str, reason: str) -> None:
        if reason == "silent":  # a goodbye is a node stopping in order: nothing to warn about
            self._log.note("silent_nodes", 1, node)
        if telemetry.attached(NODE_GONE):
            metadata = {"pubsub": self._pubsub, "node_name": self.node_name, "node": node, "reason": reason}
            telemetry.execute(NODE_GONE, {}, metadata)

    def _expected_nodes(self) -> list[str]:
        return [name for name, known in self._origins.items() if known.expected]

    def _expected_receivers(self) -> int:
        """Subscribers a broadcast should reach: the nodes expected, and this one if subscribed."""
        return len(self._expected_nodes()) + (1 if self._connected["subscriber"] else 0)

    def _judge_silence(self) -> None:
        """Nodes silent for ``node_timeout`` are no longer expected (their numbering is kept)."""
        if not self._connected["subscriber"]:
            return  # we hear nobody now: that says nothing of them
        deadline = trio.current_time() - self.node_timeout
        for name, known in self._origins.items():
            if known.expected and known.heard_at < deadline:
                known.expected = False
                self._gone(name, "silent")

    def _forgive_silence(self) -> None:
        # While our subscription was down we heard nobody: their silence starts again now.
        now = trio.current_time()
        for known in self._origins.values():
            known.heard_at = max(known.heard_at, now)

    def _count_receivers(self, kind: bytes, receivers: int, expected: int) -> None:
        """After a PUBLISH: a direct one that reached nobody, a broadcast that reached too few."""
        if kind == DIRECT:
            if receivers == 0:
                self._drop("no_such_node")
            return
        if kind != BROADCAST:
            return  # a heartbeat or goodbye: nothing of the app's was lost
        if receivers < expected:
            self._drop("fewer_receivers", expected=expected, receivers=receivers)
            self._log.note("fewer_receivers", 1, f"{expected}/{receivers}")

    def _beat(self) -> None:
        """The publisher's timer: the next one, silent nodes judged, held log lines written, a heartbeat."""
        send_after(current_pid(), _BEAT, self.heartbeat)
        self._judge_silence()
        self._log.flush()
        self._announce()

    def _announce(self) -> None:
        # Only once our subscription is up: before that, the others would count
        # what we cannot receive yet as missed by us.
        # One waiting in the queue (a burst ahead of it) is enough.
        if self._ever_connected["subscriber"] and self._pubsub is not None and not self._heartbeats_queued:
            self._enqueue(self._channel(self._pubsub), self._frame(HEARTBEAT, self._sequence), HEARTBEAT)

    # ------------------------------------------------------------ connections

    async def _connect(self, role: str, setup: Callable[[Connection], Awaitable[None]] | None = None) -> Connection:
        """Connect (TLS, AUTH and SELECT included), after the wait the role's backoff asks, until Redis lets us in.

        Every failed attempt, whether Redis is unreachable or refuses us (a
        wrong password, an untrusted certificate), doubles the wait before
        the next: a node with the wrong password knocks a few times a
        second at first, then every ``backoff[1]`` seconds, and its log
        says so once per ``log_interval``. ``setup`` is the rest of
        connecting for this role (the subscriber's SUBSCRIBE): its failure
        is a failed attempt too.
        """
        retry = self._retry[role]
        failures = 0
        while True:
            if retry.delay:
                await trio.sleep(retry.delay)
            try:
                connection = await self._open(setup)
            except _CONNECTION_ERRORS as error:
                failures += 1
                retry.failed()
                self._connect_failed(role, error, failures)
                continue
            if failures:
                self._log.note("reconnected", 1, role)
            return connection

    async def _open(self, setup: Callable[[Connection], Awaitable[None]] | None) -> Connection:
        connection = await Connection.open(self.settings)
        try:
            if setup is not None:
                await setup(connection)
        except BaseException:
            await connection.aclose()
            raise
        return connection

    def _connect_failed(self, role: str, error: BaseException, failures: int) -> None:
        self._log.note("connection", 1, f"{role}: {error}")
        if telemetry.attached(CONNECT_FAILED):
            metadata = {"pubsub": self._pubsub, "node_name": self.node_name, "role": role, "error": error}
            telemetry.execute(CONNECT_FAILED, {"failures": failures, "retry_in": self._retry[role].delay}, metadata)

    def _connection_lost(self, role: str, error: BaseException) -> None:
        """A connection that was up ended: retry at once if it was lost, after the backoff if Redis refused a command.

        A refusal (``NOPERM`` for an ACL user without the rights to a channel,
        say) would come back at once on a new connection: retrying it
        without a wait would be a busy loop against Redis.
        """
        self._log.note("connection", 1, f"{role}: {error}")
        if isinstance(error, RedisReplyError):
            self._retry[role].failed()
        else:
            self._retry[role].reset()


async def _start_worker(worker, adapter: Redis, pubsub: str) -> object:
    return spawn_link(worker, adapter, pubsub)


_CONNECTION_ERRORS = (OSError, RedisError, trio.BrokenResourceError, trio.ClosedResourceError)


async def _publisher(adapter: Redis, pubsub: str) -> None:
    name = adapter._publisher_name
    assert name is not None  # child_spec names the publisher before it starts it
    register(name, current_pid())
    adapter._publisher_pid = current_pid()
    send_after(current_pid(), _BEAT, adapter.heartbeat)
    queue = adapter._queue
    while True:
        connection = await adapter._connect("publisher")
        adapter._set_connected("publisher", True)
        try:
            if queue:
                await _wait_for_subscribers(adapter, connection, pubsub)
            await _publish_until_broken(adapter, connection, queue)
        except _CONNECTION_ERRORS as error:
            adapter._connection_lost("publisher", error)
        except BaseException:
            # Stopped (a shutdown or a kill reaches a process as a cancellation):
            # the others should stop expecting this node now, not after node_timeout.
            await _say_goodbye(adapter, connection, pubsub)
            raise
        finally:
            adapter._set_connected("publisher", False)
            await connection.aclose()


async def _say_goodbye(adapter: Redis, connection: Connection, pubsub: str) -> None:
    """Best effort, bounded: if Redis is slow or gone, the others notice by silence instead."""
    frame = adapter._frame(GOODBYE, adapter._sequence)
    with trio.move_on_after(_GOODBYE_TIMEOUT) as scope:
        scope.shield = True
        try:
            await connection.send(pack(b"PUBLISH", adapter._channel(pubsub), frame))
            await connection.read()
        except _CONNECTION_ERRORS:
            pass


async def _wait_for_subscribers(adapter: Redis, connection: Connection, pubsub: str) -> None:
    """After Redis came back, give the other nodes time to resubscribe before flushing.

    Redis keeps no messages for subscribers that are not connected, so what
    we queued while it was away would reach only the nodes that happened to
    reconnect first. Wait (bounded by ``resubscribe_wait``) until as many
    subscribers are back as nodes are expected; whatever is still missing
    after that is counted (module docstring), not lost silently.
    """
    channel = adapter._channel(pubsub)
    deadline = trio.current_time() + adapter.resubscribe_wait
    while adapter._origins and trio.current_time() < deadline:
        await connection.send(pack(b"PUBSUB", b"NUMSUB", channel))
        _, count = await connection.read()
        if count >= len(adapter._expected_nodes()) + 1:  # they and our own subscriber
            return
        await trio.sleep(0.02)  # Redis cannot tell us when a subscriber arrives: ask again


async def _publish_until_broken(adapter: Redis, connection: Connection, queue: collections.deque) -> None:
    while True:
        if not queue:
            _take_timer(adapter, await receive(_is_publisher_message))
            continue
        batch = list(itertools.islice(queue, 1000))
        # Who should receive, as it stands when Redis gets the batch (not when the answers are read).
        expected = adapter._expected_receivers()
        await connection.send(b"".join(pack(b"PUBLISH", channel, frame) for channel, frame, _ in batch))
        for _, _, kind in batch:
            receivers = await connection.read()
            queue.popleft()  # acknowledged: only now is it off our hands
            if kind == HEARTBEAT:
                adapter._heartbeats_queued -= 1
            else:
                adapter._published += 1
            adapter._count_receivers(kind, receivers, expected)
        while True:  # wake-ups for what this batch already sent go; a due beat is taken now, not after the burst
            try:
                _take_timer(adapter, receive_nowait(_is_publisher_message))
            except WouldBlock:
                break


def _is_publisher_message(message: object) -> bool:
    return message is _WAKE or message is _BEAT or message is _ANNOUNCE


def _take_timer(adapter: Redis, message: object) -> None:
    if message is _BEAT:
        adapter._beat()
    elif message is _ANNOUNCE:
        adapter._announce()


async def _subscriber(adapter: Redis, pubsub: str) -> None:
    channels = [adapter._channel(pubsub), adapter._channel(pubsub, adapter.node_name)]

    async def subscribe(connection: Connection) -> None:
        # Part of connecting: a SUBSCRIBE that Redis refuses (an ACL user
        # without these channels) is a failed attempt, retried with backoff.
        await connection.send(pack(b"SUBSCRIBE", *channels))
        for _ in channels:
            try:
                await connection.read()  # the subscribe confirmations
            except RedisReplyError as error:
                names = ", ".join(channel.decode() for channel in channels)
                address = adapter.settings.address
                raise RedisReplyError(f"Redis at {address} refused SUBSCRIBE {names}: {error}") from None

    while True:
        connection = await adapter._connect("subscriber", subscribe)
        try:
            adapter._set_connected("subscriber", True)
            await _deliver_until_broken(adapter, connection, pubsub)
        except _CONNECTION_ERRORS as error:
            adapter._connection_lost("subscriber", error)
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
            adapter._echoed()  # our own frame, back through Redis (already delivered locally)
            continue
        decoded = adapter._decode(frame)
        if decoded is None or not adapter._heard(decoded):
            continue
        topic, message, dispatcher = pickle.loads(decoded.payload)
        adapter._received += 1
        local_broadcast(pubsub, topic, message, dispatcher=dispatcher)


# RedisSettings and the errors live in the client module (_resp.py): name them here, where users import them.
_fixup_module_metadata(__name__, globals(), defined_in=("otp.pubsub._resp",))

"""What an endpoint hands each of its connections: the limits to enforce, the counters to add to.

The endpoint (:mod:`web.endpoint`) sits above the HTTP layer
(:mod:`web._http`) and the WebSocket transport (:mod:`web.transports`).
Those lower layers need a few numbers from it and a place to count what
happened, nothing more, so that is all they get (never the endpoint's own
private state):

* :class:`ConnectionLimits`, frozen and checked once when the endpoint
  starts: how long a keep-alive connection may stay silent, how long a
  request's head and body may take to arrive, how big they may be;
* :class:`ConnectionContext`: both, with the application's handler, the
  upgrade callables by path and the endpoint's pid, as the one argument a
  connection process is spawned with;
* :class:`ConnectionCounters`, one per endpoint, shared by all its
  connection processes. Each one adds to it with a plain ``+=`` (one
  process runs at a time, so no lock), and ``snapshot()`` freezes it into
  the public :class:`EndpointStatistics` that ``Endpoint.statistics`` and
  the ``("web", "endpoint", "statistics")`` telemetry event report;
* :func:`default_max_connections`: how many connections an endpoint takes
  at once when not told, from the process's descriptor limit.

>>> limits = ConnectionLimits(idle_timeout=5.0)
>>> limits.max_body_size, limits.max_header_size, limits.max_header_count
(1048576, 16384, 100)
>>> limits.header_timeout, limits.body_timeout
(10.0, 60.0)
>>> counters = ConnectionCounters()
>>> counters.requests += 2
>>> counters.snapshot().requests
2
>>> ConnectionLimits(max_body_size=-1)
Traceback (most recent call last):
  ...
ValueError: max_body_size must be an int >= 0 (bytes of one request body); got -1
"""

from __future__ import annotations

import ctypes
import logging
import math
import platform
import resource
from typing import Callable, Mapping

import attrs

from otp import Pid, send_after
from otp.log import ThrottledLogger

__all__ = [
    "ConnectionLimits",
    "ConnectionCounters",
    "ConnectionContext",
    "EndpointStatistics",
    "COUNTERS",
    "OUTBOUND_SHARE",
    "default_max_connections",
    "raise_open_files_limit",
    "keep_big_buffers_mapped",
    "MemoryReclaimer",
    "RECLAIM",
]

#: The fraction of ``max_outbound_total`` a peer may hold once the total is
#: reached (1/64: 512 KiB of the default 32 MiB) before it is shed.
OUTBOUND_SHARE = 1 / 64

COUNTERS = (
    "accepted",  # TCP connections accepted
    "rejected",  # ... and closed at once: max_connections reached
    "evicted",  # connections closed before their first request to make room for a newer one
    "active",  # connection processes running now
    "requests",  # HTTP requests read (upgrade requests included)
    "bad_requests",  # answered 400, 413, 431, 501 or 505
    "request_timeouts",  # a head or body not in by header_timeout/body_timeout: 408 (or closed, if nothing came)
    "handler_errors",  # the handler raised: answered 500
    "upgrades",  # WebSockets opened
    "refused",  # upgrade requests refused (400 or 403)
    "messages_too_big",  # WebSockets closed with 1009
    "message_timeouts",  # WebSockets closed with 1008: a message begun was not finished in time
    "idle_timeouts",  # WebSockets closed for silence
    "outbound_overflows",  # WebSockets reset: the peer did not read
    "outbound_queued",  # bytes queued now for all WebSocket peers (a gauge, not a count)
    "bytes_in",  # bytes read from WebSockets (after the upgrade)
    "bytes_out",  # bytes written to WebSockets
)


# ---------------------------------------------------------------- limits


def _positive_number(instance, attribute, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{attribute.name} must be a number of seconds > 0 (math.inf: never); got {value!r}")


def _byte_count(minimum: int, what: str):
    def check(instance, attribute, value) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{attribute.name} must be an int >= {minimum} ({what}); got {value!r}")

    return check


@attrs.frozen
class ConnectionLimits:
    """The limits every HTTP connection of one endpoint enforces (see :mod:`web._http`).

    Deadlines, not idle timers: a client that trickles a byte now and then
    cannot stretch ``header_timeout`` or ``body_timeout``, which run from a
    fixed start whatever arrives in between.

    Attributes:
        idle_timeout: seconds a keep-alive connection may wait between
            requests, sending nothing, before it is closed (and seconds a
            peer may take nothing of a response we are writing).
        max_body_size: bytes in one request body; more is answered 413.
        max_header_size: bytes in a request line plus headers; more is answered 431.
        header_timeout: seconds a request's head (request line and headers)
            may take to arrive: from the connection's start for its first
            request, from the first byte of each later one. Late: 408, or
            just a close when nothing at all came.
        body_timeout: seconds a request's body may take to arrive once its
            head is in; late: 408. Raise it with ``max_body_size`` for big
            uploads over slow links (the default allows 1 MiB at ~17 KB/s).
        max_header_count: header lines in one request; more is answered 431
            (browsers send about 20).
        max_outbound_total: bytes queued for all of the endpoint's WebSocket
            peers together (each peer also has its mount's
            ``max_outbound_bytes``). Past it, a peer holding more than
            :data:`OUTBOUND_SHARE` of it is shed as a peer over its own limit
            is, so that many slow readers together cannot take the node's
            memory; peers with less queued (every peer that reads) go on.

    Raises:
        ValueError: a limit that is not a positive number (``max_body_size``
            may be 0: no bodies at all).
    """

    idle_timeout: float = attrs.field(default=60.0, validator=_positive_number)
    max_body_size: int = attrs.field(default=1 << 20, validator=_byte_count(0, "bytes of one request body"))
    max_header_size: int = attrs.field(
        default=16 * 1024, validator=_byte_count(1, "bytes of a request line plus headers")
    )
    header_timeout: float = attrs.field(default=10.0, validator=_positive_number)
    body_timeout: float = attrs.field(default=60.0, validator=_positive_number)
    max_header_count: int = attrs.field(default=100, validator=_byte_count(1, "headers in one request"))
    max_outbound_total: int = attrs.field(
        default=32 << 20, validator=_byte_count(1, "bytes queued for all WebSocket peers together")
    )

    @property
    def outbound_share(self) -> int:
        """Bytes queued past which a peer is shed once ``max_outbound_total`` is reached."""
        return max(1, int(self.max_outbound_total * OUTBOUND_SHARE))


# ---------------------------------------------------------------- counters


@attrs.frozen
class EndpointStatistics:
    """A snapshot of an endpoint's counters, from :meth:`web.Endpoint.statistics`."""

    accepted: int
    rejected: int
    evicted: int
    active: int
    requests: int
    bad_requests: int
    request_timeouts: int
    handler_errors: int
    upgrades: int
    refused: int
    messages_too_big: int
    message_timeouts: int
    idle_timeouts: int
    outbound_overflows: int
    outbound_queued: int
    bytes_in: int
    bytes_out: int


class ConnectionCounters:
    """The running counts of one endpoint (names in ``COUNTERS``); its connections add to them.

    Slotted integers, not a dict or a ``Counter``: ``bytes_in`` and
    ``bytes_out`` are bumped for every read and write of every WebSocket,
    and an attribute addition is the cheapest count there is.
    """

    __slots__ = COUNTERS

    # Declared for type checkers (the slots come from COUNTERS; a test checks they agree).
    accepted: int
    rejected: int
    evicted: int
    active: int
    requests: int
    bad_requests: int
    request_timeouts: int
    handler_errors: int
    upgrades: int
    refused: int
    messages_too_big: int
    message_timeouts: int
    idle_timeouts: int
    outbound_overflows: int
    outbound_queued: int
    bytes_in: int
    bytes_out: int

    def __init__(self) -> None:
        for name in COUNTERS:
            setattr(self, name, 0)

    def snapshot(self) -> EndpointStatistics:
        """The counts now, frozen."""
        return EndpointStatistics(**{name: getattr(self, name) for name in COUNTERS})

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={getattr(self, name)}" for name in COUNTERS)
        return f"<ConnectionCounters {counts}>"


# ---------------------------------------------------------------- the context


@attrs.frozen
class ConnectionContext:
    """Everything one endpoint hands each of its connection processes, as one reference.

    One reference, not five arguments: an open connection's stack holds what
    it was handed in every frame (the process's own, ``serve_connection``,
    the request loop, the WebSocket upgrade) for as long as it is open, and
    five pointers in each of those frames cost about 100 bytes a
    connection, measured with ``python -m benchmarks web-conns``.

    Attributes:
        handler: the application's HTTP handler (``web._http.Handler``).
        limits: what every connection enforces.
        counters: where every connection counts.
        upgrades: request path -> the callable that takes that request over
            (``web._http.Upgrade``; the endpoint mounts the WebSocket
            transport there).
        endpoint: the endpoint's pid, for telemetry metadata.
        log: the endpoint's logger for what a crowd of clients can repeat
            (peers shed, say): one line per cause per interval, with counts.
        reclaimer: hands the allocator's free memory back to the system
            soon after connections end (:class:`MemoryReclaimer`).
        waiting_heads: the connections waiting for their first request's
            head, oldest first (a cancel scope each, to evict one: see
            ``web._http._read_first_head``).
    """

    handler: Callable
    limits: ConnectionLimits
    counters: ConnectionCounters
    upgrades: Mapping[str, Callable] = attrs.field(factory=dict)
    endpoint: Pid | None = None
    log: ThrottledLogger = attrs.field(factory=lambda: ThrottledLogger(logging.getLogger("web.transports")))
    reclaimer: MemoryReclaimer = attrs.field(factory=lambda: MemoryReclaimer())
    waiting_heads: dict = attrs.field(factory=dict, repr=False)


# ---------------------------------------------------------------- how many connections at once


def default_max_connections(fd_limit: float) -> float:
    """How many connections an endpoint takes at once when ``max_connections`` is not given.

    Each connection holds one file descriptor, and when the process has none
    left, ``accept()`` fails for every client, old connections cannot open
    files, and Redis cannot reconnect. So the endpoint stops short of the
    limit and leaves the rest of the node a reserve: a tenth of the limit,
    at least 64 descriptors (listeners, log files, Redis, the event loop's
    own), but never more than half of a small limit::

        max_connections = fd_limit - max(fd_limit // 10, min(64, fd_limit // 2))

    The formula assumes one endpoint per node; give each of several its own
    ``max_connections``.

    >>> default_max_connections(1024), default_max_connections(65536), default_max_connections(64)
    (922, 58983, 32)
    >>> default_max_connections(math.inf)
    inf
    """
    if fd_limit == math.inf:
        return math.inf
    fd_limit = int(fd_limit)
    return fd_limit - max(fd_limit // 10, min(64, fd_limit // 2))


def raise_open_files_limit() -> float:
    """Raise this process's soft ``RLIMIT_NOFILE`` to its hard limit, where allowed; return the soft limit now.

    The soft limit is often 1024 while the hard one is far higher: a server
    may take what it is allowed. Where the raise is refused (macOS caps the
    soft limit below an unlimited hard one), the soft limit stays as it was.
    Returns ``math.inf`` for an unlimited soft limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return math.inf if soft == resource.RLIM_INFINITY else soft


# glibc's mallopt parameter for the mmap threshold (malloc.h).
_M_MMAP_THRESHOLD = -3
BIG_BUFFER = 128 * 1024  # glibc's own starting threshold


def keep_big_buffers_mapped() -> bool:
    """Make glibc map every allocation of :data:`BIG_BUFFER` bytes or more on its own; True if it did.

    A slow peer's outbox is one ``bytearray`` of up to ``max_outbound_bytes``
    (``web.transports._session``). glibc maps such a block with ``mmap`` and
    unmaps it when it is freed, so a shed peer's memory goes back to the
    system at once. But glibc also raises its threshold to the size of the
    last mapped block it freed, so after the first shed peer the next big
    outboxes come from the heap, where freed memory stays: 50 slow readers
    shed left 9 MB of 23 behind instead of 2. Fixing the threshold (as
    ``MALLOC_MMAP_THRESHOLD_`` does) keeps every big buffer mapped. A
    process-wide setting, as the descriptor limit is; elsewhere than glibc
    (musl, macOS) it does nothing and returns False.
    """
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if platform.libc_ver()[0] != "glibc":
        return False
    return mallopt(_M_MMAP_THRESHOLD, BIG_BUFFER) == 1


def _find_malloc_trim():
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _find_malloc_trim()


class _Reclaim:
    """Endpoint ← itself: time to give free memory back (see :class:`MemoryReclaimer`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "RECLAIM"


RECLAIM = _Reclaim()


class MemoryReclaimer:
    """Gives the C allocator's free memory back to the system a moment after connections end (glibc only).

    glibc returns freed memory to the system only from the top of its heap.
    After a crowd of connections (a slowloris, a burst of fragments) has come
    and gone, most of the heap is free but stays in the process, held below
    the few blocks still in use: 1,000 trickling connections gone left
    16 MB of 17 in the process. ``malloc_trim`` gives back every free page
    wherever it lies, for about a millisecond. So when a connection ends,
    the endpoint is sent :data:`RECLAIM` after :attr:`DELAY` seconds (one
    message however many end meanwhile) and calls :meth:`reclaim`. Nothing
    runs while no connection ends; elsewhere than glibc, nothing at all.
    """

    __slots__ = ("pending",)

    DELAY = 1.0  # seconds after a connection ended (a crowd ends within it)

    def __init__(self) -> None:
        self.pending = False

    def connection_ended(self, endpoint: Pid | None) -> None:
        """Called as each connection ends: schedule one reclaim, unless one is on its way."""
        if self.pending or endpoint is None or _malloc_trim is None:
            return
        self.pending = True
        send_after(endpoint, RECLAIM, self.DELAY)

    def reclaim(self) -> bool:
        """Give free memory back now (the endpoint calls this on :data:`RECLAIM`); True if glibc did any."""
        self.pending = False
        return _malloc_trim is not None and _malloc_trim(0) == 1

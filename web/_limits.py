"""What an endpoint hands each of its connections: the limits to enforce, the counters to add to.

The endpoint (:mod:`web.endpoint`) sits above the HTTP layer
(:mod:`web._http`) and the WebSocket transport (:mod:`web.transports`).
Those lower layers need a few numbers from it and a place to count what
happened, nothing more, so that is all they get (never the endpoint's own
private state):

* :class:`ConnectionLimits`, frozen and checked once when the endpoint
  starts: how long a keep-alive connection may stay silent, how big a
  request's head and body may be;
* :class:`ConnectionContext`: both, with the application's handler, the
  upgrade callables by path and the endpoint's pid, as the one argument a
  connection process is spawned with;
* :class:`ConnectionCounters`, one per endpoint, shared by all its
  connection processes. Each one adds to it with a plain ``+=`` (one
  process runs at a time, so no lock), and ``snapshot()`` freezes it into
  the public :class:`EndpointStatistics` that ``Endpoint.statistics`` and
  the ``("web", "endpoint", "statistics")`` telemetry event report.

>>> limits = ConnectionLimits(idle_timeout=5.0)
>>> limits.max_body_size, limits.max_header_size
(1048576, 16384)
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

from typing import Callable, Mapping

import attrs

__all__ = ["ConnectionLimits", "ConnectionCounters", "ConnectionContext", "EndpointStatistics", "COUNTERS"]

COUNTERS = (
    "accepted",  # TCP connections accepted
    "rejected",  # ... and closed at once: max_connections reached
    "active",  # connection processes running now
    "requests",  # HTTP requests read (upgrade requests included)
    "bad_requests",  # answered 400, 413 or 431
    "handler_errors",  # the handler raised: answered 500
    "upgrades",  # WebSockets opened
    "refused",  # upgrade requests refused (400 or 403)
    "messages_too_big",  # WebSockets closed with 1009
    "message_timeouts",  # WebSockets closed with 1008: a message begun was not finished in time
    "idle_timeouts",  # WebSockets closed for silence
    "outbound_overflows",  # WebSockets reset: the peer did not read
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

    Attributes:
        idle_timeout: seconds a connection may send nothing before it is closed.
        max_body_size: bytes in one request body; more is answered 413.
        max_header_size: bytes in a request line plus headers; more is answered 431.

    Raises:
        ValueError: a limit that is not a positive number (``max_body_size``
            may be 0: no bodies at all).
    """

    idle_timeout: float = attrs.field(default=60.0, validator=_positive_number)
    max_body_size: int = attrs.field(default=1 << 20, validator=_byte_count(0, "bytes of one request body"))
    max_header_size: int = attrs.field(
        default=16 * 1024, validator=_byte_count(1, "bytes of a request line plus headers")
    )


# ---------------------------------------------------------------- counters


@attrs.frozen
class EndpointStatistics:
    """A snapshot of an endpoint's counters, from :meth:`web.Endpoint.statistics`."""

    accepted: int
    rejected: int
    active: int
    requests: int
    bad_requests: int
    handler_errors: int
    upgrades: int
    refused: int
    messages_too_big: int
    message_timeouts: int
    idle_timeouts: int
    outbound_overflows: int
    bytes_in: int
    bytes_out: int


class ConnectionCounters:
    """The running counts of one endpoint (names in ``COUNTERS``); its connections add to them.

    Slotted integers, not a dict or a ``Counter``: ``bytes_in`` and
    ``bytes_out`` are bumped for every read and write of every WebSocket,
    and an attribute addition is the cheapest count there is.
    """

    __slots__ = COUNTERS

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
    """

    handler: Callable
    limits: ConnectionLimits
    counters: ConnectionCounters
    upgrades: Mapping[str, Callable] = attrs.field(factory=dict)
    endpoint: object = None

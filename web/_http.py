"""HTTP/1.1 on h11: one connection, served by its own process.

The endpoint's acceptor hands every accepted TCP stream to
:func:`serve_connection`, run as a temporary child of the endpoint's
connection supervisor (see :mod:`web.endpoint`). It reads requests with h11,
builds a :class:`Request`, awaits the application's handler and writes the
:class:`Response` it returns::

    async def handler(request: Request) -> Response:
        if request.path == "/hello":
            return Response(200, {"content-type": "text/plain"}, f"hi {request.query.get('name')}")
        return Response(404)

What happens when things go wrong, by design only to this connection:

==========================================  ==================================
event                                       answer
==========================================  ==================================
malformed request (h11 cannot parse it)     400, connection closed
request line + headers over h11's limit     431, connection closed
body over ``max_body_size``                 413, connection closed
handler raises                              500, connection closed, then the
                                            process crashes with the exception
                                            (crash report; siblings unaffected)
nothing received for ``idle_timeout``       connection closed
a request on a path in ``upgrades``         handed to that path's callable,
                                            which takes the connection over
==========================================  ==================================

Otherwise connections are kept alive (HTTP/1.1's default) and requests are
served one after the other.

What this layer is given
------------------------
Only what it needs, in one :class:`~web._limits.ConnectionContext`: the
handler, the :class:`~web._limits.ConnectionLimits` to enforce, the
:class:`~web._limits.ConnectionCounters` to add to, the endpoint's pid
(telemetry metadata) and ``upgrades``, a mapping from path to an
:data:`Upgrade` callable. The endpoint fills that mapping with the WebSocket
transport bound to each mount, so HTTP never imports the transport that
sits above it.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from typing import Awaitable, Callable
from urllib.parse import parse_qsl

import attrs
import h11
import trio

from otp import telemetry

from ._limits import ConnectionContext, ConnectionCounters, ConnectionLimits
from ._telemetry import CONNECTION_CLOSE, CONNECTION_OPEN

__all__ = ["Request", "Response", "Handler", "Upgrade", "serve_connection", "send_response", "next_event"]

logger = logging.getLogger("web")

RECEIVE_SIZE = 65536


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _as_header_dict(headers: object) -> dict[str, str]:
    items = headers.items() if isinstance(headers, dict) else headers
    return {str(name).lower(): str(value) for name, value in items}


@attrs.frozen
class Request:
    """One HTTP request, as the handler sees it.

    Attributes:
        method: ``"GET"``, ``"POST"``, ... (upper case).
        path: the target's path, percent-encoding left as sent (``"/a%20b"``).
        query: the query string parsed into a dict (the last value of a
            repeated key wins; blank values kept).
        headers: header names lower-cased; a repeated header's values are
            joined with ``", "``.
        peer: the client's ``(host, port)``.
        body: the request body (``b""`` when there is none).
        query_string: the raw query string, for repeated keys.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    peer: tuple
    body: bytes = b""
    query_string: str = ""


@attrs.frozen
class Response:
    """What a handler returns: ``Response(200, {"content-type": "text/plain"}, "hi")``.

    ``headers`` is a dict or a list of pairs (names are lower-cased);
    ``body`` is ``bytes`` or ``str`` (sent as UTF-8). ``content-length`` is
    set for you.
    """

    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict, converter=_as_header_dict)
    body: bytes = attrs.field(default=b"", converter=_as_bytes)


Handler = Callable[[Request], Awaitable[Response]]

#: ``await upgrade(conn, stream, request)``: take the connection over after
#: ``request`` was read (answer it, then speak another protocol, or refuse).
#: The connection is closed once it returns.
Upgrade = Callable[[h11.Connection, trio.SocketStream, Request, ConnectionContext], Awaitable[None]]


class _Idle(Exception):
    """Nothing arrived for ``idle_timeout`` seconds."""


class _TooLarge(Exception):
    """The request body is over ``max_body_size``."""


# ---------------------------------------------------------------- the connection


async def serve_connection(stream: trio.SocketStream, context: ConnectionContext) -> None:
    """Serve HTTP/1.1 requests on ``stream`` until either side closes it (the process body).

    Spawned as ``spawn_link(serve_connection, stream, context)``, the
    function itself and not a partial of it, so that crash reports and
    ``process_info`` name it.

    Args:
        stream: the accepted connection; closed when this returns.
        context: the endpoint's handler (every request not on an upgrade
            path), limits, counters (``active``, ``requests``,
            ``bad_requests``, ``handler_errors``), upgrade callables by path,
            and pid (telemetry metadata).
    """
    # No local aliases of context's fields here or in _serve_requests: these
    # frames live as long as the connection, and each local costs 8 bytes a connection.
    context.counters.active += 1
    peer = _peer_of(stream)
    opened = time.perf_counter()
    if telemetry.attached(CONNECTION_OPEN):
        telemetry.execute(
            CONNECTION_OPEN, {"active": context.counters.active}, {"endpoint": context.endpoint, "peer": peer}
        )
    try:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=context.limits.max_header_size)
        await _serve_requests(conn, stream, peer, context)
    finally:
        context.counters.active -= 1
        if telemetry.attached(CONNECTION_CLOSE):
            measurements = {"duration": time.perf_counter() - opened, "active": context.counters.active}
            telemetry.execute(CONNECTION_CLOSE, measurements, {"endpoint": context.endpoint, "peer": peer})
        with trio.CancelScope(shield=True):
            await stream.aclose()


async def _serve_requests(conn: h11.Connection, stream, peer: tuple, context: ConnectionContext) -> None:
    while True:
        try:
            request = await _read_request(conn, stream, peer, context.limits)
        except h11.RemoteProtocolError as e:
            context.counters.bad_requests += 1
            return await _send_error(conn, stream, e.error_status_hint)
        except _TooLarge:
            context.counters.bad_requests += 1
            return await _send_error(conn, stream, 413)
        except (_Idle, trio.BrokenResourceError, trio.ClosedResourceError):
            return
        if request is None:
            return  # the client closed the connection
        context.counters.requests += 1
        upgrade = context.upgrades.get(request.path) if context.upgrades else None
        if upgrade is not None:
            return await upgrade(conn, stream, request, context)
        await _respond(conn, stream, request, context.handler, context.counters)
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
            return
        conn.start_next_cycle()


async def _respond(conn: h11.Connection, stream, request: Request, handler: Handler, counters: ConnectionCounters) -> None:
    try:
        response = await handler(request)
        if not isinstance(response, Response):
            raise TypeError(
                f"the HTTP handler {handler!r} must return a web.Response, "
                f"e.g. Response(200, body=...); got {response!r}"
            )
    except Exception:
        # Answer 500, close, then crash this process with the exception: the
        # crash report names it, and only this connection is affected.
        counters.handler_errors += 1
        await _send_error(conn, stream, 500)
        raise
    await send_response(conn, stream, response)


# ---------------------------------------------------------------- reading


async def next_event(conn: h11.Connection, stream, idle_timeout: float) -> object:
    """The next h11 event, reading from ``stream`` as needed.

    Raises:
        _Idle: nothing arrived for ``idle_timeout`` seconds.
        h11.RemoteProtocolError: the peer sent something h11 cannot parse.
    """
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        with trio.move_on_after(idle_timeout):
            conn.receive_data(await stream.receive_some(RECEIVE_SIZE))
            continue
        raise _Idle()


async def _read_request(conn: h11.Connection, stream, peer: tuple, limits: ConnectionLimits) -> Request | None:
    event = await next_event(conn, stream, limits.idle_timeout)
    if isinstance(event, h11.ConnectionClosed):
        return None
    assert isinstance(event, h11.Request), event
    if _head_size(event) > limits.max_header_size:
        # h11 bounds only what it buffers of an *incomplete* head; one read can
        # bring a whole oversize head at once, so measure the parsed one too.
        raise h11.RemoteProtocolError("request line and headers too large", error_status_hint=431)
    body = await _read_body(conn, stream, limits)
    return _request_from(event, peer, body)


async def _read_body(conn: h11.Connection, stream, limits: ConnectionLimits) -> bytes:
    chunks, size = [], 0
    while True:
        event = await next_event(conn, stream, limits.idle_timeout)
        if isinstance(event, h11.Data):
            size += len(event.data)
            if size > limits.max_body_size:
                raise _TooLarge()
            chunks.append(event.data)
        elif isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
            return b"".join(chunks)
        else:  # ConnectionClosed mid-body
            raise h11.RemoteProtocolError("connection closed in the middle of the request body")


def _head_size(event: h11.Request) -> int:
    return len(event.method) + len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers.raw_items())


def _request_from(event: h11.Request, peer: tuple, body: bytes) -> Request:
    target = event.target.decode("latin-1")
    path, _, query_string = target.partition("?")
    headers: dict[str, str] = {}
    for name, value in event.headers:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    query = dict(parse_qsl(query_string, keep_blank_values=True))
    return Request(event.method.decode("ascii"), path, query, headers, peer, body, query_string)


def _peer_of(stream) -> tuple:
    try:
        return tuple(stream.socket.getpeername()[:2])
    except (OSError, AttributeError):
        return ("", 0)


# ---------------------------------------------------------------- writing


async def send_response(conn: h11.Connection, stream, response: Response) -> None:
    """Write ``response`` (status, headers, body with its ``content-length``) with h11."""
    headers = [(name, value) for name, value in response.headers.items() if name != "content-length"]
    headers.append(("content-length", str(len(response.body))))
    data = conn.send(h11.Response(status_code=response.status, headers=headers, reason=_reason(response.status)))
    data += conn.send(h11.Data(data=response.body)) if response.body else b""
    data += conn.send(h11.EndOfMessage())
    await stream.send_all(data)


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


async def _send_error(conn: h11.Connection, stream, status: int) -> None:
    # Only possible while we have not started a response (h11's trio example does the same).
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    try:
        await send_response(conn, stream, Response(status, {"connection": "close"}))
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.LocalProtocolError):
        pass  # the peer is gone: nobody to tell

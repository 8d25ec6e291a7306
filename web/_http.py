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

What happens when things go wrong, by design only to this connection (each
refusal answers with ``connection: close`` and ends the connection):

============================================  ====================================
event                                         answer
============================================  ====================================
malformed request (h11 cannot parse it)       400
both ``Content-Length`` and                   400, before the body is read: the
``Transfer-Encoding``, or                     two framings could be read two ways
``Transfer-Encoding`` in HTTP/1.0             (request smuggling, RFC 9112 §6.1)
a ``Transfer-Encoding`` other than chunked    501
an HTTP version other than 1.0 and 1.1        505 (the HTTP/2 preface, say)
``CONNECT`` (we are not a proxy)              501
request line + headers over                   431
``max_header_size``, or more than
``max_header_count`` headers
the head not in by ``header_timeout``         408; just closed if nothing came
(from the connection's start for its
first request, from the first byte of
later ones: a deadline, not an idle timer)
``Content-Length`` over ``max_body_size``     413 at once, body unread (no ``100
                                              Continue`` for ``Expect``)
body over ``max_body_size``                   413
a chunked body of more than                   400: the chunk rule below
1024 + size/64 chunks
the body not in by ``body_timeout`` after     408
its head
``Expect: 100-continue``                      ``100 Continue``, then the body is read
``HEAD``                                      the handler's status and headers, no body
handler raises                                500, then the process crashes with
                                              the exception (crash report on
                                              ``web.http``, with ``otp_url``;
                                              siblings unaffected)
the peer takes nothing of a response for      connection closed
``idle_timeout`` (per 64 KiB written)
the peer resets or closes, at any point       connection closed quietly: a normal
                                              end, no crash report
nothing received for ``idle_timeout``         connection closed
between two requests
a request on a path in ``upgrades``           handed to that path's callable,
                                              which takes the connection over
============================================  ====================================

Otherwise connections are kept alive (HTTP/1.1's default) and requests are
served one after the other, pipelined ones included. Refusals count as
``bad_requests``, missed deadlines as ``request_timeouts`` (see
:mod:`web._limits`).

The chunk rule: h11 hands over each chunk of a chunked body as an event of
its own, so a megabyte sent as a million one-byte chunks costs a million
events (seconds of CPU) for one request. A body may therefore have at most
1024 chunks plus one per 64 bytes it carries: clients chunk by their write
buffer (kilobytes), so none comes near it, and an attacker is stopped after
about 6 KB.

After a refusal the client may still be sending (the body we will not
read, say), and closing a socket with unread data resets it: the client
would see the reset, not the answer. So the connection is half-closed and
what still comes is read and dropped, until the client closes, for at most
``CLOSE_GRACE`` seconds and ``LINGER_BYTES``.

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
from typing import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from urllib.parse import parse_qsl

import attrs
import h11
import trio

from otp import telemetry
from otp.lowlevel import set_report_details

from ._limits import ConnectionContext, ConnectionCounters, ConnectionLimits
from ._telemetry import CONNECTION_CLOSE, CONNECTION_OPEN

__all__ = [
    "Request",
    "Response",
    "StreamingResponse",
    "ResponseWriter",
    "ClientDisconnected",
    "Handler",
    "Upgrade",
    "serve_connection",
    "send_response",
    "next_event",
]

logger = logging.getLogger("web.http")  # crash reports of a connection whose handler raised

RECEIVE_SIZE = 65536


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _as_header_dict(headers: Mapping[str, object] | Iterable[tuple[str, object]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    joined: dict[str, str] = {}
    for name, value in items:
        key = str(name).lower()
        # A name given twice (two set-cookie pairs) keeps both values, one per line: a header
        # value cannot hold a newline, so the line break can only mean "send it twice".
        joined[key] = f"{joined[key]}\n{value}" if key in joined else str(value)
    return joined


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
        http_version: ``"1.1"`` or ``"1.0"``, as the request line said.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    peer: tuple
    body: bytes = b""
    query_string: str = ""
    http_version: str = "1.1"


@attrs.frozen
class Response:
    """What a handler returns: ``Response(200, {"content-type": "text/plain"}, "hi")``.

    ``headers`` is a dict or a list of pairs (names are lower-cased); a
    header sent more than once (``set-cookie``) is given as several pairs,
    or as one value with a line per header (``"a=1\\nb=2"``).
    ``body`` is ``bytes`` or ``str`` (sent as UTF-8). ``content-length`` is
    set for you.
    """

    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict, converter=_as_header_dict)
    body: bytes = attrs.field(default=b"", converter=_as_bytes)


@attrs.frozen
class StreamingResponse:
    """A response whose body is written while it is produced: ``StreamingResponse(200, headers, pieces())``.

    ``body`` is an async iterable of ``bytes`` (or ``str``, sent as UTF-8);
    each piece goes to the peer as it comes, which must take it within
    ``idle_timeout``. With a ``content-length`` header the body must have
    exactly that many bytes; without one it is sent chunked (or, to an
    HTTP/1.0 client, until the connection closes). If the peer goes away
    meanwhile, the iteration stops there (the iterable is closed).

    Anything else with an ``async write_to(writer)`` method may be returned
    by a handler too: it is given a :class:`ResponseWriter` (this is how
    ``web.asgi`` lets an ASGI application write its response as it goes).
    """

    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict, converter=_as_header_dict)
    body: AsyncIterable[bytes | str] = attrs.field(factory=lambda: _no_pieces())

    async def write_to(self, writer: ResponseWriter) -> None:
        """Start the response, then write each piece of the body as it comes."""
        await writer.start(self.status, self.headers)
        body = self.body
        try:
            async for piece in body:
                await writer.write(_as_bytes(piece))
        finally:
            aclose = getattr(body, "aclose", None)
            if aclose is not None:
                await aclose()


async def _no_pieces() -> AsyncIterator[bytes]:
    return
    yield b""  # (an async generator that yields nothing)


class ClientDisconnected(OSError):
    """The peer went away (or took nothing of the response for ``idle_timeout``) while a response was written."""


class ResponseWriter:
    """Writes one streamed response on a connection: :meth:`start` once, then :meth:`write` the pieces.

    Given to a streamed response's ``write_to`` (see
    :class:`StreamingResponse`). The status and headers go out with the
    first piece, or at the end with ``content-length: 0`` if no piece came
    (a ``content-length`` given in the headers frames the body; without
    one it is chunked). Nothing of the body is sent for
    ``HEAD`` or a status that has none (1xx, 204, 304); what is written
    then is dropped.
    """

    def __init__(self, conn: h11.Connection, stream, method: str, idle_timeout: float) -> None:
        self.conn, self.stream, self.idle_timeout = conn, stream, idle_timeout
        self.method = method
        self.head: tuple[int, dict[str, str]] | None = None
        self.head_sent = False
        self.ended: bool | None = None  # what finish() said, once called

    @property
    def started(self) -> bool:
        """True once :meth:`start` was called."""
        return self.head is not None

    async def start(self, status: int, headers: Mapping[str, str]) -> None:
        """Give the response's status and headers (sent with the first piece of the body).

        Raises:
            RuntimeError: the response was started already.
        """
        if self.head is not None:
            raise RuntimeError("a response can be started only once")
        self.head = (status, _as_header_dict(headers))

    async def write(self, data: bytes) -> None:
        """Send ``data``, the next piece of the body (sending the head first, if not yet sent).

        Raises:
            ClientDisconnected: the peer is gone, or took nothing of it for ``idle_timeout``.
            RuntimeError: the response was not started.
        """
        if not self.head_sent:
            await self._send_head(None)
        if data and self._has_body():
            await self._send(self.conn.send(h11.Data(data=data)))

    async def finish(self) -> bool:
        """End the response (a body never written is empty); False if the peer is gone.

        May be called before the response's ``write_to`` returns (an ASGI
        application's background work goes on after its response ended); the
        endpoint's own call afterwards then only says how it went.
        """
        if self.ended is None:
            try:
                if not self.head_sent:
                    await self._send_head(0)
                await self._send(self.conn.send(h11.EndOfMessage()))
                self.ended = True
            except ClientDisconnected:
                self.ended = False
        return self.ended

    def _has_body(self) -> bool:
        assert self.head is not None
        status = self.head[0]
        return self.method != "HEAD" and status >= 200 and status not in (204, 304)

    async def _send_head(self, length: int | None) -> None:
        if self.head is None:
            raise RuntimeError("write the response's status and headers first (start)")
        status, headers = self.head
        pairs = list(_header_lines(headers))
        if length is not None and "content-length" not in headers and "transfer-encoding" not in headers:
            pairs.append(("content-length", str(length)))
        self.head_sent = True
        await self._send(self.conn.send(h11.Response(status_code=status, headers=pairs, reason=_reason(status))))

    async def _send(self, data: bytes | None) -> None:
        if data and not await _write(self.stream, [data], self.idle_timeout):
            raise ClientDisconnected("the client went away while the response was written")


Handler = Callable[[Request], Awaitable[Response]]

#: ``await upgrade(conn, stream, request, context)``: take the connection over
#: after ``request`` was read (answer it, then speak another protocol, or
#: refuse). The connection is closed once it returns. It is awaited once the
#: HTTP layer has let go of the h11 connection and the request: an upgrade
#: that no longer needs them after its handshake can drop them (``del``).
Upgrade = Callable[[h11.Connection, trio.SocketStream, Request, ConnectionContext], Awaitable[None]]


#: The chunk rule (see the module docstring): a chunked body may have at most
#: ``FREE_CHUNKS + size // MIN_AVERAGE_CHUNK`` chunks.
FREE_CHUNKS = 1024
MIN_AVERAGE_CHUNK = 64

#: A body's pieces kept as they came before the rest go into one bytearray (see ``_keep_piece``).
FEW_PIECES = 8

#: Bytes of a response written at a time; the peer must take each within ``idle_timeout``.
WRITE_SIZE = 65536

#: After a refusal: seconds to deliver the answer and drain what the client still sends, and the most to drain.
CLOSE_GRACE = 2.0
LINGER_BYTES = 1 << 20


class _Deadline(Exception):
    """The deadline given to :func:`next_event` passed before the event came."""


class _Refusal(Exception):
    """The request broke a rule: answer ``status`` (None: just close) and end the connection."""

    def __init__(self, status: int | None, why: str) -> None:
        super().__init__(why)
        self.status = status


class _TooSlow(_Refusal):
    """A request's head or body missed its deadline (``header_timeout``, ``body_timeout``)."""


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
            ``bad_requests``, ``request_timeouts``, ``handler_errors``),
            upgrade callables by path, and pid (telemetry metadata).
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
        # No local for the h11 connection: an upgraded connection keeps none of its HTTP state (see below).
        upgraded = await _serve_requests(
            h11.Connection(h11.SERVER, max_incomplete_event_size=context.limits.max_header_size), stream, peer, context
        )
        if upgraded is not None:
            await upgraded  # the upgrade's protocol (a WebSocket), for as long as the connection lives
    finally:
        context.counters.active -= 1
        if telemetry.attached(CONNECTION_CLOSE):
            measurements = {"duration": time.perf_counter() - opened, "active": context.counters.active}
            telemetry.execute(CONNECTION_CLOSE, measurements, {"endpoint": context.endpoint, "peer": peer})
        with trio.CancelScope(shield=True):
            await stream.aclose()
        context.reclaimer.connection_ended(context.endpoint)


async def _serve_requests(conn: h11.Connection, stream, peer: tuple, context: ConnectionContext) -> Awaitable[None] | None:
    """Serve requests until the connection ends (None), or return the upgrade that takes it over, to be awaited."""
    while True:
        try:
            request = await _read_request(conn, stream, peer, context)
        except (_Refusal, h11.RemoteProtocolError) as refusal:
            await _refuse(conn, stream, refusal, context.counters)
            return None
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return None  # the peer reset the connection: a normal end, nobody to answer
        if request is None:
            return None  # the client closed the connection, or was silent for too long
        context.counters.requests += 1
        upgrade = context.upgrades.get(request.path) if context.upgrades else None
        if upgrade is not None:
            # Not awaited here: this frame holds the h11 connection and the
            # request, and an upgraded connection may live for hours, on
            # every one of thousands (about 1.5 KB each).
            return upgrade(conn, stream, request, context)
        if not await _respond(conn, stream, request, context):
            return None  # the peer is gone, or took nothing of the response for idle_timeout
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
            return None
        conn.start_next_cycle()


async def _respond(conn: h11.Connection, stream, request: Request, context: ConnectionContext) -> bool:
    """Answer ``request`` with the handler's response; False if the connection must end."""
    try:
        response = await context.handler(request)
        if not isinstance(response, Response):
            if not callable(getattr(response, "write_to", None)):
                raise TypeError(
                    f"the HTTP handler {context.handler!r} must return a web.Response, "
                    f"e.g. Response(200, body=...), or a web.StreamingResponse; got {response!r}"
                )
            writer = ResponseWriter(conn, stream, request.method, context.limits.idle_timeout)
            await response.write_to(writer)
            return await writer.finish()
    except ClientDisconnected:
        return False  # the peer went away in the middle of a streamed response: a normal end
    except Exception:
        # Answer 500, close, then crash this process with the exception: the
        # crash report names it, and only this connection is affected.
        context.counters.handler_errors += 1
        _describe_crash(request)
        await _send_error(conn, stream, 500)
        raise
    pieces = _response_bytes(conn, response, with_body=request.method != "HEAD")
    return await _write(stream, pieces, context.limits.idle_timeout)


def _describe_crash(request: Request) -> None:
    # Set only once the handler has failed: nothing is paid per request. The
    # path, not the query string, which may carry tokens.
    details: dict[str, object] = {"request": f"{request.method} {request.path}"}
    set_report_details(lambda: details, logger=logger, fields={"otp_url": request.path})


async def _refuse(
    conn: h11.Connection, stream, refusal: _Refusal | h11.RemoteProtocolError, counters: ConnectionCounters
) -> None:
    """Count a refused request, answer it (unless there is no answer to give), and linger before the close."""
    if isinstance(refusal, _TooSlow):
        counters.request_timeouts += 1
    else:
        counters.bad_requests += 1
    status = refusal.status if isinstance(refusal, _Refusal) else refusal.error_status_hint
    if status is not None:
        await _send_error(conn, stream, status, linger=True)


# ---------------------------------------------------------------- reading


async def next_event(conn: h11.Connection, stream, deadline: float) -> object:
    """The next h11 event, reading from ``stream`` as needed until ``deadline`` (``trio.current_time()`` based).

    Raises:
        _Deadline: the deadline passed first.
        h11.RemoteProtocolError: the peer sent something h11 cannot parse.
        trio.BrokenResourceError: the peer reset the connection.
    """
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        await _receive(conn, stream, deadline)


async def _receive(conn: h11.Connection, stream, deadline: float) -> None:
    """Hand h11 the next bytes the peer sends (``b""`` at EOF); raise :class:`_Deadline` at ``deadline``."""
    with trio.move_on_at(deadline):
        conn.receive_data(await stream.receive_some(RECEIVE_SIZE))
        return
    raise _Deadline()


async def _read_request(conn: h11.Connection, stream, peer: tuple, context: ConnectionContext) -> Request | None:
    """The next request, body included; None if the client closed the connection or stayed silent.

    Raises:
        _Refusal: the request broke a rule (``_TooSlow``: a deadline passed).
        h11.RemoteProtocolError: h11 could not parse it.
    """
    head = await _read_head(conn, stream, context)
    if head is None:
        return None
    _check_head(head, context.limits)
    body = await _read_body(conn, stream, context.limits)
    return _request_from(head, peer, body)


async def _read_head(conn: h11.Connection, stream, context: ConnectionContext) -> h11.Request | None:
    """The next request's line and headers, by ``header_timeout``; None if the client closed, stayed silent
    or was evicted (see :func:`_read_first_head`)."""
    limits = context.limits
    if conn.their_http_version is None:
        return await _read_first_head(conn, stream, context)
    if not conn.trailing_data[0]:
        # Between two requests of a keep-alive connection (nothing of the next
        # one pipelined yet): silence is allowed for idle_timeout, and the head's
        # deadline starts with its first byte.
        try:
            await _receive(conn, stream, trio.current_time() + limits.idle_timeout)
        except _Deadline:
            return None
    return await _head_by_deadline(conn, stream, limits)


async def _read_first_head(conn: h11.Connection, stream, context: ConnectionContext) -> h11.Request | None:
    """A new connection's first request head; None if evicted to make room for a newer connection.

    While it waits, the connection holds a seat in ``context.waiting_heads``:
    at ``max_connections`` the acceptor evicts the connection that has
    waited longest for its first head (a slowloris holds seats this way and
    nothing else), rather than refusing the newcomer. Connections that
    completed a request are never evicted.
    """
    seat = trio.CancelScope()
    context.waiting_heads[seat] = None
    try:
        with seat:
            return await _head_by_deadline(conn, stream, context.limits)
        return None  # evicted: the acceptor cancelled the seat
    finally:
        context.waiting_heads.pop(seat, None)
        if seat.cancelled_caught:
            context.counters.evicted += 1


async def _head_by_deadline(conn: h11.Connection, stream, limits: ConnectionLimits) -> h11.Request | None:
    try:
        event = await next_event(conn, stream, trio.current_time() + limits.header_timeout)
    except _Deadline:
        # Nothing at all on a new connection: nobody to answer, only a socket to free.
        status = 408 if conn.trailing_data[0] else None
        raise _TooSlow(status, "the request's head did not arrive within header_timeout") from None
    if isinstance(event, h11.ConnectionClosed):
        return None
    assert isinstance(event, h11.Request), event
    return event


def _check_head(head: h11.Request, limits: ConnectionLimits) -> None:
    """Refuse a request on its head alone, before reading a byte of its body."""
    if head.http_version not in (b"1.0", b"1.1"):
        raise _Refusal(505, f"HTTP/{head.http_version.decode()} is not spoken here")
    if head.method == b"CONNECT":
        # A proxy's method. h11 would take any 2xx answer for a switch to a
        # tunnel, and the handler's body could not be written.
        raise _Refusal(501, "CONNECT: this is not a proxy")
    if _head_size(head) > limits.max_header_size:
        # h11 bounds only what it buffers of an *incomplete* head; one read can
        # bring a whole oversize head at once, so measure the parsed one too.
        raise _Refusal(431, "request line and headers too large")
    if len(head.headers) > limits.max_header_count:
        raise _Refusal(431, f"more than {limits.max_header_count} headers")
    names = {name for name, _ in head.headers}
    if b"transfer-encoding" in names and (b"content-length" in names or head.http_version == b"1.0"):
        # A front proxy may frame the body by the other header: what it takes
        # for the body's end, we would take for a second request.
        raise _Refusal(400, "Transfer-Encoding with Content-Length, or in HTTP/1.0")
    if _content_length(head) > limits.max_body_size:
        raise _Refusal(413, "Content-Length over max_body_size")


def _content_length(head: h11.Request) -> int:
    # h11 has checked that it is digits, and that repeated ones agree.
    return next((int(value) for name, value in head.headers if name == b"content-length"), 0)


async def _read_body(conn: h11.Connection, stream, limits: ConnectionLimits) -> bytes:
    """The request's body, by ``body_timeout`` after its head (``100 Continue`` first if the client waits for it)."""
    deadline = trio.current_time() + limits.body_timeout
    try:
        if conn.they_are_waiting_for_100_continue:
            await _send_by(stream, conn.send(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")), deadline)
        return await _collect_body(conn, stream, limits, deadline)
    except _Deadline:
        raise _TooSlow(408, "the request's body did not arrive within body_timeout") from None


async def _collect_body(conn: h11.Connection, stream, limits: ConnectionLimits, deadline: float) -> bytes:
    pieces: list = []
    size = chunks = 0
    while True:
        event = await next_event(conn, stream, deadline)
        if isinstance(event, h11.Data):
            size, chunks = size + len(event.data), chunks + event.chunk_start
            _check_body(size, chunks, limits)
            _keep_piece(pieces, event.data)
        elif isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
            return b"".join(pieces)
        else:  # ConnectionClosed mid-body
            raise h11.RemoteProtocolError("connection closed in the middle of the request body")


def _keep_piece(pieces: list, data: bytes) -> None:
    """Keep a piece of a body: as it came while the pieces are few, then in one growing bytearray.

    Few pieces (the usual body) are joined once at the end, a body in one
    piece not even copied. Many are appended to one bytearray, so that memory
    stays in proportion to the body however it is cut: a list of a million
    1-byte ``bytes`` costs about 60 MB.
    """
    if len(pieces) < FEW_PIECES:
        pieces.append(data)
    elif len(pieces) == FEW_PIECES:
        pieces.append(bytearray(data))
    else:
        pieces[-1] += data


def _check_body(size: int, chunks: int, limits: ConnectionLimits) -> None:
    if size > limits.max_body_size:
        raise _Refusal(413, "body over max_body_size")
    if chunks > FREE_CHUNKS + size // MIN_AVERAGE_CHUNK:
        raise _Refusal(400, f"{chunks} chunks for a body of {size} bytes (the chunk rule)")


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
    method = event.method.decode("ascii")
    return Request(method, path, query, headers, peer, body, query_string, _VERSIONS[event.http_version])


# Shared strings, not one decoded per request: a WebSocket's upgrade request
# lives as long as the socket. (_check_head let no other version through.)
_VERSIONS = {b"1.0": "1.0", b"1.1": "1.1"}


def _peer_of(stream) -> tuple:
    try:
        return tuple(stream.socket.getpeername()[:2])
    except (OSError, AttributeError):
        return ("", 0)


# ---------------------------------------------------------------- writing


async def send_response(conn: h11.Connection, stream, response: Response) -> None:
    """Write ``response`` (status, headers, body with its ``content-length``) with h11.

    Raises:
        trio.BrokenResourceError: the peer reset the connection.
    """
    await stream.send_all(b"".join(_response_bytes(conn, response)))


def _response_bytes(conn: h11.Connection, response: Response, *, with_body: bool = True) -> list[bytes]:
    """The response's bytes, in pieces (the body as it is, not copied); ``with_body=False`` for ``HEAD``.

    A response to ``HEAD`` keeps the ``content-length`` the body would have
    (RFC 9110 §9.3.2): h11 frames it as empty whatever the header says.
    """
    headers = [(name, value) for name, value in _header_lines(response.headers) if name != "content-length"]
    headers.append(("content-length", str(len(response.body))))
    pieces = [conn.send(h11.Response(status_code=response.status, headers=headers, reason=_reason(response.status)))]
    if response.body and with_body:
        pieces += conn.send_with_data_passthrough(h11.Data(data=response.body)) or []  # None: only for ConnectionClosed
    pieces.append(conn.send(h11.EndOfMessage()))
    return pieces


def _header_lines(headers: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """Each header to send: a value of several lines is that header sent once per line (see ``Response``)."""
    for name, value in headers.items():
        if "\n" in value:
            for line in value.split("\n"):
                yield name, line
        else:
            yield name, value


async def _write(stream, pieces: list[bytes], idle_timeout: float) -> bool:
    """Write ``pieces``; False if the peer reset the connection or took nothing of it for ``idle_timeout``.

    Each write of at most ``WRITE_SIZE`` bytes has its own deadline: a peer
    that reads slowly gets a big response in the end, one that stops reading
    (its requests pipelined, its window closed) loses the connection instead
    of holding it for ever.
    """
    try:
        for data in _writes(pieces):
            with trio.move_on_after(idle_timeout):
                await stream.send_all(data)
                continue
            return False
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return False
    return True


def _writes(pieces: list[bytes]) -> Iterator[bytes | memoryview]:
    """The writes for ``pieces``: a small response in one (one syscall, one segment), a big one in slices."""
    if sum(map(len, pieces)) <= WRITE_SIZE:
        yield b"".join(pieces)
        return
    for piece in pieces:
        view = memoryview(piece)
        for start in range(0, len(view), WRITE_SIZE):
            yield view[start : start + WRITE_SIZE]


async def _send_by(stream, data, deadline: float) -> None:
    """``stream.send_all(data)``; raise :class:`_Deadline` if the peer has not taken it by ``deadline``."""
    with trio.move_on_at(deadline):
        await stream.send_all(data)
        return
    raise _Deadline()


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


async def _send_error(conn: h11.Connection, stream, status: int, *, linger: bool = False) -> None:
    """Answer ``status`` with ``connection: close``, within ``CLOSE_GRACE``; quiet if the peer is gone.

    With ``linger``, then half-close and drain what the client still sends
    (see the module docstring), so that it reads the answer, not a reset.
    """
    # Only possible while we have not started a response (h11's trio example does the same).
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    with trio.move_on_after(CLOSE_GRACE):
        try:
            await send_response(conn, stream, Response(status, {"connection": "close"}))
            if linger:
                await stream.send_eof()
                await _drain(stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.LocalProtocolError):
            pass  # the peer is gone: nobody to tell


async def _drain(stream) -> None:
    """Read and drop what the peer sends, until it closes or ``LINGER_BYTES`` went by."""
    drained = 0
    while drained < LINGER_BYTES:
        data = await stream.receive_some(RECEIVE_SIZE)
        if not data:
            return
        drained += len(data)

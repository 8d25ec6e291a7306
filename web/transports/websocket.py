"""The WebSocket transport: upgrade or refuse, then move frames (docs/protocol/channels.md, "Connecting").

Example
-------
An echo server on ``/socket/websocket``::

    from web import Endpoint, Response, SocketHandler, WebSocket

    class Echo(SocketHandler):
        async def on_open(self, sender):
            self.sender = sender
        async def on_text(self, text):
            self.sender.send_text(text)
        async def on_binary(self, data):
            self.sender.send_binary(data)

    async def refuse_strangers(info):            # optional: the accept hook
        return info.params.get("user") == "alice"

    ws = WebSocket(handler=lambda info, accepted: Echo(), accept=refuse_strangers)
    endpoint = await Endpoint.start_link(http_handler, port=4000, websocket=ws)

The upgrade
-----------
A request on ``WebSocket.path`` is checked in this order; the first failing
check answers and closes the connection (no WebSocket is opened):

=========================================================  ===========
check                                                      refusal
=========================================================  ===========
method is ``GET``, over HTTP/1.1                           400
``Upgrade: websocket``, ``Connection: upgrade``,           400
``Sec-WebSocket-Version: 13`` (exactly: not a list)
``Sec-WebSocket-Key`` is 16 bytes in base64 (RFC 6455      400
§4.1: 24 ASCII characters)
``Host`` is a host and port urllib can parse (not ``[``)   400
``Origin``, when sent, is a URL urllib can parse           400
(not ``http://[``, not a port over 65535)
``Origin`` allowed (see ``check_origin``)                  403
the ``phoenix`` auth-token subprotocol decodes             400
``accept(connect_info)`` is truthy                         403, empty body
=========================================================  ===========

No header value makes :func:`negotiate` raise: whatever h11 lets through
(any Latin-1 text, repeated headers joined with ``", "``) gets one of these
answers. If the peer resets the connection before the refusal or the 101 is
written, the connection ends quietly (a normal end, no crash report).

``accept`` (sync or async) gets a :class:`ConnectInfo`: headers, peer, path,
query params and the decoded auth token. Its result is handed to the
``handler`` factory as ``accepted``: return ``True`` or any object (the
socket's assigns, say) to accept, ``False`` or ``None`` to refuse.

Subprotocols: when the client offers ``phoenix`` (phoenix.js does when given
an ``authToken``, together with ``base64url.bearer.phx.<token>``), the
server selects ``phoenix`` (browsers fail the handshake otherwise) and
exposes the decoded token as ``ConnectInfo.token``.

After the upgrade
-----------------
The connection process calls the :class:`SocketHandler`, one callback at a
time: ``on_open(sender)``, then ``on_text``/``on_binary`` per complete
message (and ``on_info`` per message sent to the process, if it takes
them), and ``on_close(code)`` once the connection is closed. Pings are
answered. The :class:`~web.transports._session.Sender` writes frames from
any process: straight to the socket, as far as it takes them at once; what
it does not take is queued, and the connection's process writes it before
it reads on.

============================================  =====================================
situation                                     what happens (code given to on_close)
============================================  =====================================
peer closes with a code                       close frame echoed; that code
sender.close(code)                            close handshake; ``code``
a message over ``max_message_size`` bytes     close 1009 (counter ``messages_too_big``)
(counted as its fragments arrive; a
compressed one as it inflates)
a compressed frame that does not inflate      close 1007
a message begun not finished within           close 1008 (counter ``message_timeouts``)
``message_timeout`` s
nothing received for ``idle_timeout`` s       close 1001 (counter ``idle_timeouts``)
peer does not answer our close in             TCP closed; our code
``close_timeout`` s
peer vanishes (EOF, reset)                    1006
outbound buffer over ``max_outbound_bytes``   reset, warning logged, 1006 (counter
(frames, pongs and close frame alike)         ``outbound_overflows``)
peer reads nothing while frames wait          it is read no more until it does (what
for it                                        it sends waits in TCP); after
                                              ``idle_timeout`` s, close 1001
peer pings after our close frame              no pong (nothing may follow a close)
a callback raises                             close 1011, no ``on_close``; the
                                              process crashes with the exception
the endpoint shuts down (process killed)      close 1012 if it can be sent at once
============================================  =====================================

Compression
-----------
permessage-deflate (RFC 7692) is off unless the mount turns it on, as in
Phoenix (whose socket transports default to ``compress: false``): a client
that offers it (browsers always do, and so does Node's ``ws``) gets plain
frames and a 101 without ``Sec-WebSocket-Extensions``. Compression costs
CPU on both sides for every frame, and memory on ours for every socket.
Ten clients of the official ``phoenix`` library over ``ws``, each pushing
a ping as soon as the last was answered, for 10 s, against the demo chat
on two workers: 9,475-12,643 round trips a second with compression
agreed, 23,888-24,437 with it declined. And each socket keeps a
compressor: ~11 KB of server RSS (46 KB a socket instead of 34 in
``python -m benchmarks web-deflate``). What it buys is bytes on the wire
(a chat push of 138 bytes of text goes in 15, a LiveView click's diff of
96 in 13): worth it where bandwidth is dear (slow or metered links) or
frames are big.

``compress=True`` turns it on with :class:`Deflate`'s defaults;
``compress=Deflate(...)`` with other options; ``compress=False`` (or
None, the default) leaves it off. On, a client that offers it gets it and
the 101 says what was agreed in ``Sec-WebSocket-Extensions``; a client
that does not gets plain frames. What a handler sends and receives is the
same text either way: compressing and inflating happen in the transport.
The defaults of :class:`Deflate` were chosen for many small frames
(channel pushes, LiveView diffs) on many sockets:

==================================  =========================================================
default                             why, and what it costs (tracemalloc, per open socket)
==================================  =========================================================
our context kept between messages   a frame like an earlier one costs a few bytes: 50 chat
(``server_context_takeover``)       messages of ~90 B (4.5 KB) went out in 480 B (each
                                    compressed alone: 4.2 KB); costs our compressor's
                                    window and tables: ~10 KiB (12 KB of RSS)
a 1 KiB window, zlib memLevel 1     such frames compress nearly as well as with zlib's
(``server_max_window_bits=10``,     defaults (32 KiB, memLevel 8: 440 B above), which keep
``mem_level=1``)                    260 KiB per socket, 2.6 GB for 10,000 sockets
the client keeps no context         our inflater exists only while a compressed message
(``client_no_context_takeover``)    arrives, instead of up to 40 KiB per socket for good;
                                    clients send little, so little is lost
==================================  =========================================================

Without context takeover (``Deflate(server_context_takeover=False)``, or a
client that asks for ``server_no_context_takeover``) a socket keeps no
compressor: each message is compressed alone by one compressor the node
shares, and a message that would not shrink (most under ~100 bytes) is sent
plain. Big frames (join replies, renders) shrink as well either way.

Limits hold on what was sent, not on what went over the wire:
``max_message_size`` counts a compressed message's bytes as they inflate,
and zlib is never asked for more than one byte past what is left, so a
message of a few KiB that would inflate to gigabytes (a "zip bomb") is
refused with 1009 having cost at most ``max_message_size``. The other way,
``max_outbound_bytes`` and the endpoint's ``max_outbound_total`` count the
compressed frames: the bytes queued are the bytes held. ``bytes_in`` and
``bytes_out`` count what went over the wire, compressed.

A closed connection's objects (session, sender, handler) are freed by
reference counting as soon as its process ends, without waiting for a
garbage collection; a shed peer's queued bytes go back to the system.

Telemetry: ``("web", "websocket", "open")`` once upgraded, ``("web",
"websocket", "close")`` with the connection's duration, bytes and frames in
and out, and its code, and ``("web", "websocket", "shed")`` for the reset of
a peer that does not read (see ``otp.telemetry``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import time
from typing import Callable, Sequence
from urllib.parse import urlsplit

import attrs
import h11
import trio
from wsproto.connection import Connection, ConnectionType
from wsproto.extensions import Extension
from wsproto.utilities import generate_accept_token

from otp import telemetry

from .._http import Request, Response, Upgrade, send_response
from .._limits import ConnectionContext, ConnectionCounters
from .._telemetry import WEBSOCKET_CLOSE, WEBSOCKET_OPEN
from ._deflate import Deflate, DeflateAgreement, DeflateCodec, deflate_option, negotiate_deflate
from ._longpoll_options import LongPoll, longpoll_option
from ._session import (
    ABNORMAL_CLOSURE,
    GOING_AWAY,
    INTERNAL_ERROR,
    MESSAGE_TOO_BIG,
    NORMAL_CLOSURE,
    SERVICE_RESTART,
    Sender,
    Session,
)

__all__ = [
    "WebSocket",
    "SocketHandler",
    "ConnectInfo",
    "Sender",
    "Offer",
    "Deflate",
    "negotiate",
    "upgrade",
    "upgrader",
    "NORMAL_CLOSURE",
    "GOING_AWAY",
    "ABNORMAL_CLOSURE",
    "MESSAGE_TOO_BIG",
    "INTERNAL_ERROR",
    "SERVICE_RESTART",
    "PHOENIX_SUBPROTOCOL",
    "TOKEN_PREFIX",
]

PHOENIX_SUBPROTOCOL = "phoenix"
TOKEN_PREFIX = "base64url.bearer.phx."


# ---------------------------------------------------------------- the public pieces


class SocketHandler:
    """What the transport calls, one at a time, in the connection process. Override what you need.

    Every callback is async and may await (a call to a channel process, say);
    the next message is read only once it returns.
    """

    __slots__ = ()  # a subclass may declare its own and keep no __dict__ a connection

    async def on_open(self, sender: Sender) -> None:
        """The WebSocket is open; keep ``sender`` to write to it."""

    async def on_text(self, text: str) -> None:
        """A complete text message arrived."""

    async def on_binary(self, data: bytes) -> None:
        """A complete binary message arrived."""

    async def on_info(self, message: object) -> None:
        """A message sent to the connection process (a monitor's ``Down``, a broadcast...).

        Only a handler that overrides this gets them: a message then wakes
        the process from its read, and the handler takes it between two of
        the client's messages, as one more callback. Otherwise they stay in
        the mailbox, unread.
        """

    async def on_close(self, code: int) -> None:
        """The connection is closed (see the module table for ``code``)."""


@attrs.frozen
class ConnectInfo:
    """What the ``accept`` hook and the handler factory know about the connecting client.

    Attributes:
        headers: the upgrade request's headers, names lower-cased.
        peer: the client's ``(host, port)``.
        path: the request path (the mount).
        params: the query string, parsed (phoenix.js puts its connect params there).
        token: the auth token from the ``phoenix`` subprotocol, decoded; None if not sent.
        subprotocol: the subprotocol selected (``"phoenix"``) or None.
    """

    headers: dict[str, str]
    peer: tuple
    path: str
    params: dict[str, str]
    token: str | None = None
    subprotocol: str | None = None


def _check_origin_option(instance, attribute, value) -> None:
    if isinstance(value, bool):
        return
    if not (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
        raise TypeError(
            f"check_origin must be True (same host as the request), False (no check) or a list of origins "
            f'like ["https://example.com", "//*.example.com"]; got {value!r}'
        )
    for allowed in value:
        _check_origin_pattern(allowed)


def _check_origin_pattern(allowed: str) -> None:
    # Checked once, here: a pattern that cannot match would refuse every browser
    # with a 400 at run time, which looks like an attack rather than a typo.
    try:
        parts = urlsplit(allowed if "//" in allowed else "//" + allowed)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number up to 65535
    except ValueError as error:
        raise ValueError(f"check_origin: {allowed!r} is not an origin ({error})") from None
    if not parts.hostname:
        raise ValueError(f'check_origin: {allowed!r} names no host (like "https://example.com" or "//*.example.com")')


@attrs.frozen
class WebSocket:
    """Where and how the endpoint accepts WebSockets.

    Attributes:
        handler: ``handler(connect_info, accepted) -> SocketHandler``, called in
            the connection process once the upgrade is accepted.
        path: the mount (phoenix.js connects to ``<mount>/websocket``).
        accept: ``accept(connect_info)``, sync or async; truthy accepts (the
            value is passed to ``handler``), ``False``/``None`` refuses with 403.
        check_origin: ``True`` (default): an ``Origin`` header must name the
            request's own host; a list of allowed origins
            (``"https://example.com"``, ``"//example.com"`` for any scheme and
            port, ``"//*.example.com"`` for subdomains); ``False``: no check.
            Requests without ``Origin`` (non-browser clients) pass, as in Phoenix.
        max_message_size: bytes in one message (all its frames, text counted
            in UTF-8); more closes with 1009.
        message_timeout: seconds from a message's first fragment to its last;
            later closes with 1008 (a peer trickling a message slowly holds up
            to ``max_message_size`` bytes of ours meanwhile).
        idle_timeout: seconds without receiving anything before closing with 1001.
        max_outbound_bytes: bytes queued for a peer that does not read before
            the connection is reset. Everything queued counts: frames, pongs,
            the close frame (which alone may pass it by 127 bytes).
        close_timeout: seconds to wait for the peer's close frame (and to flush).
        longpoll: also serve this socket over long-poll, beside the WebSocket
            (``True``, or a :class:`~web.transports.longpoll.LongPoll` with
            options; default ``None``: not); see :mod:`web.transports.longpoll`.
        compress: permessage-deflate with the clients that offer it:
            ``True`` (:class:`Deflate` with its defaults) or a
            :class:`Deflate` with options; ``False`` or None (the default,
            as in Phoenix): never, whatever the client offers. See
            "Compression" above for what it saves and what it costs.
    """

    handler: Callable[[ConnectInfo, object], SocketHandler]
    path: str = "/socket/websocket"
    accept: Callable | None = None
    check_origin: bool | Sequence[str] = attrs.field(default=True, validator=_check_origin_option)
    max_message_size: int = 1 << 20
    message_timeout: float = 30.0
    idle_timeout: float = 60.0
    max_outbound_bytes: int = 4 << 20
    close_timeout: float = 5.0
    longpoll: LongPoll | None = attrs.field(default=None, converter=longpoll_option)
    compress: Deflate | None = attrs.field(default=None, converter=deflate_option)


@attrs.frozen
class Offer:
    """An upgrade request that passed the checks: what to answer with, what to tell ``accept``.

    ``deflate`` is the permessage-deflate agreement, or None when the client
    offered none we accept (or the mount does not compress, the default).
    """

    connect_info: ConnectInfo
    accept_key: str
    deflate: DeflateAgreement | None = None


# ---------------------------------------------------------------- negotiation (pure)


def negotiate(request: Request, options: WebSocket) -> Offer | Response:
    """Check an upgrade request; return the :class:`Offer`, or the refusal to send.

    Pure: the ``accept`` hook is not called here.

    >>> headers = {"upgrade": "websocket", "connection": "Upgrade", "sec-websocket-version": "13",
    ...            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "host": "example.com",
    ...            "origin": "https://example.com", "sec-websocket-protocol": "phoenix, base64url.bearer.phx.c2VjcmV0"}
    >>> offer = negotiate(Request("GET", "/socket/websocket", {"vsn": "2.0.0"}, headers, ("127.0.0.1", 5)),
    ...                   WebSocket(handler=None))
    >>> offer.accept_key, offer.connect_info.token, offer.connect_info.subprotocol
    ('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'secret', 'phoenix')
    >>> negotiate(Request("POST", "/socket/websocket", {}, headers, ("127.0.0.1", 5)), WebSocket(handler=None)).status
    400
    >>> negotiate(Request("GET", "/socket/websocket", {}, {**headers, "origin": "http://["}, ("127.0.0.1", 5)),
    ...           WebSocket(handler=None)).status
    400
    """
    headers = request.headers
    if request.method != "GET" or request.http_version != "1.1" or not _is_upgrade(headers):
        return Response(400)
    try:
        allowed = origin_allowed(headers.get("origin"), headers.get("host", ""), options.check_origin)
    except ValueError:
        return Response(400)  # an Origin urllib cannot parse: malformed, not foreign
    if not allowed:
        return Response(403)
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    try:
        token = _auth_token(offered)
    except ValueError:
        return Response(400)
    subprotocol = PHOENIX_SUBPROTOCOL if PHOENIX_SUBPROTOCOL in offered else None
    info = ConnectInfo(headers, request.peer, request.path, request.query, token, subprotocol)
    key = generate_accept_token(headers["sec-websocket-key"].encode("ascii")).decode("ascii")
    return Offer(info, key, negotiate_deflate(headers.get("sec-websocket-extensions"), options.compress))


def _is_upgrade(headers: dict[str, str]) -> bool:
    """The headers ask for a WebSocket, version 13, with a well-formed key, on a well-formed Host."""
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    return (
        headers.get("upgrade", "").lower() == "websocket"
        and "upgrade" in tokens
        and headers.get("sec-websocket-version") == "13"
        and _is_key(headers.get("sec-websocket-key", ""))
        and _is_authority(headers.get("host", ""))
    )


def _is_key(key: str) -> bool:
    """A ``Sec-WebSocket-Key`` is 16 bytes in base64 (RFC 6455 §4.1); anything else would be hashed blindly."""
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (UnicodeEncodeError, binascii.Error):
        return False


def _is_authority(host: str) -> bool:
    """``host`` (a ``Host`` header) parses as a host and an optional port."""
    try:
        _split_url("//" + host)
    except ValueError:
        return False
    return True


def _split_url(url: str):
    """``urlsplit(url)`` with its port checked too (urllib raises only once ``.port`` is read).

    Raises:
        ValueError: ``url`` is not one urllib can parse: ``http://[``, a port
            that is not a number up to 65535, a host that NFKC-normalises to
            a ``/`` or ``#``.
    """
    parts = urlsplit(url)
    _ = parts.port
    return parts


def _auth_token(offered: list[str]) -> str | None:
    """The token in ``base64url.bearer.phx.<token>``: base64 without ``=`` padding.

    The subprotocol is described in docs/protocol/channels.md, "Connecting".

    phoenix.js encodes with ``btoa`` (the standard alphabet) despite the
    name; the URL-safe alphabet is accepted too.

    Raises:
        ValueError: the entry is there but does not decode to UTF-8 text.
    """
    for entry in offered:
        if entry.startswith(TOKEN_PREFIX):
            encoded = entry[len(TOKEN_PREFIX) :]
            padded = encoded + "=" * (-len(encoded) % 4)
            try:
                return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as e:
                raise ValueError(f"undecodable auth token {entry!r}") from e
    return None


def origin_allowed(origin: str | None, host: str, check: bool | Sequence[str]) -> bool:
    """Whether a WebSocket from ``origin`` may connect (Phoenix's ``check_origin``).

    >>> origin_allowed("https://example.com", "example.com:4000", True)
    True
    >>> origin_allowed("https://evil.com", "example.com", True)
    False
    >>> origin_allowed("http://a.example.com:81", "x", ["//*.example.com"])
    True
    >>> origin_allowed("http://example.com", "x", ["https://example.com"])
    False

    Raises:
        ValueError: ``origin`` (or ``host``, when compared with it) is not a
            URL urllib can parse (``http://[``); :func:`negotiate` answers 400.
    """
    if check is False or origin is None:
        return True
    parts = _split_url(origin)
    if not parts.hostname:
        return False
    if check is True:
        return parts.hostname == (_split_url("//" + host).hostname or "")
    return any(_origin_matches(parts, allowed) for allowed in check)


def _origin_matches(parts, allowed: str) -> bool:
    want = _split_url(allowed if "//" in allowed else "//" + allowed)
    if want.scheme and want.scheme != parts.scheme:
        return False
    if want.port is not None and want.port != parts.port:
        return False
    host = want.hostname or ""
    if host.startswith("*."):
        return parts.hostname.endswith(host[1:])
    return parts.hostname == host


# ---------------------------------------------------------------- the upgrade (in the connection process)


def upgrader(options: WebSocket) -> Upgrade:
    """The :data:`~web._http.Upgrade` callable the endpoint mounts on ``options.path``.

    The connection's context, given with each request, says where it counts
    ``upgrades``, ``refused`` and the WebSocket counters (see
    :class:`~web.transports._session.Session`), and the endpoint's pid.
    """
    return functools.partial(upgrade, options=options)


async def upgrade(
    conn: h11.Connection,
    stream: trio.SocketStream,
    request: Request,
    context: ConnectionContext,
    *,
    options: WebSocket,
) -> None:
    """Answer an upgrade request on the mount: refuse it, or open the WebSocket and serve it."""
    offer = negotiate(request, options)
    if isinstance(offer, Response):
        return await _refuse(conn, stream, offer, context.counters)
    accepted = True if options.accept is None else await _maybe_await(options.accept(offer.connect_info))
    if accepted is False or accepted is None:
        return await _refuse(conn, stream, Response(403), context.counters)
    handler = options.handler(offer.connect_info, accepted)
    context.counters.upgrades += 1  # before the 101: a client that has it sees itself counted
    if not await _switch_protocols(conn, stream, offer):
        return  # the peer reset the connection before the 101: a normal end
    ws = Connection(ConnectionType.SERVER, _extensions(offer, options), trailing_data=conn.trailing_data[0])
    session = Session(ws, stream, request.peer, options, context)
    # What the handshake needed (the h11 state, the request, the offer and
    # its headers): an open WebSocket keeps none of it, on every connection.
    del conn, request, offer, accepted
    opened = time.perf_counter()
    if telemetry.attached(WEBSOCKET_OPEN):
        telemetry.execute(WEBSOCKET_OPEN, {"upgrades": context.counters.upgrades}, session.telemetry_metadata())
    try:
        await session.run(handler)
    finally:
        if telemetry.attached(WEBSOCKET_CLOSE):
            _emit_close(session, time.perf_counter() - opened)


def _extensions(offer: Offer, options: WebSocket) -> list[Extension]:
    """The connection's codec when permessage-deflate was agreed: it inflates within ``max_message_size``."""
    return [] if offer.deflate is None else [DeflateCodec(offer.deflate, options.max_message_size)]


def _emit_close(session: Session, duration: float) -> None:
    measurements = {
        "duration": duration,
        "bytes_in": session.bytes_in,
        "bytes_out": session.bytes_out,
        "frames_in": session.frames_in,
        "frames_out": session.frames_out,
    }
    telemetry.execute(WEBSOCKET_CLOSE, measurements, {**session.telemetry_metadata(), "code": session.code})


async def _refuse(conn: h11.Connection, stream, response: Response, counters: ConnectionCounters) -> None:
    counters.refused += 1
    try:
        await send_response(conn, stream, attrs.evolve(response, headers={"connection": "close"}))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the peer reset the connection: nobody to tell, and a normal end


async def _switch_protocols(conn: h11.Connection, stream, offer: Offer) -> bool:
    """Write the 101; False if the peer reset the connection first."""
    try:
        await stream.send_all(conn.send(h11.InformationalResponse(status_code=101, headers=_accept_headers(offer))))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return False
    return True


def _accept_headers(offer: Offer) -> list[tuple[str, str]]:
    headers = [("upgrade", "websocket"), ("connection", "Upgrade"), ("sec-websocket-accept", offer.accept_key)]
    if offer.connect_info.subprotocol is not None:
        headers.append(("sec-websocket-protocol", offer.connect_info.subprotocol))
    if offer.deflate is not None:
        headers.append(("sec-websocket-extensions", offer.deflate.response))
    return headers


async def _maybe_await(value: object) -> object:
    return await value if inspect.isawaitable(value) else value

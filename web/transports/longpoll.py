"""The long-poll transport: the same sockets and channels for clients that cannot open a WebSocket.

Some networks (proxies, corporate firewalls) let HTTP through and nothing
else. phoenix.js then falls back to *long-poll*: when the WebSocket has not
opened within ``longPollFallbackMs`` (or when told ``transport: LongPoll``),
it polls ``<mount>/longpoll`` with ``GET`` for the server's frames and sends
its own with ``POST``. The socket, its channels and LiveViews run unchanged
on top: they write through a sender and read frames, whichever transport
carries them.

Mounting it
-----------
Long-poll is an option of the WebSocket mount it stands beside, so one call
mounts both::

    from web.transports.phoenix import phoenix_socket

    socket = phoenix_socket(UserSocket, pubsub="chat", longpoll=True)   # /socket/websocket and /socket/longpoll
    endpoint = await Endpoint.start_link(pages, port=4000, websocket=socket)

``longpoll=True`` is ``LongPoll()``; pass ``LongPoll(window=..., ...)`` to
tune it (see :class:`LongPoll` for every option). ``LiveRouter.websocket()``
mounts ``/live/longpoll`` by default (``longpoll=False`` to leave it out),
and the default LiveView layout falls back to it after 2.5 s
(``longPollFallbackMs``). On the client, ``new Socket("/socket",
{longPollFallbackMs: 2500})`` falls back by itself, ``{transport: LongPoll}``
never tries a WebSocket.

From the WebSocket mount the transport takes the socket itself (``handler``
and ``accept``: the same ``connect``, so the same refusals), ``check_origin``,
``max_message_size`` (each frame a client sends) and ``max_outbound_bytes``
(the frames held for a client between its polls).

Sessions
--------
The first ``GET`` (no token) runs ``connect``, starts a *session* and
answers ``{"status": 410, "token": T}``: the client is open. A session is
one process per client (see :mod:`web.transports._longpoll_session`), under
a supervisor of the endpoint's own, beside its connections; it is the
socket's process, as a WebSocket's connection process is, and holds the
frames waiting for the client's next poll. Every later request carries the session's token
``T`` (query parameter ``token``, or header ``x-phoenix-longpoll-token``):
it is signed (:mod:`web.token`, with the mount's ``secret``), names the
session, and is given anew with every poll.

Every request of the client is answered HTTP 200 with a JSON body whose
``status`` is the real answer (``content-type: application/json``,
``cache-control: no-store``, ``access-control-allow-origin: *``):

=============================================  ==========================================
request                                        ``status`` (and the rest of the body)
=============================================  ==========================================
``OPTIONS`` (a CORS preflight)                 HTTP 200, empty, the allowed methods and headers
``Origin`` not allowed (``check_origin``)      403
``GET``, no token or one whose session is      ``connect`` refuses (or a ``vsn`` other than
gone, expired or forged                        2.0.x): 403; accepts: 410, ``token`` (a new
                                               session; a client that had a token takes
                                               410 as "session gone" and reconnects)
... and ``max_sessions`` reached, every        500, ``reason`` (the client retries with its
session polled                                 reconnect backoff)
``GET`` with a live session's token            200, ``token``, ``messages``: the frames
                                               waiting (each a JSON text) as soon as there
                                               are some; 204, ``token``, ``messages: []``
                                               after ``window`` s without any
``POST`` with a live session's token           200 once its frames are handed to the socket
``POST``, its session gone                     410
``POST`` whose frames took                     408, and the session ends
``dispatch_timeout`` to hand on
``POST`` with more than ``MAX_BATCH`` frames,  413, and the session ends
or a frame over ``max_message_size``
``POST`` with a line that is no frame          400, and the session ends
any other method                               HTTP 405 (``allow: GET, POST, OPTIONS``)
=============================================  ==========================================

A ``POST`` body is ``application/x-ndjson``: one frame per line, a line
starting with ``[`` a text frame, any other its binary frame in base64
(phoenix.js sends a batch of the pushes made in one tick, at most 100); any
other content type is one text frame, as older clients sent. A body over
the endpoint's ``max_body_size`` is refused by HTTP itself (413). The
client takes any status but 200 as a broken connection: it reconnects with
a new session, and its channels rejoin there. Frames for the client are
text only: a binary frame (a channel's binary push) cannot be carried, and
is dropped with a warning.

How a session ends
------------------
As a WebSocket's connection closes, and with the same effect: ``on_close``
ends the socket and its channels (``Shutdown("closed")``, nothing sent),
and their Presence entries leave.

==========================================  =======================================
situation                                   what happens (code given to on_close)
==========================================  =======================================
the client closes the connection of the     ended at once (1001): phoenix.js aborts
poll that waits                             its poll when it disconnects, a browser
                                            when the page goes
no poll for ``1.5 * window`` s (the client  ended (1001): a client that disconnects
is gone: it polls again as soon as          between an answer and its next poll
answered)                                   tells the server nothing
the socket closes it (a "disconnect"        ended (that code); its next poll is
broadcast, a malformed frame, the rate      answered 410 and the client reconnects
limit)
frames held for the client over             shed: ended, a warning, counted in
``max_outbound_bytes``, or over its share   ``outbound_overflows`` (1006)
of ``max_outbound_total``
``max_sessions`` reached: it is the oldest  ended (1001)
session never polled
a refused ``POST`` (above)                  ended (1009 too big, 1008 malformed,
                                            1001 dispatch timeout)
a callback raises                           the session process crashes (crash
                                            report on ``web.transports``)
the endpoint shuts down                     the session is shut down with it
==========================================  =======================================

A poll waiting when its session ends gets what was left for it (200) or
410. One poll waits per session at a time: a second one replaces the
first, which is answered 204.

Across nodes
------------
A client's requests may reach another node than its session's: with
:mod:`web.workers` the kernel spreads connections among the workers, and
machines sit behind a load balancer. The token names the session's node,
and a request that reaches another node is done there through ``otp.dist``
(:mod:`web.transports._longpoll_relay`): the client sees one session
whichever node answers. A poll for a session that is not there any more
(its node gone) opens a new one where it lands. Every node must sign with
the same ``LongPoll(secret=...)``: in :mod:`web.workers`,
``LongPoll(secret=worker.derive_secret("..."))``; a LiveView router's
long-poll derives its secret from the router's.

What a client may cost
----------------------
Sessions are bounded (``max_sessions`` per mount), and a crowd opening
sessions it never polls (each costs a ``connect``) takes only the seats of
sessions never polled: it cannot keep a client that polls out. A session
holds at most ``max_outbound_bytes`` of frames, and all of the endpoint's
sessions and WebSockets together at most ``max_outbound_total``; a
``POST``'s frames are handed to the socket within the socket's inbound
window and rate limit (:mod:`web.socket`), as a WebSocket's are.
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import secrets
from typing import Any, Awaitable, Callable, Iterable, Mapping
from urllib.parse import parse_qsl

import attrs
import orjson
import trio

from otp import ChildSpec, DynamicSupervisor, Pid, Restart, dist, spawn_link
from otp.lowlevel import fixup_module_metadata as _fixup_module_metadata
from web.token import InvalidToken, sign, verify

from .._http import RECEIVE_SIZE, Handler, Request, Response, ResponseWriter
from .._limits import ConnectionContext
from . import _longpoll_relay as relay
from ._longpoll_options import LongPoll, longpoll_path
from ._longpoll_relay import Relay, SessionRef, relay_name
from ._longpoll_session import GONE, LongPollSession, run_session
from ._session import GOING_AWAY, MESSAGE_TOO_BIG, POLICY_VIOLATION
from .websocket import ConnectInfo, WebSocket, origin_allowed

# (MAX_BATCH is not listed: the API docs tell constants apart by identity, and 100 is web.socket.MAX_CHANNELS too.)
__all__ = ["LongPoll", "TOKEN_MAX_AGE", "mount_longpoll", "check_longpoll_paths"]

#: Frames in one ``POST`` at most (phoenix.js sends at most 100 at a time).
MAX_BATCH = 100
#: Seconds a session token is good for. Every poll gets a fresh one, and a
#: session ends after ``1.5 * window`` s without a poll, so only a token
#: already useless is ever this old.
TOKEN_MAX_AGE = 3600

_JSON = {"content-type": "application/json", "cache-control": "no-store", "access-control-allow-origin": "*"}
_PREFLIGHT = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "content-type, x-requested-with, x-phoenix-authtoken, x-phoenix-longpoll-token",
    "access-control-max-age": "3600",
}


def _answer(status: int, **fields: object) -> Response:
    """HTTP 200 with ``{"status": status, ...}``: how every request of the client is answered."""
    return Response(200, _JSON, orjson.dumps({"status": status, **fields}))


# ---------------------------------------------------------------- mounting (the endpoint)


def check_longpoll_paths(websockets: Mapping[str, WebSocket]) -> None:
    """Check, when an endpoint starts, that every long-poll path is its own.

    Raises:
        ValueError: a long-poll path is another mount's WebSocket or
            long-poll path, or cannot be derived (see :class:`LongPoll`).
    """
    taken = set(websockets)
    for mount in websockets.values():
        if mount.longpoll is None:
            continue
        path = longpoll_path(mount.path, mount.longpoll)
        if path in taken:
            raise ValueError(f"the long-poll path {path!r} of the mount {mount.path!r} is already another mount's path")
        taken.add(path)


async def mount_longpoll(
    context: ConnectionContext, websockets: Iterable[WebSocket]
) -> tuple[ConnectionContext, Pid | None]:
    """Serve the long-poll of every mount that has one: the context to hand connections, and the sessions' supervisor.

    Called by the endpoint's process as it starts (so the supervisor is
    linked to it). The context's handler answers the long-poll paths, and
    hands every other request to the application's handler. Without a
    long-poll mount, the context is returned as it is, and no supervisor is
    started (None).
    """
    mounts = [mount for mount in websockets if mount.longpoll is not None]
    if not mounts:
        return context, None
    supervisor = await DynamicSupervisor.start_link()
    routes: dict[str, _Route] = {}
    for mount in mounts:
        assert mount.longpoll is not None  # (filtered above)
        path = longpoll_path(mount.path, mount.longpoll)
        served = _Mount(mount, mount.longpoll, path, context, supervisor)
        # Under the sessions' supervisor: it goes when they go (the endpoint's end), and comes back if it crashes.
        relay_spec = Relay.child_spec((served.sessions, served.polled), name=served.relay, id=served.relay)
        await DynamicSupervisor.start_child(supervisor, relay_spec)
        routes[path] = served.handle
    return attrs.evolve(context, handler=_with_routes(routes, context.handler)), supervisor


#: A long-poll mount's handler: a :class:`Response`, or a poll's answer (written when it is ready).
_Route = Callable[[Request], Awaitable["Response | _PollAnswer"]]


def _with_routes(routes: dict[str, _Route], fallback: Handler) -> Handler:
    async def handler(request: Request) -> Any:  # (Any: a poll's answer is a response written as it comes)
        route = routes.get(request.path)
        return await (fallback if route is None else route)(request)

    return handler


# ---------------------------------------------------------------- one mount's requests


class _Refused(Exception):
    """A ``POST`` the transport will not take: answer ``status`` and end the session with ``code``."""

    def __init__(self, status: int, code: int) -> None:
        super().__init__(status)
        self.status, self.code = status, code


class _Mount:
    """One long-poll mount of one endpoint: its sessions by id, and the answer to each request.

    ``unpolled`` holds the sessions opened but not yet polled, oldest
    first: at ``max_sessions`` the oldest of them makes room (see the
    module docstring, "What a client may cost"). ``relay`` is the name of
    the process that serves its sessions to the requests other nodes get
    for them (:mod:`web.transports._longpoll_relay`).
    """

    def __init__(self, websocket: WebSocket, options: LongPoll, path: str, context: ConnectionContext, supervisor: Pid) -> None:
        self.websocket, self.options, self.path = websocket, options, path
        self.context, self.supervisor = context, supervisor
        self.salt = f"longpoll session {path}"
        self.sessions: dict[str, LongPollSession] = {}
        self.unpolled: dict[str, LongPollSession] = {}
        self.relay = relay_name(path)

    async def handle(self, request: Request) -> Response | _PollAnswer:
        if request.method == "OPTIONS":
            return Response(200, _PREFLIGHT)
        if request.method not in ("GET", "POST"):
            return Response(405, {"allow": "GET, POST, OPTIONS"})
        if not self._origin_allowed(request):
            return _answer(403)
        ref = self._session_ref(_session_token(request))
        if ref is not None and not ref.here(self.relay):
            return await self._relayed(request, ref)
        session = self.sessions.get(ref.id) if ref is not None else None
        if request.method == "POST":
            return _answer(GONE) if session is None else await self._publish(session, request)
        if ref is not None and session is not None:
            self.polled(session.id)
            return _PollAnswer(functools.partial(session.poll, self.options.window), session.close, self._token(ref))
        return await self._open(request, _connect_params(request, ours=ref is not None))

    def polled(self, session_id: str) -> None:
        """A poll came for the session: it no longer counts as never polled."""
        self.unpolled.pop(session_id, None)

    def _origin_allowed(self, request: Request) -> bool:
        try:
            return origin_allowed(request.headers.get("origin"), request.headers.get("host", ""), self.websocket.check_origin)
        except ValueError:
            return False  # an Origin urllib cannot parse: no browser sends one

    # -- tokens

    def _token(self, ref: SessionRef) -> str:
        return sign(self.options.secret, self.salt, ref.to_payload())

    def _session_ref(self, token: str | None) -> SessionRef | None:
        """The session a token of ours names; None for no token, or a forged, expired or foreign one."""
        try:
            payload = verify(self.options.secret, self.salt, token, max_age=TOKEN_MAX_AGE)
        except InvalidToken:
            return None
        return SessionRef.from_payload(payload)

    # -- GET

    async def _open(self, request: Request, params: dict[str, str]) -> Response:
        """Run ``connect``; accepted, start a session and answer 410 with its token."""
        if not self._make_room():
            return _answer(500, reason="too many sessions")
        info = ConnectInfo(request.headers, request.peer, request.path, params, request.headers.get("x-phoenix-authtoken"))
        accepted = await _accept(self.websocket, info)
        if accepted is None:
            return _answer(403)
        if not self._make_room():  # (others may have taken the room while connect ran)
            return _answer(500, reason="too many sessions")
        session = LongPollSession(
            secrets.token_urlsafe(18), self.options, self.websocket.max_outbound_bytes, self.context, request.peer, self._forget
        )
        # Listed before its process starts: a process that ends at once (on_open
        # raising) then unlists it, instead of leaving a dead session listed.
        self.sessions[session.id] = self.unpolled[session.id] = session
        handler = self.websocket.handler(info, accepted)
        spec = ChildSpec(id="longpoll session", start=(_spawn_session, session, handler), restart=Restart.TEMPORARY)
        await DynamicSupervisor.start_child(self.supervisor, spec)
        return _answer(410, token=self._token(SessionRef(session.id, dist.node_name(), self.relay)), messages=[])

    def _make_room(self) -> bool:
        """True if one more session fits, after ending the oldest session never polled if need be."""
        if len(self.sessions) < self.options.max_sessions:
            return True
        if not self.unpolled:
            return False
        oldest = next(iter(self.unpolled.values()))
        self._forget(oldest)
        oldest.close(GOING_AWAY)
        return True

    def _forget(self, session: LongPollSession) -> None:
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
        self.unpolled.pop(session.id, None)

    # -- POST

    async def _publish(self, session: LongPollSession, request: Request) -> Response:
        try:
            frames = _frames_of(request, self.websocket.max_message_size)
        except _Refused as refused:
            session.close(refused.code)
            return _answer(refused.status)
        return _answer(await session.dispatch(frames))

    # -- a session another node holds (see web.transports._longpoll_relay)

    async def _relayed(self, request: Request, ref: SessionRef) -> Response | _PollAnswer:
        if request.method == "POST":
            return await self._publish_there(ref, request)
        return _PollAnswer(
            functools.partial(relay.poll, ref, self.options.window),
            functools.partial(relay.close, ref),
            self._token(ref),
            functools.partial(self._open, request, _connect_params(request, ours=True)),
        )

    async def _publish_there(self, ref: SessionRef, request: Request) -> Response:
        try:
            frames = _frames_of(request, self.websocket.max_message_size)
        except _Refused as refused:
            relay.close(ref, refused.code)
            return _answer(refused.status)
        status = await relay.publish(ref, frames, self.options.dispatch_timeout)
        return _answer(status if isinstance(status, int) else GONE)


class _PollAnswer:
    """The answer to a poll, written once the session has frames for it (or its window passed).

    ``poll()`` waits for the frames (here, or relayed to the session's
    node), ``close(code)`` ends the session; ``reopen()``, for a relayed
    poll whose session is not there (:data:`relay.UNKNOWN`), opens a new
    one on this node, as a poll with a stale token does.

    A handler's response may be anything with ``async write_to(writer)``
    (see :class:`web.StreamingResponse`): so the poll waits with the
    connection in hand, and watches it. A client that closes its connection
    while its poll waits has left for good (phoenix.js abandons a session
    whose poll failed, and aborts it when it disconnects or the page goes):
    the session is ended at once, its channels with it, instead of a window
    and a half later.
    """

    __slots__ = ("poll", "close", "token", "reopen")

    def __init__(
        self,
        poll: Callable[[], Awaitable[list[str] | None | str]],
        close: Callable[[int], None],
        token: str,
        reopen: Callable[[], Awaitable[Response]] | None = None,
    ) -> None:
        self.poll, self.close, self.token, self.reopen = poll, close, token, reopen

    async def write_to(self, writer: ResponseWriter) -> None:
        answer = await self._wait(writer)
        if answer is None:
            assert self.reopen is not None  # (only a relayed poll may find no session)
            answer = await self.reopen()
        await writer.start(answer.status, {**answer.headers, "content-length": str(len(answer.body))})
        await writer.write(answer.body)

    async def _wait(self, writer: ResponseWriter) -> Response | None:
        frames: list[str] | None | str = []
        watch = _ClientWatch(writer)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch.run, nursery.cancel_scope)
            frames = await self.poll()
            nursery.cancel_scope.cancel()
        if watch.gone:
            self.close(GOING_AWAY)
            return _answer(GONE)  # (to nobody: the connection is closed)
        if frames == relay.UNKNOWN:
            return None
        if frames is None or isinstance(frames, str):
            return _answer(GONE)
        return _answer(200 if frames else 204, token=self.token, messages=frames)


class _ClientWatch:
    """Reads the connection of a poll that waits, to see the client close it (``gone``)."""

    __slots__ = ("writer", "gone")

    def __init__(self, writer: ResponseWriter) -> None:
        self.writer, self.gone = writer, False

    async def run(self, poll: trio.CancelScope) -> None:
        """Cancel ``poll`` if the client closes the connection (or resets it)."""
        try:
            data = await self.writer.stream.receive_some(RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            data = b""
        if data:
            # A request pipelined behind the poll (phoenix.js sends none): h11
            # keeps it for after this answer, and the watch ends here.
            self.writer.conn.receive_data(data)
            return
        self.gone = True
        poll.cancel()


async def _spawn_session(session: LongPollSession, handler) -> Pid:
    # Run by the sessions' supervisor: the new process is linked to it. Its
    # pid is the session's before the 410 goes out, so a POST that comes at
    # once waits in its mailbox rather than finding no process to send to.
    session.pid = spawn_link(run_session, session, handler)
    return session.pid


async def _accept(websocket: WebSocket, info: ConnectInfo) -> object:
    """What the mount's ``accept`` says of ``info``: None to refuse, else what the handler factory gets."""
    if websocket.accept is None:
        return True
    accepted = websocket.accept(info)
    if inspect.isawaitable(accepted):
        accepted = await accepted
    return None if accepted is False or accepted is None else accepted


# ---------------------------------------------------------------- reading requests (pure)


def _session_token(request: Request) -> str | None:
    """The session token a request carries: header ``x-phoenix-longpoll-token``, else the last ``token`` param."""
    header = request.headers.get("x-phoenix-longpoll-token")
    if header:
        return header
    return request.query.get("token") or None


def _connect_params(request: Request, *, ours: bool) -> dict[str, str]:
    """The params ``connect`` gets: the query's, without the session token phoenix.js appends last.

    A socket's own connect param may be named ``token`` too (Phoenix's
    guides do so): phoenix.js sends it first, then ``token=<session token>``
    once it has one. So the last ``token`` is left out when there are two,
    or when it is one of ours (``ours``: it verified, whether or not its
    session lives); a lone ``token`` that is not ours is the socket's.

    >>> request = Request("GET", "/socket/longpoll", {}, {}, ("", 0), query_string="token=user&vsn=2.0.0&token=session")
    >>> _connect_params(request, ours=False)
    {'token': 'user', 'vsn': '2.0.0'}
    >>> _connect_params(attrs.evolve(request, query_string="token=user&vsn=2.0.0&"), ours=False)
    {'token': 'user', 'vsn': '2.0.0'}
    """
    pairs = parse_qsl(request.query_string, keep_blank_values=True)
    tokens = [index for index, (key, _) in enumerate(pairs) if key == "token"]
    if tokens and (ours or len(tokens) > 1):
        del pairs[tokens[-1]]
    return dict(pairs)


def _frames_of(request: Request, max_message_size: int) -> list[str | bytes]:
    """The frames of a ``POST`` body (see the module docstring).

    >>> headers = {"content-type": "application/x-ndjson"}
    >>> _frames_of(Request("POST", "/", {}, headers, ("", 0), b'[null,"1","phoenix","heartbeat",{}]\\nAAEC'), 100)
    ['[null,"1","phoenix","heartbeat",{}]', b'\\x00\\x01\\x02']

    Raises:
        _Refused: more than :data:`MAX_BATCH` frames (413), one over
            ``max_message_size`` bytes (413), or a line that is no frame (400).
    """
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type == "application/x-ndjson":
        lines = [line for line in request.body.split(b"\n") if line]
    else:
        lines = [request.body] if request.body else []  # older clients: the body is one text frame
    if len(lines) > MAX_BATCH:
        raise _Refused(413, MESSAGE_TOO_BIG)
    return [_frame_of(line, max_message_size) for line in lines]


def _frame_of(line: bytes, max_message_size: int) -> str | bytes:
    """One line of a batch: a text frame (``[...]``, its size in UTF-8 bytes), or a binary frame in base64."""
    try:
        frame: str | bytes = line.decode("utf-8") if line.startswith(b"[") else base64.b64decode(line, validate=True)
    except (UnicodeDecodeError, binascii.Error):
        raise _Refused(400, POLICY_VIOLATION) from None
    if (len(line) if isinstance(frame, str) else len(frame)) > max_message_size:
        raise _Refused(413, MESSAGE_TOO_BIG)
    return frame


_fixup_module_metadata(__name__, globals(), defined_in=("web.transports._longpoll_options",))  # LongPoll says it lives here

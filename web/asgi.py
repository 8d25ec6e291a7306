"""Mount any ASGI application (Starlette, FastAPI, Django's ASGI app) under a path of a router.

Keep your REST code and serve it beside Channels and LiveView from one
endpoint::

    from starlette.applications import Starlette
    from web.router import Router

    api = Starlette(routes=[...], lifespan=...)
    router = Router()
    router.mount("/api", api)                      # /api/items -> the app's /items
    await Endpoint.start_link(router.http(), websocket=live.websocket())

``mount`` wraps the application in an :class:`ASGIApp`, an endpoint handler
speaking ASGI 3 (HTTP, and lifespan; not WebSockets) to it. Each request
runs the application in the connection's own process, as any handler
does, so the application's code may call processes
(``await GenServer.call(...)``) as a handler can.

What the application is given
-----------------------------
* a scope: ``type: "http"``, ``asgi: {"version": "3.0", "spec_version":
  "2.4"}``, ``http_version``, ``method``, ``scheme: "http"``, ``path``
  (the whole path, percent-decoded; a path that is not UTF-8 once decoded
  is answered 400 before the application runs), ``raw_path``,
  ``root_path`` (the mount's prefix, so that ``path`` minus ``root_path``
  is the application's own route), ``query_string``, ``headers``,
  ``client`` (the peer's host and port), ``server`` (None: the endpoint
  does not hand the local address down; applications read the ``Host``
  header), and ``state`` (a copy of what its lifespan put in its state);
* ``receive()``: the request body as ``http.request`` messages of at most
  :data:`BODY_PIECE` bytes, then, once the response is complete or the
  client gone, ``http.disconnect``. The endpoint reads the body before the
  application runs, within its ``max_body_size`` and ``body_timeout``
  (413 and 408, as for every handler);
* ``send()``: the response, written to the client as it comes
  (``more_body`` pieces go out one by one, chunked unless the application
  gave a ``content-length``; a body sent in one message gets a
  ``content-length``). Once the client is gone, ``send`` raises
  :class:`web.ClientDisconnected`, an ``OSError`` (spec 2.4).

Errors
------
An application that raises before its response started gets the client
a 500; one that raises later has the connection closed. Either way the
connection's process ends with a crash report carrying the traceback
(``web.http``), as for any handler that raises, and the endpoint and the
other connections go on. Starlette answers its own 500 first and then
raises: the client gets Starlette's page, the log the traceback.

Lifespan
--------
The application's lifespan (``lifespan.startup``, ``lifespan.shutdown``)
runs in a process of its own, started by the endpoint before it listens
and stopped after its connections (``Router.children``, see
``web.endpoint``). A ``lifespan.startup.failed`` makes the endpoint fail to
start (``StartError``, with the application's message). ``lifespan="auto"``
(the default) goes on without one for an application that does not speak
the protocol (raises or returns at once on a lifespan scope);
``lifespan=True`` makes that a start failure, ``False`` never runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

import trio

import otp
from otp import ChildSpec, Pid, Restart
from otp.lowlevel import fixup_module_metadata as _fixup_module_metadata

from ._http import ClientDisconnected, Request, ResponseWriter
from ._request import BadRequest
from ._routes import MalformedPath, decode_segment

__all__ = ["ASGIApp", "LifespanFailed", "BODY_PIECE", "ASGI_SCOPE_VERSION"]

logger = logging.getLogger("web.http")

#: Bytes of the request body in one ``http.request`` message.
BODY_PIECE = 64 * 1024
#: What every scope says of the ASGI version it speaks.
ASGI_SCOPE_VERSION = {"version": "3.0", "spec_version": "2.4"}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApplication = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class LifespanFailed(RuntimeError):
    """An application's lifespan startup failed (``.message``: what it said); the endpoint does not start."""

    def __init__(self, app: object, message: str) -> None:
        super().__init__(f"the lifespan startup of the ASGI application {app!r} failed: {message}")
        self.message = message


class ASGIApp:
    """An ASGI 3 application as an endpoint handler (see the module docstring).

    Args:
        app: ``async app(scope, receive, send)``.
        root_path: the path prefix the application is mounted under (``""``: none).
        lifespan: ``"auto"``, True or False (see "Lifespan").
        startup_timeout, shutdown_timeout: seconds the lifespan's startup
            and shutdown may take (a late startup fails the endpoint's start;
            a late shutdown is logged and cut short).
    """

    def __init__(
        self,
        app: ASGIApplication,
        *,
        root_path: str = "",
        lifespan: bool | Literal["auto"] = "auto",
        startup_timeout: float = 60.0,
        shutdown_timeout: float = 10.0,
    ) -> None:
        if not callable(app):
            raise TypeError(f"an ASGI application is a callable app(scope, receive, send); got {app!r}")
        if lifespan not in (True, False, "auto"):
            raise ValueError(f'lifespan is True, False or "auto"; got {lifespan!r}')
        self.app = app
        self.root_path = root_path.rstrip("/")
        self.lifespan = lifespan
        self.startup_timeout, self.shutdown_timeout = startup_timeout, shutdown_timeout
        #: What the lifespan put in its ``state``, copied into each request's scope.
        self.state: dict[str, Any] = {}

    @property
    def children(self) -> list[ChildSpec]:
        """The child spec of the lifespan process (none with ``lifespan=False``), for the endpoint to start."""
        if self.lifespan is False:
            return []
        return [
            ChildSpec(
                id=("asgi lifespan", self.root_path or "/"),
                start=(_start_lifespan, self),
                restart=Restart.TEMPORARY,
                shutdown=self.shutdown_timeout + 1.0,
            )
        ]

    async def __call__(self, request: Request) -> _Exchange:
        """The response to ``request``: an exchange the endpoint runs to write it (``write_to``).

        Raises:
            BadRequest: the path is not UTF-8 once percent-decoded (400).
        """
        return _Exchange(self.app, self.scope_of(request), request.body)

    def scope_of(self, request: Request) -> Scope:
        """The ASGI ``http`` scope of ``request``."""
        try:
            path = "/".join(decode_segment(segment) for segment in request.path.split("/"))
        except MalformedPath as error:
            raise BadRequest(f"{error}; the ASGI application at {self.root_path or '/'} was not called") from None
        peer = request.peer
        return {
            "type": "http",
            "asgi": dict(ASGI_SCOPE_VERSION),
            "http_version": request.http_version,
            "method": request.method,
            "scheme": "http",
            "path": path,
            "raw_path": request.path.encode("latin-1"),
            "root_path": self.root_path,
            "query_string": request.query_string.encode("latin-1"),
            "headers": [(name.encode("latin-1"), value.encode("latin-1")) for name, value in request.headers.items()],
            "client": (str(peer[0]), int(peer[1])) if peer and len(peer) >= 2 else None,
            "server": None,
            "state": dict(self.state),
            "extensions": {},
        }

    def __repr__(self) -> str:
        return f"<ASGIApp {self.app!r} at {self.root_path or '/'}>"


# ---------------------------------------------------------------- one request


class _Exchange:
    """One request to the application and its response, written as the application sends it."""

    def __init__(self, app: ASGIApplication, scope: Scope, body: bytes) -> None:
        self.app, self.scope = app, scope
        self.pieces = [body[start : start + BODY_PIECE] for start in range(0, len(body), BODY_PIECE)] or [b""]
        self.writer: ResponseWriter | None = None
        self.start: Message | None = None  # the http.response.start, held until the first body
        self.over = trio.Event()  # the response is complete, or the client gone: receive() says disconnect
        self.complete = False
        self.client_gone = False

    async def write_to(self, writer: ResponseWriter) -> None:
        """Run the application, writing its response through ``writer`` (the endpoint calls this)."""
        self.writer = writer
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            if self.client_gone:
                # The client left and send() told the application so; what it raises then (Starlette
                # raises its ClientDisconnect) is how it stops, not a fault: the connection ends quietly.
                return
            raise
        finally:
            self.over.set()
        if self.start is None:
            raise RuntimeError(f"the ASGI application {self.app!r} returned without sending a response")
        if not writer.started:  # a start and no body: an empty one
            await self._start_response(b"", more=False)

    async def receive(self) -> Message:
        """The next piece of the request body; then, once the response is over, ``http.disconnect``."""
        if self.pieces:
            piece = self.pieces.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(self.pieces)}
        await self.over.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """Take one message of the application's response.

        Raises:
            ClientDisconnected: the client is gone (or the response is over).
            RuntimeError: a message out of order or of an unknown type.
        """
        kind = message.get("type")
        if kind == "http.response.start":
            if self.start is not None:
                raise RuntimeError("the ASGI application sent http.response.start twice")
            self.start = message
        elif kind == "http.response.body":
            await self._body(bytes(message.get("body", b"")), more=bool(message.get("more_body", False)))
        else:
            raise RuntimeError(f"the ASGI application sent a message this server does not know: {kind!r}")

    async def _body(self, body: bytes, *, more: bool) -> None:
        if self.start is None:
            raise RuntimeError("the ASGI application sent http.response.body before http.response.start")
        if self.over.is_set():
            raise ClientDisconnected("the response is over (complete, or the client went away)")
        assert self.writer is not None  # (set before the application runs)
        try:
            if not self.writer.started:
                await self._start_response(body, more=more)
            elif body:
                await self.writer.write(body)
            if not more:
                self.complete = await self.writer.finish()  # now: background work may follow
                self.over.set()
        except ClientDisconnected:
            self.client_gone = True
            self.over.set()
            raise

    async def _start_response(self, body: bytes, *, more: bool) -> None:
        """Start the response with its first piece of body (a whole body in one message gets a content-length)."""
        assert self.writer is not None and self.start is not None
        headers = [(bytes(name).decode("latin-1").lower(), bytes(value).decode("latin-1")) for name, value in self.start.get("headers", [])]
        if not more and not any(name in ("content-length", "transfer-encoding") for name, _ in headers):
            headers.append(("content-length", str(len(body))))
        await self.writer.start(int(self.start["status"]), _joined(headers))
        await self.writer.write(body)


def _joined(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Header pairs as a dict; a name given twice keeps each value on a line (``web.Response``'s rule)."""
    joined: dict[str, str] = {}
    for name, value in headers:
        joined[name] = f"{joined[name]}\n{value}" if name in joined else value
    return joined


# ---------------------------------------------------------------- lifespan


async def _start_lifespan(mounted: ASGIApp) -> Pid | None:
    """Start the lifespan process of ``mounted`` (linked to the caller); return once the startup is done.

    Returns None (the supervisor's "ignore") for an application that does
    not speak the protocol, with ``lifespan="auto"``: there is nothing to run.

    Raises:
        LifespanFailed: the application said its startup failed, or took too long, or
            (with ``lifespan=True``) does not speak the protocol.
    """
    runner = _Lifespan(mounted)
    pid = otp.spawn(runner.run)
    await runner.started.wait()
    if runner.error is not None:
        raise runner.error
    if runner.ignored:
        return None
    # Linked only now: a process whose startup failed (or that had none to run) has ended, and a link
    # to it would bring the supervisor an exit signal for a child it never had.
    otp.link(pid)
    return pid


class _Lifespan:
    """The lifespan process: runs the application's lifespan from startup to shutdown."""

    def __init__(self, mounted: ASGIApp) -> None:
        self.mounted = mounted
        self.started = trio.Event()
        self.error: LifespanFailed | None = None
        self.ignored = False  # the application has no lifespan (lifespan="auto")
        self.inbox_send, self.inbox = trio.open_memory_channel[Message](2)
        self.replies: dict[str, trio.Event] = {}
        self.failure: str | None = None  # the message of a startup.failed or shutdown.failed
        self.app_done = trio.Event()
        self.app_error: BaseException | None = None

    async def run(self) -> None:
        otp.trap_exits(True)
        ending: BaseException | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._run_app)
            try:
                await self._startup()
            finally:
                self.started.set()
            if self.error is None and not self.app_done.is_set():
                ending = await self._serve_until_shutdown()
            nursery.cancel_scope.cancel()
        # Raised here, outside the nursery, which would wrap it in an exception group.
        if ending is not None:
            raise ending

    async def _run_app(self) -> None:
        scope = {"type": "lifespan", "asgi": dict(ASGI_SCOPE_VERSION), "state": self.mounted.state}
        try:
            await self.mounted.app(scope, self.inbox.receive, self._send)
        except Exception as error:
            self.app_error = error
        finally:
            self.app_done.set()

    async def _send(self, message: Message) -> None:
        kind = str(message.get("type"))
        if kind.endswith(".failed"):
            self.failure = str(message.get("message", ""))
        event = self.replies.get(kind.rsplit(".", 1)[0])
        if event is not None:
            event.set()

    async def _ask(self, stage: str, timeout: float) -> bool:
        """Send ``lifespan.<stage>``; True once the application answered (or ended), False if late."""
        answered = self.replies[f"lifespan.{stage}"] = trio.Event()
        await self.inbox_send.send({"type": f"lifespan.{stage}"})
        with trio.move_on_after(timeout):
            async with trio.open_nursery() as either:
                for event in (answered, self.app_done):
                    either.start_soon(_set_then_cancel, event, either.cancel_scope)
            return True
        return False

    async def _startup(self) -> None:
        app = self.mounted.app
        if not await self._ask("startup", self.mounted.startup_timeout):
            self.error = LifespanFailed(app, f"no answer within startup_timeout ({self.mounted.startup_timeout} s)")
        elif self.failure is not None:
            self.error = LifespanFailed(app, self.failure)
        elif self.replies["lifespan.startup"].is_set():
            return
        elif self.mounted.lifespan is True:
            self.error = LifespanFailed(app, f"it does not speak the lifespan protocol ({self.app_error!r})")
        else:
            self.ignored = True
            logger.info("the ASGI application %r does not speak the lifespan protocol: serving it without", app)
        self.app_error = None  # (dropped: its traceback holds frames, and it is reported above if it matters)

    async def _serve_until_shutdown(self) -> BaseException | None:
        """Until the endpoint shuts us down (an exit signal), then the shutdown; what to end the process with.

        An application whose lifespan ends first ends the process: normally,
        or with its exception (a crash report, as for any process).
        """
        signal: otp.ExitSignal | None = None
        async with trio.open_nursery() as watch:
            watch.start_soon(_set_then_cancel, self.app_done, watch.cancel_scope)
            signal = await otp.receive(otp.ExitSignal)
            watch.cancel_scope.cancel()
        if signal is None:
            error, self.app_error = self.app_error, None
            return error
        await self._shutdown()
        return otp.Exit(signal.reason)

    async def _shutdown(self) -> None:
        if self.app_done.is_set():
            return
        if not await self._ask("shutdown", self.mounted.shutdown_timeout):
            logger.warning(
                "the ASGI application %r did not finish its lifespan shutdown within %g s; cut short",
                self.mounted.app, self.mounted.shutdown_timeout,
            )
        elif self.failure is not None:
            logger.error("the lifespan shutdown of the ASGI application %r failed: %s", self.mounted.app, self.failure)
        elif self.app_error is not None:
            logger.error("the lifespan of the ASGI application %r raised in its shutdown", self.mounted.app,
                         exc_info=self.app_error)


async def _set_then_cancel(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


_fixup_module_metadata(__name__, globals())

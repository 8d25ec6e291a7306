"""The endpoint: a supervised HTTP/1.1 + WebSocket server made of otp processes.

Example
-------
::

    import otp
    from web import Endpoint, Response, WebSocket

    async def hello(request):
        return Response(200, {"content-type": "text/plain"}, "hello " + request.query.get("name", "world"))

    async def main():
        endpoint = await Endpoint.start_link(hello, host="127.0.0.1", port=0)
        host, port = Endpoint.address(endpoint)        # port 0 picked a free port
        ...

    otp.run(main)

Under a supervisor: ``Supervisor.start_link([Endpoint.child_spec(hello, port=4000)])``.
Inside a trio nursery of an otp process: ``listening = await nursery.start(serve, hello, "127.0.0.1", 0)``.

The process tree
----------------
::

    Endpoint (a GenServer: owns the configuration and the counters)
    ├── the connection supervisor (a DynamicSupervisor; temporary children)
    │   ├── connection <0.51.0>      one process per accepted TCP connection:
    │   ├── connection <0.52.0>      HTTP/1.1 (web._http), then maybe a WebSocket
    │   └── ...                      (web.transports.websocket)
    ├── the long-poll sessions'      only with a long-poll mount: one process per
    │   supervisor                   long-poll client (web.transports.longpoll)
    ├── the handler's services       only if the handler has ``children``: e.g. the
    │                                lifespans of a router's ASGI mounts (web.asgi)
    └── the acceptor                 accepts and hands each stream to a new child

All of them are linked to the endpoint. A connection that crashes ends alone:
it is a temporary child, so it is reported and forgotten, never restarted
and never its siblings' problem. If the acceptor crashes, the endpoint goes
down with it and its own supervisor restarts the whole endpoint (a new
listening socket, the old connections shut down). Shutting the endpoint
down closes the listening socket and shuts every connection down (a
WebSocket is told 1012 if the frame can be sent at once).

Each connection process runs ``web._http.serve_connection`` with what the
endpoint hands down, as one :class:`~web._limits.ConnectionContext`: the
handler, the :class:`~web._limits.ConnectionLimits`, the shared
:class:`~web._limits.ConnectionCounters`, the endpoint's pid, and for each
WebSocket mount the transport's upgrade callable (so HTTP never imports the
WebSocket layer).

Options
-------
``start_link(handler, *, host="127.0.0.1", port=0, websocket=None, name=None,
idle_timeout=60.0, max_body_size=1 MiB, max_header_size=16 KiB,
header_timeout=10.0, body_timeout=60.0, max_header_count=100,
max_outbound_total=32 MiB, max_connections=None, telemetry_period=1.0,
tune_gc=True, reuse_port=False)``:

* ``handler`` is ``async handler(request) -> Response`` (:mod:`web._http`);
  if it has a ``children`` attribute (a list of ``ChildSpec``, as a
  :class:`web.router.Router` has for the lifespans of the ASGI
  applications it mounts), the endpoint starts them under a supervisor of
  their own before it listens (one failing to start fails the endpoint's
  start) and stops them after its connections;
* ``websocket`` a :class:`~web.transports.websocket.WebSocket` mount, or a
  list of them on different paths (a chat socket at ``/socket/websocket``
  beside a LiveView socket at ``/live/websocket``);
* ``idle_timeout`` closes keep-alive connections that send nothing between
  requests (and those that take nothing of a response);
* ``header_timeout`` and ``body_timeout`` are deadlines for a request's head
  and body (408), ``max_header_size`` h11's limit on a request line plus
  headers and ``max_header_count`` on their number (431), ``max_body_size``
  the limit on a body (413); :class:`~web._limits.ConnectionLimits` says
  exactly what each one measures, and :mod:`web._http` what each breach gets;
* ``max_outbound_total`` bounds the bytes queued for all WebSocket peers
  together: past it, the peers holding the most (over 1/64 of it each) are
  shed, so a crowd of slow readers cannot take the node's memory however
  many they are (each peer also has its mount's ``max_outbound_bytes``);
* past ``max_connections`` a new connection is closed at once (counted as
  ``rejected``), see below;
* ``telemetry_period`` (seconds; None: never) is how often the endpoint
  emits its counters as the telemetry event ``("web", "endpoint",
  "statistics")``, when a handler is attached to it, and the collector's
  passes as ``("otp", "vm", "gc")`` (see :mod:`otp.collector`);
* ``tune_gc`` (default True) sets Python's garbage collector for a server
  once listening (:func:`otp.collector.tune_for_server`: fewer young passes,
  start-up objects frozen out of its reach) and freezes again after each
  burst of new connections (:class:`otp.collector.BurstFreezer`), so that
  thousands of held connections are not walked by every full pass: without
  it, 5,000 held sockets made the node stop for half a second every few
  seconds. It measures every pass (``otp.collector.statistics()``);
* ``reuse_port`` (default False) listens with ``SO_REUSEPORT``: endpoints in
  several OS processes of the same user listen on the same port, and the
  kernel spreads new connections among them (:mod:`web._listen`). That is
  how :mod:`web.workers` serves one app on every core.

How many connections
--------------------
Every connection holds a file descriptor. When the process runs out,
``accept()`` fails for everyone, old connections and new, until some close.
So an endpoint starts by raising the process's soft ``RLIMIT_NOFILE`` to
its hard limit (where the system allows it), and without an explicit
``max_connections`` takes at most
:func:`~web._limits.default_max_connections` of that limit, which keeps a
reserve for the rest of the node (``limit - max(limit // 10, min(64, limit
// 2))``: 922 of 1024, 58,983 of 65,536). An explicit ``max_connections``
wins; with several endpoints in one node, give each its own.

At the limit, the acceptor first makes room by evicting the connection
that has waited longest for its first request head (counted as
``evicted``; connections that completed a request are never evicted): a
slowloris holding every seat with trickled heads cannot keep out a client
that sends its request at once. With no such connection to evict, it
closes each new connection at once, without starting a process for it or
asking the connection supervisor, counts it as ``rejected``, and logs a WARNING at most every ``LOG_INTERVAL`` (10) s:
the first refusal at once, the later ones as a count when the interval
ends. Should ``accept()`` fail anyway for want of descriptors or memory
(another part of the node holding them), it is retried every 100 ms and
logged as an ERROR the same way, one line per interval with the count.

Memory a crowd of clients can make it hold
------------------------------------------
Each WebSocket peer may have ``max_outbound_bytes`` (its mount's option)
queued, and all of them together ``max_outbound_total``; past the total the
peers holding the most are shed (see :mod:`web.transports._session`). A
shed peer's outbox is one big buffer, and so that it goes back to the
system at once the endpoint has glibc map every big buffer on its own
(:func:`~web._limits.keep_big_buffers_mapped`, process-wide, as the
descriptor limit); and a second after connections end, it has glibc give
back the free pages of its heap (:class:`~web._limits.MemoryReclaimer`),
so the memory of a crowd gone is the system's again. Lines about what a crowd can repeat (peers shed,
connections refused, malformed frames) are written at most once per cause
every 10 s, with the count of the others (:mod:`otp.log`).

Telemetry
---------
Besides that periodic event, connections emit ``("web", "connection",
"open" | "close")``, WebSockets ``("web", "websocket", "open" | "close" |
"shed")``; their measurements and metadata are listed in ``otp.telemetry``.

Reading the endpoint
--------------------
``Endpoint.address(endpoint)`` and ``Endpoint.statistics(endpoint)`` are
sync reads, without a round trip to the endpoint process.
"""

from __future__ import annotations

import errno
import functools
import logging
import weakref
from typing import Any, Callable, Sequence

import attrs
import trio

import otp
from otp import (
    ChildSpec,
    Destination,
    DynamicSupervisor,
    GenServer,
    Pid,
    Restart,
    Supervisor,
    SupervisorError,
    Via,
    collector,
    current_pid,
    telemetry,
)
from otp.log import LogThrottle
from otp.lowlevel import resolve_pid

from ._http import Handler, serve_connection
from ._limits import (
    RECLAIM,
    ConnectionContext,
    ConnectionCounters,
    ConnectionLimits,
    EndpointStatistics,
    default_max_connections,
    keep_big_buffers_mapped,
    raise_open_files_limit,
)
from ._listen import open_listeners
from ._telemetry import ENDPOINT_STATISTICS
from .transports.longpoll import check_longpoll_paths, mount_longpoll
from .transports.websocket import WebSocket, upgrader

__all__ = ["Endpoint", "EndpointStatistics", "Listening", "serve"]

logger = logging.getLogger("web.endpoint")


@attrs.define(eq=False)
class _EndpointState:
    """The endpoint's own record, read by ``Endpoint.address``/``statistics`` and its acceptor.

    It stays in this module: each connection process gets only what it
    needs (the handler, the limits, the counters, the upgrade callables).
    """

    handler: Handler
    websockets: dict[str, WebSocket]  # path -> mount
    limits: ConnectionLimits
    counters: ConnectionCounters = attrs.field(factory=ConnectionCounters)
    address: tuple = ("", 0)
    connections: Pid | None = None
    pid: Pid | None = None  # the endpoint process, for telemetry metadata
    telemetry_period: float | None = 1.0
    tune_gc: bool = True
    context: ConnectionContext | None = None  # what each connection is spawned with, set in init
    max_connections: float | None = None  # None until init derives it from the descriptor limit
    sessions: Pid | None = None  # the long-poll sessions' supervisor, when a mount has long-poll
    reuse_port: bool = False  # listen with SO_REUSEPORT (web._listen)

    def make_context(self) -> None:
        """What every connection gets: the handler, limits, counters, pid, and the
        WebSocket transport bound to each mount (what HTTP hands a request on that path)."""
        upgrades = {path: upgrader(mount) for path, mount in self.websockets.items()}
        self.context = ConnectionContext(self.handler, self.limits, self.counters, upgrades, self.pid)


@attrs.frozen
class Listening:
    """What :func:`serve` reports once listening: the endpoint's pid and its bound address."""

    pid: Pid
    host: str
    port: int


# Endpoint pid -> its state; weak, as otp.registry's tables: it lives as long as the process.
_ENDPOINTS: weakref.WeakValueDictionary[Pid, _EndpointState] = weakref.WeakValueDictionary()


def _mounts(websocket: WebSocket | Sequence[WebSocket] | None) -> dict[str, WebSocket]:
    mounts = [] if websocket is None else [websocket] if isinstance(websocket, WebSocket) else list(websocket)
    for mount in mounts:
        if not isinstance(mount, WebSocket):
            raise TypeError(f"websocket must be a web.WebSocket(handler=..., path=...), a list of them, or None; got {mount!r}")
    by_path = {mount.path: mount for mount in mounts}
    if len(by_path) != len(mounts):
        raise ValueError(f"two WebSocket mounts share a path: {[mount.path for mount in mounts]}")
    check_longpoll_paths(by_path)
    return by_path


class Endpoint:
    """Start, supervise and read an endpoint; see the module docstring."""

    @staticmethod
    async def start_link(
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        websocket: WebSocket | Sequence[WebSocket] | None = None,
        name: str | Via | None = None,
        idle_timeout: float = 60.0,
        max_body_size: int = 1 << 20,
        max_header_size: int = 16 * 1024,
        header_timeout: float = 10.0,
        body_timeout: float = 60.0,
        max_header_count: int = 100,
        max_outbound_total: int = 32 << 20,
        max_connections: float | None = None,
        telemetry_period: float | None = 1.0,
        tune_gc: bool = True,
        reuse_port: bool = False,
    ) -> Pid:
        """Start an endpoint linked to the caller; return its pid once it is listening.

        The options are described in the module docstring; ``max_connections``
        None means "from the descriptor limit" (see "How many connections"
        there; the endpoint raises the process's soft limit when it starts).

        Raises:
            ValueError: one of ``idle_timeout``, ``max_body_size``,
                ``max_header_size``, ``header_timeout``, ``body_timeout``,
                ``max_header_count``, ``max_outbound_total`` is not a positive number (see
                :class:`~web._limits.ConnectionLimits`).
            StartError: the address could not be bound (``.reason`` is the ``OSError``).
        """
        limits = ConnectionLimits(
            idle_timeout, max_body_size, max_header_size, header_timeout, body_timeout, max_header_count, max_outbound_total
        )
        state = _EndpointState(
            handler, _mounts(websocket), limits, telemetry_period=telemetry_period, max_connections=max_connections,
            tune_gc=tune_gc, reuse_port=reuse_port,
        )
        return await _EndpointServer.start_link((state, host, port), name=name)

    @staticmethod
    def child_spec(handler: Handler, **options: Any) -> ChildSpec:
        """A child spec for a supervisor; ``options`` are those of :meth:`start_link` (and ``id``)."""
        child_id = options.pop("id", Endpoint)
        return ChildSpec(id=child_id, start=(functools.partial(Endpoint.start_link, handler, **options),))

    @staticmethod
    def address(endpoint: Destination) -> tuple[str, int]:
        """The ``(host, port)`` the endpoint listens on (the real port when started with 0)."""
        return _state_of(endpoint).address

    @staticmethod
    def statistics(endpoint: Destination) -> EndpointStatistics:
        """A snapshot of the endpoint's counters (see ``COUNTERS`` in :mod:`web._limits`)."""
        return _state_of(endpoint).counters.snapshot()

    @staticmethod
    def connection_supervisor(endpoint: Destination) -> Pid:
        """The DynamicSupervisor whose children are the endpoint's connections."""
        connections = _state_of(endpoint).connections
        assert connections is not None  # (started in init, before the endpoint is listed)
        return connections

    stop = staticmethod(GenServer.stop)


async def serve(
    handler: Handler,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    task_status: trio.TaskStatus[Listening] = trio.TASK_STATUS_IGNORED,
    **options: Any,
) -> None:
    """Run an endpoint for as long as this task runs: ``await nursery.start(serve, handler, host, port)``.

    For trio code inside an otp node (a process, or a task a process
    started). Reports a :class:`Listening` through ``task_status`` once
    listening; cancelling the task shuts the endpoint down; if the endpoint
    dies, this raises ``otp.Exit`` with its reason, as a link would.
    ``options`` are those of :meth:`Endpoint.start_link`.

    Raises:
        StartError: the endpoint could not start (the address is taken, say).
        Exit: the endpoint ended on its own.
    """
    # Only a process's own task may receive, and starting an endpoint waits
    # for its ack: a small runner process starts it and reports back through
    # trio events, which any task may wait on.
    runner = _Runner()
    pid = otp.spawn(runner.run, handler, host, port, options)
    try:
        await runner.started.wait()
        if runner.error is not None:
            raise runner.error
        assert runner.endpoint is not None  # (started, without an error)
        task_status.started(Listening(runner.endpoint, *Endpoint.address(runner.endpoint)))
        await runner.ended.wait()
        raise otp.Exit(runner.reason)
    finally:
        otp.exit(pid, otp.SHUTDOWN)  # the runner's end takes the endpoint down along their link


class _Runner:
    """The process behind :func:`serve`: owns the endpoint through a link, reports through events."""

    def __init__(self) -> None:
        self.started, self.ended = trio.Event(), trio.Event()
        self.endpoint: Pid | None = None
        self.error: BaseException | None = None
        self.reason: object = None

    async def run(self, handler: Handler, host: str, port: int, options: dict[str, Any]) -> None:
        otp.trap_exits(True)
        try:
            self.endpoint = await Endpoint.start_link(handler, host=host, port=port, **options)
        except Exception as e:
            self.error = e
            return
        finally:
            self.started.set()
        signal = await otp.receive(otp.ExitSignal)
        if signal.pid == self.endpoint:
            self.reason = signal.reason
            self.ended.set()
        raise otp.Exit(otp.SHUTDOWN)


def _state_of(endpoint: Destination) -> _EndpointState:
    pid = resolve_pid(endpoint)
    state = _ENDPOINTS.get(pid) if pid is not None else None
    if state is None:
        raise LookupError(f"{endpoint!r} is not a running endpoint; start one with Endpoint.start_link(handler, ...)")
    return state


# ---------------------------------------------------------------- the processes


class _EndpointServer(GenServer):
    """Internal: the endpoint process. Binds, starts the connection supervisor and the acceptor.

    It traps exits so that a stop, or its supervisor's shutdown, goes
    through :meth:`terminate`: the acceptor first (no new connections, the
    listening socket closed), then the connections.
    """

    async def init(self, arg: tuple) -> None:
        otp.trap_exits(True)
        self.state, host, port = arg
        # The handler's own processes first: an ASGI application's startup is done before anything is served.
        self.services = await _start_services(self.state.handler)
        fd_limit = raise_open_files_limit()
        keep_big_buffers_mapped()  # a shed peer's outbox goes back to the system (see there)
        if self.state.max_connections is None:
            self.state.max_connections = default_max_connections(fd_limit)
        listeners = await open_listeners(host, port, reuse_port=self.state.reuse_port)
        try:
            # The acceptor keeps the count; the supervisor's own bound leaves room
            # for connections evicted at the limit that have not ended yet.
            max_children = self.state.max_connections + EVICTION_ROOM
            self.state.connections = await DynamicSupervisor.start_link(max_children=max_children)
        except BaseException:
            await _close_all(listeners)
            raise
        self.state.address = tuple(listeners[0].socket.getsockname()[:2])
        self.state.pid = current_pid()
        self.state.make_context()
        assert self.state.context is not None  # (made just above)
        # Long-poll sessions outlive the requests that poll them: a supervisor of their own, beside the connections'.
        self.state.context, self.state.sessions = await mount_longpoll(self.state.context, self.state.websockets.values())
        self.acceptor = otp.spawn_link(_accept_loop, listeners, self.state)
        _ENDPOINTS[current_pid()] = self.state
        if self.state.telemetry_period is not None:
            otp.send_after(current_pid(), _TICK, self.state.telemetry_period)
        self.freezer: collector.BurstFreezer | None = None
        if self.state.tune_gc:
            collector.watch()
            collector.tune_for_server()
            self.freezer = collector.BurstFreezer()
            otp.send_after(current_pid(), _FREEZE_CHECK, _FREEZE_CHECK_EVERY)

    async def handle_info(self, message: object) -> None | otp.NoReply | otp.Continue | otp.Stop:
        if message is _TICK:
            otp.send_after(current_pid(), _TICK, self.state.telemetry_period)
            if telemetry.attached(ENDPOINT_STATISTICS):
                metadata = {"endpoint": current_pid(), "address": self.state.address}
                telemetry.execute(ENDPOINT_STATISTICS, attrs.asdict(self.state.counters.snapshot()), metadata)
            collector.emit()
            return None
        if message is _FREEZE_CHECK:
            assert self.freezer is not None  # (only scheduled with tune_gc)
            otp.send_after(current_pid(), _FREEZE_CHECK, _FREEZE_CHECK_EVERY)
            self.freezer.note(self.state.counters.accepted, trio.current_time())  # made, not open: see BurstFreezer
            return None
        if message is RECLAIM:
            assert self.state.context is not None  # (made in init)
            self.state.context.reclaimer.reclaim()
            return None
        if isinstance(message, otp.ExitSignal) and message.pid in (
            self.acceptor, self.state.connections, self.state.sessions, self.services
        ):
            return otp.Stop(message.reason)  # a part of the endpoint is gone: so is the endpoint
        return await super().handle_info(message)

    async def terminate(self, reason: object) -> None:
        for pid in (self.acceptor, self.state.connections, self.state.sessions, self.services):
            if pid is not None:
                await _shut_down(pid)

    def format_status(self) -> object:
        return {
            "address": self.state.address,
            "max_connections": self.state.max_connections,
            "statistics": self.state.counters.snapshot(),
        }


class _Tick:
    """Time to emit the periodic statistics event."""

    __slots__ = ()


_TICK = _Tick()


class _FreezeCheck:
    """Time to see whether a burst of connections should be frozen out of the collector's reach."""

    __slots__ = ()


_FREEZE_CHECK = _FreezeCheck()
_FREEZE_CHECK_EVERY = 0.1  # seconds: each freeze then walks what a tenth of a second of connections made


async def _start_services(handler: Handler) -> Pid | None:
    """A supervisor of the handler's ``children`` (see "Options"), or None if it has none."""
    children = list(getattr(handler, "children", None) or ())
    return await Supervisor.start_link(children) if children else None


async def _shut_down(pid: Pid) -> None:
    ref = otp.monitor(pid)
    otp.exit(pid, otp.SHUTDOWN)
    await otp.receive(lambda m: isinstance(m, otp.Down) and m.ref == ref)


async def _accept_loop(listeners: list[trio.SocketListener], state: _EndpointState) -> None:
    """The acceptor process: accept on every listener, start a connection process for each stream.

    Helper tasks accept; the process's own task starts the children, since
    ``start_child`` is a call and only a process's own task may receive.
    """
    send_stream, receive_stream = trio.open_memory_channel(0)
    try:
        async with trio.open_nursery() as nursery:
            acceptor = _Acceptor(state, nursery)
            for listener in listeners:
                nursery.start_soon(acceptor.accept_from, listener, send_stream.clone())
            send_stream.close()
            async for stream in receive_stream:
                await acceptor.start_connection(stream)
    finally:
        await _close_all(listeners)


# accept() failing with these is the machine being short of something, not
# the listener being broken: wait and try again (trio.serve_listeners does too).
_RESOURCE_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}
ACCEPT_RETRY = 0.1  # seconds between accept() attempts while resources are short
LOG_INTERVAL = 10.0  # seconds: at most one line per interval about refusals, and about accept() failing
EVICTION_ROOM = 16  # connections evicted at the limit but still closing, on top of max_connections


class _Acceptor:
    """The acceptor's tasks' shared part: turning connections away, and saying so without flooding the log."""

    def __init__(self, state: _EndpointState, nursery: trio.Nursery) -> None:
        # The endpoint's init derives the limit, starts the connection supervisor
        # and makes the context before it spawns the acceptor.
        assert state.max_connections is not None and state.connections is not None and state.context is not None
        self.state = state
        self.max_connections = state.max_connections
        self.connections = state.connections
        self.context = state.context
        self.waiting_heads = state.context.waiting_heads
        self.last_accept_error: OSError | None = None
        self.refusals = _ThrottledLog(nursery, self._log_refusals)
        self.accept_failures = _ThrottledLog(nursery, self._log_accept_failures)

    async def accept_from(self, listener: trio.SocketListener, streams: trio.MemorySendChannel) -> None:
        async with streams:
            while True:
                try:
                    stream = await listener.accept()
                except OSError as e:
                    if e.errno not in _RESOURCE_ERRORS:
                        raise
                    self.last_accept_error = e
                    self.accept_failures.note()
                    await trio.sleep(ACCEPT_RETRY)
                    continue
                self.state.counters.accepted += 1
                if self.state.counters.active < self.max_connections or self.evict_oldest_waiting():
                    await streams.send(stream)
                else:
                    # The fast refusal: no process, no supervisor call, one close.
                    await self.turn_away(stream)

    def evict_oldest_waiting(self) -> bool:
        """Make room by closing the connection that has waited longest for its first request; False if none waits.

        At the limit, the seats held by connections that never sent a whole
        request head (a slowloris holds them so) go to newcomers, oldest first:
        a client that sends its request at once is served however many
        trickling connections hold the rest. Connections that completed a
        request are never evicted.
        """
        waiting = self.waiting_heads
        if not waiting:
            return False
        seat = next(iter(waiting))
        del waiting[seat]
        seat.cancel()  # its connection closes (counted in ``evicted``) as soon as it runs
        return True

    async def start_connection(self, stream: trio.SocketStream) -> None:
        spec = ChildSpec(id="connection", start=(_spawn_connection, stream, self.context), restart=Restart.TEMPORARY)
        try:
            await DynamicSupervisor.start_child(self.connections, spec)
        except SupervisorError:
            # max_children: a burst got past the acceptor's count (``active``
            # grows only once each process runs); the supervisor's is exact.
            await self.turn_away(stream)

    async def turn_away(self, stream: trio.SocketStream) -> None:
        self.state.counters.rejected += 1
        self.refusals.note()
        await stream.aclose()

    def _log_refusals(self, count: int) -> None:
        host, port = self.state.address
        logger.warning(
            "endpoint %r on %s:%s refused %d connection(s): max_connections (%s) reached (logged at most every %g s)",
            self.state.pid, host, port, count, self.state.max_connections, LOG_INTERVAL,
        )

    def _log_accept_failures(self, count: int) -> None:
        host, port = self.state.address
        logger.error(
            "endpoint %r on %s:%s: accept() failed %d time(s) (%s); retrying every %g ms (logged at most every %g s)",
            self.state.pid, host, port, count, self.last_accept_error, ACCEPT_RETRY * 1000, LOG_INTERVAL,
        )


class _ThrottledLog:
    """Logs a recurring event through an :class:`otp.log.LogThrottle`, with a task that writes the summary when due."""

    def __init__(self, nursery: trio.Nursery, log: Callable[[int], None]) -> None:
        self.throttle = LogThrottle(LOG_INTERVAL)
        self.nursery, self.log = nursery, log
        self.summarizing = False

    def note(self) -> None:
        summary = self.throttle.note(trio.current_time())
        if summary is not None:
            self.log(summary.count)
            if not self.summarizing:
                self.summarizing = True
                self.nursery.start_soon(self._summarize)

    async def _summarize(self) -> None:
        while self.throttle.due is not None:
            await trio.sleep_until(self.throttle.due)
            summary = self.throttle.flush(trio.current_time())
            if summary is not None:
                self.log(summary.count)
        self.summarizing = False


async def _spawn_connection(stream: trio.SocketStream, context: ConnectionContext) -> Pid:
    # Run by the connection supervisor: the new process is linked to it.
    return otp.spawn_link(serve_connection, stream, context)


async def _close_all(listeners: list[trio.SocketListener]) -> None:
    with trio.CancelScope(shield=True):
        for listener in listeners:
            await listener.aclose()

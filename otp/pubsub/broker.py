"""The broker: a pub/sub server speaking Redis's protocol, for nodes on one machine (extra ``redis``).

The Redis adapter (:mod:`otp.pubsub.redis`) and :mod:`otp.dist` need a
server that relays published messages to subscribers. Across machines that
is Redis. On one machine, between the worker processes of one server
(``web.workers``), it is this broker: the same few commands, served by a
node of ours over a Unix domain socket, so that nothing needs to be
installed or run besides Python::

    from otp.pubsub.broker import Broker
    from otp.pubsub.redis import Redis

    broker = await Broker.start_link(path="/run/myapp/bus.sock")    # or host="127.0.0.1", port=0
    url = Broker.url(broker)                                        # "unix:///run/myapp/bus.sock"
    # in each node (each OS process):
    await pubsub.start_link("chat", adapter=Redis(url, secret=SECRET, node_name="worker-1"))
    await dist.start("worker-1", redis=url, secret=SECRET)

Run on its own: ``python -m otp.pubsub.broker --path /run/myapp/bus.sock``
(or ``--host 127.0.0.1 --port 6400``) prints ``listening on <url>``.

What it speaks
--------------
RESP, the protocol of Redis, as clients send it (arrays of bulk strings),
for these commands, answered as Redis answers them:

=================================  =============================================
``PING [message]``                 ``PONG`` (or the message)
``AUTH [user] password``           ``OK`` if the password is the broker's (any
                                   user name); without a password set, an
                                   error, as from Redis
``SELECT db``                      ``OK`` for 0..15: pub/sub ignores
                                   databases, in Redis as here
``SUBSCRIBE channel...``           a confirmation per channel; then the
                                   connection receives ``message`` pushes, and
                                   takes only ``(UN)SUBSCRIBE``, ``PING`` and
                                   ``QUIT``
``UNSUBSCRIBE [channel...]``       a confirmation per channel (all of them if
                                   none is named)
``PUBLISH channel message``        the number of subscribers it was queued for
``PUBSUB NUMSUB [channel...]``     each channel with its subscriber count
``PUBSUB CHANNELS``                the channels with subscribers
``QUIT``                           ``OK``, then the connection closes
=================================  =============================================

Anything else is answered ``ERR unknown command``; a command before
``AUTH`` on a broker with a password, ``NOAUTH``. Inline commands (typed
in telnet) and pattern subscriptions are not supported: a connection that
sends something other than an array of bulk strings is answered ``ERR
Protocol error`` and closed.

Order
-----
A PUBLISH is queued for every subscriber of its channel before the broker
reads the next command of any client: every subscriber sees the messages
of one channel in the same order, and a publisher's messages in the order
it published them (what :mod:`otp.dist` needs for message order between
two processes).

Subscribers that do not read
----------------------------
Each client's replies and pushes wait in its own buffer until the socket
takes them. A subscriber that stops reading must not make the broker hold
everything published since, so it is disconnected, under the rule Redis
applies to pub/sub clients (``client-output-buffer-limit pubsub 32mb 8mb
60``): when its buffer is over ``hard_limit`` bytes (32 MiB), or has been
over ``soft_limit`` (8 MiB) for ``soft_seconds`` (60) in a row. It is
counted (``statistics().disconnected``) and logged (``otp.pubsub.broker``,
WARNING, at most one line per 10 s; the next line counts those held). The Redis adapter of that node
reconnects and counts what it missed (see "Counting what is lost" in
:mod:`otp.pubsub.redis`); the other subscribers are not slowed down by it.
A client's unanswered input is bounded too (``max_input``, 64 MiB: one
command cannot be larger).

Trust
-----
The broker relays what it is given. On a Unix socket, the socket file's
permissions decide who may connect: put it in a directory only the
server's user can enter (``web.workers`` makes a private temporary one).
On TCP, listen on loopback only, and set a ``password``: anyone who can
connect can subscribe and read what is published. The adapters sign their
frames (see "Trust boundary" in :mod:`otp.pubsub.redis`), so a client
without the cluster's secret can read, never inject.

The process tree
----------------
::

    Broker (a GenServer: the listening socket, the channels, the counters)
    ├── the clients' supervisor     one temporary process per connection: reads its
    │   └── client <0.61.0> ...     commands, writes its buffer; a crash ends it alone
    └── the acceptor                accepts, and starts a client process for each

Stopping the broker closes the socket (a Unix socket's file is removed)
and every client's connection: their adapters reconnect when it is back.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import socket
import stat
import weakref
from typing import Any

import attrs
import trio

from .._child_spec import ChildSpec, ChildType, Restart
from .._kernel import (
    SHUTDOWN,
    Destination,
    Down,
    ExitSignal,
    Pid,
    current_pid,
    exit,
    monitor,
    receive,
    spawn_link,
    trap_exits,
)
from .._util import fixup_module_metadata as _fixup_module_metadata
from .._util import import_extra
from ..genserver import Continue, GenServer, NoReply, Stop
from ..log import ThrottledLogger
from ..lowlevel import resolve_pid
from ..supervisor import DynamicSupervisor

hiredis = import_extra("hiredis", extra="redis", needed_by="the broker (otp.pubsub.broker)")

__all__ = ["Broker", "BrokerStatistics", "HARD_LIMIT", "SOFT_LIMIT", "SOFT_SECONDS", "MAX_INPUT"]

logger = logging.getLogger("otp.pubsub.broker")

HARD_LIMIT = 32 << 20  # bytes waiting for one subscriber past which it is disconnected at once
SOFT_LIMIT = 8 << 20  # ... past which it is disconnected if it stays there SOFT_SECONDS
SOFT_SECONDS = 60.0
MAX_INPUT = 64 << 20  # bytes of one client's input not yet parsed into a command
_READ_SIZE = 65536
_LAST_WRITE_TIMEOUT = 5.0  # seconds a closing client has to take its last answers
_BACKLOG = 128
_DATABASES = 16  # SELECT accepts 0..15, as a default Redis


@attrs.frozen
class BrokerStatistics:
    """A snapshot of a broker's counters.

    ``clients`` connected now, ``subscribers`` among them (subscribed to at
    least one channel), ``channels`` with a subscriber; since the start:
    ``published`` PUBLISH commands, ``delivered`` messages queued for
    subscribers, ``disconnected`` subscribers cut off for not reading,
    ``protocol_errors`` connections closed for malformed input.
    """

    clients: int
    subscribers: int
    channels: int
    published: int
    delivered: int
    disconnected: int
    protocol_errors: int


class Broker:
    """Start, supervise and read a broker; see the module docstring."""

    @staticmethod
    async def start_link(
        *,
        path: str | os.PathLike[str] | None = None,
        host: str | None = None,
        port: int = 0,
        password: str | None = None,
        hard_limit: int = HARD_LIMIT,
        soft_limit: int = SOFT_LIMIT,
        soft_seconds: float = SOFT_SECONDS,
        max_input: int = MAX_INPUT,
        name: str | None = None,
    ) -> Pid:
        """Start a broker linked to the caller; return its pid once it listens.

        Args:
            path: listen on this Unix domain socket (a stale socket file left
                by a broker that died is replaced; one a live server
                listens on is an error).
            host, port: listen on TCP instead (port 0: a free one); give
                exactly one of ``path`` and ``host``.
            password: what ``AUTH`` must bring; None: no ``AUTH`` needed.
            hard_limit, soft_limit, soft_seconds: when a subscriber that
                does not read is disconnected (see the module docstring).
            max_input: the largest command a client may send, in bytes.

        Raises:
            ValueError: neither or both of ``path`` and ``host``, or a limit
                that is not a positive number.
            StartError: the address could not be bound (``.reason`` is the
                ``OSError``: a live server on that path, a port taken).
        """
        limits = _Limits(hard_limit, soft_limit, soft_seconds, max_input)
        where = _where(path, host, port)
        return await _BrokerServer.start_link((where, password, limits), name=name)

    @staticmethod
    def child_spec(*, id: object = "broker", **options: Any) -> ChildSpec:
        """A child spec for a supervisor; ``options`` are those of :meth:`start_link`."""
        return ChildSpec(id=id, start=(functools.partial(Broker.start_link, **options),), type=ChildType.SUPERVISOR)

    @staticmethod
    def url(broker: Destination) -> str:
        """Where clients connect: ``unix:///path`` or ``redis://host:port`` (the real port when started with 0).

        A sync read, without a round trip to the broker.
        """
        return _hub_of(broker).url

    @staticmethod
    def statistics(broker: Destination) -> BrokerStatistics:
        """A snapshot of the broker's counters (a sync read)."""
        return _hub_of(broker).statistics()

    stop = staticmethod(GenServer.stop)


def _positive(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"Broker: {attribute.name} must be a positive number; got {value!r}")


@attrs.frozen
class _Limits:
    hard_limit: int = attrs.field(validator=_positive)
    soft_limit: int = attrs.field(validator=_positive)
    soft_seconds: float = attrs.field(validator=_positive)
    max_input: int = attrs.field(validator=_positive)


@attrs.frozen
class _Where:
    path: str | None
    host: str | None
    port: int


def _where(path: str | os.PathLike[str] | None, host: str | None, port: int) -> _Where:
    if (path is None) == (host is None):
        raise ValueError("Broker: give path= (a Unix socket) or host= (TCP), one of them")
    return _Where(os.fspath(path) if path is not None else None, host, port)


# ---------------------------------------------------------------- the shared state


class _Hub:
    """The broker's channels and counters, shared by its client processes (one trio thread: no locks).

    Reads and fan-out happen in the publishing client's process, without a
    round trip to the broker process: a PUBLISH costs one dict lookup and
    one append per subscriber.
    """

    def __init__(self, url: str, password: str | None, limits: _Limits) -> None:
        self.url, self.password, self.limits = url, password, limits
        self.channels: dict[bytes, dict[_Client, None]] = {}  # channel -> subscribers, in subscription order
        self.clients: set[_Client] = set()
        self.published = self.delivered = self.disconnected = self.protocol_errors = 0
        self.log = ThrottledLogger(logger)

    def subscribe(self, client: _Client, channel: bytes) -> None:
        self.channels.setdefault(channel, {})[client] = None
        client.channels[channel] = None

    def unsubscribe(self, client: _Client, channel: bytes) -> None:
        client.channels.pop(channel, None)
        subscribers = self.channels.get(channel)
        if subscribers is not None:
            subscribers.pop(client, None)
            if not subscribers:
                del self.channels[channel]

    def publish(self, channel: bytes, message: bytes) -> int:
        """Queue ``message`` for every subscriber of ``channel``; return how many."""
        self.published += 1
        subscribers = self.channels.get(channel)
        if not subscribers:
            return 0
        push = b"*3\r\n$7\r\nmessage\r\n" + _bulk(channel) + _bulk(message)  # encoded once for all
        now, receivers = trio.current_time(), len(subscribers)
        for subscriber in list(subscribers):  # (a subscriber cut off below leaves the dict)
            subscriber.push(push, now)
        self.delivered += receivers
        return receivers

    def statistics(self) -> BrokerStatistics:
        subscribers = sum(1 for client in self.clients if client.channels)
        return BrokerStatistics(
            len(self.clients), subscribers, len(self.channels), self.published, self.delivered,
            self.disconnected, self.protocol_errors,
        )


# Broker pid -> its hub; weak, as the endpoint's table: it lives as long as the process.
_HUBS: weakref.WeakValueDictionary[Pid, _Hub] = weakref.WeakValueDictionary()


def _hub_of(broker: Destination) -> _Hub:
    pid = resolve_pid(broker)
    hub = _HUBS.get(pid) if pid is not None else None
    if hub is None:
        raise LookupError(f"{broker!r} is not a running broker; start one with Broker.start_link(path=...)")
    return hub


def over_limit(
    queued: int, over_soft_since: float | None, now: float, limits: _Limits
) -> tuple[str | None, float | None]:
    """Is a subscriber with ``queued`` bytes waiting past its limits? Returns (why or None, over_soft_since).

    ``over_soft_since`` is when its buffer went over the soft limit (None:
    it is under), as returned by the previous call; pass it back each time.

    >>> limits = _Limits(hard_limit=100, soft_limit=10, soft_seconds=60.0, max_input=1)
    >>> over_limit(5, None, 0.0, limits)                # under the soft limit
    (None, None)
    >>> over_limit(50, None, 0.0, limits)               # over it: the clock starts
    (None, 0.0)
    >>> over_limit(50, 0.0, 60.0, limits)               # still within soft_seconds
    (None, 0.0)
    >>> over_limit(50, 0.0, 60.5, limits)
    ('over soft_limit 10 for more than 60 s', 0.0)
    >>> over_limit(5, 0.0, 61.0, limits)                # under again: the clock stops
    (None, None)
    >>> over_limit(101, None, 0.0, limits)              # over the hard limit: at once
    ('over hard_limit 100', None)
    """
    if queued <= limits.soft_limit:
        return None, None
    if queued > limits.hard_limit:
        return f"over hard_limit {limits.hard_limit}", over_soft_since
    if over_soft_since is None:
        return None, now
    if now - over_soft_since > limits.soft_seconds:
        return f"over soft_limit {limits.soft_limit} for more than {limits.soft_seconds:g} s", over_soft_since
    return None, over_soft_since


# ---------------------------------------------------------------- RESP out


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def _encode(value: object) -> bytes:
    """A reply in RESP: bytes as a bulk string, int as an integer, a list as an array, None as a null."""
    if isinstance(value, bytes):
        return _bulk(value)
    if isinstance(value, bool) or not isinstance(value, (int, list)):
        if value is None:
            return b"$-1\r\n"
        raise TypeError(f"broker: no RESP for {value!r}")
    if isinstance(value, int):
        return b":%d\r\n" % value
    return b"*%d\r\n" % len(value) + b"".join(_encode(item) for item in value)


OK = b"+OK\r\n"
PONG = b"+PONG\r\n"


def _error(message: str) -> bytes:
    return b"-" + message.replace("\r", " ").replace("\n", " ").encode() + b"\r\n"


# ---------------------------------------------------------------- one client


_GONE = (trio.BrokenResourceError, trio.ClosedResourceError)  # what reading or writing to a client gone raises


class _Disconnect(Exception):
    """End this client's connection (after what is already queued, if ``flush``)."""

    def __init__(self, flush: bool) -> None:
        self.flush = flush


class _Client:
    """One connection: its buffer of output, its channels, its cancel scope (how a slow reader is cut off)."""

    def __init__(self, hub: _Hub, peer: str) -> None:
        self.hub, self.peer = hub, peer
        self.channels: dict[bytes, None] = {}
        self.authenticated = hub.password is None
        self.outbox: list[bytes] = []
        self.queued = 0  # bytes in the outbox
        self.over_soft_since: float | None = None
        self.wake = trio.Event()
        self.scope = trio.CancelScope()
        self.cut_off = False
        self.closing = False

    # -- output

    def reply(self, data: bytes) -> None:
        self.outbox.append(data)
        self.queued += len(data)
        self.wake.set()

    def push(self, data: bytes, now: float) -> None:
        """A published message for this subscriber, unless its buffer is past the limits (then it is cut off)."""
        if self.cut_off:
            return
        self.reply(data)
        over, self.over_soft_since = over_limit(self.queued, self.over_soft_since, now, self.hub.limits)
        if over is not None:
            self.cut(over)

    def cut(self, over: str) -> None:
        """Disconnect this subscriber: it does not read what it subscribed to."""
        self.cut_off = True
        self.hub.disconnected += 1
        self.hub.log.warning(
            "slow", "broker at %s: disconnected subscriber %s: %d bytes waited for it (%s)",
            self.hub.url, self.peer, self.queued, over, detail=self.peer,
        )
        self.forget()
        self.scope.cancel()

    def forget(self) -> None:
        for channel in list(self.channels):
            self.hub.unsubscribe(self, channel)
        self.hub.clients.discard(self)

    async def write_until_closed(self, stream: trio.abc.Stream) -> None:
        """Write the outbox as it fills, until :meth:`close_output` and all of it is written.

        A client that went away ends the connection, reading included: that
        is how a subscriber that only reads is noticed gone.
        """
        try:
            while True:
                await self.wake.wait()
                self.wake = trio.Event()
                await self.write_queued(stream)
                if self.closing:
                    return
        except _GONE:
            self.scope.cancel()

    def close_output(self) -> None:
        """No more output: the writer ends once the outbox is written (not cancelled: a cancelled
        ``send_all`` may have written part of its data, and the rest would be lost)."""
        self.closing = True
        self.wake.set()

    async def write_queued(self, stream: trio.abc.Stream) -> None:
        while self.outbox:
            data, self.outbox = b"".join(self.outbox), []
            await stream.send_all(data)
            self.queued -= len(data)
        if self.queued <= self.hub.limits.soft_limit:
            self.over_soft_since = None

    # -- input

    def handle(self, command: list[bytes]) -> None:
        """Answer one command (its name already upper-cased in ``command[0]``)."""
        name = command[0]
        if not self.authenticated and name not in (b"AUTH", b"QUIT"):
            return self.reply(b"-NOAUTH Authentication required.\r\n")
        if self.channels and name not in _SUBSCRIBED_MODE:
            text = name.decode(errors="replace").lower()
            return self.reply(_error(
                f"ERR Can't execute '{text}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                f"are allowed in this context"
            ))
        handler = _COMMANDS.get(name)
        if handler is None:
            return self.reply(_unknown(command))
        handler(self, command[1:])

    def ping(self, args: list[bytes]) -> None:
        if len(args) > 1:
            return self.reply(_wrong_arity(b"ping"))
        if self.channels:  # a subscribed connection gets a push-shaped answer, as from Redis
            return self.reply(_encode([b"pong", args[0] if args else b""]))
        self.reply(_bulk(args[0]) if args else PONG)

    def auth(self, args: list[bytes]) -> None:
        if len(args) not in (1, 2):
            return self.reply(_wrong_arity(b"auth"))
        password = self.hub.password
        if password is None:
            return self.reply(_error(
                "ERR AUTH <password> called without any password configured for the default user. "
                "Are you sure your configuration is correct?"
            ))
        if args[-1] != password.encode():
            return self.reply(_error("WRONGPASS invalid username-password pair or user is disabled."))
        self.authenticated = True
        self.reply(OK)

    def select(self, args: list[bytes]) -> None:
        if len(args) != 1:
            return self.reply(_wrong_arity(b"select"))
        if not args[0].isdigit() or int(args[0]) >= _DATABASES:
            return self.reply(_error("ERR DB index is out of range"))
        self.reply(OK)

    def subscribe(self, args: list[bytes]) -> None:
        if not args:
            return self.reply(_wrong_arity(b"subscribe"))
        for channel in args:
            self.hub.subscribe(self, channel)
            self.reply(_encode([b"subscribe", channel, len(self.channels)]))

    def unsubscribe(self, args: list[bytes]) -> None:
        channels = args or list(self.channels)
        if not channels:
            return self.reply(_encode([b"unsubscribe", None, 0]))
        for channel in channels:
            self.hub.unsubscribe(self, channel)
            self.reply(_encode([b"unsubscribe", channel, len(self.channels)]))

    def publish(self, args: list[bytes]) -> None:
        if len(args) != 2:
            return self.reply(_wrong_arity(b"publish"))
        self.reply(b":%d\r\n" % self.hub.publish(args[0], args[1]))

    def pubsub(self, args: list[bytes]) -> None:
        what = args[0].upper() if args else b""
        if what == b"NUMSUB":
            counts: list[object] = []
            for channel in args[1:]:
                counts += [channel, len(self.hub.channels.get(channel, ()))]
            return self.reply(_encode(counts))
        if what == b"CHANNELS" and len(args) == 1:
            return self.reply(_encode(list(self.hub.channels)))
        self.reply(_error(f"ERR unknown subcommand or wrong number of arguments for '{_text(what)}'. Try PUBSUB HELP."))

    def quit(self, args: list[bytes]) -> None:
        self.reply(OK)
        raise _Disconnect(flush=True)


def _text(data: bytes) -> str:
    return data.decode(errors="replace")[:128]


def _unknown(command: list[bytes]) -> bytes:
    start = " ".join(f"'{_text(arg)}'" for arg in command[1:4])
    return _error(f"ERR unknown command '{_text(command[0]).lower()}', with args beginning with: {start}")


def _wrong_arity(name: bytes) -> bytes:
    return _error(f"ERR wrong number of arguments for '{_text(name)}' command")


_COMMANDS = {
    b"PING": _Client.ping,
    b"AUTH": _Client.auth,
    b"SELECT": _Client.select,
    b"SUBSCRIBE": _Client.subscribe,
    b"UNSUBSCRIBE": _Client.unsubscribe,
    b"PUBLISH": _Client.publish,
    b"PUBSUB": _Client.pubsub,
    b"QUIT": _Client.quit,
}
_SUBSCRIBED_MODE = frozenset({b"SUBSCRIBE", b"UNSUBSCRIBE", b"PSUBSCRIBE", b"PUNSUBSCRIBE", b"PING", b"QUIT", b"RESET"})


class _ProtocolError(Exception):
    pass


class _Commands:
    """Commands parsed from a client's bytes (hiredis does the parsing), bounded by ``max_input``."""

    def __init__(self, max_input: int) -> None:
        self.reader = hiredis.Reader()
        self.max_input = max_input
        self.unparsed = 0  # bytes fed since the last whole command (an upper bound of what hiredis holds)

    def feed(self, data: bytes) -> None:
        self.unparsed += len(data)
        if self.unparsed > self.max_input:
            raise _ProtocolError(f"a command longer than {self.max_input} bytes (max_input)")
        self.reader.feed(data)

    def next(self) -> list[bytes] | None:
        try:
            command = self.reader.gets()
        except hiredis.ProtocolError as error:
            raise _ProtocolError(str(error)) from None
        if command is False:
            return None
        self.unparsed = 0
        if not isinstance(command, list) or not command or not all(isinstance(arg, bytes) for arg in command):
            raise _ProtocolError(f"expected an array of bulk strings, got {_shape(command)}")
        command[0] = command[0].upper()
        return command


def _shape(value: object) -> str:
    return "an empty array" if value == [] else f"a {type(value).__name__}"


async def _serve_client(stream: trio.SocketStream, hub: _Hub) -> None:
    """A client's process: commands in, replies and pushes out, until it quits, breaks or is cut off."""
    client = _Client(hub, _peer(stream))
    hub.clients.add(client)
    try:
        with client.scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(client.write_until_closed, stream)
                await _read_commands(client, stream)
                # The last answers (QUIT's OK, a protocol error's) go out, if the client takes them soon.
                client.close_output()
                nursery.cancel_scope.deadline = trio.current_time() + _LAST_WRITE_TIMEOUT
    finally:
        client.forget()
        with trio.CancelScope(shield=True):
            await trio.aclose_forcefully(stream)


async def _read_commands(client: _Client, stream: trio.SocketStream) -> None:
    commands = _Commands(client.hub.limits.max_input)
    try:
        while True:
            try:
                data = await stream.receive_some(_READ_SIZE)
            except _GONE:
                return  # reset by the client: the same as its end of file
            if not data:
                return
            commands.feed(data)
            while (command := commands.next()) is not None:
                client.handle(command)
    except _Disconnect:
        return
    except _ProtocolError as error:
        client.hub.protocol_errors += 1
        client.reply(_error(f"ERR Protocol error: {error}"))
        client.hub.log.warning(
            "protocol", "broker at %s: closed the connection of %s: %s", client.hub.url, client.peer, error,
            detail=client.peer,
        )


def _peer(stream: trio.SocketStream) -> str:
    try:
        name = stream.socket.getpeername()
    except OSError:
        return "?"
    return f"{name[0]}:{name[1]}" if isinstance(name, tuple) else f"unix socket (fd {stream.socket.fileno()})"


# ---------------------------------------------------------------- the broker process


class _BrokerServer(GenServer):
    """Internal: binds, starts the clients' supervisor and the acceptor; closes all of it on shutdown."""

    async def init(self, arg: tuple[_Where, str | None, _Limits]) -> None:
        trap_exits(True)  # a shutdown goes through terminate: the acceptor and the socket first
        where, password, limits = arg
        self.where = where
        listener, url = await _listen(where)
        try:
            self.clients = await DynamicSupervisor.start_link()
        except BaseException:
            await _close(listener, where)
            raise
        self.hub = _Hub(url, password, limits)
        self.acceptor = spawn_link(_accept_loop, listener, where, self.clients, self.hub)
        _HUBS[current_pid()] = self.hub

    async def handle_info(self, message: object) -> NoReply | Continue | Stop | None:
        if isinstance(message, ExitSignal) and message.pid in (self.acceptor, self.clients):
            return Stop(message.reason)  # a part of the broker is gone: so is the broker
        return await super().handle_info(message)

    async def terminate(self, reason: object) -> None:
        _HUBS.pop(current_pid(), None)
        for pid in (self.acceptor, self.clients):
            await _shut_down(pid)

    def format_status(self) -> object:
        return {"url": self.hub.url, "statistics": self.hub.statistics()}


async def _shut_down(pid: Pid) -> None:
    ref = monitor(pid)
    exit(pid, SHUTDOWN)
    await receive(lambda m: isinstance(m, Down) and m.ref == ref)


async def _listen(where: _Where) -> tuple[trio.SocketListener, str]:
    if where.path is not None:
        return await _listen_unix(where.path), f"unix://{where.path}"
    [listener, *others] = await trio.open_tcp_listeners(where.port, host=where.host)
    for other in others:  # one address is enough for a local bus ("localhost" may give two)
        await other.aclose()
    host, port = listener.socket.getsockname()[:2]
    return listener, f"redis://{'[' + host + ']' if ':' in host else host}:{port}"


async def _listen_unix(path: str) -> trio.SocketListener:
    await _remove_stale_socket(path)
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        await sock.bind(path)
        sock.listen(_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return trio.SocketListener(sock)


async def _remove_stale_socket(path: str) -> None:
    """A socket file nobody listens on (its broker died) is removed; a live one is an error; other files stay."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise FileExistsError(f"broker: {path} exists and is not a socket: not replacing it")
    probe = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        await probe.connect(path)
    except ConnectionRefusedError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise OSError(f"broker: a server is listening on {path} already")


async def _close(listener: trio.SocketListener, where: _Where) -> None:
    with trio.CancelScope(shield=True):
        await listener.aclose()
    if where.path is not None:
        try:
            os.unlink(where.path)
        except FileNotFoundError:
            pass


async def _accept_loop(listener: trio.SocketListener, where: _Where, clients: Pid, hub: _Hub) -> None:
    """The acceptor process: a client process (a temporary child of the clients' supervisor) per connection."""
    try:
        while True:
            stream = await listener.accept()
            spec = ChildSpec(id="client", start=(_spawn_client, stream, hub), restart=Restart.TEMPORARY)
            await DynamicSupervisor.start_child(clients, spec)
    finally:
        await _close(listener, where)


async def _spawn_client(stream: trio.SocketStream, hub: _Hub) -> Pid:
    return spawn_link(_serve_client, stream, hub)


# ---------------------------------------------------------------- python -m otp.pubsub.broker


def main(argv: list[str] | None = None) -> None:
    """Run a broker until interrupted; print ``listening on <url>`` once it listens."""
    import otp

    parser = argparse.ArgumentParser(prog="python -m otp.pubsub.broker", description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--path", help="listen on this Unix domain socket")
    where.add_argument("--host", help="listen on TCP at this address (loopback: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="the TCP port (default: a free one)")
    parser.add_argument("--password", default=os.environ.get("BROKER_PASSWORD"), help="(default: $BROKER_PASSWORD)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    async def run() -> None:
        broker = await Broker.start_link(path=args.path, host=args.host, port=args.port, password=args.password)
        print(f"listening on {Broker.url(broker)}", flush=True)
        await otp.receive(lambda m: False)

    try:
        otp.run(run)
    except KeyboardInterrupt:
        pass


_fixup_module_metadata(__name__, globals())

if __name__ == "__main__":
    main()

"""Web load benchmarks (issue #5): the demo chat server under many sockets, against bare trio + h11 + wsproto.

Four workloads, run only when named (``python -m benchmarks web-conns
web-fanout web-pingpong web-churn``):

``web-conns`` (C1): hold N joined sockets
    N WebSockets (``/socket/websocket?vsn=2.0.0&user=uN``), each joined to a
    room of its own (``room:cN``: with Presence, as the demo tracks every
    joiner). Figure: the server process's RSS growth ÷ N, in bytes per
    connection (VmRSS read from ``/proc/<pid>/status`` once the server is
    up, and again 1 s after the last join reply). Baseline: the bare server
    holding the same N joined sockets.

``web-fanout`` (C2): one broadcast to N subscribers of one topic
    N sockets joined to one topic; one of them shouts; the time from the
    shout until every subscriber (the shouter too) has the ``shout`` frame.
    R measured rounds after 2 warm-up ones, 50 ms apart. Figure: the p50 in
    ms; ``p99_ms`` too. Baseline: the bare server writing the broadcast
    frame to every socket that joined the topic.

``web-pingpong`` (C3): sequential push/reply round trips
    C clients, each joined to its own room, each sending ``ping`` and
    waiting for its ``phx_reply`` before the next, K round trips in all
    (after 20 unmeasured per client). Figure: round trips/s (K ÷ the wall
    time); ``p50_ms``, ``p99_ms`` of the single round trips. Baseline: the
    bare server answering each ping with the same reply frame.

``web-churn`` (C4): connect → join → leave → disconnect
    W workers doing whole cycles (connect, ``phx_join`` a room, wait for the
    reply, ``phx_leave``, wait for the reply, close handshake) until M cycles
    are done. Figure: cycles/s; ``errors`` (refusals, error replies,
    unexpected closes, exceptions) must be 0. No baseline.

Every workload reports ``errors`` (0 when all went as it should) and
``server_log_lines`` (what the server process wrote to stderr: warnings,
crash reports; 0 when quiet).

Sizes (full / ``--quick``): C1 N=10,000 / 100; C2 N=10,000, R=20 / N=50,
R=5; C3 C=10, K=20,000 / C=2, K=500; C4 2,000 cycles, 10 workers / 50
cycles, 10 workers. The soft RLIMIT_NOFILE of both processes is raised to
the hard limit; if that leaves fewer than N + 100 descriptors, N is lowered
to fit and ``connections`` says how many were held.

The two processes
-----------------
The server runs in a **separate OS process** (``python -m
benchmarks.web_load serve ours|raw``), started fresh for every run and
killed after it, so its figures (RSS above all) are its own. The load
generator is this process: trio tasks and :class:`~benchmarks._web_client.PhxClient`
(wsproto), one task per socket. Both share the machine's cores, so the
client's own cost (wsproto parsing every frame of 10,000 sockets) is in
every figure, on both sides alike; ratios are closer to 1 than the servers
alone would be.

*Ours* is the demo chat's supervision tree (``web/demo/app.py``: PubSub,
Presence, the channels' DynamicSupervisor, the Endpoint with the Phoenix
socket) under ``otp.run``, with the demo's ``ChatSocket`` and
``RoomChannel`` and two changes made for load, by subclassing:

* the per-client rate limit (200 messages/s, burst 400) is lifted: C3 sends
  faster than a person types and would be closed with 1008;
* topics ``quiet:<room>`` route to ``RoomChannel`` without Presence. C2
  joins N sockets to *one* topic, and with Presence every join broadcasts a
  ``presence_diff`` to everyone already there and pushes the whole
  ``presence_state`` to the joiner: N²/2 frames (50 million at 10,000),
  which would time the joins, not the fan-out. (Phoenix does the same per
  join; big rooms there also do without Presence or with a sampled one.)

*Raw* (the baseline) is :func:`_raw_serve` below: ``trio.serve_listeners``,
h11 for the upgrade, a wsproto ``Connection`` per socket, a reader task and
a writer task with an outbox per socket, a dict of topic → sockets. It
answers ``phx_join`` (``{"room", "user"}``), ``phx_leave`` (then
``phx_close``), ``ping`` (its payload) and heartbeats with the reply frame
of the same shape as ours, and a ``shout`` by writing the ``shout``
broadcast frame (JSON encoded once) to every socket of the topic.

The garbage collector
---------------------
Both server processes call ``gc.collect(); gc.freeze()`` once listening
(everything made at start-up leaves the collector's generations) and raise
the thresholds to ``(50_000, 20, 100)``: a full collection walks every
tracked object, and with 10,000 sockets (tasks, wsproto and h11 state,
processes, mailboxes) one paused a server for up to 0.78 s. The load
generator does the same. Nothing is ever collected *between* a shout and
its arrivals on purpose; whatever the raised thresholds still trigger is
part of the figure, on both sides.

How runs are taken: as every benchmark here, ``measure`` alternates ours
and raw, ``--runs`` times each (default 5), a fresh server process each
time, and keeps the medians; the other fields come from the median run of
ours. Setting up (starting the server, opening and joining the sockets of
C2 and C3) is never timed, except in C1 where the joins are the work (its
``connect_s`` field).
"""

from __future__ import annotations

import gc
import math
import os
import resource
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from time import perf_counter
from typing import Iterator

import trio

from ._harness import Sample, Workload
from ._web_client import PhxClient, ServerClosed

HOST = "127.0.0.1"
GC_THRESHOLDS = (50_000, 20, 100)
CONNECT_CONCURRENCY = 64  # connections being opened at once (the listen backlog is bounded)
RUN_TIMEOUT = 600.0  # seconds: a run that takes longer has lost a frame; fail, do not hang
FANOUT_TOPIC = "quiet:bench"
FANOUT_WARMUP = 2
FANOUT_PAUSE = 0.05
ROUND_TIMEOUT = 60.0  # seconds: a broadcast that has not reached everyone by then is lost
PING_WARMUP = 20
SETTLE = 1.0  # C1: seconds after the last join before RSS is read
FD_MARGIN = 100


# ============================================================ the processes


def raise_fd_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit; return the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def fitting(n: int) -> int:
    """The largest number of sockets up to ``n`` this process's descriptors allow (the server's are as many)."""
    limit = raise_fd_limit()
    return max(1, min(n, limit - FD_MARGIN))


def quiet_gc() -> None:
    """What both servers (and the load generator) do once started: freeze the start-up heap, collect rarely."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def process_rss(pid: int) -> int:
    """VmRSS of process ``pid``, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Server:
    """A server process started by :func:`server`: its pid, port and stderr."""

    def __init__(self, process: subprocess.Popen, port: int, log) -> None:
        self.process, self.port, self.log = process, port, log

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss(self) -> int:
        return process_rss(self.pid)

    def log_text(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def log_lines(self) -> int:
        self.log.flush()
        self.log.seek(0)
        return sum(1 for line in self.log if line.strip())


def server(kind: str):
    """Start ``python -m benchmarks.web_load serve <kind>``; yield once it listens; kill it after."""
    return server_process(["benchmarks.web_load", "serve", kind], f"the {kind} server")


@contextmanager
def server_process(module_and_args: list[str], label: str) -> Iterator[Server]:
    """Run ``python -m <module_and_args>``; yield once it prints "listening on ...:PORT"; kill it after."""
    log = tempfile.TemporaryFile("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", *module_and_args],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        line = process.stdout.readline()  # "" if it died first
        if not line.startswith("listening on "):
            log.seek(0)
            raise RuntimeError(f"{label} did not start: {line!r}\n{log.read()}")
        port = int(line.rsplit(":", 1)[1])
        yield Server(process, port, log)
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        log.close()


def _announce(line: str) -> None:
    quiet_gc()
    print(line, flush=True)


# ------------------------------------------------------------ ours: the demo chat tree


def _serve_ours() -> None:
    import logging

    import otp
    from otp import ChildSpec, ChildType, DynamicSupervisor, PubSub, Supervisor
    from web.channel import Ok
    from web.demo.app import CHANNELS, pages
    from web.demo.chat import PRESENCE, PUBSUB, ChatSocket, RoomChannel
    from web.endpoint import Endpoint
    from web.presence import Presence
    from web.transports.phoenix import phoenix_socket

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    class QuietRoomChannel(RoomChannel):
        """The demo's room without Presence (no ``after_join`` track): for the one-topic fan-out."""

        async def join(self, topic, payload, socket):
            return Ok({"room": topic.partition(":")[2], "user": socket.assigns["user"]})

    class BenchSocket(ChatSocket):
        rate_limit = (1e12, 1e12)  # lifted: the load generator is faster than a person

        def route(self, topic):
            if topic.startswith("quiet:"):
                return QuietRoomChannel
            return super().route(topic)

    # chat_children (web/demo/app.py) with BenchSocket for ChatSocket.
    async def start_endpoint():
        socket = phoenix_socket(BenchSocket, pubsub=PUBSUB, channel_supervisor=CHANNELS)
        pid = await Endpoint.start_link(pages, host=HOST, port=0, websocket=socket)
        bound_host, bound_port = Endpoint.address(pid)
        _announce(f"listening on http://{bound_host}:{bound_port}")
        return pid

    children = [
        PubSub.child_spec(PUBSUB),
        Presence.child_spec(PUBSUB, pubsub=PUBSUB, name=PRESENCE),
        DynamicSupervisor.child_spec(name=CHANNELS),
        ChildSpec(id="endpoint", start=(start_endpoint,), type=ChildType.SUPERVISOR),
    ]

    async def main() -> None:
        await Supervisor.start_link(children)
        await otp.receive(lambda m: False)  # until killed

    otp.run(main)


# ------------------------------------------------------------ raw: bare trio + h11 + wsproto


def _serve_raw() -> None:
    trio.run(_raw_serve)


class _RawSocket:
    """One WebSocket of the bare server: its wsproto connection, its outbox, its user, its topics."""

    __slots__ = ("ws", "frames", "wakeup", "user", "topics", "open")

    def __init__(self, ws, user: str) -> None:
        self.ws, self.user = ws, user
        self.frames: list[bytes] = []
        self.wakeup = trio.Event()
        self.topics: dict[str, str] = {}  # topic -> join_ref
        self.open = True

    def send_text(self, text: str) -> None:
        from wsproto.events import TextMessage

        if self.open:
            self.frames.append(self.ws.send(TextMessage(data=text)))
            self.wakeup.set()


async def _raw_serve() -> None:
    import h11
    import orjson
    from wsproto.connection import Connection, ConnectionType
    from wsproto.events import CloseConnection, Ping, TextMessage
    from wsproto.utilities import generate_accept_token

    dumps = orjson.dumps
    subscribers: dict[str, set[_RawSocket]] = {}

    def reply(sock: _RawSocket, join_ref, ref, topic, status: str, response) -> None:
        sock.send_text(dumps([join_ref, ref, topic, "phx_reply", {"status": status, "response": response}]).decode())

    def handle(sock: _RawSocket, text: str) -> None:
        join_ref, ref, topic, event, payload = orjson.loads(text)
        if event == "ping":
            reply(sock, join_ref, ref, topic, "ok", payload)
        elif event == "shout":
            frame = dumps([None, None, topic, "shout", {"body": payload.get("body"), "user": sock.user}]).decode()
            for other in subscribers.get(topic, ()):
                other.send_text(frame)
        elif event == "phx_join":
            sock.topics[topic] = join_ref
            subscribers.setdefault(topic, set()).add(sock)
            reply(sock, join_ref, ref, topic, "ok", {"room": topic.partition(":")[2], "user": sock.user})
        elif event == "phx_leave":
            reply(sock, join_ref, ref, topic, "ok", {})
            if sock.topics.pop(topic, None) is not None:
                _unsubscribe(sock, topic)
                sock.send_text(dumps([join_ref, join_ref, topic, "phx_close", {}]).decode())
        elif topic == "phoenix" and event == "heartbeat":
            reply(sock, None, ref, topic, "ok", {})
        else:
            reply(sock, join_ref, ref, topic, "error", {"reason": "unknown event"})

    def _unsubscribe(sock: _RawSocket, topic: str) -> None:
        members = subscribers.get(topic)
        if members is not None:
            members.discard(sock)
            if not members:
                del subscribers[topic]

    async def writer(stream, sock: _RawSocket) -> None:
        while sock.open or sock.frames:
            if not sock.frames:
                sock.wakeup = trio.Event()
                await sock.wakeup.wait()
                continue
            data = b"".join(sock.frames)
            sock.frames.clear()
            await stream.send_all(data)

    async def connection(stream: trio.SocketStream) -> None:
        async with stream:
            try:
                await _serve_one(stream)
            except (trio.BrokenResourceError, trio.ClosedResourceError, h11.RemoteProtocolError):
                pass

    async def _serve_one(stream: trio.SocketStream) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await stream.receive_some(65536)
                if not data:
                    return
                conn.receive_data(data)
            elif isinstance(event, h11.Request):
                break
            else:
                return
        headers = {k.decode().lower(): v.decode() for k, v in event.headers}
        query = dict(part.split("=", 1) for part in event.target.decode().partition("?")[2].split("&") if "=" in part)
        key = headers.get("sec-websocket-key", "")
        accept = generate_accept_token(key.encode()).decode()
        await stream.send_all(
            conn.send(
                h11.InformationalResponse(
                    status_code=101,
                    headers=[("upgrade", "websocket"), ("connection", "Upgrade"), ("sec-websocket-accept", accept)],
                )
            )
        )
        ws = Connection(ConnectionType.SERVER, trailing_data=conn.trailing_data[0])
        sock = _RawSocket(ws, query.get("user", ""))
        parts: list[str] = []
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(writer, stream, sock)
                try:
                    while sock.open:
                        for event in ws.events():
                            if event.__class__ is TextMessage:
                                parts.append(event.data)
                                if event.message_finished:
                                    handle(sock, "".join(parts))
                                    parts.clear()
                            elif isinstance(event, CloseConnection):
                                if ws.state.name == "REMOTE_CLOSING":
                                    sock.frames.append(ws.send(event.response()))
                                sock.open = False
                                sock.wakeup.set()
                                break
                            elif isinstance(event, Ping):
                                sock.frames.append(ws.send(event.response()))
                                sock.wakeup.set()
                        else:
                            data = await stream.receive_some(65536)
                            ws.receive_data(data or None)
                finally:
                    sock.open = False
                    sock.wakeup.set()
                    for topic in sock.topics:
                        _unsubscribe(sock, topic)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    listeners = await trio.open_tcp_listeners(0, host=HOST)
    port = listeners[0].socket.getsockname()[1]
    _announce(f"listening on http://{HOST}:{port}")
    await trio.serve_listeners(connection, listeners)


# ============================================================ the load generator


class _Errors:
    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None

    def add(self, what: object) -> None:
        self.count += 1
        if self.first is None:
            self.first = repr(what)[:200]


async def _open_joined(
    port: int, n: int, topic_of, errors: _Errors, user_prefix: str = "u"
) -> list[tuple[PhxClient, str, str]]:
    """Open ``n`` sockets and join each to ``topic_of(i)``, a bounded number at a time; return (client, join_ref, topic)."""
    clients: list = [None] * n
    limit = trio.Semaphore(CONNECT_CONCURRENCY)

    async def one(i: int) -> None:
        async with limit:
            client = await PhxClient.connect(HOST, port, f"{user_prefix}{i}")
            topic = topic_of(i)
            join_ref, answer = await client.join(topic)
            if answer.get("status") != "ok":
                errors.add(answer)
            clients[i] = (client, join_ref, topic)

    async with trio.open_nursery() as nursery:
        for i in range(n):
            nursery.start_soon(one, i)
    return clients


async def _close_all(clients) -> None:
    for entry in clients:
        if entry is not None:
            await entry[0].aclose()


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest rank of the sorted ``ordered``."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@contextmanager
def quiet_gc_while() -> Iterator[None]:
    """The collector as the servers have it (:func:`quiet_gc`) for the block; Python's defaults after."""
    quiet_gc()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)


def _run(kind: str, main, *args) -> Sample:
    with quiet_gc_while(), server(kind) as srv:
        sample = trio.run(_with_timeout, main, srv, *args)
        extra = dict(sample.extra)
        extra["server_log_lines"] = srv.log_lines()
        return Sample(figure=sample.figure, rss_per_process=sample.rss_per_process, extra=extra)


async def _with_timeout(main, srv: Server, *args) -> Sample:
    with trio.fail_after(RUN_TIMEOUT):
        return await main(srv, *args)


# ------------------------------------------------------------ C1 web-conns


async def _conns_main(srv: Server, n: int) -> Sample:
    n = fitting(n)
    errors = _Errors()
    await trio.sleep(0.2)  # the server idle after start-up
    before = srv.rss()
    start = perf_counter()
    clients = await _open_joined(srv.port, n, lambda i: f"room:c{i}", errors)
    connect_s = perf_counter() - start
    # Drain what the server pushed after the joins (presence_state, presence_diff),
    # so that the server's outboxes are empty when RSS is read.
    async with trio.open_nursery() as nursery:
        for client, _, _ in clients:
            nursery.start_soon(_drain, client)
        await trio.sleep(SETTLE)
        after = srv.rss()
        nursery.cancel_scope.cancel()
    # Still alive and answering: one round trip on the last socket.
    client, join_ref, topic = clients[-1]
    answer = await client.call(join_ref, topic, "ping", {"alive": True})
    if answer != {"status": "ok", "response": {"alive": True}}:
        errors.add(answer)
    await _close_all(clients)
    return Sample(
        figure=(after - before) / n,
        extra={
            "connections": n,
            "server_rss_before": before,
            "server_rss_after": after,
            "connect_s": connect_s,
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


async def _drain(client: PhxClient) -> None:
    try:
        while True:
            await client.receive()
    except ServerClosed:
        pass


def ours_conns(n: int) -> Sample:
    return _run("ours", _conns_main, n)


def raw_conns(n: int) -> Sample:
    return _run("raw", _conns_main, n)


# ------------------------------------------------------------ C2 web-fanout


async def _fanout_main(srv: Server, n: int, rounds: int) -> Sample:
    n = fitting(n)
    errors = _Errors()
    clients = await _open_joined(srv.port, n, lambda i: FANOUT_TOPIC, errors)
    state = {"left": 0, "last": 0.0}
    done = trio.Event()
    all_in = [done]

    async def read(client: PhxClient) -> None:
        try:
            while True:
                text = await client.receive()
                if '"shout"' in text and "phx_reply" not in text:
                    state["left"] -= 1
                    if state["left"] == 0:
                        state["last"] = perf_counter()
                        all_in[0].set()
        except ServerClosed as closed:
            errors.add(closed)

    times = []
    async with trio.open_nursery() as nursery:
        for client, _, _ in clients:
            nursery.start_soon(read, client)
        await trio.sleep(0.2)  # every reader waiting
        shouter, join_ref, topic = clients[0]
        for number in range(FANOUT_WARMUP + rounds):
            all_in[0] = trio.Event()
            state["left"] = n
            start = perf_counter()
            await shouter.send_frame(join_ref, shouter.next_ref(), topic, "shout", {"body": f"round {number}"})
            with trio.move_on_after(ROUND_TIMEOUT) as waited:
                await all_in[0].wait()
            if waited.cancelled_caught:
                raise RuntimeError(
                    f"round {number}: {state['left']} of {n} subscribers never got the shout "
                    f"({errors.count} errors, first {errors.first}); server stderr:\n{srv.log_text()[-2000:]}"
                )
            if number >= FANOUT_WARMUP:
                times.append(state["last"] - start)
            await trio.sleep(FANOUT_PAUSE)
        nursery.cancel_scope.cancel()
    await _close_all(clients)
    ordered = sorted(times)
    return Sample(
        figure=_percentile(ordered, 50) * 1e3,
        extra={
            "subscribers": n,
            "rounds": rounds,
            "p99_ms": _percentile(ordered, 99) * 1e3,
            "max_ms": ordered[-1] * 1e3,
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


def ours_fanout(n: int, rounds: int) -> Sample:
    return _run("ours", _fanout_main, n, rounds)


def raw_fanout(n: int, rounds: int) -> Sample:
    return _run("raw", _fanout_main, n, rounds)


# ------------------------------------------------------------ C3 web-pingpong


async def _pingpong_main(srv: Server, total: int, clients_n: int) -> Sample:
    errors = _Errors()
    clients = await _open_joined(srv.port, clients_n, lambda i: f"room:p{i}", errors)
    per_client = [total // clients_n + (1 if i < total % clients_n else 0) for i in range(clients_n)]
    latencies: list[float] = []

    async def pinger(client: PhxClient, join_ref: str, topic: str, count: int, measured: bool, go: trio.Event) -> None:
        await go.wait()
        clock, send, reply, next_ref = perf_counter, client.send_frame, client.reply, client.next_ref
        mine = []
        for number in range(count):
            ref = next_ref()
            payload = {"n": number}
            start = clock()
            await send(join_ref, ref, topic, "ping", payload)
            frame = await reply(ref)
            mine.append(clock() - start)
            if frame[4] != {"status": "ok", "response": payload}:
                errors.add(frame)
        if measured:
            latencies.extend(mine)

    for measured in (False, True):
        go = trio.Event()
        async with trio.open_nursery() as nursery:
            for (client, join_ref, topic), count in zip(clients, per_client):
                nursery.start_soon(pinger, client, join_ref, topic, count if measured else PING_WARMUP, measured, go)
            await trio.sleep(0.05)
            start = perf_counter()
            go.set()
        elapsed = perf_counter() - start
    await _close_all(clients)
    ordered = sorted(latencies)
    return Sample(
        figure=total / elapsed,
        extra={
            "clients": clients_n,
            "p50_ms": _percentile(ordered, 50) * 1e3,
            "p99_ms": _percentile(ordered, 99) * 1e3,
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


def ours_pingpong(total: int, clients: int) -> Sample:
    return _run("ours", _pingpong_main, total, clients)


def raw_pingpong(total: int, clients: int) -> Sample:
    return _run("raw", _pingpong_main, total, clients)


# ------------------------------------------------------------ C4 web-churn


async def _churn_main(srv: Server, cycles: int, workers: int) -> Sample:
    errors = _Errors()
    remaining = [cycles]
    done = [0]

    async def cycle(worker: int, number: int) -> None:
        client = await PhxClient.connect(HOST, srv.port, f"w{worker}")
        try:
            topic = f"room:churn{worker}"
            join_ref, answer = await client.join(topic)
            if answer.get("status") != "ok":
                errors.add(answer)
                return
            answer = await client.leave(join_ref, topic)
            if answer != {"status": "ok", "response": {}}:
                errors.add(answer)
                return
            code = await client.close(1000)
            if code != 1000:
                errors.add(f"closed with {code}")
                return
            done[0] += 1
        finally:
            await client.aclose()

    async def worker(index: int) -> None:
        number = 0
        while remaining[0] > 0:
            remaining[0] -= 1
            try:
                await cycle(index, number)
            except Exception as error:  # counted, and the churn goes on
                errors.add(error)
            number += 1

    start = perf_counter()
    async with trio.open_nursery() as nursery:
        for index in range(workers):
            nursery.start_soon(worker, index)
    elapsed = perf_counter() - start
    return Sample(
        figure=cycles / elapsed,
        extra={
            "workers": workers,
            "completed": done[0],
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


def ours_churn(cycles: int, workers: int) -> Sample:
    return _run("ours", _churn_main, cycles, workers)


# ============================================================ the workloads

WEB_CONNS = Workload(
    id="web-conns",
    name="C1 web conns",
    aliases=("c1", "conns", "web-connections"),
    unit="B/conn",
    rate=False,
    ours=ours_conns,
    raw=raw_conns,
    full_size=10_000,
    quick_size=100,
    size_label="{size:,} socks",
)

WEB_FANOUT = Workload(
    id="web-fanout",
    name="C2 web fanout",
    aliases=("c2", "fanout-web"),
    unit="ms p50",
    rate=False,
    ours=ours_fanout,
    raw=raw_fanout,
    full_size=10_000,
    quick_size=50,
    full_options={"rounds": 20},
    quick_options={"rounds": 5},
    size_label="{size:,}x{rounds}",
)

WEB_PINGPONG = Workload(
    id="web-pingpong",
    name="C3 web pingpong",
    aliases=("c3", "pingpong-web"),
    unit="round trips/s",
    rate=True,
    ours=ours_pingpong,
    raw=raw_pingpong,
    full_size=20_000,
    quick_size=500,
    full_options={"clients": 10},
    quick_options={"clients": 2},
    size_label="{size:,}/{clients}",
)

WEB_CHURN = Workload(
    id="web-churn",
    name="C4 web churn",
    aliases=("c4", "churn"),
    unit="cycles/s",
    rate=True,
    ours=ours_churn,
    raw=None,
    full_size=2_000,
    quick_size=50,
    full_options={"workers": 10},
    quick_options={"workers": 10},
    size_label="{size:,}/{workers}w",
)

WORKLOADS = (WEB_CONNS, WEB_FANOUT, WEB_PINGPONG, WEB_CHURN)


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"] or sys.argv[2:3] not in (["ours"], ["raw"]):
        sys.exit("usage: python -m benchmarks.web_load serve ours|raw")
    raise_fd_limit()
    try:
        _serve_ours() if sys.argv[2] == "ours" else _serve_raw()
    except KeyboardInterrupt:
        pass

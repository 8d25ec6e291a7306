"""C6 ``web-hold``: N joined sockets held; a fresh client's ping every 100 ms; pauses and memory.

What a crowd of idle sockets costs the server, and whether it ever stops
the world. The server is the demo itself, as shipped (``python -m web.demo
chat``: one worker per core; ``BENCH_WORKERS=1`` for one process), in an
OS process of its own. The load generator:

1. reads the server's process tree's RSS once it is idle (``idle_rss``:
   the server and every process it started, VmRSS from ``/proc``);
2. opens N WebSockets as the demo's users ``u0`` ... and joins each to a
   room of its own (``room:cN``, with Presence, as the demo tracks every
   joiner); they then stay, reading what they are sent and sending a
   ``heartbeat`` every 30 s as phoenix.js does (the server closes a socket
   silent for 60 s);
3. from the last join, for ``ping_s`` seconds, a fresh client (one more
   socket, joined) sends ``ping`` every 100 ms and times each reply: a
   pause of the server shows as a round trip as long as the pause. The
   pings go on a fixed schedule, and one that comes back late is followed
   at once by the next;
4. ``hold_s`` seconds after the last join, reads the tree's RSS again
   (``held_rss``): ``rss_per_socket`` is ``(held_rss - idle_rss) / N``;
5. reads the server's garbage-collector figures from its ``/metrics``
   (:mod:`web.metrics`, served to this machine; with workers, any of them
   answers for all, each sample labelled with its node) as the pings start
   and as they end: the passes in that window per generation (every
   worker's), the pauses over 20 ms among them, and the longest pause any
   node measured since it started (``gc_max_pause_ms``, connecting
   included).

Figure: the longest round trip (p100), in ms; ``p50_ms`` and ``p99_ms``
beside it. Targets (issue #13) at 10,000 sockets: p100 at most 50 ms, no
pause over 20 ms, at most 20 KiB per socket. Baseline: the bare server
(``raw_server``) holding the same sockets (no ``/metrics``: its collector
fields are None; it has no Presence to keep).

Sizes: N = 10,000, ``hold_s`` 30, ``ping_s`` 45 / ``--quick`` N = 100,
1 s and 2 s; N is lowered to what the descriptors allow (``sockets``
says how many were held).
Figures (this 2-core machine type, the load generator on it too, one run
of ours each unless a range is given; issue #13):

=======  ======================  ===========================  ===================  ============
sockets  when                    ping p50 / p99 / p100 (ms)   longest pause (ms)   RSS/socket
=======  ======================  ===========================  ===================  ============
1,000    before                  0.59 / 5.3 / 10.5            71                   38,498 B
1,000    after (3 runs)          0.31-0.35 / 0.64-0.69 /      11-12                19,538-19,616 B
                                 0.84-2.4
5,000    before                  0.48 / 54.5 / 99.7           712                  38,612 B
5,000    after (5 runs)          0.29-0.32 / 0.61-0.75 /      11-18                19,542-19,612 B
                                 0.87-2.5
10,000   before                  0.63 / 253 / 434             444-696              38,781 B
10,000   after (5 runs)          0.32-0.41 / 0.52-1.27 /      12-16                19,974-20,031 B
                                 1.3-14.6
=======  ======================  ===========================  ===================  ============

Before: 22 of the 45 collector passes during the pings at 10,000 sockets
took over 20 ms (the dashboard's sampler snapshotting every process each
second, and young passes over what connecting had left); the longest
pauses were the endpoint's freezes, each walking every connection made
since the last. After: no pass at all during the pings; the longest pause
is a freeze or a young pass while connecting. The demo ships without
compression (permessage-deflate is off by default, as in Phoenix), so
these figures hold whatever the clients offer (ours offer nothing). A
mount with ``compress=True`` adds, for each client that offers it
(browsers, Node's ``ws``), the compressor its socket keeps with the
default ``Deflate()``: 31,334 B a socket at 2,000.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import time
from time import perf_counter

import trio

from .._harness import Sample, Workload
from .._harness.servers import (
    HOST,
    Errors,
    Server,
    fitting,
    quiet_gc_while,
    raise_fd_limit,
    server_process,
    with_timeout,
)
from .._harness.stats import percentile
from .._harness.tree import tree_cpu_seconds, tree_rss
from .._harness.web_client import PhxClient, ServerClosed, http_get
from .load import SERVERS, close_all, open_joined, tree_usage

PING_EVERY = 0.1  # seconds between the fresh client's pings
HEARTBEAT_EVERY = 30.0  # seconds, as phoenix.js
IDLE_SETTLE = 1.0  # seconds after start-up before the idle tree is read
SLOW_PAUSE = 0.02  # seconds: a collector pause longer than this misses the target


# ------------------------------------------------------------ the servers


def _demo_command(workers: int | None) -> list[str]:
    """``web.demo chat`` on a free port; with ``--workers`` if given (and the demo has that option)."""
    command = ["web.demo", "chat", "--port", "0"]
    spec = importlib.util.find_spec("web.demo.__main__")
    has_option = spec is not None and spec.origin is not None and "--workers" in open(spec.origin).read()
    if workers is not None and has_option:
        command += ["--workers", str(workers)]
    return command


def _server(kind: str):
    if kind == "ours":
        # The demo prints its "listening on" line without flushing: unbuffered, it reaches us at once.
        workers = int(os.environ.get("BENCH_WORKERS", 0)) or None  # None: as shipped, one per core
        return server_process(_demo_command(workers), "the demo", env={"PYTHONUNBUFFERED": "1"})
    return server_process([SERVERS[kind]], f"the {kind} server")


def _run(kind: str, n: int, hold_s: float, ping_s: float) -> Sample:
    raise_fd_limit()  # before the server starts: it inherits our descriptor limit
    with quiet_gc_while(), _server(kind) as srv:
        cpu_before, started = tree_cpu_seconds(srv.pid), time.monotonic()
        sample = trio.run(with_timeout, _hold_main, srv, n, hold_s, ping_s, kind == "ours")
        cpu, elapsed = tree_cpu_seconds(srv.pid) - cpu_before, time.monotonic() - started
        extra = dict(sample.extra)
        extra["server_log_lines"] = srv.log_lines()
        extra.update(tree_usage(srv.pid, cpu, elapsed))
        return Sample(figure=sample.figure, extra=extra)


# ------------------------------------------------------------ the collector's figures


_NODE = r'(?:,?node="[^"]*")?'  # with workers, every sample is labelled with its node
_PAUSE_COUNT = re.compile(r'^otp_gc_pause_seconds_count\{generation="(\d)"' + _NODE + r"\} (\S+)$", re.M)
_PAUSE_FAST = re.compile(r'^otp_gc_pause_seconds_bucket\{generation="(\d)",le="0\.02"' + _NODE + r"\} (\S+)$", re.M)
_MAX_PAUSE = re.compile(r"^otp_gc_max_pause_seconds(?:\{" + _NODE + r"\})? (\S+)$", re.M)


class _Collector:
    """The server's collector figures (every node's), from one read of its ``/metrics``."""

    def __init__(self, text: str) -> None:
        self.passes = [0, 0, 0]
        self.fast = 0  # passes of at most SLOW_PAUSE
        for generation, count in _PAUSE_COUNT.findall(text):
            self.passes[int(generation)] += int(float(count))
        for _, count in _PAUSE_FAST.findall(text):
            self.fast += int(float(count))
        pauses = [float(value) for value in _MAX_PAUSE.findall(text)]
        self.max_pause = max(pauses) if pauses else math.nan
        self.nodes = max(1, len(pauses))

    @property
    def slow(self) -> int:
        return sum(self.passes) - self.fast

    @classmethod
    async def read(cls, port: int) -> _Collector:
        status, body = await http_get(HOST, port, "/metrics")
        if status != 200:
            raise RuntimeError(f"GET /metrics answered {status}: is the metrics extra installed?")
        return cls(body)


def _collector_fields(start: _Collector | None, end: _Collector | None) -> dict:
    if start is None or end is None:
        return {"gc_passes": None, "gc_slow_pauses": None, "gc_max_pause_ms": None, "gc_nodes": None}
    return {
        "gc_passes": [e - s for s, e in zip(start.passes, end.passes, strict=True)],  # per generation, during the pings
        "gc_slow_pauses": end.slow - start.slow,  # pauses over 20 ms during the pings
        "gc_max_pause_ms": end.max_pause * 1e3,  # since the server started, connecting included
        "gc_nodes": end.nodes,  # the nodes whose figures these are (every worker's)
    }


# ------------------------------------------------------------ the load


async def _heartbeats(clients: list) -> None:
    """Each held socket sends ``heartbeat`` every 30 s, the sockets spread evenly over the period."""
    start = trio.current_time()
    for beat in range(1_000_000):
        for i, (client, _, _) in enumerate(clients):
            await trio.sleep_until(start + HEARTBEAT_EVERY * (beat + i / len(clients)))
            if not client.closed:
                await client.send_frame(None, client.next_ref(), "phoenix", "heartbeat", {})


async def _hold(client: PhxClient, errors: Errors) -> None:
    """Read and drop what the server sends; a close while held is an error."""
    try:
        while True:
            await client.receive()
    except ServerClosed as closed:
        errors.add(f"a held socket was closed ({closed.code})")


async def _pings(port: int, seconds: float, errors: Errors) -> list[float]:
    """A fresh client's round trips, one every :data:`PING_EVERY` s for ``seconds``."""
    client = await PhxClient.connect(HOST, port, "pinger")
    join_ref, answer = await client.join("room:pinger")
    if answer.get("status") != "ok":
        errors.add(answer)
    round_trips = []
    start = trio.current_time()
    for number in range(int(seconds / PING_EVERY)):
        await trio.sleep_until(start + number * PING_EVERY)
        sent = perf_counter()
        reply = await client.call(join_ref, "room:pinger", "ping", {"n": number})
        round_trips.append(perf_counter() - sent)
        if reply != {"status": "ok", "response": {"n": number}}:
            errors.add(reply)
    await client.aclose()
    return round_trips


async def _hold_main(srv: Server, n: int, hold_s: float, ping_s: float, has_metrics: bool) -> Sample:
    n = fitting(n + 1) - 1  # the pinger's socket too
    errors = Errors()
    await trio.sleep(IDLE_SETTLE)
    idle_rss = tree_rss(srv.pid)
    started = perf_counter()
    clients = await open_joined(srv.port, n, lambda i: f"room:c{i}", errors)
    connect_s = perf_counter() - started
    async with trio.open_nursery() as nursery:
        for client, _, _ in clients:
            nursery.start_soon(_hold, client, errors)
        nursery.start_soon(_heartbeats, clients)
        before = await _Collector.read(srv.port) if has_metrics else None
        async with trio.open_nursery() as window:
            round_trips: list[float] = []

            async def ping() -> None:
                round_trips.extend(await _pings(srv.port, ping_s, errors))

            window.start_soon(ping)
            await trio.sleep(hold_s)
            held_rss = tree_rss(srv.pid)
        after = await _Collector.read(srv.port) if has_metrics else None
        nursery.cancel_scope.cancel()
    await close_all(clients)
    ordered = sorted(round_trips)
    return Sample(
        figure=ordered[-1] * 1e3,
        extra={
            "sockets": n,
            "p50_ms": percentile(ordered, 50) * 1e3,
            "p99_ms": percentile(ordered, 99) * 1e3,
            "pings": len(ordered),
            **_collector_fields(before, after),
            "rss_per_socket": (held_rss - idle_rss) / n,
            "idle_rss": idle_rss,
            "held_rss": held_rss,
            "connect_s": connect_s,
            "errors": errors.count,
            "first_error": errors.first,
        },
    )


def ours_hold(n: int, hold_s: float, ping_s: float) -> Sample:
    return _run("ours", n, hold_s, ping_s)


def raw_hold(n: int, hold_s: float, ping_s: float) -> Sample:
    return _run("raw", n, hold_s, ping_s)


WORKLOAD = Workload(
    id="web-hold",
    name="C6 web hold",
    aliases=("c6", "hold"),
    unit="ms ping p100",
    rate=False,
    ours=ours_hold,
    raw=raw_hold,
    full_size=10_000,
    quick_size=100,
    full_options={"hold_s": 30.0, "ping_s": 45.0},
    quick_options={"hold_s": 1.0, "ping_s": 2.0},
    size_label="{size:,} socks",
)

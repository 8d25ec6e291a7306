"""Cluster benchmarks (issue #4): broadcasts and presences between otp nodes through Redis.

Three workloads, run only when named (``python -m benchmarks xbroadcast
xlatency presence``):

``xbroadcast`` (XB broadcast): cross-node broadcast throughput
    Node A (an otp node with the PubSub ``bench`` on the Redis adapter)
    broadcasts N messages to a topic in one loop; node B (a second otp
    node, its own PubSub on its own Redis adapter, its own ``node_name``)
    has one subscriber process counting them. Figure: N ÷ the time from the
    first broadcast until B's subscriber has all N, in msgs/s.
    Baseline: raw Redis pub/sub on the same hiredis-over-trio connection
    (``otp/pubsub/_resp.py``): a publisher connection PUBLISHes N pickled
    tuples (no HMAC) of the adapter's frame size, pipelined 1,000 at a time
    as the adapter's publisher does, and a subscriber connection unpickles
    and counts them. No otp involved.

``xlatency`` (XB latency): one-way latency, one message in flight
    A broadcasts a message carrying ``time.perf_counter()``; B's subscriber
    takes ``perf_counter()`` on arrival and tells A the difference with a
    direct in-process send, and only then does A send the next (so each
    message crosses an idle system). N messages after 20 unmeasured warm-up
    ones. Figure: the p50 in ms; ``p90_ms``, ``p99_ms``, ``max_ms`` too.
    Baseline: the same over the raw connections, the subscriber task
    waking the publisher task through a trio memory channel.

``presence`` (Presence convergence): how soon every node sees every presence
    Three otp nodes, each with the PubSub ``bench`` on its own Redis
    adapter and a Tracker ``presence`` (``broadcast_period=0.05``, the
    other periods at their defaults). Once the three trackers see each
    other, node A tracks N entries: 100 processes, each tracking *itself*
    under 100 keys of one topic, as Phoenix channel processes do (quick: 5
    processes). Not one process under all N keys: a join scans the entries
    its process already has (``State._find``), so that would mostly time a
    quadratic scan. Figure: ms from the first track call until *both* other
    nodes list all N, taken in their trackers' ``handle_diff`` (which count
    joins and tell the benchmark at once: no polling). Fields: ``entries``,
    ``nodes``, and ``tracked_ms``: when the last of A's track calls
    returned. No baseline: what is measured is the Tracker's replication.

How to read the figures
    All the nodes share **one OS process and one event loop**: A's
    publisher, B's subscriber and every tracker take turns on one CPU core,
    where separate OS processes (separate machines) would work in parallel.
    So the figures are lower bounds of what separate processes would do:
    throughput no higher, latency no lower than they would see. Redis runs
    on **loopback** (127.0.0.1), so no network latency is in them either.

Each run starts its own ``redis-server`` on a free loopback port and stops
it after (``_redis_server.py``); with ``REDIS_PORT`` set (and optionally
``REDIS_HOST``), the runs use that server instead. Starting the server, the
nodes and the connections is setup, never timed.

One deviation from the adapter's defaults: A's adapter in ``xbroadcast``
gets ``max_pending=N``. A broadcasts in one synchronous loop, so all N
frames are queued before its publisher process runs, and the default
(10,000) refuses the 10,001st with ``RedisUnavailable`` even though Redis
is up.
"""

from __future__ import annotations

import math
import pickle
from time import perf_counter

import trio

import otp
from otp import pubsub
from otp.tracker import ReplicaEvent, ReplicaStatus, Tracker

try:  # the extra "redis" (hiredis); without it the other benchmarks must still run
    from otp.pubsub._resp import Connection, pack
    from otp.pubsub.redis import Redis
except ImportError as error:
    _MISSING_EXTRA: ImportError | None = error
else:
    _MISSING_EXTRA = None

from ._harness import Sample, Workload
from ._redis_server import redis_server

PUBSUB = "bench"
TOPIC = "bench:topic"
SECRET = b"cluster benchmark secret"
NODES = ("bench-a", "bench-b", "bench-c")
BATCH = 1000  # PUBLISH commands per write, as the adapter's publisher sends them
RAW_CHANNEL = b"bench:raw"
WARMUP = 20  # xlatency: messages sent and dropped before measuring, on both sides
TIMEOUT = 300.0  # seconds: a run that takes longer has lost a message; fail, do not hang
TRACKER = "presence"
PRESENCE_TOPIC = "room:lobby"
BROADCAST_PERIOD = 0.05


def _adapter(host: str, port: int, node: str, **options: object) -> Redis:
    return Redis(host, port, secret=SECRET, node_name=node, **options)


def _raw_padding(message: object) -> bytes:
    """Bytes to add to the raw payload of ``message`` so that it is as long as the adapter's frame."""
    frame = _adapter("127.0.0.1", 0, NODES[0])._encode(TOPIC, message, pubsub.dispatch)
    bare = pickle.dumps((NODES[0], TOPIC, message, b""))
    return b"x" * max(0, len(frame) - len(bare))


def _frame_bytes(message: object) -> int:
    return len(_adapter("127.0.0.1", 0, NODES[0])._encode(TOPIC, message, pubsub.dispatch))


async def _start_node(nursery: trio.Nursery, host: str, port: int, node: str, body, *args) -> None:
    """Run ``body(*args)`` as the root of another otp node with the PubSub on its own adapter.

    Returns once that node's adapter is connected (both connections up, its
    subscription confirmed). The node lives in this OS process and event
    loop, so pids cross between the nodes as plain objects.
    """
    ready = trio.Event()

    async def node_main() -> None:
        async with otp.open_node(shutdown_timeout=1.0):
            adapter = _adapter(host, port, node)
            await pubsub.start_link(PUBSUB, adapter=adapter)
            await adapter.wait_connected()
            ready.set()
            await body(*args)

    nursery.start_soon(node_main, name=f"otp node {node}")
    await ready.wait()


async def _two_or_more_nodes(host: str, port: int, main_a, *args) -> object:
    """Run node A, whose root runs ``main_a(nursery, *args)``; the other nodes are its nursery's tasks."""
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            async with otp.open_node(shutdown_timeout=1.0):
                result = await main_a(nursery, host, port, *args)
            nursery.cancel_scope.cancel()  # the other nodes: A is closed, the run is over
    return result


def _in_fresh_redis(main, *args) -> Sample:
    if _MISSING_EXTRA is not None:
        raise RuntimeError(f"the cluster benchmarks need the extra 'redis' (pip install trio-otp[redis]): {_MISSING_EXTRA}")
    with redis_server() as (host, port):
        return trio.run(main, host, port, *args)


async def _connect_a(host: str, port: int, **options: object) -> Redis:
    adapter = _adapter(host, port, NODES[0], **options)
    await pubsub.start_link(PUBSUB, adapter=adapter)
    await adapter.wait_connected()
    return adapter


def _is(tag: str):
    return lambda m: m.__class__ is tuple and m[0] == tag


# ============================================================ xbroadcast


async def _ours_counter(n: int, report_to: otp.Pid) -> None:
    """Node B's subscriber: count n messages, say when the last came."""
    pubsub.subscribe(PUBSUB, TOPIC)
    otp.send(report_to, ("subscribed",))
    receive = otp.receive
    for _ in range(n):
        await receive()
    otp.send(report_to, ("counted", perf_counter()))
    await trio.sleep_forever()  # the run's end cancels it


async def _ours_broadcast_a(nursery: trio.Nursery, host: str, port: int, n: int) -> Sample:
    me = otp.current_pid()
    await _start_node(nursery, host, port, NODES[1], _ours_counter, n, me)
    adapter = await _connect_a(host, port, max_pending=max(n, 10_000))
    await otp.receive(_is("subscribed"))
    broadcast = pubsub.broadcast
    start = perf_counter()
    for number in range(n):
        broadcast(PUBSUB, TOPIC, ("bench", number))
    _, done = await otp.receive(_is("counted"))
    # (Not `published == n`: B may have all N before A's publisher has read the last acknowledgements.)
    assert not adapter.statistics().dropped, adapter.statistics()
    return Sample(figure=n / (done - start), extra={"frame_bytes": _frame_bytes(("bench", n - 1))})


def ours_broadcast(n: int) -> Sample:
    return _in_fresh_redis(_two_or_more_nodes, _ours_broadcast_a, n)


async def _raw_broadcast_main(host: str, port: int, n: int) -> Sample:
    padding = _raw_padding(("bench", n - 1))
    subscriber = await Connection.open(host, port)
    publisher = await Connection.open(host, port)
    await subscriber.send(pack(b"SUBSCRIBE", RAW_CHANNEL))
    await subscriber.read()  # the confirmation: from now on, it gets every PUBLISH
    done = []

    async def count() -> None:
        loads, read, got = pickle.loads, subscriber.read, 0
        while got < n:
            kind, _, data = await read()
            if kind == b"message":
                loads(data)
                got += 1
        done.append(perf_counter())

    try:
        with trio.fail_after(TIMEOUT):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(count)
                dumps = pickle.dumps
                start = perf_counter()
                for first in range(0, n, BATCH):
                    numbers = range(first, min(first + BATCH, n))
                    await publisher.send(
                        b"".join(
                            pack(b"PUBLISH", RAW_CHANNEL, dumps((NODES[0], TOPIC, ("bench", number), padding)))
                            for number in numbers
                        )
                    )
                    for _ in numbers:
                        await publisher.read()  # the receiver count, as the adapter reads it
    finally:
        await publisher.aclose()
        await subscriber.aclose()
    return Sample(figure=n / (done[0] - start))


def raw_broadcast(n: int) -> Sample:
    return _in_fresh_redis(_raw_broadcast_main, n)


# ============================================================ xlatency


def _latency_sample(latencies: list[float], n: int) -> Sample:
    assert len(latencies) == n, len(latencies)
    ordered = sorted(latencies)

    def percentile(p: float) -> float:  # nearest rank, in ms
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1e3

    return Sample(
        figure=percentile(50),
        extra={"p90_ms": percentile(90), "p99_ms": percentile(99), "max_ms": ordered[-1] * 1e3},
    )


async def _ours_stamper(report_to: otp.Pid) -> None:
    """Node B's subscriber: on each arrival, tell A how long the message took."""
    pubsub.subscribe(PUBSUB, TOPIC)
    otp.send(report_to, ("subscribed",))
    receive, send = otp.receive, otp.send
    while True:
        sent, _number, _padding = await receive()
        send(report_to, ("arrived", perf_counter() - sent))


async def _ours_latency_a(nursery: trio.Nursery, host: str, port: int, n: int) -> Sample:
    me = otp.current_pid()
    await _start_node(nursery, host, port, NODES[1], _ours_stamper, me)
    await _connect_a(host, port)
    await otp.receive(_is("subscribed"))
    broadcast, receive, arrived = pubsub.broadcast, otp.receive, _is("arrived")
    latencies = []
    for number in range(WARMUP + n):
        broadcast(PUBSUB, TOPIC, (perf_counter(), number, b""))
        _, latency = await receive(arrived)
        if number >= WARMUP:
            latencies.append(latency)
    return _latency_sample(latencies, n)


def ours_latency(n: int) -> Sample:
    return _in_fresh_redis(_two_or_more_nodes, _ours_latency_a, n)


async def _raw_latency_main(host: str, port: int, n: int) -> Sample:
    padding = _raw_padding((perf_counter(), n, b""))
    subscriber = await Connection.open(host, port)
    publisher = await Connection.open(host, port)
    await subscriber.send(pack(b"SUBSCRIBE", RAW_CHANNEL))
    await subscriber.read()
    tell, told = trio.open_memory_channel(math.inf)

    async def stamp() -> None:
        loads, read = pickle.loads, subscriber.read
        while True:
            kind, _, data = await read()
            if kind == b"message":
                sent = loads(data)[2][0]
                tell.send_nowait(perf_counter() - sent)

    latencies = []
    try:
        with trio.fail_after(TIMEOUT):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(stamp)
                dumps = pickle.dumps
                for number in range(WARMUP + n):
                    payload = dumps((NODES[0], TOPIC, (perf_counter(), number, b""), padding))
                    await publisher.send(pack(b"PUBLISH", RAW_CHANNEL, payload))
                    await publisher.read()
                    latency = await told.receive()
                    if number >= WARMUP:
                        latencies.append(latency)
                nursery.cancel_scope.cancel()
    finally:
        await publisher.aclose()
        await subscriber.aclose()
    return _latency_sample(latencies, n)


def raw_latency(n: int) -> Sample:
    return _in_fresh_redis(_raw_latency_main, n)


# ============================================================ presence


class _Presence(Tracker):
    """Counts the presences of the topic; tells the benchmark once there are ``target``."""

    async def init(self, args: tuple) -> None:
        self.report_to, self.node, self.target = args
        self.present = 0
        self.told = False

    async def handle_diff(self, diff: dict) -> None:
        joins, leaves = diff.get(PRESENCE_TOPIC, ((), ()))
        self.present += len(joins) - len(leaves)
        if not self.told and self.present >= self.target:
            at = perf_counter()
            self.told = True
            otp.send(self.report_to, ("all present", self.node, at, len(Tracker.list(TRACKER, PRESENCE_TOPIC))))


async def _start_tracker(node: str, report_to: otp.Pid, target: int) -> None:
    await _Presence.start_link(
        (report_to, node, target),
        pubsub=PUBSUB,
        name=TRACKER,
        broadcast_period=BROADCAST_PERIOD,
        report_events_to=report_to,
    )


async def _tracker_node(node: str, report_to: otp.Pid, target: int) -> None:
    await _start_tracker(node, report_to, target)
    await trio.sleep_forever()  # the run's end cancels it


async def _holder(first: int, keys: int, report_to: otp.Pid) -> None:
    """A process that tracks itself under ``keys`` keys, then stays (present) until the node closes."""
    me = otp.current_pid()
    track = Tracker.track
    for key in range(first, first + keys):
        await track(TRACKER, me, PRESENCE_TOPIC, key, {})
    otp.send(report_to, ("tracked", perf_counter()))
    await otp.receive()


async def _presence_a(nursery: trio.Nursery, host: str, port: int, entries: int, keys_per_process: int) -> Sample:
    me = otp.current_pid()
    others = NODES[1:]
    for node in others:
        await _start_node(nursery, host, port, node, _tracker_node, node, me, entries)
    await _connect_a(host, port)
    await _start_tracker(NODES[0], me, entries)
    # Every tracker sees the two others before the clock starts.
    pairs = len(NODES) * (len(NODES) - 1)
    for _ in range(pairs):
        event = await otp.receive(ReplicaEvent)
        assert event.status is ReplicaStatus.UP, event

    processes = math.ceil(entries / keys_per_process)
    start = perf_counter()
    for index in range(processes):
        first = index * keys_per_process
        otp.spawn(_holder, first, min(keys_per_process, entries - first), me)
    tracked = [(await otp.receive(_is("tracked")))[1] for _ in range(processes)]
    seen = {}
    while set(seen) != set(others):
        _, node, at, listed = await otp.receive(_is("all present"))
        if node in others:
            assert listed == entries, (node, listed, entries)
            seen[node] = at
    return Sample(
        figure=(max(seen.values()) - start) * 1e3,
        extra={"entries": entries, "nodes": len(NODES), "tracked_ms": (max(tracked) - start) * 1e3},
    )


def ours_presence(entries: int, keys_per_process: int) -> Sample:
    return _in_fresh_redis(_two_or_more_nodes, _presence_a, entries, keys_per_process)


# ============================================================ the workloads

XBROADCAST = Workload(
    id="xbroadcast",
    name="XB broadcast",
    aliases=("xb", "xb-broadcast", "cross-broadcast"),
    unit="msgs/s",
    rate=True,
    ours=ours_broadcast,
    raw=raw_broadcast,
    full_size=20_000,
    quick_size=500,
    size_label="{size:,} msgs",
)

XLATENCY = Workload(
    id="xlatency",
    name="XB latency",
    aliases=("xb-latency", "cross-latency", "latency"),
    unit="ms p50",
    rate=False,
    ours=ours_latency,
    raw=raw_latency,
    full_size=2_000,
    quick_size=200,
    size_label="{size:,} msgs",
)

PRESENCE = Workload(
    id="presence",
    name="Presence convergence",
    aliases=("tracker", "presence-convergence"),
    unit="ms",
    rate=False,
    ours=ours_presence,
    raw=None,
    full_size=10_000,
    quick_size=500,
    full_options={"keys_per_process": 100},
    quick_options={"keys_per_process": 100},
    size_label="{size:,} keys",
)

WORKLOADS = (XBROADCAST, XLATENCY, PRESENCE)

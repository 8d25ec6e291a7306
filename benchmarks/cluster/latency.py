"""``xlatency``: one-way cross-node latency through Redis, one message in flight, against raw Redis.

A broadcasts a message carrying ``time.perf_counter()``; B's subscriber
takes ``perf_counter()`` on arrival and tells A the difference with a
direct in-process send, and only then does A send the next (so each
message crosses an idle system). N messages after 20 unmeasured warm-up
ones. Figure: the p50 in ms; ``p90_ms``, ``p99_ms``, ``max_ms`` too.
Baseline: the same over raw connections (``raw_redis.py``), the subscriber
task waking the publisher task through a trio memory channel. Sizes:
N = 2,000 / ``--quick`` 200.
"""

from __future__ import annotations

import math
import pickle
from time import perf_counter

import trio

import otp
from otp import pubsub

from .._harness import Sample, Workload
from .._harness.stats import percentile
from .nodes import (
    NODES,
    PUBSUB,
    TIMEOUT,
    TOPIC,
    connect_a,
    in_fresh_redis,
    raw_padding,
    start_node,
    tagged,
    two_or_more_nodes,
)
from .raw_redis import Connection, pack

WARMUP = 20  # messages sent and dropped before measuring, on both sides
RAW_CHANNEL = b"bench:raw"


def _latency_sample(latencies: list[float], n: int) -> Sample:
    assert len(latencies) == n, len(latencies)
    ordered = sorted(latencies)
    return Sample(
        figure=percentile(ordered, 50) * 1e3,
        extra={
            "p90_ms": percentile(ordered, 90) * 1e3,
            "p99_ms": percentile(ordered, 99) * 1e3,
            "max_ms": ordered[-1] * 1e3,
        },
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
    await start_node(nursery, host, port, NODES[1], _ours_stamper, me)
    await connect_a(host, port)
    await otp.receive(tagged("subscribed"))
    broadcast, receive, arrived = pubsub.broadcast, otp.receive, tagged("arrived")
    latencies = []
    for number in range(WARMUP + n):
        broadcast(PUBSUB, TOPIC, (perf_counter(), number, b""))
        _, latency = await receive(arrived)
        if number >= WARMUP:
            latencies.append(latency)
    return _latency_sample(latencies, n)


def ours_latency(n: int) -> Sample:
    return in_fresh_redis(two_or_more_nodes, _ours_latency_a, n)


async def _raw_latency_main(host: str, port: int, n: int) -> Sample:
    padding = raw_padding((perf_counter(), n, b""))
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
    return in_fresh_redis(_raw_latency_main, n)


WORKLOAD = Workload(
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

"""``xbroadcast``: cross-node broadcast throughput through Redis, against raw Redis pub/sub.

Node A (an otp node with the PubSub ``bench`` on the Redis adapter)
broadcasts N messages to a topic in one loop; node B (a second otp node,
its own PubSub on its own Redis adapter) has one subscriber process
counting them. Figure: N ÷ the time from the first broadcast until B's
subscriber has all N, in msgs/s; ``frame_bytes``: the adapter's frame of
one message.

Baseline: raw Redis pub/sub on the same kind of connection
(``raw_redis.py``: a trio stream, hiredis parsing): a publisher connection
PUBLISHes N pickled tuples (no HMAC) padded to the adapter's frame size,
pipelined 1,000 at a time as the adapter's publisher does, and a
subscriber connection unpickles and counts them. No otp involved.

One deviation from the adapter's defaults: A's adapter gets
``max_pending=N``. A broadcasts in one synchronous loop, so all N frames are
queued before its publisher process runs, and the default (10,000) refuses
the 10,001st with ``RedisUnavailable`` even though Redis is up. Sizes:
N = 20,000 / ``--quick`` 500.
"""

from __future__ import annotations

import pickle
from time import perf_counter

import trio

import otp
from otp import pubsub

from .._harness import Sample, Workload
from .nodes import (
    NODES,
    PUBSUB,
    TIMEOUT,
    TOPIC,
    connect_a,
    frame_bytes,
    in_fresh_redis,
    raw_padding,
    start_node,
    tagged,
    two_or_more_nodes,
)
from .raw_redis import Connection, pack

BATCH = 1000  # PUBLISH commands per write, as the adapter's publisher sends them
RAW_CHANNEL = b"bench:raw"


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
    await start_node(nursery, host, port, NODES[1], _ours_counter, n, me)
    adapter = await connect_a(host, port, max_pending=max(n, 10_000))
    await otp.receive(tagged("subscribed"))
    broadcast = pubsub.broadcast
    start = perf_counter()
    for number in range(n):
        broadcast(PUBSUB, TOPIC, ("bench", number))
    _, done = await otp.receive(tagged("counted"))
    # (Not `published == n`: B may have all N before A's publisher has read the last acknowledgements.)
    assert not adapter.statistics().dropped, adapter.statistics()
    return Sample(figure=n / (done - start), extra={"frame_bytes": frame_bytes(("bench", n - 1))})


def ours_broadcast(n: int) -> Sample:
    return in_fresh_redis(two_or_more_nodes, _ours_broadcast_a, n)


async def _raw_broadcast_main(host: str, port: int, n: int) -> Sample:
    padding = raw_padding(("bench", n - 1))
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
    return in_fresh_redis(_raw_broadcast_main, n)


WORKLOAD = Workload(
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

"""W4 cast: one client sends a burst of asynchronous increments, then one call.

The client casts N increments to a counter server without waiting, then makes
one synchronous call; its reply (the count, checked to be N) proves every
cast was handled. Figure: casts per second, from the first cast to that
reply, so it covers sending, queueing and handling.

The client never yields while casting, so nearly all N messages queue up in
the server's mailbox before it runs: this measures the queued path, where
W2 measures the direct hand-off.
"""

from __future__ import annotations

import math
from time import perf_counter

import trio

import otp

from .._harness import Sample, Workload, counter

INCR = "incr"
GET = "get"
STOP = "stop"


# ------------------------------------------------------------------ ours


async def _ours_main(casts: int) -> Sample:
    server = await counter.start_counter()
    start = perf_counter()
    for _ in range(casts):
        counter.cast(server, counter.INCR)
    # No timeout on the sync: a million casts may take longer than 5 s to drain.
    count = await counter.call(server, counter.GET, timeout=math.inf)
    elapsed = perf_counter() - start
    assert count == casts, count
    await counter.stop_counter(server)
    return _sample(elapsed, casts)


def ours(casts: int) -> Sample:
    return otp.run(_ours_main, casts)


# ------------------------------------------------------------------- raw


async def _raw_server(mailbox: trio.MemoryReceiveChannel) -> None:
    count = 0
    while True:
        message = await mailbox.receive()
        if message is INCR:
            count += 1
        elif message is STOP:
            return
        else:
            reply_to, request = message
            reply_to.send_nowait(count)


async def _raw_main(casts: int) -> Sample:
    # Unbounded: a cast must never block the client, as in ours.
    server_send, server_mailbox = trio.open_memory_channel(math.inf)
    reply_send, reply_mailbox = trio.open_memory_channel(math.inf)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_raw_server, server_mailbox)
        start = perf_counter()
        for _ in range(casts):
            server_send.send_nowait(INCR)
        server_send.send_nowait((reply_send, GET))
        count = await reply_mailbox.receive()
        elapsed = perf_counter() - start
        assert count == casts, count
        server_send.send_nowait(STOP)
    return _sample(elapsed, casts)


def raw(casts: int) -> Sample:
    return trio.run(_raw_main, casts)


def _sample(elapsed: float, casts: int) -> Sample:
    return Sample(figure=casts / elapsed)


WORKLOAD = Workload(
    id="w4",
    name="W4 cast",
    aliases=("cast",),
    unit="casts/s",
    rate=True,
    ours=ours,
    raw=raw,
    full_size=1_000_000,
    quick_size=20_000,
)

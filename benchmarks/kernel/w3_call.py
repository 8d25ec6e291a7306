"""W3 call: one client makes sequential synchronous calls to a counter server.

Each call sends an increment request and waits for the new count. Figure:
µs per call.

Ours uses the request/reply protocol of ``_harness/counter.py`` (a ref-tagged reply
taken by selective receive, as gen_server:call does), so that it can switch
to GenServer without touching this file. The raw baseline is what one would
write with bare trio: the client passes its own reply channel with every
request, so no tag is needed.
"""

from __future__ import annotations

import math
from time import perf_counter

import trio

import otp

from .._harness import Sample, Workload, counter

INCR = "incr"
STOP = "stop"


# ------------------------------------------------------------------ ours


async def _ours_main(calls: int) -> Sample:
    server = await counter.start_counter()
    start = perf_counter()
    for _ in range(calls):
        count = await counter.call(server, counter.INCR)
    elapsed = perf_counter() - start
    assert count == calls, count
    await counter.stop_counter(server)
    return _sample(elapsed, calls)


def ours(calls: int) -> Sample:
    return otp.run(_ours_main, calls)


# ------------------------------------------------------------------- raw


async def _raw_server(mailbox: trio.MemoryReceiveChannel) -> None:
    count = 0
    while True:
        message = await mailbox.receive()
        if message is STOP:
            return
        reply_to, request = message
        if request is INCR:
            count += 1
        reply_to.send_nowait(count)


async def _raw_main(calls: int) -> Sample:
    server_send, server_mailbox = trio.open_memory_channel(math.inf)
    # The client's mailbox, made once and reused by every call.
    reply_send, reply_mailbox = trio.open_memory_channel(math.inf)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_raw_server, server_mailbox)
        start = perf_counter()
        for _ in range(calls):
            server_send.send_nowait((reply_send, INCR))
            count = await reply_mailbox.receive()
        elapsed = perf_counter() - start
        assert count == calls, count
        server_send.send_nowait(STOP)
    return _sample(elapsed, calls)


def raw(calls: int) -> Sample:
    return trio.run(_raw_main, calls)


def _sample(elapsed: float, calls: int) -> Sample:
    return Sample(figure=elapsed / calls * 1e6)


WORKLOAD = Workload(
    id="w3",
    name="W3 call",
    aliases=("call",),
    unit="us/call",
    rate=False,
    ours=ours,
    raw=raw,
    full_size=100_000,
    quick_size=2_000,
)

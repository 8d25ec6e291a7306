"""W2 ping-pong: two processes pass a message back and forth.

The first process (the root) sends ``ping``; the second answers ``pong``;
repeat. Figure: µs per round trip (two sends, two receives, two task
switches). This is the cost of one message hop at its leanest: no patterns,
no queueing, since each side is already parked in ``receive`` when the other
sends.
"""

from __future__ import annotations

import math
from time import perf_counter

import trio

import otp

from .._harness import Sample, Workload

PING = "ping"
PONG = "pong"
STOP = "stop"


# ------------------------------------------------------------------ ours


async def _ours_pong(ping: otp.Pid) -> None:
    while True:
        message = await otp.receive()
        if message is STOP:
            return
        otp.send(ping, PONG)


async def _ours_main(round_trips: int) -> Sample:
    pong = otp.spawn(_ours_pong, otp.current_pid())
    start = perf_counter()
    for _ in range(round_trips):
        otp.send(pong, PING)
        await otp.receive()
    elapsed = perf_counter() - start
    otp.send(pong, STOP)
    return _sample(elapsed, round_trips)


def ours(round_trips: int) -> Sample:
    return otp.run(_ours_main, round_trips)


# ------------------------------------------------------------------- raw


async def _raw_pong(mailbox: trio.MemoryReceiveChannel, ping: trio.MemorySendChannel) -> None:
    while True:
        message = await mailbox.receive()
        if message is STOP:
            return
        ping.send_nowait(PONG)


async def _raw_main(round_trips: int) -> Sample:
    # One unbounded channel per task, as its mailbox.
    ping_send, ping_mailbox = trio.open_memory_channel(math.inf)
    pong_send, pong_mailbox = trio.open_memory_channel(math.inf)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_raw_pong, pong_mailbox, ping_send)
        start = perf_counter()
        for _ in range(round_trips):
            pong_send.send_nowait(PING)
            await ping_mailbox.receive()
        elapsed = perf_counter() - start
        pong_send.send_nowait(STOP)
    return _sample(elapsed, round_trips)


def raw(round_trips: int) -> Sample:
    return trio.run(_raw_main, round_trips)


def _sample(elapsed: float, round_trips: int) -> Sample:
    return Sample(figure=elapsed / round_trips * 1e6)


WORKLOAD = Workload(
    id="w2",
    name="W2 ping-pong",
    aliases=("ping-pong", "pingpong", "ping"),
    unit="us/round trip",
    rate=False,
    ours=ours,
    raw=raw,
    full_size=100_000,
    quick_size=2_000,
)

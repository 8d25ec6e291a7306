"""W5 fan-out: one publisher sends to S subscribers, each acks to a collector.

Per round, the publisher (the root) sends one message to every subscriber in
a loop; each subscriber sends an ack to a collector process; when the
collector has all S acks it tells the publisher, and the round is over.
Figure: ms per broadcast round (S sends, S acks, S+1 wake-ups), averaged over
the rounds.

Starting the subscribers is setup, not timed: the clock starts once all of
them are parked in ``receive``.
"""

from __future__ import annotations

import math
from time import perf_counter

import trio
from trio.testing import wait_all_tasks_blocked

import otp

from .._harness import Sample, Workload

ACK = "ack"
ROUND_DONE = "round done"
STOP = "stop"


# ------------------------------------------------------------------ ours


async def _ours_subscriber(collector: otp.Pid) -> None:
    while True:
        message = await otp.receive()
        if message is STOP:
            return
        otp.send(collector, ACK)


async def _ours_collector(publisher: otp.Pid, subscribers: int, rounds: int) -> None:
    for _ in range(rounds):
        for _ in range(subscribers):
            await otp.receive()
        otp.send(publisher, ROUND_DONE)


async def _ours_main(subscribers: int, rounds: int) -> Sample:
    collector = otp.spawn(_ours_collector, otp.current_pid(), subscribers, rounds)
    pids = [otp.spawn(_ours_subscriber, collector) for _ in range(subscribers)]
    await wait_all_tasks_blocked()
    start = perf_counter()
    for number in range(rounds):
        event = ("event", number)
        for pid in pids:
            otp.send(pid, event)
        await otp.receive()  # ROUND_DONE
    elapsed = perf_counter() - start
    for pid in pids:
        otp.send(pid, STOP)
    return _sample(elapsed, rounds)


def ours(subscribers: int, rounds: int) -> Sample:
    return otp.run(_ours_main, subscribers, rounds)


# ------------------------------------------------------------------- raw


async def _raw_subscriber(mailbox: trio.MemoryReceiveChannel, collector: trio.MemorySendChannel) -> None:
    while True:
        message = await mailbox.receive()
        if message is STOP:
            return
        collector.send_nowait(ACK)


async def _raw_collector(
    mailbox: trio.MemoryReceiveChannel, publisher: trio.MemorySendChannel, subscribers: int, rounds: int
) -> None:
    for _ in range(rounds):
        for _ in range(subscribers):
            await mailbox.receive()
        publisher.send_nowait(ROUND_DONE)


async def _raw_main(subscribers: int, rounds: int) -> Sample:
    # Every task gets one unbounded channel as its mailbox.
    publisher_send, publisher_mailbox = trio.open_memory_channel(math.inf)
    collector_send, collector_mailbox = trio.open_memory_channel(math.inf)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_raw_collector, collector_mailbox, publisher_send, subscribers, rounds)
        mailboxes = []
        for _ in range(subscribers):
            send, receive = trio.open_memory_channel(math.inf)
            nursery.start_soon(_raw_subscriber, receive, collector_send)
            mailboxes.append(send)
        await wait_all_tasks_blocked()
        start = perf_counter()
        for number in range(rounds):
            event = ("event", number)
            for mailbox in mailboxes:
                mailbox.send_nowait(event)
            await publisher_mailbox.receive()  # ROUND_DONE
        elapsed = perf_counter() - start
        for mailbox in mailboxes:
            mailbox.send_nowait(STOP)
    return _sample(elapsed, rounds)


def raw(subscribers: int, rounds: int) -> Sample:
    return trio.run(_raw_main, subscribers, rounds)


def _sample(elapsed: float, rounds: int) -> Sample:
    return Sample(figure=elapsed / rounds * 1e3)


WORKLOAD = Workload(
    id="w5",
    name="W5 fan-out",
    aliases=("fan-out", "fanout", "fan"),
    unit="ms/round",
    rate=False,
    ours=ours,
    raw=raw,
    full_size=10_000,
    quick_size=500,
    full_options={"rounds": 20},
    quick_options={"rounds": 3},
    size_label="{size:,} x {rounds}",
)

"""W1 spawn: start N processes that each wait for one message, then stop them all.

Every process blocks in ``receive``; once all N are alive we read the RSS,
send each a stop message and wait until all have exited. Figures: µs per
spawn+stop, and the RSS growth per live process (bytes).

Both sides learn "all N have started" and "all N have exited" the same way,
with ``trio.testing.wait_all_tasks_blocked``: it returns once the scheduler
has nothing left to run, so it costs the same on both sides and adds no
per-process work (a monitor or an ack per process would be measured too).
The RSS read in the middle is left out of the time.

Quote the RSS figure from a full-size run: at ``--quick`` sizes the few MB
the processes need fit partly into memory that earlier runs freed but the
allocator kept, so it reads low.
"""

from __future__ import annotations

import math
from time import perf_counter

import trio
from trio.testing import wait_all_tasks_blocked

import otp

from .._harness import Sample, Workload, rss_bytes

STOP = "stop"


# ------------------------------------------------------------------ ours


async def _ours_waiter() -> None:
    await otp.receive()  # the stop message


async def _ours_main(n: int) -> Sample:
    before = rss_bytes()
    start = perf_counter()
    pids = [otp.spawn(_ours_waiter) for _ in range(n)]
    await wait_all_tasks_blocked()  # every process is parked in receive
    paused = perf_counter()
    alive = rss_bytes()
    resumed = perf_counter()
    for pid in pids:
        otp.send(pid, STOP)
    await wait_all_tasks_blocked()  # every process has run to its end
    elapsed = perf_counter() - start - (resumed - paused)
    left = len(otp.processes()) - 1  # the root itself is still running
    assert left == 0, f"{left} processes did not exit"
    return _sample(elapsed, n, before, alive)


def ours(n: int) -> Sample:
    return otp.run(_ours_main, n)


# ------------------------------------------------------------------- raw


async def _raw_waiter(mailbox: trio.MemoryReceiveChannel) -> None:
    await mailbox.receive()  # the stop message


async def _raw_main(n: int) -> Sample:
    async with trio.open_nursery() as nursery:
        before = rss_bytes()
        start = perf_counter()
        mailboxes = []
        for _ in range(n):
            # Unbounded, as an otp mailbox is.
            send, receive = trio.open_memory_channel(math.inf)
            nursery.start_soon(_raw_waiter, receive)
            mailboxes.append(send)
        await wait_all_tasks_blocked()
        paused = perf_counter()
        alive = rss_bytes()
        resumed = perf_counter()
        for mailbox in mailboxes:
            mailbox.send_nowait(STOP)
        await wait_all_tasks_blocked()
        elapsed = perf_counter() - start - (resumed - paused)
    return _sample(elapsed, n, before, alive)


def raw(n: int) -> Sample:
    return trio.run(_raw_main, n)


# ---------------------------------------------------------------- shared


def _sample(elapsed: float, n: int, before: int | None, alive: int | None) -> Sample:
    per_process = None if before is None or alive is None else round((alive - before) / n)
    return Sample(figure=elapsed / n * 1e6, rss_per_process=per_process)


WORKLOAD = Workload(
    id="w1",
    name="W1 spawn",
    aliases=("spawn",),
    unit="us/spawn+stop",
    rate=False,
    ours=ours,
    raw=raw,
    full_size=100_000,
    quick_size=2_000,
)

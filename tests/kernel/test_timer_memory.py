"""Timers give their memory back: a burst of timers leaves nothing held once they are gone.

Python's dicts and sets keep the room they grew to when entries are removed,
so the node's timer table and a process's set of timers used to hold the
peak of a burst for ever (100,000 timers started then cancelled kept 9.4 MB).
They are now rebuilt when they hold far fewer entries than they have room
for. Measured with tracemalloc around the burst, after the timers are
gone: what is still held must be a few kilobytes, not megabytes.
"""

import gc
import tracemalloc

import pytest
import trio

import otp
from otp.lowlevel import current_node
from otp.testing import flush_mailbox

BURST = 100_000
HELD_AT_MOST = 64 * 1024  # bytes: the burst's peak is about 30 MB


def _held_since(before: int) -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before


@pytest.fixture
def traced():
    gc.collect()
    tracemalloc.start()
    try:
        yield tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
async def test_timers_started_then_cancelled_leave_no_memory_held(traced):
    me = otp.current_pid()
    refs = [otp.send_after(me, "tick", 10.0) for _ in range(BURST)]
    grown = _held_since(traced)
    for ref in refs:
        assert otp.cancel_timer(ref) is not None
    del refs

    held = _held_since(traced)
    assert current_node().statistics().timers == 0
    assert grown > 100 * HELD_AT_MOST  # the burst itself was measured
    assert held < HELD_AT_MOST, f"{held:,} bytes still held after cancelling {BURST:,} timers"


@pytest.mark.slow
async def test_timers_that_fired_leave_no_memory_held(traced, autojump_clock):
    me = otp.current_pid()
    for _ in range(BURST):
        otp.send_after(me, "tick", 1.0)
    await trio.sleep(1.0)
    await otp.testing.wait_all_tasks_blocked()
    assert len(flush_mailbox()) == BURST

    held = _held_since(traced)
    assert current_node().statistics().timers == 0
    assert held < HELD_AT_MOST, f"{held:,} bytes still held after {BURST:,} timers fired"


async def test_a_process_that_keeps_a_few_timers_after_a_burst_gives_the_rest_back(traced):
    me = otp.current_pid()
    refs = [otp.send_after(me, "tick", 10.0) for _ in range(5_000)]
    for ref in refs[3:]:
        otp.cancel_timer(ref)
    kept = refs[:3]
    del refs

    assert _held_since(traced) < HELD_AT_MOST
    # The three left still run, and can be cancelled with their time left.
    assert [otp.cancel_timer(ref) for ref in kept] == [pytest.approx(10.0, abs=1.0)] * 3

"""send_after / cancel_timer, under trio's MockClock (pytest-trio's clock fixtures).

``autojump_clock`` jumps to the next deadline whenever every task is blocked,
so ``refute_receive(timeout=t)`` advances mock time by exactly ``t`` at no
real cost; ``mock_clock`` only moves when the test calls ``jump``.
"""

import math

import pytest
import trio
import trio.testing

import otp
from otp.lowlevel import current_node, queued_messages
from otp.testing import assert_receive, capture_crash_reports, flush_mailbox, refute_receive


def live_timers():
    return current_node().statistics().timers


async def test_the_otp_plugin_runs_the_test_under_the_mock_clock(autojump_clock):
    assert isinstance(autojump_clock, trio.testing.MockClock)
    assert trio.lowlevel.current_clock() is autojump_clock
    start = trio.current_time()
    await trio.sleep(3600)
    assert trio.current_time() - start == 3600


async def test_send_after_delivers_after_the_delay_not_before(autojump_clock):
    start = trio.current_time()
    ref = otp.send_after(otp.current_pid(), "tick", 1.0)
    assert isinstance(ref, otp.TimerRef)
    assert live_timers() == 1
    await refute_receive(timeout=0.999)
    assert await assert_receive(timeout=1.0) == "tick"
    assert trio.current_time() - start == 1.0
    assert live_timers() == 0
    assert otp.cancel_timer(ref) is None


async def test_send_after_zero_delivers_at_the_next_scheduling_not_synchronously(autojump_clock):
    start = trio.current_time()
    otp.send_after(otp.current_pid(), "now", 0)
    assert queued_messages() == []
    assert await assert_receive() == "now"
    assert trio.current_time() == start


async def test_send_after_with_a_negative_delay_is_a_value_error():
    with pytest.raises(ValueError, match=r"needs a delay >= 0 seconds; got -1"):
        otp.send_after(otp.current_pid(), "x", -1)
    assert live_timers() == 0


async def test_send_after_with_a_nan_delay_is_a_value_error():
    with pytest.raises(ValueError, match="delay"):
        ref = otp.send_after(otp.current_pid(), "x", math.nan)
        otp.cancel_timer(ref)  # only reached if NaN were accepted: keep the node alive
    assert live_timers() == 0


async def test_send_after_to_something_that_is_not_a_destination_is_a_type_error():
    with pytest.raises(TypeError, match="expected a Pid, a registered name"):
        otp.send_after(42, "x", 1)
    assert live_timers() == 0


async def test_cancel_timer_returns_the_exact_time_left(autojump_clock):
    ref = otp.send_after(otp.current_pid(), "never", 5.0)
    await trio.sleep(2.0)
    assert otp.cancel_timer(ref) == 3.0
    assert live_timers() == 0
    await refute_receive(timeout=10)


async def test_cancel_timer_returns_none_once_cancelled_or_fired(autojump_clock):
    me = otp.current_pid()
    cancelled = otp.send_after(me, "cancelled", 1.0)
    fired = otp.send_after(me, "fired", 1.0)
    assert otp.cancel_timer(cancelled) == 1.0
    assert otp.cancel_timer(cancelled) is None
    assert await assert_receive(timeout=2) == "fired"
    assert otp.cancel_timer(fired) is None
    await refute_receive(timeout=10)


async def test_a_timer_past_its_deadline_but_not_yet_fired_cancels_with_zero_left(mock_clock):
    ref = otp.send_after(otp.current_pid(), "late", 1.0)
    mock_clock.jump(5.0)  # the timer service has not run since
    assert otp.cancel_timer(ref) == 0.0
    await trio.testing.wait_all_tasks_blocked()
    assert queued_messages() == []


async def test_timers_fire_in_deadline_order_whatever_the_order_they_were_started(autojump_clock):
    me = otp.current_pid()
    start = trio.current_time()
    for name, delay in [("c", 3.0), ("a", 1.0), ("b", 2.0), ("d", 10.0)]:
        otp.send_after(me, name, delay)
    arrivals = [(await assert_receive(timeout=20), trio.current_time() - start) for _ in range(4)]
    assert arrivals == [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 10.0)]


async def test_timers_with_equal_deadlines_fire_in_the_order_they_were_started(autojump_clock):
    me = otp.current_pid()
    for n in range(20):
        otp.send_after(me, n, 1.0)
    assert await assert_receive(timeout=2) == 0
    # They were all due at once and delivered in one go: the rest is queued.
    assert queued_messages() == list(range(1, 20))
    flush_mailbox()
    await refute_receive(timeout=10)


async def test_an_earlier_timer_started_later_wakes_the_service_earlier(autojump_clock):
    me = otp.current_pid()
    start = trio.current_time()
    otp.send_after(me, "late", 100.0)
    await trio.sleep(1.0)  # the service now sleeps until the 100 s deadline
    otp.send_after(me, "early", 1.0)
    assert await assert_receive(timeout=200) == "early"
    assert trio.current_time() - start == 2.0


async def test_a_timer_to_a_name_resolves_the_name_when_it_fires(autojump_clock):
    me = otp.current_pid()

    async def forwarder(tag):
        otp.send(me, (tag, await otp.receive()))

    otp.send_after("svc", "first", 1.0)  # nobody holds "svc" yet: not an error
    otp.send_after("svc", "second", 2.0)
    await trio.sleep(0.5)
    first = otp.spawn(forwarder, "first holder")
    otp.register("svc", first)
    assert await assert_receive(timeout=1) == ("first holder", "first")
    second = otp.spawn(forwarder, "second holder")
    otp.register("svc", second)  # the first holder ended: the name is free
    assert await assert_receive(timeout=2) == ("second holder", "second")


async def test_a_timer_to_a_name_nobody_holds_when_it_fires_is_dropped(autojump_clock):
    me = otp.current_pid()
    otp.send_after("nobody", "lost", 1.0)
    otp.send_after(me, "later timers still fire", 2.0)
    assert await assert_receive(timeout=5) == "later timers still fire"
    assert live_timers() == 0


class DictVia:
    def __init__(self, table, key):
        self.table, self.key = table, key

    def whereis(self):
        return self.table.get(self.key)

    def register(self, pid):
        self.table[self.key] = pid

    def unregister(self):
        self.table.pop(self.key, None)


class BrokenVia(DictVia):
    def whereis(self):
        raise RuntimeError("registry is down")


async def test_a_timer_to_a_via_name_resolves_it_when_it_fires(autojump_clock):
    table = {}
    otp.send_after(DictVia(table, "k"), "via", 1.0)
    await trio.sleep(0.5)
    table["k"] = otp.current_pid()
    assert await assert_receive(timeout=1) == "via"


async def test_a_via_name_that_fails_to_resolve_drops_its_timer_and_the_service_goes_on(autojump_clock):
    me = otp.current_pid()
    with capture_crash_reports() as reports:
        broken = otp.send_after(BrokenVia({}, "k"), "lost", 1.0)
        otp.send_after(me, "still working", 2.0)
        assert await assert_receive(timeout=5) == "still working"
    assert len(reports) == 1
    assert reports[0].getMessage().startswith(f"timer {broken!r}: could not resolve ")
    assert reports[0].exc_info[0] is RuntimeError
    assert live_timers() == 0


async def test_timers_addressed_to_a_pid_are_cancelled_when_it_ends(autojump_clock):
    me = otp.current_pid()
    pid, ref = otp.spawn_monitor(otp.receive)
    timers = [otp.send_after(pid, n, 1.0 + n) for n in range(3)]
    by_name = otp.send_after(me, "kept", 5.0)
    assert live_timers() == 4
    otp.exit(pid, "stop")
    assert await assert_receive() == otp.Down(ref, pid, "stop")
    assert live_timers() == 1
    assert [otp.cancel_timer(t) for t in timers] == [None, None, None]
    assert await assert_receive(timeout=10) == "kept"
    assert otp.cancel_timer(by_name) is None


async def test_a_timer_to_a_dead_pid_is_cancelled_at_once():
    pid, ref = otp.spawn_monitor(lambda: None)
    await assert_receive(otp.Down)
    timer = otp.send_after(pid, "never", 1.0)
    assert isinstance(timer, otp.TimerRef)
    assert live_timers() == 0
    assert otp.cancel_timer(timer) is None


async def test_a_timer_to_a_name_is_not_cancelled_when_the_holder_ends(autojump_clock):
    me = otp.current_pid()
    old = otp.spawn(otp.receive)
    otp.register("svc", old)
    otp.send_after("svc", "for whoever holds svc", 2.0)
    otp.exit(old, "stop")
    await trio.sleep(1.0)
    assert live_timers() == 1
    otp.register("svc", me)
    assert await assert_receive(timeout=2) == "for whoever holds svc"


async def test_timers_follow_trio_time_not_the_wall_clock(mock_clock):
    ref = otp.send_after(otp.current_pid(), "tick", 60.0)
    await trio.testing.wait_all_tasks_blocked()
    assert queued_messages() == []
    mock_clock.jump(59.5)
    await trio.testing.wait_all_tasks_blocked()
    assert queued_messages() == []
    assert otp.cancel_timer(ref) == 0.5
    otp.send_after(otp.current_pid(), "tock", 1.0)
    mock_clock.jump(1.0)
    assert await otp.receive() == "tock"


# ---------------------------------------------------------------- many timers


N = 100_000


@pytest.mark.slow
async def test_a_hundred_thousand_timers_started_and_cancelled_leave_none_behind(autojump_clock):
    me = otp.current_pid()
    assert trio.current_time() == 0.0  # so that the time left is exactly the delay
    refs = [otp.send_after(me, n, 1 + n) for n in range(N)]
    assert live_timers() == N
    assert len(set(refs)) == N
    left = [otp.cancel_timer(ref) for ref in refs]
    assert left == [1 + n for n in range(N)]
    assert live_timers() == 0
    assert otp.cancel_timer(refs[0]) is None
    await refute_receive(timeout=2 * N)


@pytest.mark.slow
async def test_a_hundred_thousand_timers_all_fire_in_deadline_order(mock_clock):
    me = otp.current_pid()
    # Started out of deadline order: the even delays first, then the odd ones.
    delays = [*range(2, N + 1, 2), *range(1, N + 1, 2)]
    for delay in delays:
        otp.send_after(me, delay, delay / 1000)
    assert live_timers() == N
    mock_clock.jump(N / 1000)  # every deadline has passed: one wake-up fires them all
    first = await otp.receive()
    received = [first, *flush_mailbox()]
    assert received == list(range(1, N + 1))
    assert live_timers() == 0

"""monitor / demonitor / spawn_monitor: one-way, stacking, exactly one Down each."""

import pytest

import otp
from otp.lowlevel import queued_messages
from otp.testing import assert_receive

ERROR = ValueError("boom")


async def returns():
    await otp.receive()
    return "a result is not a reason"


async def raises():
    await otp.receive()
    raise ERROR


async def exits_with_kill():
    await otp.receive()
    raise otp.Exit(otp.KILL)


def signal(reason):
    def end(pid):
        otp.exit(pid, reason)

    end.__name__ = f"exit(pid, {reason!r})"
    return end


def tell(pid):
    otp.send(pid, "go")


# How the process is ended, what it runs, and the reason its Down must carry.
ENDINGS = [
    pytest.param(returns, tell, otp.NORMAL, id="returns"),
    pytest.param(raises, tell, ERROR, id="raises"),
    pytest.param(exits_with_kill, tell, otp.KILL, id="raises Exit(KILL)"),
    pytest.param(otp.receive, signal("custom"), "custom", id="exit(pid, 'custom')"),
    pytest.param(otp.receive, signal(otp.SHUTDOWN), otp.SHUTDOWN, id="exit(pid, SHUTDOWN)"),
    pytest.param(otp.receive, signal(otp.Shutdown("x")), otp.Shutdown("x"), id="exit(pid, Shutdown('x'))"),
    pytest.param(otp.receive, signal(otp.NORMAL), None, id="exit(pid, NORMAL) ends nothing"),
    pytest.param(otp.receive, signal(otp.KILL), otp.KILLED, id="exit(pid, KILL)"),
]


@pytest.mark.parametrize(("function", "end", "reason"), ENDINGS)
async def test_monitor_gives_exactly_one_down_with_the_exact_reason(function, end, reason):
    pid = otp.spawn(function)
    ref = otp.monitor(pid)
    assert isinstance(ref, otp.Ref)
    end(pid)
    if reason is None:
        # NORMAL from exit(pid, r) is ignored: a second monitor's Down for a
        # KILL sent afterwards is the first Down we see.
        check = otp.monitor(pid)
        otp.exit(pid, otp.KILL)
        downs = [await assert_receive(), await assert_receive()]
        assert sorted(downs, key=lambda d: d.ref) == [otp.Down(ref, pid, otp.KILLED), otp.Down(check, pid, otp.KILLED)]
        return
    down = await assert_receive()
    assert down == otp.Down(ref, pid, reason)
    assert down.reason.__class__ is reason.__class__
    if isinstance(reason, BaseException):
        assert down.reason is reason
    # Every Down of an ending is delivered as it ends: a second one would be queued now.
    assert queued_messages() == []
    assert otp.demonitor(ref) is False


async def test_monitor_returns_a_new_ref_each_time_and_monitors_stack():
    pid = otp.spawn(otp.receive)
    first, second = otp.monitor(pid), otp.monitor(pid)
    assert isinstance(first, otp.Ref) and isinstance(second, otp.Ref)
    assert first != second
    assert otp.process_info(pid).monitored_by == (otp.current_pid(), otp.current_pid())
    assert otp.process_info(otp.current_pid()).monitors == (pid, pid)


async def test_two_monitors_give_two_downs_each_with_its_ref():
    pid = otp.spawn(otp.receive)
    first, second = otp.monitor(pid), otp.monitor(pid)
    otp.exit(pid, "stop")
    downs = [await assert_receive(), await assert_receive()]
    assert sorted(downs, key=lambda d: d.ref) == [otp.Down(first, pid, "stop"), otp.Down(second, pid, "stop")]
    assert queued_messages() == []


async def test_monitoring_a_dead_pid_gives_down_noproc_at_once():
    pid, ref = otp.spawn_monitor(lambda: None)
    assert await assert_receive() == otp.Down(ref, pid, otp.NORMAL)
    late = otp.monitor(pid)
    assert otp.receive_nowait() == otp.Down(late, pid, otp.NOPROC)  # no checkpoint needed
    assert queued_messages() == []
    assert otp.demonitor(late) is False


async def test_monitoring_an_unknown_name_gives_down_noproc_naming_the_name():
    ref = otp.monitor("nobody_has_this_name")
    assert otp.receive_nowait() == otp.Down(ref, "nobody_has_this_name", otp.NOPROC)
    assert queued_messages() == []


async def test_monitoring_a_registered_name_follows_the_process_holding_it():
    pid = otp.spawn(otp.receive)
    otp.register("monitored_by_name", pid)
    ref = otp.monitor("monitored_by_name")
    assert otp.process_info(pid).monitored_by == (otp.current_pid(),)
    otp.exit(pid, "stop")
    down = await assert_receive()
    assert (down.ref, down.reason) == (ref, "stop")


async def test_down_of_a_monitor_by_name_names_the_name():
    pid = otp.spawn(otp.receive)
    otp.register("monitored_by_name", pid)
    ref = otp.monitor("monitored_by_name")
    otp.exit(pid, "stop")
    assert await assert_receive() == otp.Down(ref, "monitored_by_name", "stop")


class DictVia:
    def __init__(self, table, key):
        self.table, self.key = table, key

    def whereis(self):
        return self.table.get(self.key)

    def register(self, pid):
        self.table[self.key] = pid

    def unregister(self):
        self.table.pop(self.key, None)


async def test_down_of_a_monitor_by_via_name_names_the_via_name():
    pid = otp.spawn(otp.receive)
    name = DictVia({"k": pid}, "k")
    ref = otp.monitor(name)
    otp.exit(pid, "stop")
    down = await assert_receive()
    assert down == otp.Down(ref, name, "stop") and down.pid is name


async def test_a_monitor_by_name_that_was_removed_gives_no_down():
    pid = otp.spawn(otp.receive)
    otp.register("monitored_by_name", pid)
    dropped = otp.monitor("monitored_by_name")
    kept = otp.monitor(pid)
    assert otp.demonitor(dropped) is True
    otp.exit(pid, "stop")
    assert await assert_receive() == otp.Down(kept, pid, "stop")
    assert queued_messages() == []


# ---------------------------------------------------------------- demonitor


async def test_demonitor_returns_whether_the_monitor_was_active():
    pid = otp.spawn(otp.receive)
    ref = otp.monitor(pid)
    assert otp.demonitor(ref) is True
    assert otp.demonitor(ref) is False
    assert otp.process_info(pid).monitored_by == ()
    assert otp.process_info(otp.current_pid()).monitors == ()


async def test_after_demonitor_no_down_arrives():
    pid = otp.spawn(otp.receive)
    dropped = otp.monitor(pid)
    kept = otp.monitor(pid)
    otp.demonitor(dropped)
    otp.exit(pid, "stop")
    assert await assert_receive() == otp.Down(kept, pid, "stop")
    assert queued_messages() == []


async def test_demonitor_after_the_down_was_queued_returns_false_and_leaves_it():
    pid = otp.spawn(otp.receive)
    ref = otp.monitor(pid)
    witness = otp.monitor(pid)
    otp.exit(pid, "stop")
    await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == witness)
    # Both Downs were delivered together, so ref's is queued now.
    assert otp.demonitor(ref) is False
    assert queued_messages() == [otp.Down(ref, pid, "stop")]


async def test_demonitor_flush_removes_only_the_queued_down_of_that_ref():
    me = otp.current_pid()
    pid = otp.spawn(otp.receive)
    ref = otp.monitor(pid)
    other = otp.monitor(pid)
    witness = otp.monitor(pid)
    otp.send(me, "before")
    otp.exit(pid, "stop")
    await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == witness)
    otp.send(me, "after")
    assert otp.demonitor(ref, flush=True) is False
    assert queued_messages() == ["before", otp.Down(other, pid, "stop"), "after"]


async def test_demonitor_flush_of_an_active_monitor_returns_true():
    pid = otp.spawn(otp.receive)
    ref = otp.monitor(pid)
    assert otp.demonitor(ref, flush=True) is True
    otp.exit(pid, "stop")
    check = otp.monitor(pid)
    assert await assert_receive() == otp.Down(check, pid, "stop")
    assert queued_messages() == []


async def test_demonitor_flush_removes_an_immediate_noproc_down():
    ref = otp.monitor("nobody_has_this_name")
    assert otp.demonitor(ref, flush=True) is False
    assert queued_messages() == []


# ---------------------------------------------------------------- one-way


async def test_monitors_are_one_way_the_monitored_process_outlives_its_watcher():
    me = otp.current_pid()
    target = otp.spawn(_echo)

    async def watcher():
        otp.monitor(target)
        otp.send(me, "watching")
        await otp.receive()

    watcher_pid, watcher_ref = otp.spawn_monitor(watcher)
    assert await assert_receive() == "watching"
    assert otp.process_info(target).monitored_by == (watcher_pid,)
    otp.exit(watcher_pid, "crash")
    assert await assert_receive() == otp.Down(watcher_ref, watcher_pid, "crash")
    assert otp.process_info(target).monitored_by == ()
    otp.send(target, (me, "ping"))
    assert await assert_receive() == ("pong", "ping")


async def test_the_monitored_process_ending_does_not_affect_the_watcher():
    pid, ref = otp.spawn_monitor(raises)
    otp.send(pid, "go")
    assert await assert_receive() == otp.Down(ref, pid, ERROR)
    assert otp.is_alive(otp.current_pid())
    assert otp.process_info(otp.current_pid()).monitors == ()


async def test_messages_sent_before_a_process_ends_arrive_before_its_down():
    me = otp.current_pid()

    async def last_words():
        for n in range(3):
            otp.send(me, n)
        raise otp.Exit("done")

    pid, ref = otp.spawn_monitor(last_words)
    assert [await assert_receive() for _ in range(4)] == [0, 1, 2, otp.Down(ref, pid, "done")]


async def _echo():
    while True:
        reply_to, message = await otp.receive()
        otp.send(reply_to, ("pong", message))


# ---------------------------------------------------------------- spawn_monitor


async def test_spawn_monitor_returns_pid_and_ref_and_sees_a_crash_at_the_first_instruction():
    error = KeyError("at once")

    async def crash():
        raise error

    pid, ref = otp.spawn_monitor(crash)
    assert isinstance(pid, otp.Pid) and isinstance(ref, otp.Ref)
    assert otp.process_info(pid).monitored_by == (otp.current_pid(),)
    down = await assert_receive()
    assert down == otp.Down(ref, pid, error)
    assert down.reason is error
    assert queued_messages() == []


async def test_spawn_monitor_does_not_link():
    pid, ref = otp.spawn_monitor(raises)
    assert otp.process_info(pid).links == ()
    otp.send(pid, "go")
    assert (await assert_receive()).reason is ERROR
    assert otp.is_alive(otp.current_pid())

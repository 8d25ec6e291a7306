"""otp.lowlevel: the hooks behaviours are built from."""

import pytest

import otp
from _via import DictVia
from otp.lowlevel import current_node, queued_messages, register_name, resolve_pid, spawn_opt
from otp.testing import assert_down, assert_receive


async def test_spawn_opt_traps_exits_before_the_child_runs():
    # A signal sent before the child's first instruction is still trapped.
    me = otp.current_pid()

    async def child():
        signal = await otp.receive(otp.ExitSignal)
        otp.send(me, ("trapped", signal.reason))

    pid, ref = spawn_opt(child, trap_exits=True, monitor=True)
    otp.exit(pid, "early")
    assert await assert_receive(tuple) == ("trapped", "early")
    await assert_down(ref, otp.NORMAL)


async def test_spawn_opt_links_and_monitors_on_request():
    pid, ref = spawn_opt(otp.receive, link=True, monitor=True)
    info = otp.process_info(pid)
    assert info.links == (otp.current_pid(),)
    assert info.monitored_by == (otp.current_pid(),)
    otp.unlink(pid)
    otp.exit(pid, "done")
    await assert_down(ref, "done")
    pid, ref = spawn_opt(otp.receive)
    assert ref is None and otp.process_info(pid).links == ()



TABLE: dict = {}


async def test_register_name_accepts_plain_names_and_via_names():
    me = otp.current_pid()
    register_name("plain", me)
    register_name(DictVia(TABLE, "k"), me)
    assert resolve_pid("plain") == me
    assert resolve_pid(DictVia(TABLE, "k")) == me
    assert otp.whereis(DictVia(TABLE, "k")) == me
    with pytest.raises(otp.AlreadyRegistered) as raised:
        register_name(DictVia(TABLE, "k"), me)
    assert (raised.value.key, raised.value.pid) == ("k", me)
    with pytest.raises(TypeError, match="must be a str"):
        register_name(42, me)
    TABLE.clear()


async def test_queued_messages_copies_without_consuming():
    otp.send(otp.current_pid(), "a")
    assert queued_messages() == ["a"]
    assert queued_messages(otp.current_pid()) == ["a"]
    assert await otp.receive() == "a"


async def test_current_node_is_the_node_of_the_caller():
    pid = otp.spawn(otp.receive)
    assert current_node().processes[pid.number].pid == pid


async def test_set_mail_callback_wakes_a_process_that_waits_on_something_else():
    import trio

    from otp.lowlevel import set_mail_callback

    me = otp.current_pid()
    woken = []

    async def waits_on_an_event():
        # The process's own task waits on a trio event (as a WebSocket's waits on its socket).
        wake, mine = trio.Event(), otp.current_pid()
        set_mail_callback(lambda: (woken.append(len(queued_messages(mine))), wake.set()))
        otp.send(me, "waiting")
        await wake.wait()
        otp.send(me, ("took", otp.receive_nowait()))
        set_mail_callback(None)
        await otp.receive(lambda m: m == "end")

    pid, ref = spawn_opt(waits_on_an_event, monitor=True)
    assert await assert_receive(str) == "waiting"
    otp.send(pid, "mail")
    assert woken == [1]  # at once, in the sender's task: the message is queued first
    assert await assert_receive(tuple) == ("took", "mail")
    otp.send(pid, "end")  # taken by the receive in progress: nothing queued, and no callback any more
    await assert_down(ref, otp.NORMAL)
    assert woken == [1]


async def test_the_mail_callback_is_called_for_a_down_and_dropped_when_the_process_ends():
    import trio
    import trio.testing

    from otp.lowlevel import set_mail_callback

    calls = []
    target = otp.spawn(otp.receive)
    done = trio.Event()

    async def watcher():
        mine = otp.current_pid()
        set_mail_callback(lambda: calls.append(queued_messages(mine)[-1].__class__.__name__))
        otp.monitor(target)
        await done.wait()

    pid = otp.spawn(watcher)
    await trio.testing.wait_all_tasks_blocked()
    otp.exit(target, otp.KILL)
    await trio.testing.wait_all_tasks_blocked()
    assert calls == ["Down"]
    record = otp.lowlevel.local_process(pid)
    done.set()
    await trio.testing.wait_all_tasks_blocked()
    assert not otp.is_alive(pid) and record.mail_callback is None


async def test_a_finished_call_leaves_no_alias_set_and_no_pattern_on_the_callers_record():
    # A process that made one call and waits on for hours (a socket after its join) keeps nothing of it.
    server = await _Pong.start_link(None)
    me = otp.lowlevel.local_process(otp.current_pid())
    assert await otp.GenServer.call(server, "ping") == "pong"
    assert (me.aliases, me.patterns, me.awaiting) == (None, (), None)


class _Pong(otp.GenServer):
    async def init(self, arg):
        return None

    async def handle_call(self, request, caller):
        return "pong"

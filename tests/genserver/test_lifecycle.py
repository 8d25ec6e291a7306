"""GenServer life: start_link / start, GenServer.stop, and when terminate runs."""

import pytest
import trio

import otp
from otp import GenServer
from otp.lowlevel import queued_messages
from otp.testing import assert_down, assert_receive, capture_crash_reports, kill_and_wait, wait_all_tasks_blocked

from _workers import Worker


def eq(value):
    return lambda m: m == value


def is_down(ref):
    return lambda m: isinstance(m, otp.Down) and m.ref == ref


class InitBoom(Exception):
    pass


class DictVia:
    """A via-name backed by a dict (the protocol a Registry implements)."""

    def __init__(self, table, key):
        self.table = table
        self.key = key

    def whereis(self):
        pid = self.table.get(self.key)
        return pid if pid is not None and otp.is_alive(pid) else None

    def register(self, pid):
        holder = self.whereis()
        if holder is not None:
            raise otp.AlreadyRegistered(self.key, holder)
        self.table[self.key] = pid

    def unregister(self):
        self.table.pop(self.key, None)


# ---------------------------------------------------------------- start_link / start


async def test_start_link_returns_after_init_finished():
    me = otp.current_pid()
    pid = await Worker.start_link({"notify": me})
    # init's message is already queued: start_link waited for the whole init.
    assert queued_messages() == [("started", pid)]
    assert otp.is_alive(pid)
    assert await GenServer.call(pid, "ping") == "pong"


async def test_start_link_links_and_start_does_not():
    me = otp.current_pid()
    linked = await Worker.start_link({})
    unlinked = await Worker.start({})
    assert otp.process_info(linked).links == (me,)
    assert linked in otp.process_info(me).links
    assert otp.process_info(unlinked).links == ()
    assert unlinked not in otp.process_info(me).links
    # The start-up monitor is gone too.
    assert otp.process_info(me).monitors == ()


async def test_init_raising_gives_start_error_with_that_exception_and_leaves_nothing_behind():
    me = otp.current_pid()
    otp.trap_exits(True)
    before = otp.processes()
    boom = InitBoom("bad config", 7)
    with capture_crash_reports() as reports:
        with pytest.raises(otp.StartError) as info:
            await Worker.start_link({"init": "crash", "reason": boom})
    assert info.value.reason is boom
    assert type(info.value.reason) is InitBoom and info.value.reason.args == ("bad config", 7)
    assert info.value.what == "Worker"
    assert otp.processes() == before
    # The caller traps exits, yet gets no ExitSignal (nor anything else).
    assert queued_messages() == []
    assert otp.process_info(me).links == ()
    assert len(reports) == 1
    assert reports[0].getMessage().startswith(f"Process {reports[0].otp_pid} crashed: InitBoom('bad config', 7)")


async def test_init_raising_does_not_kill_a_non_trapping_caller():
    with capture_crash_reports():
        with pytest.raises(otp.StartError):
            await Worker.start_link({"init": "crash"})
    assert queued_messages() == []
    assert otp.is_alive(otp.current_pid())


@pytest.mark.parametrize("reason", ["bad", otp.SHUTDOWN, otp.NORMAL, ("tuple", 1)])
async def test_init_returning_stop_gives_start_error_with_that_reason(reason):
    otp.trap_exits(True)
    before = otp.processes()
    with capture_crash_reports():
        with pytest.raises(otp.StartError) as info:
            await Worker.start_link({"init": "stop", "reason": reason})
    assert info.value.reason == reason
    assert otp.processes() == before
    assert queued_messages() == []


async def test_init_returning_ignore_gives_none_and_no_process():
    otp.trap_exits(True)
    before = otp.processes()
    assert await Worker.start_link({"init": "ignore"}) is None
    assert await Worker.start({"init": "ignore"}) is None
    assert otp.processes() == before
    assert queued_messages() == []


class ReturnsFortyTwo(GenServer):
    async def init(self, arg):
        return arg


async def test_init_returning_a_wrong_value_is_a_start_error_with_a_type_error():
    before = otp.processes()
    with capture_crash_reports():
        with pytest.raises(otp.StartError) as info:
            await ReturnsFortyTwo.start_link(42)
    error = info.value.reason
    assert type(error) is TypeError
    assert str(error) == (
        "ReturnsFortyTwo.init returned 42; expected None, NoReply(timeout=t | hibernate=True), Continue(arg), "
        "Stop(reason) or Ignore() (keep state on self and return None)"
    )
    assert otp.processes() == before


async def test_init_returning_continue_with_a_reply_is_a_type_error():
    with capture_crash_reports():
        with pytest.raises(otp.StartError) as info:
            await ReturnsFortyTwo.start_link(otp.Continue("x", reply=1))
    assert type(info.value.reason) is TypeError
    assert "ReturnsFortyTwo.init returned Continue('x', reply=1)" in str(info.value.reason)
    assert "reply= only makes sense in handle_call" in str(info.value.reason)


async def test_a_taken_name_raises_already_started_with_the_holder():
    holder = await Worker.start_link({}, name="unique")
    before = otp.processes()
    with pytest.raises(otp.AlreadyStarted) as info:
        await Worker.start_link({}, name="unique")
    assert info.value.pid == holder
    assert info.value.name == "unique"
    assert otp.processes() == before
    assert otp.whereis("unique") == holder
    assert queued_messages() == []


async def test_a_taken_via_name_raises_already_started_with_the_holder():
    name = DictVia({}, "key")
    holder = await Worker.start({}, name=name)
    with pytest.raises(otp.AlreadyStarted) as info:
        await Worker.start({}, name=name)
    assert info.value.pid == holder
    assert await GenServer.call(name, "ping") == "pong"


@pytest.mark.parametrize("init", ["crash", "stop", "ignore"])
async def test_the_name_is_free_when_start_fails_so_an_immediate_retry_works(init):
    with capture_crash_reports():
        try:
            assert await Worker.start_link({"init": init}, name="retry") is None
        except otp.StartError:
            pass
    assert otp.whereis("retry") is None
    pid = await Worker.start_link({}, name="retry")
    assert otp.whereis("retry") == pid


async def test_the_via_name_is_free_when_start_fails():
    table = {}
    name = DictVia(table, "key")
    with capture_crash_reports(), pytest.raises(otp.StartError):
        await Worker.start({"init": "crash"}, name=name)
    assert table == {}
    pid = await Worker.start({}, name=name)
    assert table == {"key": pid}


async def test_a_bad_name_is_a_type_error_before_anything_starts():
    before = otp.processes()
    with pytest.raises(TypeError, match="got 42"):
        await Worker.start_link({}, name=42)
    assert otp.processes() == before


async def test_a_name_on_another_node_is_no_name_to_register_under():
    # (name, node) is where a message can go, not a name a process can take:
    # refused in the caller, like any bad name, with no process started and
    # no crash report (it used to reach the new process and crash it there).
    before = otp.processes()
    with capture_crash_reports() as reports:
        with pytest.raises(TypeError) as error:
            await Worker.start_link({}, name=("worker", "node2"))
    assert str(error.value) == (
        "name= must be a registered name (a str) or a via-name such as Registry.via(registry, key); "
        "got ('worker', 'node2')"
    )
    assert otp.processes() == before
    assert reports == []


class SlowInit(GenServer):
    async def init(self, arg):
        otp.send(arg, ("initialising", otp.current_pid()))
        await trio.sleep_forever()


async def test_start_timeout_is_a_start_error_and_kills_the_process(autojump_clock):
    me = otp.current_pid()
    otp.trap_exits(True)
    before = otp.processes()
    with capture_crash_reports() as reports:
        with pytest.raises(otp.StartError) as info:
            await SlowInit.start_link(me, timeout=2.0)
    assert info.value.reason == "timeout"
    assert trio.current_time() == pytest.approx(2.0)
    _, pid = await assert_receive(tuple)
    assert not otp.is_alive(pid)
    assert otp.processes() == before
    # Trapping, and still no ExitSignal about the killed starter; killed is not a crash (no report).
    assert queued_messages() == []
    assert reports == []


async def test_the_starter_killed_during_init_takes_the_linked_server_with_it():
    me = otp.current_pid()

    async def starter():
        await SlowInit.start_link(me)

    starter_pid = otp.spawn(starter)
    _, server = await assert_receive(tuple)
    ref = otp.monitor(server)
    otp.exit(starter_pid, "gone")
    await assert_down(ref, "gone")



class ExitsInInit(GenServer):
    async def init(self, reason):
        raise otp.Exit(reason)


async def test_init_raising_exit_gives_start_error_with_its_reason():
    otp.trap_exits(True)
    with capture_crash_reports():
        with pytest.raises(otp.StartError) as info:
            await ExitsInInit.start_link("refused")
    assert info.value.reason == "refused"
    assert queued_messages() == []


class KilledInInit(GenServer):
    async def init(self, reason):
        otp.spawn(otp.exit, otp.current_pid(), reason)  # from another process
        await trio.sleep_forever()


async def test_a_server_killed_by_a_signal_during_init_is_a_start_error_and_leaves_no_exit_signal():
    otp.trap_exits(True)
    before = otp.processes()
    with capture_crash_reports() as reports:
        with pytest.raises(otp.StartError) as info:
            await KilledInInit.start_link("zapped")
    assert info.value.reason == "zapped"
    assert otp.processes() == before
    assert queued_messages() == []
    assert reports == []  # ended by an exit signal: not a crash


async def test_already_started_sends_no_exit_signal_to_a_trapping_starter():
    otp.trap_exits(True)
    holder = await Worker.start_link({}, name="taken")
    with pytest.raises(otp.AlreadyStarted):
        await Worker.start_link({}, name="taken")
    # Like every other failed start: the starter hears of it only through the
    # exception. Today the loser exits NORMAL while still linked, so a trapping
    # starter (every supervisor) finds ExitSignal(<loser>, normal) queued.
    assert queued_messages() == []
    assert otp.process_info(otp.current_pid()).links == (holder,)


class AcksAtTheDeadline(GenServer):
    async def init(self, seconds):
        # Wakes in the same pass of the node's timer service as the starter's
        # timeout, so the ack arrives after the starter has timed out.
        otp.send_after(otp.current_pid(), "wake", seconds)
        await otp.receive(eq("wake"))


async def test_a_start_timeout_racing_the_ack_leaves_no_ack_behind(autojump_clock):
    otp.trap_exits(True)
    before = otp.processes()
    with capture_crash_reports():
        with pytest.raises(otp.StartError) as info:
            await AcksAtTheDeadline.start_link(2.0, timeout=2.0)
    assert info.value.reason == "timeout"
    assert otp.processes() == before
    await wait_all_tasks_blocked()
    assert queued_messages() == []


# ---------------------------------------------------------------- GenServer.stop


async def test_stop_runs_terminate_and_returns_after_the_exit():
    me = otp.current_pid()
    pid = await Worker.start_link({"notify": me})
    await assert_receive(eq(("started", pid)))
    ref = otp.monitor(pid)
    assert await GenServer.stop(pid) is None
    assert not otp.is_alive(pid)
    assert queued_messages() == [("terminating", pid, otp.NORMAL), otp.Down(ref, pid, otp.NORMAL)]


async def test_stop_with_a_reason_by_name():
    me = otp.current_pid()
    otp.trap_exits(True)
    pid = await Worker.start_link({"notify": me}, name="stoppable")
    await assert_receive(eq(("started", pid)))
    with capture_crash_reports() as reports:
        await otp.stop("stoppable", "bye")
    assert queued_messages() == [("terminating", pid, "bye"), otp.ExitSignal(pid, "bye")]
    assert [r.otp_reason for r in reports] == ["bye"]
    assert otp.whereis("stoppable") is None


async def test_stop_of_a_dead_pid_or_unknown_name_is_no_proc():
    pid = await Worker.start({})
    await kill_and_wait(pid)
    with pytest.raises(otp.NoProc) as info:
        await GenServer.stop(pid)
    assert (info.value.server, info.value.reason) == (pid, otp.NOPROC)
    with pytest.raises(otp.NoProc) as info:
        await GenServer.stop("nobody", "r")
    assert (info.value.server, info.value.reason) == ("nobody", otp.NOPROC)


async def test_stop_times_out_when_terminate_hangs(autojump_clock):
    me = otp.current_pid()
    pid = await Worker.start({"notify": me, "hang_on_shutdown": True})
    with pytest.raises(otp.CallTimeout) as info:
        await GenServer.stop(pid, otp.SHUTDOWN, timeout=3.0)
    assert (info.value.server, info.value.reason, info.value.timeout) == (pid, "timeout", 3.0)
    assert trio.current_time() == pytest.approx(3.0)
    assert queued_messages() == [("started", pid), ("terminating", pid, otp.SHUTDOWN)]
    assert otp.is_alive(pid)
    with capture_crash_reports():
        assert await kill_and_wait(pid) == otp.KILLED
    # The timed-out stop's monitor was removed: no Down is left behind.
    assert otp.process_info(me).monitors == ()
    assert queued_messages() == [("started", pid), ("terminating", pid, otp.SHUTDOWN)]


class CrashingTerminate(GenServer):
    async def terminate(self, reason):
        raise InitBoom("terminate failed", reason)


async def test_stop_raises_server_exited_when_terminate_crashes():
    pid = await CrashingTerminate.start()
    with capture_crash_reports() as reports:
        with pytest.raises(otp.ServerExited) as info:
            await GenServer.stop(pid, "bye")
    assert type(info.value.reason) is InitBoom
    assert info.value.reason.args == ("terminate failed", "bye")
    assert len(reports) == 1


class StopsItself(GenServer):
    async def handle_call(self, request, caller):
        try:
            await GenServer.stop(otp.current_pid())
        except otp.CallingSelf as e:
            return e.reason


async def test_a_server_stopping_itself_with_stop_is_calling_self():
    pid = await StopsItself.start_link()
    assert await GenServer.call(pid, "stop yourself") == "calling_self"
    assert otp.is_alive(pid)


# ---------------------------------------------------------------- when terminate runs


async def test_terminate_runs_on_a_crash_with_the_exception():
    me = otp.current_pid()
    pid = await Worker.start({"notify": me})
    ref = otp.monitor(pid)
    boom = InitBoom("in cast")
    with capture_crash_reports():
        GenServer.cast(pid, ("crash", boom))
        await assert_down(ref, InitBoom)
    assert queued_messages() == [("started", pid), ("terminating", pid, boom)]


@pytest.mark.parametrize("how", ["cast", "info"])
async def test_terminate_runs_on_stop_from_handle_cast_and_handle_info(how):
    me = otp.current_pid()
    pid = await Worker.start({"notify": me})
    ref = otp.monitor(pid)
    with capture_crash_reports():
        if how == "cast":
            GenServer.cast(pid, ("stop", "done"))
        else:
            otp.send(pid, ("stop", "done"))
        await assert_down(ref, "done")
    assert queued_messages() == [("started", pid), ("terminating", pid, "done")]


async def test_terminate_runs_on_exit_raised_in_a_callback():
    me = otp.current_pid()
    pid = await Worker.start({"notify": me})
    ref = otp.monitor(pid)
    GenServer.cast(pid, ("exit", otp.Shutdown("bye")))
    await assert_down(ref, otp.Shutdown("bye"))
    assert queued_messages() == [("started", pid), ("terminating", pid, otp.Shutdown("bye"))]


@pytest.mark.parametrize("reason", ["die", otp.SHUTDOWN, otp.KILL])
async def test_terminate_is_not_called_when_an_exit_signal_kills_a_non_trapping_server(reason):
    me = otp.current_pid()
    pid = await Worker.start({"notify": me})
    with capture_crash_reports():
        ended = await kill_and_wait(pid, reason)
    assert ended == (otp.KILLED if reason is otp.KILL else reason)
    assert queued_messages() == [("started", pid)]


async def test_terminate_is_not_called_when_a_trapping_server_is_killed():
    me = otp.current_pid()
    pid = await Worker.start({"notify": me, "trap_exits": True})
    with capture_crash_reports():
        assert await kill_and_wait(pid, otp.KILL) == otp.KILLED
    assert queued_messages() == [("started", pid)]


async def test_a_trapping_server_terminates_and_follows_its_parent_that_exits():
    me = otp.current_pid()

    async def parent():
        pid = await Worker.start_link({"notify": me, "trap_exits": True})
        otp.send(me, ("child", pid))
        await otp.receive()
        raise otp.Exit("parent gone")

    parent_pid = otp.spawn(parent)
    _, pid = await assert_receive(lambda m: m[0] == "child")
    assert queued_messages() == [("started", pid)]
    ref = otp.monitor(pid)
    with capture_crash_reports():
        otp.send(parent_pid, "go")
        await assert_down(ref, "parent gone")
    assert queued_messages() == [("started", pid), ("terminating", pid, "parent gone")]


async def test_a_trapping_server_terminates_on_a_shutdown_signal_from_its_parent():
    me = otp.current_pid()
    otp.trap_exits(True)
    pid = await Worker.start_link({"notify": me, "trap_exits": True})
    otp.exit(pid, otp.SHUTDOWN)  # what a supervisor does
    assert await assert_receive(otp.ExitSignal) == otp.ExitSignal(pid, otp.SHUTDOWN)
    assert queued_messages() == [("started", pid), ("terminating", pid, otp.SHUTDOWN)]


async def test_a_trapping_server_hands_exit_signals_from_other_processes_to_handle_info():
    me = otp.current_pid()
    pid = await Worker.start_link({"notify": me, "trap_exits": True})

    async def neighbour():
        otp.link(pid)
        raise otp.Exit("neighbour gone")

    other = otp.spawn(neighbour)
    with capture_crash_reports():
        assert await assert_receive(lambda m: m[0] == "info") == ("info", pid, otp.ExitSignal(other, "neighbour gone"))
        # A non-parent's exit signal sent with otp.exit is also just a message.
        otp.spawn(otp.exit, pid, otp.SHUTDOWN)
        message = await assert_receive(lambda m: m[0] == "info")
    assert message[2].reason is otp.SHUTDOWN
    assert await GenServer.call(pid, "ping") == "pong"
    assert queued_messages() == [("started", pid)]


async def test_an_unlinked_server_has_no_parent_so_exit_signals_from_its_starter_are_messages():
    me = otp.current_pid()
    pid = await Worker.start({"notify": me, "trap_exits": True})
    otp.exit(pid, otp.SHUTDOWN)
    assert await assert_receive(lambda m: m[0] == "info") == ("info", pid, otp.ExitSignal(me, otp.SHUTDOWN))
    assert await GenServer.call(pid, "ping") == "pong"


async def test_a_hanging_terminate_is_ended_only_by_kill():
    me = otp.current_pid()
    otp.trap_exits(True)
    pid = await Worker.start_link({"notify": me, "hang_on_shutdown": True})
    otp.exit(pid, otp.SHUTDOWN)
    assert await assert_receive(lambda m: m[0] == "terminating") == ("terminating", pid, otp.SHUTDOWN)
    otp.exit(pid, otp.SHUTDOWN)  # trapped; nobody reads it
    await wait_all_tasks_blocked()
    assert otp.is_alive(pid)
    with capture_crash_reports():
        assert await kill_and_wait(pid) == otp.KILLED
    assert await assert_receive(otp.ExitSignal) == otp.ExitSignal(pid, otp.KILLED)


async def test_terminate_runs_once_even_if_it_raises_exit():
    me = otp.current_pid()

    class ExitsInTerminate(GenServer):
        async def terminate(self, reason):
            otp.send(me, ("terminate", reason))
            raise otp.Exit(("from terminate", reason))

    pid = await ExitsInTerminate.start()
    ref = otp.monitor(pid)
    with capture_crash_reports():
        otp.send(pid, "unexpected")  # logged, ignored
        with pytest.raises(otp.ServerExited) as info:
            await GenServer.stop(pid, "x")
    assert info.value.reason == ("from terminate", "x")
    await assert_down(ref, ("from terminate", "x"))
    assert queued_messages() == [("terminate", "x")]


@pytest.mark.parametrize("trapping", [False, True])
async def test_when_the_parent_ends_normally_only_a_trapping_server_follows(trapping):
    me = otp.current_pid()

    async def parent():
        otp.send(me, await Worker.start_link({"notify": me, "trap_exits": trapping}))
        await otp.receive()  # then return: exit NORMAL

    parent_pid = otp.spawn(parent)
    pid = await assert_receive(otp.Pid)
    assert await assert_receive(tuple) == ("started", pid)
    ref = otp.monitor(pid)
    otp.send(parent_pid, "return")
    if trapping:
        await assert_down(ref, otp.NORMAL)
        assert queued_messages() == [("terminating", pid, otp.NORMAL)]
    else:
        assert await GenServer.call(pid, "ping") == "pong"
        assert queued_messages() == []


class ExitsItself(GenServer):
    async def init(self, notify):
        self.notify = notify

    async def handle_cast(self, reason):
        otp.exit(otp.current_pid(), reason)

    async def terminate(self, reason):
        otp.send(self.notify, ("terminating", reason))


@pytest.mark.parametrize("reason", [otp.KILL, "self-inflicted"])
async def test_a_server_sending_itself_an_exit_signal_is_killed_without_terminate(reason):
    me = otp.current_pid()
    pid = await ExitsItself.start(me)
    ref = otp.monitor(pid)
    with capture_crash_reports():
        GenServer.cast(pid, reason)
        await assert_down(ref, otp.KILLED if reason is otp.KILL else reason)
    # Not trapping, ended by an exit signal: no terminate (manual, and OTP).
    assert queued_messages() == []

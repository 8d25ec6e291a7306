"""otp.sys: get and replace a server's state, suspend and resume it, its status, tracing and its log.

System messages are served by every GenServer-based process between two of
its own messages, and never reach its callbacks; every request has a
timeout and fails as a call does.
"""

import logging
import warnings

import pytest
import trio

import otp
from otp import Agent, DynamicSupervisor, GenServer, Supervisor
from otp.lowlevel import queued_messages
from otp.sys import CallbackFailed, Event, Status
from otp.testing import assert_down, assert_receive, capture_crash_reports, refute_receive, wait_all_tasks_blocked


class Counter(GenServer):
    """Counts calls; tells ``test`` about casts, messages and terminate; ``("block", ...)`` waits for "go"."""

    vsn = 3

    async def init(self, test):
        self.test = test
        self.count = 0

    async def handle_call(self, request, caller):
        if request == "block":
            await otp.receive(lambda m: m == "go")
        self.count += 1
        return self.count

    async def handle_cast(self, request):
        otp.send(self.test, ("cast", request))

    async def handle_info(self, message):
        otp.send(self.test, ("info", message))

    async def terminate(self, reason):
        otp.send(self.test, ("terminate", reason))


async def start_counter(**options):
    return await Counter.start_link(otp.current_pid(), **options)


# ---------------------------------------------------------------- get_state, replace_state


async def test_get_state_is_the_server_instance():
    pid = await start_counter()
    await GenServer.call(pid, "incr")
    state = await otp.sys.get_state(pid)
    assert type(state) is Counter and state.count == 1


async def test_replace_state_runs_the_function_in_the_server_between_two_messages():
    pid = await start_counter()
    new = await otp.sys.replace_state(pid, lambda server: setattr(server, "count", 41))  # None: the same, changed
    assert type(new) is Counter and new.count == 41
    assert await GenServer.call(pid, "incr") == 42
    assert otp.current_pid() != pid  # (the function ran in the server, not here: see the next test)


async def test_replace_state_runs_in_the_server_process():
    pid = await start_counter()
    ran_in = []
    await otp.sys.replace_state(pid, lambda server: ran_in.append(otp.current_pid()))
    assert ran_in == [pid]


async def test_a_function_that_raises_changes_nothing_and_is_reported_to_the_caller():
    pid = await start_counter()
    await GenServer.call(pid, "incr")

    def half_done(server):
        server.count = 100
        server.added = "new"
        raise ValueError("no")

    with capture_crash_reports() as reports:
        with pytest.raises(CallbackFailed) as info:
            await otp.sys.replace_state(pid, half_done)
    assert (info.value.server, info.value.callback) == (pid, "replace_state")
    assert type(info.value.reason) is ValueError and str(info.value) == (
        f"replace_state failed in {pid!r}: ValueError('no'); the server's state is unchanged"
    )
    state = await otp.sys.get_state(pid)
    assert vars(state) == {"test": otp.current_pid(), "count": 1}
    assert await GenServer.call(pid, "incr") == 2  # it runs on
    assert reports == []  # the server did not crash: nothing to report


@pytest.mark.parametrize(
    ("fun", "message"),
    [
        (lambda server: 42, "replace_state's function returned 42; expected None or the server it changed "
                            "(the state lives on the instance: change its attributes)"),
        (lambda server: Counter(), "replace_state's function returned <Counter GenServer>; expected None or the "
                                   "server it changed (the state lives on the instance: change its attributes)"),
        (lambda server: trio.sleep(0), "replace_state takes a plain function (def, lambda), not an async one"),
    ],
    ids=["a-value", "another-server", "async"],
)
async def test_replace_state_refuses_what_is_not_the_server_changed_in_place(fun, message):
    pid = await start_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an un-awaited coroutine would warn
        with pytest.raises(CallbackFailed) as info:
            await otp.sys.replace_state(pid, fun)
    assert type(info.value.reason) is TypeError and str(info.value.reason) == message
    assert vars(await otp.sys.get_state(pid)) == {"test": otp.current_pid(), "count": 0}


async def test_replace_state_takes_a_function():
    pid = await start_counter()
    with pytest.raises(TypeError) as info:
        await otp.sys.replace_state(pid, {"count": 3})
    assert str(info.value) == "replace_state takes a function of the state; got {'count': 3}"


# ---------------------------------------------------------------- suspend, resume


async def test_a_suspended_server_keeps_its_messages_in_order_until_resumed():
    pid = await start_counter()
    await otp.sys.suspend(pid)
    GenServer.cast(pid, "first")
    otp.send(pid, "second")
    GenServer.cast(pid, "third")
    await refute_receive(tuple)
    status = await otp.sys.get_status(pid)
    assert (status.status, status.message_queue_len) == ("suspended", 3)
    await otp.sys.resume(pid)
    assert [await assert_receive(tuple) for _ in range(3)] == [("cast", "first"), ("info", "second"), ("cast", "third")]
    assert (await otp.sys.get_status(pid)).status == "running"


async def test_a_call_to_a_suspended_server_times_out_as_usual_and_its_late_reply_is_dropped(autojump_clock):
    pid = await start_counter()
    await otp.sys.suspend(pid)
    with pytest.raises(otp.CallTimeout):
        await GenServer.call(pid, "incr", timeout=1.0)
    await otp.sys.resume(pid)
    assert await GenServer.call(pid, "incr") == 2  # the first call was handled on resume, its reply dropped
    assert queued_messages() == []


async def test_suspend_and_resume_twice_are_harmless():
    pid = await start_counter()
    await otp.sys.resume(pid)
    await otp.sys.suspend(pid)
    await otp.sys.suspend(pid)
    await otp.sys.resume(pid)
    assert await GenServer.call(pid, "incr") == 1


async def test_a_suspended_server_still_stops_when_asked():
    pid = await Counter.start(otp.current_pid())
    await otp.sys.suspend(pid)
    GenServer.cast(pid, "never handled")
    await GenServer.stop(pid, otp.Shutdown("maintenance"))
    assert await assert_receive(tuple) == ("terminate", otp.Shutdown("maintenance"))


async def test_a_suspended_server_trapping_exits_follows_its_parent():
    class Trapping(Counter):
        async def init(self, test):
            await super().init(test)
            otp.trap_exits(True)

    me = otp.current_pid()

    async def parent():
        otp.send(me, await Trapping.start_link(me))
        await otp.receive()  # until told to end

    parent_pid = otp.spawn(parent)
    pid = await assert_receive(otp.Pid)
    await otp.sys.suspend(pid)
    ref = otp.monitor(pid)
    otp.exit(parent_pid, "parent gone")
    assert await assert_receive(tuple) == ("terminate", "parent gone")
    await assert_down(ref, "parent gone")


# ---------------------------------------------------------------- get_status


async def test_get_status_says_who_it_is_and_what_it_holds():
    pid = await start_counter(name="counted")
    await GenServer.call(pid, "incr")
    status = await otp.sys.get_status("counted")
    caller = status.last_message.caller
    assert status == Status(
        pid=pid,
        name="counted",
        module=f"{__name__}.Counter",
        vsn=3,
        status="running",
        state={"test": otp.current_pid(), "count": 1},
        last_message=status.last_message,
        logged=(),
        log_size=None,
        tracing=False,
        message_queue_len=0,
    )
    assert (status.last_message.request, caller.pid) == ("incr", otp.current_pid())


async def test_get_status_shows_format_status_and_survives_a_broken_one():
    class Secret(GenServer):
        async def init(self, arg):
            self.password = "hunter2"

        def format_status(self):
            if getattr(self, "broken", False):
                raise RuntimeError("cannot")
            return {"password": "***"}

    pid = await Secret.start_link()
    assert (await otp.sys.get_status(pid)).state == {"password": "***"}
    await otp.sys.replace_state(pid, lambda server: setattr(server, "broken", True))
    assert (await otp.sys.get_status(pid)).state == "(format_status raised RuntimeError('cannot'))"


# ---------------------------------------------------------------- trace and log


async def test_trace_logs_every_message_in_and_reply_out_until_turned_off(caplog):
    pid = await start_counter()
    me = otp.current_pid()
    with caplog.at_level(logging.INFO, logger="otp.sys"):
        await otp.sys.trace(pid, True)
        assert (await otp.sys.get_status(pid)).tracing is True
        await GenServer.call(pid, "incr")
        GenServer.cast(pid, "hello")
        otp.send(pid, ("tuple", 1))
        await otp.sys.trace(pid, False)  # after the cast and the message: one mailbox, in order
        await GenServer.call(pid, "incr")
    lines = [record.getMessage() for record in caplog.records if record.name == "otp.sys"]
    assert lines == [
        f"{pid!r} (Counter) got call 'incr' from {me!r}",
        f"{pid!r} (Counter) replied 1 to {me!r}",
        f"{pid!r} (Counter) got cast 'hello'",
        f"{pid!r} (Counter) got ('tuple', 1)",
    ]
    assert {record.otp_pid for record in caplog.records if record.name == "otp.sys"} == {str(pid)}


async def test_log_keeps_the_last_events_and_hands_them_over():
    class Continues(Counter):
        async def handle_cast(self, request):
            return otp.Continue(request)

        async def handle_continue(self, arg):
            return None

    pid = await Continues.start_link(otp.current_pid())
    me = otp.current_pid()
    assert await otp.sys.log(pid, "get") == []  # off
    await otp.sys.log(pid, True)
    await GenServer.call(pid, "incr")
    GenServer.cast(pid, "later")
    events = await otp.sys.log(pid, "get")
    assert events == [
        Event("call", "incr", me),
        Event("reply", 1, me),
        Event("cast", "later"),
        Event("continue", "later"),
    ]
    assert [str(e) for e in events] == [
        f"got call 'incr' from {me!r}", f"replied 1 to {me!r}", "got cast 'later'", "continues with 'later'"
    ]
    status = await otp.sys.get_status(pid)
    assert (status.logged, status.log_size, status.tracing) == (tuple(events), 10, False)


async def test_log_keeps_only_the_last_n_and_false_forgets_them():
    pid = await start_counter()
    await otp.sys.log(pid, True)
    for _ in range(8):
        await GenServer.call(pid, "incr")
    events = await otp.sys.log(pid, "get")
    assert len(events) == 10 and events[-1].message == 8  # the default keeps 10
    await otp.sys.log(pid, 3)
    assert [e.message for e in await otp.sys.log(pid, "get")] == [7, "incr", 8]
    assert (await otp.sys.get_status(pid)).log_size == 3
    await otp.sys.log(pid, False)
    assert await otp.sys.log(pid, "get") == []
    assert (await otp.sys.get_status(pid)).log_size is None
    await GenServer.call(pid, "incr")
    assert await otp.sys.log(pid, "get") == []


@pytest.mark.parametrize(
    ("function", "flag", "message"),
    [
        (otp.sys.log, "yes", "log takes True, False, 'get' or a number of events >= 1; got 'yes'"),
        (otp.sys.log, 0, "log takes True, False, 'get' or a number of events >= 1; got 0"),
        (otp.sys.trace, 1, "trace takes True or False; got 1"),
    ],
)
async def test_debug_flags_are_checked_in_the_caller(function, flag, message):
    pid = await start_counter()
    with pytest.raises(TypeError) as info:
        await function(pid, flag)
    assert str(info.value) == message


# ---------------------------------------------------------------- timeouts and who answers


async def test_a_busy_server_makes_a_sys_request_time_out(autojump_clock):
    pid = await start_counter()
    otp.spawn(GenServer.call, pid, "block")  # the server now waits for "go" inside handle_call
    await wait_all_tasks_blocked()
    started = trio.current_time()
    with pytest.raises(otp.CallTimeout) as info:
        await otp.sys.get_state(pid, timeout=2.0)
    assert trio.current_time() - started == pytest.approx(2.0)
    assert info.value.timeout == 2.0
    otp.send(pid, "go")
    assert await GenServer.call(pid, "incr") == 2


async def test_a_dead_server_is_noproc():
    pid = await start_counter()
    await GenServer.stop(pid)
    with pytest.raises(otp.NoProc):
        await otp.sys.get_status(pid)
    with pytest.raises(otp.NoProc):
        await otp.sys.suspend("nobody by that name")


async def test_a_process_that_is_no_genserver_is_refused_at_once_and_left_alone():
    async def plain():
        await otp.receive(lambda m: m == "end")

    pid = otp.spawn(plain)
    task = otp.Task.spawn(otp.receive)
    await wait_all_tasks_blocked()  # both are running and waiting
    for target, kind in [(pid, "plain"), (task.pid, "task")]:
        with pytest.raises(TypeError) as info:
            await otp.sys.get_state(target)
        assert str(info.value) == (
            f"{target!r} is a {kind} process, not a GenServer: otp.sys talks to GenServer-based processes only "
            f"(GenServer, Supervisor, DynamicSupervisor, Agent, ...)"
        )
        assert otp.process_info(target).message_queue_len == 0


async def test_a_server_cannot_ask_itself():
    class AsksItself(GenServer):
        async def handle_call(self, request, caller):
            try:
                await otp.sys.get_state(otp.current_pid())
            except otp.CallingSelf as error:
                return type(error).__name__

    pid = await AsksItself.start_link()
    assert await GenServer.call(pid, "go") == "CallingSelf"


async def test_change_code_needs_a_suspended_server_and_a_genserver_class():
    pid = await start_counter()
    with pytest.raises(RuntimeError) as info:
        await otp.sys.change_code(pid, Counter)
    assert str(info.value) == f"{pid!r} is running: suspend it (otp.sys.suspend) before change_code"
    with pytest.raises(TypeError) as info:
        await otp.sys.change_code(pid, dict)
    assert str(info.value) == "change_code takes a GenServer class; got <class 'dict'>"
    assert type(await otp.sys.get_state(pid)) is Counter


# ---------------------------------------------------------------- every GenServer-based behaviour


class Worker(GenServer):
    async def init(self, arg):
        pass


async def test_supervisors_and_agents_answer_system_messages():
    sup = await Supervisor.start_link([Worker.child_spec(None, id="w")], name="sys_sup")
    state = await otp.sys.get_state(sup)
    assert [child.spec.id for child in state.children] == ["w"]
    assert (await otp.sys.get_status("sys_sup")).state == {"strategy": otp.Strategy.ONE_FOR_ONE,
                                                           "children": [("w", state.children[0].pid)]}
    dynamic = await DynamicSupervisor.start_link()
    assert (await otp.sys.get_status(dynamic)).state == {"children": 0, "max_children": float("inf")}
    agent = await Agent.start_link(lambda: {"visits": 3})
    assert (await otp.sys.get_state(agent)).value == {"visits": 3}


async def test_a_suspended_supervisor_restarts_a_crashed_child_once_resumed():
    sup = await Supervisor.start_link([Worker.child_spec(None, id="w")])
    [child] = await Supervisor.which_children(sup)
    await otp.sys.suspend(sup)
    with capture_crash_reports() as reports:
        otp.exit(child.pid, "boom")
        await wait_all_tasks_blocked()
        assert (await otp.sys.get_status(sup)).message_queue_len == 1  # the child's exit signal, waiting
        await otp.sys.resume(sup)
        [restarted] = await Supervisor.which_children(sup)
    assert restarted.pid != child.pid and otp.is_alive(restarted.pid)
    assert [r.otp_event for r in reports] == ["child_terminated"]

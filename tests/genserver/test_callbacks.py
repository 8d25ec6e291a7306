"""Callback results (Continue, Stop, wrong returns), crash reports, child_spec and the manual's example."""

import functools
import textwrap

import pytest
import trio

import otp
from otp import Continue, GenServer, Ignore, NoReply, Stop
from otp.lowlevel import queued_messages
from otp.testing import assert_down, assert_receive, capture_crash_reports

from _workers import Worker


def eq(value):
    return lambda m: m == value


# ---------------------------------------------------------------- Continue


class Continuer(GenServer):
    """Logs every callback; each one queues a message to itself before returning Continue."""

    async def init(self, arg):
        self.log = ["init"]
        otp.send(otp.current_pid(), "queued by init")
        return Continue("from init") if arg is None else arg

    async def handle_continue(self, arg):
        self.log.append(("continue", arg))
        if arg == "chain":
            return Continue("chained")
        if arg == "stop":
            return Stop("continued to stop")
        if arg == "block":
            await otp.receive(eq("release"))
        if arg == "bad":
            return 5
        return None

    async def handle_call(self, request, caller):
        if request == "log":
            return list(self.log)
        otp.send(otp.current_pid(), "queued by handle_call")
        return Continue(request, reply="replied")

    async def handle_cast(self, request):
        otp.send(otp.current_pid(), "queued by handle_cast")
        return Continue(request)

    async def handle_info(self, message):
        self.log.append(("info", message))
        if message == "continue please":
            return Continue("from info")
        return None


async def log_of(pid):
    """The server's log, once it has handled what it had queued for itself so far."""
    await GenServer.call(pid, "log")  # whatever it queued for itself is now ahead of the next call
    return await GenServer.call(pid, "log")


async def test_continue_from_init_runs_before_the_first_message():
    pid = await Continuer.start_link()
    assert await GenServer.call(pid, "log") == ["init", ("continue", "from init"), ("info", "queued by init")]


async def test_start_link_returns_before_handle_continue_from_init_finishes():
    pid = await Continuer.start_link(Continue("block"))
    assert otp.process_info(pid).status == "waiting"
    otp.send(pid, "release")
    assert await GenServer.call(pid, "log") == ["init", ("continue", "block"), ("info", "queued by init")]


async def test_continue_from_handle_call_replies_then_continues_before_the_next_message():
    pid = await Continuer.start_link()
    assert await GenServer.call(pid, "from call") == "replied"
    assert (await log_of(pid))[3:] == [("continue", "from call"), ("info", "queued by handle_call")]


async def test_the_reply_of_continue_is_sent_before_handle_continue_runs():
    pid = await Continuer.start_link()
    assert await GenServer.call(pid, "block") == "replied"  # handle_continue still waits for "release"
    otp.send(pid, "release")
    assert (await log_of(pid))[3:] == [("continue", "block"), ("info", "queued by handle_call")]


async def test_continue_from_handle_cast_and_handle_info():
    pid = await Continuer.start_link()
    GenServer.cast(pid, "from cast")
    otp.send(pid, "continue please")
    assert (await log_of(pid))[3:] == [
        ("continue", "from cast"),
        ("info", "continue please"),  # we sent it before the cast was handled
        ("continue", "from info"),
        ("info", "queued by handle_cast"),
    ]


async def test_a_chain_of_continues_runs_before_the_next_message():
    pid = await Continuer.start_link()
    GenServer.cast(pid, "chain")
    assert (await log_of(pid))[3:] == [
        ("continue", "chain"),
        ("continue", "chained"),
        ("info", "queued by handle_cast"),
    ]


async def test_handle_continue_returning_stop_stops_the_server():
    pid = await Continuer.start()
    ref = otp.monitor(pid)
    with capture_crash_reports():
        GenServer.cast(pid, "stop")
        await assert_down(ref, "continued to stop")


async def test_handle_continue_returning_a_wrong_value_crashes_with_a_type_error():
    pid = await Continuer.start()
    ref = otp.monitor(pid)
    with capture_crash_reports():
        GenServer.cast(pid, "bad")
        down = await assert_down(ref, TypeError)
    assert str(down.reason).startswith("Continuer.handle_continue returned 5; expected None, NoReply(),")


class NoHandleContinue(GenServer):
    async def init(self, arg):
        return Continue("next")


async def test_continue_without_handle_continue_crashes_naming_it():
    otp.trap_exits(True)
    with capture_crash_reports():
        pid = await NoHandleContinue.start_link()
        signal = await assert_receive(otp.ExitSignal)
    assert signal.pid == pid and type(signal.reason) is NotImplementedError
    assert str(signal.reason) == "NoHandleContinue returned Continue('next') but does not define handle_continue"


# ---------------------------------------------------------------- Stop from callbacks


class StopsOnCall(GenServer):
    """handle_call returns Stop; terminate reaches a checkpoint before telling ``notify``."""

    async def init(self, notify):
        self.notify = notify

    async def handle_call(self, request, caller):
        reason, reply = request
        return Stop(reason) if reply is None else Stop(reason, reply=reply)

    async def terminate(self, reason):
        await trio.lowlevel.checkpoint()
        otp.send(self.notify, ("terminating", reason))


async def test_stop_with_a_reply_runs_terminate_before_replying_then_exits_with_the_reason():
    me = otp.current_pid()
    pid = await StopsOnCall.start(me)
    ref = otp.monitor(pid)
    with capture_crash_reports() as reports:
        assert await GenServer.call(pid, ("done", "goodbye")) == "goodbye"
        # terminate's message was queued before the reply arrived.
        assert queued_messages()[0] == ("terminating", "done")
        await assert_down(ref, "done")
    assert [r.otp_reason for r in reports] == ["done"]


async def test_stop_normal_with_a_reply_from_a_linked_server_leaves_the_caller_alone():
    me = otp.current_pid()
    pid = await StopsOnCall.start_link(me)
    assert await GenServer.call(pid, (otp.NORMAL, None.__class__)) is type(None)
    assert await assert_receive(tuple) == ("terminating", otp.NORMAL)
    assert otp.process_info(me).links == ()


async def test_stop_without_a_reply_is_server_exited_for_the_caller():
    me = otp.current_pid()
    pid = await StopsOnCall.start(me)
    with pytest.raises(otp.ServerExited) as info:
        await GenServer.call(pid, (otp.Shutdown("no reply"), None))
    assert info.value.reason == otp.Shutdown("no reply")
    assert queued_messages() == [("terminating", otp.Shutdown("no reply"))]


# ---------------------------------------------------------------- wrong returns


class WrongReturns(GenServer):
    async def handle_cast(self, request):
        return request

    async def handle_info(self, message):
        return message


NOREPLY_SHAPES = "expected None, NoReply(), Continue(arg) or Stop(reason)"


@pytest.mark.parametrize(
    ("how", "value", "message"),
    [
        ("cast", 5, f"WrongReturns.handle_cast returned 5; {NOREPLY_SHAPES} "
                    "(keep state on self; only handle_call returns a reply)"),
        ("cast", Ignore(), f"WrongReturns.handle_cast returned Ignore(); {NOREPLY_SHAPES} "
                           "(keep state on self; only handle_call returns a reply)"),
        ("info", Stop("r", reply=1), f"WrongReturns.handle_info returned Stop('r', reply=1); {NOREPLY_SHAPES} "
                                     "(there is no caller to reply to)"),
        ("info", Continue("x", reply=2), f"WrongReturns.handle_info returned Continue('x', reply=2); "
                                         f"{NOREPLY_SHAPES} (there is no caller to reply to)"),
    ],
    ids=["cast-5", "cast-Ignore", "info-Stop-reply", "info-Continue-reply"],
)
async def test_a_wrong_return_crashes_the_server_with_a_type_error_naming_it(how, value, message):
    pid = await WrongReturns.start()
    ref = otp.monitor(pid)
    with capture_crash_reports() as reports:
        if how == "cast":
            GenServer.cast(pid, value)
        else:
            otp.send(pid, value)
        down = await assert_down(ref, TypeError)
    assert str(down.reason) == message
    assert len(reports) == 1


@pytest.mark.parametrize("value", [None, NoReply()])
async def test_none_and_no_reply_are_fine_from_handle_cast_and_handle_info(value):
    pid = await WrongReturns.start_link()
    GenServer.cast(pid, value)
    otp.send(pid, value)
    await otp.testing.wait_all_tasks_blocked()
    assert otp.is_alive(pid)


@pytest.mark.parametrize("callback", ["init", "handle_call", "handle_cast", "handle_info", "handle_continue", "terminate"])
async def test_a_callback_that_is_not_async_is_a_type_error_at_class_definition(callback):
    with pytest.raises(TypeError) as info:
        type("SyncCallback", (GenServer,), {callback: lambda self, *args: None})
    assert str(info.value) == (
        f"SyncCallback.{callback} must be an async function (async def {callback}(...)); GenServer callbacks may await"
    )


# ---------------------------------------------------------------- crash reports


class Crashy(GenServer):
    async def init(self, arg):
        self.count = 3
        self.password = "hunter2"

    def format_status(self):
        return {"count": self.count}

    async def handle_call(self, request, caller):
        raise ValueError(request)

    async def handle_cast(self, request):
        raise ValueError(request)


async def test_a_crash_report_shows_the_behaviour_the_last_message_and_the_state():
    pid = await Crashy.start()
    ref = otp.monitor(pid)
    with capture_crash_reports() as reports:
        GenServer.cast(pid, "boom")
        await assert_down(ref, ValueError)
    assert len(reports) == 1
    lines = reports[0].getMessage().splitlines()
    assert lines[0] == f"Process {pid!r} crashed: ValueError('boom')"
    assert lines[2:] == [
        f"  behaviour: GenServer {__name__}.Crashy",
        "  last message: Cast('boom')",
        "  state: {'count': 3}",
    ]
    assert reports[0].exc_info[1] is reports[0].otp_reason  # the traceback goes with the record, not its text
    assert "hunter2" not in reports[0].getMessage()
    assert (reports[0].name, reports[0].otp_pid) == ("otp.genserver", str(pid))


async def test_a_crash_report_of_a_call_shows_the_call_and_the_default_state():
    pid = await Worker.start({})
    with capture_crash_reports() as reports:
        with pytest.raises(otp.ServerExited):
            await GenServer.call(pid, ("crash", KeyError("k")))
    text = reports[0].getMessage()
    assert "  behaviour: GenServer _workers.Worker\n" in text
    assert f"  last message: Call(('crash', KeyError('k')), From({otp.current_pid()!r}, #Ref<" in text
    assert text.endswith("\n  state: {'config': {}, 'notify': None}")


class BrokenStatus(GenServer):
    def format_status(self):
        raise RuntimeError("cannot format")

    async def handle_cast(self, request):
        raise ValueError(request)


async def test_a_broken_format_status_does_not_hide_the_crash():
    pid = await BrokenStatus.start()
    ref = otp.monitor(pid)
    with capture_crash_reports() as reports:
        GenServer.cast(pid, "boom")
        await assert_down(ref, ValueError)
    text = reports[0].getMessage()
    assert text.startswith(f"Process {pid!r} crashed: ValueError('boom')\n")
    assert "  (report details unavailable: RuntimeError('cannot format'))" in text


@pytest.mark.parametrize("reason", [otp.NORMAL, otp.SHUTDOWN, otp.Shutdown("x")])
async def test_nothing_is_logged_for_normal_stops(reason):
    me = otp.current_pid()
    with capture_crash_reports() as reports:
        by_cast = await Worker.start({})
        ref = otp.monitor(by_cast)
        GenServer.cast(by_cast, ("stop", reason))
        await assert_down(ref, reason)
        by_call = await Worker.start({})
        assert await GenServer.call(by_call, ("stop", reason)) == "ok"
        by_stop = await Worker.start({"notify": me})
        await GenServer.stop(by_stop, reason)
    assert reports == []


# ---------------------------------------------------------------- child_spec


async def test_child_spec_defaults():
    spec = Worker.child_spec({"init": "ok"})
    assert spec == otp.ChildSpec(
        id=Worker,
        start=(Worker.start_link, {"init": "ok"}),
        restart=otp.Restart.PERMANENT,
        shutdown=5.0,
        type=otp.ChildType.WORKER,
    )
    assert Worker.child_spec().start == (Worker.start_link, None)


async def test_child_spec_overrides():
    spec = Worker.child_spec(
        {}, id="w1", restart=otp.Restart.TEMPORARY, shutdown=otp.BRUTAL_KILL, type=otp.ChildType.SUPERVISOR
    )
    assert (spec.id, spec.restart, spec.shutdown, spec.type) == (
        "w1",
        otp.Restart.TEMPORARY,
        otp.BRUTAL_KILL,
        otp.ChildType.SUPERVISOR,
    )


class Transient(GenServer, restart=otp.Restart.TRANSIENT, shutdown=10.0):
    pass


class TransientChild(Transient, id="child"):
    pass


async def test_class_keywords_set_child_spec_defaults_inherited_and_overridable():
    spec = Transient.child_spec(1)
    assert (spec.id, spec.restart, spec.shutdown) == (Transient, otp.Restart.TRANSIENT, 10.0)
    child = TransientChild.child_spec(2)
    assert (child.id, child.restart, child.shutdown) == ("child", otp.Restart.TRANSIENT, 10.0)
    assert TransientChild.child_spec(3, restart=otp.Restart.PERMANENT).restart is otp.Restart.PERMANENT
    # The parent's defaults are untouched by the subclass's.
    assert Transient.child_spec().id is Transient
    assert GenServer.child_spec().restart is otp.Restart.PERMANENT


class Named(GenServer, name="from class"):
    pass


async def test_child_spec_forwards_name_to_start_link():
    spec = Worker.child_spec({}, name="spec-named", id="n")
    function, arg = spec.start
    assert isinstance(function, functools.partial) and function.keywords == {"name": "spec-named"}
    pid = await function(arg)
    assert otp.whereis("spec-named") == pid
    assert otp.process_info(pid).links == (otp.current_pid(),)
    start, arg = Named.child_spec().start
    pid = await start(arg)
    assert otp.whereis("from class") == pid


# ---------------------------------------------------------------- the manual's example


def manual_example():
    doc = otp.genserver.__doc__
    block = doc.split("A counter. State lives on ``self``; every callback is ``async``::\n", 1)[1]
    block = block.split("\nClient API\n", 1)[0]
    return textwrap.dedent(block)


def test_the_manual_example_runs_and_counts_to_15():
    source = manual_example()
    assert source.rstrip().endswith("otp.run(main)")
    namespace = {"__name__": "genserver_manual_example"}
    exec(compile(source, "otp.genserver docstring", "exec"), namespace)
    assert otp.run(namespace["main"]) == 15

    async def stop_it():
        pid = await namespace["Counter"].start_link(0)
        ref = otp.monitor(pid)
        assert await GenServer.call(pid, "stop") == "bye"
        return (await otp.receive(otp.Down)).reason

    assert otp.run(stop_it) is otp.NORMAL


async def test_handle_call_returning_ignore_is_a_type_error_naming_handle_call():
    class Confused(otp.GenServer):
        async def handle_call(self, request, caller):
            return otp.Ignore()

    pid = await Confused.start()
    with capture_crash_reports():
        with pytest.raises(otp.ServerExited) as info:
            await otp.GenServer.call(pid, "x")
    error = info.value.reason
    assert isinstance(error, TypeError)
    assert str(error).endswith(
        "Confused.handle_call returned Ignore(); expected a reply value, NoReply(), Continue(arg, reply=r) "
        "or Stop(reason, reply=r) (Ignore() only makes sense in init; to reply None, return None)"
    )

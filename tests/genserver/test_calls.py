"""GenServer.call, GenServer.cast and GenServer.reply, and what a server does with stray messages."""

import logging
from contextlib import contextmanager

import pytest
import trio

import otp
from _via import DictVia
from otp import GenServer, NoReply
from otp.lowlevel import queued_messages
from otp.testing import assert_down, assert_receive, capture_crash_reports, kill_and_wait

from _workers import Worker


def eq(value):
    return lambda m: m == value


class Boom(Exception):
    pass


@contextmanager
def capture_warnings():
    """Collect the WARNING records of logger ``otp`` logged inside the block."""
    records = []

    class Collector(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("otp")
    handler = Collector(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


class Echo(GenServer):
    """Replies with what handle_call returns for a few requests; defers others."""

    async def init(self, notify):
        self.notify = notify
        self.waiting = []

    async def handle_call(self, request, caller):
        kind, value = request
        if kind == "echo":
            return value
        if kind == "later":  # answered by a later ("answer", v) cast
            self.waiting.append(caller)
            return NoReply()
        if kind == "elsewhere":  # answered by another process
            otp.spawn(GenServer.reply, caller, value)
            return NoReply()
        if kind == "after":  # answered from handle_info, `value` seconds from now
            self.waiting.append(caller)
            otp.send_after(otp.current_pid(), ("answer", "late"), value)
            return NoReply()
        if kind == "self":  # call ourselves, by `value`
            try:
                await GenServer.call(value, ("echo", 1))
            except otp.CallingSelf as e:
                return (type(e).__name__, e.server, e.request, e.reason)
        if kind == "hang":
            otp.spawn(otp.exit, otp.current_pid(), otp.KILL)
            await trio.sleep_forever()

    async def handle_cast(self, request):
        await self._answer(request)

    async def handle_info(self, message):
        await self._answer(message)

    async def _answer(self, message):
        kind, value = message
        for caller in self.waiting:
            GenServer.reply(caller, value)
        self.waiting = []
        otp.send(self.notify, ("replied", value))

    async def terminate(self, reason):
        otp.send(self.notify, ("terminating", reason))


# ---------------------------------------------------------------- replies


async def test_call_returns_the_reply():
    pid = await Echo.start_link(otp.current_pid())
    assert await GenServer.call(pid, ("echo", {"a": 1})) == {"a": 1}
    assert await otp.call(pid, ("echo", 2)) == 2
    # The call's monitor is gone and nothing is left in the mailbox.
    assert otp.process_info(otp.current_pid()).monitors == ()
    assert queued_messages() == []


async def test_none_is_a_valid_reply():
    pid = await Echo.start_link(otp.current_pid())
    assert await GenServer.call(pid, ("echo", None)) is None
    assert otp.is_alive(pid)


async def test_no_reply_then_reply_later_from_the_server():
    me = otp.current_pid()
    pid = await Echo.start_link(me)
    # Runs once our call is queued at the server (our call's first checkpoint).
    otp.spawn(GenServer.cast, pid, ("answer", "deferred"))
    assert await GenServer.call(pid, ("later", None)) == "deferred"
    assert queued_messages() == [("replied", "deferred")]


async def test_no_reply_then_reply_from_another_process():
    pid = await Echo.start_link(otp.current_pid())
    assert await GenServer.call(pid, ("elsewhere", "from a helper")) == "from a helper"


async def test_reply_needs_the_caller_handle_call_received():
    with pytest.raises(TypeError, match=r"reply\(\) needs the caller handle_call received \(a From\); got 42"):
        GenServer.reply(42, "x")


async def test_reply_to_a_caller_that_died_is_dropped():
    me = otp.current_pid()
    pid = await Echo.start_link(me)

    async def caller():
        await GenServer.call(pid, ("later", None))

    caller_pid = otp.spawn(caller)
    await otp.testing.wait_all_tasks_blocked()
    await kill_and_wait(caller_pid, "gone")
    GenServer.cast(pid, ("answer", "nobody listens"))
    assert await assert_receive(tuple) == ("replied", "nobody listens")
    assert await GenServer.call(pid, ("echo", "still fine")) == "still fine"


# ---------------------------------------------------------------- failed calls


async def test_call_to_a_dead_pid_is_no_proc():
    pid = await Worker.start({})
    await kill_and_wait(pid, otp.SHUTDOWN)
    with pytest.raises(otp.NoProc) as info:
        await GenServer.call(pid, "ping")
    error = info.value
    assert (error.server, error.request, error.timeout, error.reason) == (pid, "ping", 5.0, otp.NOPROC)
    assert str(error) == f"call to {pid!r} with 'ping': no such process (it is not running)"
    assert queued_messages() == []
    assert otp.process_info(otp.current_pid()).monitors == ()


async def test_call_to_an_unknown_name_is_no_proc():
    with pytest.raises(otp.NoProc) as info:
        await GenServer.call("nobody", ("echo", 1), timeout=2.0)
    assert (info.value.server, info.value.request, info.value.timeout, info.value.reason) == (
        "nobody",
        ("echo", 1),
        2.0,
        otp.NOPROC,
    )
    assert isinstance(info.value, otp.CallError)


async def test_a_process_calling_its_own_pid_gets_calling_self():
    me = otp.current_pid()
    with pytest.raises(otp.CallingSelf) as info:
        await GenServer.call(me, "anything")
    assert (info.value.server, info.value.request, info.value.reason) == (me, "anything", "calling_self")
    assert "it would deadlock" in str(info.value)
    assert queued_messages() == []


async def test_a_server_calling_itself_from_handle_call_gets_calling_self():
    pid = await Echo.start_link(otp.current_pid(), name="echo")
    assert await GenServer.call(pid, ("self", pid)) == ("CallingSelf", pid, ("echo", 1), "calling_self")
    assert await GenServer.call(pid, ("self", "echo")) == ("CallingSelf", "echo", ("echo", 1), "calling_self")
    assert otp.is_alive(pid)


async def test_a_server_crashing_during_the_call_is_server_exited_with_the_exception():
    me = otp.current_pid()
    pid = await Worker.start({"notify": me})
    ref = otp.monitor(pid)
    boom = Boom("in handle_call")
    with capture_crash_reports() as reports:
        with pytest.raises(otp.ServerExited) as info:
            await GenServer.call(pid, ("crash", boom))
    assert info.value.reason is boom
    assert (info.value.server, info.value.request) == (pid, ("crash", boom))
    await assert_down(ref, Boom)
    assert len(reports) == 1
    assert queued_messages() == [("started", pid), ("terminating", pid, boom)]
    assert otp.process_info(me).monitors == ()


async def test_a_server_exiting_during_the_call_is_server_exited_with_its_reason():
    pid = await Worker.start({})
    with pytest.raises(otp.ServerExited) as info:
        await GenServer.call(pid, ("exit", otp.Shutdown("bye")))
    assert info.value.reason == otp.Shutdown("bye")


async def test_a_server_killed_mid_call_is_server_exited_with_killed():
    me = otp.current_pid()
    pid = await Echo.start(me)
    with capture_crash_reports() as reports:
        with pytest.raises(otp.ServerExited) as info:
            await GenServer.call(pid, ("hang", None))
    assert info.value.reason is otp.KILLED
    assert not otp.is_alive(pid)
    # Killed: terminate did not run, and an exit signal is not a crash (no report).
    assert queued_messages() == []
    assert reports == []


async def test_call_timeout_then_the_late_reply_is_dropped(autojump_clock):
    me = otp.current_pid()
    pid = await Echo.start_link(me)
    with pytest.raises(otp.CallTimeout) as info:
        await GenServer.call(pid, ("later", None), timeout=1.5)
    error = info.value
    assert (error.server, error.request, error.timeout, error.reason) == (pid, ("later", None), 1.5, "timeout")
    assert isinstance(error, TimeoutError)
    assert trio.current_time() == pytest.approx(1.5)
    # Now the server replies: the reply must not reach our mailbox.
    GenServer.cast(pid, ("answer", "too late"))
    assert await assert_receive(tuple) == ("replied", "too late")
    assert await GenServer.call(pid, ("echo", "next")) == "next"
    assert queued_messages() == []
    assert otp.process_info(me).monitors == ()


@pytest.mark.parametrize("delay", [0.999, 1.0, 1.001])
async def test_a_reply_racing_the_timeout_is_never_left_behind(autojump_clock, delay):
    me = otp.current_pid()
    pid = await Echo.start_link(me)
    try:
        answer = await GenServer.call(pid, ("after", delay), timeout=1.0)
    except otp.CallTimeout:
        answer = "timed out"
    assert answer == ("late" if delay < 1.0 else "timed out")
    assert await assert_receive(tuple) == ("replied", "late")
    assert await GenServer.call(pid, ("echo", "next")) == "next"
    assert queued_messages() == []


async def test_a_call_cancelled_by_a_trio_deadline_leaves_nothing_behind(autojump_clock):
    me = otp.current_pid()
    pid = await Echo.start_link(me)
    with trio.move_on_after(1.0) as scope:
        await GenServer.call(pid, ("later", None), timeout=10.0)
    assert scope.cancelled_caught
    GenServer.cast(pid, ("answer", "too late"))
    assert await assert_receive(tuple) == ("replied", "too late")
    assert await GenServer.call(pid, ("echo", "next")) == "next"
    assert queued_messages() == []
    assert otp.process_info(me).monitors == ()




async def test_call_and_cast_by_registered_name_and_via_name():
    me = otp.current_pid()
    named = await Echo.start_link(me, name="echo")
    via = DictVia({}, ("echo", 2))
    by_via = await Echo.start_link(me, name=via)
    assert otp.whereis("echo") == named and via.whereis() == by_via
    assert await GenServer.call("echo", ("echo", "by name")) == "by name"
    assert await GenServer.call(via, ("echo", "by via")) == "by via"
    GenServer.cast("echo", ("answer", 1))
    GenServer.cast(via, ("answer", 2))
    assert {await assert_receive(tuple), await assert_receive(tuple)} == {("replied", 1), ("replied", 2)}
    with pytest.raises(otp.NoProc) as info:
        await GenServer.call(DictVia({}, "nobody"), "ping")
    assert info.value.reason is otp.NOPROC


class Batcher(GenServer):
    """Holds every call until it has ``n`` of them, then answers them newest first."""

    async def init(self, n):
        self.n = n
        self.callers = []

    async def handle_call(self, request, caller):
        self.callers.append((caller, request))
        if len(self.callers) == self.n:
            for caller, request in reversed(self.callers):
                GenServer.reply(caller, ("answer", request))
            self.callers = []
        return NoReply()


async def test_many_concurrent_callers_each_get_their_own_reply():
    me = otp.current_pid()
    server = await Batcher.start_link(20)

    async def caller(i):
        otp.send(me, (i, await GenServer.call(server, i)))

    for i in range(20):
        otp.spawn(caller, i)
    answers = sorted([await assert_receive(tuple) for _ in range(20)])
    assert answers == [(i, ("answer", i)) for i in range(20)]


# ---------------------------------------------------------------- casts


class Recorder(GenServer):
    async def init(self, arg):
        self.seen = []

    async def handle_call(self, request, caller):
        return self.seen

    async def handle_cast(self, request):
        self.seen.append(request)


async def test_cast_is_sync_and_never_fails():
    pid = await Worker.start({})
    assert GenServer.cast(pid, "ping") is None
    await kill_and_wait(pid, otp.SHUTDOWN)
    assert GenServer.cast(pid, "to the dead") is None
    assert otp.cast("nobody", "to no one") is None
    assert GenServer.cast(DictVia({}, "nobody"), "to no one") is None
    assert queued_messages() == []


async def test_casts_from_one_sender_arrive_in_order():
    me = otp.current_pid()
    pid = await Recorder.start_link()

    async def other_sender():
        for i in range(50):
            GenServer.cast(pid, ("other", i))
        otp.send(me, "sent")

    otp.spawn(other_sender)
    for i in range(50):
        GenServer.cast(pid, ("me", i))
    assert await assert_receive(eq("sent")) == "sent"
    seen = await GenServer.call(pid, "get")
    assert [m for m in seen if m[0] == "me"] == [("me", i) for i in range(50)]
    assert [m for m in seen if m[0] == "other"] == [("other", i) for i in range(50)]


class Peer(GenServer):
    """Bounces a counter off a peer with casts; calls the peer on request."""

    async def init(self, notify):
        self.notify = notify
        self.peer = None

    async def handle_call(self, request, caller):
        if request[0] == "peer":
            self.peer = request[1]
            return "ok"
        if request[0] == "call peer":  # the peer casts back to us while we wait
            return await GenServer.call(self.peer, ("cast back", request[1]))
        if request[0] == "cast back":
            GenServer.cast(self.peer, ("bounce", 0))
            return ("peer answered", request[1])

    async def handle_cast(self, request):
        _, n = request
        if n == 0:
            otp.send(self.notify, ("done", otp.current_pid()))
        else:
            GenServer.cast(self.peer, ("bounce", n - 1))


async def test_mutual_casts_do_not_deadlock():
    me = otp.current_pid()
    a = await Peer.start_link(me)
    b = await Peer.start_link(me)
    await GenServer.call(a, ("peer", b))
    await GenServer.call(b, ("peer", a))
    GenServer.cast(a, ("bounce", 101))  # ends at b
    GenServer.cast(b, ("bounce", 101))  # ends at a
    assert sorted([await assert_receive(tuple), await assert_receive(tuple)]) == sorted([("done", a), ("done", b)])
    # A calls B, and B casts to A while A waits for the reply.
    assert await GenServer.call(a, ("call peer", "x")) == ("peer answered", "x")
    assert await assert_receive(tuple) == ("done", a)


# ---------------------------------------------------------------- stray messages


class Plain(GenServer):
    """Only handles calls: every other message goes to the default handle_info."""

    async def handle_call(self, request, caller):
        return request


async def test_an_unexpected_message_is_logged_and_the_server_carries_on():
    pid = await Plain.start_link()
    watched = otp.spawn(otp.receive)
    stray_ref = otp.Ref.make()
    with capture_warnings() as records, capture_crash_reports() as reports:
        otp.send(pid, "stray")
        otp.send(pid, ("reply", stray_ref, "late value"))  # looks like a late reply
        otp.send(pid, otp.Down(stray_ref, watched, otp.NORMAL))  # a Down it did not ask for
        assert await GenServer.call(pid, "alive?") == "alive?"
    assert [(r.name, r.levelname) for r in records] == [("otp.genserver", "WARNING")] * 3
    prefix = f"GenServer {pid!r} (Plain) received an unexpected message in handle_info: "
    assert [r.getMessage() for r in records] == [
        prefix + "'stray'",
        prefix + repr(("reply", stray_ref, "late value")),
        prefix + repr(otp.Down(stray_ref, watched, otp.NORMAL)),
    ]
    assert reports == []
    assert otp.is_alive(pid)

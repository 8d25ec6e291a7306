"""DynamicSupervisor: children started on demand, one_for_one, kept by pid."""

import pytest
import trio

import otp
from otp import (
    KILL,
    KILLED,
    NORMAL,
    SHUTDOWN,
    ChildCounts,
    ChildInfo,
    ChildSpec,
    ChildType,
    DynamicSupervisor,
    ExitSignal,
    Restart,
    Shutdown,
    StartError,
    Supervisor,
    SupervisorError,
)
from otp.supervisor import GAVE_UP, RESTARTING
from otp.testing import assert_down, assert_receive, capture_crash_reports, flush_mailbox, wait_all_tasks_blocked

from ._workers import Worker, events, spec, stop_with

WORKER, SUPERVISOR = ChildType.WORKER, ChildType.SUPERVISOR
PERMANENT, TRANSIENT, TEMPORARY = Restart.PERMANENT, Restart.TRANSIENT, Restart.TEMPORARY


async def children_of(sup):
    """The children's pids, as which_children lists them: newest first."""
    return [row.pid for row in await DynamicSupervisor.which_children(sup)]


# ---------------------------------------------------------------- the API


async def test_start_which_count_terminate():
    me = otp.current_pid()
    sup = await DynamicSupervisor.start_link()
    assert await DynamicSupervisor.which_children(sup) == []
    a = await DynamicSupervisor.start_child(sup, spec("a", notify=me))
    s = await DynamicSupervisor.start_child(sup, Supervisor.child_spec([]))
    b = await DynamicSupervisor.start_child(sup, (Worker, {"tag": "b", "notify": me}))
    assert await DynamicSupervisor.which_children(sup) == [  # newest first
        ChildInfo(None, b, WORKER),
        ChildInfo(None, s, SUPERVISOR),
        ChildInfo(None, a, WORKER),
    ]
    assert await DynamicSupervisor.count_children(sup) == ChildCounts(specs=3, active=3, supervisors=1, workers=2)
    assert flush_mailbox() == [("started", "a", a), ("started", "b", b)]

    ref = otp.monitor(a)
    with capture_crash_reports() as records:
        assert await DynamicSupervisor.terminate_child(sup, a) is None
    await assert_down(ref, SHUTDOWN, timeout=0)
    assert await children_of(sup) == [b, s]
    assert await DynamicSupervisor.count_children(sup) == ChildCounts(specs=2, active=2, supervisors=1, workers=1)
    assert events(records) == []
    assert flush_mailbox() == []  # terminated, not restarted


@pytest.mark.parametrize("who", ["a stranger", "a terminated child", "the supervisor itself"])
async def test_terminate_child_of_a_non_child(who):
    sup = await DynamicSupervisor.start_link()
    child = await DynamicSupervisor.start_child(sup, spec("a"))
    if who == "a stranger":
        pid = otp.spawn(otp.receive)
    elif who == "a terminated child":
        pid = await DynamicSupervisor.start_child(sup, spec("b"))
        await DynamicSupervisor.terminate_child(sup, pid)
    else:
        pid = sup
    with pytest.raises(SupervisorError) as raised:
        await DynamicSupervisor.terminate_child(sup, pid)
    assert (raised.value.reason, raised.value.child) == ("not_found", pid)
    assert await children_of(sup) == [child]


async def test_max_children():
    sup = await DynamicSupervisor.start_link(max_children=2)
    a = await DynamicSupervisor.start_child(sup, spec("a"))
    assert await DynamicSupervisor.start_child(sup, spec("ignored", init="ignore")) is None  # not counted
    b = await DynamicSupervisor.start_child(sup, spec("b"))
    with pytest.raises(SupervisorError) as raised:
        await DynamicSupervisor.start_child(sup, spec("c"))
    assert raised.value.reason == "max_children"
    assert await children_of(sup) == [b, a]
    await DynamicSupervisor.terminate_child(sup, a)
    c = await DynamicSupervisor.start_child(sup, spec("c"))
    assert await children_of(sup) == [c, b]


async def start_tagged(*args):
    """A start function that records the arguments it was given (the last one is the config)."""
    *extra, config = args
    return await Worker.start_link({**config, "tag": tuple(args[:-1]) + (config["tag"],)})


@pytest.mark.parametrize("extra", [(), ("x",), ("x", 2)], ids=repr)
async def test_extra_arguments_are_prepended_and_kept_for_restarts(extra):
    me = otp.current_pid()
    sup = await DynamicSupervisor.start_link(extra_arguments=extra)
    pid = await DynamicSupervisor.start_child(sup, ChildSpec(id="t", start=(start_tagged, {"notify": me, "tag": "t"})))
    tag = (*extra, "t")
    assert flush_mailbox() == [("started", tag, pid)]
    ref = otp.monitor(pid)
    with capture_crash_reports():
        stop_with(pid, KILL)
        await assert_down(ref, KILLED)
        (new,) = await children_of(sup)
    assert new != pid
    assert [m for m in flush_mailbox() if m[0] == "started"] == [("started", tag, new)]  # same spec, same extras


class Pool(DynamicSupervisor):
    max_children = 1
    extra_arguments = ("pool",)


async def test_options_as_class_attributes():
    me = otp.current_pid()
    sup = await Pool.start_link(name="pool")
    assert otp.whereis("pool") == sup
    pid = await Pool.start_child("pool", ChildSpec(id="t", start=(start_tagged, {"notify": me, "tag": "t"})))
    assert flush_mailbox() == [("started", ("pool", "t"), pid)]
    with pytest.raises(SupervisorError, match="max_children"):
        await Pool.start_child("pool", ChildSpec(id="t", start=(start_tagged, {"tag": "u"})))
    # Keywords override the class.
    other = await Pool.start_link(max_children=2, extra_arguments=())
    await Pool.start_child(other, spec("a"))
    await Pool.start_child(other, spec("b"))


async def test_bad_options():
    with pytest.raises(TypeError, match="unknown options \\['strategy'\\]"):
        await DynamicSupervisor.start_link(strategy=otp.Strategy.ONE_FOR_ALL)
    with pytest.raises(TypeError, match="max_restarts"):
        await DynamicSupervisor.start_link(max_restarts=-1)


@pytest.mark.parametrize(
    "config, reason",
    [({"init": "crash"}, "error"), ({"init": "stop", "stop_reason": "no"}, "no")],
    ids=["init raises", "init returns Stop"],
)
async def test_start_child_that_fails(config, reason):
    error = ValueError("init")
    sup = await DynamicSupervisor.start_link(max_children=1)
    with capture_crash_reports() as records:
        with pytest.raises(StartError) as raised:
            await DynamicSupervisor.start_child(sup, spec("bad", error=error, **config))
    assert raised.value.reason == (error if reason == "error" else reason)
    assert await children_of(sup) == []
    assert events(records) == []
    await DynamicSupervisor.start_child(sup, spec("good"))  # the failure took no slot


async def test_a_bad_child_fails_the_caller_not_the_supervisor():
    sup = await DynamicSupervisor.start_link()
    with pytest.raises(TypeError, match="a child must be a ChildSpec"):
        await DynamicSupervisor.start_child(sup, "nope")
    assert otp.is_alive(sup)


async def test_as_a_child_of_a_supervisor():
    top = await Supervisor.start_link([DynamicSupervisor.child_spec({"max_children": 1}, id="pool")])
    (row,) = await Supervisor.which_children(top)
    assert (row.id, row.type) == ("pool", SUPERVISOR)
    await DynamicSupervisor.start_child(row.pid, spec("a"))
    with pytest.raises(SupervisorError, match="max_children"):
        await DynamicSupervisor.start_child(row.pid, spec("b"))


# ---------------------------------------------------------------- restarts

# fmt: off
# restart type, how the child ends  -> restarted?, report?
RESTARTS = [
    (PERMANENT,  NORMAL,            True,   True),   # OTP reports any end of a permanent child
    (PERMANENT,  Shutdown("x"),     True,   True),
    (PERMANENT,  "error",           True,   True),
    (PERMANENT,  KILL,              True,   True),
    (TRANSIENT,  NORMAL,            False,  False),
    (TRANSIENT,  SHUTDOWN,          False,  False),
    (TRANSIENT,  "error",           True,   True),
    (TRANSIENT,  KILL,              True,   True),
    (TEMPORARY,  NORMAL,            False,  False),
    (TEMPORARY,  "error",           False,  True),
    (TEMPORARY,  KILL,              False,  True),
]
# fmt: on


@pytest.mark.parametrize(
    "restart, reason, restarted, reported",
    [pytest.param(*row, id=f"{row[0].name}-{row[1]!r}") for row in RESTARTS],
)
async def test_a_child_ends(restart, reason, restarted, reported):
    me = otp.current_pid()
    sup = await DynamicSupervisor.start_link()
    first = await DynamicSupervisor.start_child(sup, spec("first"))
    pid = await DynamicSupervisor.start_child(sup, spec("w", notify=me, restart=restart))
    last = await DynamicSupervisor.start_child(sup, spec("last"))
    flush_mailbox()
    if reason == "error":
        reason = ValueError("boom")
    ends_with = KILLED if reason is KILL else reason
    ref = otp.monitor(pid)
    with capture_crash_reports() as records:
        stop_with(pid, reason)
        await assert_down(ref, ends_with)
        after = await children_of(sup)
    started = [m for m in flush_mailbox() if m[0] == "started"]
    if restarted:
        (new,) = [p for p in after if p not in (first, last)]
        assert new != pid and otp.is_alive(new)
        assert after == [new, last, first]  # newest first: the restarted child is the newest
        assert started == [("started", "w", new)]
    else:
        assert after == [last, first]
        assert started == []
    assert events(records) == ([("child_terminated", "w", ends_with)] if reported else [])
    assert await DynamicSupervisor.count_children(sup) == ChildCounts(len(after), len(after), 0, len(after))


@pytest.mark.parametrize("max_restarts", [0, 1, 3])
async def test_intensity(max_restarts):
    me = otp.current_pid()
    otp.trap_exits(True)
    sup = await DynamicSupervisor.start_link(max_restarts=max_restarts, max_seconds=5.0)
    bystander = await DynamicSupervisor.start_child(sup, spec("bystander", notify=me, trap_exits=True))
    pid = await DynamicSupervisor.start_child(sup, spec("w"))
    errors = [ValueError(n) for n in range(max_restarts + 1)]
    with capture_crash_reports() as records:
        for error in errors:
            ref = otp.monitor(pid)
            stop_with(pid, error)
            await assert_down(ref, error)
            if error is not errors[-1]:
                pid, bystander_ = await children_of(sup)  # newest first: the restarted one
                assert bystander_ == bystander
        assert await assert_receive(ExitSignal) == ExitSignal(sup, GAVE_UP)
    assert ("terminating", "bystander", bystander, SHUTDOWN) in flush_mailbox()
    assert not otp.is_alive(bystander)
    assert events(records) == [("child_terminated", "w", e) for e in errors] + [
        ("reached_max_restart_intensity", None, f"{max_restarts} restarts in 5.0 s")
    ]


async def test_a_restart_that_fails_is_retried_and_holds_its_slot():
    me = otp.current_pid()
    modes = ["ok", "crash"]
    sup = await DynamicSupervisor.start_link(max_children=1, max_restarts=1_000_000, max_seconds=1.0)
    pid = await DynamicSupervisor.start_child(sup, spec("w", notify=me, init=modes))
    flush_mailbox()
    ref = otp.monitor(pid)
    with capture_crash_reports() as records:
        stop_with(pid, ValueError("crash"))
        await assert_down(ref, ValueError)
        # While it is being retried, its slot is taken.
        with pytest.raises(SupervisorError, match="max_children"):
            await DynamicSupervisor.start_child(sup, spec("other"))
        modes[:] = ["ok"]
        started = await assert_receive(lambda m: m[0] == "started")
        assert await children_of(sup) == [started[2]]
    assert {e[0] for e in events(records)} == {"child_terminated", "start_error"}


async def test_a_child_waiting_for_a_retry_is_listed_as_restarting():
    modes = ["ok", "crash"]
    sup = await DynamicSupervisor.start_link(max_restarts=1_000_000, max_seconds=1.0)
    pid = await DynamicSupervisor.start_child(sup, spec("w", init=modes))
    ref = otp.monitor(pid)
    with capture_crash_reports():
        stop_with(pid, ValueError("crash"))
        await assert_down(ref, ValueError)
        rows = await DynamicSupervisor.which_children(sup)
        modes[:] = ["ok"]
    assert rows == [ChildInfo(None, RESTARTING, WORKER)]


# ---------------------------------------------------------------- shutdown


async def test_all_children_are_shut_down_at_once(autojump_clock):
    """N children that hang in terminate, shutdown=1.0 each: all killed after 1.0 s, not N s."""
    me = otp.current_pid()
    sup = await DynamicSupervisor.start_link()
    pids = [
        await DynamicSupervisor.start_child(sup, spec(n, notify=me, trap_exits=True, hang_on_shutdown=True, shutdown=1.0))
        for n in range(5)
    ]
    flush_mailbox()
    refs = [otp.monitor(pid) for pid in pids]
    with capture_crash_reports() as records:
        start = trio.current_time()
        await DynamicSupervisor.stop(sup)
        elapsed = trio.current_time() - start
    assert elapsed == pytest.approx(1.0, abs=1e-6)
    for ref in refs:
        await assert_down(ref, KILLED, timeout=0)
    messages = flush_mailbox()
    assert sorted(m[1] for m in messages if m[0] == "terminating") == list(range(5))
    assert events(records) == []


async def test_shutdown_deadlines_are_per_child(autojump_clock):
    """Mixed timeouts: each child gets its own deadline, counted from the same start."""
    me = otp.current_pid()
    sup = await DynamicSupervisor.start_link()
    hang = {"notify": me, "trap_exits": True, "hang_on_shutdown": True}
    fast = await DynamicSupervisor.start_child(sup, spec("fast", shutdown=0.5, **hang))
    slow = await DynamicSupervisor.start_child(sup, spec("slow", shutdown=3.0, **hang))
    brutal = await DynamicSupervisor.start_child(sup, spec("brutal", shutdown=otp.BRUTAL_KILL, **hang))
    clean = await DynamicSupervisor.start_child(sup, spec("clean", notify=me, trap_exits=True, terminate_delay=2.0))
    plain = await DynamicSupervisor.start_child(sup, spec("plain"))
    refs = {pid: otp.monitor(pid) for pid in (fast, slow, brutal, clean, plain)}
    start = trio.current_time()
    with capture_crash_reports() as records:
        await DynamicSupervisor.stop(sup)
    assert trio.current_time() - start == pytest.approx(3.0, abs=1e-6)
    for pid, reason in [(fast, KILLED), (slow, KILLED), (brutal, KILLED), (clean, SHUTDOWN), (plain, SHUTDOWN)]:
        await assert_down(refs[pid], reason, timeout=0)
    assert events(records) == []


async def test_a_static_supervisor_shuts_children_down_one_by_one(autojump_clock):
    """The contrast, as in OTP: a Supervisor waits for each child in turn."""
    sup = await Supervisor.start_link(
        [spec(n, trap_exits=True, hang_on_shutdown=True, shutdown=1.0) for n in range(5)]
    )
    start = trio.current_time()
    await Supervisor.stop(sup)
    assert trio.current_time() - start == pytest.approx(5.0, abs=1e-6)


async def test_the_parent_sees_the_reason_and_children_stop(autojump_clock):
    me = otp.current_pid()
    otp.trap_exits(True)
    sup = await DynamicSupervisor.start_link()
    pids = [await DynamicSupervisor.start_child(sup, spec(n, notify=me, trap_exits=True)) for n in range(3)]
    flush_mailbox()
    otp.exit(sup, SHUTDOWN)
    assert await assert_receive(ExitSignal) == ExitSignal(sup, SHUTDOWN)
    assert sorted(flush_mailbox(), key=repr) == sorted(
        [("terminating", n, pid, SHUTDOWN) for n, pid in enumerate(pids)], key=repr
    )


# ---------------------------------------------------------------- the race fenced in _shutdown.py


async def busy_supervisor(sup, me):
    """Make ``sup`` busy starting a child that waits in init; return that child's pid (send it "go")."""

    async def caller():
        await DynamicSupervisor.start_child(sup, spec("blocker", notify=me, wait_in_init=True))
        await otp.receive()

    otp.spawn(caller)
    waiting = await assert_receive(lambda m: m[0] == "waiting")
    return waiting[2]


# reason the child ends with, what the supervisor should report for it at shutdown
EARLY = [
    pytest.param(NORMAL, [], id="NORMAL"),
    pytest.param(Shutdown("x"), [], id="Shutdown('x')"),
    pytest.param(
        SHUTDOWN,
        [],
        id="SHUTDOWN",
    ),
    pytest.param(
        KILL,
        [("shutdown_error", "w", KILLED)],
        id="KILL",
    ),
    pytest.param(
        "error",
        [("shutdown_error", "w", "error")],
        id="ValueError",
    ),
]


@pytest.mark.parametrize("reason, reports", EARLY)
async def test_a_child_that_died_just_before_the_supervisor_shut_down(reason, reports):
    """A child ends while the supervisor is busy and its stop request is already queued:
    the queued exit signal is consumed at shutdown; no spurious report."""
    me = otp.current_pid()
    otp.trap_exits(True)
    sup = await DynamicSupervisor.start_link()
    w = await DynamicSupervisor.start_child(sup, spec("w"))
    blocker = await busy_supervisor(sup, me)
    otp.exit(sup, SHUTDOWN)  # queued first: the supervisor will stop before it sees w's end
    error = ValueError("w")
    reason = error if reason == "error" else reason
    reports = [(e, i, error if r == "error" else r) for e, i, r in reports]
    ref = otp.monitor(w)
    with capture_crash_reports() as records:
        stop_with(w, reason)
        await assert_down(ref, KILLED if reason is KILL else reason)
        otp.send(blocker, "go")
        assert await assert_receive(ExitSignal) == ExitSignal(sup, SHUTDOWN)
    assert events(records) == reports


async def test_terminate_child_of_a_child_that_died_just_before():
    """terminate_child queued before the child's exit signal: it is consumed, not taken for a crash."""
    me = otp.current_pid()
    sup = await DynamicSupervisor.start_link()
    w = await DynamicSupervisor.start_child(sup, spec("w"))
    blocker = await busy_supervisor(sup, me)

    async def terminator():
        otp.send(me, ("terminate_child", await _catch(DynamicSupervisor.terminate_child(sup, w))))

    otp.spawn(terminator)
    await wait_all_tasks_blocked()  # its call is queued
    ref = otp.monitor(w)
    with capture_crash_reports() as records:
        stop_with(w, ValueError("w"))
        await assert_down(ref, ValueError)
        otp.send(blocker, "go")
        assert await assert_receive(lambda m: m[0] == "terminate_child") == ("terminate_child", None)
        assert await children_of(sup) == [blocker]  # w was not restarted
    # Not a crash to restart: a shutdown error, as OTP reports a child that died before it could be stopped.
    assert [e[:2] for e in events(records)] == [("shutdown_error", "w")]


async def _catch(awaitable):
    try:
        return await awaitable
    except Exception as error:  # pragma: no cover - reported to the test
        return error


async def test_static_terminate_child_of_a_child_that_died_just_before():
    """Same race for Supervisor.terminate_child: spec kept with pid None, no restart, no child_terminated."""
    me = otp.current_pid()
    sup = await Supervisor.start_link([spec("w")])
    w = (await Supervisor.which_children(sup))[0].pid

    async def caller():
        await Supervisor.start_child(sup, spec("blocker", notify=me, wait_in_init=True))
        await otp.receive()

    otp.spawn(caller)
    blocker = (await assert_receive(lambda m: m[0] == "waiting"))[2]

    async def terminator():
        otp.send(me, ("terminate_child", await _catch(Supervisor.terminate_child(sup, "w"))))

    otp.spawn(terminator)
    await wait_all_tasks_blocked()
    ref = otp.monitor(w)
    with capture_crash_reports() as records:
        stop_with(w, SHUTDOWN)
        await assert_down(ref, SHUTDOWN)
        otp.send(blocker, "go")
        assert await assert_receive(lambda m: m[0] == "terminate_child") == ("terminate_child", None)
        assert await Supervisor.which_children(sup) == [
            ChildInfo("blocker", blocker, WORKER),
            ChildInfo("w", None, WORKER),
        ]
    assert events(records) == []

"""Shutting children down, as OTP's supervisor does (``otp.supervisor._shutdown``).

``SHUTDOWN``, then up to the child's ``shutdown`` seconds, then ``KILL``;
``BRUTAL_KILL`` at once; ``math.inf`` waits for ever. Children stop newest
first. Timings are exact: every test here runs on the autojump clock.
"""

import math

import pytest
import trio

import otp
from otp import BRUTAL_KILL, KILL, KILLED, NORMAL, SHUTDOWN, Down, ExitSignal, Shutdown, Strategy, Supervisor
from otp.testing import assert_down, assert_receive, capture_crash_reports, flush_mailbox

from ._workers import events, spec, stop_with

TRAPS_AND_HANGS = {"trap_exits": True, "hang_on_shutdown": True}

# fmt: off
# shutdown,    the child,                                             ends with,  after (s), terminate ran
TIMEOUTS = [
    (2.0,         TRAPS_AND_HANGS,                                       KILLED,     2.0,       True),
    (0.5,         {"trap_exits": True, "terminate_delay": 1.0},          KILLED,     0.5,       True),
    (2.0,         {"trap_exits": True, "terminate_delay": 1.0},          SHUTDOWN,   1.0,       True),
    (2.0,         {"trap_exits": True},                                  SHUTDOWN,   0.0,       True),
    (2.0,         {},                                                    SHUTDOWN,   0.0,       False),  # no trap: no terminate
    (BRUTAL_KILL, TRAPS_AND_HANGS,                                       KILLED,     0.0,       False),
    (BRUTAL_KILL, {},                                                    KILLED,     0.0,       False),
    (math.inf,    {"trap_exits": True, "terminate_delay": 1000.0},       SHUTDOWN,   1000.0,    True),
]
# fmt: on


async def terminate_child(sup):
    await Supervisor.terminate_child(sup, "w")


async def stop_supervisor(sup):
    await Supervisor.stop(sup)


@pytest.mark.parametrize("how", [terminate_child, stop_supervisor], ids=["terminate_child", "Supervisor.stop"])
@pytest.mark.parametrize(
    "shutdown, config, ends_with, after, terminate_ran",
    [pytest.param(*row, id=f"{row[0]!r}-{'-'.join(sorted(row[1])) or 'plain'}") for row in TIMEOUTS],
)
async def test_shutdown_timeout(how, shutdown, config, ends_with, after, terminate_ran, autojump_clock):
    me = otp.current_pid()
    sup = await Supervisor.start_link([spec("w", notify=me, shutdown=shutdown, **config)])
    (row,) = await Supervisor.which_children(sup)
    flush_mailbox()
    ref = otp.monitor(row.pid)
    with capture_crash_reports() as records:
        start = trio.current_time()
        await how(sup)
        elapsed = trio.current_time() - start
    assert elapsed == pytest.approx(after, abs=1e-6)
    await assert_down(ref, ends_with, timeout=0)
    assert flush_mailbox() == ([("terminating", "w", row.pid, SHUTDOWN)] if terminate_ran else [])
    assert events(records) == []  # KILLED after a timeout is expected, not a shutdown error


@pytest.mark.parametrize("strategy", list(Strategy), ids=lambda s: s.name)
async def test_children_stop_newest_first_and_trapping_ones_run_terminate(strategy, autojump_clock):
    me = otp.current_pid()
    inner = Supervisor.child_spec([spec("x", notify=me, trap_exits=True), spec("y", notify=me)], id="inner")
    children = [spec("a", notify=me, trap_exits=True), inner, spec("b", notify=me), spec("c", notify=me, trap_exits=True)]
    sup = await Supervisor.start_link(children, strategy=strategy)
    rows = {r.id: r.pid for r in await Supervisor.which_children(sup)}
    rows.update({r.id: r.pid for r in await Supervisor.which_children(rows["inner"])})
    flush_mailbox()
    refs = {i: otp.monitor(pid) for i, pid in rows.items()}
    with capture_crash_reports() as records:
        await Supervisor.stop(sup)
    # Non-trapping children (b, y) end at once, without terminate.
    assert flush_mailbox() == [
        ("terminating", "c", rows["c"], SHUTDOWN),
        Down(refs["c"], rows["c"], SHUTDOWN),
        Down(refs["b"], rows["b"], SHUTDOWN),
        Down(refs["y"], rows["y"], SHUTDOWN),
        ("terminating", "x", rows["x"], SHUTDOWN),
        Down(refs["x"], rows["x"], SHUTDOWN),
        Down(refs["inner"], rows["inner"], SHUTDOWN),
        ("terminating", "a", rows["a"], SHUTDOWN),
        Down(refs["a"], rows["a"], SHUTDOWN),
    ]
    assert events(records) == []
    assert not otp.is_alive(sup)


async def test_supervisor_stop_stops_everything(autojump_clock):
    sup = await Supervisor.start_link(
        [spec("a"), Supervisor.child_spec([spec("x"), spec("y", trap_exits=True)], id="inner"), spec("b")]
    )
    before = set(otp.processes())
    assert len(before) == 1 + 1 + 5  # the test, sup, a, inner, x, y, b
    await Supervisor.stop(sup)
    assert set(otp.processes()) == {otp.current_pid()}


# ---------------------------------------------------------------- the parent sees the reason


async def stop_with_reason(sup, reason):
    await Supervisor.stop(sup, reason)


async def exit_from_parent(sup, reason):
    otp.exit(sup, reason)


@pytest.mark.parametrize(
    "how, reason, ends_with",
    [
        (stop_with_reason, NORMAL, NORMAL),
        (stop_with_reason, SHUTDOWN, SHUTDOWN),
        (stop_with_reason, Shutdown("x"), Shutdown("x")),
        (stop_with_reason, "custom", "custom"),
        (exit_from_parent, SHUTDOWN, SHUTDOWN),
        (exit_from_parent, Shutdown("x"), Shutdown("x")),
        (exit_from_parent, "custom", "custom"),
        (exit_from_parent, KILL, KILLED),
    ],
    ids=lambda v: v.__name__ if callable(v) else repr(v),
)
async def test_the_parent_sees_the_supervisors_exit_reason(how, reason, ends_with, autojump_clock):
    me = otp.current_pid()
    otp.trap_exits(True)
    sup = await Supervisor.start_link([spec("a", notify=me, trap_exits=True), spec("b", notify=me)])
    rows = {r.id: r.pid for r in await Supervisor.which_children(sup)}
    flush_mailbox()
    refs = {i: otp.monitor(pid) for i, pid in rows.items()}
    with capture_crash_reports() as records:
        await how(sup, reason)
        assert await assert_receive(ExitSignal) == ExitSignal(sup, ends_with)
    if reason is KILL:
        # Killed at once: its children get its KILLED along their links (a traps: terminate(KILLED)).
        await assert_down(refs["b"], KILLED)
        await assert_down(refs["a"], KILLED)
        assert ("terminating", "a", rows["a"], KILLED) in flush_mailbox()
    else:
        await assert_down(refs["b"], SHUTDOWN, timeout=0)
        await assert_down(refs["a"], SHUTDOWN, timeout=0)
        assert flush_mailbox() == [("terminating", "a", rows["a"], SHUTDOWN)]
    assert events(records) == []


async def test_an_exit_signal_from_a_stranger_is_ignored(autojump_clock):
    me = otp.current_pid()
    sup = await Supervisor.start_link([spec("a", notify=me)])

    async def stranger():
        otp.exit(sup, SHUTDOWN)
        otp.send(me, "sent")

    otp.spawn(stranger)
    await assert_receive(lambda m: m == "sent")
    assert [r.id for r in await Supervisor.which_children(sup)] == ["a"]
    assert otp.is_alive(sup)


# ---------------------------------------------------------------- errors during shutdown


@pytest.mark.parametrize("how", [terminate_child, stop_supervisor], ids=["terminate_child", "Supervisor.stop"])
async def test_a_child_crashing_in_terminate_gives_a_shutdown_error(how, autojump_clock):
    me = otp.current_pid()
    error = ValueError("in terminate")
    sup = await Supervisor.start_link([spec("w", notify=me, trap_exits=True, terminate_raises=error)])
    (row,) = await Supervisor.which_children(sup)
    ref = otp.monitor(row.pid)
    with capture_crash_reports() as records:
        await how(sup)
    await assert_down(ref, error, timeout=0)
    assert events(records) == [("shutdown_error", "w", error)]
    (record,) = [r for r in records if hasattr(r, "otp_event")]
    assert f"child 'w' {row.pid!r} did not shut down cleanly: ValueError('in terminate')" in record.getMessage()


async def test_a_child_ending_with_another_reason_when_told_to_shut_down(autojump_clock):
    """A child that traps exits and ends with its own reason: a shutdown_error naming it."""
    sup = await Supervisor.start_link([spec("w", trap_exits=True, terminate_raises=otp.Exit("my_reason"))])
    (row,) = await Supervisor.which_children(sup)
    with capture_crash_reports() as records:
        await Supervisor.terminate_child(sup, "w")
    assert events(records) == [("shutdown_error", "w", "my_reason")]
    assert (await Supervisor.which_children(sup))[0].pid is None
    assert not otp.is_alive(row.pid)


# ---------------------------------------------------------------- the race fenced in _shutdown.py


def stopper(targets, reason):
    """An ``on_terminate`` for c: end b (its pid in ``targets``) with ``reason`` and wait until it has gone."""

    async def on_terminate(_):
        pid = targets.pop("b", None)
        if pid is not None:
            ref = otp.monitor(pid)
            stop_with(pid, reason)
            await otp.receive(lambda m: isinstance(m, Down) and m.ref == ref)

    return on_terminate


# b's reason, what its Down shows, the report the supervisor logs for it
RACE_REASONS = {
    "NORMAL": (lambda: NORMAL, lambda r: NORMAL, lambda r: []),
    "SHUTDOWN": (lambda: SHUTDOWN, lambda r: SHUTDOWN, lambda r: []),
    "Shutdown('x')": (lambda: Shutdown("x"), lambda r: Shutdown("x"), lambda r: []),
    "ValueError": (lambda: ValueError("b"), lambda r: r, lambda r: [("shutdown_error", "b", r)]),
    "KILL": (lambda: KILL, lambda r: KILLED, lambda r: [("shutdown_error", "b", KILLED)]),
}


@pytest.mark.parametrize("reason_name", list(RACE_REASONS))
async def test_a_child_that_died_just_before_supervisor_shutdown(reason_name, autojump_clock):
    """While the supervisor stops c, b dies: its queued exit signal is consumed, not taken for a crash."""
    make, ends_with, reports = RACE_REASONS[reason_name]
    me = otp.current_pid()
    otp.trap_exits(True)
    targets = {}
    reason = make()
    sup = await Supervisor.start_link(
        [spec("a", notify=me), spec("b", notify=me), spec("c", notify=me, trap_exits=True, on_terminate=stopper(targets, reason))]
    )
    rows = {r.id: r.pid for r in await Supervisor.which_children(sup)}
    targets["b"] = rows["b"]
    flush_mailbox()
    ref_b = otp.monitor(rows["b"])
    with capture_crash_reports() as records:
        await Supervisor.stop(sup)
    await assert_down(ref_b, ends_with(reason), timeout=0)
    assert events(records) == reports(reason)
    messages = flush_mailbox()
    assert [m for m in messages if isinstance(m, tuple) and m[0] == "started"] == []  # no restart
    assert ExitSignal(sup, NORMAL) in messages


@pytest.mark.parametrize("reason_name", list(RACE_REASONS))
async def test_a_child_that_died_during_a_group_restart(reason_name, autojump_clock):
    """ONE_FOR_ALL: a crashes; while c is stopped b dies. One restart of each, no report for b's end."""
    make, ends_with, reports = RACE_REASONS[reason_name]
    me = otp.current_pid()
    targets = {}
    reason = make()
    sup = await Supervisor.start_link(
        [spec("a", notify=me), spec("b", notify=me), spec("c", notify=me, trap_exits=True, on_terminate=stopper(targets, reason))],
        strategy=Strategy.ONE_FOR_ALL,
        max_restarts=1,  # a second restart (for b) would end the supervisor
    )
    rows = {r.id: r.pid for r in await Supervisor.which_children(sup)}
    targets["b"] = rows["b"]
    flush_mailbox()
    ref_a, ref_b = otp.monitor(rows["a"]), otp.monitor(rows["b"])
    error = ValueError("a")
    with capture_crash_reports() as records:
        stop_with(rows["a"], error)
        await assert_down(ref_a, error)
        after = await Supervisor.which_children(sup)
    await assert_down(ref_b, ends_with(reason), timeout=0)
    assert otp.is_alive(sup)
    assert [m[1] for m in flush_mailbox() if isinstance(m, tuple) and m[0] == "started"] == ["a", "b", "c"]
    assert all(r.pid.__class__ is otp.Pid and r.pid != rows[r.id] for r in after)
    assert events(records) == [("child_terminated", "a", error)] + reports(reason)

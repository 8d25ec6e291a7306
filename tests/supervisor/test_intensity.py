"""Restart intensity: ``max_restarts`` restarts in ``max_seconds`` are allowed, one more gives up.

A supervisor that gives up logs ``reached_max_restart_intensity``, shuts its
other children down and exits with ``GAVE_UP`` (``Shutdown("reached_max_restart_intensity")``),
which its own supervisor treats as the end of a child: the failure climbs the tree.
"""

import pytest
import trio

import otp
from otp import KILL, KILLED, SHUTDOWN, ChildType, Restart, Shutdown, Strategy, Supervisor
from otp.supervisor import GAVE_UP, RESTARTING, RestartIntensity
from otp.testing import assert_down, assert_receive, capture_crash_reports, flush_mailbox, refute_receive

from ._workers import events, spec, stop_with

# ---------------------------------------------------------------- RestartIntensity, pure


def test_gave_up_is_the_otp_reason():
    assert GAVE_UP == Shutdown("reached_max_restart_intensity")
    assert otp.is_normal(GAVE_UP)


# fmt: off
@pytest.mark.parametrize("max_restarts, max_seconds, times, expected", [
    (0, 5.0, [0.0],                        [False]),
    (1, 5.0, [0.0, 1.0],                   [True, False]),
    (3, 5.0, [0.0, 0.0, 0.0, 0.0],         [True, True, True, False]),
    (3, 5.0, [0.0, 1.0, 2.0, 3.0],         [True, True, True, False]),
    (1, 5.0, [0.0, 5.0],                   [True, False]),        # the window is inclusive, as in OTP
    (1, 5.0, [0.0, 5.001],                 [True, True]),
    (2, 5.0, [0.0, 1.0, 6.5],              [True, True, True]),   # 0.0 has left the window
    (2, 5.0, [0.0, 4.0, 6.5, 6.5],         [True, True, True, False]),  # 4.0 is still in it
    (1, 1.0, [0.0, 2.0, 4.0, 6.0, 8.0],    [True, True, True, True, True]),
])
# fmt: on
def test_restart_intensity(max_restarts, max_seconds, times, expected):
    window = RestartIntensity(max_restarts, max_seconds)
    assert [window.add_restart(t) for t in times] == expected


def test_restart_intensity_forgets_old_restarts():
    window = RestartIntensity(3, 5.0)
    for t in (0.0, 1.0, 2.0):
        assert window.add_restart(t)
    assert len(window) == 3
    assert window.add_restart(100.0)
    assert len(window) == 1


def test_a_refusal_is_recorded_too():
    # Once refused the supervisor exits, but the record stays truthful.
    window = RestartIntensity(0, 5.0)
    assert not window.add_restart(0.0)
    assert len(window) == 1


@pytest.mark.parametrize(
    "max_restarts, max_seconds, error",
    [(-1, 5.0, "max_restarts"), (1.5, 5.0, "max_restarts"), (True, 5.0, "max_restarts"),
     (3, 0, "max_seconds"), (3, -1.0, "max_seconds"), (3, "5", "max_seconds")],
)
async def test_bad_intensity_options(max_restarts, max_seconds, error):
    with pytest.raises(TypeError, match=error):
        await Supervisor.start_link([], max_restarts=max_restarts, max_seconds=max_seconds)


# ---------------------------------------------------------------- in a supervisor


async def crash(sup, child_id, error):
    """Crash child ``child_id`` of ``sup`` and wait until the supervisor has handled it."""
    (pid,) = [info.pid for info in await Supervisor.which_children(sup) if info.id == child_id]
    ref = otp.monitor(pid)
    stop_with(pid, error)
    await assert_down(ref, error)
    return pid


@pytest.mark.parametrize("max_restarts", [0, 1, 3])
@pytest.mark.parametrize("strategy", list(Strategy), ids=lambda s: s.name)
async def test_max_restarts_then_give_up(max_restarts, strategy):
    me = otp.current_pid()
    otp.trap_exits(True)
    sup = await Supervisor.start_link(
        [spec("bystander", notify=me, trap_exits=True), spec("w")],
        strategy=strategy,
        max_restarts=max_restarts,
        max_seconds=5.0,
    )
    sup_ref = otp.monitor(sup)
    errors = [ValueError(n) for n in range(max_restarts + 1)]
    with capture_crash_reports() as records:
        for n in range(max_restarts):
            old = await crash(sup, "w", errors[n])
            new = (await Supervisor.which_children(sup))[0].pid  # newest first: w, then bystander
            assert new.__class__ is otp.Pid and new != old
        assert otp.is_alive(sup)
        bystander = (await Supervisor.which_children(sup))[1].pid
        flush_mailbox()
        await crash(sup, "w", errors[-1])
        await assert_down(sup_ref, GAVE_UP)
    assert await assert_receive(otp.ExitSignal) == otp.ExitSignal(sup, GAVE_UP)
    # The other child was shut down (it traps exits: terminate(SHUTDOWN) ran).
    assert ("terminating", "bystander", bystander, SHUTDOWN) in flush_mailbox()
    assert not otp.is_alive(bystander)
    assert events(records) == [("child_terminated", "w", e) for e in errors] + [
        ("reached_max_restart_intensity", None, f"{max_restarts} restarts in 5.0 s")
    ]


async def test_restarts_spaced_beyond_the_window_do_not_accumulate(autojump_clock):
    otp.trap_exits(True)  # the supervisor's end must not end the test
    sup = await Supervisor.start_link([spec("w")], max_restarts=1, max_seconds=5.0)
    with capture_crash_reports() as records:
        for n in range(5):
            await crash(sup, "w", ValueError(n))
            await trio.sleep(5.5)
        assert otp.is_alive(sup)
        # Two within the window: that is one too many.
        sup_ref = otp.monitor(sup)
        await crash(sup, "w", ValueError("a"))
        await trio.sleep(4.0)
        await crash(sup, "w", ValueError("b"))
        await assert_down(sup_ref, GAVE_UP)
    assert [e[0] for e in events(records)] == ["child_terminated"] * 7 + ["reached_max_restart_intensity"]


async def test_the_window_is_inclusive(autojump_clock):
    otp.trap_exits(True)
    sup = await Supervisor.start_link([spec("w")], max_restarts=1, max_seconds=5.0)
    sup_ref = otp.monitor(sup)
    with capture_crash_reports():
        await crash(sup, "w", ValueError(1))
        await trio.sleep(5.0)  # exactly max_seconds later: still in the window
        await crash(sup, "w", ValueError(2))
        await assert_down(sup_ref, GAVE_UP)


async def test_normal_ends_of_a_permanent_child_count_too():
    otp.trap_exits(True)
    sup = await Supervisor.start_link([spec("w")], max_restarts=2)
    sup_ref = otp.monitor(sup)
    with capture_crash_reports() as records:
        for _ in range(3):
            await crash(sup, "w", otp.NORMAL)
        await assert_down(sup_ref, GAVE_UP)
    # As OTP: every end of a permanent child is reported, a normal one too.
    assert events(records) == [("child_terminated", "w", otp.NORMAL)] * 3 + [
        ("reached_max_restart_intensity", None, "2 restarts in 5.0 s")
    ]


@pytest.mark.parametrize("restart", [Restart.TRANSIENT, Restart.TEMPORARY], ids=lambda r: r.name)
async def test_ends_that_are_not_restarted_do_not_count(restart):
    children = [spec(i, restart=restart) for i in "abcd"]
    sup = await Supervisor.start_link(children, max_restarts=0, strategy=Strategy.ONE_FOR_ALL)
    with capture_crash_reports():
        for i in "abc":
            await crash(sup, i, SHUTDOWN if restart is Restart.TRANSIENT else ValueError(i))
    assert otp.is_alive(sup)
    rows = await Supervisor.which_children(sup)
    if restart is Restart.TRANSIENT:
        assert [(r.id, r.pid is None) for r in rows] == [("d", False), ("c", True), ("b", True), ("a", True)]
    else:
        assert [r.id for r in rows] == ["d"]


# ---------------------------------------------------------------- escalation


async def test_a_nested_supervisor_that_gives_up_is_restarted_by_its_parent():
    me = otp.current_pid()
    otp.trap_exits(True)
    inner = Supervisor.child_spec([spec("w", notify=me)], id="inner", max_restarts=0)
    outer = await Supervisor.start_link([spec("sibling"), inner], max_restarts=1)
    rows = await Supervisor.which_children(outer)
    inner_pid, sibling = rows[0].pid, rows[1].pid  # newest first
    assert rows[0].type is ChildType.SUPERVISOR
    inner_ref = otp.monitor(inner_pid)
    outer_ref = otp.monitor(outer)
    flush_mailbox()
    error = ValueError("boom")
    with capture_crash_reports() as records:
        await crash(inner_pid, "w", error)
        await assert_down(inner_ref, GAVE_UP)
        rows = await Supervisor.which_children(outer)
        new_inner = rows[0].pid
        assert new_inner.__class__ is otp.Pid and new_inner != inner_pid
        assert rows[1].pid == sibling  # ONE_FOR_ONE: the sibling is untouched
        (worker,) = await Supervisor.which_children(new_inner)
        assert await assert_receive(lambda m: m[0] == "started") == ("started", "w", worker.pid)
    # The inner supervisor reported; the outer one reports the end of its
    # permanent child, as OTP does, even though GAVE_UP is a Shutdown.
    assert events(records) == [
        ("child_terminated", "w", error),
        ("reached_max_restart_intensity", None, "0 restarts in 5.0 s"),
        ("child_terminated", "inner", GAVE_UP),
    ]

    # The parent counted that restart: the next escalation is one too many for it.
    with capture_crash_reports() as records:
        inner_ref = otp.monitor(new_inner)
        await crash(new_inner, "w", ValueError("again"))
        await assert_down(inner_ref, GAVE_UP)
        await assert_down(outer_ref, GAVE_UP)
    assert [e[0] for e in events(records)] == [
        "child_terminated",
        "reached_max_restart_intensity",
        "child_terminated",
        "reached_max_restart_intensity",
    ]
    assert not otp.is_alive(sibling)


async def test_a_crash_climbs_a_three_level_tree_to_the_test():
    otp.trap_exits(True)
    level3 = Supervisor.child_spec([spec("w")], id="level3", max_restarts=0)
    level2 = Supervisor.child_spec([level3], id="level2", max_restarts=0)
    top = await Supervisor.start_link([level2], max_restarts=0)
    (l2,) = await Supervisor.which_children(top)
    (l3,) = await Supervisor.which_children(l2.pid)
    with capture_crash_reports() as records:
        await crash(l3.pid, "w", ValueError("deep"))
        assert await assert_receive(otp.ExitSignal) == otp.ExitSignal(top, GAVE_UP)
    assert [e[0] for e in events(records)] == ["child_terminated"] + ["reached_max_restart_intensity", "child_terminated"] * 2 + [
        "reached_max_restart_intensity"
    ]


# ---------------------------------------------------------------- failing restarts


async def test_a_restart_whose_start_keeps_failing_is_retried_and_counted():
    """W8: the restart's init crashes; each retry counts; the 4th attempt with max_restarts=3 gives up."""
    me = otp.current_pid()
    otp.trap_exits(True)
    error = ValueError("init crash")
    modes = ["ok", "crash"]
    sup = await Supervisor.start_link(
        [spec("other"), spec("w", notify=me, notify_init=True, init=modes, error=error)], max_restarts=3
    )
    sup_ref = otp.monitor(sup)
    w, other = [row.pid for row in await Supervisor.which_children(sup)]  # newest first
    other_ref = otp.monitor(other)
    assert flush_mailbox() == [("init", "w", "ok"), ("started", "w", w)]
    crash_error = ValueError("crash")
    with capture_crash_reports() as records:
        await crash(sup, "w", crash_error)
        await assert_down(sup_ref, GAVE_UP)
    await assert_down(other_ref, SHUTDOWN)
    # The restart and two retries ran init (and failed); the third retry was refused.
    assert [m for m in flush_mailbox() if isinstance(m, tuple) and m[0] == "init"] == [("init", "w", "crash")] * 3
    assert events(records) == [
        ("child_terminated", "w", crash_error),
        ("start_error", "w", error),
        ("start_error", "w", error),
        ("start_error", "w", error),
        ("reached_max_restart_intensity", None, "3 restarts in 5.0 s"),
    ]


async def test_a_failing_restart_is_shown_as_restarting_and_recovers():
    """While a restart keeps failing the supervisor still answers calls; the child shows RESTARTING."""
    me = otp.current_pid()
    modes = ["ok", "crash"]
    sup = await Supervisor.start_link([spec("w", notify=me, init=modes)], max_restarts=1_000_000, max_seconds=1.0)
    flush_mailbox()
    with capture_crash_reports() as records:
        await crash(sup, "w", ValueError("crash"))
        assert await Supervisor.which_children(sup) == [otp.ChildInfo("w", RESTARTING, ChildType.WORKER)]
        assert await Supervisor.count_children(sup) == otp.ChildCounts(specs=1, active=0, supervisors=0, workers=1)
        for request in (Supervisor.restart_child, Supervisor.delete_child):
            with pytest.raises(otp.SupervisorError) as raised:
                await request(sup, "w")
            assert raised.value.reason == "restarting"
        modes[:] = ["ok"]  # the next retry succeeds
        started = await assert_receive(lambda m: m[0] == "started")
        (row,) = await Supervisor.which_children(sup)
        assert row.pid == started[2]
    assert {e[0] for e in events(records)} == {"child_terminated", "start_error"}
    assert otp.is_alive(sup)


@pytest.mark.parametrize("strategy", [Strategy.ONE_FOR_ALL, Strategy.REST_FOR_ONE], ids=lambda s: s.name)
async def test_a_sibling_failing_to_restart_in_a_group_restart(strategy):
    """b crashes; in the group restart c's init fails once; the retry restarts the group again."""
    me = otp.current_pid()
    modes = ["ok", "crash", "ok"]
    sup = await Supervisor.start_link(
        [spec("a", notify=me), spec("b", notify=me), spec("c", notify=me, init=modes)],
        strategy=strategy,
        max_restarts=5,
    )
    flush_mailbox()
    with capture_crash_reports() as records:
        await crash(sup, "b", ValueError("b"))
        # Wait for c's successful start (the second attempt), then look.
        started = []
        while not started or started[-1][1] != "c":
            started.append(await assert_receive(lambda m: m[0] == "started"))
        rows = await Supervisor.which_children(sup)
    assert all(r.pid.__class__ is otp.Pid for r in rows)
    names = [m[1] for m in started]
    # First attempt: (a,) b, then c fails; the retry restarts the group again.
    assert names == (["a", "b", "a", "b", "c"] if strategy is Strategy.ONE_FOR_ALL else ["b", "c"])
    assert [e[0] for e in events(records)] == ["child_terminated", "start_error"]
    await refute_receive(lambda m: m[0] == "started", timeout=0.01)


async def test_kill_of_a_supervisor_child_climbs_as_killed():
    """A nested supervisor killed outright is a child crash (KILLED), reported by its parent."""
    inner = Supervisor.child_spec([spec("w")], id="inner")
    outer = await Supervisor.start_link([inner])
    (row,) = await Supervisor.which_children(outer)
    (worker,) = await Supervisor.which_children(row.pid)
    worker_ref = otp.monitor(worker.pid)
    with capture_crash_reports() as records:
        ref = otp.monitor(row.pid)
        otp.exit(row.pid, KILL)
        await assert_down(ref, KILLED)
        (new,) = await Supervisor.which_children(outer)
    # The worker was linked to the killed supervisor: it ends with KILLED too.
    await assert_down(worker_ref, KILLED)
    assert new.pid != row.pid
    assert ("child_terminated", "inner", KILLED) in events(records)

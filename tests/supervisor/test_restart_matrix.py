"""What a supervisor does when a child ends: the table in ``otp.supervisor``, case by case.

Three children ``a``, ``b``, ``c`` (trapping exits, so their ``terminate``
tells the test when they stop). One of them has the restart type under test,
the others are permanent; it ends with the reason under test. Each case
checks, exactly:

* the test's whole mailbox afterwards: the failed child's ``terminating``
  notification, then for a group restart each sibling's ``terminating`` and
  ``Down`` (newest first, reason ``SHUTDOWN``), then ``started`` for each
  restarted child in start order;
* ``which_children``: newest first (c, b, a), new pids for the restarted
  children, the same pid for the others, ``None`` for a child not
  restarted, no row for a temporary one;
* the supervisor reports: one ``child_terminated`` for an abnormal end, and,
  as OTP does, for any end of a permanent child; none for the normal end of
  a transient or temporary one.

Waiting: the test monitors the child and awaits its ``Down``; the
``which_children`` call after it is queued behind the supervisor's
``ExitSignal``, so its answer shows the restart done.
"""

import pytest

import otp
from otp import KILL, KILLED, NORMAL, SHUTDOWN, ChildType, Down, Restart, Shutdown, Strategy, Supervisor
from otp.testing import assert_down, capture_crash_reports, flush_mailbox

from ._workers import events, spec, stop_with

PERMANENT, TRANSIENT, TEMPORARY = Restart.PERMANENT, Restart.TRANSIENT, Restart.TEMPORARY
ONE_FOR_ONE, ONE_FOR_ALL, REST_FOR_ONE = Strategy.ONE_FOR_ONE, Strategy.ONE_FOR_ALL, Strategy.REST_FOR_ONE

IDS = ["a", "b", "c"]
POSITIONS = {"first": 0, "middle": 1, "last": 2}

# How the child ends, made fresh per case (an exception is compared by identity),
# and the reason its Down and the supervisor see.
REASONS = {
    "NORMAL": (lambda: NORMAL, lambda sent: NORMAL),
    "SHUTDOWN": (lambda: SHUTDOWN, lambda sent: SHUTDOWN),
    "Shutdown('x')": (lambda: Shutdown("x"), lambda sent: Shutdown("x")),
    "ValueError": (lambda: ValueError("boom"), lambda sent: sent),
    "KILL": (lambda: KILL, lambda sent: KILLED),
}

# fmt: off
# The manual's table, spelled out: (restart type, reason) -> (restarted?, report?).
TABLE = {
    (PERMANENT, "NORMAL"):          (True,  True),
    (PERMANENT, "SHUTDOWN"):        (True,  True),
    (PERMANENT, "Shutdown('x')"):   (True,  True),
    (PERMANENT, "ValueError"):      (True,  True),
    (PERMANENT, "KILL"):            (True,  True),
    (TRANSIENT, "NORMAL"):          (False, False),
    (TRANSIENT, "SHUTDOWN"):        (False, False),
    (TRANSIENT, "Shutdown('x')"):   (False, False),
    (TRANSIENT, "ValueError"):      (True,  True),
    (TRANSIENT, "KILL"):            (True,  True),
    (TEMPORARY, "NORMAL"):          (False, False),
    (TEMPORARY, "SHUTDOWN"):        (False, False),
    (TEMPORARY, "Shutdown('x')"):   (False, False),
    (TEMPORARY, "ValueError"):      (False, True),
    (TEMPORARY, "KILL"):            (False, True),
}
# fmt: on

# Which children (by index) a restart of child ``i`` restarts.
GROUPS = {
    ONE_FOR_ONE: lambda i: [i],
    ONE_FOR_ALL: lambda i: [0, 1, 2],
    REST_FOR_ONE: lambda i: list(range(i, 3)),
}


def test_the_table_covers_every_restart_type_and_reason():
    assert sorted(TABLE, key=repr) == sorted(((r, n) for r in Restart for n in REASONS), key=repr)


async def start_three(strategy, failing, restart, **config):
    """Start a supervisor of a, b, c; return (sup, {id: pid}) once all have reported in."""
    me = otp.current_pid()
    children = [
        spec(i, notify=me, trap_exits=True, restart=restart if i == failing else PERMANENT, **config) for i in IDS
    ]
    sup = await Supervisor.start_link(children, strategy=strategy)
    pids = {info.id: info.pid for info in await Supervisor.which_children(sup)}
    assert flush_mailbox() == [("started", i, pids[i]) for i in IDS]
    return sup, pids


@pytest.mark.parametrize("reason_name", list(REASONS))
@pytest.mark.parametrize("restart", [PERMANENT, TRANSIENT, TEMPORARY], ids=lambda r: r.name)
@pytest.mark.parametrize("position", list(POSITIONS))
@pytest.mark.parametrize("strategy", [ONE_FOR_ONE, ONE_FOR_ALL, REST_FOR_ONE], ids=lambda s: s.name)
async def test_child_ends(strategy, position, restart, reason_name):
    index = POSITIONS[position]
    failing = IDS[index]
    make_reason, ends_with = REASONS[reason_name]
    restarted, reported = TABLE[restart, reason_name]
    sup, old = await start_three(strategy, failing, restart)
    refs = {i: otp.monitor(old[i]) for i in IDS}

    reason = make_reason()
    with capture_crash_reports() as records:
        stop_with(old[failing], reason)
        await assert_down(refs[failing], ends_with(reason))
        after = await Supervisor.which_children(sup)
    new = {info.id: info.pid for info in after}

    # The rows: restarted children have new pids, the others keep theirs.
    group = [IDS[i] for i in GROUPS[strategy](index)] if restarted else []
    expected_ids = [i for i in IDS if not (i == failing and restart is TEMPORARY)]
    assert [info.id for info in after] == expected_ids[::-1]  # newest first
    assert all(info.type is ChildType.WORKER for info in after)
    for i in expected_ids:
        if i in group:
            assert new[i].__class__ is otp.Pid and new[i] != old[i] and otp.is_alive(new[i]), i
        elif i == failing:
            assert new[i] is None
        else:
            assert new[i] == old[i] and otp.is_alive(old[i]), i

    # The mailbox: who stopped (newest first) and who started (in order).
    expected = []
    if reason is not KILL:  # a killed child runs no terminate
        expected.append(("terminating", failing, old[failing], reason))
    for i in reversed(group):
        if i != failing:
            expected += [("terminating", i, old[i], SHUTDOWN), Down(refs[i], old[i], SHUTDOWN)]
    expected += [("started", i, new[i]) for i in group]
    assert flush_mailbox() == expected

    # The reports.
    assert events(records) == ([("child_terminated", failing, ends_with(reason))] if reported else [])
    if reported:
        (record,) = [r for r in records if hasattr(r, "otp_event")]
        assert record.getMessage().endswith("restarting" if restarted else "not restarted")
        assert record.getMessage().startswith(f"Supervisor {sup!r}: child {failing!r} {old[failing]!r} exited with ")


@pytest.mark.parametrize("strategy", [ONE_FOR_ALL, REST_FOR_ONE], ids=lambda s: s.name)
@pytest.mark.parametrize("sibling_restart", [TRANSIENT, TEMPORARY], ids=lambda r: r.name)
async def test_siblings_in_a_group_restart(strategy, sibling_restart):
    """A transient sibling stopped for a group restart is started again; a temporary one is dropped."""
    me = otp.current_pid()
    children = [
        spec("a", notify=me, trap_exits=True),
        spec("b", notify=me, trap_exits=True),
        spec("c", notify=me, trap_exits=True, restart=sibling_restart),
    ]
    sup = await Supervisor.start_link(children, strategy=strategy)
    old = {info.id: info.pid for info in await Supervisor.which_children(sup)}
    flush_mailbox()
    ref = otp.monitor(old["b"])
    error = ValueError("boom")
    with capture_crash_reports() as records:
        stop_with(old["b"], error)
        await assert_down(ref, error)
        after = await Supervisor.which_children(sup)
    new = {info.id: info.pid for info in after}
    restarted = ["a", "b"] if strategy is ONE_FOR_ALL else ["b"]
    if sibling_restart is TRANSIENT:
        assert [info.id for info in after] == ["c", "b", "a"]  # newest first
        restarted.append("c")
    else:
        assert [info.id for info in after] == ["b", "a"]
    for i in new:
        assert (new[i] != old[i]) == (i in restarted), i
    assert [m for m in flush_mailbox() if m[0] == "started"] == [("started", i, new[i]) for i in restarted]
    assert events(records) == [("child_terminated", "b", error)]


async def test_one_for_all_restarts_a_child_that_was_terminated():
    """As OTP: a ONE_FOR_ALL restart starts every non-temporary child, also one stopped by terminate_child."""
    me = otp.current_pid()
    sup = await Supervisor.start_link([spec(i, notify=me) for i in IDS], strategy=ONE_FOR_ALL)
    old = {info.id: info.pid for info in await Supervisor.which_children(sup)}
    await Supervisor.terminate_child(sup, "b")
    assert [info.pid for info in await Supervisor.which_children(sup)] == [old["c"], None, old["a"]]
    flush_mailbox()
    ref = otp.monitor(old["a"])
    with capture_crash_reports():
        stop_with(old["a"], ValueError("boom"))
        await assert_down(ref, ValueError)
        after = await Supervisor.which_children(sup)
    assert [m[1] for m in flush_mailbox() if m[0] == "started"] == IDS
    assert all(info.pid.__class__ is otp.Pid and info.pid != old[info.id] for info in after)


@pytest.mark.parametrize("strategy", [ONE_FOR_ONE, ONE_FOR_ALL, REST_FOR_ONE], ids=lambda s: s.name)
async def test_an_exit_signal_from_a_stranger_is_ignored(strategy):
    """A linked process that is not a child ends: the supervisor carries on, restarts nothing."""
    sup, old = await start_three(strategy, None, PERMANENT)

    async def stranger():
        otp.link(sup)
        raise otp.Exit("stranger")

    with capture_crash_reports() as records:
        _, ref = otp.spawn_monitor(stranger)
        await assert_down(ref, "stranger")
        after = await Supervisor.which_children(sup)
    assert {info.id: info.pid for info in after} == old
    assert flush_mailbox() == []
    assert events(records) == []
    assert otp.is_alive(sup)

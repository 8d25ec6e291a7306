"""``which_children`` lists children newest first, as OTP's supervisor does.

A static supervisor's children keep the place of their spec: the list is the
reverse of the start order (children given to ``start_link``, then each
``start_child``), and a restart does not move a child. A dynamic
supervisor's children are listed by when their current process started, so
a restarted child comes first; children waiting for a retried restart come
after the running ones.
"""

import otp
from otp import ChildInfo, ChildType, DynamicSupervisor, Supervisor
from otp.supervisor import RESTARTING
from otp.testing import assert_down, capture_crash_reports, kill_and_wait

from ._workers import spec

WORKER, SUPERVISOR = ChildType.WORKER, ChildType.SUPERVISOR


async def ids(sup):
    return [row.id for row in await Supervisor.which_children(sup)]


async def test_a_supervisors_children_are_listed_newest_first():
    sup = await Supervisor.start_link([spec("a"), spec("b"), Supervisor.child_spec([], id="c")])
    rows = await Supervisor.which_children(sup)
    assert [(row.id, row.type) for row in rows] == [("c", SUPERVISOR), ("b", WORKER), ("a", WORKER)]

    await Supervisor.start_child(sup, spec("d"))
    assert await ids(sup) == ["d", "c", "b", "a"]


async def test_a_restarted_child_keeps_its_place():
    sup = await Supervisor.start_link([spec("a"), spec("b"), spec("c")])
    before = {row.id: row.pid for row in await Supervisor.which_children(sup)}
    await kill_and_wait(before["b"])
    rows = await Supervisor.which_children(sup)  # queued behind b's exit signal: answered after the restart
    assert [row.id for row in rows] == ["c", "b", "a"]
    assert [row.pid == before[row.id] for row in rows] == [True, False, True]


async def test_a_terminated_then_restarted_child_keeps_its_place_too():
    sup = await Supervisor.start_link([spec("a"), spec("b")])
    await Supervisor.terminate_child(sup, "a")
    assert [(row.id, row.pid is None) for row in await Supervisor.which_children(sup)] == [("b", False), ("a", True)]
    await Supervisor.restart_child(sup, "a")
    assert await ids(sup) == ["b", "a"]


async def test_a_dynamic_supervisors_children_are_listed_newest_first():
    sup = await DynamicSupervisor.start_link()
    a = await DynamicSupervisor.start_child(sup, spec("a"))
    b = await DynamicSupervisor.start_child(sup, spec("b"))
    c = await DynamicSupervisor.start_child(sup, spec("c"))
    assert await DynamicSupervisor.which_children(sup) == [
        ChildInfo(None, c, WORKER),
        ChildInfo(None, b, WORKER),
        ChildInfo(None, a, WORKER),
    ]

    await kill_and_wait(b)
    rows = await DynamicSupervisor.which_children(sup)  # after the restart of b
    assert [row.pid for row in rows][1:] == [c, a]
    assert rows[0].pid not in (a, b, c) and otp.is_alive(rows[0].pid)


async def test_a_dynamic_child_waiting_for_its_restart_comes_after_the_running_ones():
    modes = ["ok", "crash"]  # its first start succeeds, its restarts fail until told otherwise
    sup = await DynamicSupervisor.start_link(max_restarts=1_000_000, max_seconds=1.0)
    waiting = await DynamicSupervisor.start_child(sup, spec("waiting", init=modes))
    running = await DynamicSupervisor.start_child(sup, spec("running"))
    ref = otp.monitor(waiting)
    with capture_crash_reports():
        otp.exit(waiting, otp.KILL)
        await assert_down(ref, otp.KILLED)
        rows = await DynamicSupervisor.which_children(sup)
        modes[:] = ["ok"]
    assert rows == [ChildInfo(None, running, WORKER), ChildInfo(None, RESTARTING, WORKER)]

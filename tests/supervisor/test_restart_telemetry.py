"""The moments the supervisor telemetry events mark, and ``restarted``: the child is running again.

``("otp", "supervisor", "restart")`` fires when the supervisor has decided
to restart (the child has ended and is not running yet): a handler that
turns to the child then finds nobody. ``("otp", "supervisor", "restarted")``
fires once every child the strategy restarted is running again, with the
new pids: a handler (or a process it tells) can call the child at once.
"""

import math

import pytest

import otp
from otp import DynamicSupervisor, GenServer, Strategy, Supervisor, telemetry
from otp.testing import TelemetryEvent, assert_receive, capture_crash_reports, forward_telemetry, kill_and_wait

from ._workers import Worker, spec

RESTART = ("otp", "supervisor", "restart")
RESTARTED = ("otp", "supervisor", "restarted")


def named(name):
    return lambda message: isinstance(message, TelemetryEvent) and message.name == name


def _seen_from_the_handler(test):
    """A handler that reports what the emitting supervisor sees of the child at that moment."""

    def handler(event, measurements, metadata, config):
        otp.send(test, (event, otp.whereis("w"), metadata.get("pid")))

    return handler


@pytest.fixture
def handlers():
    attached = []
    yield attached
    for handler_id in attached:
        telemetry.detach(handler_id)


async def test_restart_fires_before_the_child_runs_and_restarted_once_it_runs(handlers):
    me = otp.current_pid()
    sup = await Supervisor.start_link([Worker.child_spec({}, id="w", name="w")])
    old = otp.whereis("w")
    telemetry.attach_many("moments", [RESTART, RESTARTED], _seen_from_the_handler(me))
    handlers.append("moments")

    with capture_crash_reports():
        await kill_and_wait(old)
        restart = await assert_receive(lambda m: m[0] == RESTART)
        restarted = await assert_receive(lambda m: m[0] == RESTARTED)

    assert restart == (RESTART, None, None)  # decided, not running: the name is free
    new = restarted[2]
    assert new.__class__ is otp.Pid and new != old
    assert restarted == (RESTARTED, new, new)  # running, registered again
    assert [row.pid for row in await Supervisor.which_children(sup)] == [new]


async def test_a_process_told_by_the_restarted_handler_can_call_the_child_at_once(handlers):
    me = otp.current_pid()
    await Supervisor.start_link([Worker.child_spec({}, id="w", name="w")])

    def on_restarted(event, measurements, metadata, config):
        # Handlers must not block: hand the call to a process of ours.
        async def call_it():
            otp.send(me, ("called", await GenServer.call(metadata["pid"], "ping"), await GenServer.call("w", "ping")))

        otp.spawn(call_it)

    telemetry.attach("call-after-restart", RESTARTED, on_restarted)
    handlers.append("call-after-restart")
    with capture_crash_reports():
        otp.exit(otp.whereis("w"), "boom")
        assert await assert_receive(lambda m: m[0] == "called") == ("called", "pong", "pong")


async def test_restarted_carries_the_restart_metadata_the_new_pid_and_every_child_restarted():
    sup = await Supervisor.start_link([spec("a"), spec("b"), spec("c")], strategy=Strategy.REST_FOR_ONE, name="rs")
    old = {row.id: row.pid for row in await Supervisor.which_children(sup)}
    with capture_crash_reports(), forward_telemetry(RESTART, RESTARTED):
        otp.exit(old["b"], "boom")
        restart = await assert_receive(named(RESTART))
        restarted = await assert_receive(named(RESTARTED))
    new = {row.id: row.pid for row in await Supervisor.which_children(sup)}
    assert new["a"] == old["a"] and new["b"] != old["b"] and new["c"] != old["c"]

    duration = restarted.measurements.pop("duration")
    assert isinstance(duration, float) and 0 < duration < math.inf
    assert restarted.measurements == restart.measurements == {"restarts": 1, "recent_restarts": 1}
    assert restarted.metadata == {
        **restart.metadata,
        "pid": new["b"],
        "restarted": (("b", new["b"]), ("c", new["c"])),  # in the order they started again
    }
    assert restart.metadata == {
        "supervisor": sup,
        "name": "rs",
        "strategy": Strategy.REST_FOR_ONE,
        "child_id": "b",
        "child_pid": old["b"],
        "reason": "boom",
    }


async def test_a_restart_that_fails_gives_restarted_only_once_a_retry_succeeds():
    modes = ["ok", "crash", "crash", "ok"]  # started, then two restarts fail, then one succeeds
    sup = await Supervisor.start_link([spec("w", init=modes)], max_restarts=10)
    [old] = [row.pid for row in await Supervisor.which_children(sup)]
    with capture_crash_reports(), forward_telemetry(RESTART, RESTARTED):
        otp.exit(old, "boom")
        restarts = [await assert_receive(named(RESTART)) for _ in range(3)]
        restarted = await assert_receive(named(RESTARTED))
    [new] = [row.pid for row in await Supervisor.which_children(sup)]
    assert [event.metadata["child_pid"] for event in restarts] == [old, None, None]  # retries: None
    assert (restarted.metadata["child_pid"], restarted.metadata["pid"]) == (None, new)
    assert restarted.metadata["restarted"] == (("w", new),)
    assert otp.testing.flush_mailbox() == []  # one restarted event, not one per attempt


async def test_a_dynamic_supervisor_emits_restarted_with_the_child_that_ended_even_after_retries():
    modes = ["ok", "crash", "ok"]
    sup = await DynamicSupervisor.start_link(max_restarts=10)
    old = await DynamicSupervisor.start_child(sup, spec("w", init=modes))
    with capture_crash_reports(), forward_telemetry(RESTARTED):
        otp.exit(old, "boom")
        restarted = await assert_receive(named(RESTARTED))
    [new] = [row.pid for row in await DynamicSupervisor.which_children(sup)]
    assert restarted.metadata["pid"] == new and new != old
    assert restarted.metadata["child_pid"] == old  # kept across the failed attempt
    assert restarted.metadata["restarted"] == (("w", new),)
    assert restarted.metadata["supervisor"] == sup

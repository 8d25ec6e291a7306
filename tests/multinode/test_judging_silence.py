"""When another node's silence says something: otp.dist's and the Tracker's verdicts, on trio's mock clock.

The bus is a stand-in (``Bus``) whose ``silence_counts_from`` the test
sets, as the Redis adapter's would be (tests/pubsub/test_redis_bus.py
checks the adapter's own); the other node is heartbeats the test sends.
A pause of this OS process is the clock jumping past the timers: they
fire late, as they do after ``SIGCONT``, and what "arrived meanwhile" is
sent after they fired, as a socket is read after them.
(``tests/multinode/test_faults.py`` does all of it for real.)
"""

import logging
import math
import re

import pytest
import trio
import trio.testing

import otp
from otp import dist, lowlevel, pubsub
from otp.testing import TelemetryEvent, assert_receive, flush_mailbox, forward_telemetry, refute_receive
from otp.tracker import ReplicaEvent, ReplicaStatus, Tracker
from otp.tracker._shard import _Heartbeat

pytest.importorskip("hiredis")  # otp.dist needs the redis extra

HEARTBEAT, DOWN_AFTER = 0.5, 3.0


class Bus:
    """What otp.dist asks its adapter: where frames go (nowhere), and whether the bus works (the test says)."""

    def __init__(self) -> None:
        self.node_name = "a"
        self.since: float | None = -math.inf

    def silence_counts_from(self) -> float | None:
        return self.since

    def direct_broadcast(self, *frame: object) -> None:
        pass


async def advance(clock: trio.testing.MockClock, seconds: float, step: float = 0.05) -> None:
    """Let ``seconds`` pass in small steps, every timer due handled at each (a process that runs all along)."""
    for _ in range(round(seconds / step)):
        clock.jump(step)
        await trio.testing.wait_all_tasks_blocked()


async def start_dist(bus: Bus) -> None:
    await pubsub.start_link(dist.PUBSUB)
    handler = dist.Distribution("a", bus)  # type: ignore[arg-type]  # the stand-in
    lowlevel.set_distribution("a", handler)
    config = {"handler": handler, "heartbeat": HEARTBEAT, "down_after": DOWN_AFTER}
    await dist._Server.start_link(config, name=dist._SERVER)
    await dist.monitor_nodes()
    otp.send(dist._SERVER, dist.Heartbeat("b"))
    await trio.testing.wait_all_tasks_blocked()
    assert await assert_receive(dist.NodeUp, timeout=0) == dist.NodeUp("b")
    flush_mailbox()  # the start's telemetry, if the test forwards it: judging from the start


# ---------------------------------------------------------------- otp.dist


async def test_dist_holds_its_verdicts_while_this_node_does_not_hear_the_bus(mock_clock):
    bus = Bus()
    with forward_telemetry(dist.HELD, dist.JUDGING):
        await start_dist(bus)
        await advance(mock_clock, 1.0)
        ref = otp.monitor(("server", "b"))
        await advance(mock_clock, 1.0)
        lost_at, bus.since = trio.current_time(), None  # this node's connection is down
        await advance(mock_clock, 20.0)
        await refute_receive(dist.NodeDown, otp.Down, timeout=0)  # b was silent all along: it says nothing
        held = await assert_receive(TelemetryEvent, timeout=0)
        assert (held.name, held.metadata) == (dist.HELD, {"node_name": "a", "reason": "bus"})

        back_at = trio.current_time()
        bus.since = back_at + 1.0  # back, and the others may come back a second later
        await advance(mock_clock, 1.0 + DOWN_AFTER - 0.1)
        await refute_receive(dist.NodeDown, timeout=0)
        judging = await assert_receive(TelemetryEvent, timeout=0)
        assert judging.name == dist.JUDGING and judging.measurements["held"] == pytest.approx(back_at + 1.0 - lost_at, abs=HEARTBEAT)
        await advance(mock_clock, 0.1 + HEARTBEAT)
        # b, silent for down_after counted from the bus's return: really gone.
        assert await assert_receive(dist.NodeDown, timeout=0) == dist.NodeDown("b")
        down = await assert_receive(otp.Down, timeout=0)
        assert (down.ref, down.reason) == (ref, otp.NODEDOWN)


async def test_a_late_beat_means_this_node_did_not_run_and_silence_counts_from_it(mock_clock, caplog):
    bus = Bus()
    with forward_telemetry(dist.HELD):
        await start_dist(bus)
        await advance(mock_clock, 1.0)
        otp.send(dist._SERVER, dist.Heartbeat("b"))
        await advance(mock_clock, HEARTBEAT)
        mock_clock.jump(10.0)  # this OS process stopped for 10 s: every timer fires late, before the socket is read
        await trio.testing.wait_all_tasks_blocked()
        await refute_receive(dist.NodeDown, timeout=0)
        held = await assert_receive(TelemetryEvent, timeout=0)
        assert held.metadata["reason"] == "paused" and held.measurements["late"] > 9.0
        resumed_at = trio.current_time()
    otp.send(dist._SERVER, dist.Heartbeat("b"))  # what waited in the socket: b was alive all along
    await advance(mock_clock, 2 * HEARTBEAT)
    await refute_receive(dist.NodeDown, timeout=0)
    # From then on, b's silence counts: down_after after its last heartbeat, it is down.
    await advance(mock_clock, DOWN_AFTER)
    assert await assert_receive(dist.NodeDown, timeout=0) == dist.NodeDown("b")
    assert trio.current_time() - resumed_at <= DOWN_AFTER + 2 * HEARTBEAT + 0.1
    paused, declared = [r.getMessage() for r in caplog.records if r.name == "otp.dist" and r.levelno == logging.WARNING]
    assert re.fullmatch(r"node 'a' did not run for 9\.\d s: judging no other node silent until it has read what waited", paused)
    assert re.fullmatch(r"node 'a' declared node 'b' down: not heard from for 3\.\d s", declared)


async def test_a_watcher_of_nodes_that_ends_is_forgotten(mock_clock):
    await start_dist(Bus())

    async def watch() -> None:
        await dist.monitor_nodes()

    watcher = otp.spawn(watch)
    await trio.testing.wait_all_tasks_blocked()
    handler = lowlevel.current_node().remote
    assert isinstance(handler, dist.Distribution)
    assert watcher not in handler.node_watchers and handler.node_watchers == {otp.current_pid()}


# ---------------------------------------------------------------- the Tracker


class Quiet(Tracker):
    async def handle_diff(self, diff):
        pass


class LocalBus(pubsub.Local):
    """One node's PubSub, with a bus the test says works or not (as the Redis adapter's would)."""

    since: float | None = -math.inf

    def silence_counts_from(self) -> float | None:
        return self.since


async def start_tracker(me: otp.Pid, adapter: pubsub.Local | None = None) -> otp.Pid:
    await pubsub.start_link("bus", adapter=adapter)
    options = {"broadcast_period": 1.0, "max_silent_periods": 1, "down_period": 3.0, "permdown_period": 100.0}
    pid = await Quiet.start_link(pubsub="bus", name="presence", report_events_to=me, **options)
    otp.send(pid, _Heartbeat(("b", 1), None, {}))
    await trio.testing.wait_all_tasks_blocked()
    assert await assert_receive(ReplicaEvent, timeout=0) == ReplicaEvent("presence", "b", ReplicaStatus.UP)
    return pid


async def test_a_tracker_that_did_not_run_reads_what_waited_before_judging_a_replica(mock_clock, caplog):
    tracker = await start_tracker(otp.current_pid())
    await advance(mock_clock, 1.0)
    mock_clock.jump(10.0)  # paused: the tick fires 10 s late, before b's heartbeat that waited is read
    await trio.testing.wait_all_tasks_blocked()
    await refute_receive(ReplicaEvent, timeout=0)
    resumed_at = trio.current_time()
    otp.send(tracker, _Heartbeat(("b", 1), None, {}))
    await advance(mock_clock, 3.0)
    await refute_receive(ReplicaEvent, timeout=0)
    await advance(mock_clock, 1.0)  # silent for down_period since: down now
    assert await assert_receive(ReplicaEvent, timeout=0) == ReplicaEvent("presence", "b", ReplicaStatus.DOWN)
    assert 3.0 < trio.current_time() - resumed_at <= 4.0 + 0.05
    [paused] = [r.getMessage() for r in caplog.records if r.name == "otp.tracker"]
    assert re.fullmatch(r"tracker 'presence' did not run for 9\.\d s: silence counts from now", paused)


async def test_a_tracker_whose_node_does_not_hear_the_bus_takes_no_replica_down(mock_clock):
    bus = LocalBus()
    await start_tracker(otp.current_pid(), bus)
    bus.since = None
    await advance(mock_clock, 20.0)
    await refute_receive(ReplicaEvent, timeout=0)
    bus.since = trio.current_time()
    await advance(mock_clock, 4.0 + 0.05)
    assert await assert_receive(ReplicaEvent, timeout=0) == ReplicaEvent("presence", "b", ReplicaStatus.DOWN)
    assert flush_mailbox() == []

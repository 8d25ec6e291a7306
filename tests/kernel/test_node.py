"""otp.run / open_node: the root process, results, errors, and closing."""

import pytest
import trio
import trio.testing

import otp
from otp.lowlevel import current_node
from otp.testing import assert_receive


def test_run_returns_the_result_of_main():
    async def main(a, b):
        return a + b

    assert otp.run(main, 2, 3) == 5


def test_run_propagates_the_exception_of_main():
    async def main():
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        otp.run(main)


def test_run_raises_exit_when_main_is_killed():
    async def main():
        otp.spawn_link(otp.exit, otp.current_pid(), otp.KILL)
        await otp.receive()

    with pytest.raises(otp.Exit) as raised:
        otp.run(main)
    assert raised.value.reason is otp.KILLED


async def test_closing_a_node_ends_every_process_with_shutdown_seen_by_links_and_monitors():
    # A watcher in the test's own node monitors and links to processes of an
    # inner node, and reports what it sees when that node closes.
    watcher = otp.spawn(_watcher, otp.current_pid())
    async with otp.open_node():
        pids = [otp.spawn(otp.receive), otp.spawn(_traps_and_waits)]
        for pid in pids:
            otp.send(watcher, (otp.current_pid(), pid))
            await assert_receive(lambda m: m == ("watching", pid))
    seen = {await assert_receive(tuple) for _ in range(4)}
    assert seen == {(kind, pid, otp.SHUTDOWN) for pid in pids for kind in ("down", "exit")}


async def _watcher(report_to):
    otp.trap_exits(True)
    while True:
        message = await otp.receive()
        match message:
            case (ack_to, otp.Pid() as pid):
                otp.monitor(pid)
                otp.link(pid)
                otp.send(ack_to, ("watching", pid))
            case otp.Down(pid=pid, reason=reason):
                otp.send(report_to, ("down", pid, reason))
            case otp.ExitSignal(pid=pid, reason=reason):
                otp.send(report_to, ("exit", pid, reason))


async def _traps_and_waits():
    otp.trap_exits(True)
    await trio.sleep_forever()


def test_processes_linked_to_main_get_shutdown_and_may_stop_in_order():
    log = []

    async def tidy_server():
        otp.trap_exits(True)
        signal = await otp.receive(otp.ExitSignal)
        await trio.sleep(0)  # still allowed to do async clean-up
        log.append(signal.reason)

    async def main():
        otp.spawn_link(tidy_server)
        await trio.testing.wait_all_tasks_blocked()

    otp.run(main)
    assert log == [otp.SHUTDOWN]


def test_shutdown_timeout_bounds_how_long_linked_trapping_processes_may_take():
    async def stubborn():
        otp.trap_exits(True)
        while True:
            await otp.receive()

    async def main():
        otp.spawn_link(stubborn)
        await trio.testing.wait_all_tasks_blocked()
        return trio.current_time()

    clock = trio.testing.MockClock(autojump_threshold=0)
    otp.run(main, shutdown_timeout=3.0, clock=clock)
    assert clock.current_time() == pytest.approx(3.0)


async def test_open_node_body_is_the_root_process_and_can_nest():
    outer = otp.current_pid()
    async with otp.open_node() as node:
        inner = otp.current_pid()
        assert inner != outer
        assert current_node() is node
        assert otp.processes() == [inner]
    assert otp.current_pid() == outer


async def test_processes_spawned_while_the_node_closes_are_ended_too():
    done = []

    async def spawner_on_shutdown():
        try:
            await otp.receive()
        finally:
            # Runs during phase 2; the node must not leak this child.
            pid = otp.spawn(otp.receive)
            done.append(pid)

    async with otp.open_node():
        otp.spawn(spawner_on_shutdown)
        await trio.testing.wait_all_tasks_blocked()
    assert len(done) == 1


async def test_node_statistics_count_processes_names_and_timers():
    me = otp.current_pid()
    otp.register("stats_test", me)
    otp.send_after(me, "x", 10)
    stats = current_node().statistics()
    assert (stats.processes, stats.registered_names, stats.timers) == (1, 1, 1)
    assert stats.uptime >= 0


async def test_node_messages_received_sums_what_the_live_processes_took():
    node = current_node()
    before = node.messages_received()

    async def take(n):
        for _ in range(n):
            await otp.receive()
        await otp.receive(lambda m: m == "stop")

    pids = [otp.spawn(take, 3), otp.spawn(take, 2)]
    for pid in pids:
        for n in range(3):
            otp.send(pid, n)
    await trio.testing.wait_all_tasks_blocked()
    assert node.messages_received() == before + 5  # the third message to the second waits, untaken
    for pid in pids:
        otp.send(pid, "stop")
    await trio.testing.wait_all_tasks_blocked()
    assert node.messages_received() == before  # ended processes no longer count


async def test_processes_ended_because_the_outer_program_cancels_the_node_report_shutdown(autojump_clock):
    watcher = otp.spawn(_watcher, otp.current_pid())
    with trio.move_on_after(0.01):
        async with otp.open_node():
            pid = otp.spawn(otp.receive)
            otp.send(watcher, (otp.current_pid(), pid))
            await assert_receive(lambda m: m == ("watching", pid))
            await trio.sleep_forever()
    seen = {await assert_receive(tuple) for _ in range(2)}
    assert seen == {("down", pid, otp.SHUTDOWN), ("exit", pid, otp.SHUTDOWN)}

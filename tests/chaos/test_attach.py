"""otp.chaos.attach against real trees: kills at a rate, the seed replays them, the report is exact.

Every test runs on the autojump clock: virtual time jumps to the next
kill as soon as everything is blocked, so a run of seconds takes none, and
the counts are exact (every restart is done before the next kill).
"""

import pytest
import trio
from _workers import Worker

import otp
from otp import GenServer, Restart, Supervisor, telemetry
from otp.chaos import ChaosConfig, Fault, Targets, attach
from otp.testing import capture_crash_reports, flush_mailbox

WORKERS = 10


def workers(n=WORKERS, restart=Restart.PERMANENT, named=True, config=None):
    return [
        Worker.child_spec(config or {}, id=i, name=f"w{i}" if named else None, restart=restart) for i in range(n)
    ]


async def start_tree(children=None, **options):
    options = {"max_restarts": 10_000, "max_seconds": 1.0, **options}
    return await Supervisor.start_link(children if children is not None else workers(), **options)


async def run(tree, **options) -> otp.chaos.ChaosReport:
    """One run that ends on its own (duration or count), to its report."""
    with capture_crash_reports():
        async with attach(tree, ChaosConfig(**options)) as chaos:
            await chaos.wait()
    return chaos.report()


async def test_a_run_kills_at_its_rate_and_the_tree_restarts_every_victim(autojump_clock):
    tree = await start_tree()
    start = trio.current_time()
    report = await run(tree, seed=1, rate=100, duration=0.5)
    assert trio.current_time() - start == pytest.approx(0.5)
    assert (report.kills, report.missed, report.spared, report.restarts) == (50, 0, 0, 50)
    assert report.kills_by_reason == {"kill": 50}
    assert (report.intact, report.problems, report.seed) == (True, (), 1)
    assert [fault.number for fault in report.faults] == list(range(1, 51))
    assert {fault.outcome for fault in report.faults} == {"killed"}
    assert [fault.at for fault in report.faults[:3]] == pytest.approx([0.01, 0.02, 0.03])
    assert {fault.target.path for fault in report.faults} <= {(i,) for i in range(WORKERS)}
    assert len(await Supervisor.which_children(tree)) == WORKERS


async def test_the_same_seed_replays_the_same_kills_and_another_seed_does_not(autojump_clock):
    logs = []
    for seed in (7, 7, 8):
        tree = await start_tree()
        report = await run(tree, seed=seed, rate=50, count=40, reasons={otp.KILL: 2, otp.SHUTDOWN: 1, "chaos": 1})
        await Supervisor.stop(tree)
        logs.append(report.faults)
    first, again, other = logs
    assert len(first) == 40 and first == again and first != other
    assert [(f.target.path, f.reason) for f in first] == [(f.target.path, f.reason) for f in again]
    assert {f.reason for f in first} == {otp.KILL, otp.SHUTDOWN, "chaos"}


async def test_targets_by_name_pattern_are_the_only_ones_struck(autojump_clock):
    tree = await start_tree(workers() + [Worker.child_spec({}, id="cache", name="cache.users")])
    async with attach(tree, ChaosConfig(targets=Targets(name="cache.*"), count=5, rate=10)) as chaos:
        assert [t.path for t in chaos.targets] == [("cache",)]
        with capture_crash_reports():
            await chaos.wait()
    report = chaos.report()
    assert (report.kills, report.restarts, report.intact) == (5, 5, True)
    assert {fault.target.name for fault in report.faults} == {"cache.users"}


async def test_supervisors_at_any_depth_can_be_the_targets_and_restarts_under_new_ones_count(autojump_clock):
    inner = Supervisor.child_spec(workers(2, named=False), id="inner", max_restarts=100, max_seconds=1.0)
    tree = await start_tree([inner, Worker.child_spec({}, id="other")])
    # Both the inner supervisor and its (unnamed) workers: a worker killed after its
    # supervisor was restarted has a new pid there, and its restart is made by a new supervisor.
    targets = Targets(where=lambda t: t.path[0] == "inner")
    async with attach(tree, ChaosConfig(seed=3, targets=targets, rate=10, count=30)) as chaos:
        assert [t.path for t in chaos.targets] == [("inner",), ("inner", 0), ("inner", 1)]
        with capture_crash_reports():
            await chaos.wait()
    report = chaos.report()
    struck = {fault.target.path for fault in report.faults}
    assert struck == {("inner",), ("inner", 0), ("inner", 1)}
    assert (report.kills, report.missed, report.restarts, report.intact) == (30, 0, 30, True)
    only_supervisors = await run(tree, seed=3, targets=Targets(kind="supervisor"), rate=10, count=3)
    assert {fault.target.path for fault in only_supervisors.faults} == {("inner",)}


async def test_shutdown_ends_transient_children_for_good_and_the_tree_is_still_intact(autojump_clock):
    tree = await start_tree(workers(3, restart=Restart.TRANSIENT))
    report = await run(tree, seed=2, rate=10, count=20, reasons={otp.SHUTDOWN: 1})
    assert report.kills + report.missed == 20
    assert report.kills == 3 and report.restarts == 0  # each ended normally, once; then nothing ran there
    assert report.kills_by_reason == {"shutdown": 3}
    assert (report.intact, [c.pid for c in await Supervisor.which_children(tree)]) == (True, [None, None, None])


async def test_a_process_that_traps_exits_takes_a_custom_reason_as_a_message_and_lives_on(autojump_clock):
    me = otp.current_pid()
    tree = await start_tree([Worker.child_spec({"trap_exits": True, "notify": me}, id="w", name="w")])
    pid = otp.whereis("w")
    flush_mailbox()
    report = await run(tree, rate=10, count=3, reasons={"chaos": 1})
    assert (report.kills, report.restarts, report.intact, otp.whereis("w")) == (3, 0, True, pid)
    infos = [m for m in flush_mailbox() if m[0] == "info"]
    assert [(m[1], type(m[2]), m[2].reason) for m in infos] == [(pid, otp.ExitSignal, "chaos")] * 3


async def test_a_target_with_nothing_running_there_is_missed(autojump_clock):
    tree = await start_tree([Worker.child_spec({}, id="once", restart=Restart.TEMPORARY)])
    report = await run(tree, rate=10, count=3)
    assert [fault.outcome for fault in report.faults] == ["killed", "missed", "missed"]
    assert (report.kills, report.missed, report.restarts, report.intact) == (1, 2, 0, True)


async def test_spare_restarts_keeps_a_supervisor_within_its_intensity(autojump_clock):
    tree = await start_tree(max_restarts=3, max_seconds=5.0)
    report = await run(tree, rate=10, count=10, spare_restarts=1)
    # 3 restarts in 5 s: two kills leave one to spare, the rest of the second are spared.
    assert [fault.outcome for fault in report.faults] == ["killed"] * 2 + ["spared"] * 8
    assert (report.kills, report.spared, report.restarts, report.intact) == (2, 8, 2, True)
    assert otp.is_alive(tree)


async def test_without_spare_restarts_a_supervisor_gives_up_and_the_report_says_so(autojump_clock):
    otp.trap_exits(True)  # the tree is linked to the test: see its end as a message
    tree = await start_tree(max_restarts=3, max_seconds=5.0)
    report = await run(tree, rate=10, count=10)
    assert (report.intact, report.problems) == (False, ("the root supervisor is not running",))
    assert report.kills == 4 and report.missed == 6  # the 4th restart was one too many: the tree is gone
    signal = await otp.receive(otp.ExitSignal)
    assert (signal.pid, signal.reason) == (tree, otp.Shutdown("reached_max_restart_intensity"))


async def test_a_probe_is_called_at_its_interval_and_its_failures_are_counted_by_error(autojump_clock):
    tree = await start_tree()
    calls = []
    fifth = trio.Event()

    async def probe():
        calls.append(trio.current_time())
        if len(calls) == 5:
            fifth.set()
        if len(calls) % 2 == 0:
            raise LookupError("every second call fails")
        await GenServer.call("w0", "ping")

    async with attach(tree, ChaosConfig(rate=0, probe=probe, probe_interval=0.25)) as chaos:
        await fifth.wait()
    report = chaos.report()
    assert (report.probe_calls, report.probe_failures, report.probe_failures_by_error) == (5, 2, {"LookupError": 2})
    assert [b - a for a, b in zip(calls, calls[1:], strict=False)] == pytest.approx([0.25] * 4)
    assert report.kills == 0 and report.faults == ()


async def test_statistics_count_while_the_run_goes(autojump_clock):
    tree = await start_tree()
    with capture_crash_reports():
        async with attach(tree, ChaosConfig(rate=10)) as chaos:
            await trio.sleep(1.05)
            now = chaos.statistics()
    assert (now.kills, now.restarts, now.missed, now.elapsed) == (10, 10, 0, pytest.approx(1.05))
    assert chaos.report().kills == 10


async def test_misuse_is_answered_with_a_sentence(autojump_clock):
    tree = await start_tree()
    worker = otp.whereis("w0")
    with pytest.raises(ValueError) as error:
        async with attach(worker, ChaosConfig()):
            pass
    assert str(error.value) == f"otp.chaos.attach: {worker!r} is not a running supervisor of this node"
    with pytest.raises(ValueError) as error:
        async with attach("nobody", ChaosConfig()):
            pass
    assert str(error.value) == "otp.chaos.attach: 'nobody' is not a running supervisor of this node"
    async with attach(tree, ChaosConfig(rate=0)) as chaos:
        with pytest.raises(RuntimeError) as error:
            await chaos.wait()
        assert str(error.value) == "Chaos.wait(): this run has no end of its own: give ChaosConfig a duration or a count"
        with pytest.raises(RuntimeError) as error:
            chaos.report()
        assert str(error.value) == "Chaos.report(): the run is still running; the report is made when the attach block ends"


async def test_a_block_that_raises_leaves_nothing_running(autojump_clock):
    tree = await start_tree()
    before = set(otp.processes())

    async def probe():
        await GenServer.call("w0", "ping")

    with pytest.raises(KeyError):
        async with attach(tree, ChaosConfig(rate=10, probe=probe)) as chaos:
            assert len(set(otp.processes()) - before) == 2  # the injector and the probe
            raise KeyError("the test's own failure")
    await trio.testing.wait_all_tasks_blocked()
    assert set(otp.processes()) == before
    assert telemetry.list_handlers(("otp", "supervisor", "restart")) == []
    assert flush_mailbox() == []
    with pytest.raises(RuntimeError) as error:
        chaos.report()
    assert "the run was abandoned (its block raised)" in str(error.value)


async def test_faults_compare_by_kill_not_by_timing():
    target = otp.chaos.Target(("w",), "w", otp.ChildType.WORKER, Restart.PERMANENT, "genserver")
    assert Fault(1, target, otp.KILL, "killed", 0.1) == Fault(1, target, otp.KILL, "missed", 0.2)
    assert Fault(1, target, otp.KILL, "killed", 0.1) != Fault(1, target, otp.SHUTDOWN, "killed", 0.1)


async def test_on_fault_sees_each_kill_as_it_is_made(autojump_clock):
    tree = await start_tree()
    seen = []

    def on_fault(fault):  # in the injector, right after each kill
        seen.append((fault, trio.current_time()))

    start = trio.current_time()
    report = await run(tree, rate=10, count=3, on_fault=on_fault)
    assert [fault for fault, _ in seen] == list(report.faults)
    assert [at - start for _, at in seen] == pytest.approx([0.1, 0.2, 0.3])


async def test_an_on_fault_that_raises_ends_the_run_and_its_caller(autojump_clock):
    tree = await start_tree()
    otp.trap_exits(True)

    def on_fault(fault):
        raise RuntimeError("the hook failed")

    async def caller():
        async with attach(tree, ChaosConfig(rate=10, count=3, on_fault=on_fault)) as chaos:
            await chaos.wait()

    with capture_crash_reports():
        pid = otp.spawn_link(caller)
        signal = await otp.receive(lambda m: isinstance(m, otp.ExitSignal) and m.pid == pid)
    assert repr(signal.reason) == "RuntimeError('the hook failed')"
    assert telemetry.list_handlers(("otp", "supervisor", "restart")) == []

"""otp.introspection: supervision trees as data, top processes by mailbox and by rate, and process_info's additions."""

import sys

import trio

import otp
from otp import ChildType, DynamicSupervisor, GenServer, Restart, Shutdown, Strategy, Supervisor, Task, introspection
from otp.introspection import ChildNode, ProcessRate, ProcessSample, RestartRecord, SupervisorNode
from otp.testing import TelemetryEvent, assert_receive, capture_crash_reports, forward_telemetry
from web.channel import Channel, Ok
from web.socket import Socket
from web.testing import connect

from _workers import Worker  # tests/ is on sys.path


async def pid_of(supervisor, child_id):
    return {c.id: c.pid for c in await Supervisor.which_children(supervisor)}[child_id]


async def stuck():
    await otp.receive(lambda m: m == "stop")


# ---------------------------------------------------------------- supervision trees


async def test_a_nested_tree_after_a_restart_is_exact_data():
    inner_children = [Worker.child_spec({}, id="c1"), Worker.child_spec({}, id="c2", restart=Restart.TRANSIENT)]
    root = await Supervisor.start_link(
        [
            Worker.child_spec({}, id="a"),
            Supervisor.child_spec(inner_children, id="inner", strategy=Strategy.ONE_FOR_ALL, max_restarts=5, max_seconds=10.0, name="inner_sup"),
            DynamicSupervisor.child_spec(id="dyn"),
        ],
        strategy=Strategy.REST_FOR_ONE,
        name="root_sup",
    )
    inner, dyn, a = await pid_of(root, "inner"), await pid_of(root, "dyn"), await pid_of(root, "a")
    dyn_child = await DynamicSupervisor.start_child(dyn, Worker.child_spec({}, id="w"))
    old_c1 = await pid_of(inner, "c1")
    with capture_crash_reports(), forward_telemetry(("otp", "supervisor", "restart")):
        otp.exit(old_c1, "boom")
        await assert_receive(TelemetryEvent)
    c1, c2 = await pid_of(inner, "c1"), await pid_of(inner, "c2")  # (a call: answered once the restart is done)
    assert c1 != old_c1

    [tree] = introspection.supervision_tree()
    [restart] = tree.children[1].supervisor.recent_restarts
    assert 0 <= restart.at <= trio.current_time()
    assert tree == SupervisorNode(
        pid=root, name="root_sup", strategy=Strategy.REST_FOR_ONE, dynamic=False, max_restarts=3, max_seconds=5.0,
        restarts=0, recent_restarts=(),
        children=(
            ChildNode("a", a, ChildType.WORKER, Restart.PERMANENT),
            ChildNode("inner", inner, ChildType.SUPERVISOR, Restart.PERMANENT, SupervisorNode(
                pid=inner, name="inner_sup", strategy=Strategy.ONE_FOR_ALL, dynamic=False, max_restarts=5, max_seconds=10.0,
                restarts=1, recent_restarts=(RestartRecord(restart.at, "c1", old_c1, "boom"),),
                children=(
                    ChildNode("c1", c1, ChildType.WORKER, Restart.PERMANENT),
                    ChildNode("c2", c2, ChildType.WORKER, Restart.TRANSIENT),
                ),
            )),
            ChildNode("dyn", dyn, ChildType.SUPERVISOR, Restart.PERMANENT, SupervisorNode(
                pid=dyn, name=None, strategy=Strategy.ONE_FOR_ONE, dynamic=True, max_restarts=3, max_seconds=5.0,
                restarts=0, recent_restarts=(),
                children=(ChildNode(None, dyn_child, ChildType.WORKER, Restart.PERMANENT),),
            )),
        ),
    )
    assert introspection.supervisor_tree("inner_sup") == tree.children[1].supervisor


async def test_supervisors_no_supervisor_supervises_are_the_roots_oldest_first():
    first = await Supervisor.start_link([Worker.child_spec({}, id="w")])
    second = await DynamicSupervisor.start_link()
    # A supervisor started by a plain process is a root too (an endpoint's connection supervisor is one).
    me = otp.current_pid()

    async def owner():
        otp.send(me, ("owned", await DynamicSupervisor.start_link()))
        await otp.receive()

    owner_pid = otp.spawn_link(owner)
    _, owned = await assert_receive(tuple)
    roots = introspection.supervision_tree()
    assert [root.pid for root in roots] == [first, second, owned]
    assert introspection.supervisor_tree(owner_pid) is None
    assert introspection.supervisor_tree("nobody") is None


async def test_a_stopped_child_shows_no_pid():
    sup = await Supervisor.start_link([Worker.child_spec({}, id="w", restart=Restart.TRANSIENT)])
    await GenServer.stop(await pid_of(sup, "w"), Shutdown("done"))
    await Supervisor.which_children(sup)  # the supervisor has seen the exit
    assert introspection.supervisor_tree(sup).children == (ChildNode("w", None, ChildType.WORKER, Restart.TRANSIENT),)


# ---------------------------------------------------------------- top processes


async def test_top_by_mailbox_ranks_the_longest_queues_first():
    pids = [otp.spawn(stuck) for _ in range(3)]
    for pid, count in zip(pids, (5, 50, 20)):
        for n in range(count):
            otp.send(pid, n)
    otp.register("busiest", pids[1])
    assert introspection.top_by_mailbox(2) == [
        ProcessSample(pids[1], "busiest", None, 50, 0),
        ProcessSample(pids[2], None, None, 20, 0),
    ]
    for pid in pids:
        otp.send(pid, "stop")


async def test_top_by_rate_counts_the_messages_handled_between_two_snapshots(autojump_clock):
    busy, quiet = await Worker.start_link({}), await Worker.start_link({})
    before = introspection.snapshot()
    for _ in range(30):
        GenServer.cast(busy, "ping")
    for _ in range(10):
        GenServer.cast(quiet, "ping")
    await GenServer.call(busy, "ping")
    await GenServer.call(quiet, "ping")
    await trio.sleep(2.0)
    after = introspection.snapshot()
    assert after.at - before.at == 2.0
    assert introspection.top_by_rate(before, after, 2) == [
        ProcessRate(busy, None, "genserver", 0, 31, 15.5),
        ProcessRate(quiet, None, "genserver", 0, 11, 5.5),
    ]
    me = otp.current_pid()
    assert [(row.pid, row.messages) for row in introspection.top_by_rate(before, after)][2:] == [(me, 2)]  # the replies


async def test_sample_measures_over_an_interval(autojump_clock):
    async def counter():
        while True:
            await otp.receive()

    pid = otp.spawn(counter)
    for n in range(5):
        otp.send_after(pid, n, 0.1 * (n + 1))
    assert await introspection.sample(1.0, n=3) == [ProcessRate(pid, None, None, 0, 5, 5.0)]


async def test_top_by_rate_needs_a_later_snapshot():
    now = introspection.snapshot()
    try:
        introspection.top_by_rate(now, now)
    except ValueError as error:
        assert "needs a later second snapshot" in str(error)
    else:
        raise AssertionError("expected ValueError")


# ---------------------------------------------------------------- process_info


class EchoChannel(Channel):
    async def handle_in(self, event, payload, socket):
        return Ok(payload)


class EchoSocket(Socket):
    channels = {"echo:*": EchoChannel}


async def test_process_info_says_what_a_process_runs():
    worker = await Worker.start_link({})
    sup = await Supervisor.start_link([])
    dyn = await DynamicSupervisor.start_link()
    task = Task.spawn(stuck)
    plain = otp.spawn(stuck)
    await otp.PubSub.start_link("introspection_pubsub")
    client = await connect(EchoSocket, pubsub="introspection_pubsub")
    await client.join("echo:1")
    [channel] = [pid for pid in otp.processes() if otp.process_info(pid).kind == "channel"]
    kinds = [otp.process_info(pid).kind for pid in (worker, sup, dyn, task.pid, plain, channel)]
    assert kinds == ["genserver", "supervisor", "supervisor", "task", None, "channel"]
    assert otp.process_info(worker).current_function == "otp.genserver._loop._run"
    assert otp.process_info(plain).current_function == f"{__name__}.stuck"
    otp.send(task.pid, "stop")
    otp.send(plain, "stop")


async def test_the_memory_estimate_grows_with_the_mailbox():
    pid = otp.spawn(stuck)
    empty = otp.process_info(pid).memory
    for n in range(1000):
        otp.send(pid, ("payload", n, "x" * 100))
    full = otp.process_info(pid).memory
    # Shallow: each queued tuple counts as a tuple of 3, not with what it holds.
    assert empty > 0 and full - empty >= 1000 * sys.getsizeof(("payload", 0, "x"))
    otp.send(pid, "stop")


async def test_messages_received_counts_each_message_taken_including_call_replies():
    me = otp.current_pid()
    start = otp.process_info(me).messages_received
    worker = await Worker.start_link({})  # its start acknowledgement is one message
    otp.send(me, "a")
    otp.send(me, "b")
    assert await otp.receive(lambda m: m == "b") == "b"  # "a" stays queued: not counted
    assert otp.process_info(me).messages_received == start + 2
    await GenServer.call(worker, "ping")
    assert otp.process_info(me).messages_received == start + 3
    assert otp.process_info(worker).messages_received == 1
    assert introspection.snapshot().processes[me].message_queue_len == 1

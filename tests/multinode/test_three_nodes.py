"""Three node OS processes, one real redis-server, and the test as a fourth node.

The test process joins the cluster as node "test" and drives the others
through the same protocol any node uses: broadcasts, remote calls,
monitors. Then it kills one node with SIGKILL, and restarts Redis.
"""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trio

import otp
from otp import GenServer, dist, pubsub
from otp.pubsub.redis import Redis
from otp.testing import assert_receive
from otp.tracker import Tracker

from .node import SECRET, TRACKER_OPTIONS, NodePresence

NODE_SCRIPT = Path(__file__).with_name("node.py")
NAMES = ["n1", "n2", "n3"]

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(redis_server):
    """Three node processes, each printed "ready"; killed after the test."""
    processes = {}
    for name in NAMES:
        processes[name] = subprocess.Popen(
            [sys.executable, str(NODE_SCRIPT), name, str(redis_server.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
    try:
        for name, process in processes.items():
            line = process.stdout.readline()
            assert line == "ready\n", f"node {name} did not start: {line!r}"
        yield processes
    finally:
        for process in processes.values():
            process.kill()
            process.wait()


async def join(redis_server):
    await dist.start("test", port=redis_server.port, secret=SECRET, heartbeat=0.2, down_after=2.0)
    adapter = Redis(port=redis_server.port, secret=SECRET, node_name="test")
    await pubsub.start_link("app", adapter=adapter)
    await adapter.wait_connected()
    otp.register("watcher", otp.current_pid())
    return adapter


async def pongs(n, count=3, timeout=5.0):
    got = [await assert_receive(lambda m: m[0] == "pong" and m[2] == n, timeout=timeout) for _ in range(count)]
    return sorted(node for _, node, _ in got)


async def test_broadcast_remote_call_and_node_down_across_three_os_processes(cluster, redis_server):
    await join(redis_server)
    me = otp.current_pid()

    # A broadcast reaches the subscribers on every node.
    pubsub.broadcast("app", "room", ("ping", me, 1))
    assert await pongs(1) == NAMES

    # Remote calls, by name on each node.
    for name in NAMES:
        assert await GenServer.call(("counter", name), "incr", timeout=5.0) == (name, 1)

    # Every node must know the others before one goes: a node never heard
    # from cannot be declared down. Each listener answers once it has.
    for name in NAMES:
        others = [other for other in NAMES if other != name]
        await GenServer.call(("listener", name), ("wait_for", others), timeout=10.0)

    # SIGKILL a node: the test's monitor fires with NODEDOWN, and the two
    # other nodes report that they saw it go, within 5 s.
    ref = otp.monitor(("counter", "n3"))
    started = trio.current_time()
    cluster["n3"].send_signal(signal.SIGKILL)
    down = await assert_receive(otp.Down, timeout=5.0)
    assert (down.ref, down.pid, down.reason) == (ref, ("counter", "n3"), otp.NODEDOWN)
    seen = {await assert_receive(lambda m: m[0] == "nodedown", timeout=5.0) for _ in range(2)}
    assert seen == {("nodedown", "n1", "n3"), ("nodedown", "n2", "n3")}
    assert trio.current_time() - started < 5.0


async def test_restarting_redis_heals_pubsub_without_losing_broadcasts(cluster, redis_server):
    adapter = await join(redis_server)
    me = otp.current_pid()
    pubsub.broadcast("app", "room", ("ping", me, 1))
    assert await pongs(1) == NAMES

    redis_server.kill()
    await adapter.wait_connected(False)
    for n in (2, 3, 4):  # queued while Redis is away
        pubsub.broadcast("app", "room", ("ping", me, n))
    assert adapter.statistics().pending == 3
    redis_server.restart()

    for n in (2, 3, 4):
        assert await pongs(n, timeout=15.0) == NAMES
    stats = adapter.statistics()
    assert (stats.pending, stats.dropped) == (0, {})


async def test_presence_converges_in_under_2_s_and_a_killed_node_s_presences_leave_in_under_5_s(cluster, redis_server):
    await join(redis_server)
    me = otp.current_pid()
    await NodePresence.start_link(pubsub="app", name="presence", **TRACKER_OPTIONS)

    # The nodes' own presences reach this node.
    lobby = set()
    while lobby != set(NAMES):
        _, _, diff = await assert_receive(lambda m: m[0] == "diff" and m[1] == "test", timeout=5.0)
        lobby |= {key for key, _ in diff.get("lobby", ([], []))[0]}

    # A join here is seen by all three nodes within 2 s.
    started = trio.current_time()
    await Tracker.track("presence", me, "lobby", "tester", {"node": "test"})
    seen_by = set()
    while seen_by != set(NAMES):
        _, node, diff = await assert_receive(lambda m: m[0] == "diff" and m[1] != "test", timeout=2.0)
        if any(key == "tester" for key, _ in diff.get("lobby", ([], []))[0]):
            seen_by.add(node)
    assert trio.current_time() - started < 2.0

    # Kill n3: n1, n2 and this node drop its presence within 5 s.
    started = trio.current_time()
    cluster["n3"].send_signal(signal.SIGKILL)
    dropped_by = set()
    while dropped_by != {"n1", "n2", "test"}:
        _, node, diff = await assert_receive(lambda m: m[0] == "diff", timeout=5.0)
        if any(key == "n3" for key, _ in diff.get("lobby", ([], []))[1]):
            dropped_by.add(node)
    assert trio.current_time() - started < 5.0
    assert sorted(key for key, _ in Tracker.list("presence", "lobby")) == ["n1", "n2", "tester"]

"""Two distributed nodes in one OS process, talking only through a real Redis."""

import pytest
import trio

import otp
from otp import GenServer, dist
from otp.testing import assert_receive

SECRET = b"cluster secret for the tests"


class Counter(GenServer):
    async def init(self, start):
        self.count = start

    async def handle_call(self, request, caller):
        if request == "crash":
            raise ValueError("counter crashed")
        self.count += 1
        return self.count


async def node_b(redis, to, ready, **options):
    """Node B: a registered counter, and a process that forwards what it receives to ``to``."""
    async with otp.open_node(shutdown_timeout=1.0):
        otp.trap_exits(True)
        await dist.start("b", host=redis.host, port=redis.port, secret=SECRET, **options)
        await Counter.start_link(0, name="counter")
        otp.register("echo", otp.current_pid())
        ready.set()
        while True:
            message = await otp.receive()
            if isinstance(message, tuple) and message[0] == "ping":
                otp.send(message[1], ("pong", otp.current_pid()))  # back over Redis
            else:
                otp.send(to, ("b got", message))


async def start_a(redis, **options):
    await dist.start("a", host=redis.host, port=redis.port, secret=SECRET, **options)


async def test_send_to_a_name_on_another_node_and_a_pid_travels_back(redis_server):
    me = otp.current_pid()
    ready = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(node_b, redis_server, me, ready)
        await ready.wait()
        await start_a(redis_server)
        otp.send(("echo", "b"), ("ping", me))
        kind, pid_on_b = await assert_receive(tuple, timeout=5.0)
        assert kind == "pong"
        assert pid_on_b.node != 0  # a remote pid, printed <N.M.0> with N the index of node b
        assert otp.lowlevel.resolve_pid(pid_on_b) is None  # not a process of this node
        otp.send(pid_on_b, "by pid")
        assert await assert_receive(tuple, timeout=5.0) == ("b got", "by pid")
        nursery.cancel_scope.cancel()


async def test_a_remote_call_and_a_remote_crash(redis_server):
    me = otp.current_pid()
    ready = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(node_b, redis_server, me, ready)
        await ready.wait()
        await start_a(redis_server)
        assert await GenServer.call(("counter", "b"), "incr", timeout=5.0) == 1
        assert await GenServer.call(("counter", "b"), "incr", timeout=5.0) == 2
        with otp.testing.capture_crash_reports():
            with pytest.raises(otp.ServerExited) as info:
                await GenServer.call(("counter", "b"), "crash", timeout=5.0)
        assert repr(info.value.reason) == "ValueError('counter crashed')"
        nursery.cancel_scope.cancel()


async def test_monitor_and_link_across_nodes(redis_server):
    me = otp.current_pid()
    ready = trio.Event()
    otp.trap_exits(True)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(node_b, redis_server, me, ready)
        await ready.wait()
        await start_a(redis_server)
        # Learn the remote pid of b's echo process by asking it to send itself.
        ref = otp.monitor(("counter", "b"))
        with otp.testing.capture_crash_reports():
            otp.exit(("counter", "b"), "stop now")
            down = await assert_receive(otp.Down, timeout=5.0)
        assert (down.ref, down.pid, down.reason) == (ref, ("counter", "b"), "stop now")
        nursery.cancel_scope.cancel()


async def test_a_node_that_vanishes_is_declared_down(redis_server):
    me = otp.current_pid()
    ready = trio.Event()
    async with trio.open_nursery() as nursery:
        b_scope = trio.CancelScope()

        async def run_b():
            with b_scope:
                await node_b(redis_server, me, ready, heartbeat=0.05, down_after=0.5)

        nursery.start_soon(run_b)
        await ready.wait()
        await start_a(redis_server, heartbeat=0.05, down_after=0.5)
        await dist.monitor_nodes()
        assert await assert_receive(dist.NodeUp, timeout=5.0) == dist.NodeUp("b")
        ref = otp.monitor(("counter", "b"))
        b_scope.cancel()  # node b is gone: no more heartbeats, no more answers
        assert await assert_receive(dist.NodeDown, timeout=5.0) == dist.NodeDown("b")
        down = await assert_receive(otp.Down, timeout=1.0)
        assert (down.ref, down.reason) == (ref, otp.NODEDOWN)
        nursery.cancel_scope.cancel()


async def node_b_worker(redis, to, ready, **options):
    """Node B with one process that reports its pid, links to whoever asks, and can be told to crash."""

    async def worker():
        while True:
            message = await otp.receive()
            if message[0] == "link to":
                otp.link(message[1])
                otp.send(message[1], ("linked", otp.current_pid()))
            elif message[0] == "crash":
                raise ValueError("b's worker crashed")

    async with otp.open_node(shutdown_timeout=1.0):
        await dist.start("b", host=redis.host, port=redis.port, secret=SECRET, **options)
        pid = otp.spawn(worker)
        otp.register("worker", pid)
        ready.set()
        await otp.receive(lambda m: False)


async def test_a_link_across_nodes_carries_the_crash_both_ways(redis_server):
    me = otp.current_pid()
    ready = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(node_b_worker, redis_server, me, ready)
        await ready.wait()
        await start_a(redis_server)
        otp.trap_exits(True)

        # B's worker links to us; its crash reaches us as an exit signal.
        otp.send(("worker", "b"), ("link to", me))
        _, remote = await assert_receive(lambda m: m[0] == "linked", timeout=5.0)
        with otp.testing.capture_crash_reports():
            otp.send(remote, ("crash",))
            signal = await assert_receive(otp.ExitSignal, timeout=5.0)
        assert signal.pid == remote
        assert repr(signal.reason) == "ValueError(\"b's worker crashed\")"
        nursery.cancel_scope.cancel()


async def test_a_linked_process_here_ends_when_its_remote_link_ends_and_on_node_down(redis_server):
    me = otp.current_pid()
    ready = trio.Event()
    async with trio.open_nursery() as nursery:
        b_scope = trio.CancelScope()

        async def run_b():
            with b_scope:
                await node_b_worker(redis_server, me, ready, heartbeat=0.05, down_after=0.5)

        nursery.start_soon(run_b)
        await ready.wait()
        await start_a(redis_server, heartbeat=0.05, down_after=0.5)

        # A local, non-trapping process linked to B's worker dies when B vanishes.
        async def linked_here():
            with pytest.raises(TypeError, match="link\\(\\) needs a pid"):
                otp.link(("worker", "b"))
            otp.send(("worker", "b"), ("link to", otp.current_pid()))  # it links to us, by pid
            await otp.receive(lambda m: m[0] == "linked")
            otp.send(me, "linked")
            await otp.receive(lambda m: False)

        pid, ref = otp.spawn_monitor(linked_here)
        await assert_receive(lambda m: m == "linked", timeout=5.0)
        await dist.monitor_nodes()
        await assert_receive(dist.NodeUp, timeout=5.0)
        b_scope.cancel()
        with otp.testing.capture_crash_reports():
            down = await assert_receive(otp.Down, timeout=5.0)
        assert (down.ref, down.pid, down.reason) == (ref, pid, otp.NODEDOWN)
        nursery.cancel_scope.cancel()

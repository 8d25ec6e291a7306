"""Node faults: two distributed nodes in one OS process, talking only through a real Redis, under otp.chaos.

Node ``a`` is the test's node and runs the chaos; node ``b`` runs in a
node of its own beside it and knows nothing of chaos. Everything a fault
does is seen from both sides: what reaches ``b``, what ``b`` says back.
"""

import pytest
import trio

import otp
from otp import GenServer, Supervisor, dist
from otp.chaos import ChaosConfig, NodeFault, NodeFaultCounts, attach
from otp.testing import assert_receive

SECRET = b"chaos test cluster secret"
FAST = {"heartbeat": 0.05, "down_after": 0.5}

pytestmark = pytest.mark.slow  # a real Redis, and a node declared down after half a second


class Idle(GenServer):
    async def init(self, arg):
        pass


async def node_b(redis, to, ready):
    """Node b: an echo process that answers ("ping", n, pid) with ("pong", n) and tells ``to`` of nodes up and down."""
    async with otp.open_node(shutdown_timeout=1.0):
        await dist.start("b", host=redis.host, port=redis.port, secret=SECRET, **FAST)
        otp.register("echo", otp.current_pid())
        await dist.monitor_nodes()
        ready.set()
        while True:
            message = await otp.receive()
            if isinstance(message, tuple) and message[0] == "ping":
                otp.send(message[2], ("pong", message[1]))
            else:
                otp.send(to, ("b saw", message))


async def join(redis, nursery):
    """Start node b beside us, join as node a, and wait until each has heard the other."""
    ready = trio.Event()
    nursery.start_soon(node_b, redis, otp.current_pid(), ready)
    await ready.wait()
    await dist.start("a", host=redis.host, port=redis.port, secret=SECRET, **FAST)
    await dist.monitor_nodes()
    await assert_receive(lambda m: m == dist.NodeUp("b"), timeout=5.0)
    await assert_receive(lambda m: m == ("b saw", dist.NodeUp("a")), timeout=5.0)
    return await Supervisor.start_link([Idle.child_spec(None, id="idle")])  # the tree chaos attaches to


def ping(n: int) -> None:
    otp.send(("echo", "b"), ("ping", n, otp.current_pid()))


async def test_a_partition_cuts_both_ways_until_the_run_ends(redis_server):
    async with trio.open_nursery() as nursery:
        tree = await join(redis_server, nursery)
        async with attach(tree, ChaosConfig(rate=0, nodes=[NodeFault("b", partition=True)])) as chaos:
            ping(1)  # cut: never arrives
            # Each side stops hearing the other: after down_after, each declares the other down.
            assert await assert_receive(dist.NodeDown, timeout=5.0) == dist.NodeDown("b")
            with pytest.raises(otp.CallTimeout):
                await GenServer.call(("echo", "b"), "anything", timeout=0.2)
        # Healed: heartbeats flow again, both sides see the other come back, and messages pass.
        assert await assert_receive(dist.NodeUp, timeout=5.0) == dist.NodeUp("b")
        ping(2)
        assert await assert_receive(lambda m: m[0] == "pong", timeout=5.0) == ("pong", 2)
        [counts] = chaos.report().nodes
        assert counts.node == "b" and counts.cut > 0 and (counts.delayed, counts.dropped) == (0, 0)
        nursery.cancel_scope.cancel()
    # b said so too, in order: a went down, then came back.
    seen = [m[1] for m in otp.testing.flush_mailbox() if isinstance(m, tuple) and m[0] == "b saw"]
    assert [m for m in seen if isinstance(m, (dist.NodeDown, dist.NodeUp))] == [dist.NodeDown("a"), dist.NodeUp("a")]


async def test_drop_loses_messages_but_keeps_the_order_of_the_rest(redis_server):
    async with trio.open_nursery() as nursery:
        tree = await join(redis_server, nursery)
        async with attach(tree, ChaosConfig(rate=0, nodes=[NodeFault("b", drop=1.0)])) as chaos:
            for n in range(5):
                ping(n)
        ping(99)  # the first message after the run: had any of the five arrived, it would have come first
        assert await assert_receive(lambda m: m[0] == "pong", timeout=5.0) == ("pong", 99)
        assert chaos.report().nodes == (NodeFaultCounts("b", delayed=0, dropped=5, cut=0),)
        nursery.cancel_scope.cancel()


async def test_the_same_seed_drops_the_same_messages(redis_server):
    async with trio.open_nursery() as nursery:
        tree = await join(redis_server, nursery)
        delivered = []
        for _ in range(2):
            async with attach(tree, ChaosConfig(seed=3, rate=0, nodes=[NodeFault("b", drop=0.5)])):
                for n in range(20):
                    ping(n)
            ping(-1)  # after the run: every pong of the run is in before its own
            pongs = []
            while (pong := await assert_receive(lambda m: m[0] == "pong", timeout=5.0)) != ("pong", -1):
                pongs.append(pong[1])
            delivered.append(pongs)
        assert delivered[0] == delivered[1] and 0 < len(delivered[0]) < 20
        assert delivered[0] == sorted(delivered[0])
        nursery.cancel_scope.cancel()


async def test_delay_holds_frames_back_in_order(redis_server):
    async with trio.open_nursery() as nursery:
        tree = await join(redis_server, nursery)
        async with attach(tree, ChaosConfig(rate=0, nodes=[NodeFault("b", delay=0.3)])) as chaos:
            sent = trio.current_time()
            for n in range(3):
                ping(n)
            pongs = [await assert_receive(lambda m: m[0] == "pong", timeout=5.0) for _ in range(3)]
            arrived = trio.current_time()
        assert pongs == [("pong", 0), ("pong", 1), ("pong", 2)]
        assert arrived - sent >= 0.3
        [counts] = chaos.report().nodes
        assert counts.delayed >= 3 and (counts.dropped, counts.cut) == (0, 0)
        nursery.cancel_scope.cancel()


async def test_node_faults_need_a_distributed_node():
    tree = await Supervisor.start_link([Idle.child_spec(None, id="idle")])
    with pytest.raises(ValueError) as error:
        async with attach(tree, ChaosConfig(rate=0, nodes=[NodeFault("b", partition=True)])):
            pass
    assert str(error.value) == "otp.chaos: node faults need a distributed node: call otp.dist.start(...) first"

"""The Redis adapter against a real redis-server: the shared suite, then what only many nodes show."""

import pytest
import trio
import trio.testing

import otp
from otp import pubsub
from otp.pubsub.redis import Redis, RedisUnavailable
from otp.testing import assert_receive, refute_receive

from .adapter_suite import *  # noqa: F401,F403

SECRET = b"test secret, shared by the nodes"


@pytest.fixture
def make_adapter(redis_server):
    def make(node_name):
        return Redis(redis_server.host, redis_server.port, secret=SECRET, node_name=node_name)

    return make


PUBSUB = "multi"


async def other_node(nursery, adapter, body, *args):
    """Run ``body(*args)`` as the root of a second node with its own PubSub on ``adapter``.

    Returns once that node's PubSub is connected. (Processes of the two nodes
    live in one OS process here, so the test can hand pids across; between
    real nodes only Redis carries anything: see tests/multinode.)
    """
    ready = trio.Event()

    async def node():
        async with otp.open_node(shutdown_timeout=1.0):
            await pubsub.start_link(PUBSUB, adapter=adapter)
            await adapter.wait_connected()
            ready.set()
            await body(*args)

    nursery.start_soon(node)
    await ready.wait()


async def forward_topic(topic, to):
    """Node B's root: subscribe to ``topic`` and forward what arrives to ``to``."""
    pubsub.subscribe(PUBSUB, topic)
    otp.send(to, ("subscribed", pubsub.node_name(PUBSUB)))
    while True:
        message = await otp.receive()
        otp.send(to, ("node_b got", message))


GREET = "greet"


async def forward_topic_and_greet(topic, to):
    """Like :func:`forward_topic`, but answers a ``GREET`` by broadcasting ("hello from", node) on "greetings"."""
    pubsub.subscribe(PUBSUB, topic)
    otp.send(to, ("subscribed", pubsub.node_name(PUBSUB)))
    while True:
        message = await otp.receive()
        if message == GREET:
            pubsub.broadcast(PUBSUB, "greetings", ("hello from", pubsub.node_name(PUBSUB)))
        else:
            otp.send(to, ("node_b got", message))


async def hear_from_node_b() -> None:
    """Return once this node has had a frame of node B through Redis: it then counts B as a node to wait for."""
    pubsub.subscribe(PUBSUB, "greetings")
    pubsub.broadcast(PUBSUB, "room", GREET)
    assert await assert_receive(tuple, timeout=5.0) == ("hello from", "node_b")
    pubsub.unsubscribe(PUBSUB, "greetings")


async def start_here(make_adapter, name="node_a", **options):
    adapter = make_adapter(name, **options) if options else make_adapter(name)
    await pubsub.start_link(PUBSUB, adapter=adapter)
    await adapter.wait_connected()
    return adapter


async def test_a_broadcast_reaches_subscribers_on_both_nodes_exactly_once(make_adapter):
    me = otp.current_pid()
    async with trio.open_nursery() as nursery:
        await other_node(nursery, make_adapter("node_b"), forward_topic, "room", me)
        await start_here(make_adapter)
        assert await assert_receive(tuple) == ("subscribed", "node_b")
        pubsub.subscribe(PUBSUB, "room")
        pubsub.broadcast(PUBSUB, "room", "hello all")
        assert await assert_receive(str) == "hello all"
        assert await assert_receive(tuple, timeout=2.0) == ("node_b got", "hello all")
        await refute_receive(timeout=0.05)  # no duplicates here or there
        nursery.cancel_scope.cancel()


async def test_broadcast_from_and_direct_broadcast_across_nodes(make_adapter):
    me = otp.current_pid()
    async with trio.open_nursery() as nursery:
        await other_node(nursery, make_adapter("node_b"), forward_topic, "room", me)
        await start_here(make_adapter)
        await assert_receive(tuple)
        pubsub.subscribe(PUBSUB, "room")
        pubsub.broadcast_from(PUBSUB, me, "room", "not to me")
        assert await assert_receive(tuple, timeout=2.0) == ("node_b got", "not to me")
        pubsub.direct_broadcast("node_b", PUBSUB, "room", "only b")
        assert await assert_receive(tuple, timeout=2.0) == ("node_b got", "only b")
        await refute_receive(timeout=0.05)
        nursery.cancel_scope.cancel()


def module_level_dispatcher(entries, from_pid, message):
    for pid, metadata in entries:
        otp.send(pid, ("dispatched", metadata, message))


async def test_a_dispatcher_travels_by_reference_and_runs_on_the_far_node(make_adapter):
    me = otp.current_pid()

    async def subscribe_with_metadata():
        pubsub.subscribe(PUBSUB, "room", {"socket": "b1"})
        otp.send(me, "b subscribed")
        while True:
            otp.send(me, ("node_b got", await otp.receive()))

    async with trio.open_nursery() as nursery:
        await other_node(nursery, make_adapter("node_b"), subscribe_with_metadata)
        await start_here(make_adapter)
        await assert_receive(lambda m: m == "b subscribed")
        pubsub.broadcast(PUBSUB, "room", "m", dispatcher=module_level_dispatcher)
        assert await assert_receive(tuple, timeout=2.0) == ("node_b got", ("dispatched", {"socket": "b1"}, "m"))
        nursery.cancel_scope.cancel()


async def test_frames_signed_with_another_secret_are_dropped_and_counted(make_adapter, redis_server):
    me = otp.current_pid()
    intruder = Redis(redis_server.host, redis_server.port, secret=b"not the shared secret", node_name="intruder")
    async with trio.open_nursery() as nursery:
        await other_node(nursery, intruder, forward_topic, "room", me)
        adapter = Redis(redis_server.host, redis_server.port, secret=SECRET, node_name="node_a", heartbeat=60, node_timeout=120)
        await pubsub.start_link(PUBSUB, adapter=adapter)
        await adapter.wait_connected()
        await assert_receive(tuple)
        pubsub.broadcast(PUBSUB, "room", "signed with the real secret")
        await refute_receive(timeout=0.2)  # the intruder's node could not read it
        # node_a's announcement (its first heartbeat; the next is a minute away) and its broadcast:
        assert intruder.statistics().dropped == {"bad_signature": 2}
        assert adapter.statistics().received == 0
        nursery.cancel_scope.cancel()


async def test_while_redis_is_down_broadcasts_queue_then_refuse_and_nothing_is_lost(make_adapter, redis_server):
    me = otp.current_pid()
    async with trio.open_nursery() as nursery:
        node_b = make_adapter("node_b")
        await other_node(nursery, node_b, forward_topic_and_greet, "room", me)
        adapter = Redis(redis_server.host, redis_server.port, secret=SECRET, node_name="node_a", max_pending=3)
        await pubsub.start_link(PUBSUB, adapter=adapter)
        await adapter.wait_connected()
        await assert_receive(tuple)
        # Queued broadcasts wait for the nodes this one knows of to resubscribe:
        # Redis must not go before node A has heard of node B (or they are lost, counted).
        await hear_from_node_b()

        redis_server.kill()
        await adapter.wait_connected(False)
        for n in range(3):
            pubsub.broadcast(PUBSUB, "room", n)
        assert adapter.statistics().pending == 3
        with pytest.raises(RedisUnavailable, match="max_pending=3"):
            pubsub.broadcast(PUBSUB, "room", "refused")
        assert adapter.statistics().dropped == {"queue_full": 1}

        redis_server.restart()
        await node_b.wait_connected()
        await adapter.wait_connected()
        got = [await assert_receive(tuple, timeout=5.0) for _ in range(3)]
        assert got == [("node_b got", n) for n in range(3)]
        assert adapter.statistics().pending == 0
        assert adapter.statistics().reconnects == 2  # publisher and subscriber
        nursery.cancel_scope.cancel()

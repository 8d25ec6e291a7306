"""The Redis adapter counts every broadcast a node missed (issue #12, item 14), against a real redis-server.

Three nodes, each with its own adapter (two connections of its own), run in
this OS process; a killer connection kills every subscriber connection
(``CLIENT KILL TYPE pubsub``) every 100 ms while all three broadcast. What
each node really received is compared with what each counted.
"""

import itertools
import logging

import pytest
import trio

import otp
from otp import pubsub
from otp.pubsub import dispatch
from otp.pubsub._resp import Connection, pack
from otp.pubsub.redis import BROADCAST, DROP, GOODBYE, HEARTBEAT, NODE_GONE, RECONNECT, Redis, _pickle
from otp.pubsub.redis import MISSED as MISSED_EVENT
from otp.testing import TelemetryEvent, assert_receive, forward_telemetry

SECRET = b"loss counting test secret"
PUBSUB = "losses"
TOPIC = "numbers"
BROADCASTS = 1000  # per node, during the churn
BURST = 5  # broadcasts a node makes at once: a reconnection window then spans several PUBLISHes
KILL_EVERY = 0.1  # seconds between two CLIENT KILL TYPE pubsub
PACE = 0.005  # seconds between two bursts of a node during the churn

pytestmark = pytest.mark.slow


class Node:
    """One node of the test, in this OS process: its adapter, what its subscriber got, a way to broadcast."""

    def __init__(self, name: str, redis_server, **options) -> None:
        self.name = name
        options = {"log_interval": 3600.0, **options}  # one line per cause for the whole test: countable
        self.adapter = Redis(redis_server.host, redis_server.port, secret=SECRET, node_name=name, **options)
        self.got: list = []  # what its subscriber received, in order
        self._arrived = trio.Condition()
        self._to_send, self._requests = trio.open_memory_channel(10_000)
        self.ready = trio.Event()

    def broadcast(self, message: object) -> None:
        """Have the node broadcast ``message`` (its root process does, in order)."""
        self._to_send.send_nowait(message)

    async def wait_for(self, message: object) -> None:
        async with self._arrived:
            while message not in self.got:
                await self._arrived.wait()

    async def run(self) -> None:
        """The node's root: start its PubSub, a recording subscriber, then broadcast what it is asked."""
        async with otp.open_node(shutdown_timeout=1.0):
            await pubsub.start_link(PUBSUB, adapter=self.adapter)
            await self.adapter.wait_connected()
            recorder = otp.spawn_link(self._record, otp.current_pid())
            await otp.receive(lambda m: m == ("recording", recorder))
            self.ready.set()
            async for message in self._requests:
                pubsub.broadcast(PUBSUB, TOPIC, message)

    async def _record(self, root) -> None:
        pubsub.subscribe(PUBSUB, TOPIC)
        otp.send(root, ("recording", otp.current_pid()))
        while True:
            message = await otp.receive()
            async with self._arrived:
                self.got.append(message)
                self._arrived.notify_all()


async def start_nodes(nursery, redis_server, names, **options) -> dict:
    nodes = {name: Node(name, redis_server, **options) for name in names}
    for node in nodes.values():
        nursery.start_soon(node.run)
        await node.ready.wait()
    return nodes


async def everyone_heard_everyone(nodes: dict, tag: str) -> None:
    """Each node broadcasts ``(tag, name)``; return once every node got every other's."""
    for node in nodes.values():
        node.broadcast((tag, node.name))
    for node in nodes.values():
        for other in nodes:
            if other != node.name:
                await node.wait_for((tag, other))


async def close_every_gap(nodes: dict) -> None:
    """Fences until one round reaches every node: a fence is a later number, so every gap before it is counted.

    A node that misses a round's fence was not subscribed at that moment: it
    is reconnecting, and its reconnection (a telemetry event, forwarded to
    the caller) starts another round. Events before a round are from
    reconnections already done.
    """
    me = otp.current_pid()
    for round_number in itertools.count():
        while True:  # reconnections already done
            try:
                otp.receive_nowait(TelemetryEvent)
            except otp.WouldBlock:
                break
        tag = f"fence {round_number}"
        for node in nodes.values():
            node.broadcast((tag, node.name))
        async with trio.open_nursery() as waiting:
            waiting.start_soon(_tell_when_fenced, nodes, tag, me)
            outcome = await otp.receive(lambda m, tag=tag: isinstance(m, TelemetryEvent) or m == ("fenced", tag), timeout=10.0)
            waiting.cancel_scope.cancel()
        if outcome == ("fenced", tag):
            return


async def _tell_when_fenced(nodes: dict, tag: str, me) -> None:
    for node in nodes.values():
        for other in nodes:
            if other != node.name:
                await node.wait_for((tag, other))
    otp.send(me, ("fenced", tag))


async def redis_command(redis_server, *command) -> object:
    connection = await Connection.open(redis_server.host, redis_server.port)
    try:
        await connection.send(pack(*command))
        return await connection.read()
    finally:
        await connection.aclose()


# ---------------------------------------------------------------- under churn: counted == real, per node and origin


async def test_every_broadcast_missed_under_subscriber_churn_is_counted_exactly(redis_server, caplog):
    caplog.set_level(logging.WARNING, logger="otp.pubsub.redis")
    async with trio.open_nursery() as nursery:
        nodes = await start_nodes(nursery, redis_server, ("n1", "n2", "n3"))
        await everyone_heard_everyone(nodes, "hello")  # every node's numbering is known to the others
        killer = await Connection.open(redis_server.host, redis_server.port)
        killed = 0
        with forward_telemetry(RECONNECT):
            async with trio.open_nursery() as churn:

                async def broadcast_all(node: Node) -> None:
                    for number in range(BROADCASTS):
                        node.broadcast((node.name, number))
                        if number % BURST == BURST - 1:
                            await trio.sleep(PACE)  # a steady stream of bursts, not one burst between two kills

                for node in nodes.values():
                    churn.start_soon(broadcast_all, node)
                while len(churn.child_tasks):
                    await killer.send(pack(b"CLIENT", b"KILL", b"TYPE", b"pubsub"))
                    killed += await killer.read()
                    await trio.sleep(KILL_EVERY)
            await killer.aclose()
            await close_every_gap(nodes)

        real = {(node.name, origin): BROADCASTS - len({m for m in node.got if m[0] == origin})
                for node in nodes.values() for origin in nodes if origin != node.name}
        for node in nodes.values():
            assert len(node.got) == len(set(node.got)), f"{node.name} got a broadcast twice"
            counted = node.adapter.statistics().missed
            assert counted == {origin: real[node.name, origin] for origin in nodes if real.get((node.name, origin))}
        nursery.cancel_scope.cancel()

    total_real = sum(real.values())
    assert killed >= 10 and total_real > 0  # the churn did cost something, or the test tests nothing
    lines = [record.getMessage() for record in caplog.records if record.name == "otp.pubsub.redis"]
    for node in nodes.values():
        own = [line for line in lines if line.startswith(repr(node.adapter))]
        missed_lines = [line for line in own if "broadcasts of other nodes missed" in line]
        assert len(missed_lines) == (1 if node.adapter.statistics().missed else 0), own  # one per interval
        assert len([line for line in own if "connection to Redis lost or refused" in line]) == 1, own


# ---------------------------------------------------------------- the publisher's count, and who is expected


class Ghost:
    """A node that announces itself on the bus but has no subscriber: every broadcast misses it."""

    def __init__(self, redis_server, name: str = "ghost") -> None:
        self.frames = Redis(redis_server.host, redis_server.port, secret=SECRET, node_name=name)  # never started
        self.redis_server = redis_server
        self.channel = self.frames._channel(PUBSUB)

    async def say(self, kind: bytes, sequence: int, payload: bytes = b"") -> None:
        await redis_command(self.redis_server, b"PUBLISH", self.channel, self.frames._frame(kind, sequence, payload))

    async def announce(self, hello: str) -> None:
        """Its heartbeat, then a broadcast of ``hello`` on TOPIC: once that arrives, the heartbeat has too."""
        await self.say(HEARTBEAT, 0)
        await self.say(BROADCAST, 1, _pickle((TOPIC, hello, dispatch)))


class Listener:
    """A bare subscriber of the PubSub's channel: tells when frames went through Redis."""

    def __init__(self, redis_server, channel: bytes) -> None:
        self.redis_server, self.channel = redis_server, channel

    async def __aenter__(self) -> "Listener":
        self.connection = await Connection.open(self.redis_server.host, self.redis_server.port)
        await self.connection.send(pack(b"SUBSCRIBE", self.channel))
        await self.connection.read()  # subscribed
        return self

    async def receive(self, count: int) -> None:
        """Wait for ``count`` broadcasts (heartbeats pass by uncounted)."""
        while count:
            _, _, frame = await self.connection.read()
            origin_length = frame[1 + 32]  # version, HMAC, then the origin's name (module docstring)
            count -= frame[2 + 32 + origin_length : 3 + 32 + origin_length] == BROADCAST

    async def __aexit__(self, *exc_info) -> None:
        await self.connection.send(pack(b"UNSUBSCRIBE", self.channel))
        while (await self.connection.read())[0] != b"unsubscribe":  # gone from the count once confirmed
            pass
        await self.connection.aclose()


async def test_every_broadcast_that_misses_an_expected_node_is_counted_until_it_says_goodbye(redis_server, caplog):
    caplog.set_level(logging.WARNING, logger="otp.pubsub.redis")
    adapter = Redis(redis_server.host, redis_server.port, secret=SECRET, node_name="here", node_timeout=60.0,
                    log_interval=3600.0)
    await pubsub.start_link(PUBSUB, adapter=adapter)
    await adapter.wait_connected()
    pubsub.subscribe(PUBSUB, TOPIC)
    ghost = Ghost(redis_server)
    await ghost.announce("ghost here")
    assert await assert_receive(str, timeout=5.0) == "ghost here"
    assert adapter.statistics().nodes == ("ghost",)

    with forward_telemetry(DROP, NODE_GONE):
        for number in range(20):
            pubsub.broadcast(PUBSUB, "elsewhere", number)
        drops = [await assert_receive(TelemetryEvent, timeout=5.0) for _ in range(20)]
        # Each one: ghost and this node expected, only this node's subscriber reached.
        assert [(d.measurements["dropped"], d.metadata["expected"], d.metadata["receivers"]) for d in drops] == [
            (n, 2, 1) for n in range(1, 21)
        ]
        await ghost.say(GOODBYE, 1)
        gone = await assert_receive(TelemetryEvent, timeout=5.0)
        assert (gone.name, gone.metadata["node"], gone.metadata["reason"]) == (NODE_GONE, "ghost", "goodbye")
        assert adapter.statistics().nodes == ()
        async with Listener(redis_server, ghost.channel) as listener:  # one more subscriber: never short
            for number in range(10):
                pubsub.broadcast(PUBSUB, "elsewhere", number)  # nobody else expected: nothing to count
            await listener.receive(10)  # published: counted (or not) already
        # A second ghost: the next broadcast is short again, and the count goes on from 20, not 30.
        other = Ghost(redis_server, "ghost2")
        await other.announce("ghost2 here")
        assert await assert_receive(str, timeout=5.0) == "ghost2 here"
        pubsub.broadcast(PUBSUB, "elsewhere", "one more")
        drop = await assert_receive(TelemetryEvent, timeout=5.0)
    assert (drop.measurements["dropped"], drop.metadata["expected"], drop.metadata["receivers"]) == (21, 2, 1)
    assert adapter.statistics().dropped == {"fewer_receivers": 21}
    assert adapter.statistics().missed == {}  # it missed nothing of theirs: their numbers have no gap
    # The first short broadcast is logged at once; the 20 after it wait for the interval (an hour here).
    assert [r.getMessage() for r in caplog.records if "fewer subscribed nodes" in r.getMessage()] == [
        f"{adapter!r}: broadcasts that reached fewer subscribed nodes than expected (expected/reached): 1 (2/1: 1)"
    ]


async def test_a_node_silent_for_node_timeout_is_no_longer_expected(redis_server):
    adapter = Redis(redis_server.host, redis_server.port, secret=SECRET, node_name="here", heartbeat=0.05, node_timeout=0.3)
    await pubsub.start_link(PUBSUB, adapter=adapter)
    await adapter.wait_connected()
    pubsub.subscribe(PUBSUB, TOPIC)
    with forward_telemetry(NODE_GONE):
        ghost = Ghost(redis_server)
        await ghost.announce("ghost here")
        assert await assert_receive(str, timeout=5.0) == "ghost here"
        started = trio.current_time()
        gone = await assert_receive(TelemetryEvent, timeout=5.0)
    assert (gone.metadata["node"], gone.metadata["reason"]) == ("ghost", "silent")
    assert trio.current_time() - started >= 0.3 - 0.05  # not before its node_timeout (from the last frame heard)
    assert adapter.statistics().nodes == ()


async def test_a_gap_at_the_end_of_a_burst_is_found_by_the_next_heartbeat(redis_server):
    adapter = Redis(redis_server.host, redis_server.port, secret=SECRET, node_name="here", node_timeout=60.0)
    await pubsub.start_link(PUBSUB, adapter=adapter)
    await adapter.wait_connected()
    pubsub.subscribe(PUBSUB, TOPIC)
    ghost = Ghost(redis_server)
    with forward_telemetry(MISSED_EVENT):
        await ghost.announce("ghost here")  # broadcast number 1
        assert await assert_receive(str, timeout=5.0) == "ghost here"
        await ghost.say(HEARTBEAT, 4)  # it sent 2, 3 and 4 while we were not listening
        missed = await assert_receive(TelemetryEvent, timeout=5.0)
        await ghost.say(BROADCAST, 5, _pickle((TOPIC, "five", dispatch)))
        assert await assert_receive(str, timeout=5.0) == "five"  # no gap: nothing more counted
        await ghost.say(BROADCAST, 5, _pickle((TOPIC, "five again", dispatch)))  # a resend: dropped
        await ghost.say(BROADCAST, 7, _pickle((TOPIC, "seven", dispatch)))
        assert await assert_receive(str, timeout=5.0) == "seven"
        again = await assert_receive(TelemetryEvent, timeout=5.0)
    assert (missed.measurements, missed.metadata["origin"]) == ({"missed": 3, "total": 3}, "ghost")
    assert again.measurements == {"missed": 1, "total": 4}
    assert adapter.statistics().missed == {"ghost": 4}
    assert adapter.statistics().dropped == {"duplicate": 1}


async def test_a_stopping_node_says_goodbye_and_is_no_longer_expected(redis_server):
    adapter = Redis(redis_server.host, redis_server.port, secret=SECRET, node_name="here", node_timeout=60.0)
    await pubsub.start_link(PUBSUB, adapter=adapter)
    await adapter.wait_connected()
    with forward_telemetry(NODE_GONE):
        async with trio.open_nursery() as nursery:
            nodes = await start_nodes(nursery, redis_server, ("leaving",), node_timeout=60.0)
            pubsub.subscribe(PUBSUB, TOPIC)
            nodes["leaving"].broadcast(("hello", "leaving"))
            assert await assert_receive(tuple, timeout=5.0) == ("hello", "leaving")  # so it is heard from
            assert adapter.statistics().nodes == ("leaving",)
            nursery.cancel_scope.cancel()  # its node closes: its processes are shut down
        gone = await assert_receive(TelemetryEvent, timeout=5.0)
    assert (gone.metadata["node"], gone.metadata["reason"]) == ("leaving", "goodbye")
    assert adapter.statistics().nodes == ()

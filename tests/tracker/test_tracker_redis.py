"""Trackers on two and three nodes, replicating over the Redis PubSub adapter and a real redis-server.

The nodes live in this OS process (``otp.open_node()`` in a nursery task),
so the test can hand pids across and ask another node to run a function
(``OtherNode.run``); between them only Redis carries anything.

Real time, small periods: trio's autojump clock would jump over
heartbeats and down periods while the sockets wait for Redis, taking
healthy nodes down. Tests wait for events (diffs, replica events), never
for a fixed time.
"""

import trio

import otp
from otp import GenServer, pubsub
from otp.pubsub.redis import Redis
from otp.testing import assert_receive, refute_receive
from otp.tracker import ReplicaEvent, ReplicaStatus, Tracker
from otp.tracker._shard import _Heartbeat, _TransferRequest

import pytest

SECRET = b"test secret, shared by the nodes"
PUBSUB, NAME = "tracker_pubsub", "presence"
PERIODS = {"broadcast_period": 0.05, "max_silent_periods": 1, "down_period": 0.25, "permdown_period": 0.45}
UP, DOWN, PERMDOWN = ReplicaStatus.UP, ReplicaStatus.DOWN, ReplicaStatus.PERMDOWN


class Forwarder(Tracker):
    """Sends each diff to the test, saying which node saw it."""

    async def init(self, args):
        self.test, self.node = args

    async def handle_diff(self, diff):
        otp.send(self.test, ("diff", self.node, diff))


@pytest.fixture
def make_adapter(redis_server):
    def make(node_name):
        return Redis(redis_server.host, redis_server.port, secret=SECRET, node_name=node_name)

    return make


async def start_tracker(adapter, test, **options):
    """Start a PubSub on ``adapter`` and a Forwarder tracker on it, in the calling node."""
    await pubsub.start_link(PUBSUB, adapter=adapter)
    await adapter.wait_connected()
    return await Forwarder.start_link((test, adapter.node_name), pubsub=PUBSUB, name=NAME, **{**PERIODS, **options})


class OtherNode:
    """Another node with its own PubSub and tracker; it runs functions for the test."""

    def __init__(self, nursery, adapter, test):
        self.nursery, self.adapter, self.test = nursery, adapter, test
        self.name = adapter.node_name
        self.closed = trio.Event()

    async def start(self):
        ready = trio.Event()

        async def node():
            async with otp.open_node(shutdown_timeout=1.0):
                await start_tracker(self.adapter, self.test)
                self.root = otp.current_pid()
                ready.set()
                await serve_requests()
            self.closed.set()

        self.nursery.start_soon(node)
        await ready.wait()
        return self

    async def run(self, function, *args):
        """``await function(*args)`` (or call it) in that node; return the result."""
        tag = otp.Ref.make()
        otp.send(self.root, (otp.current_pid(), tag, function, args))
        return (await assert_receive(lambda m: isinstance(m, tuple) and m[0] == tag, timeout=2.0))[1]

    async def close(self):
        """End the node's root: the node shuts down as a program's would, tracker first."""
        otp.send(self.root, "close")
        await self.closed.wait()


async def serve_requests():
    while True:
        request = await otp.receive()
        if request == "close":
            return
        reply_to, tag, function, args = request
        result = function(*args)
        if hasattr(result, "__await__"):
            result = await result
        otp.send(reply_to, (tag, result))


async def track_a_new_process(key, meta):
    """In a node: spawn a process that lives until killed, track it; return (pid, phx_ref)."""
    pid = otp.spawn(otp.receive)
    return pid, await Tracker.track(NAME, pid, "room", key, meta)


def diff_seen_by(node):
    return lambda m: isinstance(m, tuple) and len(m) == 3 and m[:2] == ("diff", node)


async def next_diff(node):
    return (await assert_receive(diff_seen_by(node), timeout=2.0))[2]


async def next_event(status):
    return await assert_receive(lambda m: isinstance(m, ReplicaEvent) and m.status is status, timeout=2.0)


# ---------------------------------------------------------------- tests


async def test_a_join_on_one_node_appears_on_the_other_after_a_heartbeat(make_adapter):
    me = otp.current_pid()
    async with trio.open_nursery() as nursery:
        b = await OtherNode(nursery, make_adapter("node_b"), me).start()
        await start_tracker(make_adapter("node_a"), me)

        ref = await Tracker.track(NAME, me, "room", "alice", {"on": "a"})
        alice = {"on": "a", "phx_ref": ref}
        assert await next_diff("node_a") == {"room": ([("alice", alice)], [])}
        assert await next_diff("node_b") == {"room": ([("alice", alice)], [])}
        assert await b.run(Tracker.list, NAME, "room") == [("alice", alice)]
        assert await b.run(Tracker.get_by_key, NAME, "room", "alice") == [(me, alice)]

        bob_pid, bob_ref = await b.run(track_a_new_process, "bob", {"on": "b"})
        bob = {"on": "b", "phx_ref": bob_ref}
        assert await next_diff("node_a") == {"room": ([("bob", bob)], [])}
        assert Tracker.list(NAME, "room") == [("alice", alice), ("bob", bob)]
        assert Tracker.get_by_key(NAME, "room", "bob") == [(bob_pid, bob)]
        assert Tracker.replicas(NAME) == {"node_b": UP}
        nursery.cancel_scope.cancel()


async def test_updates_and_leaves_propagate(make_adapter):
    me = otp.current_pid()
    async with trio.open_nursery() as nursery:
        b = await OtherNode(nursery, make_adapter("node_b"), me).start()
        await start_tracker(make_adapter("node_a"), me)
        ref = await Tracker.track(NAME, me, "room", "alice", {"status": "away"})
        await next_diff("node_b")

        new_ref = await Tracker.update(NAME, me, "room", "alice", {"status": "here"})
        old, new = {"status": "away", "phx_ref": ref}, {"status": "here", "phx_ref": new_ref, "phx_ref_prev": ref}
        assert await next_diff("node_b") == {"room": ([("alice", new)], [("alice", old)])}

        await Tracker.untrack(NAME, me)
        assert await next_diff("node_b") == {"room": ([], [("alice", new)])}
        assert await b.run(Tracker.list, NAME, "room") == []
        await refute_receive(diff_seen_by("node_b"), timeout=0.15)  # three periods: nothing more
        nursery.cancel_scope.cancel()


async def test_a_node_that_stops_is_marked_down_then_removed_for_good(make_adapter):
    me = otp.current_pid()
    async with trio.open_nursery() as nursery:
        b = await OtherNode(nursery, make_adapter("node_b"), me).start()
        await start_tracker(make_adapter("node_a"), me, report_events_to=me)
        assert await next_event(UP) == ReplicaEvent(NAME, "node_b", UP)
        _, ref = await b.run(track_a_new_process, "bob", {})
        assert await next_diff("node_a") == {"room": ([("bob", {"phx_ref": ref})], [])}

        closing_at = trio.current_time()
        await b.close()
        assert await next_event(DOWN) == ReplicaEvent(NAME, "node_b", DOWN)
        assert await next_diff("node_a") == {"room": ([], [("bob", {"phx_ref": ref})])}
        down_at = trio.current_time()
        assert Tracker.list(NAME, "room") == [] and Tracker.replicas(NAME) == {"node_b": DOWN}

        assert await next_event(PERMDOWN) == ReplicaEvent(NAME, "node_b", PERMDOWN)
        permdown_at = trio.current_time()
        assert Tracker.replicas(NAME) == {}
        await refute_receive(diff_seen_by("node_a"), timeout=0.05)  # the leaves were reported once, at down
        # Not too early: silence counts from the last heartbeat heard, sent at
        # most a period before the close began (and allow a period of latency).
        early = 2 * PERIODS["broadcast_period"]
        assert down_at - closing_at >= PERIODS["down_period"] - early
        assert permdown_at - closing_at >= PERIODS["permdown_period"] - early


async def test_a_tracker_that_starts_late_finds_the_gap_and_gets_the_state_by_transfer(make_adapter):
    me = otp.current_pid()
    async with trio.open_nursery() as nursery:
        await start_tracker(make_adapter("node_a"), me)
        pubsub.subscribe(PUBSUB, f"otp_tracker:{NAME}")  # to watch the trackers' own traffic
        ref = await Tracker.track(NAME, me, "room", "alice", {})
        # Node A's delta with alice goes out before node B listens: B will never see it.
        await assert_receive(lambda m: isinstance(m, _Heartbeat) and m.delta is not None, timeout=2.0)

        await OtherNode(nursery, make_adapter("node_b"), me).start()
        request = await assert_receive(_TransferRequest, timeout=2.0)
        assert request.replica[0] == "node_b"
        assert await next_diff("node_b") == {"room": ([("alice", {"phx_ref": ref})], [])}
        nursery.cancel_scope.cancel()


async def test_a_restarted_tracker_is_a_new_replica_and_its_old_presences_leave_at_once(make_adapter):
    me = otp.current_pid()
    async with trio.open_nursery() as nursery:
        b = await OtherNode(nursery, make_adapter("node_b"), me).start()
        await start_tracker(make_adapter("node_a"), me, report_events_to=me)
        await next_event(UP)
        _, ref = await b.run(track_a_new_process, "bob", {})
        await next_diff("node_a")

        async def restart_tracker():
            await GenServer.stop(NAME)
            await Forwarder.start_link((me, "node_b"), pubsub=PUBSUB, name=NAME, **PERIODS)

        await b.run(restart_tracker)
        started = trio.current_time()
        events = [await assert_receive(ReplicaEvent, timeout=2.0) for _ in range(3)]
        assert [event.status for event in events] == [DOWN, PERMDOWN, UP]
        assert await next_diff("node_a") == {"room": ([], [("bob", {"phx_ref": ref})])}
        assert trio.current_time() - started < PERIODS["down_period"]  # no waiting for silence
        assert Tracker.replicas(NAME) == {"node_b": UP}
        nursery.cancel_scope.cancel()


async def test_three_nodes_see_each_other_s_presences(make_adapter):
    me = otp.current_pid()
    async with trio.open_nursery() as nursery:
        b = await OtherNode(nursery, make_adapter("node_b"), me).start()
        c = await OtherNode(nursery, make_adapter("node_c"), me).start()
        await start_tracker(make_adapter("node_a"), me)
        await Tracker.track(NAME, me, "room", "alice", {})
        await b.run(track_a_new_process, "bob", {})
        await c.run(track_a_new_process, "carol", {})
        for node in ("node_a", "node_b", "node_c"):
            joined = set()
            while len(joined) < 3:
                joined |= {key for key, _ in (await next_diff(node))["room"][0]}
            assert joined == {"alice", "bob", "carol"}
        keys = lambda presences: sorted(key for key, _ in presences)  # noqa: E731
        assert keys(Tracker.list(NAME, "room")) == ["alice", "bob", "carol"]
        assert keys(await b.run(Tracker.list, NAME, "room")) == keys(await c.run(Tracker.list, NAME, "room"))
        assert Tracker.replicas(NAME) == {"node_b": UP, "node_c": UP}
        nursery.cancel_scope.cancel()

"""The conformance suite every PubSub adapter passes (Phoenix.PubSub's shared adapter tests).

A test module for an adapter defines a fixture ``make_adapter`` returning a
function ``(node_name) -> adapter`` and star-imports this module. The tests
use only the public PubSub API, so what passes here works for users.
"""

import pytest
import trio.testing

import otp
import otp.testing
from otp import pubsub
from otp.lowlevel import queued_messages
from otp.testing import assert_receive, refute_receive

PUBSUB = "suite_pubsub"


@pytest.fixture
def start(make_adapter):
    """``await start()`` starts the PubSub under test in the test's node and returns its name.

    (A fixture cannot start it: async fixtures do not run inside the test's node.)
    """

    async def start_pubsub() -> str:
        await pubsub.start_link(PUBSUB, adapter=make_adapter("node_a"))
        return PUBSUB

    return start_pubsub


def collect_into(parent):
    """A dispatcher that reports what it was given instead of sending."""

    def dispatcher(entries, from_pid, message):
        otp.send(parent, ("dispatched", sorted(entries), from_pid, message))

    return dispatcher


async def subscriber(parent, topic, metadata=None):
    """A process that subscribes, says so, then forwards what it receives."""
    pubsub.subscribe(PUBSUB, topic, metadata)
    otp.send(parent, ("subscribed", otp.current_pid()))
    while True:
        message = await otp.receive()
        otp.send(parent, ("got", otp.current_pid(), message))


async def start_subscribers(topic, count, metadata=None):
    me = otp.current_pid()
    pids = [otp.spawn(subscriber, me, topic, metadata) for _ in range(count)]
    for pid in pids:
        await assert_receive(lambda m, pid=pid: m == ("subscribed", pid))
    return pids


async def test_a_broadcast_reaches_every_subscriber_of_the_topic_once(start):
    started = await start()
    pids = await start_subscribers("room:1", 3)
    others = await start_subscribers("room:2", 1)
    pubsub.broadcast(started, "room:1", "hello")
    got = sorted([await assert_receive(lambda m: m[0] == "got") for _ in pids])
    assert got == sorted(("got", pid, "hello") for pid in pids)
    await trio.testing.wait_all_tasks_blocked()
    assert queued_messages() == []
    assert others  # subscribed elsewhere: got nothing


async def test_the_caller_receives_its_own_broadcast_when_subscribed(start):
    started = await start()
    pubsub.subscribe(started, "t")
    pubsub.broadcast(started, "t", {"n": 1})
    assert await assert_receive() == {"n": 1}


async def test_broadcast_from_skips_the_sender(start):
    started = await start()
    pubsub.subscribe(started, "t")
    (other,) = await start_subscribers("t", 1)
    pubsub.broadcast_from(started, otp.current_pid(), "t", "from me")
    assert await assert_receive() == ("got", other, "from me")
    await refute_receive(lambda m: m == "from me")


async def test_local_broadcast_and_local_broadcast_from(start):
    started = await start()
    pubsub.subscribe(started, "t")
    pubsub.local_broadcast(started, "t", 1)
    assert await assert_receive() == 1
    pubsub.local_broadcast_from(started, otp.current_pid(), "t", 2)
    await refute_receive()


async def test_subscribing_twice_delivers_twice_and_unsubscribe_removes_both(start):
    started = await start()
    pubsub.subscribe(started, "t")
    pubsub.subscribe(started, "t")
    pubsub.broadcast(started, "t", "m")
    assert [await assert_receive(), await assert_receive()] == ["m", "m"]
    pubsub.unsubscribe(started, "t")
    pubsub.broadcast(started, "t", "after")
    await refute_receive()


async def test_a_subscriber_that_ended_receives_nothing_and_its_entry_vanishes(start):
    started = await start()
    (pid,) = await start_subscribers("t", 1)
    ref = otp.monitor(pid)
    otp.exit(pid, otp.KILL)
    await assert_receive(lambda m: isinstance(m, otp.Down) and m.ref == ref)
    pubsub.broadcast(started, "t", "anyone?")
    await trio.testing.wait_all_tasks_blocked()
    assert otp.Registry.lookup(started, "t") == []
    assert queued_messages() == []


async def test_a_dispatcher_gets_all_entries_with_metadata_at_once(start):
    started = await start()
    me = otp.current_pid()
    pids = await start_subscribers("t", 2, metadata={"fastlane": True})
    pubsub.broadcast_from(started, pids[0], "t", "encoded once", dispatcher=collect_into(me))
    message = await assert_receive(lambda m: m[0] == "dispatched")
    assert message == ("dispatched", sorted((pid, {"fastlane": True}) for pid in pids), pids[0], "encoded once")


async def test_direct_broadcast_to_this_node_delivers_locally(start):
    started = await start()
    pubsub.subscribe(started, "t")
    pubsub.direct_broadcast(pubsub.node_name(started), started, "t", "direct")
    assert await assert_receive() == "direct"


async def test_direct_broadcast_to_another_node_does_not_deliver_here(start):
    started = await start()
    pubsub.subscribe(started, "t")
    pubsub.direct_broadcast("some_other_node", started, "t", "not for us")
    await refute_receive()


async def test_topics_must_be_strings(start):
    started = await start()
    with pytest.raises(TypeError, match="topic must be a str"):
        pubsub.subscribe(started, ("room", 1))
    with pytest.raises(TypeError, match="topic must be a str"):
        pubsub.broadcast(started, 1, "m")


async def test_an_unknown_pubsub_is_a_clear_error(start):
    await start()
    with pytest.raises(otp.NotRegistered):
        pubsub.subscribe("no_such_pubsub", "t")
    with pytest.raises(otp.NotRegistered):
        pubsub.broadcast("no_such_pubsub", "t", "m")


async def test_the_pubsub_is_a_rest_for_one_tree_and_survives_a_subscriber_crash(start):
    started = await start()
    sup = otp.whereis(f"{started}.supervisor")
    rows = await otp.Supervisor.which_children(sup)
    assert rows[-1].id == "registry"  # the first started: which_children lists newest first
    (pid,) = await start_subscribers("t", 1)
    with otp.testing.capture_crash_reports():
        otp.exit(pid, "boom")
        await trio.testing.wait_all_tasks_blocked()
    assert otp.is_alive(sup)
    pubsub.subscribe(started, "t")
    pubsub.broadcast(started, "t", "still here")
    assert await assert_receive() == "still here"

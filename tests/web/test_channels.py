"""The channel protocol (docs/protocol/channels.md) through web.testing: a real socket state and real channel processes."""

import pytest
import trio
import trio.testing

import otp
from otp import PubSub, Stop
from otp.testing import capture_crash_reports
from web.channel import Channel, Error, Ok
from web.socket import Socket
from web._message import Broadcast
from web.testing import ANY, connect

PUBSUB = "web_test_pubsub"


class RoomChannel(Channel):
    intercept = ("secret_shout",)

    async def join(self, topic, payload, socket):
        room = topic.split(":", 1)[1]
        if room == "secret" and payload.get("password") != "letmein":
            return Error({"reason": "unauthorized"})
        if room == "explode":
            raise RuntimeError("join exploded")
        socket.assigns["room"] = room
        return Ok({"room": room, "user": socket.assigns["user"]})

    async def handle_in(self, event, payload, socket):
        if event == "ping":
            return Ok(payload)
        if event == "shout":
            socket.broadcast("shout", {"body": payload["body"], "user": socket.assigns["user"]})
            return None
        if event == "typing":
            socket.broadcast_from("typing", {"user": socket.assigns["user"]})
            return None
        if event == "secret_shout":
            socket.broadcast("secret_shout", payload)
            return None
        if event == "crash":
            raise RuntimeError("asked to crash")
        if event == "stop":
            return Stop(otp.NORMAL, reply=Ok({"bye": True}))
        if event == "later":
            otp.send(otp.current_pid(), ("reply_later", socket.ref))
            return None
        if event == "bad_return":
            return 42
        if event == "follow":
            otp.pubsub.subscribe(PUBSUB, payload["topic"])
            return Ok({})
        return Error({"reason": "unknown event"})

    async def handle_out(self, event, payload, socket):
        socket.push(event, {**payload, "seen_by": socket.assigns["user"]})

    async def handle_info(self, message, socket):
        if isinstance(message, tuple) and message[0] == "reply_later":
            socket.reply(message[1], Ok({"later": True}))
        elif isinstance(message, Broadcast):
            socket.push("followed", {"topic": message.topic, "event": message.event, "payload": message.payload})


class UserSocket(Socket):
    channels = {"room:*": RoomChannel}

    async def connect(self, params, connect_info):
        user = params.get("user")
        return {"user": user} if user else None

    def id(self, assigns):
        return f"users_socket:{assigns['user']}"


async def client(user="alice"):
    if otp.whereis(f"{PUBSUB}.supervisor") is None:
        await PubSub.start_link(PUBSUB)
    return await connect(UserSocket, {"user": user}, pubsub=PUBSUB)


async def test_connect_can_refuse():
    await PubSub.start_link(PUBSUB)
    assert await connect(UserSocket, {}, pubsub=PUBSUB) is None


async def test_heartbeat_is_answered_without_any_channel():
    c = await client()
    ref = c.heartbeat()
    assert await c.next_frame() == [None, ref, "phoenix", "phx_reply", {"status": "ok", "response": {}}]


async def test_a_join_is_answered_first_with_join_ref_and_ref_equal_to_the_join_ref():
    c = await client()
    assert await c.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})
    join_ref = c.join_refs["room:lobby"]
    ref = c.push("room:lobby", "ping", {"n": 1})
    assert await c.next_frame() == [join_ref, ref, "room:lobby", "phx_reply", {"status": "ok", "response": {"n": 1}}]


async def test_a_refused_join_leaves_no_channel_process():
    c = await client()
    before = otp.processes()
    assert await c.join("room:secret", {}) == ("error", {"reason": "unauthorized"})
    await trio.testing.wait_all_tasks_blocked()
    assert otp.processes() == before
    assert await c.join("room:secret", {"password": "letmein"}) == ("ok", {"room": "secret", "user": "alice"})


async def test_a_topic_without_a_route_is_an_unmatched_topic_with_a_null_join_ref():
    c = await client()
    c.join_refs["nowhere"] = "9"
    c.send_raw('["9","9","nowhere","phx_join",{}]')
    assert await c.next_frame() == [None, "9", "nowhere", "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}}]


async def test_a_join_that_raises_is_join_crashed_and_the_socket_stays_open():
    c = await client()
    with capture_crash_reports() as reports:
        assert await c.join("room:explode") == ("error", {"reason": "join crashed"})
    assert "join exploded" in reports[0].getMessage()
    assert await c.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})


async def test_a_push_to_a_topic_not_joined_is_unmatched_topic():
    c = await client()
    ref = c.push("room:lobby", "ping", {})
    assert await c.next_frame() == [None, ref, "room:lobby", "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}}]


async def test_a_push_with_an_old_join_ref_is_ignored():
    c = await client()
    await c.join("room:lobby")
    c.push("room:lobby", "ping", {}, join_ref="old")
    await c.refute_frame()


async def test_unknown_events_get_an_error_reply_and_the_channel_stays_joined():
    c = await client()
    await c.join("room:lobby")
    ref = c.push("room:lobby", "nope", {})
    await c.assert_reply(ref, "error", {"reason": "unknown event"})
    ref = c.push("room:lobby", "ping", {"still": "here"})
    await c.assert_reply(ref, "ok", {"still": "here"})


async def test_broadcast_reaches_every_member_as_a_broadcast_frame_and_broadcast_from_skips_the_sender():
    alice, bob = await client("alice"), await client("bob")
    await alice.join("room:lobby")
    await bob.join("room:lobby")
    alice.push("room:lobby", "shout", {"body": "hi"})
    for c in (alice, bob):
        await c.assert_broadcast("room:lobby", "shout", {"body": "hi", "user": "alice"})
    alice.push("room:lobby", "typing", {})
    await bob.assert_broadcast("room:lobby", "typing", {"user": "alice"})
    await alice.refute_frame()


async def test_an_intercepted_event_goes_through_handle_out_as_a_push():
    alice, bob = await client("alice"), await client("bob")
    await alice.join("room:lobby")
    await bob.join("room:lobby")
    alice.push("room:lobby", "secret_shout", {"body": "psst"})
    frame = await bob.assert_push("room:lobby", "secret_shout", {"body": "psst", "seen_by": "bob"})
    assert frame[0] == bob.join_refs["room:lobby"] and frame[1] is None


async def test_a_broadcast_on_another_topic_the_channel_follows_arrives_in_handle_info_not_handle_out():
    alice = await client("alice")
    await alice.join("room:lobby")
    ref = alice.push("room:lobby", "follow", {"topic": "news"})
    await alice.assert_reply(ref, "ok", {})
    otp.pubsub.broadcast(PUBSUB, "news", Broadcast("news", "secret_shout", {"body": "extra"}))
    # handle_out would have added "seen_by": this went through handle_info.
    await alice.assert_push("room:lobby", "followed", {"topic": "news", "event": "secret_shout", "payload": {"body": "extra"}})


async def test_leave_replies_ok_then_phx_close_and_the_channel_ends_with_shutdown_left():
    c = await client()
    await c.join("room:lobby")
    join_ref = c.join_refs["room:lobby"]
    ref = c.push("room:lobby", "phx_leave", {})
    assert await c.next_frame() == [join_ref, ref, "room:lobby", "phx_reply", {"status": "ok", "response": {}}]
    assert await c.next_frame() == [join_ref, join_ref, "room:lobby", "phx_close", {}]


async def test_leave_of_a_topic_not_joined_is_ok():
    c = await client()
    ref = c.push("room:lobby", "phx_leave", {}, join_ref="3")
    assert await c.next_frame() == ["3", ref, "room:lobby", "phx_reply", {"status": "ok", "response": {}}]


async def test_a_channel_stopping_normally_sends_phx_close():
    c = await client()
    await c.join("room:lobby")
    join_ref = c.join_refs["room:lobby"]
    ref = c.push("room:lobby", "stop", {})
    await c.assert_reply(ref, "ok", {"bye": True})
    assert await c.next_frame() == [join_ref, join_ref, "room:lobby", "phx_close", {}]


async def test_a_crashing_channel_sends_phx_error_and_the_other_channels_live_on():
    c = await client()
    await c.join("room:lobby")
    await c.join("room:other")
    join_ref = c.join_refs["room:lobby"]
    with capture_crash_reports() as reports:
        c.push("room:lobby", "crash", {})
        assert await c.next_frame() == [join_ref, join_ref, "room:lobby", "phx_error", {"reason": "channel_crash"}]
    assert "asked to crash" in reports[0].getMessage()
    ref = c.push("room:other", "ping", {"alive": True})
    await c.assert_reply(ref, "ok", {"alive": True})
    assert await c.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})  # the client's rejoin


async def test_a_wrong_callback_return_crashes_the_channel_with_a_type_error_naming_it():
    c = await client()
    await c.join("room:lobby")
    with capture_crash_reports() as reports:
        c.push("room:lobby", "bad_return", {})
        frame = await c.next_frame()
    assert frame[3] == "phx_error"
    assert "RoomChannel.handle_in returned 42; expected Ok(response), Error(response), None or Stop(reason, reply=...)" in reports[0].getMessage()


async def test_a_deferred_reply_keeps_the_ref_and_join_ref():
    c = await client()
    await c.join("room:lobby")
    ref = c.push("room:lobby", "later", {})
    assert await c.next_frame() == [c.join_refs["room:lobby"], ref, "room:lobby", "phx_reply", {"status": "ok", "response": {"later": True}}]


async def test_a_duplicate_join_stops_the_old_channel_answers_the_new_then_closes_the_old():
    c = await client()
    await c.join("room:lobby")
    old = c.join_refs["room:lobby"]
    c.join_refs["room:lobby"] = "77"
    c.send_raw('["77","77","room:lobby","phx_join",{}]')
    assert await c.next_frame() == ["77", "77", "room:lobby", "phx_reply", {"status": "ok", "response": {"room": "lobby", "user": "alice"}}]
    assert await c.next_frame() == [old, old, "room:lobby", "phx_close", {}]


async def test_closing_the_connection_ends_every_channel_and_sends_nothing():
    c = await client()
    await c.join("room:lobby")
    await c.join("room:other")
    channels = [p for p in otp.processes() if otp.process_info(p).function == "web._channel_server.run_channel"]
    assert len(channels) == 2
    refs = [otp.monitor(p) for p in channels]
    await c.close()
    downs = [await otp.receive(lambda m, r=r: isinstance(m, otp.Down) and m.ref == r, timeout=1.0) for r in refs]
    assert [d.reason for d in downs] == [otp.Shutdown("closed")] * 2
    await c.refute_frame()


MALFORMED = ["not json", '{"a":1}', '["1","2","t"]', '["1","2","t","e",[]]', "[1,2,3,4,5]"]


@pytest.mark.parametrize("frame", MALFORMED)
async def test_a_malformed_frame_closes_only_that_connection_with_1011(frame):
    bad, good = await client("bad"), await client("good")
    await good.join("room:lobby")
    bad.send_raw(frame)
    assert await bad.assert_closed() == 1011
    ref = good.push("room:lobby", "ping", {"ok": True})
    await good.assert_reply(ref, "ok", {"ok": True})


async def test_replies_and_pushes_from_one_channel_arrive_in_order():
    c = await client()
    await c.join("room:lobby")
    refs = [c.push("room:lobby", "ping", {"n": n}) for n in range(20)]
    frames = [await c.next_frame() for _ in refs]
    assert [f[1] for f in frames] == refs
    assert [f[4]["response"]["n"] for f in frames] == list(range(20))




# ---------------------------------------------------------------- socket-wide: disconnect, rate limit, supervision


async def test_a_disconnect_broadcast_on_the_socket_id_closes_those_sockets_with_1001():
    from web.socket import disconnect

    alice, bob = await client("alice"), await client("bob")
    await alice.join("room:lobby")
    disconnect(PUBSUB, "users_socket:alice")
    assert await alice.assert_closed() == 1001
    ref = bob.push("room:lobby", "phx_join", {}, join_ref="5")
    await bob.assert_reply(ref, "ok", ANY)


# The rate limit is applied by the transport as it reads: tests/web/test_socket_limits.py.


async def test_channels_can_run_under_a_dynamic_supervisor():
    await PubSub.start_link(PUBSUB)
    sup = await otp.DynamicSupervisor.start_link()
    c = await connect(UserSocket, {"user": "alice"}, pubsub=PUBSUB, channel_supervisor=sup)
    assert await c.join("room:secret") == ("error", {"reason": "unauthorized"})  # refused: no child stays
    assert await c.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})
    (child,) = await otp.DynamicSupervisor.which_children(sup)
    with capture_crash_reports():
        c.push("room:lobby", "crash", {})
        await c.assert_push("room:lobby", "phx_error", {"reason": "channel_crash"})
    assert await c.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})
    (again,) = await otp.DynamicSupervisor.which_children(sup)
    assert again.pid != child.pid  # temporary: the crash was not restarted; the rejoin made a new one


async def test_a_joined_channel_keeps_nothing_of_its_join_and_no_mailbox_between_messages():
    import gc

    await PubSub.start_link(PUBSUB)
    sup = await otp.DynamicSupervisor.start_link()
    c = await connect(UserSocket, {"user": "alice"}, pubsub=PUBSUB, channel_supervisor=sup)
    note = ["a payload only the join needs"]  # (a list: the collector lists it, and the dict holding it)
    assert await c.join("room:lobby", {"note": note}) == ("ok", {"room": "lobby", "user": "alice"})
    refs = [c.push("room:lobby", "ping", {"n": n}) for n in range(3)]  # the 2nd and 3rd wait in its mailbox
    for n, ref in enumerate(refs):
        await c.assert_reply(ref, "ok", {"n": n})
    (child,) = await otp.DynamicSupervisor.which_children(sup)
    # Neither its supervisor's spec nor the channel's frames hold the join (a payload may carry a password).
    assert [o for o in gc.get_objects() if o.__class__ is list and o == note and o is not note] == []
    assert otp.lowlevel.local_process(child.pid).mailbox is None  # given back while it waits

"""Every row of docs/demo/chat.md against the chat app's socket and channel, through web.testing."""

import pytest
import trio.testing

import otp
import otp.testing
from otp import PubSub
from web.demo.chat import PRESENCE, PUBSUB, ChatSocket
from web.presence import Presence
from web.testing import ANY, connect


async def start():
    await PubSub.start_link(PUBSUB)
    await Presence.start_link(pubsub=PUBSUB, name=PRESENCE, broadcast_period=0.05)


async def joined(user, room="room:lobby"):
    c = await connect(ChatSocket, {"user": user}, pubsub=PUBSUB)
    assert await c.join(room) == ("ok", {"room": room.split(":", 1)[1], "user": user})
    await c.assert_push(room, "presence_state")
    return c


@pytest.mark.parametrize("user", [None, "", "a" * 33, "bad name", "émile"])
async def test_a_missing_or_invalid_user_is_refused(user):
    await start()
    params = {} if user is None else {"user": user}
    assert await connect(ChatSocket, params, pubsub=PUBSUB) is None


@pytest.mark.parametrize("topic", ["lobby", "room:", "room:" + "x" * 65, "room:a b", "other:1"])
async def test_other_topics_are_unmatched(topic):
    await start()
    c = await connect(ChatSocket, {"user": "alice"}, pubsub=PUBSUB)
    assert await c.join(topic) == ("error", {"reason": "unmatched topic"})


async def test_join_replies_tracks_and_pushes_presence_state_and_members_get_the_diff():
    await start()
    alice = await joined("alice")
    await alice.assert_broadcast("room:lobby", "presence_diff", {"joins": {"alice": {"metas": [{"online_at": ANY, "phx_ref": ANY}]}}, "leaves": {}})
    bob = await connect(ChatSocket, {"user": "bob"}, pubsub=PUBSUB)
    await bob.join("room:lobby")
    state = await bob.assert_push("room:lobby", "presence_state")
    assert sorted(state[4]) == ["alice", "bob"]
    await alice.assert_broadcast("room:lobby", "presence_diff", {"joins": {"bob": ANY}, "leaves": {}})


async def test_the_secret_room_needs_the_password_and_leaves_no_process():
    await start()
    c = await connect(ChatSocket, {"user": "alice"}, pubsub=PUBSUB)
    before = otp.processes()
    assert await c.join("room:secret") == ("error", {"reason": "unauthorized"})
    await trio.testing.wait_all_tasks_blocked()
    assert otp.processes() == before
    assert await c.join("room:secret", {"password": "letmein"}) == ("ok", {"room": "secret", "user": "alice"})


async def test_ping_replies_with_the_payload_unchanged():
    await start()
    c = await joined("alice")
    ref = c.push("room:lobby", "ping", {"any": ["json", 1, None, {"x": True}]})
    await c.assert_reply(ref, "ok", {"any": ["json", 1, None, {"x": True}]})


async def test_shout_broadcasts_to_everyone_including_the_sender_without_a_reply():
    await start()
    alice, bob = await joined("alice"), await joined("bob")
    ref = alice.push("room:lobby", "shout", {"body": "hello"})
    for c in (alice, bob):
        await c.assert_broadcast("room:lobby", "shout", {"body": "hello", "user": "alice"})
    with pytest.raises(AssertionError):
        await alice.assert_reply(ref, timeout=0.05)


@pytest.mark.parametrize("payload", [{}, {"body": 5}, {"body": None}, {"body": "x" * 4097}])
async def test_an_invalid_shout_is_an_error_and_nothing_is_broadcast(payload):
    await start()
    alice, bob = await joined("alice"), await joined("bob")
    ref = alice.push("room:lobby", "shout", payload)
    await alice.assert_reply(ref, "error", {"reason": "invalid body"})
    with pytest.raises(AssertionError):
        await bob.assert_broadcast("room:lobby", "shout", timeout=0.05)
    ref = alice.push("room:lobby", "ping", {})
    await alice.assert_reply(ref, "ok", {})  # still joined


async def test_a_shout_of_exactly_4096_characters_is_fine():
    await start()
    alice = await joined("alice")
    alice.push("room:lobby", "shout", {"body": "x" * 4096})
    await alice.assert_broadcast("room:lobby", "shout", {"body": "x" * 4096, "user": "alice"})


async def test_typing_reaches_everyone_but_the_sender():
    await start()
    alice, bob = await joined("alice"), await joined("bob")
    alice.push("room:lobby", "typing", {})
    await bob.assert_broadcast("room:lobby", "typing", {"user": "alice"})
    with pytest.raises(AssertionError):
        await alice.assert_broadcast("room:lobby", "typing", timeout=0.05)


async def test_count_is_the_number_of_distinct_users_present():
    await start()
    alice, bob, alice_again = await joined("alice"), await joined("bob"), await joined("alice")
    ref = alice.push("room:lobby", "count", {})
    await alice.assert_reply(ref, "ok", {"members": 2})
    assert alice_again and bob


async def test_crash_sends_phx_error_and_the_users_other_channels_stay_up():
    await start()
    c = await joined("alice")
    assert await c.join("room:other") == ("ok", {"room": "other", "user": "alice"})
    join_ref = c.join_refs["room:lobby"]
    with otp.testing.capture_crash_reports():
        c.push("room:lobby", "crash", {})
        await c.assert_push("room:lobby", "phx_error", {"reason": "channel_crash"})
    frame = [f for f in [await c.next_frame()] if f]
    assert frame
    ref = c.push("room:other", "ping", {})
    await c.assert_reply(ref, "ok", {})
    assert await c.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})  # the client's rejoin
    assert join_ref != c.join_refs["room:lobby"]


async def test_leave_replies_ok_and_the_others_see_the_presence_leave():
    await start()
    alice, bob = await joined("alice"), await joined("bob")
    await alice.leave("room:lobby")
    await bob.assert_broadcast("room:lobby", "presence_diff", {"joins": {}, "leaves": {"alice": ANY}})


async def test_an_unknown_event_is_an_error_and_the_channel_stays_joined():
    await start()
    c = await joined("alice")
    ref = c.push("room:lobby", "dance", {})
    await c.assert_reply(ref, "error", {"reason": "unknown event"})
    ref = c.push("room:lobby", "ping", {})
    await c.assert_reply(ref, "ok", {})


async def test_closing_the_socket_ends_its_channels_and_the_others_see_the_leave():
    await start()
    alice, bob = await joined("alice"), await joined("bob")
    await alice.close()
    await bob.assert_broadcast("room:lobby", "presence_diff", {"joins": {}, "leaves": {"alice": ANY}}, timeout=1.0)

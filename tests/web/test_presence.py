"""Presence through channels: presence_state to the joiner, presence_diff to every member.

See docs/protocol/channels.md, "Presence".
"""

import otp
import otp.testing
from otp import PubSub
from web import presence
from web.channel import Channel, Ok
from web.presence import Presence
from web.socket import Socket
from web.testing import ANY, connect

PUBSUB = "presence_test_pubsub"
TRACKER = "presence_test_tracker"


class LobbyChannel(Channel):
    async def join(self, topic, payload, socket):
        otp.send(otp.current_pid(), "after_join")
        return Ok({})

    async def handle_in(self, event, payload, socket):
        if event == "away":
            await presence.update(TRACKER, socket, socket.assigns["user"], {"status": "away"})
            return Ok({})
        if event == "count":
            return Ok({"members": len(presence.list_presences(TRACKER, socket.topic))})
        raise RuntimeError("asked to crash")

    async def handle_info(self, message, socket):
        if message == "after_join":
            await presence.track(TRACKER, socket, socket.assigns["user"], {"status": "here"})
            presence.push_state(TRACKER, socket)


class UserSocket(Socket):
    channels = {"lobby:*": LobbyChannel}

    async def connect(self, params, connect_info):
        return {"user": params["user"]}


async def start():
    await PubSub.start_link(PUBSUB)
    await Presence.start_link(pubsub=PUBSUB, name=TRACKER, broadcast_period=0.05)


def meta(status, **extra):
    return {"status": status, "phx_ref": ANY, **extra}


async def test_the_joiner_gets_presence_state_with_itself_and_everyone_gets_the_join_diff():
    await start()
    alice = await connect(UserSocket, {"user": "alice"}, pubsub=PUBSUB)
    await alice.join("lobby:1")
    state = await alice.assert_push("lobby:1", "presence_state", {"alice": {"metas": [meta("here")]}})
    alice_ref = state[4]["alice"]["metas"][0]["phx_ref"]
    assert isinstance(alice_ref, str) and alice_ref
    await alice.assert_broadcast("lobby:1", "presence_diff", {"joins": {"alice": {"metas": [meta("here")]}}, "leaves": {}})

    bob = await connect(UserSocket, {"user": "bob"}, pubsub=PUBSUB)
    await bob.join("lobby:1")
    await bob.assert_push("lobby:1", "presence_state", {"alice": {"metas": [meta("here")]}, "bob": {"metas": [meta("here")]}})
    for c in (alice, bob):
        await c.assert_broadcast("lobby:1", "presence_diff", {"joins": {"bob": {"metas": [meta("here")]}}, "leaves": {}})
    ref = alice.push("lobby:1", "count", {})
    await alice.assert_reply(ref, "ok", {"members": 2})


async def test_an_update_sends_the_new_meta_in_joins_and_the_old_in_leaves_in_one_diff():
    await start()
    alice = await connect(UserSocket, {"user": "alice"}, pubsub=PUBSUB)
    await alice.join("lobby:1")
    state = await alice.assert_push("lobby:1", "presence_state")
    old_ref = state[4]["alice"]["metas"][0]["phx_ref"]
    await alice.assert_broadcast("lobby:1", "presence_diff")
    alice.push("lobby:1", "away", {})
    frame = await alice.assert_broadcast("lobby:1", "presence_diff")
    joins, leaves = frame[4]["joins"], frame[4]["leaves"]
    assert leaves == {"alice": {"metas": [{"status": "here", "phx_ref": old_ref}]}}
    assert joins == {"alice": {"metas": [{"status": "away", "phx_ref": ANY, "phx_ref_prev": old_ref}]}}
    assert joins["alice"]["metas"][0]["phx_ref"] != old_ref


async def test_leaving_crashing_or_closing_makes_the_presence_leave_for_the_others():
    await start()
    bob = await connect(UserSocket, {"user": "bob"}, pubsub=PUBSUB)
    await bob.join("lobby:1")
    await bob.assert_broadcast("lobby:1", "presence_diff", {"joins": {"bob": {"metas": [meta("here")]}}, "leaves": {}})
    for how in ("leave", "crash", "close"):
        alice = await connect(UserSocket, {"user": "alice"}, pubsub=PUBSUB)
        await alice.join("lobby:1")
        await bob.assert_broadcast("lobby:1", "presence_diff", {"joins": {"alice": {"metas": [meta("here")]}}, "leaves": {}})
        if how == "leave":
            await alice.leave("lobby:1")
        elif how == "crash":
            with otp.testing.capture_crash_reports():
                alice.push("lobby:1", "boom", {})
                await bob.assert_broadcast("lobby:1", "presence_diff", {"joins": {}, "leaves": {"alice": {"metas": [meta("here")]}}})
            continue
        else:
            await alice.close()
        await bob.assert_broadcast("lobby:1", "presence_diff", {"joins": {}, "leaves": {"alice": {"metas": [meta("here")]}}})

"""The chat app over a real WebSocket: the items of docs/protocol/channels.md, "Conformance checklist" that need the wire.

Frames are written and read raw (tests/web/_clients.py), so these tests
check bytes on the wire, not a client library's reading of them.
"""

import json

import orjson
import pytest
import trio

from otp import Supervisor
from web.demo.app import chat_children
from web.socket import disconnect

from _clients import Closed, HTTPResponse, WSClient

pytestmark = pytest.mark.slow


async def serve() -> int:
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    return int(lines[0].rsplit(":", 1)[1])


async def open_socket(port, query="user=alice&vsn=2.0.0"):
    return await WSClient.connect(port, f"/socket/websocket?{query}")


async def frame(client) -> list:
    with trio.fail_after(2):
        message = await client.receive()
    return orjson.loads(message) if isinstance(message, str) else message


async def send(client, *items) -> None:
    await client.send_text(json.dumps(list(items)))


@pytest.mark.parametrize("query", ["user=alice", "user=alice&vsn=1.0.0", "user=alice&vsn=3.0.0", "vsn=2.0.0", "user=no!&vsn=2.0.0"])
async def test_a_wrong_vsn_or_a_refused_connect_is_403_with_an_empty_body_and_no_websocket(query):
    port = await serve()
    refused = await open_socket(port, query)
    assert isinstance(refused, HTTPResponse)
    assert (refused.status, refused.body) == (403, b"")


async def test_unknown_connect_params_do_not_make_connect_fail():
    port = await serve()
    client = await open_socket(port, "_mounts=0&_live_referer=undefined&a%5Bb%5D=c&user=alice&vsn=2.0.0")
    assert isinstance(client, WSClient)
    await send(client, None, "1", "phoenix", "heartbeat", {})
    assert await frame(client) == [None, "1", "phoenix", "phx_reply", {"status": "ok", "response": {}}]


async def test_join_reply_then_presence_state_on_the_wire():
    port = await serve()
    client = await open_socket(port)
    await send(client, "4", "4", "room:lobby", "phx_join", {})
    assert await frame(client) == ["4", "4", "room:lobby", "phx_reply", {"status": "ok", "response": {"room": "lobby", "user": "alice"}}]
    # Then the joiner's presence_state (a push) and the join's presence_diff
    # (a broadcast), in either order: the client queues a diff that comes
    # before the state (docs/protocol/channels.md, "How the client merges presence").
    frames = {f[3]: f for f in [await frame(client), await frame(client)]}
    state, diff = frames["presence_state"], frames["presence_diff"]
    assert state[:3] == ["4", None, "room:lobby"] and diff[:3] == [None, None, "room:lobby"]
    assert list(state[4]) == ["alice"] and isinstance(state[4]["alice"]["metas"][0]["phx_ref"], str)
    assert diff[4] == {"joins": state[4], "leaves": {}}


async def test_a_binary_push_reaches_the_channel_as_binary_and_the_reply_is_a_binary_reply():
    port = await serve()
    client = await open_socket(port)
    await send(client, "4", "4", "room:lobby", "phx_join", {})
    await frame(client)  # join reply
    fields = [b"4", b"9", b"room:lobby", b"ping"]
    await client.send_binary(bytes([0, *map(len, fields)]) + b"".join(fields) + b"\x00\xffraw")
    while True:
        reply = await frame(client)
        if isinstance(reply, bytes):
            break
    head = [b"4", b"9", b"room:lobby", b"ok"]
    assert reply == bytes([1, *map(len, head)]) + b"".join(head) + b"\x00\xffraw"


async def test_closing_the_websocket_ends_its_channels_and_others_see_the_leave_within_1_s():
    port = await serve()
    alice, bob = await open_socket(port), await open_socket(port, "user=bob&vsn=2.0.0")
    await send(bob, "1", "1", "room:lobby", "phx_join", {})
    await send(alice, "1", "1", "room:lobby", "phx_join", {})
    joined = False
    while not joined:  # bob sees alice join
        f = await frame(bob)
        joined = f[3] == "presence_diff" and "alice" in f[4]["joins"]
    await alice.close(1000)
    with trio.fail_after(1.0):
        while True:
            f = await frame(bob)
            if f[3] == "presence_diff" and "alice" in f[4]["leaves"]:
                break


async def test_a_disconnect_broadcast_closes_the_websocket_with_1001():
    port = await serve()
    client = await open_socket(port)
    await send(client, None, "1", "phoenix", "heartbeat", {})
    await frame(client)
    disconnect("chat", "users_socket:alice")
    with trio.fail_after(2):
        closed = await client.receive()
    assert closed == Closed(1001)


async def test_a_malformed_frame_closes_with_1011_and_other_sockets_live_on():
    port = await serve()
    bad, good = await open_socket(port), await open_socket(port, "user=bob&vsn=2.0.0")
    await bad.send_text("not json at all")
    with trio.fail_after(2):
        assert await bad.receive() == Closed(1011)
    await send(good, None, "2", "phoenix", "heartbeat", {})
    assert await frame(good) == [None, "2", "phoenix", "phx_reply", {"status": "ok", "response": {}}]



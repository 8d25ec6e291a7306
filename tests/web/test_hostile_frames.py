"""Frames a hostile or broken client sends (issue #12, item 11): answered precisely, never a crash.

The serializer decides at decode time what orjson would refuse to write
back (a payload nested past ``MAX_DEPTH``) and what orjson refuses to read
but whose envelope is readable (a lone surrogate, ``1e309``, ``NaN``):
both raise ``PayloadError``, and the socket answers that one message with
an ``error`` reply and stays open. Frames with no envelope to answer still
close the socket (1011). Then the same through the demo over a real
WebSocket, and what a channel that pushes something unencodable does.
"""

import gc
import logging
import random

import orjson
import pytest
import trio
import trio.testing
from _clients import Closed, WSClient

from otp import PubSub, Supervisor
from otp.testing import capture_crash_reports
from web.channel import Channel, Ok
from web.demo.app import chat_children
from web.demo.chat import PRESENCE, PUBSUB, ChatSocket
from web.presence import Presence
from web.serializer import (
    MAX_DEPTH,
    ORJSON_MAX_LEVELS,
    FrameError,
    Message,
    PayloadError,
    Reply,
    decode_binary,
    decode_text,
    encode,
)
from web.socket import Socket
from web.testing import connect


def nested(levels: int, leaf: object = 1, *, kind: str = "dict") -> object:
    """A payload ``levels`` containers deep ({} or [] at each level, ``leaf`` inside the last)."""
    value = leaf
    for _ in range(levels):
        value = {"a": value} if kind == "dict" else [value]
    return value


def nested_json(levels: int, *, kind: str = "dict") -> str:
    """``nested(levels)`` as JSON text, at depths no JSON writer goes to."""
    opening, closing = ('{"a":', "}") if kind == "dict" else ("[", "]")
    return opening * levels + "1" + closing * levels


def frame_text(payload_json: str, *, join_ref='"1"', ref='"2"', topic='"room:lobby"', event='"ping"') -> str:
    return f"[{join_ref},{ref},{topic},{event},{payload_json}]"


# ---------------------------------------------------------------- the serializer


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_a_payload_exactly_max_depth_deep_is_accepted_and_can_be_echoed(kind):
    payload = {"v": nested(MAX_DEPTH - 1, kind=kind)}
    message = decode_text(orjson.dumps(["1", "2", "room:lobby", "ping", payload]))
    assert message == Message("1", "2", "room:lobby", "ping", payload)
    # The deepest reply the server writes around it (a LiveView reply: frame, body, response, diff) still encodes.
    reply = encode(Reply("1", "2", "room:lobby", "ok", {"diff": {"r": message.payload}}))
    assert orjson.loads(reply)[4]["response"]["diff"]["r"] == payload


@pytest.mark.parametrize("kind", ["dict", "list"])
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 300, 1000])
def test_a_payload_deeper_than_max_depth_is_a_payload_error_carrying_the_envelope(kind, levels):
    with pytest.raises(PayloadError) as raised:
        decode_text(frame_text('{"v":' + nested_json(levels - 1, kind=kind) + "}"))
    error = raised.value
    assert (error.reason, error.join_ref, error.ref, error.topic, error.event) == (
        "payload nested deeper than 64 levels", "1", "2", "room:lobby", "ping",
    )
    assert isinstance(error, FrameError)  # code that only knows FrameError still catches it


@pytest.mark.parametrize("padding", [0, 400, 5000], ids=["short frame", "medium frame", "long frame"])
@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
@pytest.mark.parametrize("levels, deep", [(MAX_DEPTH, False), (MAX_DEPTH + 1, True)])
def test_the_depth_is_decided_alike_for_short_and_long_frames_text_or_bytes(padding, as_bytes, levels, deep):
    # The frame's length picks how its brackets are looked for (count or find): the answer must not change.
    frame = frame_text('{"pad":"' + "x" * padding + '","v":' + nested_json(levels - 1) + "}")
    data = frame.encode() if as_bytes else frame
    if deep:
        with pytest.raises(PayloadError, match="^payload nested deeper than 64 levels$"):
            decode_text(data)
    else:
        assert decode_text(data).payload["v"] == nested(levels - 1)


@pytest.mark.parametrize("repeat", [10, 40, 500], ids=["few", "some", "many"])
def test_brackets_inside_strings_do_not_count_as_nesting(repeat):
    payload = {"body": "{[" * repeat, "list": [[["x"]]], "wide": [{"a": [1]} for _ in range(repeat)]}
    assert decode_text(orjson.dumps([None, "3", "room:lobby", "ping", payload])).payload == payload


def test_orjson_still_writes_254_levels_and_no_more():
    # MAX_DEPTH is measured by letting orjson run out of levels (web.serializer._nests_too_deep):
    # if an orjson release moves its limit, this says so before the depth check goes wrong.
    assert orjson.dumps(nested(ORJSON_MAX_LEVELS, kind="list"))
    with pytest.raises(orjson.JSONEncodeError, match="Recursion limit reached"):
        orjson.dumps(nested(ORJSON_MAX_LEVELS + 1, kind="list"))


# frame, reason: readable envelopes with a payload orjson will not read
LENIENT_ONLY = [
    (frame_text('{"body":"\\ud83d"}'), "invalid unicode: lone surrogate"),
    (frame_text('{"body":"broken \\ude00 emoji"}'), "invalid unicode: lone surrogate"),
    (frame_text('{"n":1e309}'), "invalid JSON: number is infinity when parsed as double (at character 34)"),
    (frame_text('{"n":-1e400}'), "invalid JSON: number is infinity when parsed as double (at character 34)"),
    (frame_text('{"n":NaN}'), "invalid JSON: unexpected character, expected a JSON value (at character 34)"),
    (frame_text('{"n":1' + "0" * 400 + "}"), "invalid JSON: number is infinity when parsed as double (at character 34)"),
]


@pytest.mark.parametrize("frame, reason", LENIENT_ONLY)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_readable_envelope_around_an_unreadable_payload_is_a_payload_error(frame, reason, as_bytes):
    with pytest.raises(PayloadError) as raised:
        decode_text(frame.encode() if as_bytes else frame)
    error = raised.value
    assert (error.reason, error.join_ref, error.ref, error.topic, error.event) == (reason, "1", "2", "room:lobby", "ping")


# frame, reason: nothing that can be answered, so still a plain FrameError (the socket closes)
UNANSWERABLE = [
    (frame_text("{}", topic='"room:\\ud83d"'), "topic is not valid unicode (a lone surrogate)"),
    (frame_text("{}", ref='"\\udfff"'), "ref is not valid unicode (a lone surrogate)"),
    (frame_text("{}", event='"\\ud800"'), "event is not valid unicode (a lone surrogate)"),
    (frame_text("{}", join_ref="NaN"), "join_ref must be a string or null; got float"),
    (frame_text("[1e309]"), "payload must be a JSON object; got list"),
    ('["\\ud83d"]', "a frame must have 5 elements [join_ref, ref, topic, event, payload]; got 1"),
    (frame_text('{"a":' + "[" * 2000 + "]" * 2000 + "}"), "not valid JSON (at character 1057)"),
    ('{"a":"\\ud83d"', "not valid JSON (at character 6)"),
]


@pytest.mark.parametrize("frame, reason", UNANSWERABLE)
def test_an_unreadable_frame_without_an_answerable_envelope_is_a_frame_error(frame, reason):
    with pytest.raises(FrameError) as raised:
        decode_text(frame)
    assert type(raised.value) is FrameError
    assert raised.value.reason == reason


def test_random_binary_frames_raise_only_frame_error():
    rng = random.Random(11)
    outcomes = {"message": 0, "error": 0}
    valid = bytes([0, 1, 1, 10, 4]) + b"12room:lobbyping" + b"payload"
    for _ in range(5000):
        if rng.random() < 0.5:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(12)))
        else:  # a valid frame with some bytes changed, cut or appended
            data = bytearray(valid)
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data[: rng.randrange(len(data) + 1)]) if rng.random() < 0.3 else bytes(data)
        try:
            message = decode_binary(data)
        except FrameError:
            outcomes["error"] += 1
        else:
            assert message.payload.__class__ is bytes and message.topic.__class__ is str
            outcomes["message"] += 1
    assert outcomes["message"] > 100 and outcomes["error"] > 100


# ---------------------------------------------------------------- the socket: one error reply, the rest lives on


async def start_chat():
    await PubSub.start_link(PUBSUB)
    await Presence.start_link(pubsub=PUBSUB, name=PRESENCE, broadcast_period=0.05)


async def joined(user):
    client = await connect(ChatSocket, {"user": user}, pubsub=PUBSUB)
    assert await client.join("room:lobby") == ("ok", {"room": "lobby", "user": user})
    await client.assert_push("room:lobby", "presence_state")
    return client


DEEP_PING = frame_text(nested_json(300), ref='"p1"')
# (frame, the error reply's ref, its topic, its exact reason)
ANSWERED = [
    (DEEP_PING, "p1", "room:lobby", "payload nested deeper than 64 levels"),
    (frame_text(nested_json(300), join_ref="null", ref='"h1"', topic='"phoenix"', event='"heartbeat"'),
     "h1", "phoenix", "payload nested deeper than 64 levels"),
    (frame_text('{"body":"\\ud83d"}', ref='"s1"'), "s1", "room:lobby", "invalid unicode: lone surrogate"),
    (frame_text('{"body":"\\ud83d"}', ref='"s2"', event='"shout"'), "s2", "room:lobby", "invalid unicode: lone surrogate"),
    (frame_text('{"n":1e309}', ref='"n1"'), "n1", "room:lobby",
     "invalid JSON: number is infinity when parsed as double (at character 35)"),
]


@pytest.mark.parametrize("frame, ref, topic, reason", ANSWERED)
async def test_an_unreadable_payload_gets_an_error_reply_and_the_socket_and_channel_live_on(caplog, frame, ref, topic, reason):
    await start_chat()
    alice, bob = await joined("alice"), await joined("bob")
    caplog.clear()
    with capture_crash_reports() as reports:
        alice.send_raw(frame)
        reply = await alice.receive_frame(lambda f: f[1] == ref, timeout=5)
        assert reply == [alice.join_refs.get(topic), ref, topic, "phx_reply", {"status": "error", "response": {"reason": reason}}]
        await alice.assert_reply(alice.push("room:lobby", "ping", {"after": 1}), "ok", {"after": 1})
        await bob.assert_reply(bob.push("room:lobby", "ping", {"bob": 1}), "ok", {"bob": 1})
        alice.heartbeat()
        await trio.testing.wait_all_tasks_blocked()
    assert reports == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("frame", ["not json", "[1,2,3,4,5]", '["1","2","t","e",[]]', frame_text("{}", topic='"\\ud83d"')])
async def test_a_frame_with_no_envelope_to_answer_still_closes_only_that_socket(frame):
    await start_chat()
    bad, good = await joined("mallory"), await joined("bob")
    with capture_crash_reports() as reports:
        bad.send_raw(frame)
        assert await bad.assert_closed() == 1011
        await good.assert_reply(good.push("room:lobby", "ping", {}), "ok", {})
    assert reports == []


# ---------------------------------------------------------------- binary payloads where a channel expects JSON


async def test_a_binary_join_is_refused_with_a_reason_and_no_crash_report():
    await start_chat()
    client = await connect(ChatSocket, {"user": "alice"}, pubsub=PUBSUB)
    with capture_crash_reports() as reports:
        ref = client.push_binary("room:secret", "phx_join", b"letmein", join_ref="1")
        await client.assert_reply(ref, "error", {"reason": "a join payload must be a JSON object, not binary"})
        await trio.testing.wait_all_tasks_blocked()
    assert reports == []
    assert await client.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})


# ---------------------------------------------------------------- what a channel pushes that cannot be encoded


class Unencodable:
    def __repr__(self):
        return "<Unencodable>"


class PushingChannel(Channel):
    async def handle_in(self, event, payload, socket):
        if event == "push_object":
            socket.push("thing", {"value": Unencodable()})
        if event == "reply_deep":
            return Ok(nested(300))
        return Ok({"pong": True})


class PushingSocket(Socket):
    channels = {"push:*": PushingChannel}


@pytest.mark.parametrize("event, error", [
    ("push_object", "TypeError: payload of 'thing' on 'push:a' is not JSON-serializable: "
                    "Type is not JSON serializable: Unencodable"),
    ("reply_deep", "TypeError: payload of 'phx_reply' on 'push:a' is not JSON-serializable: "
                   "nested deeper than 254 levels, the most orjson writes"),
])
async def test_a_channel_that_sends_what_cannot_be_encoded_crashes_alone_with_a_readable_report(event, error):
    await PubSub.start_link("pushing")
    client = await connect(PushingSocket, pubsub="pushing")
    assert await client.join("push:a") == ("ok", {})
    assert await client.join("push:b") == ("ok", {})
    with capture_crash_reports() as reports:
        client.push("push:a", event, {})
        await client.assert_push("push:a", "phx_error", {"reason": "channel_crash"})
    assert len(reports) == 1
    assert reports[0].exc_text.splitlines()[-1] == error  # the traceback's last line
    assert "channel: PushingChannel" in reports[0].getMessage()
    await client.assert_reply(client.push("push:b", "other", {}), "ok", {"pong": True})


# ---------------------------------------------------------------- the demo, over a real WebSocket


async def serve_demo() -> int:
    lines = []
    await Supervisor.start_link(chat_children("127.0.0.1", 0, on_listening=lines.append))
    return int(lines[0].rsplit(":", 1)[1])


async def next_frame(client: WSClient) -> list | Closed:
    with trio.fail_after(5):
        message = await client.receive()
    return orjson.loads(message) if isinstance(message, str) else message


async def test_the_demo_answers_a_deep_ping_and_a_broken_emoji_and_keeps_the_socket(caplog):
    port = await serve_demo()
    client = await WSClient.connect(port, "/socket/websocket?user=alice&vsn=2.0.0")
    await client.send_text('["1","1","room:lobby","phx_join",{}]')
    assert (await next_frame(client))[3:] == ["phx_reply", {"status": "ok", "response": {"room": "lobby", "user": "alice"}}]
    frames = [await next_frame(client), await next_frame(client)]  # presence_state and presence_diff
    assert sorted(f[3] for f in frames) == ["presence_diff", "presence_state"]
    caplog.clear()
    with capture_crash_reports() as reports:
        await client.send_text(DEEP_PING)
        assert await next_frame(client) == [
            "1", "p1", "room:lobby", "phx_reply", {"status": "error", "response": {"reason": "payload nested deeper than 64 levels"}},
        ]
        await client.send_text('["1","2","room:lobby","ping",{"body":"\\ud83d"}]')
        assert await next_frame(client) == [
            "1", "2", "room:lobby", "phx_reply", {"status": "error", "response": {"reason": "invalid unicode: lone surrogate"}},
        ]
        await client.send_text('["1","3","room:lobby","ping",{"body":"\\ud83d\\ude00"}]')  # a whole emoji is fine
        assert await next_frame(client) == ["1", "3", "room:lobby", "phx_reply", {"status": "ok", "response": {"body": "😀"}}]
    assert reports == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert await client.close() == Closed(1000)


# frames refused on each path of the decoder
REFUSED = [
    "not json", '{"a":1}', frame_text("{}", topic="5"), frame_text('{"body":"\\ud83d"}'), frame_text("{}", topic='"\\ud83d"'),
    frame_text(nested_json(300)), frame_text('{"a":' + "[" * 2000 + "]" * 2000 + "}"),
    b"\x00\x01", bytes([0, 0, 0, 1, 1]) + b"\xffe", bytes([1, 0, 0, 1, 1]) + b"te",
]


@pytest.mark.parametrize("frame", REFUSED)
def test_a_refused_frame_leaves_no_reference_cycle(frame):
    # A cycle through the error's traceback would hold the caller's frame (the socket's state) until a
    # garbage collection: a closed socket must be freed by reference counting alone.
    decode = decode_binary if isinstance(frame, bytes) else decode_text
    while gc.collect():  # until earlier tests' garbage is gone (collecting may free more)
        pass
    gc.disable()
    try:
        for _ in range(3):
            try:
                decode(frame)
            except FrameError:
                pass
        assert gc.collect() == 0
    finally:
        gc.enable()

"""Inputs of the wrong type (issue #12, item 12): tokens, and the demo chat's channel.

Every bad input gets a precise answer (``InvalidToken``, an ``error``
reply), never a crash report, and the socket and its other channels keep
working afterwards.
"""

import logging

import pytest
import trio.testing

from otp import PubSub
from otp.testing import capture_crash_reports
from web.demo.chat import PRESENCE, PUBSUB, ChatSocket
from web.presence import Presence
from web.testing import connect
from web.token import InvalidToken, sign, verify

SECRET = "hostile secret"

# ---------------------------------------------------------------- web.token.verify


@pytest.mark.parametrize("token", [None, "", b""], ids=["none", "empty", "empty bytes"])
def test_no_token_is_missing(token):
    with pytest.raises(InvalidToken) as raised:
        verify(SECRET, "salt", token)
    assert raised.value.reason == "missing"


TOKEN = sign(SECRET, "salt", {"user_id": 42})
NOT_TOKENS = [
    5, 0, -1, 1.5, True, False, [], [TOKEN], {}, {"token": TOKEN}, b"\xff\xfe", bytearray(b"x"),
    "\ud83d", TOKEN + "\ud83d", "é" * 10, "x" * 100_000, ".", "..", TOKEN.replace(".", "", 1), object(),
]


@pytest.mark.parametrize("token", NOT_TOKENS, ids=lambda token: type(token).__name__)
def test_anything_that_is_not_a_token_string_is_invalid_not_a_crash(token):
    with pytest.raises(InvalidToken) as raised:
        verify(SECRET, "salt", token)
    assert raised.value.reason == "invalid"


def test_a_token_as_bytes_still_verifies():
    assert verify(SECRET, "salt", TOKEN.encode()) == {"user_id": 42}


# ---------------------------------------------------------------- the demo chat channel


async def start_chat():
    await PubSub.start_link(PUBSUB)
    await Presence.start_link(pubsub=PUBSUB, name=PRESENCE, broadcast_period=0.05)


async def joined(user):
    client = await connect(ChatSocket, {"user": user}, pubsub=PUBSUB)
    assert await client.join("room:lobby") == ("ok", {"room": "lobby", "user": user})
    await client.assert_push("room:lobby", "presence_state")
    return client


INVALID_BODY = ("error", {"reason": "invalid body"})
# (how to send it, event, payload, the exact reply)
CHAT_ROWS = [
    ("binary", "shout", b"hello", INVALID_BODY),
    ("binary", "shout", b"", INVALID_BODY),
    ("text", "shout", {"body": ["hello"]}, INVALID_BODY),
    ("text", "shout", {"body": {"text": "hello"}}, INVALID_BODY),
    ("text", "shout", {"body": 1.5}, INVALID_BODY),
    ("text", "shout", {"body": True}, INVALID_BODY),
    ("text", "shout", {"text": "hello"}, INVALID_BODY),
    ("binary", "ping", b"\x00\xff", ("ok", b"\x00\xff")),  # ping echoes any payload, binary too
    ("binary", "count", b"x", ("ok", {"members": 1})),
    ("binary", "dance", b"x", ("error", {"reason": "unknown event"})),
    ("text", "count", {"members": "many"}, ("ok", {"members": 1})),
]


@pytest.mark.parametrize("how, event, payload, reply", CHAT_ROWS)
async def test_a_chat_push_of_the_wrong_type_gets_an_error_reply_and_the_channel_lives_on(caplog, how, event, payload, reply):
    await start_chat()
    alice = await joined("alice")
    caplog.clear()
    with capture_crash_reports() as reports:
        if how == "binary":
            ref = alice.push_binary("room:lobby", event, payload)
            frame = await alice.receive_frame(lambda f: isinstance(f, bytes) or f[1] == ref, timeout=1)
            if isinstance(frame, bytes):  # a binary reply: kind 1, then join_ref, ref, topic, status
                status = frame[5 + frame[1] + frame[2] + frame[3]:][: frame[4]].decode()
                assert (status, frame[5 + sum(frame[1:5]):]) == reply
            else:
                assert frame[4] == {"status": reply[0], "response": reply[1]}
        else:
            await alice.assert_reply(alice.push("room:lobby", event, payload), *reply)
        await alice.assert_reply(alice.push("room:lobby", "ping", {"still": "joined"}), "ok", {"still": "joined"})
        await trio.testing.wait_all_tasks_blocked()
    assert reports == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("topic", ["room:secret", "room:lobby"])
async def test_a_binary_chat_join_is_refused_and_the_socket_joins_normally_after(topic):
    await start_chat()
    client = await connect(ChatSocket, {"user": "alice"}, pubsub=PUBSUB)
    with capture_crash_reports() as reports:
        ref = client.push_binary(topic, "phx_join", b'{"password":"letmein"}', join_ref="9")
        await client.assert_reply(ref, "error", {"reason": "a join payload must be a JSON object, not binary"})
        await trio.testing.wait_all_tasks_blocked()
    assert reports == []
    assert await client.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})


@pytest.mark.parametrize("password", [None, 1234, ["letmein"], {"p": "letmein"}, True])
async def test_a_secret_room_password_of_the_wrong_type_is_unauthorized(password):
    await start_chat()
    client = await connect(ChatSocket, {"user": "alice"}, pubsub=PUBSUB)
    with capture_crash_reports() as reports:
        assert await client.join("room:secret", {"password": password}) == ("error", {"reason": "unauthorized"})
    assert reports == []

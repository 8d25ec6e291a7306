"""The V2 serializer (web/serializer.py): exact frames both ways, every malformed input refused precisely."""

import doctest

import pytest

import web.serializer
from web.serializer import Broadcast, FrameError, Message, Reply, decode_binary, decode_text, encode


def test_the_module_doctests_pass():
    assert doctest.testmod(web.serializer).failed == 0


# ---------------------------------------------------------------- text, client -> server

VALID = [
    ('[null,"7","phoenix","heartbeat",{}]', Message(None, "7", "phoenix", "heartbeat", {})),
    ('["4","4","room:lobby","phx_join",{"user":"alice"}]', Message("4", "4", "room:lobby", "phx_join", {"user": "alice"})),
    ('["4","9","room:lobby","new_msg",{"body":"hi"},"extra"]', Message("4", "9", "room:lobby", "new_msg", {"body": "hi"})),
    (b'["4",null,"t","e",{"n":[1,2.5,null,true]}]', Message("4", None, "t", "e", {"n": [1, 2.5, None, True]})),
]


@pytest.mark.parametrize("frame, message", VALID)
def test_valid_text_frames_decode_to_messages(frame, message):
    assert decode_text(frame) == message


# frame, the exact reason
MALFORMED = [
    ("not json", "not valid JSON (at character 0)"),
    ('["1","2","t","e",{}', "not valid JSON (at character 19)"),
    ('{"topic":"t"}', "a frame must be a JSON array [join_ref, ref, topic, event, payload]; got dict"),
    ('["1","2","t","e"]', "a frame must have 5 elements [join_ref, ref, topic, event, payload]; got 4"),
    ("[]", "a frame must have 5 elements [join_ref, ref, topic, event, payload]; got 0"),
    ('[1,"2","t","e",{}]', "join_ref must be a string or null; got int"),
    ('["1",2,"t","e",{}]', "ref must be a string or null; got int"),
    ('["1","2",null,"e",{}]', "topic must be a string; got NoneType"),
    ('["1","2","t",["e"],{}]', "event must be a string; got list"),
    ('["1","2","t","e",[]]', "payload must be a JSON object; got list"),
    ('["1","2","t","e","body"]', "payload must be a JSON object; got str"),
]


@pytest.mark.parametrize("frame, reason", MALFORMED)
def test_malformed_text_frames_raise_frame_error_with_the_reason(frame, reason):
    with pytest.raises(FrameError) as raised:
        decode_text(frame)
    assert raised.value.reason == reason
    assert isinstance(raised.value, ValueError)


# ---------------------------------------------------------------- text, server -> client


def test_a_reply_is_a_phx_reply_with_status_and_response():
    assert encode(Reply("4", "5", "room:lobby", "ok", {"a": 1})) == (
        '["4","5","room:lobby","phx_reply",{"status":"ok","response":{"a":1}}]'
    )


def test_the_heartbeat_reply_has_a_null_join_ref():
    assert encode(Reply(None, "7", "phoenix", "ok", {})) == '[null,"7","phoenix","phx_reply",{"status":"ok","response":{}}]'


def test_a_push_carries_the_join_ref_and_a_null_ref():
    assert encode(Message("4", None, "room:lobby", "presence_state", {"alice": {"metas": []}})) == (
        '["4",null,"room:lobby","presence_state",{"alice":{"metas":[]}}]'
    )


def test_phx_close_and_phx_error_use_the_join_ref_as_ref():
    assert encode(Message("4", "4", "room:lobby", "phx_close", {})) == '["4","4","room:lobby","phx_close",{}]'
    assert encode(Message("4", "4", "t", "phx_error", {"reason": "channel_crash"})) == (
        '["4","4","t","phx_error",{"reason":"channel_crash"}]'
    )


def test_a_broadcast_has_null_refs():
    assert encode(Broadcast("room:lobby", "shout", {"body": "hi", "user": "bob"})) == (
        '[null,null,"room:lobby","shout",{"body":"hi","user":"bob"}]'
    )


def test_unicode_is_sent_as_utf8_text():
    assert encode(Broadcast("t", "e", {"body": "héllo ✓"})) == '[null,null,"t","e",{"body":"héllo ✓"}]'


@pytest.mark.parametrize("payload", [[1, 2], "text", None])
def test_a_non_object_payload_is_refused_on_the_way_out(payload):
    with pytest.raises(TypeError, match="payload must be a dict"):
        encode(Broadcast("t", "e", payload))


def test_a_payload_that_is_not_json_is_a_clear_error():
    with pytest.raises(TypeError, match="not JSON-serializable"):
        encode(Broadcast("t", "e", {"when": object()}))


def test_encode_refuses_other_objects():
    with pytest.raises(TypeError, match="takes a Message, Reply or Broadcast"):
        encode(("t", "e", {}))


# ---------------------------------------------------------------- binary (docs/protocol/channels.md, "Binary frames")


def client_push(join_ref, ref, topic, event, payload):
    fields = [s.encode() for s in (join_ref, ref, topic, event)]
    return bytes([0, *map(len, fields)]) + b"".join(fields) + payload


def test_a_client_binary_push_decodes_with_a_bytes_payload():
    frame = client_push("12", "13", "lv:upload", "chunk", b"\x00\x01\xff")
    assert decode_binary(frame) == Message("12", "13", "lv:upload", "chunk", b"\x00\x01\xff")


def test_a_client_binary_push_without_join_ref_has_none():
    assert decode_binary(client_push("", "3", "t", "e", b"x")) == Message(None, "3", "t", "e", b"x")


BAD_BINARY = [
    (b"\x00\x01", "a binary frame needs a kind byte and 4 length bytes; got 2 bytes"),
    (bytes([1, 0, 0, 1, 1]) + b"te", "a client binary frame must be a push (kind 0); got kind 1"),
    (bytes([0, 0, 0, 9, 1]) + b"short", "binary frame too short for its topic (9 bytes announced)"),
    (bytes([0, 0, 0, 1, 1]) + b"\xffe", "binary frame topic is not UTF-8"),
]


@pytest.mark.parametrize("frame, reason", BAD_BINARY)
def test_malformed_binary_frames_raise_frame_error(frame, reason):
    with pytest.raises(FrameError) as raised:
        decode_binary(frame)
    assert raised.value.reason == reason


def test_server_binary_push_has_no_ref_field():
    assert encode(Message("4", None, "t", "ev", b"\x01\x02")) == bytes([0, 1, 1, 2]) + b"4tev" + b"\x01\x02"


def test_server_binary_reply_carries_join_ref_ref_topic_and_status():
    assert encode(Reply("4", "5", "t", "ok", b"\x09")) == bytes([1, 1, 1, 1, 2]) + b"45tok" + b"\x09"


def test_server_binary_broadcast_carries_topic_and_event():
    assert encode(Broadcast("room", "ev", b"data")) == bytes([2, 4, 2]) + b"roomev" + b"data"


def test_a_field_over_255_bytes_is_refused_not_truncated():
    with pytest.raises(ValueError, match="binary frame fields are at most 255"):
        encode(Broadcast("t" * 256, "e", b"x"))

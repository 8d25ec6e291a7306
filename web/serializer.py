"""The V2 serializer: Phoenix channel frames to and from the wire (CHANNELS.md §2).

Text frames are JSON arrays ``[join_ref, ref, topic, event, payload]``;
binary frames (CHANNELS.md §2.4) carry a raw ``bytes`` payload after a kind
byte and one length byte per string field. Pure functions of data::

    >>> decode_text('["4","4","room:lobby","phx_join",{}]')
    Message(join_ref='4', ref='4', topic='room:lobby', event='phx_join', payload={})
    >>> encode(Reply("4", "5", "room:lobby", "ok", {"a": 1}))
    '["4","5","room:lobby","phx_reply",{"status":"ok","response":{"a":1}}]'
    >>> encode(Broadcast("room:lobby", "shout", {"body": "hi"}))
    '[null,null,"room:lobby","shout",{"body":"hi"}]'

:func:`encode` returns ``str`` for a text frame and ``bytes`` for a binary
one (a ``bytes`` payload or response). A broadcast is encoded once and the
same frame written to every subscriber (the fastlane).

Bad input from a client raises :class:`FrameError` with a precise reason
(the socket answers it or closes; nothing else is affected). JSON is orjson.
"""

from __future__ import annotations

import orjson

from ._message import Broadcast, Message, Reply

__all__ = ["FrameError", "decode_text", "decode_binary", "encode", "Message", "Reply", "Broadcast"]

PUSH, REPLY, BROADCAST = 0, 1, 2  # binary frame kinds
_MAX_FIELD = 255


class FrameError(ValueError):
    """A frame from the client that is not a valid V2 frame; ``.reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- decoding (client -> server)


def decode_text(data: str | bytes) -> Message:
    """A client text frame as a :class:`Message`.

    Raises:
        FrameError: not JSON, not an array of at least five elements, or a
            field of the wrong type (refs str or null, topic and event
            strings, payload an object). Extra trailing elements are ignored,
            as Phoenix does.
    """
    try:
        frame = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise FrameError(f"not valid JSON (at character {error.pos})") from None
    if not isinstance(frame, list):
        raise FrameError(f"a frame must be a JSON array [join_ref, ref, topic, event, payload]; got {type(frame).__name__}")
    if len(frame) < 5:
        raise FrameError(f"a frame must have 5 elements [join_ref, ref, topic, event, payload]; got {len(frame)}")
    join_ref, ref, topic, event, payload = frame[:5]
    _check_ref("join_ref", join_ref)
    _check_ref("ref", ref)
    _check_string("topic", topic)
    _check_string("event", event)
    if not isinstance(payload, dict):
        raise FrameError(f"payload must be a JSON object; got {type(payload).__name__}")
    return Message(join_ref, ref, topic, event, payload)


def decode_binary(data: bytes) -> Message:
    """A client binary frame (kind 0 push) as a :class:`Message` with a ``bytes`` payload."""
    if len(data) < 5:
        raise FrameError(f"a binary frame needs a kind byte and 4 length bytes; got {len(data)} bytes")
    kind = data[0]
    if kind != PUSH:
        raise FrameError(f"a client binary frame must be a push (kind 0); got kind {kind}")
    lengths = data[1:5]
    offset = 5
    fields = []
    for name, length in zip(("join_ref", "ref", "topic", "event"), lengths):
        if offset + length > len(data):
            raise FrameError(f"binary frame too short for its {name} ({length} bytes announced)")
        try:
            fields.append(data[offset : offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise FrameError(f"binary frame {name} is not UTF-8") from None
        offset += length
    join_ref, ref, topic, event = fields
    # The client sends no join_ref as an empty field.
    return Message(join_ref or None, ref or None, topic, event, data[offset:])


def _check_ref(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise FrameError(f"{name} must be a string or null; got {type(value).__name__}")


def _check_string(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise FrameError(f"{name} must be a string; got {type(value).__name__}")


# ---------------------------------------------------------------- encoding (server -> client)


def encode(item: Message | Reply | Broadcast) -> str | bytes:
    """The frame for a server push, reply or broadcast: ``str`` (text) or ``bytes`` (binary)."""
    cls = item.__class__
    if cls is Reply:
        if isinstance(item.response, bytes):
            return _binary(REPLY, (item.join_ref, item.ref, item.topic, item.status), item.response)
        body = {"status": item.status, "response": item.response}
        return _text([item.join_ref, item.ref, item.topic, "phx_reply", body])
    if cls is Broadcast:
        if isinstance(item.payload, bytes):
            return _binary(BROADCAST, (item.topic, item.event), item.payload)
        return _text([None, None, item.topic, item.event, item.payload])
    if cls is Message:
        if isinstance(item.payload, bytes):
            # Server push: no ref field (CHANNELS.md §2.4's asymmetry).
            return _binary(PUSH, (item.join_ref, item.topic, item.event), item.payload)
        return _text([item.join_ref, item.ref, item.topic, item.event, item.payload])
    raise TypeError(f"encode() takes a Message, Reply or Broadcast; got {item!r}")


def _text(frame: list) -> str:
    payload = frame[4]
    if not isinstance(payload, dict):
        raise TypeError(f"a frame's payload must be a dict (a JSON object); got {payload!r}")
    try:
        return orjson.dumps(frame).decode("utf-8")
    except TypeError as error:
        raise TypeError(f"payload is not JSON-serializable: {error}") from None


def _binary(kind: int, fields: tuple, payload: bytes) -> bytes:
    encoded = [(field or "").encode("utf-8") for field in fields]
    for field, data in zip(fields, encoded):
        if len(data) > _MAX_FIELD:
            # Never truncate: a truncated topic would reach the wrong channel.
            raise ValueError(f"{field[:40]!r}... is {len(data)} bytes; binary frame fields are at most {_MAX_FIELD}")
    return bytes([kind, *map(len, encoded)]) + b"".join(encoded) + payload

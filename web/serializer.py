r"""The V2 serializer: Phoenix channel frames to and from the wire (docs/protocol/channels.md, "Frames").

Text frames are JSON arrays ``[join_ref, ref, topic, event, payload]``;
binary frames (docs/protocol/channels.md, "Binary frames") carry a raw ``bytes`` payload after a kind
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

Bad input from a client raises :class:`FrameError` with a precise reason;
nothing else is affected. What the socket (``web/socket.py``) does with it
depends on whether the frame said who to answer:

==========================================  ==============================  =====================
a text frame that is ...                    raises                          the socket
==========================================  ==============================  =====================
not JSON, or deeper than orjson reads       ``FrameError``                  closes (1011)
(1024 levels)
not an array of 5, or a ref, topic or       ``FrameError``                  closes (1011)
event of the wrong type, or a payload
that is not an object
a valid envelope whose payload nests        ``PayloadError`` (a             replies ``error``
deeper than :data:`MAX_DEPTH` levels        ``FrameError`` with the         ``{"reason": ...}`` to
                                            frame's refs, topic, event)     that ref; stays open
a valid envelope with a lone surrogate      ``PayloadError``                the same
(``"\ud83d"``), a number out of range
(``1e309``) or non-standard JSON
(``NaN``) in it
==========================================  ==============================  =====================

Why decide the depth here: orjson reads 1024 levels but writes only 254, so
a payload it accepted could crash the channel that echoes it (a ``ping``).
The check costs a valid frame a ``len`` (a frame shorter than twice
:data:`MAX_DEPTH` cannot nest deeper), else a look for its brackets (nor can
one with fewer); only a frame with more is measured, by orjson itself
(``_may_nest_too_deep``, ``_nests_too_deep``). Lone surrogates come from JavaScript's ``JSON.stringify`` of a
string cut in the middle of an emoji: orjson refuses them, so the frame is
decoded again with the standard library's ``json`` (on that failure path
only) to learn whom to answer::

    >>> decode_text('["4","5","room:lobby","ping",{"body":"\\ud83d"}]')
    Traceback (most recent call last):
    ...
    web.serializer.PayloadError: invalid unicode: lone surrogate

Binary frames raise only ``FrameError`` (a frame too short for the lengths
it announces, a field that is not UTF-8). Encoding a payload that is not
JSON (an object, a dict key that is not a string, a lone surrogate, more
than 254 levels) raises ``TypeError`` in the process that encodes it: the
channel that pushed it crashes, with that message in its crash report. JSON
is orjson.
"""

from __future__ import annotations

import json
import threading
from typing import AnyStr

import orjson

from ._message import Broadcast, Message, Reply

__all__ = ["FrameError", "PayloadError", "MAX_DEPTH", "decode_text", "decode_binary", "encode", "Message", "Reply", "Broadcast"]

PUSH, REPLY, BROADCAST = 0, 1, 2  # binary frame kinds
_MAX_FIELD = 255
# How deep a client's payload may nest ({} is 1 level). The LiveView client's deepest
# frames nest 5 (an upload's entries: payload > uploads > ref > [entries] > entry) plus
# what a hook's pushEvent sends; 64 leaves room for any real app while every reply
# that wraps a payload (frame, reply body, response, diff) stays far below the 254
# levels orjson can write.
MAX_DEPTH = 64
ORJSON_MAX_LEVELS = 254  # the deepest orjson writes (its recursion limit; tests/web/test_hostile_frames.py checks it)


class FrameError(ValueError):
    """A frame from the client that is not a valid V2 frame; ``.reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PayloadError(FrameError):
    """A frame whose envelope is valid but whose payload cannot be taken (too deep, bad unicode).

    It carries the frame's ``join_ref``, ``ref``, ``topic`` and ``event``,
    so that the socket can answer that one message with an ``error`` reply
    (``{"reason": reason}``) instead of closing the connection.
    """

    def __init__(self, reason: str, join_ref: str | None, ref: str | None, topic: str, event: str) -> None:
        super().__init__(reason)
        self.join_ref, self.ref, self.topic, self.event = join_ref, ref, topic, event


# ---------------------------------------------------------------- decoding (client -> server)


def decode_text(data: str | bytes) -> Message:
    """A client text frame as a :class:`Message`.

    Raises:
        PayloadError: the envelope is valid but the payload nests deeper
            than :data:`MAX_DEPTH`, or the frame is JSON only to a lenient
            reader (a lone surrogate, ``1e309``, ``NaN``).
        FrameError: not JSON, not an array of at least five elements, or a
            field of the wrong type (refs str or null, topic and event
            strings, payload an object). Extra trailing elements are ignored,
            as Phoenix does.
    """
    try:
        frame = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        # Raised below, not in here: no exception is kept in a local that its own traceback holds
        # (a cycle that would keep the caller, the socket, alive until a garbage collection).
        frame = _Unreadable(error.msg, error.pos)
    if frame.__class__ is _Unreadable:
        raise _unreadable_error(data, frame)
    message = _message(frame)
    if _may_nest_too_deep(data) and _nests_too_deep(message.payload):
        raise _payload_error(f"payload nested deeper than {MAX_DEPTH} levels", message)
    return message


def _message(frame: object) -> Message:
    """The :class:`Message` of a decoded frame, every envelope field checked."""
    if not isinstance(frame, list):
        raise FrameError(f"a frame must be a JSON array [join_ref, ref, topic, event, payload]; got {type(frame).__name__}")
    if len(frame) < 5:
        raise FrameError(f"a frame must have 5 elements [join_ref, ref, topic, event, payload]; got {len(frame)}")
    join_ref, ref, topic, event, payload = frame[:5]
    # Fast path: one expression for a valid envelope (JSON readers make exact types);
    # the checks below only run to say precisely what is wrong.
    if (
        (join_ref is None or join_ref.__class__ is str)
        and (ref is None or ref.__class__ is str)
        and topic.__class__ is str
        and event.__class__ is str
        and payload.__class__ is dict
    ):
        return Message(join_ref, ref, topic, event, payload)
    _check_ref("join_ref", join_ref)
    _check_ref("ref", ref)
    _check_string("topic", topic)
    _check_string("event", event)
    raise FrameError(f"payload must be a JSON object; got {type(payload).__name__}")


def _may_nest_too_deep(data: str | bytes) -> bool:
    """False if the frame has too few brackets (``[``, ``{``, in strings too) to nest deeper than MAX_DEPTH.

    Cheap bounds, cheapest first. Nesting MAX_DEPTH + 1 levels takes that
    many opening brackets and as many closing ones, so most frames are too
    short to need a look. A short frame's brackets are counted (``count``
    walks every character). A long one is searched from bracket to bracket
    (``find`` is memchr), which is several times faster over a long string
    or a list of numbers; past a few brackets, the payload is measured
    instead (``_nests_too_deep``), which then costs less than going on.
    """
    if len(data) <= 2 * (MAX_DEPTH + 1):
        return False
    if isinstance(data, str):
        return _has_many_brackets(data, ("[", "{"))
    return _has_many_brackets(data, (b"[", b"{"))


def _has_many_brackets(data: AnyStr, brackets: tuple[AnyStr, AnyStr]) -> bool:
    if len(data) < _FIND_FROM:
        return data.count(brackets[0]) + data.count(brackets[1]) > MAX_DEPTH + 1
    found = 0
    for bracket in brackets:
        at = data.find(bracket)
        while at != -1:
            found += 1
            if found > _FEW_BRACKETS:
                return True
            at = data.find(bracket, at + 1)
    return False


_FIND_FROM = 512  # frame length from which finding beats counting, for a frame of few brackets (CPython 3.11)
_FEW_BRACKETS = 16  # a long frame with more brackets than this is measured, not searched further


class _DepthProbe(threading.local):
    """``ORJSON_MAX_LEVELS - MAX_DEPTH`` one-element lists, nested: a payload is put in the innermost.

    orjson refuses to write past :data:`ORJSON_MAX_LEVELS`, so the probe fails
    to encode exactly when the payload nests deeper than :data:`MAX_DEPTH`;
    orjson finds that out at C speed, where walking a wide payload in Python
    would cost more than decoding it. One probe per thread: it is filled in
    place.
    """

    def __init__(self) -> None:
        self.inner: list = [None]
        self.outer = self.inner
        for _ in range(ORJSON_MAX_LEVELS - MAX_DEPTH - 1):
            self.outer = [self.outer]


_probe = _DepthProbe()


def _nests_too_deep(payload: object) -> bool:
    """True if ``payload`` (itself one level; decoded by orjson, so encodable) nests deeper than MAX_DEPTH."""
    probe = _probe
    probe.inner[0] = payload
    try:
        orjson.dumps(probe.outer)
    except orjson.JSONEncodeError:
        return True
    finally:
        probe.inner[0] = None  # the probe must not keep a client's payload alive
    return False


class _Unreadable:
    """What orjson said of a frame it refused (not the error itself: see decode_text)."""

    __slots__ = ("msg", "pos")

    def __init__(self, msg: str, pos: int) -> None:
        self.msg, self.pos = msg, pos


def _unreadable_error(data: str | bytes, unreadable: _Unreadable) -> FrameError:
    """The error for a frame orjson refused: a PayloadError if a lenient reader finds a valid envelope.

    The standard library's ``json`` reads lone surrogates, ``NaN`` and
    numbers past a double; if it finds a valid envelope whose fields can be
    sent back, the client is answered. Anything else is not JSON.
    """
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: deeper than the stdlib reads
        frame = unreadable
    if frame is unreadable:
        return FrameError(f"not valid JSON (at character {unreadable.pos})")
    message = _message(frame)
    for name in ("join_ref", "ref", "topic", "event"):
        if not _sendable(getattr(message, name)):
            return FrameError(f"{name} is not valid unicode (a lone surrogate)")
    if "surrogate" in unreadable.msg:
        return _payload_error("invalid unicode: lone surrogate", message)
    return _payload_error(f"invalid JSON: {unreadable.msg} (at character {unreadable.pos})", message)


def _sendable(value: str | None) -> bool:
    """True if ``value`` can be written back as UTF-8 (no lone surrogate)."""
    if value is None:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _payload_error(reason: str, message: Message) -> PayloadError:
    return PayloadError(reason, message.join_ref, message.ref, message.topic, message.event)


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
    for name, length in zip(("join_ref", "ref", "topic", "event"), lengths, strict=True):
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
    if item.__class__ is Reply:
        if isinstance(item.response, bytes):
            return _binary(REPLY, (item.join_ref, item.ref, item.topic, item.status), item.response)
        body = {"status": item.status, "response": item.response}
        return _text([item.join_ref, item.ref, item.topic, "phx_reply", body])
    if item.__class__ is Broadcast:
        if isinstance(item.payload, bytes):
            return _binary(BROADCAST, (item.topic, item.event), item.payload)
        return _text([None, None, item.topic, item.event, item.payload])
    if item.__class__ is Message:
        if isinstance(item.payload, bytes):
            # Server push: no ref field, unlike a client push (docs/protocol/channels.md, "Binary frames").
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
        detail = _ENCODE_HINTS.get(str(error), str(error))
        raise TypeError(f"payload of {frame[3]!r} on {frame[2]!r} is not JSON-serializable: {detail}") from None


# orjson's messages that do not say what to change.
_ENCODE_HINTS = {"Recursion limit reached": "nested deeper than 254 levels, the most orjson writes"}


def _binary(kind: int, fields: tuple, payload: bytes) -> bytes:
    encoded = [(field or "").encode("utf-8") for field in fields]
    for field, data in zip(fields, encoded, strict=True):
        if len(data) > _MAX_FIELD:
            # Never truncate: a truncated topic would reach the wrong channel.
            raise ValueError(f"{field[:40]!r}... is {len(data)} bytes; binary frame fields are at most {_MAX_FIELD}")
    return bytes([kind, *map(len, encoded)]) + b"".join(encoded) + payload

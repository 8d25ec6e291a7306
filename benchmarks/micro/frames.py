"""``micro-frames``: the V2 frame codec (``web.serializer``) alone, against bare orjson.

Per frame, what a channel's server does for a ``ping`` push: decode the
client's text frame (:func:`web.serializer.decode_text`: JSON, then every
field checked, a :class:`~web.serializer.Message`) and encode the reply
(:func:`web.serializer.encode` of a :class:`~web.serializer.Reply`), plus
the encoding of one broadcast (a :class:`~web.serializer.Broadcast`, the
fastlane's encode-once). Figure: ns per round of those three frames.

Baseline: the same bytes with ``orjson`` and no codec: ``orjson.loads`` of
the push, ``orjson.dumps`` of the reply's and the broadcast's lists. The
ratio prices the codec's checks and message objects over the JSON library
it uses. ``stdlib_json_ns``: the baseline's work with the standard
library's ``json`` instead (compact separators), for scale. Every side
checks that it produced the expected bytes once, before timing. Sizes:
N = 100,000 rounds / ``--quick`` 5,000.
"""

from __future__ import annotations

import json
from time import perf_counter

import orjson

from web.serializer import Broadcast, Reply, decode_text, encode

from .._harness import Sample, Workload

PUSH = '["3","17","room:lobby","ping",{"body":"hello there","n":17}]'
TOPIC = "room:lobby"
SHOUT = {"body": "hello there", "user": "u17"}
REPLY_TEXT = '["3","17","room:lobby","phx_reply",{"status":"ok","response":{"body":"hello there","n":17}}]'
BROADCAST_TEXT = '[null,null,"room:lobby","shout",{"body":"hello there","user":"u17"}]'


def _codec_once() -> tuple[str, str]:
    message = decode_text(PUSH)
    reply = encode(Reply(message.join_ref, message.ref, message.topic, "ok", message.payload))
    return reply, encode(Broadcast(TOPIC, "shout", SHOUT))


def _orjson_once() -> tuple[str, str]:
    join_ref, ref, topic, _event, payload = orjson.loads(PUSH)
    reply = orjson.dumps([join_ref, ref, topic, "phx_reply", {"status": "ok", "response": payload}]).decode()
    return reply, orjson.dumps([None, None, TOPIC, "shout", SHOUT]).decode()


def _json_once() -> tuple[str, str]:
    join_ref, ref, topic, _event, payload = json.loads(PUSH)
    compact = (",", ":")
    reply = json.dumps([join_ref, ref, topic, "phx_reply", {"status": "ok", "response": payload}], separators=compact)
    return reply, json.dumps([None, None, TOPIC, "shout", SHOUT], separators=compact)


def _ns_per_frame(once, frames: int) -> float:
    """Run ``once`` ``frames`` times (after checking its output); ns per call."""
    if once() != (REPLY_TEXT, BROADCAST_TEXT):
        raise AssertionError(f"{once.__name__} encoded {once()!r}")
    start = perf_counter()
    for _ in range(frames):
        once()
    return (perf_counter() - start) / frames * 1e9


def ours_frames(frames: int) -> Sample:
    return Sample(figure=_ns_per_frame(_codec_once, frames), extra={"stdlib_json_ns": _ns_per_frame(_json_once, frames)})


def raw_frames(frames: int) -> Sample:
    return Sample(figure=_ns_per_frame(_orjson_once, frames))


WORKLOAD = Workload(
    id="micro-frames",
    name="M frames",
    aliases=("frames", "serializer", "frame-codec", "m-frames"),
    unit="ns/round",
    rate=False,
    ours=ours_frames,
    raw=raw_frames,
    full_size=100_000,
    quick_size=5_000,
)

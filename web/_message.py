"""The three shapes a Phoenix socket speaks in: a client message, a reply, a broadcast.

Phoenix's ``Socket.Message``, ``Socket.Reply`` and ``Socket.Broadcast``. A
server push is a :class:`Message` going the other way (``ref`` None, or the
join ref for ``phx_close``/``phx_error``). Payloads are dicts, or ``bytes``
for binary frames (docs/protocol/channels.md, "Binary frames").
"""

from __future__ import annotations

import attrs

__all__ = ["Message", "Reply", "Broadcast"]


@attrs.frozen(slots=True)
class Message:
    """``[join_ref, ref, topic, event, payload]``: a client push, or a server push."""

    join_ref: str | None
    ref: str | None
    topic: str
    event: str
    payload: dict | bytes


@attrs.frozen(slots=True)
class Reply:
    """A ``phx_reply`` to the client push ``ref``: ``{"status": status, "response": response}``."""

    join_ref: str | None
    ref: str | None
    topic: str
    status: str
    response: dict | bytes


@attrs.frozen(slots=True)
class Broadcast:
    """A PubSub broadcast to every subscriber of ``topic``: sent with ``join_ref`` and ``ref`` null."""

    topic: str
    event: str
    payload: dict | bytes

"""The demo chat app's socket and channel, exactly as docs/demo/chat.md says.

``ChatSocket`` accepts a ``user`` of 1–32 ``[A-Za-z0-9_]`` characters and
routes ``room:<name>`` (1–64 ``[A-Za-z0-9_-]``) to :class:`RoomChannel`:

=================  =============================================================
client sends       server does
=================  =============================================================
join               ok ``{"room", "user"}``; track the user (``online_at``), push
                   ``presence_state``, every member gets ``presence_diff``
join room:secret   without ``{"password": "letmein"}``: error ``unauthorized``
ping P             ok P
shout {body}       broadcast ``shout`` ``{body, user}`` to all (body a string of
                   at most 4,096 characters, else error ``invalid body``)
typing             broadcast_from ``typing`` ``{user}``
count              ok ``{"members": N}`` (distinct users present)
crash              the channel raises: ``phx_error``, the rest lives on
anything else      error ``unknown event``
=================  =============================================================

Payloads are checked, not trusted: a ``shout`` whose payload is binary or
whose ``body`` is not a string is ``invalid body``; a binary ``ping`` is
echoed as a binary reply; ``typing`` and ``count`` read no payload. A
binary join is refused before ``join`` runs (``web/_channel_server.py``),
and a ``password`` that is not the string ``"letmein"`` is ``unauthorized``.
"""

from __future__ import annotations

import re
import time

import otp
from web import presence
from web.channel import Channel, Error, Ok
from web.socket import Socket

__all__ = ["ChatSocket", "RoomChannel", "PRESENCE", "PUBSUB"]

PUBSUB = "chat"
PRESENCE = "chat_presence"
MAX_BODY = 4096

_USER = re.compile(r"[A-Za-z0-9_]{1,32}")
_ROOM = re.compile(r"room:([A-Za-z0-9_-]{1,64})")
_AFTER_JOIN = "after_join"


class RoomChannel(Channel):
    async def join(self, topic, payload, socket):
        matched = _ROOM.fullmatch(topic)
        assert matched is not None  # (ChatSocket.route sends only these topics here)
        room = matched.group(1)
        if room == "secret" and payload.get("password") != "letmein":
            return Error({"reason": "unauthorized"})
        otp.send(otp.current_pid(), _AFTER_JOIN)  # track once the join reply is out
        return Ok({"room": room, "user": socket.assigns["user"]})

    async def handle_info(self, message, socket):
        if message == _AFTER_JOIN:
            await presence.track(PRESENCE, socket, socket.assigns["user"], {"online_at": int(time.time())})
            presence.push_state(PRESENCE, socket)

    async def handle_in(self, event, payload, socket):
        user = socket.assigns["user"]
        if event == "ping":
            return Ok(payload)
        if event == "shout":
            body = payload.get("body") if isinstance(payload, dict) else None  # bytes: a binary push
            if not isinstance(body, str) or len(body) > MAX_BODY:
                return Error({"reason": "invalid body"})
            socket.broadcast("shout", {"body": body, "user": user})
            return None
        if event == "typing":
            socket.broadcast_from("typing", {"user": user})
            return None
        if event == "count":
            return Ok({"members": len(presence.list_presences(PRESENCE, socket.topic))})
        if event == "crash":
            raise RuntimeError("crash requested by the client")
        return Error({"reason": "unknown event"})


class ChatSocket(Socket):
    channels = {"room:*": RoomChannel}

    async def connect(self, params, connect_info):
        user = params.get("user")
        if not isinstance(user, str) or not _USER.fullmatch(user):
            return None
        return {"user": user}

    def id(self, assigns):
        return f"users_socket:{assigns['user']}"

    def route(self, topic):
        return RoomChannel if _ROOM.fullmatch(topic) else None

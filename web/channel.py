"""Channels: one process per joined topic, talking to one client over its socket.

Phoenix.Channel in Python. Subclass :class:`Channel`; the socket routes a
topic to your class, and every ``phx_join`` starts one process running it::

    from web.channel import Channel, Ok, Error

    class RoomChannel(Channel):
        async def join(self, topic, payload, socket):
            if topic == "room:secret" and payload.get("password") != "letmein":
                return Error({"reason": "unauthorized"})     # refused: the process ends
            socket.assigns["room"] = topic.split(":", 1)[1]
            return Ok({"room": socket.assigns["room"]})      # or None for Ok({})

        async def handle_in(self, event, payload, socket):
            if event == "ping":
                return Ok(payload)                           # reply ok with payload
            if event == "shout":
                socket.broadcast("shout", payload)           # to every member, no reply
                return None
            return Error({"reason": "unknown event"})

What callbacks return
---------------------
=====================  =================================================================
callback               returns
=====================  =================================================================
``join``               ``Ok(response)`` or None (joined), ``Error(response)`` (refused)
``handle_in``          ``Ok(response)`` / ``Error(response)`` (a reply), None (no reply),
                       ``Stop(reason, reply=Ok(...))`` (stop, with an optional reply)
``handle_out``,        None, or ``Stop(reason)``
``handle_info``
=====================  =================================================================

Anything else raises ``TypeError`` naming the callback and the accepted
shapes; the channel crashes with it and the client gets ``phx_error``.

What callbacks get from the client: ``join`` always a dict (a binary
``phx_join`` is refused with ``{"reason": "a join payload must be a JSON
object, not binary"}`` before ``join`` runs); ``handle_in`` a dict, or
``bytes`` for a binary push. A payload nested deeper than
``web.serializer.MAX_DEPTH`` or holding a lone surrogate never reaches a
channel: the socket answers it with an error. Anything inside the dict is
the client's to choose, so check the types of what you read
(``isinstance(payload.get("body"), str)``) and answer ``Error(...)``
rather than let a wrong type raise.

The socket
----------
Callbacks get a :class:`ChannelSocket`: ``assigns`` (a dict, the socket's
assigns copied at join), ``topic``, ``join_ref``, ``id``, and ``push(event,
payload)``, ``broadcast(event, payload)``, ``broadcast_from(event,
payload)``, ``reply(ref, reply)`` for a deferred reply (``socket.ref`` is
the ref of the push being handled).

Ending
------
A channel that returns ``Stop`` with a normal reason (``NORMAL``,
``SHUTDOWN``, ``Shutdown(x)``) makes the client get ``phx_close``; a crash
(exception, kill) makes it get ``phx_error`` and rejoin. ``terminate(reason,
socket)`` runs on stop and on crash; leaving ends the channel with
``Shutdown("left")``, the socket closing with ``Shutdown("closed")``.

Intercepting broadcasts
-----------------------
Broadcasts are encoded once and written straight to every subscribed socket
(the fastlane). List an event in ``intercept`` to have it go through
``handle_out(event, payload, socket)`` instead, which may ``socket.push`` it
(changed, or not at all).
"""

from __future__ import annotations

import inspect
from typing import Any

from otp import Stop

from . import serializer
from ._message import Broadcast, Message, Reply

__all__ = ["Channel", "ChannelSocket", "Ok", "Error", "Stop"]


class Ok:
    """A successful join or reply: ``{"status": "ok", "response": response}``."""

    __slots__ = ("response",)
    status = "ok"

    def __init__(self, response: dict[str, Any] | bytes | None = None) -> None:
        self.response: dict[str, Any] | bytes = {} if response is None else response

    def __repr__(self) -> str:
        return f"Ok({self.response!r})"

    # Defining __eq__ leaves __hash__ None: unhashable, like the dict it holds.
    def __eq__(self, other: object) -> bool:
        return other.__class__ is Ok and other.response == self.response


class Error:
    """A refused join or an error reply: ``{"status": "error", "response": response}``."""

    __slots__ = ("response",)
    status = "error"

    def __init__(self, response: dict[str, Any] | bytes | None = None) -> None:
        self.response: dict[str, Any] | bytes = {} if response is None else response

    def __repr__(self) -> str:
        return f"Error({self.response!r})"

    # Defining __eq__ leaves __hash__ None: unhashable, like the dict it holds.
    def __eq__(self, other: object) -> bool:
        return other.__class__ is Error and other.response == self.response


class ChannelSocket:
    """What a channel's callbacks see of its socket, and how they talk to the client."""

    def __init__(
        self, *, topic: str, join_ref: str | None, assigns: dict[str, Any], socket_id: str | None, transport, pubsub: str, fastlane
    ) -> None:
        self.topic = topic
        self.join_ref = join_ref
        self.assigns = assigns
        self.id = socket_id
        self.ref: str | None = None  # the ref of the client push being handled
        self._transport = transport
        self._pubsub = pubsub
        self._fastlane = fastlane  # the dispatcher broadcasts use

    def __repr__(self) -> str:
        return f"<ChannelSocket {self.topic!r} join_ref={self.join_ref!r}>"

    def push(self, event: str, payload: dict[str, Any] | bytes) -> None:
        """Send ``event`` to this channel's client only."""
        self._transport.send(serializer.encode(Message(self.join_ref, None, self.topic, event, payload)))

    def reply(self, ref: str, reply: Ok | Error) -> None:
        """Reply later to the push ``ref`` (keep ``socket.ref`` from ``handle_in``)."""
        _check_reply("reply", reply)
        self._transport.send(serializer.encode(Reply(self.join_ref, ref, self.topic, reply.status, reply.response)))

    def broadcast(self, event: str, payload: dict[str, Any] | bytes) -> None:
        """Send ``event`` to every member of the topic, on every node, this client included."""
        from otp import pubsub

        pubsub.broadcast(self._pubsub, self.topic, Broadcast(self.topic, event, payload), dispatcher=self._fastlane)

    def broadcast_from(self, event: str, payload: dict[str, Any] | bytes) -> None:
        """Like :meth:`broadcast`, except to this channel's own client."""
        from otp import current_pid, pubsub

        pubsub.broadcast_from(
            self._pubsub, current_pid(), self.topic, Broadcast(self.topic, event, payload), dispatcher=self._fastlane
        )


class Channel:
    """Subclass and override the callbacks; see the module docstring."""

    intercept: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("join", "handle_in", "handle_out", "handle_info", "terminate"):
            if not inspect.iscoroutinefunction(getattr(cls, name)):
                raise TypeError(f"{cls.__qualname__}.{name} must be an async function (async def {name}(...))")
        cls.intercept = tuple(cls.intercept)

    # The data parameters are typed Any, not what the server passes (a dict, or
    # bytes for a binary push), so that a subclass may annotate them as narrowly
    # as it likes (dict[str, str], a TypedDict) without an override error.

    async def join(self, topic: str, payload: Any, socket: ChannelSocket) -> Ok | Error | None:
        return None

    async def handle_in(self, event: str, payload: Any, socket: ChannelSocket) -> Ok | Error | Stop | None:
        return Error({"reason": "unknown event"})

    async def handle_out(self, event: str, payload: Any, socket: ChannelSocket) -> Stop | None:
        socket.push(event, payload)
        return None

    async def handle_info(self, message: Any, socket: ChannelSocket) -> Stop | None:
        return None

    async def terminate(self, reason: Any, socket: ChannelSocket) -> None:
        return None


def _check_reply(callback: str, value: object) -> None:
    if value.__class__ not in (Ok, Error):
        raise TypeError(f"{callback}: expected Ok(response) or Error(response); got {value!r}")



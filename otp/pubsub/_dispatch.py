"""Delivery to this node's subscribers: the default dispatcher and local broadcasts.

Every broadcast ends here on each node it reaches: the Registry hands the
topic's ``(pid, metadata)`` entries to a dispatcher, which sends::

    dispatch([(pid_a, None), (pid_b, None)], None, "hello")   # both get "hello"
    dispatch([(pid_a, None), (pid_b, None)], pid_a, "hello")  # only pid_b

It sits below the PubSub functions and the adapters (``_local.py``,
``redis.py``), which all deliver through it.
"""

from __future__ import annotations

from typing import Any, Callable, TypeAlias

from .._kernel import Pid, send
from ..registry import Registry

__all__ = ["dispatch", "local_broadcast", "local_broadcast_from", "BroadcastFrom", "Dispatcher"]

Dispatcher: TypeAlias = Callable[[list[tuple[Pid, Any]], Pid | None, Any], object]
"""``dispatcher(entries, from_pid, message)``: delivers a broadcast to a topic's ``(pid, metadata)`` entries."""


def dispatch(entries: list[tuple[Pid, Any]], from_pid: Pid | None, message: object) -> None:
    """The default dispatcher: send ``message`` to every subscriber but ``from_pid``."""
    for pid, _ in entries:
        if pid != from_pid:
            send(pid, message)


def local_broadcast(pubsub: str, topic: str, message: object, *, dispatcher: Dispatcher = dispatch) -> None:
    """Deliver ``message`` to the subscribers of ``topic`` on this node only."""
    if message.__class__ is BroadcastFrom:
        local_broadcast_from(pubsub, message.pid, topic, message.message, dispatcher=dispatcher)
        return
    Registry.dispatch(pubsub, topic, lambda entries: dispatcher(entries, None, message))


def local_broadcast_from(
    pubsub: str, from_pid: Pid, topic: str, message: object, *, dispatcher: Dispatcher = dispatch
) -> None:
    Registry.dispatch(pubsub, topic, lambda entries: dispatcher(entries, from_pid, message))


class BroadcastFrom:
    """A broadcast_from on its way to other nodes: the message and whom to skip."""

    __slots__ = ("pid", "message")

    def __init__(self, pid: Pid, message: object) -> None:
        self.pid = pid
        self.message = message

    def __reduce__(self) -> tuple[type[BroadcastFrom], tuple[Pid, object]]:
        return (BroadcastFrom, (self.pid, self.message))

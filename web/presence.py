"""Presence for channels: who is in a topic, synced to the official client (docs/protocol/channels.md, "Presence").

Built on :class:`otp.tracker.Tracker` (replicated across nodes) and the
channel fastlane. Start one Presence per node beside the PubSub, then track
from a channel after it joined::

    await Presence.start_link(pubsub="chat", name="presence")

    class RoomChannel(Channel):
        async def join(self, topic, payload, socket):
            otp.send(otp.current_pid(), "after_join")       # track once joined
            return Ok({})

        async def handle_info(self, message, socket):
            if message == "after_join":
                await presence.track("presence", socket, socket.assigns["user"], {"online_at": now()})
                presence.push_state("presence", socket)     # the joiner's presence_state

The wire shapes: ``presence_state`` is ``{key: {"metas": [meta, ...]}}``,
pushed to the joiner; ``presence_diff`` is ``{"joins": {...}, "leaves":
{...}}`` in the same grouping, broadcast to every member of the topic on
every node (each node's tracker broadcasts the diffs it sees to its own
subscribers). Every meta carries a unique ``phx_ref`` (and ``phx_ref_prev``
after an update), which is how the client's ``Presence.syncState`` /
``syncDiff`` tell metas apart. A tracked channel that ends (leave, crash,
its socket closing) leaves at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from otp import Pid, current_pid, pubsub
from otp.tracker import Tracker

from ._channel_server import fastlane
from ._message import Broadcast
from .channel import ChannelSocket

__all__ = ["Presence", "track", "update", "untrack", "list_presences", "push_state", "group"]


class Presence(Tracker):
    """A Tracker that broadcasts every diff as ``presence_diff`` on its topic."""

    async def init(self, pubsub_name: str) -> None:
        self.pubsub = pubsub_name

    async def handle_diff(self, diff: dict) -> None:
        for topic, (joins, leaves) in diff.items():
            payload = {"joins": group(joins), "leaves": group(leaves)}
            # Local only: the trackers of the other nodes see the same diff
            # and tell their own subscribers.
            pubsub.local_broadcast(self.pubsub, topic, Broadcast(topic, "presence_diff", payload), dispatcher=fastlane)

    @classmethod
    async def start_link(cls, arg: object = None, *, pubsub: str, name: str, **options: Any) -> Pid:
        """Start the presence tracker ``name`` on this node, diffs broadcast on ``pubsub``."""
        return await super().start_link(pubsub, pubsub=pubsub, name=name, **options)


def group(entries: Iterable[tuple[object, dict[str, Any]]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``[(key, meta), ...]`` as the client wants it: ``{key: {"metas": [meta, ...]}}``."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key, meta in entries:
        grouped.setdefault(str(key), {"metas": []})["metas"].append(meta)
    return grouped


async def track(tracker: str, socket: ChannelSocket, key: object, meta: dict) -> str:
    """Track the calling channel in its topic as ``key``; return the meta's ``phx_ref``."""
    return await Tracker.track(tracker, current_pid(), socket.topic, key, meta)


async def update(tracker: str, socket: ChannelSocket, key: object, meta: dict) -> str:
    return await Tracker.update(tracker, current_pid(), socket.topic, key, meta)


async def untrack(tracker: str, socket: ChannelSocket, key: object) -> None:
    await Tracker.untrack(tracker, current_pid(), socket.topic, key)


def list_presences(tracker: str, topic: str) -> dict:
    """Every presence in ``topic`` on every node, grouped by key (a read, no call)."""
    return group(Tracker.list(tracker, topic))


def push_state(tracker: str, socket: ChannelSocket) -> None:
    """Push ``presence_state`` (the whole topic) to this channel's client."""
    socket.push("presence_state", list_presences(tracker, socket.topic))



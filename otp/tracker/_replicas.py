"""Which other replicas are alive, from their heartbeats: a pure table, no clock of its own.

A replica is named ``(node_name, incarnation)``: a tracker that restarts on
the same node is a new replica, and the old one is gone for good. The
tracker feeds this table each heartbeat it hears and, on each of its own
ticks, asks which replicas fell silent; both return the events the tracker
applies to its :class:`~otp.tracker._state.State`, in order:

==================================  ======================================
what happened                       events
==================================  ======================================
first heartbeat of a node           UP(new)
heartbeat of a replica that is up   (none)
heartbeat of a replica that is down UP(it)
heartbeat of a new incarnation      DOWN(old) if it was up, PERMDOWN(old), UP(new)
silent for more than down_period    DOWN(it)
silent for more than permdown       DOWN(it) if it was up, PERMDOWN(it)
its node declared down (otp.dist)   DOWN(it) if it was up
==================================  ======================================

Silence counts from a time the tracker gives (``since``) at the earliest:
while this node is cut off from the bus, or was not running, the others'
silence says nothing about them.

>>> table = Replicas()
>>> table.heartbeat(("b", 1), now=0.0)
[(<ReplicaStatus.UP: 'up'>, ('b', 1))]
>>> table.detect_downs(now=5.0, down_period=3.0, permdown_period=10.0)
[(<ReplicaStatus.DOWN: 'down'>, ('b', 1))]
>>> table.heartbeat(("b", 2), now=6.0)
[(<ReplicaStatus.PERMDOWN: 'permdown'>, ('b', 1)), (<ReplicaStatus.UP: 'up'>, ('b', 2))]
>>> table.detect_downs(now=10.0, down_period=3.0, permdown_period=10.0, since=8.0)  # silent 4 s, but only 2 count
[]
>>> table.node_down("b")
[(<ReplicaStatus.DOWN: 'down'>, ('b', 2))]
"""

from __future__ import annotations

import enum
import math

__all__ = ["Replicas", "ReplicaStatus"]


class ReplicaStatus(enum.Enum):
    """A replica's status as seen from here, and the events that change it."""

    UP = "up"
    DOWN = "down"
    PERMDOWN = "permdown"


class _Replica:
    __slots__ = ("ref", "status", "last_heard")

    def __init__(self, ref: tuple, last_heard: float) -> None:
        self.ref = ref
        self.status = ReplicaStatus.UP
        self.last_heard = last_heard


class Replicas:
    """The other replicas of one tracker, by node name."""

    __slots__ = ("_by_name",)

    def __init__(self) -> None:
        self._by_name: dict[object, _Replica] = {}

    def __repr__(self) -> str:
        return f"Replicas({self.statuses()!r})"

    def heartbeat(self, ref: tuple, now: float) -> list[tuple[ReplicaStatus, tuple]]:
        """``ref`` was heard from at ``now``; return the events that follow."""
        name = ref[0]
        replica = self._by_name.get(name)
        if replica is None:
            self._by_name[name] = _Replica(ref, now)
            return [(ReplicaStatus.UP, ref)]
        if replica.ref != ref:  # the node's tracker restarted: the old incarnation is gone
            events = [(ReplicaStatus.DOWN, replica.ref)] if replica.status is ReplicaStatus.UP else []
            self._by_name[name] = _Replica(ref, now)
            return [*events, (ReplicaStatus.PERMDOWN, replica.ref), (ReplicaStatus.UP, ref)]
        replica.last_heard = now
        if replica.status is ReplicaStatus.DOWN:
            replica.status = ReplicaStatus.UP
            return [(ReplicaStatus.UP, ref)]
        return []

    def detect_downs(
        self, now: float, down_period: float, permdown_period: float, since: float = -math.inf
    ) -> list[tuple[ReplicaStatus, tuple]]:
        """Mark replicas silent for longer than ``down_period`` down, forget those past ``permdown_period``.

        Silence counts from ``since`` at the earliest: what came before it
        says nothing (this node was cut off from the others, or not running).
        """
        events = []
        for name, replica in list(self._by_name.items()):
            silence = now - max(replica.last_heard, since)
            if silence > permdown_period:
                if replica.status is ReplicaStatus.UP:
                    events.append((ReplicaStatus.DOWN, replica.ref))
                events.append((ReplicaStatus.PERMDOWN, replica.ref))
                del self._by_name[name]
            elif silence > down_period and replica.status is ReplicaStatus.UP:
                replica.status = ReplicaStatus.DOWN
                events.append((ReplicaStatus.DOWN, replica.ref))
        return events

    def node_down(self, name: object) -> list[tuple[ReplicaStatus, tuple]]:
        """Another authority (``otp.dist``) declared node ``name`` down: its replica is down now, if it was up."""
        replica = self._by_name.get(name)
        if replica is None or replica.status is not ReplicaStatus.UP:
            return []
        replica.status = ReplicaStatus.DOWN
        return [(ReplicaStatus.DOWN, replica.ref)]

    def statuses(self) -> dict[object, ReplicaStatus]:
        """``{node_name: ReplicaStatus.UP | ReplicaStatus.DOWN}``."""
        return {name: replica.status for name, replica in self._by_name.items()}

    def ref(self, name: object) -> tuple | None:
        replica = self._by_name.get(name)
        return replica.ref if replica is not None else None

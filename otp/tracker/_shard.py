"""The tracker process: owns one State, replicates it over PubSub, watches tracked processes.

Thin on purpose: what a change means lives in ``_state.py`` (presences,
merges, diffs) and ``_replicas.py`` (who is alive); this module turns
messages into calls on them and their results into messages and
``handle_diff`` calls. The manual is the package docstring.

Messages between replicas, all on the topic ``otp_tracker:<name>``:

* ``_Heartbeat(replica, delta, clock)`` to every other node, each tick that
  has a delta, and at least every ``max_silent_periods`` ticks without one;
* ``_TransferRequest(replica)`` to one node (``direct_broadcast``), from a
  replica that found a gap in what it heard from that node;
* ``_TransferAck(replica, state)``, the answer: the whole State as a delta.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
import weakref
from typing import Any, Callable

import attrs
import trio

from .. import pubsub as _pubsub
from .._kernel import Down, OTPError, Pid, Ref, current_pid, demonitor, monitor, send, send_after, whereis
from ..genserver import From, GenServer
from ..pubsub._pubsub import _adapter
from ._replicas import Replicas, ReplicaStatus
from ._state import AlreadyTracked, Delta, Diff, NotTracked, Presence, State

__all__ = ["ReplicaEvent", "Options", "Shard", "SHARDS", "Failed", "Track", "Untrack", "Update"]

logger = logging.getLogger("otp.tracker")

# Tracker pid -> its shard (the GenServer instance), for reads in the caller.
# Weak: it lives as long as the process's state does.
SHARDS: weakref.WeakValueDictionary[Pid, Shard] = weakref.WeakValueDictionary()


@attrs.frozen
class ReplicaEvent:
    """Sent to ``report_events_to``: the tracker ``tracker`` now sees ``node``'s replica as ``status``."""

    tracker: str
    node: str
    status: ReplicaStatus


@attrs.frozen
class Options:
    """A tracker's start options, checked (see ``Tracker.start_link``)."""

    pubsub: str
    name: str
    broadcast_period: float
    max_silent_periods: int
    down_period: float
    permdown_period: float
    report_events_to: Pid | None


class Failed:
    """A reply that makes the client function raise ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


# ---------------------------------------------------------------- messages


@attrs.frozen(slots=True)
class Track:
    pid: Pid
    topic: str
    key: object
    meta: dict


@attrs.frozen(slots=True)
class Untrack:
    pid: Pid
    topic: object  # None: every topic of pid
    key: object


@attrs.frozen(slots=True)
class Update:
    pid: Pid
    topic: str
    key: object
    meta: dict[str, Any] | Callable[[dict[str, Any]], object]  # a dict, or a function of the old meta


class _Tick:
    __slots__ = ()

    def __repr__(self) -> str:
        return "tracker tick"


_TICK = _Tick()


class _Heartbeat:
    __slots__ = ("replica", "delta", "clock")

    def __init__(self, replica: tuple, delta: Delta | None, clock: dict) -> None:
        self.replica, self.delta, self.clock = replica, delta, clock

    def __reduce__(self):
        return (_Heartbeat, (self.replica, self.delta, self.clock))

    def __repr__(self) -> str:
        return f"<tracker heartbeat from {self.replica!r}: {self.delta!r}, clock {self.clock!r}>"


class _TransferRequest:
    __slots__ = ("replica",)

    def __init__(self, replica: tuple) -> None:
        self.replica = replica

    def __reduce__(self):
        return (_TransferRequest, (self.replica,))


class _TransferAck:
    __slots__ = ("replica", "state")

    def __init__(self, replica: tuple, state: Delta) -> None:
        self.replica, self.state = replica, state

    def __reduce__(self):
        return (_TransferAck, (self.replica, self.state))


# ---------------------------------------------------------------- the process


class Shard(GenServer):
    """One tracker's process. ``init`` gets ``(tracker class, arg, Options)``."""

    async def init(self, args: tuple[type[Any], object, Options]) -> Any:
        behaviour, arg, options = args
        self.options: Options = options
        self.tracker = behaviour()
        self.me = current_pid()
        self.topic = f"otp_tracker:{options.name}"
        # A new incarnation on every start: a restarted tracker is a new
        # replica, and the others drop the old one's presences at once.
        self.ref = (_pubsub.node_name(options.pubsub), secrets.randbits(62))
        self.state = State(self.ref)
        self.replicas = Replicas()
        self.monitors: dict[Pid, Ref] = {}
        self.transfers: dict[tuple, float] = {}  # replica -> when it was last asked for its state
        self.since_heartbeat = options.max_silent_periods  # so the first tick announces us
        SHARDS[self.me] = self
        _pubsub.subscribe(options.pubsub, self.topic)
        # When the others' silence says something (see "When a node goes down" in
        # otp.tracker): the adapter knows whether this node hears the bus...
        self.bus: Callable[[], float | None] = getattr(_adapter(options.pubsub), "silence_counts_from", _always)
        # ...and a tick that fires late says this node was not running.
        self.resumed_at = -math.inf
        self.pause_threshold = (options.down_period - options.broadcast_period * options.max_silent_periods) / 2
        # The first tick comes after a random fraction of a period, so that
        # trackers started together do not heartbeat in lockstep.
        first = random.uniform(0, options.broadcast_period / 4)
        self.tick_due = trio.current_time() + first
        send_after(self.me, _TICK, first)
        self.node_events = await _follow_node_events()
        return await self.tracker.init(arg)

    def format_status(self) -> object:
        return {
            "tracker": type(self.tracker).__qualname__,
            "replica": self.ref,
            "presences": len(self.state),
            "replicas": self.replicas.statuses(),
        }

    # ------------------------------------------------------------ calls from the client API

    async def handle_call(self, request: object, caller: From) -> object:
        match request:
            case Track(pid, topic, key, meta):
                return await self._track(pid, topic, key, meta)
            case Untrack(pid, topic, key):
                await self._untrack(pid, topic, key)
                return None
            case Update(pid, topic, key, meta):
                return await self._update(pid, topic, key, meta)
        return Failed(TypeError(f"a tracker answers Track, Untrack and Update; got {request!r}"))

    async def _track(self, pid: Pid, topic: str, key: object, meta: dict) -> str | Failed:
        ref = _phx_ref()
        meta = {**meta, "phx_ref": ref}
        try:
            self.state.join(pid, topic, key, meta)
        except AlreadyTracked as error:
            return Failed(error)
        if pid not in self.monitors:
            self.monitors[pid] = monitor(pid)  # a dead pid gives a Down at once, and is untracked
        await self._report(Diff(joins=(Presence(topic, key, pid, meta),)))
        return ref

    async def _untrack(self, pid: Pid, topic: object, key: object) -> None:
        gone = self._presences(pid, topic, key)
        self.state.leave(pid, topic, key)
        if not self.state.get_by_pid(pid):
            ref = self.monitors.pop(pid, None)
            if ref is not None:
                demonitor(ref, flush=True)
        await self._report(Diff(leaves=gone))

    async def _update(
        self, pid: Pid, topic: str, key: object, meta: dict[str, Any] | Callable[[dict[str, Any]], object]
    ) -> str | Failed:
        current = self.state.get_by_pid(pid, topic, key)
        if not current:
            return Failed(NotTracked(pid, topic, key))
        old = current[-1][2]
        if callable(meta):
            try:
                meta = _check_meta(meta(old), "the function given to update() returned")
            except Exception as error:  # the caller's function: the caller's error, not our crash
                return Failed(error)
        ref = _phx_ref()
        new = {**meta, "phx_ref": ref, "phx_ref_prev": old.get("phx_ref")}
        self.state.update(pid, topic, key, new)
        await self._report(Diff(joins=(Presence(topic, key, pid, new),), leaves=(Presence(topic, key, pid, old),)))
        return ref

    # ------------------------------------------------------------ messages

    async def handle_info(self, message: Any) -> None:
        kind = message.__class__
        if kind is _Tick:
            await self._tick()
        elif kind is _Heartbeat:
            await self._heard(message)
        elif kind is _TransferRequest:
            self._direct(message.replica[0], _TransferAck(self.ref, self.state.extract()))
        elif kind is _TransferAck:
            self.transfers.pop(message.replica, None)
            await self._report(self.state.merge(message.state))
        elif kind is Down and self.monitors.get(message.pid) == message.ref:
            del self.monitors[message.pid]
            gone = self._presences(message.pid, None, None)
            self.state.leave(message.pid)
            await self._report(Diff(leaves=gone))
        elif kind in self.node_events:
            await self._node_event(message)
        else:
            result = await self.tracker.handle_info(message)
            _check_none(self.tracker, "handle_info", result)

    async def _tick(self) -> None:
        options = self.options
        now = trio.current_time()
        late, self.tick_due = now - self.tick_due, now + options.broadcast_period
        send_after(self.me, _TICK, options.broadcast_period)
        delta = self.state.take_delta()
        self.since_heartbeat += 1
        if delta is not None or self.since_heartbeat >= options.max_silent_periods:
            self.since_heartbeat = 0
            self._broadcast(_Heartbeat(self.ref, delta, self.state.clock()))
        if late > self.pause_threshold:
            # This process did not run (its OS process stopped, or starved): the
            # heartbeats that came meanwhile are unread. Silence counts from now.
            self.resumed_at = now
            logger.warning("tracker %r did not run for %.1f s: silence counts from now", options.name, late)
        since = self.bus()
        if since is None:
            return  # this node does not hear the bus: the others' silence says nothing
        downs = self.replicas.detect_downs(now, options.down_period, options.permdown_period, max(since, self.resumed_at))
        for status, replica in downs:
            await self._replica_changed(status, replica)

    async def _node_event(self, event: Any) -> None:
        """``otp.dist`` declared a node down: its replica is down now, not after our own down_period.

        (A node up again is not news here: its replica is up at its next heartbeat.)
        """
        if event.__class__ is self.node_events[1]:
            for status, replica in self.replicas.node_down(event.name):
                await self._replica_changed(status, replica)

    async def _heard(self, heartbeat: _Heartbeat) -> None:
        replica, delta = heartbeat.replica, heartbeat.delta
        if replica == self.ref:
            return
        for status, changed in self.replicas.heartbeat(replica, trio.current_time()):
            await self._replica_changed(status, changed)
        if delta is None:
            gap = self.state.behind(replica, heartbeat.clock)  # a delta of theirs never reached us
        else:
            gap = self.state.has_gap(delta)  # checked before merging, which moves our clock
            await self._report(self.state.merge(delta))
        if gap:
            self._request_transfer(replica)

    def _request_transfer(self, replica: tuple) -> None:
        # One request per replica in flight: the answer usually comes within
        # a period; if it was lost, ask again after two.
        now = trio.current_time()
        asked = self.transfers.get(replica)
        if asked is not None and now - asked < 2 * self.options.broadcast_period:
            return
        self.transfers[replica] = now
        self._direct(replica[0], _TransferRequest(self.ref))

    async def _replica_changed(self, status: ReplicaStatus, replica: tuple) -> None:
        if status is ReplicaStatus.UP:
            diff = self.state.replica_up(replica)
        elif status is ReplicaStatus.DOWN:
            diff = self.state.replica_down(replica)
        else:
            diff = self.state.replica_permdown(replica)
            self.transfers.pop(replica, None)
        logger.debug("tracker %r: replica %r is %s", self.options.name, replica, status.value)
        if self.options.report_events_to is not None:
            send(self.options.report_events_to, ReplicaEvent(self.options.name, replica[0], status))
        await self._report(diff)

    # ------------------------------------------------------------ helpers

    async def _report(self, diff: Diff) -> None:
        if diff:
            result = await self.tracker.handle_diff(diff.by_topic())
            _check_none(self.tracker, "handle_diff", result)

    def _presences(self, pid: Pid, topic: object, key: object) -> tuple:
        return tuple(Presence(t, k, pid, meta) for t, k, meta in self.state.get_by_pid(pid, topic, key))

    def _broadcast(self, message: object) -> None:
        try:
            _pubsub.broadcast_from(self.options.pubsub, self.me, self.topic, message)
        except OTPError as error:
            # The others will find the gap at our next heartbeat and ask for our state.
            logger.warning("tracker %r: could not broadcast its heartbeat: %s", self.options.name, error)

    def _direct(self, node: str, message: object) -> None:
        try:
            _pubsub.direct_broadcast(node, self.options.pubsub, self.topic, message)
        except OTPError as error:
            logger.warning("tracker %r: could not send to node %r: %s", self.options.name, node, error)


def _always() -> float:
    """The bus of an adapter that cannot lose it (Local): silence always counts."""
    return -math.inf


async def _follow_node_events() -> tuple[type[Any], ...]:
    """On a node running ``otp.dist``, get its ``NodeUp``/``NodeDown`` messages; return those two classes.

    On another node, nothing (an empty tuple).
    """
    if whereis("otp.dist.server") is None:
        return ()
    from .. import dist  # here only: otp.dist needs the redis extra, a tracker does not

    await dist.monitor_nodes()
    return (dist.NodeUp, dist.NodeDown)


def _phx_ref() -> str:
    return secrets.token_urlsafe(9)


def _check_meta(meta: object, what: str) -> dict:
    if not isinstance(meta, dict):
        raise TypeError(f"{what} {meta!r}; a presence's meta must be a dict (the tracker adds 'phx_ref' to it)")
    return meta


def _check_none(tracker: object, callback: str, result: object) -> None:
    if result is not None:
        raise TypeError(
            f"{type(tracker).__qualname__}.{callback} must return None; got {result!r}. "
            f"Keep the tracker's state on self."
        )

"""Tracker: which processes are present on which topics, replicated to every node.

Phoenix.Tracker's model. A tracker is a process on each node; it keeps a
list of *presences*, ``(topic, key, meta)`` entries each owned by a local
process, and shares it with the trackers of the same name on the other
nodes through a :mod:`PubSub <otp.pubsub>`. Every node can list every
node's presences, without a round trip; a presence goes when its process
ends, or when its node stops answering. Your tracker class hears of every
change through ``handle_diff``::

    import otp
    from otp import pubsub
    from otp.tracker import Tracker

    class Presence(Tracker):
        async def init(self, owner):
            self.owner = owner

        async def handle_diff(self, diff):                 # {topic: (joins, leaves)}
            otp.send(self.owner, diff)

    async def main():
        await pubsub.start_link("chat")
        await Presence.start_link(otp.current_pid(), pubsub="chat", name="presence")
        await Tracker.track("presence", otp.current_pid(), "room:1", "alice", {"status": "away"})
        diff = await otp.receive()          # {'room:1': ([('alice', {'status': 'away', 'phx_ref': ...})], [])}
        return Tracker.list("presence", "room:1")

    otp.run(main)                           # -> [('alice', {'status': 'away', 'phx_ref': '...'})]

Client API
----------
Each takes the tracker as its registered name (or pid).

* ``await Tracker.track(tracker, pid, topic, key, meta)`` → the presence's
  ``phx_ref`` (a unique string the tracker adds to ``meta``). A process may
  be tracked under many topics and keys, once per ``(topic, key)``: a
  second ``track`` raises :class:`AlreadyTracked`. The tracker monitors
  ``pid`` and untracks it when it ends.
* ``await Tracker.untrack(tracker, pid, topic, key)`` removes one presence,
  ``await Tracker.untrack(tracker, pid)`` all of ``pid``'s. No error if
  there were none.
* ``await Tracker.update(tracker, pid, topic, key, meta)`` replaces the
  meta (``meta`` may also be a function of the old meta) → the new
  ``phx_ref``; the new meta also carries ``phx_ref_prev``. Raises
  :class:`NotTracked` if there is no such presence. Other nodes see it as
  the old meta leaving and the new one joining.
* ``Tracker.list(tracker, topic)`` → ``[(key, meta), ...]``,
  ``Tracker.get_by_key(tracker, topic, key)`` → ``[(pid, meta), ...]``,
  ``Tracker.replicas(tracker)`` → ``{node_name: ReplicaStatus}``: sync
  reads of the tracker's table in the caller, as Registry reads: no
  message, no waiting on the tracker. They show this node's view: another
  node's change appears here after that node's next heartbeat.

``track``, ``untrack`` and ``update`` are calls to the local tracker (they
return once the local table has changed, and ``handle_diff`` has run).

Callbacks
---------
``async def init(self, arg)`` (optional): set up state on ``self``.
``async def handle_diff(self, diff)``: ``diff`` is ``{topic: (joins,
leaves)}``, each a list of ``(key, meta)``, for every change the tracker
sees, local or remote: a track is a join, an untrack or a process's end a
leave, an update a leave of the old meta plus a join of the new, a node
going down the leaves of all its presences. ``async def handle_info(self,
message)`` (optional) gets any other message. Callbacks run in the tracker
process, one at a time, and return None.

Options of ``start_link``
-------------------------
``await MyTracker.start_link(arg=None, *, pubsub, name, ...)`` starts the
tracker linked to the caller, registered as ``name``; ``arg`` goes to
``init``. Start one per node, with the same ``name`` and the same
PubSub (after the PubSub)::

    children = [
        pubsub.child_spec("chat", adapter=Redis(...)),
        Presence.child_spec(arg, pubsub="chat", name="presence"),
    ]

* ``broadcast_period`` (1.5 s): how often local changes go out;
* ``max_silent_periods`` (10): with no changes, a heartbeat still goes out
  every this many periods;
* ``down_period`` (default ``2 × broadcast_period × max_silent_periods``,
  at least that): a node not heard from for this long is *down*: its
  presences leave (``handle_diff`` reports it) but are kept, and come back
  if it is heard from again (a netsplit that heals);
* ``permdown_period`` (20 min, more than ``down_period``): then it is gone
  for good, its presences dropped;
* ``report_events_to``: a pid that receives a :class:`ReplicaEvent` each
  time a node's replica goes up, down or permanently down (for tests and
  dashboards).

How it replicates
-----------------
Each tracker's table is a delta CRDT (:mod:`otp.tracker._state` explains
it): local changes apply at once and accumulate into a delta; every
``broadcast_period`` the tracker broadcasts the delta, with its version
vector, to the other nodes (``broadcast_from`` on the topic
``otp_tracker:<name>``), which merge it. Merges commute and ignore
repeats, so late, reordered or duplicated messages do no harm. A tracker
that finds a gap (a delta starting beyond what it has seen of its sender,
or a version vector ahead of it: a message was lost, or it started late)
asks the sender for its whole table with ``direct_broadcast`` and merges
the answer. All timing follows trio's clock (``send_after``).

A restarted tracker is a new replica (its name carries an incarnation):
the others drop the old one's presences as soon as they hear the new one.

Testing
-------
On one node (the Local PubSub) a tracker runs under trio's autojump clock,
periods and all. Across nodes over Redis, use real time and small periods
(``broadcast_period=0.05, max_silent_periods=1``): the autojump clock
would jump past heartbeats while sockets wait, and take healthy nodes
down. Either way, wait for ``handle_diff`` or ``report_events_to``
messages rather than sleeping (``tests/tracker/`` does both).

Differences from Phoenix.Tracker: one process per tracker (no
``pool_size`` shards); no ``graceful_permdown``; ``track`` raises instead
of returning ``{:error, {:already_tracked, ...}}``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math

from otp import ChildSpec, GenServer, NotRegistered, Pid, is_alive
from otp.lowlevel import resolve_pid

from ._replicas import ReplicaStatus
from ._shard import SHARDS, Failed, Options, ReplicaEvent, Shard
from ._state import AlreadyTracked, NotTracked

__all__ = ["Tracker", "AlreadyTracked", "NotTracked", "ReplicaEvent", "ReplicaStatus"]

logger = logging.getLogger("otp.tracker")

_CALLBACKS = ("init", "handle_diff", "handle_info")


class Tracker:
    """Subclass it, define ``handle_diff``, start it with ``await MyTracker.start_link(...)``.

    The class also holds the client functions (``Tracker.track``,
    ``Tracker.list``, ...); see the package docstring for the manual.
    """

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name in _CALLBACKS:
            if not inspect.iscoroutinefunction(getattr(cls, name)):
                raise TypeError(f"{cls.__qualname__}.{name} must be an async function (async def {name}(...))")

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} Tracker>"

    # ------------------------------------------------------------ callbacks

    async def init(self, arg: object) -> None:
        """Set up state on ``self``; ``arg`` is the one given to ``start_link``."""

    async def handle_diff(self, diff: dict) -> None:
        """Presences joined and left: ``{topic: (joins, leaves)}``, lists of ``(key, meta)``."""

    async def handle_info(self, message: object) -> None:
        """Any other message sent to the tracker process. The default logs it."""
        logger.warning("%r received an unexpected message: %r", self, message)

    # ------------------------------------------------------------ starting

    @classmethod
    async def start_link(
        cls,
        arg: object = None,
        *,
        pubsub: str,
        name: str,
        broadcast_period: float = 1.5,
        max_silent_periods: int = 10,
        down_period: float | None = None,
        permdown_period: float = 1200.0,
        report_events_to: Pid | None = None,
        timeout: float = math.inf,
    ) -> Pid | None:
        """Start this tracker on this node, linked to the caller; return its pid once ``init`` has run.

        Raises:
            ValueError: periods that do not fit together (the message says how).
            StartError: ``init`` raised or returned ``Stop``.
            AlreadyStarted: ``name`` is taken on this node.
        """
        options = _options(
            pubsub, name, broadcast_period, max_silent_periods, down_period, permdown_period, report_events_to
        )
        return await Shard.start_link((cls, arg, options), name=name, timeout=timeout)

    @classmethod
    def child_spec(cls, arg: object = None, *, id: object = None, **options: object) -> ChildSpec:
        """A supervisor child spec for ``cls.start_link(arg, **options)`` (id: ``(cls, name)``)."""
        start = functools.partial(cls.start_link, **options)
        return ChildSpec(id=id if id is not None else (cls, options.get("name")), start=(start, arg))

    # ------------------------------------------------------------ client API (calls)

    @staticmethod
    async def track(tracker: object, pid: Pid, topic: str, key: object, meta: dict) -> str:
        """Track ``pid`` in ``topic`` as ``key``; return the presence's ``phx_ref``.

        Raises:
            AlreadyTracked: ``pid`` is already tracked under ``(topic, key)``.
        """
        _check_pid(pid)
        _check_topic(topic)
        if not isinstance(meta, dict):
            raise TypeError(f"track() needs meta as a dict (the tracker adds 'phx_ref' to it); got {meta!r}")
        return await _request(tracker, ("track", pid, topic, key, meta))

    @staticmethod
    async def untrack(tracker: object, pid: Pid, topic: str | None = None, key: object = None) -> None:
        """Untrack ``pid`` from ``(topic, key)``, or from everything when both are omitted."""
        _check_pid(pid)
        if (topic is None) != (key is None):
            raise TypeError(
                f"untrack(tracker, pid) or untrack(tracker, pid, topic, key); got topic={topic!r}, key={key!r}"
            )
        await _request(tracker, ("untrack", pid, topic, key))

    @staticmethod
    async def update(tracker: object, pid: Pid, topic: str, key: object, meta: object) -> str:
        """Replace the meta of ``pid``'s presence; return the new ``phx_ref``.

        ``meta`` is the new meta (a dict), or a function of the old meta
        returning it (it runs in the tracker process).

        Raises:
            NotTracked: ``pid`` is not tracked under ``(topic, key)``.
        """
        _check_pid(pid)
        _check_topic(topic)
        if not (isinstance(meta, dict) or callable(meta)):
            raise TypeError(f"update() needs meta as a dict, or a function old meta -> new meta; got {meta!r}")
        return await _request(tracker, ("update", pid, topic, key, meta))

    # ------------------------------------------------------------ client API (reads, in the caller)

    @staticmethod
    def list(tracker: object, topic: str) -> list:
        """``[(key, meta), ...]`` present in ``topic``, on every node as this node knows it."""
        return _shard(tracker).state.list(topic)

    @staticmethod
    def topics(tracker: object) -> dict:
        """``{topic: presences}`` of every topic with someone present (a read, no call)."""
        return _shard(tracker).state.topics()

    @staticmethod
    def get_by_key(tracker: object, topic: str, key: object) -> list:
        """``[(pid, meta), ...]`` present in ``topic`` as ``key`` (one per tracked process, on any node)."""
        return _shard(tracker).state.get_by_key(topic, key)

    @staticmethod
    def replicas(tracker: object) -> dict:
        """``{node_name: ReplicaStatus}`` of the other nodes' trackers this one has heard from."""
        return _shard(tracker).replicas.statuses()


# ---------------------------------------------------------------- helpers


def _options(
    pubsub, name, broadcast_period, max_silent_periods, down_period, permdown_period, report_events_to
) -> Options:
    if not isinstance(name, str) or not isinstance(pubsub, str):
        raise TypeError(f"a tracker needs name= and pubsub= as str; got name={name!r}, pubsub={pubsub!r}")
    if not broadcast_period > 0 or not (isinstance(max_silent_periods, int) and max_silent_periods >= 1):
        raise ValueError(
            f"broadcast_period must be > 0 and max_silent_periods an int >= 1; "
            f"got {broadcast_period!r} and {max_silent_periods!r}"
        )
    longest_silence = broadcast_period * max_silent_periods
    if down_period is None:
        down_period = 2 * longest_silence
    if down_period < 2 * longest_silence:
        raise ValueError(
            f"down_period must be at least twice the longest silence between heartbeats "
            f"(2 × broadcast_period × max_silent_periods = {2 * longest_silence:g} s), or healthy nodes "
            f"would be taken down; got {down_period:g}. Raise down_period or lower max_silent_periods."
        )
    if not permdown_period > down_period:
        raise ValueError(
            f"permdown_period must be longer than down_period ({down_period:g} s); got {permdown_period:g}"
        )
    return Options(pubsub, name, broadcast_period, max_silent_periods, down_period, permdown_period, report_events_to)


async def _request(tracker: object, request: tuple) -> object:
    answer = await GenServer.call(tracker, request)
    if answer.__class__ is Failed:
        raise answer.error
    return answer


def _shard(tracker: object) -> Shard:
    pid = tracker if tracker.__class__ is Pid else resolve_pid(tracker)
    shard = SHARDS.get(pid) if pid is not None else None
    if shard is None or not is_alive(pid):
        if tracker.__class__ is Pid:
            raise LookupError(f"{tracker!r} is not a running tracker")
        raise NotRegistered(tracker)
    return shard


def _check_pid(pid: object) -> None:
    if pid.__class__ is not Pid:
        raise TypeError(f"a tracked process must be given as a Pid; got {pid!r}")


def _check_topic(topic: object) -> None:
    if not isinstance(topic, str):
        raise TypeError(f"a tracker topic must be a str; got {topic!r}")


from otp import _fix_module_names  # noqa: E402

_fix_module_names(globals(), __name__)

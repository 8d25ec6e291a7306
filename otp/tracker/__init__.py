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
  at least that; 30 s with the defaults): a node not heard from for this
  long while this node hears the bus is *down* (see "When a node goes
  down"): its presences leave (``handle_diff`` reports it) but are kept,
  and come back if it is heard from again (a netsplit that heals);
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

When a node goes down
---------------------
Two clocks can take a node's presences away, whichever comes first:

* on a node running :mod:`otp.dist` (started before the tracker, under
  the same node name as the PubSub's adapter), the distribution's
  ``NodeDown``: that node's presences leave at once, ``down_after``
  (5 s by default) after its last heartbeat;
* the tracker's own ``down_period``, for the nodes ``otp.dist`` does not
  know (a cluster with PubSub and no distribution).

Either way, silence counts only while this node hears the bus: while its
adapter says it is cut off (a Redis restart, Redis refusing it; the Redis
adapter's ``silence_counts_from``), nobody is taken down, and afterwards
silence counts from the bus's return. A tick that fires more than
``(down_period - broadcast_period × max_silent_periods) / 2`` seconds late
means this node was not running (stopped, starved): silence then counts
from that tick, after the heartbeats that waited have been read. So a
Redis restart or a pause of this node drops no presence here; a node that
was paused for longer than the others' ``down_period`` (or ``down_after``)
leaves their lists and joins again once heard.

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

from .._util import fixup_module_metadata as _fixup_module_metadata
from ._replicas import ReplicaStatus
from ._shard import ReplicaEvent
from ._state import AlreadyTracked, NotTracked, State
from ._tracker import Tracker

# State: the pure presence CRDT a tracker owns, public for microbenchmarks and extenders.
__all__ = ["Tracker", "AlreadyTracked", "NotTracked", "ReplicaEvent", "ReplicaStatus", "State"]

_fixup_module_metadata(__name__, globals())

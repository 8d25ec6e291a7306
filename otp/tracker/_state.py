"""Presence state: who is tracked where, replicated without coordination.

A :class:`State` is one replica's copy of a replicated map of *presences*:
``(topic, key, pid, meta)`` entries, each tagged with the *dot* that added
it, ``(replica, n)``: the n-th operation of that replica. It is a delta-state
CRDT (an add-wins observed-remove map, as in Almeida, Shoker and Baquero,
"Delta state replicated data types", 2018): every replica changes its own
copy at once and tells the others, and copies that have seen the same
changes hold the same presences, whatever the order, delays and repeats in
between.

Nothing here blocks, sends or reads a clock; the tracker process owns one
State and does the talking (:mod:`otp.tracker`). A State is a plain mutable
value: methods change it and return what changed.

How a removal travels
---------------------
Besides its entries, a State keeps a *causal context*: every dot it has
seen, added or removed (:class:`Context`). Removing an entry keeps its dot
in the context, so "seen, and gone" differs from "never seen". Merging
another copy (or a :class:`Delta` of it) then needs no coordination:

* an entry of theirs is added unless its dot is already in my context (I
  have it, or I saw it removed: a leave that arrives before its join does
  not resurrect it);
* an entry of mine is removed if its dot is in their context but not among
  their entries (they saw it, then saw it go);
* the contexts are united.

That is a join of two semilattice values, so merging is commutative,
associative and idempotent. An entry can only be added where it is not yet
known, so a concurrent add and remove of *different* dots keeps the add
(add wins): ``update`` is a remove of the old dot plus an add of a new one.

Every operation, joins and leaves alike, takes a fresh dot of the replica's
own, so each replica's dots run 1, 2, 3, … without holes. The context
stores them as a version vector (``replica → highest n seen without a
gap``) plus a *cloud* of dots beyond a gap; compaction moves cloud dots into
the vector as soon as the gap closes.

Deltas and gaps
---------------
Each local operation returns a :class:`Delta`: the entries it added and the
dots it covers, which merges like a whole State. The State also folds its
operations into a pending delta, which ``take_delta`` hands out (the
tracker broadcasts it every period). A delta records the range of its
origin's counter it covers, ``start`` (exclusive) to ``end``; a receiver
whose version vector for the origin is below ``start`` has missed an
earlier delta (``has_gap``), merges this one anyway (it is safe) and asks
the origin for its whole state.

Replicas
--------
Entries of replicas the State does not know (``replica_up`` was never
called, or ``replica_permdown`` was) are ignored by ``merge``: a replica
removed for good cannot come back through a stale message or a third
copy. ``replica_down`` hides a replica's entries (reported as leaves),
``replica_up`` shows them again (joins), ``replica_permdown`` forgets them
and the replica's part of the context.

Example
-------
Two replicas; ``a`` tracks alice and tells ``b``. A third, ``c``, receives
the leave before the join, and does not resurrect alice:

>>> a, b, c = State("a"), State("b"), State("c")
>>> for state in (a, b, c):
...     for other in "abc":
...         _ = state.replica_up(other)
>>> joined = a.join("pid1", "room:1", "alice", {"status": "online"})
>>> b.merge(joined).by_topic()
{'room:1': ([('alice', {'status': 'online'})], [])}
>>> b.list("room:1")
[('alice', {'status': 'online'})]
>>> left = a.leave("pid1")
>>> b.merge(left).by_topic()
{'room:1': ([], [('alice', {'status': 'online'})])}
>>> c.merge(left), c.merge(joined), c.list("room:1")
(Diff(joins=(), leaves=()), Diff(joins=(), leaves=()), [])
>>> c.merge(b) == Diff() and c.clock() == b.clock() == a.clock() == {"a": 2}
True
"""

from __future__ import annotations

import builtins
from typing import Any, Iterator, NamedTuple, TypeAlias

import attrs

from .._kernel import OTPError

_Dots: TypeAlias = "tuple | dict[tuple, None]"  # an index's dots (see _index_add)

__all__ = ["State", "Delta", "Diff", "Presence", "Context", "AlreadyTracked", "NotTracked"]


# ---------------------------------------------------------------- errors


class AlreadyTracked(OTPError, ValueError):
    """``pid`` already has a presence under ``(topic, key)``; use ``update`` to change its meta."""

    def __init__(self, pid: object, topic: object, key: object) -> None:
        super().__init__(
            f"{pid!r} is already tracked under topic {topic!r} with key {key!r}; "
            f"call update() to change its meta, or untrack() first"
        )
        self.pid, self.topic, self.key = pid, topic, key

    def __reduce__(self):
        return (type(self), (self.pid, self.topic, self.key))


class NotTracked(OTPError, LookupError):
    """``pid`` has no presence under ``(topic, key)`` to update."""

    def __init__(self, pid: object, topic: object, key: object) -> None:
        super().__init__(f"{pid!r} is not tracked under topic {topic!r} with key {key!r}; call track() first")
        self.pid, self.topic, self.key = pid, topic, key

    def __reduce__(self):
        return (type(self), (self.pid, self.topic, self.key))


# ---------------------------------------------------------------- values


class Presence(NamedTuple):
    """One tracked entry: ``pid`` is present in ``topic`` as ``key``, described by ``meta``."""

    topic: str
    key: object
    pid: object
    meta: object


@attrs.frozen
class Diff:
    """What a change did to the visible presences: the entries that appeared and those that went.

    Both are tuples of :class:`Presence`, each in the order of their dots.
    """

    joins: tuple = ()
    leaves: tuple = ()

    def __bool__(self) -> bool:
        return bool(self.joins or self.leaves)

    def __add__(self, other: Diff) -> Diff:
        return Diff(self.joins + other.joins, self.leaves + other.leaves)

    def by_topic(self) -> dict:
        """``{topic: (joins, leaves)}``, each a list of ``(key, meta)``: what ``handle_diff`` receives."""
        diff: dict = {}
        for presences, side in ((self.joins, 0), (self.leaves, 1)):
            for presence in presences:
                diff.setdefault(presence.topic, ([], []))[side].append((presence.key, presence.meta))
        return diff


class Context:
    """A causal context: the set of dots seen, as a version vector plus a cloud.

    ``vv[r] = n`` stands for the dots ``(r, 1) … (r, n)``; ``cloud[r]`` holds
    the numbers of r's other dots, each beyond a gap. Kept compact: no cloud
    number is at most ``vv[r] + 1``, so two contexts holding the same dots
    look the same.
    """

    __slots__ = ("vv", "cloud")

    def __init__(self, vv: dict | None = None, cloud: dict | None = None) -> None:
        self.vv: dict = {} if vv is None else vv
        self.cloud: dict = {} if cloud is None else cloud

    def __repr__(self) -> str:
        return f"Context({self.vv!r}, {self.cloud!r})"

    def __contains__(self, dot: tuple) -> bool:
        replica, n = dot
        return n <= self.vv.get(replica, 0) or n in self.cloud.get(replica, ())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Context):
            return NotImplemented
        return self._normal() == other._normal()

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable, as a dict is

    def _normal(self) -> tuple:
        return ({r: n for r, n in self.vv.items() if n}, {r: c for r, c in self.cloud.items() if c})

    def copy(self) -> Context:
        return Context(dict(self.vv), {r: set(c) for r, c in self.cloud.items()})

    def replicas(self) -> set:
        return set(self.vv) | set(self.cloud)

    def count(self, replica: object) -> int:
        """How many dots of ``replica`` the context holds."""
        return self.vv.get(replica, 0) + len(self.cloud.get(replica, ()))

    def dots(self, replica: object) -> Iterator[tuple]:
        for n in range(1, self.vv.get(replica, 0) + 1):
            yield (replica, n)
        for n in self.cloud.get(replica, ()):
            yield (replica, n)

    def add(self, dot: tuple) -> None:
        replica, n = dot
        top = self.vv.get(replica, 0)
        if n == top + 1:
            self.vv[replica] = n
            if replica in self.cloud:
                self._compact(replica)
        elif n > top:
            self.cloud.setdefault(replica, set()).add(n)

    def update(self, other: Context, replicas: set | None = None) -> None:
        """Add every dot of ``other`` (of ``replicas`` only, if given)."""
        for replica, n in other.vv.items():
            if (replicas is None or replica in replicas) and n > self.vv.get(replica, 0):
                self.vv[replica] = n
        for replica, numbers in other.cloud.items():
            if numbers and (replicas is None or replica in replicas):
                self.cloud.setdefault(replica, set()).update(numbers)
        for replica in list(self.cloud):
            if replica in other.vv or replica in other.cloud:
                self._compact(replica)

    def forget(self, replica: object) -> None:
        self.vv.pop(replica, None)
        self.cloud.pop(replica, None)

    def _compact(self, replica: object) -> None:
        cloud = self.cloud[replica]
        top = self.vv.get(replica, 0)
        while top + 1 in cloud:
            top += 1
            cloud.remove(top)
        if top:
            self.vv[replica] = top
        cloud.difference_update([n for n in cloud if n <= top])  # covered by a united vector
        if not cloud:
            del self.cloud[replica]


class Delta:
    """A change to a State, or a State's whole content, as a value that merges.

    Attributes:
        origin: the replica that made it.
        start, end: the origin's operation counter before and after it: a
            receiver that has seen fewer than ``start`` of the origin's
            operations has missed one (see ``State.has_gap``). A whole
            State (``State.extract``) has ``start == 0``.
        entries: ``{dot: Presence}`` it adds.
        context: every dot it covers; a dot there but not in ``entries`` is
            a removal.

    Treat it as immutable: it is shared, and sent to other nodes as is.
    """

    __slots__ = ("origin", "start", "end", "entries", "context")

    def __init__(self, origin: object, start: int, end: int, entries: dict, context: Context) -> None:
        self.origin = origin
        self.start = start
        self.end = end
        self.entries = entries
        self.context = context

    def __repr__(self) -> str:
        return f"<Delta from {self.origin!r} ({self.start}, {self.end}]: {len(self.entries)} entries, {self.context!r}>"


# ---------------------------------------------------------------- the state


class State:
    """One replica's presences, and what it has seen of the others'.

    Args:
        replica: this replica's name: hashable, orderable, unique for ever
            (the tracker uses ``(node_name, incarnation)``).
    """

    __slots__ = (
        "replica", "_context", "_entries", "_by_topic", "_by_pid", "_by_replica", "_by_identity", "_known", "_down",
        "_delta",
        "__weakref__",
    )

    def __init__(self, replica: object) -> None:
        self.replica = replica
        self._context = Context()
        self._entries: dict[tuple, Presence] = {}  # dot -> presence, every known replica's, hidden or not
        # The indexes below map a value to its dots, in the order they joined:
        # one dot as itself, several as {dot: None} (see _index_add).
        self._by_topic: dict[Any, _Dots] = {}
        self._by_pid: dict[Any, _Dots] = {}
        self._by_replica: dict[Any, dict[tuple, None]] = {}  # always {dot: None}: few replicas, many dots each
        # (pid, topic, key) -> dots: finds one presence without scanning
        # all of a process's (a process tracked under 10,000 keys, say).
        self._by_identity: dict[Any, _Dots] = {}
        self._known = {replica}  # replicas whose entries and dots merge brings in
        self._down: set = set()  # known replicas whose entries are hidden
        self._delta = Delta(replica, 0, 0, {}, Context())  # local operations not yet handed out

    def __repr__(self) -> str:
        return f"<State {self.replica!r}: {len(self._entries)} entries, clock {self.clock()!r}>"

    # ------------------------------------------------------------ local operations

    def join(self, pid: object, topic: str, key: object, meta: object) -> Delta:
        """Track ``pid`` in ``topic`` as ``key`` with ``meta``; return the delta.

        Raises:
            AlreadyTracked: ``pid`` already has an entry under ``(topic, key)``.
        """
        if self._find(pid, topic, key):
            raise AlreadyTracked(pid, topic, key)
        start = self.counter
        dot = self._next_dot()
        presence = Presence(topic, key, pid, meta)
        self._insert(dot, presence)
        return self._record(start, {dot: presence}, [dot])

    def leave(self, pid: object, topic: object = None, key: object = None) -> Delta:
        """Remove ``pid``'s entry under ``(topic, key)``, or all its entries; return the delta.

        Leaving what is not tracked changes nothing and returns an empty delta.
        """
        if (topic is None) != (key is None):
            raise TypeError(
                f"leave(pid) removes all of a pid's entries, leave(pid, topic, key) one; "
                f"got topic={topic!r}, key={key!r}"
            )
        dots = self._find(pid, topic, key)
        if not dots:
            return Delta(self.replica, self.counter, self.counter, {}, Context())
        start = self.counter
        for dot in dots:
            self._remove(dot)
        return self._record(start, {}, [*dots, self._next_dot()])

    def update(self, pid: object, topic: str, key: object, meta: object) -> Delta:
        """Replace the meta of ``pid``'s entry under ``(topic, key)``: a leave and a join in one delta.

        Raises:
            NotTracked: there is no such entry.
        """
        dots = self._find(pid, topic, key)
        if not dots:
            raise NotTracked(pid, topic, key)
        start = self.counter
        for old in dots:
            self._remove(old)
        dot = self._next_dot()
        presence = Presence(topic, key, pid, meta)
        self._insert(dot, presence)
        return self._record(start, {dot: presence}, [*dots, dot])

    # ------------------------------------------------------------ merging

    def merge(self, other: State | Delta) -> Diff:
        """Merge another replica's State, or a Delta; return the visible joins and leaves it caused.

        Entries and dots of replicas this State does not know are ignored.
        """
        if isinstance(other, State):  # a view, not a copy: merging never changes its input
            other = Delta(other.replica, 0, other.counter, other._entries, other._context)
        known, down, context = self._known, self._down, self._context
        joins = []
        for dot, presence in other.entries.items():
            if dot[0] in known and dot not in context:
                self._insert(dot, presence)
                if dot[0] not in down:
                    joins.append((dot, presence))
        leaves = []
        for replica in other.context.replicas() & known:
            for dot in self._removed_by(other, replica):
                presence = self._remove(dot)
                if replica not in down:
                    leaves.append((dot, presence))
        context.update(other.context, known)
        return _diff(joins, leaves)

    def _removed_by(self, other: Delta, replica: object) -> list:
        """My dots of ``replica`` that ``other`` has seen but no longer holds."""
        mine = self._by_replica.get(replica)
        if not mine:
            return []
        theirs = other.context
        if theirs.count(replica) < len(mine):
            candidates = [dot for dot in theirs.dots(replica) if dot in mine]
        else:
            candidates = [dot for dot in mine if dot in theirs]
        return [dot for dot in candidates if dot not in other.entries]

    def has_gap(self, delta: Delta) -> bool:
        """True if this State missed operations of ``delta.origin`` made before ``delta``."""
        return delta.origin in self._known and self._context.vv.get(delta.origin, 0) < delta.start

    def behind(self, replica: object, clock: dict) -> bool:
        """True if ``clock`` (another replica's version vector) counts operations of ``replica`` not seen here."""
        return replica in self._known and self._context.vv.get(replica, 0) < clock.get(replica, 0)

    # ------------------------------------------------------------ deltas and transfers

    @property
    def counter(self) -> int:
        """How many operations this replica has made."""
        return self._context.vv.get(self.replica, 0)

    def clock(self) -> dict:
        """The version vector: ``{replica: operations seen without a gap}`` (a copy)."""
        return {replica: n for replica, n in self._context.vv.items() if n}

    def has_delta(self) -> bool:
        return self._delta.end > self._delta.start

    def take_delta(self) -> Delta | None:
        """The local operations since the last call, as one delta (None if there were none)."""
        pending = self._delta
        if pending.end == pending.start:
            return None
        self._delta = Delta(self.replica, self.counter, self.counter, {}, Context())
        return pending

    def extract(self) -> Delta:
        """This State's whole content, as a delta another replica can merge (a copy)."""
        return Delta(self.replica, 0, self.counter, dict(self._entries), self._context.copy())

    def copy(self) -> State:
        clone = State(self.replica)
        clone._context = self._context.copy()
        for dot, presence in self._entries.items():
            clone._insert(dot, presence)
        clone._known, clone._down = set(self._known), set(self._down)
        pending = self._delta
        clone._delta = Delta(self.replica, pending.start, pending.end, dict(pending.entries), pending.context.copy())
        return clone

    # ------------------------------------------------------------ replicas

    def replica_up(self, replica: object) -> Diff:
        """Know ``replica`` from now on, or show its entries again if it was down; return the joins."""
        if replica not in self._known:
            self._known.add(replica)
            return Diff()
        if replica not in self._down:
            return Diff()
        self._down.discard(replica)
        return _diff(self._entries_of(replica), [])

    def replica_down(self, replica: object) -> Diff:
        """Hide ``replica``'s entries (it stopped answering); return them as leaves."""
        self._not_me(replica, "replica_down")
        if replica not in self._known or replica in self._down:
            return Diff()
        self._down.add(replica)
        return _diff([], self._entries_of(replica))

    def replica_permdown(self, replica: object) -> Diff:
        """Forget ``replica`` for good: its entries and its dots; return the leaves of those still visible."""
        self._not_me(replica, "replica_permdown")
        if replica not in self._known:
            return Diff()
        visible = replica not in self._down
        gone = self._entries_of(replica)
        for dot, _ in gone:
            self._remove(dot)
        self._context.forget(replica)
        self._known.discard(replica)
        self._down.discard(replica)
        pending = self._delta
        pending.context.forget(replica)
        for dot in [dot for dot in pending.entries if dot[0] == replica]:
            del pending.entries[dot]
        return _diff([], gone if visible else [])

    def replicas(self) -> dict:
        """``{replica: "up" | "down"}`` for every replica known here, this one included."""
        return {replica: ("down" if replica in self._down else "up") for replica in self._known}

    def _not_me(self, replica: object, operation: str) -> None:
        if replica == self.replica:
            raise ValueError(f"{operation}({replica!r}): a replica cannot take itself down")

    # ------------------------------------------------------------ reads (visible entries only)

    # Keys, pids and metas come back as they were stored: Any.

    def list(self, topic: object) -> list[tuple[Any, Any]]:
        """``[(key, meta), ...]`` present in ``topic``, in the order they joined."""
        dots = _index_get(self._by_topic, topic)
        if not dots:
            return []
        entries, down = self._entries, self._down
        return [(entries[dot].key, entries[dot].meta) for dot in dots if not down or dot[0] not in down]

    def topics(self) -> dict:
        """``{topic: number of presences}`` for every topic with someone present."""
        down = self._down
        counts = {}
        for topic in self._by_topic:
            dots = _index_get(self._by_topic, topic)
            count = sum(1 for dot in dots if not down or dot[0] not in down)
            if count:
                counts[topic] = count
        return counts

    # (builtins.list below: in this class, a bare `list` is the method above.)

    def get_by_key(self, topic: object, key: object) -> builtins.list[tuple[Any, Any]]:
        """``[(pid, meta), ...]`` present in ``topic`` as ``key``."""
        dots = _index_get(self._by_topic, topic)
        entries, down = self._entries, self._down
        return [
            (entries[dot].pid, entries[dot].meta)
            for dot in dots
            if entries[dot].key == key and (not down or dot[0] not in down)
        ]

    def get_by_pid(
        self, pid: object, topic: object = None, key: object = None
    ) -> builtins.list[tuple[Any, Any, Any]]:
        """``[(topic, key, meta), ...]`` of ``pid`` (under ``(topic, key)`` only, if given)."""
        entries, down = self._entries, self._down
        return [
            (entries[dot].topic, entries[dot].key, entries[dot].meta)
            for dot in self._find(pid, topic, key)
            if dot[0] not in down
        ]

    def presences(self) -> builtins.list[Presence]:
        """Every visible entry, in the order of their dots' insertion."""
        down = self._down
        return [presence for dot, presence in self._entries.items() if dot[0] not in down]

    def __len__(self) -> int:
        """How many entries are visible."""
        return len(self._entries) - sum(len(self._by_replica.get(replica, ())) for replica in self._down)

    # ------------------------------------------------------------ helpers

    def _next_dot(self) -> tuple:
        n = self.counter + 1
        self._context.vv[self.replica] = n
        return (self.replica, n)

    def _record(self, start: int, entries: dict[tuple, Presence], dots: builtins.list[tuple]) -> Delta:
        """Fold an operation into the pending delta; return it as a delta of its own."""
        pending = self._delta
        own = Context()
        for dot in dots:
            pending.entries.pop(dot, None)  # removed in the same period it was added
            pending.context.add(dot)
            own.add(dot)
        pending.entries.update(entries)
        pending.end = self.counter
        return Delta(self.replica, start, self.counter, entries, own)

    def _find(self, pid: object, topic: object, key: object) -> builtins.list[tuple]:
        dots = _index_get(self._by_pid, pid)
        if not dots:
            return []
        if topic is None:
            return list(dots)
        return list(_index_get(self._by_identity, (pid, topic, key)))

    def _entries_of(self, replica: object) -> builtins.list[tuple[tuple, Presence]]:
        entries = self._entries
        return [(dot, entries[dot]) for dot in self._by_replica.get(replica, ())]

    def _insert(self, dot: tuple, presence: Presence) -> None:
        self._entries[dot] = presence
        _index_add(self._by_topic, presence.topic, dot)
        _index_add(self._by_pid, presence.pid, dot)
        self._by_replica.setdefault(dot[0], {})[dot] = None
        _index_add(self._by_identity, (presence.pid, presence.topic, presence.key), dot)

    def _remove(self, dot: tuple) -> Presence:
        presence = self._entries.pop(dot)
        _index_remove(self._by_topic, presence.topic, dot)
        _index_remove(self._by_pid, presence.pid, dot)
        _index_remove(self._by_replica, dot[0], dot)
        _index_remove(self._by_identity, (presence.pid, presence.topic, presence.key), dot)
        return presence


# ---------------------------------------------------------------- the indexes: value -> dots
#
# Most topics, pids and identities have one presence (a socket in a room of
# its own, a user on one page): a dict for each would cost 224 bytes per
# index per presence, three times over, on every replica that knows it. So
# one dot is held as itself (a dot is a tuple, never a dict), and a second
# one turns it into {dot: None} (insertion-ordered, as the reads need).

def _index_add(index: dict, value: object, dot: tuple) -> None:
    held = index.get(value)
    if held is None:
        index[value] = dot
    elif held.__class__ is dict:
        held[dot] = None
    else:
        index[value] = {held: None, dot: None}


def _index_remove(index: dict, value: object, dot: tuple) -> None:
    held = index[value]
    if held.__class__ is dict:
        del held[dot]
        if not held:
            del index[value]
    else:
        assert held == dot, (held, dot)
        del index[value]


def _index_get(index: dict, value: object) -> tuple | dict:
    """The dots of ``value`` (an empty tuple if none), to iterate over."""
    held = index.get(value)
    if held is None:
        return ()
    return held if held.__class__ is dict else (held,)


def _diff(joins: list, leaves: list) -> Diff:
    """A Diff from ``(dot, presence)`` pairs, each side in dot order."""
    if not joins and not leaves:
        return Diff()
    order = _by_dot
    return Diff(tuple(p for _, p in sorted(joins, key=order)), tuple(p for _, p in sorted(leaves, key=order)))


def _by_dot(pair: tuple) -> tuple:
    return pair[0]

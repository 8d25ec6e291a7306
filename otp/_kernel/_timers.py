"""Timers: ``send_after`` and ``cancel_timer``.

``send_after(dest, msg, seconds)`` delivers ``msg`` to ``dest`` (a pid, a
name resolved at delivery time, or a via-name) after ``seconds``, and returns
a :class:`TimerRef`; ``cancel_timer(ref)`` stops it and returns the seconds
that were left, or None when it had already fired or been cancelled::

    ref = send_after(current_pid(), "tick", 1.0)
    left = cancel_timer(ref)       # e.g. 0.73, or None

As in Erlang, a timer addressed to a pid is cancelled when that process
ends (or at once, if it is already dead); a timer addressed to a name is
resolved when it fires and dropped if nobody holds the name then.

Timers follow trio's clock (``trio.current_time()``), so tests with an
autojump clock never wait for real.

How it is cheap: one timer service per node, not one task per timer. Live
timers sit in a ``sortedcontainers.SortedList`` keyed by deadline; the
service sleeps in a cancel scope whose deadline is the earliest timer's, and
moves that deadline forward when an earlier timer arrives. A live timer
costs one list entry and one dict entry, a few hundred bytes.

How the memory comes back: Python's dicts and sets keep the room they grew
to when entries leave, so after a burst (100,000 timers started, then
cancelled or fired) the timer table and the owner's set of its timers
would hold the burst's peak, about 9 MB, for ever. So a table that grows
past ``_WATCHED_FROM`` entries is *watched*: once it holds fewer than an
eighth of its peak it is rebuilt at its size, then watched again from
there, until it is small. A rebuild at ``n`` entries follows ``7n``
removals at least, so it costs O(1) per removal; an unwatched table (the
usual one or two timers of a process) costs one integer comparison.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

import trio
from sortedcontainers import SortedList  # type: ignore[import-untyped]  # it ships no type information

from ._crash import logger
from ._mailbox import deliver
from ._names import Destination, check_destination, resolve
from ._pid import Pid, TimerRef
from ._process import Process, current_process

if TYPE_CHECKING:
    from ._node import Node

__all__ = ["send_after", "cancel_timer", "TimerService"]


def send_after(dest: Destination, message: object, seconds: float) -> TimerRef:
    """Send ``message`` to ``dest`` after ``seconds``. Sync; returns a :class:`TimerRef`."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        raise TypeError(f"send_after(dest, message, seconds): seconds must be a number; got {seconds!r}")
    if not seconds >= 0:  # also refuses NaN
        raise ValueError(f"send_after() needs a delay >= 0 seconds; got {seconds}")
    check_destination(dest)
    return current_process().node.timers.start(dest, message, seconds)


def cancel_timer(ref: TimerRef) -> float | None:
    """Cancel a timer; return the seconds it had left, or None if it was not running."""
    return current_process().node.timers.cancel(ref)


class TimerService:
    """All the timers of one node, fired by a single task."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._deadlines: SortedList = SortedList()  # (deadline, ref)
        # ref -> (deadline, dest, message, owner process if dest is a pid)
        self._timers: dict[TimerRef, tuple[float, Destination, object, Process | None]] = {}
        self._sleep = trio.CancelScope()
        self._wake_at = math.inf  # the deadline of _sleep, kept as a float to compare fast
        # call_later entries [deadline, callback or None, queue], one FIFO per duration
        self._queues: dict[float, deque[list[Any]]] = {}
        # Giving memory back (module docstring): rebuild _timers once it holds
        # fewer than this many timers (0: not watched), and each owner's set
        # once it holds fewer than its number here.
        self._rebuild_table_below = 0
        self._rebuild_owned_below: dict[Process, int] = {}

    def __len__(self) -> int:
        return len(self._timers)

    def start(self, dest: Destination, message: object, seconds: float) -> TimerRef:
        ref = TimerRef.make()
        owner = None
        if dest.__class__ is Pid:
            owner = resolve(dest, node=self._node)
            if owner is None:
                return ref  # cancelled at once: nobody to deliver to
            owned = owner.timers
            if owned is None:
                owned = owner.timers = set()
            owned.add(ref)
            size = len(owned)
            if size >= _WATCHED_FROM and not size & (size - 1):  # at each power of two
                self._watch_owned(owner, size)
        deadline = trio.current_time() + seconds
        timers = self._timers
        timers[ref] = (deadline, dest, message, owner)
        size = len(timers)
        if size >= _WATCHED_FROM and not size & (size - 1) and size // _SHRINK_BY > self._rebuild_table_below:
            self._rebuild_table_below = size // _SHRINK_BY
        self._deadlines.add((deadline, ref))
        if deadline < self._wake_at:
            self._wake_at = deadline
            self._sleep.deadline = deadline
        return ref

    def call_later(self, seconds: float, callback: Callable[[], None]) -> list[Any]:
        """Run ``callback()`` (sync, must not raise) after ``seconds``; for the kernel.

        Returns a handle for :meth:`cancel_later`. ``receive(timeout=...)``
        uses this, so every ``call`` starts and cancels one: it must cost
        next to nothing. Timeouts of one duration expire in the order they
        were started, so each duration gets a FIFO queue: starting is an
        append, and cancelling marks the entry and pops dead entries off the
        front, which for request/reply traffic is the entry itself. (A trio
        deadline per receive costs about four times as much.)
        """
        queue = self._queues.get(seconds)
        if queue is None:
            queue = self._queues[seconds] = deque()
        deadline = trio.current_time() + seconds
        entry = [deadline, callback, queue]
        queue.append(entry)
        if deadline < self._wake_at:
            self._wake_at = deadline
            self._sleep.deadline = deadline
        return entry

    @staticmethod
    def cancel_later(entry: list[Any]) -> None:
        """Cancel a :meth:`call_later` callback (fired or not)."""
        entry[1] = None
        queue = entry[2]
        while queue and queue[0][1] is None:
            queue.popleft()

    def cancel(self, ref: TimerRef) -> float | None:
        entry = self._timers.pop(ref, None)
        if entry is None:
            return None
        if len(self._timers) < self._rebuild_table_below:
            self._rebuild_table()
        deadline, _, _, owner = entry
        self._deadlines.remove((deadline, ref))
        if owner is not None and owner.timers is not None:  # (None: it ended, and cancel_all_of took them)
            owner.timers.discard(ref)
            # Inline, not a helper: this is every cancel's path. Watched sets
            # are looked at when their size is a power of two (or zero).
            if self._rebuild_owned_below and not len(owner.timers) & (len(owner.timers) - 1):
                self._shrink_owned(owner)
        # A timer whose deadline passed but the service has not run yet
        # still counts as running, with no time left.
        return max(0.0, deadline - trio.current_time())

    async def run(self) -> None:
        """The service loop: sleep until the earliest deadline, fire what is due."""
        while True:
            first = self._deadlines[0][0] if self._deadlines else math.inf
            for queue in self._queues.values():
                if queue and queue[0][0] < first:
                    first = queue[0][0]
            self._wake_at = first
            self._sleep = trio.CancelScope(deadline=first)
            with self._sleep:
                await trio.sleep_forever()
            now = trio.current_time()
            self._fire_due(now)
            self._fire_due_callbacks(now)

    def cancel_all_of(self, process: Process) -> None:
        """Cancel every timer addressed to ``process`` (it has ended)."""
        refs, process.timers = process.timers, None  # dropped whole, not shrunk as it empties
        self._rebuild_owned_below.pop(process, None)
        for ref in refs or ():
            self.cancel(ref)

    # ------------------------------------------------------------ giving memory back

    def _rebuild_table(self) -> None:
        self._timers = dict(self._timers)
        self._rebuild_table_below = _next_watch(len(self._timers))

    def _watch_owned(self, owner: Process, size: int) -> None:
        below = self._rebuild_owned_below
        below[owner] = max(below.get(owner, 0), size // _SHRINK_BY)

    def _shrink_owned(self, owner: Process) -> None:
        """Rebuild ``owner``'s set of timers if it is watched and has shrunk enough.

        Asked when the set's size is a power of two (or zero); its
        threshold is a power of two too, so none is passed unseen.
        """
        below = self._rebuild_owned_below.get(owner)
        owned = owner.timers
        if below is None or owned is None or len(owned) >= below:
            return
        owner.timers = set(owned) if owned else None
        watch = _next_watch(len(owned))
        if watch:
            self._rebuild_owned_below[owner] = watch
        else:
            del self._rebuild_owned_below[owner]

    def _fire_due_callbacks(self, now: float) -> None:
        for duration, queue in list(self._queues.items()):
            while queue and queue[0][0] <= now:
                _, callback, _ = queue.popleft()
                if callback is not None:
                    callback()
            if not queue:
                del self._queues[duration]  # durations come and go; keep the dict small

    def _fire_due(self, now: float) -> None:
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, ref = deadlines.pop(0)
            _, dest, message, owner = self._timers.pop(ref)
            if len(self._timers) < self._rebuild_table_below:
                self._rebuild_table()
            if owner is not None and owner.timers is not None:  # (as in cancel)
                owner.timers.discard(ref)
                if self._rebuild_owned_below and not len(owner.timers) & (len(owner.timers) - 1):
                    self._shrink_owned(owner)
            try:
                process = resolve(dest, node=self._node)
            except Exception:
                # A via-name whose lookup fails must not take the service down.
                logger.exception("timer %r: could not resolve %r", ref, dest)
                continue
            if process is not None:
                deliver(process, message)


# A table is watched once it has held this many timers (a smaller one costs
# little) and rebuilt when it holds fewer than its peak divided by _SHRINK_BY.
_WATCHED_FROM = 64
_SHRINK_BY = 8


def _next_watch(size: int) -> int:
    """After a rebuild at ``size`` entries: below how many to rebuild again (0: small now, unwatched)."""
    return size // _SHRINK_BY if size >= _WATCHED_FROM else 0

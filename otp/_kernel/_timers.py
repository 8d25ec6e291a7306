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

    def __len__(self) -> int:
        return len(self._timers)

    def start(self, dest: Destination, message: object, seconds: float) -> TimerRef:
        ref = TimerRef.make()
        owner = None
        if dest.__class__ is Pid:
            owner = resolve(dest, node=self._node)
            if owner is None:
                return ref  # cancelled at once: nobody to deliver to
            if owner.timers is None:
                owner.timers = set()
            owner.timers.add(ref)
        deadline = trio.current_time() + seconds
        self._timers[ref] = (deadline, dest, message, owner)
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
        deadline, _, _, owner = entry
        self._deadlines.remove((deadline, ref))
        if owner is not None and owner.timers is not None:  # (its timers hold this one)
            owner.timers.discard(ref)
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
        for ref in list(process.timers or ()):
            self.cancel(ref)

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
            if owner is not None and owner.timers is not None:  # (its timers hold this one)
                owner.timers.discard(ref)
            try:
                process = resolve(dest, node=self._node)
            except Exception:
                # A via-name whose lookup fails must not take the service down.
                logger.exception("timer %r: could not resolve %r", ref, dest)
                continue
            if process is not None:
                deliver(process, message)

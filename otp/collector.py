"""Python's garbage collector, set for a server: every pause measured, long-lived objects frozen out of it.

CPython frees most objects by reference counting; the cyclic collector is
only for reference cycles. It still *walks* objects to find them, and a
full (generation 2) collection walks every tracked object in the process:
with thousands of held connections (tasks, processes, protocol state), one
full pass can stop the whole node for hundreds of milliseconds while it
finds almost nothing, because what a server holds for long is alive.

This module does three things about it:

- :func:`watch` measures every collection (``gc.callbacks``): how many,
  per generation, and how long each stopped the interpreter
  (:func:`statistics`). The endpoint and the dashboard show them; the
  telemetry event ``("otp", "vm", "gc")`` reports them (emitted by
  :func:`emit`, outside the collector, since a callback that runs during a
  collection must not run user code).
- :func:`freeze` moves everything alive now out of the collector's reach
  (``gc.freeze``): objects made at start-up and connections held for long
  are not walked again. It collects first, so no garbage cycle is frozen in;
  that pass walks only what is not frozen yet (what was made since the last
  freeze), so it stays short however much is frozen, as long as freezes
  come often enough that little is made between two. Freezing does not
  keep anything alive: a frozen object whose last reference goes is freed
  by reference counting as before (only a cycle that becomes garbage after
  it was frozen waits for :func:`unfreeze`).
- :func:`tune_for_server` raises the first threshold (a young collection
  after 50,000 allocations instead of 700: fewer, and still short, passes)
  and freezes. The endpoint calls it once listening and calls
  :func:`freeze` again every hundred new connections, at most ten times a
  second (:class:`BurstFreezer`): each freeze walks only those.

Nothing here walks the frozen objects: :func:`statistics` is O(1) however
many there are (``gc.get_freeze_count()`` walks all of them, about 12 ms a
million, so ``frozen`` is counted by :func:`freeze` as it freezes).

Example::

    from otp import collector

    collector.watch()
    collector.tune_for_server()
    ...
    stats = collector.statistics()
    print(stats.collections, stats.max_pause)     # (412, 37, 2), 0.0041

Everything here is process-wide (the collector is the interpreter's), and
every function is idempotent and cheap.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import attrs

__all__ = [
    "CollectorStatistics",
    "watch",
    "unwatch",
    "statistics",
    "reset_statistics",
    "freeze",
    "unfreeze",
    "tune_for_server",
    "restore_defaults",
    "BurstFreezer",
    "emit",
    "GC_EVENT",
    "SERVER_THRESHOLDS",
]

GC_EVENT = ("otp", "vm", "gc")
SERVER_THRESHOLDS = (50_000, 20, 100)
"""First threshold: allocations between young collections; then how many young (and middle) passes per older one."""

_DEFAULT_THRESHOLDS = gc.get_threshold()


@attrs.frozen
class CollectorStatistics:
    """What the collector did since :func:`watch` (or :func:`reset_statistics`).

    Attributes:
        collections: passes per generation ``(gen0, gen1, gen2)``.
        pauses: how many passes were measured (their sum).
        total_pause: seconds the interpreter spent collecting, in all.
        max_pause: the longest single pass, in seconds.
        max_pause_generation: the generation of that longest pass (None before any).
        last_pause: the most recent pass, in seconds.
        collected: objects the passes freed (unreachable cycles).
        frozen: objects :func:`freeze` took out of the collector's reach, as
            counted when it froze them, until :func:`unfreeze` (a
            ``gc.freeze()`` or ``gc.unfreeze()`` called directly is not seen).
    """

    collections: tuple[int, int, int]
    pauses: int
    total_pause: float
    max_pause: float
    max_pause_generation: int | None
    last_pause: float
    collected: int
    frozen: int


class _Recorder:
    """The ``gc.callbacks`` entry: times each pass. Runs inside the collector: no allocation-heavy work."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.started = 0.0
        self.counts = [0, 0, 0]
        self.total = 0.0
        self.max = 0.0
        self.max_generation: int | None = None
        self.last = 0.0
        self.collected = 0
        self.pending: list[tuple[float, int, int]] = []  # (pause, generation, collected) not yet emitted

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        pause = time.perf_counter() - self.started
        generation = info["generation"]
        self.counts[generation] += 1
        self.total += pause
        self.last = pause
        self.collected += info["collected"]
        if pause > self.max:
            self.max, self.max_generation = pause, generation
        if len(self.pending) < _PENDING_LIMIT:
            self.pending.append((pause, generation, info["collected"]))

    def snapshot(self) -> CollectorStatistics:
        return CollectorStatistics(
            collections=(self.counts[0], self.counts[1], self.counts[2]),
            pauses=sum(self.counts),
            total_pause=self.total,
            max_pause=self.max,
            max_pause_generation=self.max_generation,
            last_pause=self.last,
            collected=self.collected,
            frozen=_FROZEN[0],
        )


_PENDING_LIMIT = 1000  # passes kept for emit(); more between two emits are counted, not itemised
_RECORDER = _Recorder()
_FROZEN = [0]  # objects freeze() has frozen since the last unfreeze(), as it counted them


def watch() -> None:
    """Measure every collection from now on (idempotent)."""
    if _RECORDER not in gc.callbacks:
        gc.callbacks.append(_RECORDER)


def unwatch() -> None:
    """Stop measuring (the statistics so far are kept)."""
    if _RECORDER in gc.callbacks:
        gc.callbacks.remove(_RECORDER)


def statistics() -> CollectorStatistics:
    """The collections measured since :func:`watch` (zeros if never watched)."""
    return _RECORDER.snapshot()


def reset_statistics() -> None:
    """Start counting from zero (the dashboard's "reset", a benchmark's warm-up)."""
    _RECORDER.reset()


def emit() -> int:
    """Emit ``("otp", "vm", "gc")`` for each pass measured since the last call; return how many.

    Measurements: ``duration`` (seconds), ``collected``; metadata:
    ``generation``. Called from ordinary code (the endpoint's statistics
    tick), never from inside a collection. With no handler attached it only
    drops the list.
    """
    from ._kernel._telemetry import attached, execute

    pending, _RECORDER.pending = _RECORDER.pending, []
    if not pending or not attached(GC_EVENT):
        return 0
    for pause, generation, collected in pending:
        execute(GC_EVENT, {"duration": pause, "collected": collected}, {"generation": generation})
    return len(pending)


def freeze() -> int:
    """Collect what is not frozen yet, then move every object alive out of the collector's reach.

    Returns how many objects are frozen now (``statistics().frozen``). The
    collection first means no garbage cycle is frozen in; it walks only
    unfrozen objects, and so does the count of those it freezes.
    """
    gc.collect()
    _FROZEN[0] += len(gc.get_objects())  # what gc.freeze() moves: every tracked object not frozen yet
    gc.freeze()
    return _FROZEN[0]


def unfreeze() -> None:
    """Give every frozen object back to the collector (the next full pass walks them)."""
    gc.unfreeze()
    _FROZEN[0] = 0


def tune_for_server() -> None:
    """Thresholds for a server (:data:`SERVER_THRESHOLDS`), and :func:`freeze` what start-up made."""
    gc.set_threshold(*SERVER_THRESHOLDS)
    freeze()


def restore_defaults() -> None:
    """The interpreter's thresholds as they were at import, and nothing frozen."""
    gc.set_threshold(*_DEFAULT_THRESHOLDS)
    unfreeze()


class BurstFreezer:
    """Freezes again every ``minimum`` new connections (long-lived owners of objects), at most once per ``interval``.

    ``note(made, now)`` is told how many connections were made so far (a
    running total, such as the endpoint's ``accepted``); once ``minimum``
    more were made since the last freeze, it freezes (if ``interval``
    seconds have passed since the last one) and returns True::

        >>> freezer = BurstFreezer(minimum=100, interval=1.0)
        >>> freezer.note(50, now=0.0), freezer.note(150, now=0.5), freezer.note(220, now=1.0)
        (False, True, False)
        >>> freezer.note(400, now=1.2), freezer.note(400, now=1.5)  # 250 more, but wait for the interval
        (False, True)

    Counted as made, not as open: a freeze's collection walks what was made
    since the last freeze, so a pause stays as short as the connections made
    in one ``interval`` take to walk (a few ms for a few hundred sockets)
    however many are held, and connections that open and close all the
    time (their number steady) are frozen too while they last. Those that
    close are freed by reference counting, frozen or not.
    """

    def __init__(self, *, minimum: int = 100, interval: float = 0.1) -> None:
        self.minimum, self.interval = minimum, interval
        self.frozen_at_count = 0
        self.last_freeze: float | None = None

    def note(self, made: int, now: float) -> bool:
        if made - self.frozen_at_count < self.minimum:
            return False
        if self.last_freeze is not None and now - self.last_freeze < self.interval:
            return False
        freeze()
        self.frozen_at_count, self.last_freeze = made, now
        return True

"""Log lines that a flood cannot multiply: one line per interval per cause, with the count of the rest.

A server that logs one line per bad frame, refused connection or lost
Redis connection hands every attacker (and every outage) a way to fill its
disk. :class:`LogThrottle` is the bookkeeping that prevents it: the first
event of a quiet spell is logged at once, the ones that follow within
``interval`` seconds are only counted, and the next line says how many
there were (and of which kind, by ``detail``). It is pure: the caller gives
the time and writes the line, so it works with trio's clock (and its
``MockClock`` in tests) or any other::

    >>> throttle = LogThrottle(interval=10.0)
    >>> throttle.note(0.0, detail="10.0.0.1")          # quiet until now: log this one
    Summary(count=1, details=(('10.0.0.1', 1),))
    >>> throttle.note(1.0, detail="10.0.0.2") is None   # within 10 s of that line: counted
    True
    >>> throttle.note(2.0, detail="10.0.0.2") is None
    True
    >>> throttle.flush(5.0) is None                     # not due yet
    True
    >>> throttle.flush(10.0)                            # due: one line for the two held
    Summary(count=2, details=(('10.0.0.2', 2),))
    >>> throttle.flush(20.0) is None                    # nothing since: quiet again
    True

Where nothing calls :meth:`~LogThrottle.flush`, the events held are
reported by the line of the next event after the interval (its
:class:`Summary` counts them too).
"""

from __future__ import annotations

import collections

import attrs

from ._util import fixup_module_metadata as _fixup_module_metadata

__all__ = ["LogThrottle", "Summary"]

DETAILS_SHOWN = 5  # details named in one line; the rest are summed as "others"


@attrs.frozen
class Summary:
    """What one log line should say: ``count`` events, by detail (most frequent first; "" when none given)."""

    count: int
    details: tuple[tuple[str, int], ...] = ()

    def describe(self) -> str:
        """The details as text for the line: ``"a: 3, b: 1"`` (empty when no detail was given)."""
        return ", ".join(f"{detail}: {count}" for detail, count in self.details if detail)


@attrs.define
class LogThrottle:
    """At most one log line per ``interval`` seconds about one recurring event (see the module docstring).

    Attributes:
        interval: the least time between two lines, in seconds.
        due: when the next line may be written; None when the last interval
            passed without an event (the next one is then logged at once).
    """

    interval: float
    due: float | None = None
    _held: collections.Counter = attrs.field(factory=collections.Counter, repr=False)

    def note(self, now: float, count: int = 1, detail: str = "") -> Summary | None:
        """Count ``count`` events at ``now``; the :class:`Summary` to log now, or None to keep quiet."""
        if detail in self._held or len(self._held) < DETAILS_SHOWN:
            self._held[detail] += count
        else:
            self._held["others"] += count  # a bound on the line, whatever the variety of details
        if self.due is not None and now < self.due:
            return None
        return self._take(now)

    def flush(self, now: float) -> Summary | None:
        """The :class:`Summary` of the events held, once their interval has passed; None otherwise."""
        if self.due is None or now < self.due:
            return None
        if not self._held:
            self.due = None
            return None
        return self._take(now)

    @property
    def pending(self) -> int:
        """Events counted but not yet in a line."""
        return sum(self._held.values())

    def _take(self, now: float) -> Summary:
        summary = Summary(sum(self._held.values()), tuple(self._held.most_common()))
        self._held.clear()
        self.due = now + self.interval
        return summary


_fixup_module_metadata(__name__, globals())

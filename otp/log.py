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

:class:`ThrottledLogger` puts that in front of a :class:`logging.Logger`,
one throttle per cause, on trio's clock when called in a trio run: a lone
event's line is the message as given; a line written after others were
held says how many, and of which kind::

    log = ThrottledLogger(logging.getLogger("web"), interval=10.0)
    log.warning("malformed", "socket %s: closing after a malformed frame: %s", socket_id, reason, detail=peer)
    # -> "socket s1: closing after a malformed frame: not valid JSON"
    #    ... then, at most once per 10 s:
    #    "socket s9: closing after a malformed frame: not valid JSON (and 4,211 more like it since the
    #     last such line: 10.0.0.7: 4,000, 10.0.0.9: 211; logged at most every 10 s)"

Give each endpoint, mount or adapter its own: its throttles then live as
long as it does, on the clock of the run it belongs to.
"""

from __future__ import annotations

import collections
import logging
import time

import attrs
import trio

from ._util import fixup_module_metadata as _fixup_module_metadata

__all__ = ["LogThrottle", "Summary", "ThrottledLogger"]

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
        details_shown: distinct details named in one line; the rest are
            summed as ``"others"``.
    """

    interval: float
    due: float | None = None
    details_shown: int = attrs.field(default=DETAILS_SHOWN, kw_only=True)
    _held: collections.Counter = attrs.field(factory=collections.Counter, repr=False)

    def note(self, now: float, count: int = 1, detail: str = "") -> Summary | None:
        """Count ``count`` events at ``now``; the :class:`Summary` to log now, or None to keep quiet."""
        if detail in self._held or len(self._held) < self.details_shown:
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


class ThrottledLogger:
    """A logger whose lines come at most once per ``interval`` seconds per cause (see the module docstring)."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0) -> None:
        self.logger = logger
        self.interval = interval
        self._throttles: dict[str, LogThrottle] = {}

    def log(self, level: int, cause: str, message: str, *args: object, detail: str = "") -> bool:
        """Log ``message % args`` at ``level`` now, or count it for the next line of ``cause``; True if logged.

        With an ``interval`` of 0 every line is written (no throttle, no clock).
        """
        if self.interval <= 0:
            self.logger.log(level, message, *args)
            return True
        throttle = self._throttles.get(cause)
        if throttle is None:
            throttle = self._throttles[cause] = LogThrottle(self.interval)
        summary = throttle.note(_now(), detail=str(detail))
        if summary is None:
            return False
        if summary.count > 1:
            details = summary.describe()
            message += " (and %s more like it since the last such line%s; logged at most every %g s)"
            args = (*args, f"{summary.count - 1:,}", f": {details}" if details else "", self.interval)
        self.logger.log(level, message, *args)
        return True

    def warning(self, cause: str, message: str, *args: object, detail: str = "") -> bool:
        return self.log(logging.WARNING, cause, message, *args, detail=detail)

    def error(self, cause: str, message: str, *args: object, detail: str = "") -> bool:
        return self.log(logging.ERROR, cause, message, *args, detail=detail)

    def __repr__(self) -> str:
        return f"<otp.log.ThrottledLogger {self.logger.name!r} every {self.interval:g} s, causes {sorted(self._throttles)}>"


def _now() -> float:
    # trio's clock inside a run (so tests with a MockClock see their time), the
    # monotonic clock outside one.
    try:
        return trio.current_time()
    except RuntimeError:
        return time.monotonic()


_fixup_module_metadata(__name__, globals())

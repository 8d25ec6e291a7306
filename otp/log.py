"""The library's logging: its loggers, the fields of its reports, and lines a flood cannot multiply.

Everything is logged through the standard :mod:`logging` module, to a
logger named after the part that logs. All are children of ``otp`` or
``web``: configuring those two covers everything, and each part can be
configured apart::

    logging.getLogger("web.socket").setLevel(logging.ERROR)  # no warnings about misbehaving clients
    logging.getLogger("otp.supervisor").addHandler(pager)     # a restart pages someone

Loggers
-------

======================  ===========================================================
logger                  what it logs
======================  ===========================================================
``otp.process``         crash reports of plain processes (ERROR); a timer whose
                        via-name could not be resolved (ERROR)
``otp.genserver``       crash reports of GenServers, and of what is built on them
                        (supervisors, registries, tracker shards...) (ERROR); a
                        message the default ``handle_info`` did not expect (WARNING)
``otp.supervisor``      what a supervisor did about a child: ``child_terminated``,
                        ``start_error``, ``shutdown_error``,
                        ``reached_max_restart_intensity`` (ERROR)
``otp.telemetry``       a handler that raised and was detached (ERROR)
``otp.port``            a Program's output lines, as ``<label>: <line>`` (stdout INFO,
                        stderr WARNING), unless it was given ``on_output``
``otp.pubsub.broker``   subscribers disconnected for not reading, connections closed
                        for malformed input (WARNING, throttled)
``otp.tracker``         an unexpected message, a heartbeat or message it could not
                        send (WARNING); replicas going up and down (DEBUG)
``otp.pubsub.redis``    lost connections, broadcasts missed or dropped, reconnects
                        (WARNING, throttled); each line names its adapter's PubSub
``otp.dist``            a node declared down, this node found not running (WARNING);
                        verdicts held while it is cut off, and judged again (INFO)
``otp.dist.redis``      the distribution's own Redis adapter: as ``otp.pubsub.redis``
``web.endpoint``        connections refused at ``max_connections`` (WARNING),
                        failing ``accept()`` (ERROR), both throttled
``web.http``            crash reports of connections whose HTTP handler raised (ERROR)
``web.transports``      WebSocket peers shed because they do not read (WARNING,
                        throttled)
``web.socket``          sockets closed for malformed frames or over their rate
                        limit, joins slowed after failures (WARNING, throttled)
``web.channel``         crash reports of channels (ERROR)
``web.live``            crash reports of LiveViews (ERROR)
======================  ===========================================================

A client's misbehaviour is a WARNING of one line, never a traceback: it is
the client's fault, and the server goes on.

Crash reports
-------------

A process whose own code failed (it raised, or exited with a reason other
than ``NORMAL``, ``SHUTDOWN`` and ``Shutdown(...)``) gets one ERROR record.
Its message says who crashed with what, plus what its behaviour knows (a
GenServer's last message and state, a channel's topic and assigns, a
LiveView's URL and event); its traceback is the record's ``exc_info``, so a
plain formatter prints it after the message and a JSON formatter or an error
tracker gets it as a traceback. (Once every handler has seen the record, its
``exc_info`` keeps the exception without its frames and the traceback stays
as text in ``exc_text``, which formatters print as it is: a handler that
keeps records would otherwise keep the dead process's frames alive.) A
process stopped by an exit signal (killed, or linked to one that crashed,
without trapping exits) gets none, as in OTP: it did not fail, and the one
that did has the report. Its supervisor still reports what became of it
(``otp.supervisor``).

Record fields
-------------

The reports carry their data as attributes of the record (``extra``), for
handlers and formatters that want data rather than text:

===================  ================================================================
field                value
===================  ================================================================
``otp_pid``          the pid as text (``"<0.42.0>"``): the process that crashed, the
                     supervisor that reports; None outside a process
``otp_name``         that process's registered name, or None
``otp_reason``       the exit reason itself (an exception, ``KILLED``, a value)
``otp_topic``        the channel's topic (``web.channel``, ``web.live``)
``otp_view``         the LiveView's class, as ``module.QualName`` (``web.live``)
``otp_url``          the LiveView's page URL (``web.live``); the request's path,
                     without its query string (``web.http``)
``otp_event``        a supervisor report's kind (``child_terminated``, ...); the
                     event of a detached telemetry handler
``otp_child_id``     the child's id (supervisor reports)
``otp_child_pid``    the child's pid as text, or None (supervisor reports)
``otp_handler_id``   the id of the telemetry handler detached (``otp.telemetry``)
===================  ================================================================

A supervisor report's ``exc_info`` is the child's exception when it crashed
with one, without its frames: the traceback is in the child's own crash
report, logged just before (the kernel frees a dead process's frames once
that report is written). A JSON formatter, for one::

    class JsonFormatter(logging.Formatter):
        def format(self, record):
            document = {"logger": record.name, "level": record.levelname, "message": record.getMessage()}
            document.update((key, value) for key, value in vars(record).items() if key.startswith("otp_"))
            if record.exc_info:
                document["traceback"] = self.formatException(record.exc_info)
            return json.dumps(document, default=repr)

Lines a flood cannot multiply
-----------------------------

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

    log = ThrottledLogger(logging.getLogger("web.socket"), interval=10.0)
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

"""The telemetry handler table and dispatch (the manual is :mod:`otp.telemetry`).

It lives in the kernel because the kernel emits events too (spawn, exit,
mailbox high-water). The table is global to the OS process, as Erlang's
``telemetry`` ETS table is global to the VM: ``HANDLERS`` maps each event
name to a tuple of handlers, in attach order.

How it costs nothing when nobody listens: ``HANDLERS`` is empty, and every
emitter on a hot path checks it before building anything::

    if HANDLERS:                           # one global lookup and a truth test
        handlers = HANDLERS.get(EVENT)
        if handlers:
            dispatch(handlers, EVENT, {...}, {...})

The tuples are replaced, never mutated, so a handler that attaches or
detaches while an event is being dispatched does not disturb that dispatch.
"""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import Any, Callable, Iterable, Literal, TypeAlias

import attrs
import trio

from ._crash import process_fields
from ._exceptions import AlreadyAttached, Exit

__all__ = [
    "HANDLERS",
    "Handler",
    "attach",
    "attach_many",
    "detach",
    "execute",
    "dispatch",
    "list_handlers",
    "attached",
    "span",
]

logger = logging.getLogger("otp.telemetry")

EventName: TypeAlias = tuple[str, ...]
"""An event's name: ``("otp", "process", "exit")``."""

HandlerFunction: TypeAlias = Callable[[EventName, dict[str, Any], dict[str, Any], Any], object]
"""``function(event_name, measurements, metadata, config)``: what :func:`attach` calls."""

HANDLERS: dict[EventName, tuple[Handler, ...]] = {}
"""Event name -> the handlers attached to it, in attach order. Read it; never change it."""

_BY_ID: dict[object, tuple[Handler, ...]] = {}  # handler id -> its records, one per event name


@attrs.frozen
class Handler:
    """One attached handler, as :func:`list_handlers` shows it (one per event name)."""

    id: object
    event_name: EventName
    function: HandlerFunction = attrs.field(repr=lambda f: getattr(f, "__qualname__", repr(f)))
    config: object = None


# ---------------------------------------------------------------- attaching


def attach(handler_id: object, event_name: EventName, function: HandlerFunction, config: object = None) -> None:
    """Call ``function(event_name, measurements, metadata, config)`` on every ``execute`` of ``event_name``.

    Raises:
        AlreadyAttached: a handler with ``handler_id`` is attached already.
        TypeError: ``event_name`` is not a tuple of str, or ``function`` is not callable.
    """
    attach_many(handler_id, (event_name,), function, config)


def attach_many(
    handler_id: object, event_names: Iterable[EventName], function: HandlerFunction, config: object = None
) -> None:
    """Like :func:`attach`, for several event names under one id (detached together)."""
    names = tuple(event_names)
    for name in names:
        _check_event_name(name)
    if not names:
        raise TypeError("attach_many needs at least one event name, e.g. [('otp', 'process', 'exit')]")
    if not callable(function):
        raise TypeError(f"a telemetry handler must be callable as function(event, measurements, metadata, config); got {function!r}")
    existing = _BY_ID.get(handler_id)
    if existing is not None:
        raise AlreadyAttached(handler_id, tuple(h.event_name for h in existing))
    records = tuple(Handler(handler_id, name, function, config) for name in dict.fromkeys(names))
    _BY_ID[handler_id] = records
    for record in records:
        HANDLERS[record.event_name] = HANDLERS.get(record.event_name, ()) + (record,)


def detach(handler_id: object) -> bool:
    """Detach the handler ``handler_id`` from every event; False if none was attached."""
    records = _BY_ID.pop(handler_id, None)
    if records is None:
        return False
    for record in records:
        remaining = tuple(h for h in HANDLERS.get(record.event_name, ()) if h.id != handler_id)
        if remaining:
            HANDLERS[record.event_name] = remaining
        else:
            HANDLERS.pop(record.event_name, None)
    return True


def list_handlers(prefix: tuple[str, ...] = ()) -> list[Handler]:
    """The handlers attached to event names starting with ``prefix`` (``()``: all), in attach order."""
    prefix = tuple(prefix)
    size = len(prefix)
    return [h for records in _BY_ID.values() for h in records if h.event_name[:size] == prefix]


def attached(*event_names: tuple[str, ...]) -> bool:
    """Whether a handler is attached to any of ``event_names``: cheap, for emitters to skip work."""
    if not HANDLERS:
        return False
    for name in event_names:
        if name in HANDLERS:
            return True
    return False


# ---------------------------------------------------------------- emitting


def execute(event_name: EventName, measurements: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
    """Call every handler attached to ``event_name``, in the caller, in attach order. Sync."""
    if HANDLERS:
        handlers = HANDLERS.get(event_name)
        if handlers:
            dispatch(handlers, event_name, measurements, {} if metadata is None else metadata)


def dispatch(
    handlers: tuple[Handler, ...], event_name: EventName, measurements: dict[str, Any], metadata: dict[str, Any]
) -> None:
    """Run ``handlers`` (from ``HANDLERS``); one that raises is detached and logged, the others still run."""
    for handler in handlers:
        try:
            handler.function(event_name, measurements, metadata, handler.config)
        except (Exception, Exit) as error:
            _detach_failed(handler, event_name, error)


def _detach_failed(handler: Handler, event_name: EventName, error: BaseException) -> None:
    # As Erlang's telemetry: a handler that fails once is detached for good,
    # so a broken handler cannot slow down or break every emitter after it.
    if detach(handler.id):
        logger.error(
            "telemetry handler %r raised %r on event %r and has been detached",
            handler.id,
            error,
            event_name,
            exc_info=error,
            extra={**process_fields(), "otp_event": event_name, "otp_handler_id": handler.id, "otp_reason": error},
        )


# ---------------------------------------------------------------- spans


class span:
    """Time a block: emits ``prefix + ("start",)``, then ``("stop",)`` or ``("exception",)``.

    ``with span(prefix, metadata) as meta:`` gives a copy of ``metadata`` the
    block may add to; the stop (or exception) event carries it.
    """

    __slots__ = ("events", "metadata", "started")

    def __init__(self, event_prefix: EventName, metadata: dict[str, Any] | None = None) -> None:
        _check_event_name(event_prefix)
        self.events = _span_events(event_prefix)
        self.metadata = {**(metadata or {}), "telemetry_span_context": object()}
        self.started = 0.0

    def __enter__(self) -> dict[str, Any]:
        self.started = time.perf_counter()
        execute(self.events[0], {"monotonic_time": self.started, "system_time": time.time()}, self.metadata)
        return self.metadata

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> Literal[False]:
        now = time.perf_counter()
        measurements = {"duration": now - self.started, "monotonic_time": now}
        if error is None:
            execute(self.events[1], measurements, self.metadata)
        else:
            failure = {"kind": _kind_of(error), "reason": _reason_of(error), "stacktrace": traceback}
            execute(self.events[2], measurements, {**self.metadata, **failure})
        return False


_SPAN_EVENTS: dict[EventName, tuple[EventName, EventName, EventName]] = {}


def _span_events(prefix: EventName) -> tuple[EventName, EventName, EventName]:
    events = _SPAN_EVENTS.get(prefix)
    if events is None:
        events = _SPAN_EVENTS[prefix] = (prefix + ("start",), prefix + ("stop",), prefix + ("exception",))
    return events


def _kind_of(error: BaseException) -> str:
    # Erlang's classes are error, exit and throw; Python adds cancellation.
    if isinstance(error, Exit):
        return "exit"
    if isinstance(error, Exception):
        return "error"
    return "cancelled" if isinstance(error, trio.Cancelled) else "base"


def _reason_of(error: BaseException) -> object:
    return error.reason if isinstance(error, Exit) else error


def _check_event_name(name: object) -> None:
    if name.__class__ is not tuple or not name or not all(isinstance(part, str) for part in name):
        raise TypeError(f"a telemetry event name is a non-empty tuple of str, like ('otp', 'process', 'exit'); got {name!r}")

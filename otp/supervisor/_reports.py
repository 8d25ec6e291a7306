"""Supervisor reports: one log line per event a person watching a tree needs, and telemetry.

Logged at ERROR through the logger ``otp.supervisor`` (the child's own
crash report, if it crashed rather than being stopped by an exit signal,
is logged just before by the kernel; these say what the supervisor did
about it)::

    Supervisor <0.5.0> (registered as 'app'): child Worker <0.9.0> exited with ValueError('boom'); restarting
    Supervisor <0.5.0>: child Worker failed to start: StartError(...)
    Supervisor <0.5.0>: child Worker <0.9.0> did not shut down cleanly: ValueError('x')
    Supervisor <0.5.0>: reached max restart intensity (3 restarts in 5.0 s); shutting down

Records carry ``otp_pid`` and ``otp_name`` (the supervisor's pid as text and
registered name), ``otp_event``, ``otp_child_id``, ``otp_child_pid`` (text,
or None) and ``otp_reason`` for handlers. When the reason is an exception it
is also the record's ``exc_info``, so error trackers group the report by
it; its traceback is in the child's crash report (the kernel drops a dead
process's frames once that report is written).

Restarts are also counted on the supervisor (its total and last few, read by
``otp.introspection``) and emitted as telemetry events, each at its moment
(``otp.telemetry`` lists their measurements and metadata):

``("otp", "supervisor", "restart")``
    the intensity allowed a restart and the supervisor is about to make it:
    the child has ended and is not running (nor, for ``ONE_FOR_ALL`` and
    ``REST_FOR_ONE``, stopped are its siblings yet);
``("otp", "supervisor", "restarted")``
    every child that restart started again is running: their start
    functions have returned (a start that fails is retried, and this
    event waits for the attempt that succeeds);
``("otp", "supervisor", "give_up")``
    one restart too many: the children still run, and the supervisor is
    about to shut them down and exit.
"""

from __future__ import annotations

import logging
from time import perf_counter

import trio

from .. import telemetry
from .._kernel import current_pid, registered_name
from ._records import RestartRecord

__all__ = [
    "report",
    "logger",
    "restarted",
    "running_again",
    "gave_up",
    "RESTART",
    "RESTARTED",
    "GIVE_UP",
    "RECENT_RESTARTS",
]

RESTART = ("otp", "supervisor", "restart")
RESTARTED = ("otp", "supervisor", "restarted")
GIVE_UP = ("otp", "supervisor", "give_up")
RECENT_RESTARTS = 10  # restarts a supervisor keeps for introspection

logger = logging.getLogger("otp.supervisor")

_TEXT = {
    "child_terminated": "child {id} {pid} exited with {reason}; {action}",
    "start_error": "child {id} failed to start: {reason}",
    "shutdown_error": "child {id} {pid} did not shut down cleanly: {reason}",
    "reached_max_restart_intensity": "reached max restart intensity ({reason}); shutting down",
}


def report(event: str, child_id: object, pid: object, reason: object, action: str = "") -> None:
    shown = reason if event == "reached_max_restart_intensity" else repr(reason)
    text = _TEXT[event].format(id=_show_id(child_id), pid=pid, reason=shown, action=action)
    extra = {
        "otp_pid": str(current_pid()),
        "otp_name": registered_name(),
        "otp_event": event,
        "otp_child_id": child_id,
        "otp_child_pid": None if pid is None else str(pid),
        "otp_reason": reason,
    }
    logger.error("%s: %s", _who(), text, exc_info=_exc_info(reason), extra=extra)


def restarted(server, child_id: object, pid: object, reason: object) -> float:
    """``server`` (a supervisor process's state) is restarting a child its intensity allowed.

    Returns when (``time.perf_counter``) the restart began, for :func:`running_again`.
    """
    server.restarts += 1
    server.recent_restarts.append(RestartRecord(trio.current_time(), child_id, pid, reason))
    if telemetry.attached(RESTART):
        measurements = {"restarts": server.restarts, "recent_restarts": len(server.intensity)}
        telemetry.execute(RESTART, measurements, _metadata(server, child_id, pid, reason))
    return perf_counter()


def running_again(
    server,
    child_id: object,
    pid: object,
    reason: object,
    *,
    began: float,
    new_pid: object,
    started: tuple[tuple[object, object], ...],
) -> None:
    """The restart :func:`restarted` announced is done: the children it started run.

    ``child_id``, ``pid`` and ``reason`` are those given to :func:`restarted`
    for this restart (a dynamic supervisor gives the child that ended even
    for a retried start), so that a handler can pair the two events;
    ``began`` is what :func:`restarted` returned, ``new_pid`` the child's new
    pid (None if its start returned None), ``started`` the ``(id, pid)`` of
    every child the restart started again, in start order.
    """
    if telemetry.attached(RESTARTED):
        measurements = {
            "restarts": server.restarts,
            "recent_restarts": len(server.intensity),
            "duration": perf_counter() - began,
        }
        metadata = _metadata(server, child_id, pid, reason)
        metadata.update(pid=new_pid, restarted=started)
        telemetry.execute(RESTARTED, measurements, metadata)


def gave_up(server, child_id: object, pid: object, reason: object) -> None:
    """``server`` passed its restart intensity: log it, emit it (the caller then exits)."""
    intensity = server.intensity
    report("reached_max_restart_intensity", None, None, f"{intensity.max_restarts} restarts in {intensity.max_seconds} s")
    if telemetry.attached(GIVE_UP):
        metadata = _metadata(server, child_id, pid, reason)
        metadata.update(max_restarts=intensity.max_restarts, max_seconds=intensity.max_seconds)
        telemetry.execute(GIVE_UP, {"restarts": server.restarts}, metadata)


def _metadata(server, child_id: object, pid: object, reason: object) -> dict:
    return {
        "supervisor": current_pid(),
        "name": registered_name(),
        "strategy": server.strategy,
        "child_id": child_id,
        "child_pid": pid,
        "reason": reason,
    }


def _who() -> str:
    # Not process_info: it sorts every link, and a supervisor has one per child.
    me = current_pid()
    name = registered_name()
    if name is not None:
        return f"Supervisor {me!r} (registered as {name!r})"
    return f"Supervisor {me!r}"


def _exc_info(reason: object) -> tuple[type[BaseException], BaseException, None] | None:
    # The child's exception without its frames: its own crash report has the
    # traceback, and a supervisor's records must not keep a dead child's frames.
    if not isinstance(reason, BaseException):
        return None
    return (type(reason), reason, None)


def _show_id(child_id: object) -> str:
    return child_id.__qualname__ if isinstance(child_id, type) else repr(child_id)


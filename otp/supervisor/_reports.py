"""Supervisor reports: one log line per event a person watching a tree needs.

Logged at ERROR through logger ``"otp"`` (the crash report of the child
itself is logged by the kernel; these say what the supervisor did about it)::

    Supervisor <0.5.0> (registered as 'app'): child Worker <0.9.0> exited with ValueError('boom'); restarting
    Supervisor <0.5.0>: child Worker failed to start: StartError(...)
    Supervisor <0.5.0>: child Worker <0.9.0> did not shut down cleanly: ValueError('x')
    Supervisor <0.5.0>: reached max restart intensity (3 restarts in 5.0 s); shutting down

Records carry ``otp_event``, ``otp_child_id``, ``otp_reason`` for handlers.
"""

from __future__ import annotations

import logging

from otp import current_pid
from otp.lowlevel import registered_name

__all__ = ["report", "logger"]

logger = logging.getLogger("otp")

_TEXT = {
    "child_terminated": "child {id} {pid} exited with {reason}; {action}",
    "start_error": "child {id} failed to start: {reason}",
    "shutdown_error": "child {id} {pid} did not shut down cleanly: {reason}",
    "reached_max_restart_intensity": "reached max restart intensity ({reason}); shutting down",
}


def report(event: str, child_id: object, pid: object, reason: object, action: str = "") -> None:
    shown = reason if event == "reached_max_restart_intensity" else repr(reason)
    text = _TEXT[event].format(id=_show_id(child_id), pid=pid, reason=shown, action=action)
    extra = {"otp_event": event, "otp_child_id": child_id, "otp_reason": reason}
    logger.error("%s: %s", _who(), text, extra=extra)


def _who() -> str:
    # Not process_info: it sorts every link, and a supervisor has one per child.
    me = current_pid()
    name = registered_name()
    if name is not None:
        return f"Supervisor {me!r} (registered as {name!r})"
    return f"Supervisor {me!r}"


def _show_id(child_id: object) -> str:
    return child_id.__qualname__ if isinstance(child_id, type) else repr(child_id)


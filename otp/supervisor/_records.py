"""What supervisors answer with: child info, child counts, errors, reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from .._kernel import OTPError, Pid, Shutdown
from ._spec import ChildType

if TYPE_CHECKING:
    from ._static import _Restarting

__all__ = ["ChildInfo", "ChildCounts", "SupervisorError", "GAVE_UP", "RestartRecord"]

GAVE_UP = Shutdown("reached_max_restart_intensity")
"""The exit reason of a supervisor that exceeded its restart intensity."""


@attrs.frozen
class ChildInfo:
    """One row of ``which_children``: OTP's ``{Id, Child, Type, Modules}``.

    ``pid`` is the child's pid, None if it is not running, or ``RESTARTING``
    while a failed restart waits to be retried.
    """

    id: object
    pid: Pid | _Restarting | None
    type: ChildType


@attrs.frozen
class ChildCounts:
    """``count_children``: specs, running children, supervisors and workers among the specs."""

    specs: int
    active: int
    supervisors: int
    workers: int


@attrs.frozen
class RestartRecord:
    """One restart a supervisor made (``otp.introspection`` shows its last few).

    ``at`` is ``trio.current_time()`` when it restarted the child; ``pid`` is
    the child that ended and ``reason`` why (for a retried restart: None, and
    why its last start failed).
    """

    at: float
    child_id: object
    pid: object
    reason: object


class SupervisorError(OTPError, LookupError):
    """A supervisor refused a request about a child.

    ``.reason`` is ``"not_found"``, ``"running"``, ``"restarting"``,
    ``"already_present"`` or ``"max_children"``; ``.child`` is the id or pid.
    """

    _EXPLAIN = {
        "not_found": "no child {child!r} in this supervisor",
        "running": "child {child!r} is running; terminate_child it first",
        "restarting": "child {child!r} is being restarted",
        "already_present": "child {child!r} already exists (not running); restart_child or delete_child it",
        "max_children": "the supervisor already has its max_children; {child!r} was not started",
    }

    def __init__(self, reason: str, child: object) -> None:
        super().__init__(self._EXPLAIN.get(reason, reason + " {child!r}").format(child=child))
        self.reason = reason
        self.child = child

    def __reduce__(self) -> tuple[type[SupervisorError], tuple[str, object]]:
        return (type(self), (self.reason, self.child))



"""Shutting a child down exactly as OTP's supervisor does.

1. monitor the child, then unlink it: from here on we learn of its end from
   the monitor alone, and its end no longer reaches us as an exit signal;
2. send ``exit(child, SHUTDOWN)`` (or ``KILL`` for ``BRUTAL_KILL``);
3. wait for the ``Down`` up to the child's shutdown timeout, then ``KILL``
   and wait again.

A child that ends with a reason other than the one we sent (it crashed on
its way out) gets a ``shutdown_error`` report.
"""

from __future__ import annotations

import math

from .._child_spec import _BrutalKill
from .._kernel import (
    KILL,
    KILLED,
    SHUTDOWN,
    Down,
    Pid,
    ReceiveTimeout,
    Ref,
    exit,
    is_normal,
    monitor,
    receive,
    take_exit_signal,
    unlink,
)
from ._reports import report

__all__ = ["shutdown_child", "shutdown_all"]


async def shutdown_child(pid: Pid, shutdown: float | _BrutalKill, child_id: object) -> object:
    """End the linked child ``pid``; return the reason it ended with."""
    ref = monitor(pid)
    unlink(pid)
    # Race: the child may have ended before the unlink, and its exit signal
    # is then already in our mailbox. Consume it here, or we would treat it
    # later as a new crash of a child we meant to stop.
    early = take_exit_signal(pid)
    if early is not None:
        await _wait_down(ref)
        _check(child_id, pid, early.reason, expected=SHUTDOWN)
        return early.reason
    if isinstance(shutdown, _BrutalKill):  # BRUTAL_KILL, its only instance
        exit(pid, KILL)
        reason = await _wait_down(ref)
        _check(child_id, pid, reason, expected=KILLED)
        return reason
    exit(pid, SHUTDOWN)
    try:
        reason = await _wait_down(ref, None if shutdown == math.inf else shutdown)
    except ReceiveTimeout:
        # It ignored SHUTDOWN (it traps exits and is busy, or stuck): kill it.
        exit(pid, KILL)
        reason = await _wait_down(ref)
        _check(child_id, pid, reason, expected=KILLED)
        return reason
    _check(child_id, pid, reason, expected=SHUTDOWN)
    return reason


async def _wait_down(ref: Ref, timeout: float | None = None) -> object:
    down = await receive(lambda m: m.__class__ is Down and m.ref is ref, timeout=timeout)
    return down.reason


def _check(child_id: object, pid: Pid, reason: object, *, expected: object) -> None:
    if reason != expected and not is_normal(reason):
        report("shutdown_error", child_id, pid, reason)


async def shutdown_all(children: list[tuple[Pid, float | _BrutalKill, object]]) -> None:
    """Shut many children down at once (DynamicSupervisor): ``(pid, shutdown, id)`` each.

    Every child gets its signal first, then we wait for each ``Down`` until
    its own deadline and kill the ones still running, so N stuck children
    cost one shutdown timeout, not N.
    """
    import trio

    now = trio.current_time()
    waiting: list[tuple[Ref, Pid, object, str, object, float | None]] = []
    for pid, shutdown, child_id in children:
        ref = monitor(pid)
        unlink(pid)
        early = take_exit_signal(pid)  # same race as in shutdown_child
        if early is not None:
            waiting.append((ref, pid, child_id, "ended", early.reason, None))
        elif isinstance(shutdown, _BrutalKill):  # BRUTAL_KILL
            exit(pid, KILL)
            waiting.append((ref, pid, child_id, "killed", KILLED, None))
        else:
            exit(pid, SHUTDOWN)
            deadline = None if shutdown == math.inf else now + shutdown
            waiting.append((ref, pid, child_id, "asked", SHUTDOWN, deadline))
    for ref, pid, child_id, state, expected, deadline in waiting:
        reason = await _wait_down(ref) if deadline is None else await _wait_until(ref, pid, deadline)
        if state == "ended":
            reason = expected  # its Down says NOPROC: it had ended with this reason
            expected = SHUTDOWN
        elif reason is _KILLED_LATE:
            reason, expected = KILLED, KILLED
        _check(child_id, pid, reason, expected=expected)


_KILLED_LATE = object()


async def _wait_until(ref: Ref, pid: Pid, deadline: float) -> object:
    import trio

    try:
        return await _wait_down(ref, max(deadline - trio.current_time(), 0.0) or 1e-9)
    except ReceiveTimeout:
        exit(pid, KILL)
        await _wait_down(ref)
        return _KILLED_LATE

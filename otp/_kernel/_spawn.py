"""Spawning processes and ending them.

``spawn(fn, *args)`` starts ``fn(*args)`` as a new process in the caller's
node and returns its pid at once (sync: the process runs from the caller's
next checkpoint on). ``fn`` is usually an async function; a sync function
also works and runs to completion in the process's task, so it must not
block.

How a process ends decides its *exit reason*:

==================================  =====================================
the function...                     reason
==================================  =====================================
returns (any value)                 ``NORMAL``
raises ``Exit(reason)``             ``reason``
raises any other exception ``e``    ``e`` itself (crash report logged)
is ended by an exit signal          the signal's reason (see _signals.py);
                                    no crash report (see _crash.py)
is running when the node closes     ``SHUTDOWN``
==================================  =====================================

No exception ever escapes a process into the node's nursery: the wrapper
below turns every outcome into a reason and hands it to links and monitors.
Spawns and exits are the telemetry events ``("otp", "process", "spawn")``
and ``("otp", "process", "exit")`` (see ``otp.telemetry``).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Literal, TypeVarTuple, overload

import trio

from ._aliases import drop_aliases
from ._crash import report_crash
from ._exceptions import Exit
from ._pid import Pid, Ref
from ._process import Process, _current, current_process
from ._reasons import NORMAL, SHUTDOWN, is_normal
from ._signals import _add_link, _add_monitor, kill, propagate_exit
from ._telemetry import HANDLERS, dispatch

__all__ = ["spawn", "spawn_link", "spawn_monitor", "spawn_opt"]

_TASK_NAME = "otp.process"

Ts = TypeVarTuple("Ts")

# Telemetry events (documented in otp.telemetry).
SPAWN = ("otp", "process", "spawn")
EXIT = ("otp", "process", "exit")


def spawn(fn: Callable[[*Ts], object], *args: *Ts) -> Pid:
    """Start ``fn(*args)`` as a new process; return its pid."""
    return _spawn(current_process(), fn, args).pid


def spawn_link(fn: Callable[[*Ts], object], *args: *Ts) -> Pid:
    """Start ``fn(*args)`` as a new process linked to the caller, atomically."""
    parent = current_process()
    child = _spawn(parent, fn, args)
    _add_link(parent, child)
    return child.pid


def spawn_monitor(fn: Callable[[*Ts], object], *args: *Ts) -> tuple[Pid, Ref]:
    """Start ``fn(*args)`` as a new process monitored by the caller; return ``(pid, ref)``."""
    parent = current_process()
    child = _spawn(parent, fn, args)
    ref = Ref.make()
    _add_monitor(parent, child, ref)
    return child.pid, ref


@overload
def spawn_opt(
    fn: Callable[[*Ts], object], *args: *Ts, link: bool = False, monitor: Literal[True], trap_exits: bool = False
) -> tuple[Pid, Ref]: ...
@overload
def spawn_opt(
    fn: Callable[[*Ts], object], *args: *Ts, link: bool = False, monitor: bool = False, trap_exits: bool = False
) -> tuple[Pid, Ref | None]: ...


def spawn_opt(
    fn: Callable[..., object],
    *args: object,
    link: bool = False,
    monitor: bool = False,
    trap_exits: bool = False,
) -> tuple[Pid, Ref | None]:
    """Spawn with options, for behaviours: returns ``(pid, monitor_ref or None)``.

    ``trap_exits=True`` makes the child trap exits from its first instruction,
    so no signal can reach it between start-up and its own ``trap_exits``.
    """
    parent = current_process()
    child = _spawn(parent, fn, args)
    child.trap_exit = trap_exits
    if link:
        _add_link(parent, child)
    ref = None
    if monitor:
        ref = Ref.make()
        _add_monitor(parent, child, ref)
    return child.pid, ref


def _spawn(parent: Process, fn: Callable[..., object], args: tuple[Any, ...]) -> Process:
    if not callable(fn):
        raise TypeError(f"spawn() needs a function to run; got {fn!r}")
    node = parent.node
    child = Process(node, fn)
    node.processes[child.pid.number] = child
    node.nursery.start_soon(_run_process, child, fn, args, name=_TASK_NAME)
    if node.closing:
        # Spawned while the node shuts down: it must not outlive it.
        kill(child, SHUTDOWN, None)
    if HANDLERS:
        _emit_spawn(parent, child, fn)
    return child


async def _run_process(process: Process, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
    _current.set(process)
    process.task = trio.lowlevel.current_task()
    reason: object = NORMAL
    try:
        with process.scope:
            result = fn(*args)
            if inspect.iscoroutine(result):
                await result
    except Exit as e:
        reason = e.reason
    except trio.Cancelled:
        # Not our own scope's cancellation (that one is absorbed by the
        # `with` above): the program around the node is cancelling it.
        finish(process, SHUTDOWN)
        raise
    except BaseException as e:
        reason = e
    finish(process, reason)


def finish(process: Process, reason: object, *, report: bool = True) -> None:
    """Record that ``process`` ended, tell everyone concerned, release its resources."""
    signalled = process.kill_reason is not None
    if signalled:
        reason = process.kill_reason
    process.alive = False
    process.reason = reason
    node = process.node
    node.processes.pop(process.pid.number, None)
    if report and not signalled and not is_normal(reason):
        # OTP's rule: only a process that failed by itself has a crash
        # report, not one an exit signal stopped (see _crash.py).
        report_crash(process, reason)
    if process.name is not None:
        if node.names.get(process.name) is process:
            del node.names[process.name]
    propagate_exit(process, reason)
    if node.remote is not None:
        node.remote.process_ended(process, reason)  # remote links and monitors
    if process.timers:
        node.timers.cancel_all_of(process)
    if process.aliases:
        drop_aliases(process)
    node.process_ended(process)
    if node.mailbox_marks:
        node.mailbox_marks.pop(process, None)
    if HANDLERS:
        _emit_exit(process, reason)
    # Tracebacks keep every frame of the dead process alive; the report has
    # them. (The root's exception is re-raised to the caller, so it keeps it.)
    if report and isinstance(reason, BaseException):
        reason.__traceback__ = None
    process.mailbox = None
    process.task = None
    process.report_details = None
    process.report_logging = None
    process.behaviour = None  # a GenServer's state: pids outlive their process
    process.abort = None  # it closes over the record: break the cycle
    process.mail_callback = None  # it holds what the process waited on (a socket's session)


def _emit_spawn(parent: Process, child: Process, fn: Callable[..., object]) -> None:
    handlers = HANDLERS.get(SPAWN)
    if handlers:
        measurements = {"processes": len(child.node.processes)}
        dispatch(handlers, SPAWN, measurements, {"pid": child.pid, "parent": parent.pid, "function": fn})


def _emit_exit(process: Process, reason: object) -> None:
    handlers = HANDLERS.get(EXIT)
    if handlers:
        measurements = {"processes": len(process.node.processes), "messages_received": process.messages_received}
        metadata = {"pid": process.pid, "name": process.name, "reason": reason, "function": process.function}
        dispatch(handlers, EXIT, measurements, metadata)

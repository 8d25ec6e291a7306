"""Looking at processes from outside: ``process_info`` and ``processes``.

>>> # inside a node
>>> info = process_info(pid)          # doctest: +SKIP
>>> info.status, info.message_queue_len, info.registered_name   # doctest: +SKIP
('waiting', 0, 'logger')

``process_info`` returns a frozen snapshot, or None for a dead pid (Erlang's
``undefined``). It is read directly from the process record: no message is
sent, nothing waits. ``process_counters`` is its cheap cousin for looking at
every process at once (``otp.introspection`` builds top-N lists on it).
"""

from __future__ import annotations

import itertools
import os
import sys
from typing import Iterable

import attrs
import trio

from ._names import Destination, resolve
from ._pid import Pid
from ._process import Process, current_process, function_name

__all__ = ["ProcessInfo", "process_info", "processes", "is_alive", "process_counters", "behaviour_of", "set_behaviour"]


@attrs.frozen
class ProcessInfo:
    """A snapshot of one process (Erlang's ``process_info/1``).

    Attributes:
        status: ``"running"`` (it is the caller), ``"waiting"`` (parked in
            ``receive``) or ``"runnable"`` (anything else: scheduled, or blocked
            in some other trio operation).
        message_queue_len: messages queued in its mailbox.
        links: pids it is linked to, sorted.
        monitors: pids it monitors, sorted.
        monitored_by: pids monitoring it, sorted.
        registered_name: its name, or None.
        function: the qualified name of the function it runs.
        trap_exit: whether it traps exits.
        messages_received: how many messages it has taken from its mailbox
            (our reductions: a measure of the work it has done).
        kind: what it runs, as the behaviour said (``"genserver"``,
            ``"supervisor"``, ``"task"``, ``"channel"``, ...), or None.
        current_function: the innermost function of its own code it is in
            (the kernel's and trio's frames skipped), e.g.
            ``"otp.genserver._loop._run"`` for an idle GenServer; None if unknown.
        memory: an estimate in bytes: the record, its mailbox and queued
            messages, and its behaviour's state, each measured shallowly
            (``sys.getsizeof`` one level down). Good for comparing processes,
            not for accounting.
    """

    pid: Pid
    status: str
    message_queue_len: int
    links: tuple[Pid, ...]
    monitors: tuple[Pid, ...]
    monitored_by: tuple[Pid, ...]
    registered_name: str | None
    function: str
    trap_exit: bool
    messages_received: int
    kind: str | None = None
    current_function: str | None = None
    memory: int = 0


def process_info(pid: Destination) -> ProcessInfo | None:
    """A snapshot of the process ``pid`` (or a name), or None if it is not alive.

    A process that an exit signal is ending counts as ended (see
    :func:`is_alive`).
    """
    me = current_process()
    process = _alive(pid, me)
    if process is None:
        return None
    return ProcessInfo(
        pid=process.pid,
        status=_status(process, me),
        message_queue_len=len(process.mailbox) if process.mailbox else 0,
        links=_pids(process.links or ()),
        monitors=_pids((process.monitors or {}).values()),
        monitored_by=_pids((process.monitored_by or {}).values()),
        registered_name=process.name,
        function=function_name(process.function),
        trap_exit=process.trap_exit,
        messages_received=process.messages_received,
        kind=process.behaviour[0] if process.behaviour is not None else None,
        current_function=_current_function(process),
        memory=_memory(process),
    )


def processes() -> list[Pid]:
    """The pids of every live process of the caller's node, oldest first."""
    return [p.pid for p in current_process().node.processes.values()]


def is_alive(pid: Pid) -> bool:
    """Whether ``pid`` is a live process (Erlang's ``is_process_alive/1``).

    A process that an exit signal is ending is no longer alive, though its
    task may not have reached the checkpoint where it stops: so, as in
    Erlang, ``otp.exit(pid, KILL)`` then ``is_alive(pid)`` is False, with no
    wait in between (the signals the caller sent are handled first).
    """
    return _alive(pid, current_process()) is not None


def process_counters() -> list[tuple[Pid, str | None, str | None, int, int]]:
    """``(pid, name, kind, message_queue_len, messages_received)`` of every live process, oldest first.

    One pass over the process table, nothing sorted or formatted: cheap
    enough to call every second on a node of 100,000 processes.
    """
    return [
        (
            p.pid,
            p.name,
            p.behaviour[0] if p.behaviour is not None else None,
            len(p.mailbox) if p.mailbox else 0,
            p.messages_received,
        )
        for p in current_process().node.processes.values()
    ]


def behaviour_of(pid: Pid) -> tuple[str, object] | None:
    """``(kind, state)`` as the live process ``pid`` set it with :func:`set_behaviour`, or None."""
    process = resolve(pid, node=current_process().node)
    return process.behaviour if process is not None else None


def set_behaviour(kind: str, state: object = None) -> None:
    """Say what the caller runs, for introspection: ``process_info(pid).kind`` and ``behaviour_of``.

    Args:
        kind: a short lower-case word: ``"genserver"``, ``"supervisor"``,
            ``"task"``, ``"channel"``... (the last call wins: a supervisor is
            a GenServer that says so again in ``init``).
        state: the object holding the process's state (a GenServer instance),
            measured by ``ProcessInfo.memory`` and read by ``otp.introspection``
            (a supervisor's children); None if there is none to show.
    """
    current_process().behaviour = (kind, state)


# ---------------------------------------------------------------- helpers

_KERNEL = os.path.dirname(os.path.abspath(__file__))
_TRIO = os.path.dirname(os.path.abspath(trio.__file__))
_MAILBOX_SAMPLE = 100  # messages measured to estimate a long mailbox


def _current_function(process: Process) -> str | None:
    # Follow the chain of awaits from the task's outermost coroutine down to
    # where it is suspended; keep the innermost frame that is not ours or trio's.
    task = process.task
    awaitable = task.coro if task is not None else None
    found = None
    while awaitable is not None:
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
        if frame is None:
            break
        if not frame.f_code.co_filename.startswith((_KERNEL, _TRIO)):
            found = frame
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "gi_yieldfrom", None)
    if found is None:
        return None
    return f"{found.f_globals.get('__name__', '?')}.{found.f_code.co_qualname}"


def _memory(process: Process) -> int:
    size = sys.getsizeof(process)
    for table in (process.links, process.monitors, process.monitored_by):
        if table is not None:
            size += sys.getsizeof(table)
    mailbox = process.mailbox
    if mailbox:
        sizes = [sys.getsizeof(m) for m in itertools.islice(mailbox, _MAILBOX_SAMPLE)]
        size += sys.getsizeof(mailbox) + sum(sizes) * len(mailbox) // len(sizes)
    if process.behaviour is not None and process.behaviour[1] is not None:
        size += _shallow_size(process.behaviour[1])
    return size


def _shallow_size(state: object) -> int:
    size = sys.getsizeof(state)
    fields = getattr(state, "__dict__", None)
    if fields:
        size += sys.getsizeof(fields) + sum(sys.getsizeof(value) for value in fields.values())
    return size


def _alive(dest: Destination, me: Process) -> Process | None:
    # An exit signal that ends a process sets its kill_reason at once (see
    # _signals.kill); from then on it is exiting, not alive, as in Erlang.
    process = resolve(dest, node=me.node)
    return process if process is not None and process.kill_reason is None else None


def _status(process: Process, me: Process) -> str:
    if process is me:
        return "running"
    return "waiting" if process.waiting else "runnable"


def _pids(processes: Iterable[Process]) -> tuple[Pid, ...]:
    return tuple(sorted(p.pid for p in processes))

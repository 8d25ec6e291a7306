"""Looking at processes from outside: ``process_info`` and ``processes``.

>>> # inside a node
>>> info = process_info(pid)          # doctest: +SKIP
>>> info.status, info.message_queue_len, info.registered_name   # doctest: +SKIP
('waiting', 0, 'logger')

``process_info`` returns a frozen snapshot, or None for a dead pid (Erlang's
``undefined``). It is read directly from the process record: no message is
sent, nothing waits.
"""

from __future__ import annotations

import attrs

from ._names import resolve
from ._pid import Pid
from ._process import Process, current_process, function_name

__all__ = ["ProcessInfo", "process_info", "processes", "is_alive"]


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
        messages_received: how many messages it has taken from its mailbox.
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


def process_info(pid: Pid) -> ProcessInfo | None:
    """A snapshot of the process ``pid`` (or a name), or None if it is not alive."""
    me = current_process()
    process = resolve(pid, node=me.node)
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
    )


def processes() -> list[Pid]:
    """The pids of every live process of the caller's node, oldest first."""
    return [p.pid for p in current_process().node.processes.values()]


def is_alive(pid: Pid) -> bool:
    """Whether ``pid`` is a live process (Erlang's ``is_process_alive/1``)."""
    return resolve(pid, node=current_process().node) is not None


def _status(process: Process, me: Process) -> str:
    if process is me:
        return "running"
    return "waiting" if process.waiting else "runnable"


def _pids(processes) -> tuple[Pid, ...]:
    return tuple(sorted(p.pid for p in processes))

"""Introspection: the supervision trees of a node as data, and its busiest processes.

What Erlang's ``observer`` shows, as plain frozen values a dashboard, a test
or a REPL can read. Everything here reads the process records and the
supervisors' state directly, in the caller: no message is sent, nothing
waits (except :func:`sample`, which waits on purpose), and a supervisor
busy restarting a child is read as it is at that moment.

Example
-------
::

    import otp
    from otp import introspection

    async def main():
        await App.start_link()
        for root in introspection.supervision_tree():
            print_tree(root)

        busiest = await introspection.sample(1.0, n=5)      # by messages handled per second
        for row in busiest:
            print(row.pid, row.name, row.kind, f"{row.rate:.0f}/s", row.message_queue_len)

        for row in introspection.top_by_mailbox(5):
            print(row.pid, row.message_queue_len, otp.process_info(row.pid).current_function)

    def print_tree(sup, depth=0):
        print("  " * depth + f"{sup.pid} {sup.name or ''} {sup.strategy.value} restarts={sup.restarts}")
        for child in sup.children:
            if child.supervisor is not None:
                print_tree(child.supervisor, depth + 1)
            else:
                print("  " * (depth + 1) + f"{child.id!r} {child.pid}")

The supervision tree
--------------------
:func:`supervision_tree` returns the *roots*: the supervisors that are no
other supervisor's child (an application's top supervisor; a supervisor
that a plain process or a GenServer started, such as an endpoint's
connection supervisor). Each :class:`SupervisorNode` has its strategy and
intensity settings, the restarts it has made (the total, and the last ten
as :class:`RestartRecord`) and its children in
start order; a child that is itself a supervisor carries its own node in
``ChildNode.supervisor``, recursively. :func:`supervisor_tree` gives the
node of one supervisor.

Processes
---------
``otp.process_info(pid)`` (also here) describes one process: mailbox
length, ``messages_received`` (our reductions: how many messages it has
taken), ``current_function``, ``memory`` (an estimate), ``kind``
(``"genserver"``, ``"supervisor"``, ``"task"``, ``"channel"``, or None for a
plain process), links and monitors. For every process at once,
:func:`snapshot` reads the counters (cheap: one pass, nothing formatted);
:func:`top_by_mailbox` ranks by queue length; :func:`top_by_rate` ranks by
messages handled between two snapshots; :func:`sample` takes the two
snapshots ``interval`` seconds apart for you.
"""

from __future__ import annotations

import heapq
from typing import Any, Iterator, Mapping, Protocol

import attrs
import trio

from ._kernel import (
    Destination,
    Pid,
    ProcessInfo,
    behaviour_of,
    process_counters,
    process_info,
    processes,
    registered_name,
    resolve_pid,
)
from .supervisor import ChildType, Restart, RestartRecord, Strategy

__all__ = [
    "supervision_tree",
    "supervisor_tree",
    "SupervisorNode",
    "ChildNode",
    "RestartRecord",
    "snapshot",
    "Snapshot",
    "ProcessSample",
    "top_by_mailbox",
    "top_by_rate",
    "sample",
    "ProcessRate",
    "process_info",
    "ProcessInfo",
    "processes",
]


# ---------------------------------------------------------------- supervision trees


@attrs.frozen
class ChildNode:
    """One child of a supervisor.

    Attributes:
        id: its child id (None for a DynamicSupervisor's children, as in OTP).
        pid: its pid, or None while it is not running (stopped, or a failed
            restart waiting to be retried).
        type: ``ChildType.WORKER`` or ``ChildType.SUPERVISOR``.
        restart: ``Restart.PERMANENT``, ``TRANSIENT`` or ``TEMPORARY``.
        supervisor: the child's own :class:`SupervisorNode` if it is a
            running supervisor, else None.
    """

    id: object
    pid: Pid | None
    type: ChildType
    restart: Restart
    supervisor: SupervisorNode | None = None


@attrs.frozen
class SupervisorNode:
    """One supervisor and, through its children, the tree under it.

    Attributes:
        pid: its pid.
        name: its registered name, or None.
        strategy: its ``Strategy`` (a DynamicSupervisor's is ``ONE_FOR_ONE``).
        dynamic: True for a ``DynamicSupervisor``.
        max_restarts, max_seconds: its restart intensity.
        restarts: how many restarts it has made since it started.
        recent_restarts: its last few restarts, oldest first.
        children: its children, in start order (running ones first for a
            DynamicSupervisor).
    """

    pid: Pid
    name: str | None
    strategy: Strategy
    dynamic: bool
    max_restarts: int
    max_seconds: float
    restarts: int
    recent_restarts: tuple[RestartRecord, ...]
    children: tuple[ChildNode, ...]


def supervision_tree() -> list[SupervisorNode]:
    """Every supervision tree of the caller's node: one node per root supervisor, oldest first."""
    supervisors = {pid: state for pid, state in _supervisors()}
    supervised = {pid for state in supervisors.values() for _, pid, _, _ in state.describe()["children"]}
    return [_node(pid, state, set()) for pid, state in supervisors.items() if pid not in supervised]


def supervisor_tree(supervisor: Destination) -> SupervisorNode | None:
    """The tree under ``supervisor`` (a pid or a name); None if it is not a running supervisor."""
    pid = resolve_pid(supervisor)
    if pid is None:
        return None
    state = _supervisor_state(pid)
    return _node(pid, state, set()) if state is not None else None


class _Describes(Protocol):
    """A supervisor's state (its server): says what it supervises, read from outside."""

    def describe(self) -> dict[str, Any]: ...


def _supervisors() -> Iterator[tuple[Pid, _Describes]]:
    for pid, _, kind, _, _ in process_counters():
        if kind == "supervisor":
            state = _supervisor_state(pid)
            if state is not None:
                yield pid, state


def _supervisor_state(pid: Pid) -> _Describes | None:
    behaviour = behaviour_of(pid)
    if behaviour is None:
        return None
    kind, state = behaviour
    if kind != "supervisor" or not hasattr(state, "describe"):
        return None
    return state


def _node(pid: Pid, state: _Describes, seen: set[Pid]) -> SupervisorNode:
    seen.add(pid)
    info = state.describe()
    children = tuple(_child(child, seen) for child in info.pop("children"))
    return SupervisorNode(pid=pid, name=registered_name(pid), children=children, **info)


def _child(child: tuple[Any, Pid | None, ChildType, Restart], seen: set[Pid]) -> ChildNode:
    child_id, pid, child_type, restart = child
    nested = None
    if pid is not None and pid not in seen:
        state = _supervisor_state(pid)
        nested = _node(pid, state, seen) if state is not None else None
    return ChildNode(child_id, pid, child_type, restart, nested)


# ---------------------------------------------------------------- processes


@attrs.frozen
class ProcessSample:
    """One process in a :class:`Snapshot`: its counters at that moment."""

    pid: Pid
    name: str | None
    kind: str | None
    message_queue_len: int
    messages_received: int


@attrs.frozen
class Snapshot:
    """Every live process's counters at time ``at`` (``trio.current_time()``)."""

    at: float
    processes: Mapping[Pid, ProcessSample]


@attrs.frozen
class ProcessRate:
    """One row of :func:`top_by_rate`: how much a process did between two snapshots.

    Attributes:
        messages: messages it took from its mailbox in between.
        rate: ``messages`` per second.
        message_queue_len: its mailbox length at the later snapshot.
    """

    pid: Pid
    name: str | None
    kind: str | None
    message_queue_len: int
    messages: int
    rate: float


def snapshot() -> Snapshot:
    """The counters of every live process of the caller's node, now. Sync and cheap."""
    rows = {pid: ProcessSample(pid, name, kind, queued, handled) for pid, name, kind, queued, handled in process_counters()}
    return Snapshot(trio.current_time(), rows)


def top_by_mailbox(n: int = 10, *, of: Snapshot | None = None) -> list[ProcessSample]:
    """The ``n`` processes with the longest mailboxes (in snapshot ``of``, default now), longest first.

    Ties go to the older process; empty mailboxes are left out.
    """
    rows = (of if of is not None else snapshot()).processes.values()
    queued = [row for row in rows if row.message_queue_len]
    return heapq.nsmallest(n, queued, key=lambda row: (-row.message_queue_len, row.pid))


def top_by_rate(before: Snapshot, after: Snapshot, n: int = 10) -> list[ProcessRate]:
    """The ``n`` processes that handled the most messages between ``before`` and ``after``, busiest first.

    Only processes alive at ``after`` count; one spawned in between counts
    from zero. Processes that handled nothing are left out.

    Raises:
        ValueError: ``after`` was not taken after ``before``.
    """
    elapsed = after.at - before.at
    if elapsed <= 0:
        raise ValueError(f"top_by_rate needs a later second snapshot: before.at={before.at}, after.at={after.at}")
    rows = []
    for pid, now in after.processes.items():
        then = before.processes.get(pid)
        handled = now.messages_received - (then.messages_received if then is not None else 0)
        if handled > 0:
            rows.append(ProcessRate(pid, now.name, now.kind, now.message_queue_len, handled, handled / elapsed))
    return heapq.nsmallest(n, rows, key=lambda row: (-row.messages, row.pid))


async def sample(interval: float = 1.0, n: int = 10) -> list[ProcessRate]:
    """Take a snapshot, sleep ``interval`` seconds, take another: :func:`top_by_rate` of the two."""
    before = snapshot()
    await trio.sleep(interval)
    return top_by_rate(before, snapshot(), n)

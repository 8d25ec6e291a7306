"""Process identifiers and unique references.

A :class:`Pid` names one process for ever: pids are never reused within an OS
process, hash and compare by value, order by creation, and print like
Erlang's (``<0.42.0>``). A pid also keeps a direct pointer to its process
record so that ``send`` needs no table lookup; that pointer is not part of the
pid's value and is not pickled.

A :class:`Ref` is a unique value for tagging requests and monitors
(Erlang's ``make_ref()``); :class:`TimerRef` names a running timer.

>>> a, b = Ref.make(), Ref.make()
>>> a == b, a < b, hash(a) == hash(Ref(int(a)))
(False, True, True)
"""

from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from ._process import Process

__all__ = ["Pid", "Ref", "TimerRef"]

# Pid numbers are unique across every node of this OS process, so a pid seen
# in a log line can never be confused with one of another (test) node.
_pid_numbers = itertools.count(1)
_ref_numbers = itertools.count(1)

LOCAL_NODE = 0

# Other nodes, by index: a remote pid's ``node`` is its node's index here
# (0 is this OS process). Pids travel by node *name* (see Pid.__reduce__).
_node_names: list[str | None] = [None]
_node_indexes: dict[str, int] = {}


def node_index(name: str) -> int:
    """The index standing for the remote node ``name`` in pids (made on first use)."""
    index = _node_indexes.get(name)
    if index is None:
        index = _node_indexes[name] = len(_node_names)
        _node_names.append(name)
    return index


def node_name_of(pid: Pid) -> str | None:
    """The name of the node ``pid`` lives on, or None for a node that is not distributed."""
    if pid.node != LOCAL_NODE:
        return _node_names[pid.node]
    process = pid._process
    return process.node.name if process is not None else None


@functools.total_ordering
class Pid:
    """The identifier of a process: hashable, ordered, prints as ``<0.N.0>``."""

    __slots__ = ("node", "number", "_process")

    def __init__(self, number: int, node: int = LOCAL_NODE) -> None:
        self.node = node
        self.number = number
        self._process: Process | None = None

    @classmethod
    def _new(cls, process: Process) -> Pid:
        pid = cls(next(_pid_numbers))
        pid._process = process
        return pid

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Pid:
            return NotImplemented
        return self.number == other.number and self.node == other.node

    def __lt__(self, other: object) -> bool:
        if other.__class__ is not Pid:
            return NotImplemented
        return (self.node, self.number) < (other.node, other.number)

    def __hash__(self) -> int:
        return hash(self.number)

    def __repr__(self) -> str:
        return f"<{self.node}.{self.number}.0>"

    def __reduce__(self) -> tuple[object, tuple[int, str | None]]:
        # The process pointer stays behind, and the node travels by name:
        # the receiving node decides whether the pid is its own or remote.
        return (_travelled_pid, (self.number, node_name_of(self)))


def _travelled_pid(number: int, node_name: str | None) -> Pid:
    if node_name is None:
        return Pid(number)
    from ._process import current_process_or_none

    here = current_process_or_none()
    if here is not None and here.node.name == node_name:
        pid = Pid(number)
        pid._process = here.node.processes.get(number)
        return pid
    return Pid(number, node_index(node_name))


class Ref(int):
    """A unique reference (Erlang's ``make_ref()``), ordered by creation.

    It is an ``int`` underneath so that hashing and comparing it, which
    happens on every call and monitor, runs at C speed.
    """

    __slots__ = ()

    @classmethod
    def make(cls) -> Self:
        return cls(next(_ref_numbers))

    def __repr__(self) -> str:
        return f"#Ref<0.{int(self)}>"


class TimerRef(Ref):
    """The handle of a timer started with :func:`otp.send_after`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"#TimerRef<0.{int(self)}>"

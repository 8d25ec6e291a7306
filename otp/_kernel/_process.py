"""The process record and "which process am I?".

A process is a trio task plus this record. The record is deliberately a bag
of slots with lazily created containers: an idle process that never links,
monitors or queues a message costs only the record itself (see W1 in
``benchmarks/``). The behaviour of a process lives elsewhere: spawning and
ending in ``_spawn.py``, its mailbox in ``_mailbox.py``, exit signals in
``_signals.py``.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

import trio

from ._exceptions import NotAProcess
from ._pid import Pid

if TYPE_CHECKING:
    import logging
    from collections import deque
    from typing import Any, Callable

    from trio.lowlevel import Task

    from ._node import Node
    from ._pid import Ref, TimerRef

__all__ = ["Process", "current_process", "current_pid", "current_process_or_none", "function_name"]


class Process:
    """Everything the kernel knows about one process."""

    __slots__ = (
        "pid",
        "node",
        "function",
        "task",  # the trio task running it; set when it starts
        "scope",  # cancelled to end the process from outside
        # mailbox (see _mailbox.py)
        "mailbox",  # deque of queued messages, or None while never used
        "waiting",  # True while parked in receive()
        "patterns",  # what the parked receive() accepts; () means anything
        "awaiting",  # the ref of the request it waits for (see _request.py), or None
        "abort",  # its trio abort callback for parking, made on first use
        "mail_callback",  # called when a message is queued while it is not in receive(), or None (see _hooks.py)
        # signals (see _signals.py)
        "links",  # set of linked Process records, or None
        "remote_links",  # set of linked pids on other nodes, or None (see otp.dist)
        "monitors",  # {ref: Process} this process monitors, or None
        "monitored_by",  # {ref: Process} monitoring this process, or None
        "trap_exit",
        "kill_reason",  # set by the first exit signal that ends it
        "killed_by",  # pid that sent that signal (None: the node itself)
        # names and lifecycle
        "name",
        "alive",
        "reason",  # the exit reason once ended
        "messages_received",
        "timers",  # refs of live timers addressed to this pid, or None
        "aliases",  # refs that deliver to this process (see _aliases.py), or None
        "report_details",  # callable adding lines to its crash report, or None
        "report_logging",  # (logger, record fields) for its crash report, or None: otp.process, no fields
        "behaviour",  # (kind, state) for introspection, or None (see otp.lowlevel.set_behaviour)
    )

    def __init__(self, node: Node, function: object) -> None:
        self.pid = Pid._new(self)
        self.node = node
        self.function = function
        self.task: Task | None = None
        self.scope = trio.CancelScope()
        self.mailbox: deque[Any] | None = None
        self.waiting = False
        self.patterns: tuple[Any, ...] = ()
        self.awaiting: Ref | None = None
        self.abort: Callable[[Any], trio.lowlevel.Abort] | None = None
        self.mail_callback: Callable[[], None] | None = None
        self.links: set[Process] | None = None
        self.remote_links: set[Pid] | None = None
        self.monitors: dict[Ref, Process] | None = None
        self.monitored_by: dict[Ref, Process] | None = None
        self.trap_exit = False
        self.kill_reason: object = None
        self.killed_by: Pid | None = None
        self.name: str | None = None
        self.alive = True
        self.reason: object = None
        self.messages_received = 0
        self.timers: set[TimerRef] | None = None
        self.aliases: set[Ref] | None = None
        self.report_details: Callable[[], dict[str, object]] | None = None
        self.report_logging: tuple[logging.Logger, dict[str, object]] | None = None
        self.behaviour: tuple[str, object] | None = None

    def __repr__(self) -> str:
        state = "alive" if self.alive else f"exited {self.reason!r}"
        return f"<Process {self.pid!r} {state}>"

    def stop_waiting(self, raise_cancel: object) -> trio.lowlevel.Abort:
        """trio's abort callback for the process parked in ``receive`` (see ``_mailbox.py``): it waits no more."""
        self.waiting = False
        return trio.lowlevel.Abort.SUCCEEDED


# Each process task sets this once when it starts; trio copies the context
# into child tasks, so helper tasks a process starts see their owner too.
_current: ContextVar[Process] = ContextVar("otp_current_process")


def current_process_or_none() -> Process | None:
    return _current.get(None)


def current_process() -> Process:
    """The record of the calling process.

    Raises:
        NotAProcess: the caller is not running inside an otp process.
    """
    process = _current.get(None)
    if process is None:
        raise NotAProcess(
            "this must be called from an otp process: run your code with "
            "otp.run(main) or inside `async with otp.open_node():`"
        )
    return process


def current_pid() -> Pid:
    """The pid of the calling process (Erlang's ``self()``).

    Raises:
        NotAProcess: the caller is not running inside an otp process.
    """
    return current_process().pid


def function_name(function: object) -> str:
    """``module.qualname`` of what a process runs, for reports and process_info."""
    if isinstance(function, str):
        return function
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}.{name}" if module else name

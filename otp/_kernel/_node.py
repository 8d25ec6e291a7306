"""The node: the nursery every process lives in, and its tables.

A node is one trio nursery plus the process table, the name table and the
timer service. Start one with :func:`run` (a whole program) or
:func:`open_node` (inside a trio program you already have)::

    async def main():
        pid = otp.spawn(worker)
        ...
        return "done"

    otp.run(main)                     # -> "done"

    async with otp.open_node() as node:
        # this block now runs as the node's first process (the root),
        # so it can spawn, send, receive, link and monitor.
        ...

How a node closes, in two phases (as an OTP node stops its applications):

1. The root ends (its body returned: reason ``SHUTDOWN``; it raised: that
   exception; it was killed: the signal's reason). Its links receive that exit
   signal: non-trapping ones end with it, trapping ones (a supervisor started
   by ``main``) get ``ExitSignal(root, SHUTDOWN)`` and shut their trees down in
   order. The node waits up to ``shutdown_timeout`` seconds for them.
2. Every process still running is ended with reason ``SHUTDOWN``, newest
   first; their links and monitors see that reason. Then the nursery closes.

Exceptions never cross from a process into the nursery; only the root's own
exception (or ``Exit`` if it was killed) comes out of ``open_node``/``run``.
"""

from __future__ import annotations

import signal
import threading
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator, Awaitable, Callable, TypeVar, TypeVarTuple

import attrs
import outcome
import trio

from ._exceptions import Exit
from ._pid import Ref
from ._process import Process, _current, current_process
from ._reasons import SHUTDOWN
from ._signals import kill
from ._spawn import finish
from ._timers import TimerService

if TYPE_CHECKING:
    from ._names import Destination
    from ._remote import RemoteHandler

__all__ = ["Node", "NodeStatistics", "open_node", "run", "current_node"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@attrs.frozen
class NodeStatistics:
    """A snapshot of a node's size, from :meth:`Node.statistics`."""

    processes: int
    registered_names: int
    timers: int
    uptime: float


class Node:
    """A running node: its process table, names and timers. Made by :func:`open_node`."""

    nursery: trio.Nursery  # set by open_node, before any process runs
    root: Process  # the process running open_node's body; set by open_node

    def __init__(self, shutdown_timeout: float) -> None:
        self.processes: dict[int, Process] = {}
        self.names: dict[str, Process] = {}
        self.aliases: dict[Ref, Process] = {}
        self.monitored_names: dict[Ref, Destination] = {}  # monitors taken by name -> that name
        self.mailbox_marks: dict[Process, int] = {}  # next mailbox high-water mark, once past the first
        self.name: str | None = None  # set when the node joins others (otp.dist)
        self.remote: RemoteHandler | None = None  # otp.dist's handler for pids of other nodes
        self.timers = TimerService(self)
        self.shutdown_timeout = shutdown_timeout
        self.closing = False
        self.started_at = trio.current_time()
        self._timer_scope = trio.CancelScope()
        self._draining: set[Process] | None = None
        self._drained = trio.Event()

    def __repr__(self) -> str:
        return f"<Node processes={len(self.processes)}>"

    def statistics(self) -> NodeStatistics:
        return NodeStatistics(
            processes=len(self.processes),
            registered_names=len(self.names),
            timers=len(self.timers),
            uptime=trio.current_time() - self.started_at,
        )

    def messages_received(self) -> int:
        """Messages taken so far by the processes alive now, summed (a rate's numerator, for a sampler).

        One pass over the process table that makes no object per process:
        a sampler calling it every second on a node of 20,000 processes
        costs about a millisecond, where a snapshot of every process's
        counters would make 40,000 objects for the collector to count.
        """
        return sum(process.messages_received for process in self.processes.values())

    def process_ended(self, process: Process) -> None:
        """Called by ``finish`` for every process; tracks the drain of phase 1."""
        draining = self._draining
        if draining is not None:
            draining.discard(process)
            if not draining:
                self._drained.set()

    async def _run_timers(self) -> None:
        with self._timer_scope:
            await self.timers.run()

    async def _shutdown(self, linked_to_root: list[Process]) -> None:
        # Phase 1: let the processes linked to the root (supervision trees)
        # stop themselves in order after the root's exit signal.
        self._draining = {p for p in linked_to_root if p.alive}
        if self._draining:
            with trio.move_on_after(self.shutdown_timeout):
                await self._drained.wait()
        # Phase 2: end the rest, newest first.
        self.closing = True
        for process in reversed(list(self.processes.values())):
            kill(process, SHUTDOWN, None)
        self._timer_scope.cancel()


def current_node() -> Node:
    """The node of the calling process."""
    return current_process().node


@asynccontextmanager
async def open_node(*, shutdown_timeout: float = 5.0) -> AsyncIterator[Node]:
    """Open a node; the body of the ``async with`` runs as its root process.

    Args:
        shutdown_timeout: how long, on close, processes linked to the root
            may take to stop after its exit signal before all are ended.

    Raises:
        Exit: the root process was ended by an exit signal (``.reason`` says why).
    """
    node = Node(shutdown_timeout)
    body_error: BaseException | None = None
    async with trio.open_nursery() as nursery:
        node.nursery = nursery
        nursery.start_soon(node._run_timers, name="otp.timers")
        root = _attach_root(node)
        token = _current.set(root)
        try:
            with root.scope:
                yield node
        except BaseException as e:
            body_error = e
        finally:
            _current.reset(token)
        linked = list(root.links or ())
        finish(root, _root_reason(body_error), report=False)
        nursery.start_soon(node._shutdown, linked, name="otp.shutdown")
    if body_error is not None:
        raise body_error
    if root.kill_reason is not None:
        raise Exit(root.kill_reason)


def run(
    main: Callable[[*Ts], Awaitable[T]],
    *args: *Ts,
    shutdown_timeout: float = 5.0,
    clock: trio.abc.Clock | None = None,
) -> T:
    """Run ``main(*args)`` as the first process of a fresh node; return its result.

    The node closes when ``main`` returns (see the module docs). An exception
    raised by ``main`` propagates; ``Exit`` is raised if ``main`` was killed.
    Ctrl-C closes the node the same way (the root ends with ``SHUTDOWN``) and
    then raises ``KeyboardInterrupt``; a second Ctrl-C stops it at once.
    """

    async def run_main(interrupt: _Interrupt) -> T:
        async with open_node(shutdown_timeout=shutdown_timeout) as node:
            await interrupt.watch(node)
            return await main(*args)

    async def root() -> T:
        async with trio.open_nursery() as watchers:
            interrupt = _Interrupt(watchers)
            # Captured, so that main's own exception does not come out wrapped
            # in an ExceptionGroup by this nursery.
            result = await outcome.acapture(run_main, interrupt)
            watchers.cancel_scope.cancel()
        if interrupt.received:
            raise KeyboardInterrupt
        return result.unwrap()

    return trio.run(root, clock=clock)


class _Interrupt:
    """Ctrl-C for :func:`run`: the first one stops the node in order, a second one at once.

    Left to trio, ``KeyboardInterrupt`` is raised wherever the program happens
    to be, possibly half-way through updating the kernel's link and monitor
    tables. Taking SIGINT as a signal instead turns it into a cancellation
    of the root, which then ends with ``SHUTDOWN`` like any other close.
    """

    def __init__(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        self.received = False

    async def watch(self, node: Node) -> None:
        if threading.current_thread() is threading.main_thread():
            await self.nursery.start(self._receive, node, name="otp.sigint")

    async def _receive(self, node: Node, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with trio.open_signal_receiver(signal.SIGINT) as signals:
            task_status.started()
            async for _ in signals:
                if self.received:
                    self.nursery.cancel_scope.cancel()
                    return
                self.received = True
                node.root.scope.cancel()


def _attach_root(node: Node) -> Process:
    root = Process(node, "root")
    root.task = trio.lowlevel.current_task()
    node.processes[root.pid.number] = root
    node.root = root
    return root


def _root_reason(body_error: BaseException | None) -> object:
    # Ctrl-C is a request to stop, not a crash: the supervision trees linked
    # to the root shut down in order, as they would for SHUTDOWN.
    if body_error is None or isinstance(body_error, (trio.Cancelled, KeyboardInterrupt)):
        return SHUTDOWN
    if isinstance(body_error, Exit):
        return body_error.reason
    return body_error

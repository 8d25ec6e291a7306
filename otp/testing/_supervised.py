"""Supervised test fixtures (ExUnit's ``start_supervised``), and waiting for a restart.

``start_supervised(child)`` starts ``child`` under a supervisor that belongs
to the test and returns its pid. When the test ends (returns or fails),
that supervisor stops its children one by one, newest first, each within
its own ``shutdown`` time (a trapping GenServer runs ``terminate`` to its
end), before the test's node closes. The pytest plugin opens that scope
around every test it runs in a node; elsewhere open it yourself with
``async with open_test_supervisor():``::

    async def test_the_cache_comes_back_empty():
        cache = await start_supervised(Cache.child_spec(None, name="cache"))
        otp.exit(cache, "boom")
        await wait_for_restart(current_test_supervisor(), Cache, cache)
        assert await GenServer.call("cache", "size") == 0

``wait_for_restart(supervisor, child_id, old_pid)`` returns the child's
new pid once its supervisor (the test's or any other) runs it again. It
waits for the supervisor's ``("otp", "supervisor", "restarted")`` telemetry
event, which comes once the child can be called: no polling, no sleep.

The test's supervisor is linked to the test process. If it gives up (more
than ``max_restarts`` restarts in ``max_seconds``: by default 100 in one
second, so that a child that keeps crashing fails the test at once instead
of spinning), its exit ends the test with that reason.
"""

from __future__ import annotations

import itertools
import math
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, AsyncIterator

import attrs
import trio

from .._child_spec import Child, normalise_child
from .._kernel import (
    Destination,
    Down,
    NoProc,
    Pid,
    ReceiveTimeout,
    Ref,
    StartError,
    attach,
    current_pid,
    demonitor,
    detach,
    monitor,
    receive,
    resolve_pid,
    send,
    take_queued,
)
from ..supervisor import Supervisor, SupervisorError

__all__ = [
    "start_supervised",
    "stop_supervised",
    "current_test_supervisor",
    "open_test_supervisor",
    "wait_for_restart",
]

RESTARTED = ("otp", "supervisor", "restarted")


# ---------------------------------------------------------------- the test's supervisor


@attrs.define
class _Scope:
    """One test's supervisor: started on first use, stopped when the scope ends."""

    owner: Pid  # the test process, the only one that may use it
    max_restarts: int
    max_seconds: float
    supervisor: Pid | None = None


_scope: ContextVar[_Scope | None] = ContextVar("otp_test_supervisor", default=None)


@asynccontextmanager
async def open_test_supervisor(*, max_restarts: int = 100, max_seconds: float = 1.0) -> AsyncIterator[None]:
    """Give the calling process a test supervisor for the block, for :func:`start_supervised`.

    The supervisor starts with the first ``start_supervised`` (a test that
    starts nothing pays nothing) and, when the block ends, stops its
    children newest first. The pytest plugin opens one around each test
    it runs in a node: call this only outside the plugin.
    """
    scope = _Scope(current_pid(), max_restarts, max_seconds)
    token = _scope.set(scope)
    try:
        yield
    finally:
        _scope.reset(token)
        if scope.supervisor is not None:
            await _stop(scope.supervisor)


async def start_supervised(child: Child, **overrides: Any) -> Pid:
    """Start ``child`` under the test's supervisor and return its pid; it is stopped when the test ends.

    ``child`` is what a supervisor takes: a ``ChildSpec``, a GenServer or
    Supervisor class, or ``(class, arg)``. ``overrides`` replace fields of
    its spec (``id=``, ``restart=``, ``shutdown=``, ``type=``), e.g. to start
    two children of one class under different ids. The child is restarted
    by its restart type, as under any supervisor.

    Raises:
        AlreadyStarted: a child with this id is running (``.pid``).
        StartError: it failed to start; or it ignored its start (``.reason``
            is ``"ignore"``), since a test asked for a running process.
        RuntimeError: there is no test supervisor (outside the plugin and
            :func:`open_test_supervisor`), or the caller is not the test's
            own process.
    """
    scope = _owned_scope("start_supervised")
    spec = normalise_child(child)
    if overrides:
        spec = attrs.evolve(spec, **overrides)
    pid = await Supervisor.start_child(await _started(scope), spec)
    if pid is None:
        raise StartError("ignore", f"child {spec.id!r} (start_supervised needs a running process)")
    return pid


async def stop_supervised(child_id: object) -> None:
    """Stop the child ``child_id`` that :func:`start_supervised` started, and forget its spec.

    Raises:
        SupervisorError: ``"not_found"``: the test started no such child.
    """
    scope = _owned_scope("stop_supervised")
    if scope.supervisor is None:
        raise SupervisorError("not_found", child_id)
    await Supervisor.terminate_child(scope.supervisor, child_id)
    await Supervisor.delete_child(scope.supervisor, child_id)


def current_test_supervisor() -> Pid:
    """The pid of the test's supervisor, once :func:`start_supervised` has started it.

    Raises:
        RuntimeError: no test supervisor, or no child was started yet.
    """
    scope = _owned_scope("current_test_supervisor")
    if scope.supervisor is None:
        raise RuntimeError("the test's supervisor starts with the first start_supervised(); none was called yet")
    return scope.supervisor


def _owned_scope(name: str) -> _Scope:
    scope = _scope.get()
    if scope is None:
        raise RuntimeError(
            f"{name}() needs the test's supervisor: run the test with the otp pytest plugin "
            "(otp_mode = true, or @pytest.mark.otp), or inside `async with otp.testing.open_test_supervisor():`"
        )
    if current_pid() != scope.owner:
        raise RuntimeError(f"{name}() must be called from the test's own process {scope.owner!r}, not {current_pid()!r}")
    return scope


async def _started(scope: _Scope) -> Pid:
    if scope.supervisor is None:
        scope.supervisor = await Supervisor.start_link([], max_restarts=scope.max_restarts, max_seconds=scope.max_seconds)
    return scope.supervisor


async def _stop(supervisor: Pid) -> None:
    try:
        await Supervisor.stop(supervisor)  # NORMAL: the test process, linked to it, is not ended by it
    except NoProc:
        pass  # it gave up already; its exit ended the test, unless the test traps exits


# ---------------------------------------------------------------- waiting for a restart


async def wait_for_restart(supervisor: Destination, child_id: object, old_pid: Pid, *, timeout: float = 1.0) -> Pid:
    """Wait until ``supervisor`` runs its child ``child_id`` in a process other than ``old_pid``; return that pid.

    Returns at once if it already does. For a ``DynamicSupervisor``, whose
    children have no ids, pass ``child_id=None``: the restart waited for is
    that of ``old_pid``, and it is seen only if it happens after the call
    (make it right after causing the crash, with no ``await`` between).

    Raises:
        AssertionError: no such restart within ``timeout`` seconds; the
            supervisor ended first; the child ignored its restart; or a
            static supervisor has no child ``child_id``.
    """
    __tracebackhide__ = True
    supervisor_pid = resolve_pid(supervisor)
    if supervisor_pid is None:
        raise AssertionError(f"wait_for_restart: supervisor {supervisor!r} is not running")
    # Listen first, then look: a restart between the two is heard, not missed.
    with _RestartListener(supervisor_pid) as listener:
        running = await _running_again(supervisor_pid, child_id, old_pid)
        if running is not None:
            return running
        return await listener.wait(child_id, old_pid, timeout, shown=supervisor)


async def _running_again(supervisor: Pid, child_id: object, old_pid: Pid) -> Pid | None:
    """The child's pid if a static supervisor runs it in a new process already; else None."""
    if child_id is None:
        return None  # a dynamic supervisor: no ids to look for
    rows = [row for row in await Supervisor.which_children(supervisor) if row.id == child_id]
    if not rows:
        raise AssertionError(f"wait_for_restart: supervisor {supervisor!r} has no child {child_id!r}")
    pid = rows[0].pid
    return pid if isinstance(pid, Pid) and pid != old_pid else None


@attrs.frozen
class _Restarted:
    """A ``restarted`` event of the supervisor waited on, as forwarded to the waiting process."""

    tag: Ref
    child_pid: object  # the child that ended
    pid: object  # its new pid
    started: tuple[tuple[object, object], ...]  # (id, pid) of every child started again


_listeners = itertools.count(1)


class _RestartListener:
    """While open: the ``restarted`` events of one supervisor come to the caller, and so does its ``Down``."""

    def __init__(self, supervisor: Pid) -> None:
        self.supervisor = supervisor
        self.tag = Ref.make()  # tells this listener's events from any other's
        self.handler_id = ("otp.testing.wait_for_restart", next(_listeners))
        self.monitor: Ref | None = None

    def __enter__(self) -> _RestartListener:
        me, tag, supervisor = current_pid(), self.tag, self.supervisor

        def forward(event: object, measurements: object, metadata: dict[str, Any], config: object) -> None:
            if metadata["supervisor"] == supervisor:
                send(me, _Restarted(tag, metadata["child_pid"], metadata["pid"], metadata["restarted"]))

        attach(self.handler_id, RESTARTED, forward)
        self.monitor = monitor(supervisor)
        return self

    def __exit__(self, *exc_info: object) -> None:
        detach(self.handler_id)
        if self.monitor is not None:
            demonitor(self.monitor, flush=True)
        while take_queued(self._is_event) is not None:
            pass  # events that came after the one awaited

    async def wait(self, child_id: object, old_pid: Pid, timeout: float, shown: Destination) -> Pid:
        deadline = trio.current_time() + timeout
        while True:
            left = None if timeout == math.inf else max(0.0, deadline - trio.current_time())
            try:
                message = await receive(self._is_event, self._is_down, timeout=left)
            except ReceiveTimeout:
                child = f"child {child_id!r} ({old_pid!r})" if child_id is not None else f"child {old_pid!r}"
                raise AssertionError(f"{child} of {shown!r} was not restarted within {timeout} s") from None
            if isinstance(message, Down):
                raise AssertionError(f"supervisor {shown!r} ended with {message.reason!r} before restarting the child")
            pid = _new_pid(message, child_id, old_pid)
            if pid is not None:
                return pid

    def _is_event(self, message: object) -> bool:
        return isinstance(message, _Restarted) and message.tag is self.tag

    def _is_down(self, message: object) -> bool:
        return isinstance(message, Down) and message.ref is self.monitor


def _new_pid(event: _Restarted, child_id: object, old_pid: Pid) -> Pid | None:
    """The child's new pid if ``event`` restarted it, else None."""
    if child_id is None:  # a dynamic supervisor's child, known by the pid that ended
        if event.child_pid != old_pid:
            return None
        pid = event.pid
    else:
        started = dict(event.started)
        if child_id not in started or started[child_id] == old_pid:
            return None
        pid = started[child_id]
    if not isinstance(pid, Pid):
        raise AssertionError(f"child {child_id if child_id is not None else old_pid!r} ignored its restart: it is not running")
    return pid

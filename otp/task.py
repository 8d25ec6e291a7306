"""Tasks: a process that computes one result, and a supervisor for them.

Elixir's ``Task`` and ``Task.Supervisor``. ``Task.spawn`` starts ``fn(*args)``
in a new process linked to the caller and monitored by it (``Task.async``);
``await task.result(timeout)`` waits for what ``fn`` returned
(``Task.await``)::

    task = Task.spawn(fetch, url)          # sync, like otp.spawn
    ...                                    # do other things meanwhile
    page = await task.result(timeout=10)

Because of the link, a task that crashes ends its caller with the same
reason (unless the caller traps exits: then ``result`` raises
``TaskExited``). A timeout raises ``CallTimeout`` and leaves the task
running, given up on; if the caller lets the error end it, the link ends the
task too.
A result that arrives after the caller gave up is dropped (it is sent to an
alias), never left in the mailbox.

``TaskSupervisor`` is a ``DynamicSupervisor`` of temporary task children:
``await TaskSupervisor.spawn(sup, fn, *args)`` is the supervised, linked
form, ``spawn_nolink`` the unlinked one (a crash only makes ``result``
raise ``TaskExited``), and ``start_child`` starts a fire-and-forget task.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Awaitable, Callable, Generic, TypeVar, TypeVarTuple, overload

from ._child_spec import ChildSpec, Restart
from ._kernel import (
    KILL,
    SHUTDOWN,
    CallTimeout,
    Destination,
    Down,
    OTPError,
    Pid,
    ReceiveTimeout,
    Ref,
    alias,
    current_pid,
    demonitor,
    exit,
    link,
    monitor,
    receive,
    send,
    set_behaviour,
    spawn_link,
    take_exit_signal,
    unalias,
    unlink,
)
from .supervisor import DynamicSupervisor

__all__ = ["Task", "TaskSupervisor", "TaskExited"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class TaskExited(OTPError):
    """The task ended without a result; ``.reason`` is its exit reason."""

    def __init__(self, task: Task[Any], reason: object) -> None:
        super().__init__(f"{task!r} exited with {reason!r} before returning a result")
        self.task = task
        self.reason = reason


class _Result:
    __slots__ = ("ref", "value")

    def __init__(self, ref: Ref, value: Any) -> None:
        self.ref = ref
        self.value = value  # what the task's function returned: Any, as it came


class _Go:
    """The owner of a supervised task has set up its monitor: the task may run."""

    __slots__ = ("ref",)

    def __init__(self, ref: Ref) -> None:
        self.ref = ref


async def _run(reply_to: Ref, owner: Pid, link_owner: bool, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
    if link_owner:
        link(owner)
    await _call(fn, args, reply_to)


async def _run_supervised(
    reply_to: Ref, owner: Pid, link_owner: bool, fn: Callable[..., object], args: tuple[Any, ...]
) -> None:
    if link_owner:
        link(owner)
    # Race: started by the supervisor, the task could end before its owner
    # has monitored it, and the owner would then see NOPROC instead of the
    # real reason. So wait for the owner's go; give up if the owner dies.
    owner_ref = monitor(owner)
    go = await receive(lambda m: (m.__class__ is _Go and m.ref is reply_to) or (m.__class__ is Down and m.ref is owner_ref))
    if go.__class__ is Down:
        return
    demonitor(owner_ref, flush=True)
    await _call(fn, args, reply_to)


async def _call(fn: Callable[..., object], args: tuple[Any, ...], reply_to: Ref) -> None:
    set_behaviour("task")
    value = fn(*args)
    if inspect.isawaitable(value):
        value = await value
    send(reply_to, _Result(reply_to, value))


class Task(Generic[T]):
    """A running (or finished) task; only its owner may wait for it.

    For type checkers, a ``Task[T]`` is one whose function returns a ``T``
    (or an awaitable of one): ``await task.result()`` is a ``T``.
    """

    __slots__ = ("pid", "ref", "monitor_ref", "owner")

    def __init__(self, pid: Pid, ref: Ref, monitor_ref: Ref, owner: Pid) -> None:
        self.pid = pid
        self.ref = ref
        self.monitor_ref = monitor_ref
        self.owner = owner

    def __repr__(self) -> str:
        return f"<Task {self.pid!r}>"

    @overload
    @classmethod
    def spawn(cls, fn: Callable[[*Ts], Awaitable[T]], *args: *Ts) -> Task[T]: ...
    @overload
    @classmethod
    def spawn(cls, fn: Callable[[*Ts], T], *args: *Ts) -> Task[T]: ...

    @classmethod
    def spawn(cls, fn: Callable[..., Any], *args: object) -> Task[Any]:
        """Start ``fn(*args)`` in a process linked to and monitored by the caller. Sync."""
        reply_to = alias()
        me = current_pid()
        pid = spawn_link(_run, reply_to, me, False, fn, args)
        return cls(pid, reply_to, monitor(pid), me)

    async def result(self, timeout: float = 5.0) -> T:
        """Wait for the task's return value.

        Raises:
            CallTimeout: no result within ``timeout``. The task keeps running
                (``shutdown`` stops it) but is given up on: its result, if
                it comes later, is dropped. Wait only once.
            TaskExited: the task ended without a result (``.reason``).
        """
        self._check_owner()
        try:
            answer = await self._wait(timeout, "result")
        except CallTimeout:
            # The owner gave up on this task: a result that comes later is
            # dropped (the alias is revoked), never left in its mailbox.
            self._forget()
            raise
        return self._settle(answer)

    async def shutdown(self, timeout: float = 5.0) -> T | None:
        """Stop the task: ``SHUTDOWN``, then ``KILL`` after ``timeout`` (``0``: kill at once).

        Returns its result if it finished before it could be stopped, else None.
        """
        self._check_owner()
        unlink(self.pid)
        exit(self.pid, KILL if timeout == 0 else SHUTDOWN)
        try:
            answer = await self._wait(math.inf if timeout == 0 else timeout, "shutdown")
        except CallTimeout:
            exit(self.pid, KILL)
            answer = await self._wait(math.inf, "shutdown")
        self._drop_exit_signal()
        if isinstance(answer, _Result):
            self._forget()
            return answer.value
        unalias(self.ref)
        return None

    # ------------------------------------------------------------ helpers

    async def _wait(self, timeout: float, operation: str) -> _Result | Down:
        """The task's result or its Down, within ``timeout`` seconds (``math.inf``: no limit)."""
        ref, monitor_ref = self.ref, self.monitor_ref

        def is_answer(m: object) -> bool:
            return (m.__class__ is _Result and m.ref is ref) or (m.__class__ is Down and m.ref is monitor_ref)

        try:
            return await receive(is_answer, timeout=None if timeout == math.inf else timeout)
        except ReceiveTimeout:
            raise CallTimeout(self, operation, timeout, "timeout") from None

    def _settle(self, answer: _Result | Down) -> T:
        if isinstance(answer, _Result):
            self._forget()
            return answer.value
        unalias(self.ref)
        self._drop_exit_signal()
        raise TaskExited(self, answer.reason)

    def _forget(self) -> None:
        unalias(self.ref)
        demonitor(self.monitor_ref, flush=True)

    def _drop_exit_signal(self) -> None:
        # A trapping owner also got the task's exit signal; it is about this
        # task, which the owner has now dealt with.
        take_exit_signal(self.pid)

    def _check_owner(self) -> None:
        if current_pid() != self.owner:
            raise RuntimeError(f"{self!r} belongs to {self.owner!r}; only its owner may wait for it")


async def _start_task(
    reply_to: Ref, owner: Pid, link_owner: bool, fn: Callable[..., object], args: tuple[Any, ...]
) -> Pid:
    # Runs in the TaskSupervisor: the task is linked to it, and to the owner
    # if asked (the task links itself, first thing).
    return spawn_link(_run_supervised, reply_to, owner, link_owner, fn, args)


class TaskSupervisor(DynamicSupervisor):
    """A DynamicSupervisor of temporary tasks (Elixir's ``Task.Supervisor``)."""

    @overload
    @classmethod
    async def spawn(cls, supervisor: Destination, fn: Callable[[*Ts], Awaitable[T]], *args: *Ts) -> Task[T]: ...
    @overload
    @classmethod
    async def spawn(cls, supervisor: Destination, fn: Callable[[*Ts], T], *args: *Ts) -> Task[T]: ...

    @classmethod
    async def spawn(cls, supervisor: Destination, fn: Callable[..., Any], *args: object) -> Task[Any]:
        """Start a supervised task linked to the caller (``Task.Supervisor.async``)."""
        return await _spawn_supervised(supervisor, fn, args, link_owner=True)

    @overload
    @classmethod
    async def spawn_nolink(cls, supervisor: Destination, fn: Callable[[*Ts], Awaitable[T]], *args: *Ts) -> Task[T]: ...
    @overload
    @classmethod
    async def spawn_nolink(cls, supervisor: Destination, fn: Callable[[*Ts], T], *args: *Ts) -> Task[T]: ...

    @classmethod
    async def spawn_nolink(cls, supervisor: Destination, fn: Callable[..., Any], *args: object) -> Task[Any]:
        """Start a supervised task not linked to the caller: a crash only fails ``result``."""
        return await _spawn_supervised(supervisor, fn, args, link_owner=False)

    # A function and its arguments, not a child spec, as Elixir's
    # Task.Supervisor.start_child takes: a deliberate change of signature.
    @classmethod
    async def start_child(  # type: ignore[override]
        cls, supervisor: Destination, fn: Callable[[*Ts], object], *args: *Ts, restart: Restart = Restart.TEMPORARY
    ) -> Pid:
        """Start a fire-and-forget task under the supervisor; return its pid."""
        spec = ChildSpec(id=Task, start=(_start_fire_and_forget, fn, args), restart=restart)
        return _started(await DynamicSupervisor.start_child(supervisor, spec))

    @staticmethod
    async def children(supervisor: Destination) -> list[Pid]:
        # (A task is never restarted, so no child shows RESTARTING.)
        return [info.pid for info in await DynamicSupervisor.which_children(supervisor) if isinstance(info.pid, Pid)]


def _started(pid: Pid | None) -> Pid:
    # The start functions below always start their task: never None.
    assert pid is not None, "a task's start function returned no pid"
    return pid


async def _start_fire_and_forget(fn: Callable[..., object], args: tuple[Any, ...]) -> Pid:
    async def run() -> None:
        set_behaviour("task")
        value = fn(*args)
        if inspect.isawaitable(value):
            await value

    return spawn_link(run)


async def _spawn_supervised(
    supervisor: Destination, fn: Callable[..., object], args: tuple[Any, ...], *, link_owner: bool
) -> Task[Any]:
    reply_to = alias()
    me = current_pid()
    spec = ChildSpec(id=Task, start=(_start_task, reply_to, me, link_owner, fn, args), restart=Restart.TEMPORARY)
    try:
        pid = _started(await DynamicSupervisor.start_child(supervisor, spec))
    except BaseException:
        unalias(reply_to)
        raise
    task: Task[Any] = Task(pid, reply_to, monitor(pid), me)
    send(pid, _Go(reply_to))
    return task



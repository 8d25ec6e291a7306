"""The process behind ``Supervisor``: starts children in order, restarts them, stops them in reverse.

It is a GenServer that traps exits. A child's end arrives as an
``ExitSignal``; what happens next is decided by the child's restart type and
the exit reason (the table in ``otp.supervisor``'s docstring), then by the
strategy. Every restart is counted by :class:`RestartIntensity`; one too many
and the supervisor shuts all children down and exits with
``Shutdown("reached_max_restart_intensity")``, which its own parent sees.
"""

from __future__ import annotations

import collections
from typing import Any, Iterable

import trio

from .._kernel import (
    AlreadyStarted,
    Exit,
    ExitSignal,
    Pid,
    Shutdown,
    StartError,
    current_pid,
    exiting,
    is_normal,
    link,
    send,
    set_behaviour,
    trap_exits,
)
from .._upgrade import follow_upgrades
from ..genserver import Continue, From, GenServer, Ignore, NoReply, Stop
from ._intensity import RestartIntensity
from ._records import GAVE_UP, ChildCounts, ChildInfo, SupervisorError
from ._reports import RECENT_RESTARTS, gave_up, report, restarted, running_again
from ._requests import Failed, answer
from ._shutdown import shutdown_child
from ._spec import ChildSpec, ChildType, Restart, Strategy, SupervisorSpec, normalise_child

__all__ = ["StaticSupervisor", "RESTARTING", "start_child_process", "ChildStartFailed"]


class _Restarting:
    __slots__ = ()

    def __repr__(self) -> str:
        return "RESTARTING"


RESTARTING = _Restarting()
"""The pid shown by ``which_children`` for a child whose restart failed and will be retried."""


class ChildStartFailed(Exception):
    """Internal: a child's start function failed; ``.reason`` says why."""

    def __init__(self, reason: object) -> None:
        super().__init__(reason)
        self.reason = reason


class _TryAgain:
    """Sent to itself to retry a failed restart (OTP's ``try_again_restart``)."""

    __slots__ = ("child_id", "reason")

    def __init__(self, child_id: object, reason: object) -> None:
        self.child_id = child_id
        self.reason = reason  # why its last start failed

    def __repr__(self) -> str:
        return f"TryAgain({self.child_id!r})"


class _Child:
    __slots__ = ("spec", "pid")

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.pid: Pid | None | _Restarting = None

    @property
    def running(self) -> bool:
        return self.pid.__class__ is Pid


async def start_child_process(spec: ChildSpec) -> Pid | None:
    """Run a child's start function; return its pid (linked to us) or None if ignored.

    Raises:
        ChildStartFailed: the start function raised or returned something else.
    """
    # After otp.upgrade, the classes the start names are the new code's.
    function, *args = follow_upgrades(spec.start)
    try:
        pid = await function(*args)
    except AlreadyStarted as error:
        raise ChildStartFailed(error) from None
    except Exit as error:
        if exiting():
            raise  # an exit signal is ending the supervisor itself
        raise ChildStartFailed(error.reason) from None  # the start function called exit: OTP catches it
    except Exception as error:
        raise ChildStartFailed(getattr(error, "reason", error)) from None
    if pid is None:
        return None
    if pid.__class__ is not Pid:
        raise ChildStartFailed(
            TypeError(f"the start function of child {spec.id!r} returned {pid!r}; expected a Pid or None")
        )
    # The start function should have linked it to us (start_link); make sure,
    # or its end would never reach us. Linking twice is harmless.
    link(pid)
    return pid


class StaticSupervisor(GenServer):
    """Internal: one supervisor process. Use the ``Supervisor`` API to talk to it."""

    async def init(self, arg: tuple[Any, object]) -> Ignore | Stop | None:
        trap_exits(True)
        module, module_arg = arg
        spec = module_arg if module is None else await module.init(module_arg)
        if isinstance(spec, Ignore):
            return spec
        if not isinstance(spec, SupervisorSpec):
            raise TypeError(
                f"{type(module).__qualname__}.init returned {spec!r}; expected "
                f"SupervisorSpec(children, strategy=...) or Ignore()"
            )
        self.strategy = spec.strategy
        self.intensity = RestartIntensity(spec.max_restarts, spec.max_seconds)
        self.restarts = 0  # restarts made, for otp.introspection and telemetry
        self.recent_restarts: collections.deque = collections.deque(maxlen=RECENT_RESTARTS)
        set_behaviour("supervisor", self)
        self.children: list[_Child] = [_Child(child) for child in spec.children]
        self.by_pid: dict[Pid, _Child] = {}
        failure = await self._start_all(self.children)
        if failure is not None:
            child, reason = failure
            await self._stop_all(reversed(self.children))
            return Stop(Shutdown(("failed_to_start_child", child.spec.id, reason)))
        return None

    def format_status(self) -> object:
        return {"strategy": self.strategy, "children": [(c.spec.id, c.pid) for c in self.children]}

    def describe(self) -> dict:
        """What ``otp.introspection`` shows of this supervisor (read from outside, no call)."""
        return {
            "strategy": self.strategy,
            "dynamic": False,
            "max_restarts": self.intensity.max_restarts,
            "max_seconds": self.intensity.max_seconds,
            "restarts": self.restarts,
            "recent_restarts": tuple(self.recent_restarts),
            "children": [(c.spec.id, c.pid if c.running else None, c.spec.type, c.spec.restart) for c in self.children],
        }

    # ------------------------------------------------------------ children ending

    async def handle_info(self, message: object) -> NoReply | Continue | Stop | None:
        if message.__class__ is ExitSignal:
            child = self.by_pid.pop(message.pid, None)
            if child is not None:  # else: not a child of ours (any more); ignore, as OTP does
                await self._child_exited(child, message.pid, message.reason)
        elif message.__class__ is _TryAgain:
            child = self._find(message.child_id)
            if child is not None and child.pid is RESTARTING:
                await self._restart(child, None, message.reason)
        else:
            return await super().handle_info(message)
        return None

    async def _child_exited(self, child: _Child, pid: Pid, reason: object) -> None:
        spec = child.spec
        child.pid = None
        restart = _should_restart(spec.restart, reason)
        if spec.restart is Restart.PERMANENT or not is_normal(reason):  # OTP's rule
            action = "restarting" if restart else "not restarted"
            report("child_terminated", spec.id, pid, reason, action)
        if spec.restart is Restart.TEMPORARY:
            self.children.remove(child)
        elif restart:
            await self._restart(child, pid, reason)

    async def _restart(self, child: _Child, pid: Pid | None, reason: object) -> None:
        if not self.intensity.add_restart(trio.current_time()):
            gave_up(self, child.spec.id, pid, reason)
            # terminate() stops the other children; our parent sees this reason.
            raise Exit(GAVE_UP)
        began = restarted(self, child.spec.id, pid, reason)
        if self.strategy is Strategy.ONE_FOR_ONE:
            group = [child]
        elif self.strategy is Strategy.ONE_FOR_ALL:
            group = list(self.children)
        else:
            group = self.children[self.children.index(child):]
        # Stop the others of the group, newest first; the failed one is down.
        await self._stop_all(c for c in reversed(group) if c is not child)
        group = [c for c in group if c in self.children]  # temporary ones were dropped
        failure = await self._start_all(group)
        if failure is not None:
            failed, failed_reason = failure
            failed.pid = RESTARTING
            # Retry through the mailbox, as OTP does, so calls and other exits
            # are not starved while a child keeps failing to start.
            send(current_pid(), _TryAgain(failed.spec.id, failed_reason))
            return
        started = tuple((c.spec.id, c.pid) for c in group)
        running_again(self, child.spec.id, pid, reason, began=began, new_pid=child.pid, started=started)

    # ------------------------------------------------------------ starting and stopping

    async def _start_all(self, children: list[_Child]) -> tuple[_Child, object] | None:
        """Start ``children`` in order; stop at the first failure and return it."""
        for child in list(children):  # a copy: an ignored temporary child leaves the list
            try:
                pid = await start_child_process(child.spec)
            except ChildStartFailed as failed:
                report("start_error", child.spec.id, None, failed.reason)
                return child, failed.reason
            child.pid = pid
            if pid is not None:
                self.by_pid[pid] = child
            elif child.spec.restart is Restart.TEMPORARY:
                self.children.remove(child)  # an ignored temporary child is not kept (OTP)
        return None

    async def _stop_all(self, children: Iterable[_Child]) -> None:
        for child in list(children):
            await self._stop(child)

    async def _stop(self, child: _Child) -> None:
        pid = child.pid
        if pid.__class__ is Pid:  # child.running, spelled so that the type checker sees a Pid
            del self.by_pid[pid]
            child.pid = None
            await shutdown_child(pid, child.spec.shutdown, child.spec.id)
        else:
            child.pid = None
        if child.spec.restart is Restart.TEMPORARY and child in self.children:
            self.children.remove(child)

    async def terminate(self, reason: object) -> None:
        await self._stop_all(reversed(self.children))

    # ------------------------------------------------------------ the Supervisor API

    async def handle_call(self, request: object, caller: From) -> object:
        return await answer(self, request)  # a bad request fails the caller, not the supervisor

    async def which_children(self) -> list[ChildInfo]:
        # Newest first, as OTP; self.children stays in start order (the order to start and restart in).
        return [_info(child) for child in reversed(self.children)]

    async def count_children(self) -> ChildCounts:
        return _counts(self.children)

    async def start_child(self, child: object) -> Pid | None | Failed:
        spec = normalise_child(child)
        existing = self._find(spec.id)
        if existing is not None:
            if existing.pid.__class__ is Pid:  # running
                return Failed(AlreadyStarted(spec.id, existing.pid))
            return Failed(SupervisorError("already_present", spec.id))
        new = _Child(spec)
        try:
            pid = await start_child_process(spec)
        except ChildStartFailed as failed:
            if isinstance(failed.reason, AlreadyStarted):
                return Failed(failed.reason)
            return Failed(_start_error(failed.reason, spec.id))
        new.pid = pid
        if pid is not None:
            self.by_pid[pid] = new
        if pid is not None or spec.restart is not Restart.TEMPORARY:
            self.children.append(new)  # an ignored temporary child is not kept (OTP)
        return pid

    async def terminate_child(self, child_id: object) -> Failed | None:
        child = self._find(child_id)
        if child is None:
            return Failed(SupervisorError("not_found", child_id))
        await self._stop(child)
        return None

    async def restart_child(self, child_id: object) -> Pid | None | Failed:
        child = self._stopped_child(child_id)
        if isinstance(child, Failed):
            return child
        try:
            pid = await start_child_process(child.spec)
        except ChildStartFailed as failed:
            return Failed(_start_error(failed.reason, child_id))
        child.pid = pid
        if pid is not None:
            self.by_pid[pid] = child
        return pid

    async def delete_child(self, child_id: object) -> Failed | None:
        child = self._stopped_child(child_id)
        if isinstance(child, Failed):
            return child
        self.children.remove(child)
        return None

    def _stopped_child(self, child_id: object) -> _Child | Failed:
        """The child ``child_id`` if it exists and is neither running nor restarting."""
        child = self._find(child_id)
        if child is None:
            return Failed(SupervisorError("not_found", child_id))
        if child.running:
            return Failed(SupervisorError("running", child_id))
        if child.pid is RESTARTING:
            return Failed(SupervisorError("restarting", child_id))
        return child

    def _find(self, child_id: object) -> _Child | None:
        for child in self.children:
            if child.spec.id == child_id:
                return child
        return None


# ---------------------------------------------------------------- helpers


def _start_error(reason: object, child_id: object) -> StartError:
    return StartError(reason, f"child {child_id!r}")


def _should_restart(restart: Restart, reason: object) -> bool:
    if restart is Restart.PERMANENT:
        return True
    if restart is Restart.TRANSIENT:
        return not is_normal(reason)
    return False


def _info(child: _Child) -> ChildInfo:
    return ChildInfo(child.spec.id, child.pid, child.spec.type)


def _counts(children: list[_Child]) -> ChildCounts:
    return ChildCounts(
        specs=len(children),
        active=sum(1 for c in children if c.running),
        supervisors=sum(1 for c in children if c.spec.type is ChildType.SUPERVISOR),
        workers=sum(1 for c in children if c.spec.type is ChildType.WORKER),
    )

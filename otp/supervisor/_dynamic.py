"""The process behind ``DynamicSupervisor``: children started on demand, all one_for_one.

Children are kept by pid, in start order. Each is started with
``extra_arguments`` before the args of its spec (Elixir's
``:extra_arguments``), at most ``max_children`` at a time. On shutdown every
child is signalled at once, then waited for (see ``shutdown_all``).
"""

from __future__ import annotations

import collections
from typing import Any

import trio

from .._kernel import Exit, ExitSignal, Pid, StartError, current_pid, is_normal, send, set_behaviour, trap_exits
from ..genserver import Continue, From, GenServer, NoReply, Stop
from ._intensity import RestartIntensity
from ._records import GAVE_UP, ChildCounts, ChildInfo, SupervisorError
from ._reports import RECENT_RESTARTS, gave_up, report, restarted, running_again
from ._requests import Failed, answer
from ._shutdown import shutdown_all, shutdown_child
from ._spec import ChildSpec, ChildType, Restart, Strategy, normalise_child
from ._static import RESTARTING, ChildStartFailed, start_child_process

__all__ = ["DynamicServer"]


class _TryAgain:
    __slots__ = ("spec", "reason", "ended")

    def __init__(self, spec: ChildSpec, reason: object, ended: Pid | None) -> None:
        self.spec = spec
        self.reason = reason  # why its last start failed
        self.ended = ended  # the child whose end this restart is for (its pid names it: no ids here)


class DynamicServer(GenServer):
    """Internal: one dynamic supervisor process. Use ``DynamicSupervisor`` to talk to it."""

    strategy = Strategy.ONE_FOR_ONE

    async def init(self, options: dict[str, Any]) -> None:
        trap_exits(True)
        self.intensity = RestartIntensity(options["max_restarts"], options["max_seconds"])
        self.restarts = 0  # restarts made, for otp.introspection and telemetry
        self.recent_restarts: collections.deque = collections.deque(maxlen=RECENT_RESTARTS)
        set_behaviour("supervisor", self)
        self.max_children = options["max_children"]
        self.extra_arguments = tuple(options["extra_arguments"])
        self.children: dict[Pid, ChildSpec] = {}  # the spec as started, extra arguments included
        self.restarting: list[ChildSpec] = []  # failed restarts waiting for a retry

    def format_status(self) -> object:
        return {"children": len(self.children), "max_children": self.max_children}

    def describe(self) -> dict:
        """What ``otp.introspection`` shows of this supervisor (read from outside, no call)."""
        running = [(None, pid, spec.type, spec.restart) for pid, spec in self.children.items()]
        return {
            "strategy": self.strategy,
            "dynamic": True,
            "max_restarts": self.intensity.max_restarts,
            "max_seconds": self.intensity.max_seconds,
            "restarts": self.restarts,
            "recent_restarts": tuple(self.recent_restarts),
            "children": running + [(None, None, spec.type, spec.restart) for spec in self.restarting],
        }

    # ------------------------------------------------------------ calls

    async def handle_call(self, request: object, caller: From) -> object:
        return await answer(self, request)  # a bad request fails the caller, not the supervisor

    async def start_child(self, child: object) -> Pid | None | Failed:
        spec = normalise_child(child)
        if len(self.children) + len(self.restarting) >= self.max_children:
            return Failed(SupervisorError("max_children", spec.id))
        if self.extra_arguments:
            function, *args = spec.start
            spec = _with_start(spec, (function, *self.extra_arguments, *args))
        try:
            pid = await start_child_process(spec)
        except ChildStartFailed as failed:
            return Failed(StartError(failed.reason, f"child {spec.id!r}"))
        if pid is not None:
            self.children[pid] = spec
        return pid

    async def terminate_child(self, pid: Pid) -> Failed | None:
        spec = self.children.pop(pid, None)
        if spec is None:
            return Failed(SupervisorError("not_found", pid))
        await shutdown_child(pid, spec.shutdown, spec.id)
        return None

    async def which_children(self) -> list[ChildInfo]:
        # Newest first, as OTP (a restarted child is a new entry, at the end of self.children).
        running = [ChildInfo(None, pid, spec.type) for pid, spec in reversed(self.children.items())]
        return running + [ChildInfo(None, RESTARTING, spec.type) for spec in self.restarting]

    async def count_children(self) -> ChildCounts:
        specs = list(self.children.values())
        supervisors = sum(1 for spec in specs if spec.type is ChildType.SUPERVISOR)
        return ChildCounts(specs=len(specs), active=len(specs), supervisors=supervisors, workers=len(specs) - supervisors)

    # ------------------------------------------------------------ children ending

    async def handle_info(self, message: object) -> NoReply | Continue | Stop | None:
        if message.__class__ is ExitSignal:
            spec = self.children.pop(message.pid, None)
            if spec is not None:
                await self._child_exited(spec, message.pid, message.reason)
        elif message.__class__ is _TryAgain:
            self.restarting.remove(message.spec)
            await self._restart(message.spec, None, message.reason, ended=message.ended)
        else:
            return await super().handle_info(message)
        return None

    async def _child_exited(self, spec: ChildSpec, pid: Pid, reason: object) -> None:
        restart = spec.restart is Restart.PERMANENT or (spec.restart is Restart.TRANSIENT and not is_normal(reason))
        if spec.restart is Restart.PERMANENT or not is_normal(reason):  # OTP's rule
            report("child_terminated", spec.id, pid, reason, "restarting" if restart else "not restarted")
        if restart:
            await self._restart(spec, pid, reason, ended=pid)

    async def _restart(self, spec: ChildSpec, pid: Pid | None, reason: object, *, ended: Pid | None) -> None:
        """Start ``spec`` again (``pid``: the child that ended, None for a retry; ``ended``: that child in both cases)."""
        if not self.intensity.add_restart(trio.current_time()):
            gave_up(self, spec.id, pid, reason)
            raise Exit(GAVE_UP)
        began = restarted(self, spec.id, pid, reason)
        try:
            new_pid = await start_child_process(spec)
        except ChildStartFailed as failed:
            report("start_error", spec.id, None, failed.reason)
            self.restarting.append(spec)
            send(current_pid(), _TryAgain(spec, failed.reason, ended))
            return
        if new_pid is not None:
            self.children[new_pid] = spec
        running_again(self, spec.id, ended, reason, began=began, new_pid=new_pid, started=((spec.id, new_pid),))

    async def terminate(self, reason: object) -> None:
        children = [(pid, spec.shutdown, spec.id) for pid, spec in self.children.items()]
        self.children = {}
        await shutdown_all(children)


def _with_start(spec: ChildSpec, start: tuple[Any, ...]) -> ChildSpec:
    import attrs

    return attrs.evolve(spec, start=start)



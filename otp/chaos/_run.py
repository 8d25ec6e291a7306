"""A chaos run: the caller's handle, the injector process, the probe process, the report.

Three parties share one :class:`_Run` (plain data: every process of a node
runs on one thread, so counters need no lock):

* the **caller** of :func:`attach`: it reads the tree, starts the other two,
  and when its block ends stops them, lets the tree settle and writes the
  report;
* the **injector** process: wakes at each kill's due time (``k / rate``
  seconds after the start), draws the target and reason from the seeded
  :class:`~._plan.FaultPlan` and sends the exit signal;
* the **probe** process (with ``ChaosConfig.probe``): calls the probe
  every ``probe_interval`` and counts what fails.

The caller ends the two by cancelling their cancel scopes (sync, and they
end normally: no exit signal, no report), then waits for their ``Down``.

Restarts are counted by a telemetry handler on ``("otp", "supervisor",
"restart")`` that keeps the events of this tree's supervisors (a
supervisor restarted during the run is recognised by its place in the
tree the first time it restarts something).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from .. import telemetry
from .._kernel import (
    KILL,
    NORMAL,
    CallError,
    Destination,
    Down,
    Pid,
    Ref,
    current_node,
    demonitor,
    exit,
    is_alive,
    local_process,
    monitor,
    receive,
    resolve_pid,
    spawn_opt,
    unlink,
    whereis,
)
from ..introspection import SupervisorNode, supervisor_tree
from ..supervisor import Supervisor
from ._config import ChaosConfig, Target
from ._network import NetworkFaults
from ._plan import FaultPlan
from ._report import KILLED, MISSED, SPARED, ChaosReport, ChaosStatistics, Fault
from ._tree import TreeShape, pids_by_path, problems, read_shape, supervisors_in, targets_of

__all__ = ["attach", "Chaos"]

RESTART = ("otp", "supervisor", "restart")
_PRUNE_AT = 1024  # victims remembered before the dead ones are forgotten


# ---------------------------------------------------------------- public API


@asynccontextmanager
async def attach(tree: Destination, config: ChaosConfig | None = None) -> AsyncIterator[Chaos]:
    """Run chaos against the supervision tree ``tree`` (a pid or a registered name) for the ``async with`` block.

    The faults start when the block is entered and stop when it ends (or
    earlier, after ``duration`` or ``count``). Leaving the block waits for
    the last victims to end and their supervisors to restart them (at most
    ``settle_timeout``), checks the tree's shape and makes the report::

        async with otp.chaos.attach("app", ChaosConfig(seed=7, rate=50, duration=2.0)) as chaos:
            await chaos.wait()
        assert chaos.report().intact

    Must be called from a process. Checkpoints when entered and left.

    Raises:
        ValueError: ``tree`` is not a running supervisor of this node.
    """
    chaos = Chaos._start(tree, config if config is not None else ChaosConfig())
    try:
        await trio.lowlevel.checkpoint()
        yield chaos
        await chaos._finish()
    except BaseException:
        chaos._abandon()
        raise


class Chaos:
    """The handle of a running chaos run, as :func:`attach` yields it."""

    def __init__(self, run: _Run) -> None:
        self._run = run
        self._report: ChaosReport | None = None

    @property
    def config(self) -> ChaosConfig:
        return self._run.config

    @property
    def started(self) -> float:
        """``trio.current_time()`` when the run started: kill ``n`` is due at ``started + config.due(n)``."""
        return self._run.started

    @property
    def targets(self) -> tuple[Target, ...]:
        """The targets the injector picks from, in the tree's order (what a seed's draws index)."""
        return tuple(self._run.targets)

    def statistics(self) -> ChaosStatistics:
        """The run's counters now. Sync and cheap."""
        run = self._run
        return ChaosStatistics(
            elapsed=(run.ended if run.ended is not None else trio.current_time()) - run.started,
            kills=run.kills,
            missed=run.missed,
            spared=run.spared,
            restarts=run.restarts,
            probe_calls=run.probe_calls,
            probe_failures=run.probe_failures,
        )

    async def wait(self) -> None:
        """Wait until the run has made its last kill (its ``duration`` or ``count`` reached).

        Raises:
            RuntimeError: the run has neither ``duration`` nor ``count``, so it
                ends only with the block.
        """
        if not self._run.config.ends:
            raise RuntimeError("Chaos.wait(): this run has no end of its own: give ChaosConfig a duration or a count")
        await self._run.finished.wait()

    def report(self) -> ChaosReport:
        """The report, once the ``async with`` block has ended.

        Raises:
            RuntimeError: the block has not ended yet (``statistics()`` gives
                the counters meanwhile), or it ended with an exception.
        """
        if self._report is None:
            state = "was abandoned (its block raised)" if self._run.abandoned else "is still running"
            raise RuntimeError(f"Chaos.report(): the run {state}; the report is made when the attach block ends")
        return self._report

    # ------------------------------------------------------------ the caller's side

    @classmethod
    def _start(cls, tree: Destination, config: ChaosConfig) -> Chaos:
        root = resolve_pid(tree)
        read = supervisor_tree(root) if root is not None else None
        if read is None:
            raise ValueError(f"otp.chaos.attach: {tree!r} is not a running supervisor of this node")
        run = _Run(config, read)
        run.network = NetworkFaults.install(config.nodes, config.seed)  # first: it may refuse
        telemetry.attach(run.handler_id, RESTART, _count_restart, run)
        run.injector = spawn_opt(_inject, run, link=True, monitor=True)
        if config.probe is not None:
            run.prober = spawn_opt(_probe, run, link=True, monitor=True)
        return cls(run)

    async def _finish(self) -> None:
        run = self._run
        for helper, scope in ((run.injector, run.injector_scope), (run.prober, run.probe_scope)):
            if helper is not None:
                await _stop(helper, scope)
        run.ended = trio.current_time()
        run.injector = run.prober = None
        if run.network is not None:
            run.network.remove()
        await _settle(run)
        found = problems(run.shape, supervisor_tree(run.root))
        telemetry.detach(run.handler_id)
        self._report = run.report(found)

    def _abandon(self) -> None:
        """Stop everything now, without waiting (the block raised, or was cancelled)."""
        run = self._run
        if self._report is not None:
            return
        run.abandoned = True
        for helper, scope in ((run.injector, run.injector_scope), (run.prober, run.probe_scope)):
            if helper is not None:
                pid, ref = helper
                unlink(pid)
                if ref is not None:
                    demonitor(ref, flush=True)
                scope.cancel()  # it ends at once, normally
        run.injector = run.prober = None
        if run.network is not None:
            run.network.remove()
        telemetry.detach(run.handler_id)


# ---------------------------------------------------------------- the run's state


class _Run:
    """What the caller, the injector, the probe and the restart counter share."""

    def __init__(self, config: ChaosConfig, tree: SupervisorNode) -> None:
        self.config = config
        self.node = current_node()
        self.root = tree.pid
        chosen = [(target, pid) for target, pid in targets_of(tree) if config.targets.matches(target)]
        self.targets = [target for target, _ in chosen]
        self.pids: list[Pid | None] = [pid for _, pid in chosen]  # where each target ran when last read
        self.index_of = {target.path: index for index, target in enumerate(self.targets)}
        self.shape: TreeShape = read_shape(tree)
        self.supervisors = supervisors_in(tree)  # whose restarts count
        self.window_at_last_restart: dict[Pid, int] = {}  # supervisor -> restarts in its window, at its last one
        self.foreign: set[Pid] = set()  # supervisors seen restarting that are not of this tree
        self.plan = FaultPlan(config.seed, len(self.targets), config.reasons)
        self.reason_names = {id(reason): repr(reason) for reason, _ in config.reasons}
        self.handler_id = ("otp.chaos", id(self))
        self.started = trio.current_time()
        self.ended: float | None = None
        self.finished = trio.Event()  # the last kill is made
        self.abandoned = False
        self.injector: tuple[Pid, Ref | None] | None = None
        self.prober: tuple[Pid, Ref | None] | None = None
        # The caller ends the helpers by cancelling these (sync, from its own task).
        self.injector_scope = trio.CancelScope()
        self.probe_scope = trio.CancelScope()
        self.network: NetworkFaults | None = None
        self.dying: list[Pid] = []  # victims whose end the caller waits for before checking the tree
        self.faults: list[Fault] = []
        self.kills = self.missed = self.spared = self.restarts = 0
        self.kills_by_reason = {name: 0 for name in self.reason_names.values()}  # in the config's order
        self.probe_calls = self.probe_failures = 0
        self.probe_errors: dict[str, int] = {}

    # ------------------------------------------------------------ one kill

    def strike(self, number: int, at: float) -> None:
        """Kill number ``number``, due ``at`` seconds after the start: draw its target and reason, and strike."""
        index, reason = self.plan.next()
        if index < 0:  # no target matched: every draw is a miss
            self.missed += 1
            return
        target = self.targets[index]
        pid = self._pid_now(index)
        if pid is None:
            outcome = MISSED
            self.missed += 1
        elif self.config.spare_restarts is not None and not self._room_to_restart(target):
            outcome = SPARED
            self.spared += 1
        else:
            outcome = KILLED
            self._kill(index, pid, reason)
        fault = Fault(number, target, reason, outcome, at)
        self.faults.append(fault)
        if self.config.on_fault is not None:
            self.config.on_fault(fault)

    def _kill(self, index: int, pid: Pid, reason: object) -> None:
        # Will it end? KILL always; another reason unless it traps exits (then it is a message).
        process = local_process(pid) if reason is not KILL else None
        ends = reason is KILL or (reason is not NORMAL and process is not None and not process.trap_exit)
        exit(pid, reason)
        self.pids[index] = None  # its process is going: where the target runs must be read anew
        self.kills += 1
        name = self.reason_names[id(reason)]
        self.kills_by_reason[name] += 1
        if ends:
            self._remember_dying(pid)

    def _remember_dying(self, pid: Pid) -> None:
        dying = self.dying
        dying.append(pid)
        if len(dying) >= _PRUNE_AT:
            # Still there, even if only unwinding its exit (is_alive says False for those).
            dying[:] = [pid for pid in dying if resolve_pid(pid) is not None]

    def _pid_now(self, index: int) -> Pid | None:
        """Where target ``index`` runs now: by its registered name (O(1)), else its last pid, else the tree read anew."""
        name = self.targets[index].name
        if name is not None:
            return whereis(name)
        pid = self.pids[index]
        if pid is not None and is_alive(pid):
            return pid
        self._read_pids()
        return self.pids[index]

    def _read_pids(self) -> None:
        tree = supervisor_tree(self.root)
        now = pids_by_path(tree) if tree is not None else {}
        self.pids = [now.get(target.path) for target in self.targets]

    def _room_to_restart(self, target: Target) -> bool:
        """Whether the target's supervisor would have ``spare_restarts`` restarts left after restarting it."""
        parent_path = target.path[:-1]
        parent = self.root if not parent_path else self._supervisor_at(parent_path)
        tree = supervisor_tree(parent) if parent is not None else None
        if tree is None:
            return False
        since = trio.current_time() - tree.max_seconds
        recent = tree.recent_restarts
        in_window: int | None = sum(1 for record in recent if record.at >= since)
        if in_window == len(recent) and tree.restarts > len(recent):
            # It keeps only its last few restarts, all in the window: older ones may be too.
            # Its last restart event said how many its window held then: no fewer now.
            in_window = self.window_at_last_restart.get(tree.pid)
            if in_window is None:
                return False  # cannot tell: spare
        return in_window + 1 + self.config.spare_restarts <= tree.max_restarts  # type: ignore[operator]

    def _supervisor_at(self, path: tuple) -> Pid | None:
        index = self.index_of.get(path)
        if index is not None:
            return self._pid_now(index)
        tree = supervisor_tree(self.root)  # a supervisor that is no target itself
        return pids_by_path(tree).get(path) if tree is not None else None

    # ------------------------------------------------------------ restarts and probes

    def adopt(self, supervisor: Pid) -> bool:
        """Whether ``supervisor``, not seen before, is in this tree now (one restarted during the run)."""
        if supervisor in self.foreign:
            return False
        tree = supervisor_tree(self.root)
        if tree is not None:
            self.supervisors |= supervisors_in(tree)
        if supervisor in self.supervisors:
            return True
        self.foreign.add(supervisor)
        return False

    def probe_failed(self, error: Exception) -> None:
        self.probe_calls += 1
        self.probe_failures += 1
        name = type(error).__name__
        self.probe_errors[name] = self.probe_errors.get(name, 0) + 1

    def report(self, found: list[str]) -> ChaosReport:
        return ChaosReport(
            seed=self.config.seed,
            elapsed=(self.ended if self.ended is not None else trio.current_time()) - self.started,
            kills=self.kills,
            kills_by_reason=dict(self.kills_by_reason),
            missed=self.missed,
            spared=self.spared,
            restarts=self.restarts,
            probe_calls=self.probe_calls,
            probe_failures=self.probe_failures,
            probe_failures_by_error=dict(self.probe_errors),
            intact=not found,
            problems=tuple(found),
            faults=tuple(self.faults),
            nodes=self.network.counts() if self.network is not None else (),
        )


def _count_restart(event: tuple, measurements: dict, metadata: dict, run: _Run) -> None:
    """The telemetry handler: count the restarts of this tree's supervisors (it runs in the supervisor)."""
    if current_node() is not run.node:  # the table is global to the OS process; several nodes may share it
        return
    supervisor = metadata["supervisor"]
    if supervisor in run.supervisors or run.adopt(supervisor):
        run.restarts += 1
        run.window_at_last_restart[supervisor] = measurements["recent_restarts"]


# ---------------------------------------------------------------- the processes


async def _inject(run: _Run) -> None:
    """The injector: each kill at its due time, until the plan ends or the caller stops the run."""
    with run.injector_scope:  # cancelled by the caller: the run is over
        number = 1
        while (due := run.config.due(number)) is not None:
            # A deadline, not a timeout: kill n is due at exactly started + due(n), the
            # instant a load aligned with the run (Chaos.started) wakes at too.
            await trio.sleep_until(run.started + due)
            if run.injector_scope.cancel_called:
                return  # stopped in the very batch this kill fell due: it is not made
            run.strike(number, due)
            number += 1
        run.finished.set()
        await trio.sleep_forever()


async def _probe(run: _Run) -> None:
    """The probe: call it, count how it went, rest ``probe_interval``, until the caller stops the run.

    A call still in flight then is cancelled and not counted: it saw no fault, only the end.
    """
    probe = run.config.probe
    assert probe is not None
    with run.probe_scope:
        while True:
            try:
                await probe()
            except Exception as error:  # any failure of the probe is what it is there to count
                run.probe_failed(error)
            else:
                run.probe_calls += 1
            await trio.sleep(run.config.probe_interval)


async def _stop(helper: tuple[Pid, Ref | None], scope: trio.CancelScope) -> None:
    """End a helper process (unlinked first: no exit signal for us) and wait until it has."""
    pid, ref = helper
    unlink(pid)
    scope.cancel()
    await receive(lambda message: message.__class__ is Down and message.ref is ref)


async def _settle(run: _Run) -> None:
    """Let the tree absorb the last kills: the victims end, then every supervisor, top down, answers a call.

    A supervisor handles a child's exit signal before a call that arrives
    after it, and restarts the child before answering: so once the
    victims' ``Down`` have come and each supervisor has answered, every
    restart the kills caused is done (or has failed, which the shape check
    will say). At most ``settle_timeout`` seconds.
    """
    with trio.move_on_after(run.config.settle_timeout):
        await _wait_ended(run.dying)
        await _flush_supervisors(run.root)


async def _wait_ended(pids: list[Pid]) -> None:
    # Most ended long ago; one still unwinding its exit is not alive but has not ended: wait for it.
    refs = {monitor(pid) for pid in pids if resolve_pid(pid) is not None}
    try:
        while refs:
            down = await receive(lambda message: message.__class__ is Down and message.ref in refs)
            refs.discard(down.ref)
    finally:
        for ref in refs:
            demonitor(ref, flush=True)


async def _flush_supervisors(root: Pid) -> None:
    pending = [root]
    while pending:
        supervisor = pending.pop(0)
        try:
            await Supervisor.count_children(supervisor)
        except CallError:
            continue  # gone: the shape check will say so
        tree = supervisor_tree(supervisor)
        if tree is not None:
            pending.extend(child.supervisor.pid for child in tree.children if child.supervisor is not None)

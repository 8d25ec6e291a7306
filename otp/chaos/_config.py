"""What a chaos run does: its seed, rate, targets, exit reasons, length, probe and node faults.

Plain frozen values, checked when made: a bad option fails at
``ChaosConfig(...)`` with a sentence saying what was expected, never
halfway through a run.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from .._child_spec import ChildType, Restart
from .._kernel import KILL, Pid

if TYPE_CHECKING:
    from ._report import Fault

__all__ = ["ChaosConfig", "Targets", "Target", "NodeFault", "CHILD_TYPES"]

CHILD_TYPES = {"worker": ChildType.WORKER, "supervisor": ChildType.SUPERVISOR}
"""``Targets.kind`` values that select by child type; any other kind is a process kind."""


@attrs.frozen
class Target:
    """One place in the tree the injector may strike: a child of some supervisor, named by its path.

    A target is a *position*, not a process: when the process there is
    killed and restarted, the new one is the same target. That is what
    makes a seed replay: the same tree has the same targets, in the same
    order, whatever their pids are today.

    Attributes:
        path: child ids from the root supervisor down, e.g. ``("db", 3)``
            for child 3 of the root's child ``"db"``. A DynamicSupervisor's
            children have no ids: their index when the run started stands in.
        name: the registered name the process had when the run started, or None.
        type: ``ChildType.WORKER`` or ``ChildType.SUPERVISOR``.
        restart: its restart type (``Restart.PERMANENT``, ...).
        kind: what the process ran when the run started, as
            ``otp.process_info`` says (``"genserver"``, ``"supervisor"``,
            ``"task"``...), or None for a plain process.
        pid: the process there when the run started, None if none ran.
            For ``Targets.where``; not compared (the same target has
            other pids in another run) and not shown.
    """

    path: tuple
    name: str | None
    type: ChildType
    restart: Restart
    kind: str | None
    pid: Pid | None = attrs.field(default=None, eq=False, repr=False)


def _check_kind(instance: object, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and not (isinstance(value, str) and value):
        raise TypeError(
            f"Targets: kind must be 'worker', 'supervisor' or a process kind such as 'genserver'; got {value!r}"
        )


def _check_name(instance: object, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"Targets: name must be a glob pattern such as 'worker:*'; got {value!r}")


@attrs.frozen
class Targets:
    """Which targets the injector picks from; every condition given must hold.

    Args:
        name: a glob (``fnmatch``, case-sensitive) on the registered name:
            ``"cache.*"``. Children without a registered name never match.
        kind: ``"worker"`` or ``"supervisor"`` (the child type), or a process
            kind (``"genserver"``, ``"task"``, ``"channel"``...).
        where: ``where(target) -> bool`` on a :class:`Target`, for anything else
            (``lambda t: t.path[0] == "db"``, ``lambda t: t.restart is Restart.PERMANENT``).

    ``Targets()`` picks at random among every child in the tree, workers
    and supervisors at every depth; the root is never a target.
    """

    name: str | None = attrs.field(default=None, validator=_check_name)
    kind: str | None = attrs.field(default=None, validator=_check_kind)
    where: Callable[[Target], bool] | None = None

    def matches(self, target: Target) -> bool:
        """Whether ``target`` is one to pick from."""
        if self.name is not None and (target.name is None or not fnmatch.fnmatchcase(target.name, self.name)):
            return False
        if self.kind is not None:
            child_type = CHILD_TYPES.get(self.kind)
            if target.type is not child_type if child_type is not None else target.kind != self.kind:
                return False
        return self.where is None or bool(self.where(target))


def _probability(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise ValueError(f"NodeFault: {attribute.name} must be a probability between 0 and 1; got {value!r}")


def _seconds(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if not (isinstance(value, (int, float)) and 0.0 <= value < math.inf):
        raise ValueError(f"NodeFault: {attribute.name} must be a number of seconds, 0 or more; got {value!r}")


@attrs.frozen
class NodeFault:
    """Faults on the link between this node and the node ``node`` of a cluster (``otp.dist``).

    Args:
        node: the other node's name.
        delay: seconds every frame this node sends there is held back
            (latency); order is kept, as on a slow link.
        drop: the probability that a *message* this node sends there (an
            ``otp.send``, a call's reply) is lost. Signals (monitors, links,
            exits) are never dropped alone: on a real network their loss
            comes with a disconnection, which is what ``partition`` is for.
        partition: cut the link both ways: nothing this node sends there
            arrives, nothing from there is taken, heartbeats included. After
            the ``down_after`` of ``otp.dist.start``, each side declares the
            other down (``NodeDown``, ``Down(..., NODEDOWN)``), as in a netsplit;
            when the run ends, heartbeats flow again and ``NodeUp`` follows.
    """

    node: str = attrs.field(validator=attrs.validators.instance_of(str))
    delay: float = attrs.field(default=0.0, validator=_seconds)
    drop: float = attrs.field(default=0.0, validator=_probability)
    partition: bool = False


def _reasons(value: Mapping[object, float] | Iterable[tuple[object, float]]) -> tuple[tuple[object, float], ...]:
    pairs = tuple(value.items()) if isinstance(value, Mapping) else tuple(value)
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"ChaosConfig: reasons must map exit reasons to weights, e.g. {{otp.KILL: 3, otp.SHUTDOWN: 1}}; got {value!r}")
    return pairs


def _check_reasons(instance: object, attribute: attrs.Attribute, pairs: tuple[tuple[object, float], ...]) -> None:
    if not pairs:
        raise ValueError("ChaosConfig: reasons needs at least one exit reason, e.g. {otp.KILL: 1}")
    for reason, weight in pairs:
        if not (isinstance(weight, (int, float)) and 0 < weight < math.inf):
            raise ValueError(f"ChaosConfig: the weight of reason {reason!r} must be a positive number; got {weight!r}")


def _check_config(config: ChaosConfig) -> None:
    problems = []
    if isinstance(config.seed, bool) or not isinstance(config.seed, int):
        problems.append(f"seed must be an int; got {config.seed!r}")
    if not (isinstance(config.rate, (int, float)) and 0 <= config.rate < math.inf):
        problems.append(f"rate must be kills per second, 0 or more; got {config.rate!r}")
    if config.duration is not None and not (isinstance(config.duration, (int, float)) and config.duration > 0):
        problems.append(f"duration must be seconds (more than 0) or None; got {config.duration!r}")
    if config.count is not None and (isinstance(config.count, bool) or not isinstance(config.count, int) or config.count < 0):
        problems.append(f"count must be a number of kills (0 or more) or None; got {config.count!r}")
    if not (isinstance(config.probe_interval, (int, float)) and 0 < config.probe_interval < math.inf):
        problems.append(f"probe_interval must be seconds, more than 0; got {config.probe_interval!r}")
    if not (isinstance(config.settle_timeout, (int, float)) and 0 < config.settle_timeout):
        problems.append(f"settle_timeout must be seconds, more than 0; got {config.settle_timeout!r}")
    if config.spare_restarts is not None and (not isinstance(config.spare_restarts, int) or config.spare_restarts < 0):
        problems.append(f"spare_restarts must be a number of restarts (0 or more) or None; got {config.spare_restarts!r}")
    if config.probe is not None and not callable(config.probe):
        problems.append(f"probe must be an async function of no arguments; got {config.probe!r}")
    if config.on_fault is not None and not callable(config.on_fault):
        problems.append(f"on_fault must be a function of one Fault; got {config.on_fault!r}")
    if not isinstance(config.targets, Targets):
        problems.append(f"targets must be an otp.chaos.Targets; got {config.targets!r}")
    if not all(isinstance(fault, NodeFault) for fault in config.nodes):
        problems.append(f"nodes must be otp.chaos.NodeFault values; got {config.nodes!r}")
    if problems:
        raise ValueError("ChaosConfig: " + "; ".join(problems))


@attrs.frozen
class ChaosConfig:
    """One chaos run, all of it decided by these values (and the tree).

    Args:
        seed: the seed of every random choice: which target, which reason,
            which message is dropped. The same seed against the same tree
            makes the same faults in the same order.
        rate: kills per second, evenly spaced (the first one ``1/rate``
            seconds after the run starts); 0 makes no kill (node faults only).
        targets: which children may be killed (:class:`Targets`; default: any).
        reasons: exit reasons with weights, e.g. ``{otp.KILL: 3,
            otp.SHUTDOWN: 1, "chaos": 1}``. ``KILL`` cannot be trapped;
            ``SHUTDOWN`` is a normal exit for a ``TRANSIENT`` child (not
            restarted); any other reason is a crash to its supervisor. A
            process that traps exits gets the others as an ``ExitSignal``
            message and may live on.
        duration: seconds the faults go on; None: until the ``attach`` block ends.
        count: at most this many kills; None: no limit.
        probe: ``async probe()``, called every ``probe_interval`` seconds from
            a process of its own while the run lasts (a ``GenServer.call``
            to a service of the tree, say); each exception it raises is
            counted as a failed probe call, by its class name.
        probe_interval: seconds between the end of a probe call and the next.
        nodes: :class:`NodeFault` values: delay, drop and partitions between
            this node and others of its cluster.
        spare_restarts: None (default): kill whatever the rate says. A number:
            skip a kill (counted as *spared*) unless the victim's supervisor
            would still have this many restarts left in its intensity window
            afterwards, so chaos never makes a supervisor give up. The
            dashboard's chaos page uses 1, as it runs on a live node.
        settle_timeout: seconds to wait, when the run ends, for the last
            victims to end and their supervisors to restart them before the
            tree is checked.
        on_fault: ``on_fault(fault)``, called with each :class:`Fault` as
            soon as it is made (in the injector process: sync, and quick), to
            log the kills as they happen or to pace a load on them. An
            exception it raises ends the run: the injector crashes, and the
            caller of ``attach`` with it (they are linked).
    """

    seed: int = 0
    rate: float = 10.0
    targets: Targets = Targets()
    reasons: tuple[tuple[object, float], ...] = attrs.field(
        default=((KILL, 1.0),), converter=_reasons, validator=_check_reasons
    )
    duration: float | None = None
    count: int | None = None
    probe: Callable[[], Awaitable[object]] | None = None
    probe_interval: float = 0.1
    nodes: tuple[NodeFault, ...] = attrs.field(default=(), converter=tuple)
    spare_restarts: int | None = None
    settle_timeout: float = 5.0
    on_fault: Callable[[Fault], object] | None = None

    def __attrs_post_init__(self) -> None:
        _check_config(self)

    def due(self, number: int) -> float | None:
        """Seconds after the start when kill ``number`` (1, 2, ...) is due; None if the run makes no such kill.

        >>> config = ChaosConfig(rate=4, duration=1.0)
        >>> [config.due(n) for n in (1, 2, 4, 5)]
        [0.25, 0.5, 1.0, None]
        >>> ChaosConfig(rate=100, count=2).due(3) is None
        True
        """
        if self.rate == 0 or (self.count is not None and number > self.count):
            return None
        at = number / self.rate
        # A hair of tolerance: rate * duration kills fit, float rounding or not.
        if self.duration is not None and at > self.duration * (1 + 1e-9):
            return None
        return at

    @property
    def ends(self) -> bool:
        """Whether the faults stop on their own (a duration or a count), so that ``Chaos.wait`` returns."""
        return self.duration is not None or self.count is not None

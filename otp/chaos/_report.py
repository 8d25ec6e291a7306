"""What a chaos run tells: each fault it made, its counters while it runs, and the report at the end."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ._config import Target

__all__ = ["Fault", "ChaosStatistics", "ChaosReport", "NodeFaultCounts", "KILLED", "MISSED", "SPARED"]

KILLED = "killed"  # the target was running: it got the exit signal
MISSED = "missed"  # nothing ran there at its turn (its restart was not done yet, say)
SPARED = "spared"  # left alone: its supervisor had too few restarts left (ChaosConfig.spare_restarts)


@attrs.frozen
class Fault:
    """One kill of the run's log, in the order they were made.

    Two faults are equal when they are the same kill of the same seed:
    the same ``number``, ``target`` and ``reason``. ``outcome`` and ``at``
    depend on timing (was the target running at that moment?), so they
    take no part in comparisons: two runs of a seed have equal logs.

    Attributes:
        number: 1 for the first kill of the run, 2 for the next...
        target: the :class:`Target` struck.
        reason: the exit reason sent.
        outcome: ``"killed"`` (signal sent), ``"missed"`` (nothing ran there
            then) or ``"spared"`` (``ChaosConfig.spare_restarts``).
        at: seconds after the run started when it was due (``number / rate``).
    """

    number: int
    target: Target
    reason: object
    outcome: str = attrs.field(eq=False)
    at: float = attrs.field(eq=False)


@attrs.frozen
class NodeFaultCounts:
    """What the node faults did on the link to ``node``: frames held back, messages dropped, frames cut."""

    node: str
    delayed: int = 0
    dropped: int = 0
    cut: int = 0  # frames (heartbeats included) a partition stopped, either way


@attrs.frozen
class ChaosStatistics:
    """The counters of a run while it goes (``Chaos.statistics()``): cheap, read as often as you like."""

    elapsed: float
    kills: int
    missed: int
    spared: int
    restarts: int
    probe_calls: int
    probe_failures: int


@attrs.frozen
class ChaosReport:
    """What a run did and what the tree looks like after it (``Chaos.report()``).

    Attributes:
        seed: the run's seed: the same seed replays the same faults.
        elapsed: seconds from the start of the run to its end.
        kills: exit signals sent.
        kills_by_reason: the same, by ``repr`` of the reason (``{"kill": 9, "shutdown": 3}``).
        missed: kills whose target was not running at their turn.
        spared: kills skipped to keep a supervisor within its restart
            intensity (``ChaosConfig.spare_restarts``).
        restarts: children the tree's supervisors restarted during the run
            (their ``("otp", "supervisor", "restart")`` events), whatever the cause.
        probe_calls: calls of the probe that ended, well or not.
        probe_failures: those that raised.
        probe_failures_by_error: the same, by exception class name (``{"NoProc": 2}``).
        intact: the tree has the shape it had when the run started: every
            supervisor running with the same child ids, every permanent
            child running.
        problems: what is wrong with it if not, one sentence each.
        faults: every kill, in order (:class:`Fault`).
        nodes: per node fault, what it did (:class:`NodeFaultCounts`).
    """

    seed: int
    elapsed: float
    kills: int
    kills_by_reason: Mapping[str, int]
    missed: int
    spared: int
    restarts: int
    probe_calls: int
    probe_failures: int
    probe_failures_by_error: Mapping[str, int]
    intact: bool
    problems: tuple[str, ...]
    faults: tuple[Fault, ...] = attrs.field(repr=False)
    nodes: tuple[NodeFaultCounts, ...] = ()

    def summary(self) -> str:
        """One line for a log or a test failure: the seed, what was done, whether the tree is intact.

        >>> ChaosReport(seed=7, elapsed=1.0, kills=3, kills_by_reason={"kill": 3}, missed=1, spared=0,
        ...             restarts=3, probe_calls=10, probe_failures=2, probe_failures_by_error={"NoProc": 2},
        ...             intact=True, problems=(), faults=()).summary()
        'chaos seed 7: 3 kills (kill: 3), 1 missed, 0 spared, 3 restarts, probe 2 of 10 failed; the tree is intact'
        """
        reasons = ", ".join(f"{reason}: {count}" for reason, count in self.kills_by_reason.items())
        state = "the tree is intact" if self.intact else "the tree is NOT intact: " + "; ".join(self.problems)
        return (
            f"chaos seed {self.seed}: {self.kills} kills ({reasons or 'none'}), {self.missed} missed, "
            f"{self.spared} spared, {self.restarts} restarts, probe {self.probe_failures} of {self.probe_calls} failed; {state}"
        )

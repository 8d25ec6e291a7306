"""The seeded choices of a run, as pure functions of the seed: which target, which reason, which frame.

Nothing here looks at processes or clocks, which is what makes a run
replayable: the n-th kill strikes the same target (an index into the run's
target list, which the tree's shape fixes) with the same reason for the
same seed, however fast or slow the machine is.

>>> plan = FaultPlan(seed=7, targets=10, reasons=(("kill", 3.0), ("shutdown", 1.0)))
>>> first = [plan.next() for _ in range(4)]
>>> again = FaultPlan(seed=7, targets=10, reasons=(("kill", 3.0), ("shutdown", 1.0)))
>>> [again.next() for _ in range(4)] == first
True
>>> all(0 <= index < 10 and reason in ("kill", "shutdown") for index, reason in first)
True
"""

from __future__ import annotations

import bisect
import itertools
import random

__all__ = ["FaultPlan", "rng_for"]


def rng_for(seed: int, stream: str) -> random.Random:
    """A generator of its own for one stream of choices (``"kills"``, ``"drops:node2"``...).

    Each stream is seeded from the seed and its name, so that adding a
    probe or a node fault leaves the kills of a seed unchanged. (A ``str``
    seed is hashed with SHA-512 by ``random``: the same on every machine
    and every run, unlike ``hash()``.)

    >>> rng_for(1, "kills").random() == rng_for(1, "kills").random() != rng_for(1, "drops").random()
    True
    """
    return random.Random(f"otp.chaos:{seed}:{stream}")


class FaultPlan:
    """The sequence of (target index, exit reason) of one seed, drawn one kill at a time."""

    __slots__ = ("_rng", "_targets", "_reasons", "_cumulative", "_total")

    def __init__(self, seed: int, targets: int, reasons: tuple[tuple[object, float], ...]) -> None:
        self._rng = rng_for(seed, "kills")
        self._targets = targets
        self._reasons = [reason for reason, _ in reasons]
        self._cumulative = list(itertools.accumulate(weight for _, weight in reasons))
        self._total = self._cumulative[-1]

    def next(self) -> tuple[int, object]:
        """The next kill: ``(index of its target, its exit reason)``.

        One draw for the target, and one for the reason when there is a
        choice: so a plan's victims depend only on the seed, the number of
        targets and the reasons' weights.
        """
        rng = self._rng
        index = rng.randrange(self._targets) if self._targets else -1
        reasons = self._reasons
        if len(reasons) == 1:
            return index, reasons[0]
        point = rng.random() * self._total
        return index, reasons[min(bisect.bisect_right(self._cumulative, point), len(reasons) - 1)]

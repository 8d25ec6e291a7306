"""Restart intensity: how many restarts a supervisor allows before it gives up.

A pure record of restart times. OTP's rule: keep the restarts of the last
``max_seconds`` (inclusive), add this one, and give up if there are now more
than ``max_restarts``. So exactly ``max_restarts`` restarts fit in any
window, and the next one within it gives up:

>>> window = RestartIntensity(max_restarts=2, max_seconds=5.0)
>>> [window.add_restart(now) for now in (0.0, 1.0, 2.0)]
[True, True, False]
>>> window = RestartIntensity(max_restarts=2, max_seconds=5.0)
>>> [window.add_restart(now) for now in (0.0, 1.0, 6.5)]
[True, True, True]
"""

from __future__ import annotations

from collections import deque

__all__ = ["RestartIntensity"]


class RestartIntensity:
    __slots__ = ("max_restarts", "max_seconds", "_times")

    def __init__(self, max_restarts: int, max_seconds: float) -> None:
        self.max_restarts = max_restarts
        self.max_seconds = max_seconds
        self._times: deque[float] = deque()

    def add_restart(self, now: float) -> bool:
        """Record a restart at ``now``; False if that is one too many."""
        times = self._times
        threshold = now - self.max_seconds
        while times and times[0] < threshold:
            times.popleft()
        times.append(now)
        return len(times) <= self.max_restarts

    def __len__(self) -> int:
        return len(self._times)

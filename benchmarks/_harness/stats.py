"""Summaries of many timings: one definition of a percentile for every benchmark.

Nearest rank, not interpolation: the figure reported is a timing that was
really taken, and p100 is the maximum::

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.0
    >>> percentile([1.0, 2.0, 3.0, 4.0], 99)
    4.0
    >>> median_us([0.000001, 0.000003, 0.000002])
    2.0
"""

from __future__ import annotations

import math
import statistics

__all__ = ["percentile", "median_us"]


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of ``ordered`` (sorted, not empty)."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median_us(seconds: list[float]) -> float:
    """The median of ``seconds``, in microseconds."""
    return statistics.median(seconds) * 1e6

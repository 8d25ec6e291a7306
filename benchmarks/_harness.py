"""What every workload shares: the record of a result, and how runs are taken.

A workload module (``w1_spawn.py`` ...) describes itself with a
:class:`Workload`: two functions doing the same work, ``ours`` (otp processes
in a fresh node) and ``raw`` (bare trio tasks and memory channels), each
returning one :class:`Sample`. :func:`measure` runs them alternately, ours,
raw, ours, raw..., and keeps the medians in a :class:`Result`.

Why alternate: the machine drifts (CPU frequency, other load, the allocator's
state); interleaving spreads that drift over both sides instead of charging
it all to whichever ran second.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import platform
import statistics
from typing import Callable

import attrs
import trio

__all__ = ["Sample", "Workload", "Result", "measure", "select", "rss_bytes", "BASELINE"]

BASELINE = "raw trio"


@attrs.frozen
class Sample:
    """What one run of one side measured."""

    figure: float  # in the workload's unit
    rss_per_process: int | None = None  # bytes; W1 only


@attrs.frozen
class Workload:
    """One workload of WORKLOADS.md: both implementations and their sizes.

    ``ours(size, **options)`` and ``raw(size, **options)`` each run the whole
    workload once, in their own fresh ``otp.run`` / ``trio.run``, and time
    only the work itself (not starting the node or the setup).
    """

    id: str  # "w1"
    name: str  # "W1 spawn"
    aliases: tuple[str, ...]  # other names accepted on the command line
    unit: str  # "us/spawn+stop", "casts/s", ...
    rate: bool  # True: higher is better (a per-second figure)
    ours: Callable[..., Sample]
    raw: Callable[..., Sample]
    full_size: int
    quick_size: int
    full_options: dict = attrs.field(factory=dict)
    quick_options: dict = attrs.field(factory=dict)
    size_label: str = "{size:,}"  # formatted with size and options, for the table

    def sizes(self, quick: bool) -> tuple[int, dict]:
        if quick:
            return self.quick_size, self.quick_options
        return self.full_size, self.full_options


@attrs.frozen
class Result:
    """The medians of one workload, ours against the baseline.

    ``ratio`` is ours ÷ raw for times and raw ÷ ours for rates, so that below
    1.0 always means ours did better.
    """

    workload: str
    id: str
    size: int
    figure: float
    unit: str
    baseline: str
    baseline_figure: float
    ratio: float
    rss_per_process: int | None
    baseline_rss_per_process: int | None
    runs: int
    quick: bool
    python: str
    trio: str

    def to_json(self) -> dict:
        return attrs.asdict(self)


def measure(workload: Workload, *, quick: bool = False, runs: int = 5) -> Result:
    """Run both sides ``runs`` times each, alternating, and take the medians."""
    size, options = workload.sizes(quick)
    ours: list[Sample] = []
    raw: list[Sample] = []
    for _ in range(runs):
        for side, samples in ((workload.ours, ours), (workload.raw, raw)):
            _settle()
            samples.append(side(size, **options))
    figure = statistics.median(s.figure for s in ours)
    baseline_figure = statistics.median(s.figure for s in raw)
    ratio = baseline_figure / figure if workload.rate else figure / baseline_figure
    return Result(
        workload=workload.name,
        id=workload.id,
        size=size,
        figure=figure,
        unit=workload.unit,
        baseline=BASELINE,
        baseline_figure=baseline_figure,
        ratio=ratio,
        rss_per_process=_median_rss(ours),
        baseline_rss_per_process=_median_rss(raw),
        runs=runs,
        quick=quick,
        python=platform.python_version(),
        trio=trio.__version__,
    )


def select(workloads: tuple[Workload, ...], names: list[str]) -> list[Workload]:
    """The workloads named (``w1``, ``W1``, ``spawn``...), in table order; all if none.

    Raises:
        ValueError: a name matches no workload (the message lists the choices).
    """
    if not names:
        return list(workloads)
    wanted = set()
    for name in names:
        key = name.strip().lower().replace("_", "-")
        matches = [w for w in workloads if key == w.id or key in w.aliases]
        if not matches:
            choices = ", ".join(f"{w.id} ({w.aliases[0]})" for w in workloads)
            raise ValueError(f"unknown workload {name!r}; choose from: {choices}")
        wanted.add(matches[0].id)
    return [w for w in workloads if w.id in wanted]


def rss_bytes() -> int | None:
    """This OS process's resident set size now, from /proc (None where there is none).

    Not ``resource.getrusage``: its ``ru_maxrss`` is the peak of the whole
    OS process, which after the first run no longer moves.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        pass
    return None


def _median_rss(samples: list[Sample]) -> int | None:
    values = [s.rss_per_process for s in samples if s.rss_per_process is not None]
    return round(statistics.median(values)) if values else None


def _load_malloc_trim():
    # glibc keeps freed memory mapped for reuse; without trimming it, a run
    # after a big one would fill old pages and show almost no RSS growth.
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


_malloc_trim = _load_malloc_trim()


def _settle() -> None:
    """Start each run from the same place: no garbage, no cached free memory."""
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)

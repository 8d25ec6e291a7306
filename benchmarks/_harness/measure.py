"""What every workload shares: the record of a result, and how runs are taken.

A workload module (``kernel/w1_spawn.py`` ...) describes itself with a
:class:`Workload`: two functions doing the same work, ``ours`` (otp processes
in a fresh node) and ``raw`` (bare trio tasks and memory channels), each
returning one :class:`Sample`. :func:`measure` runs them alternately, ours,
raw, ours, raw..., and keeps the medians in a :class:`Result`.

Some workloads have no raw twin (W7 chaos, W8 intensity: what they measure
is the supervision tree itself); their ``raw`` is None and the result's
``baseline``, ``baseline_figure`` and ``ratio`` are None. A workload may also
report fields of its own (``Sample.extra``: W7's seed, W8's exit reason...);
they come from the run whose figure is the median, and ``Result.to_json``
puts them after the common fields.

Why alternate: the machine drifts (CPU frequency, other load, the allocator's
state); interleaving spreads that drift over both sides instead of charging
it all to whichever ran second.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import platform
import statistics
from contextlib import contextmanager
from typing import Callable, Iterator

import attrs
import trio

__all__ = [
    "Sample",
    "Workload",
    "Result",
    "measure",
    "summarise",
    "workload_options",
    "select",
    "rss_bytes",
    "settle",
    "capture_reports",
    "BASELINE",
]

BASELINE = "raw trio"


@attrs.frozen
class Sample:
    """What one run of one side measured."""

    figure: float  # in the workload's unit
    rss_per_process: int | None = None  # bytes; W1 only
    extra: dict = attrs.field(factory=dict)  # the workload's own fields (JSON-able)


@attrs.frozen
class Workload:
    """One workload (docs/benchmarks.md): both implementations and their sizes.

    ``ours(size, **options)`` and ``raw(size, **options)`` each run the whole
    workload once, in their own fresh ``otp.run`` / ``trio.run``, and time
    only the work itself (not starting the node or the setup). ``raw`` is
    None for a workload without a baseline.

    ``deterministic`` names extra fields that must come out the same in
    every run (W7 replays a seed); the result then says in ``replayed``
    whether they did (None after a single run: nothing to compare).
    """

    id: str  # "w1"
    name: str  # "W1 spawn"
    aliases: tuple[str, ...]  # other names accepted on the command line
    unit: str  # "us/spawn+stop", "casts/s", ...
    rate: bool  # True: higher is better (a per-second figure)
    ours: Callable[..., Sample]
    raw: Callable[..., Sample] | None
    full_size: int
    quick_size: int
    full_options: dict = attrs.field(factory=dict)
    quick_options: dict = attrs.field(factory=dict)
    size_label: str = "{size:,}"  # formatted with size and options, for the table
    deterministic: tuple[str, ...] = ()
    # Runs of this workload whatever --runs says (None: as many as asked). The
    # abuse run reports verdicts, not a speed to take a median of, and one run
    # of it starts thirteen servers.
    max_runs: int | None = None

    def sizes(self, quick: bool) -> tuple[int, dict]:
        if quick:
            return self.quick_size, self.quick_options
        return self.full_size, self.full_options


@attrs.frozen
class Result:
    """The medians of one workload, ours against the baseline.

    ``ratio`` is ours ÷ raw for times and raw ÷ ours for rates, so that below
    1.0 always means ours did better. Without a baseline, ``baseline``,
    ``baseline_figure`` and ``ratio`` are None.
    """

    workload: str
    id: str
    size: int
    figure: float
    unit: str
    baseline: str | None
    baseline_figure: float | None
    ratio: float | None
    rss_per_process: int | None
    baseline_rss_per_process: int | None
    runs: int
    quick: bool
    python: str
    trio: str
    extra: dict = attrs.field(factory=dict)  # the workload's own fields

    def to_json(self) -> dict:
        fields = attrs.asdict(self, recurse=False)
        extra = fields.pop("extra")
        return {**fields, **extra}


def measure(workload: Workload, *, quick: bool = False, runs: int = 5, options: dict | None = None) -> Result:
    """Run both sides ``runs`` times each (at most ``workload.max_runs``), alternating, and take the medians.

    ``options`` overrides the workload's options of that size (only those it
    has, e.g. W7's ``seed``); others are ignored.
    """
    size, chosen = workload_options(workload, quick, options)
    ours: list[Sample] = []
    raw: list[Sample] = []
    sides = [(workload.ours, ours)]
    if workload.raw is not None:
        sides.append((workload.raw, raw))
    if workload.max_runs is not None:
        runs = min(runs, workload.max_runs)
    for _ in range(runs):
        for side, samples in sides:
            settle()
            samples.append(side(size, **chosen))
    return summarise(workload, size, ours, raw, quick=quick)


def workload_options(workload: Workload, quick: bool, overrides: dict | None = None) -> tuple[int, dict]:
    """The size and options a run uses: the workload's, with ``overrides`` it knows applied."""
    size, options = workload.sizes(quick)
    options = dict(options)
    for key, value in (overrides or {}).items():
        if key in options and value is not None:
            options[key] = value
    return size, options


def summarise(workload: Workload, size: int, ours: list[Sample], raw: list[Sample], *, quick: bool) -> Result:
    """The :class:`Result` of the samples taken (``raw`` empty: no baseline)."""
    figure = statistics.median(s.figure for s in ours)
    if raw:
        baseline, baseline_figure = BASELINE, statistics.median(s.figure for s in raw)
        ratio = baseline_figure / figure if workload.rate else figure / baseline_figure
    else:
        baseline = baseline_figure = ratio = None
    # The workload's own fields, from the run whose figure is the median.
    middle = sorted(ours, key=lambda s: s.figure)[(len(ours) - 1) // 2]
    extra = dict(middle.extra)
    if workload.deterministic:
        keys = workload.deterministic
        first = [ours[0].extra.get(k) for k in keys]
        extra["replayed"] = None if len(ours) < 2 else all([s.extra.get(k) for k in keys] == first for s in ours)
    return Result(
        workload=workload.name,
        id=workload.id,
        size=size,
        figure=figure,
        unit=workload.unit,
        baseline=baseline,
        baseline_figure=baseline_figure,
        ratio=ratio,
        rss_per_process=_median_rss(ours),
        baseline_rss_per_process=_median_rss(raw),
        runs=len(ours),
        quick=quick,
        python=platform.python_version(),
        trio=trio.__version__,
        extra=extra,
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


def settle() -> None:
    """Start each run from the same place: no garbage, no cached free memory."""
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


class ReportLog(logging.Handler):
    """Counts the records of the ``"otp"`` logger instead of printing them.

    ``events`` lists the ``otp_event`` of each supervisor report
    (``child_terminated``, ``start_error``, ...); ``records`` counts every
    record, crash reports of processes included.
    """

    def __init__(self) -> None:
        super().__init__()
        self.records = 0
        self.events: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        event = getattr(record, "otp_event", None)
        if event is not None:
            self.events.append(event)


@contextmanager
def capture_reports() -> Iterator[ReportLog]:
    """While inside, the ``"otp"`` logger's records are counted, not printed.

    W6 and W7 kill thousands of processes, and each kill logs a supervisor
    report. The records are still made (that cost is part of a restart, as
    it is in OTP); only writing them out is left out, which would time the
    terminal instead.
    """
    logger = logging.getLogger("otp")
    saved = logger.handlers[:], logger.propagate, logger.level
    log = ReportLog()
    logger.handlers = [log]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield log
    finally:
        logger.handlers, logger.propagate, _ = saved
        logger.setLevel(saved[2])

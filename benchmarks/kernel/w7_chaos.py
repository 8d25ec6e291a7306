"""W7 chaos: calls to 1,000 supervised workers while one is killed every millisecond.

The tree: a ``ONE_FOR_ONE`` supervisor of ``workers`` GenServers, child ids
``0..workers-1``, registered as ``"w0"``, ``"w1"``... Each worker keeps a
count. A call ``("add", n)`` adds ``n``, writes the new count into the
*ledger* and replies with it. The ledger is a plain dict owned by the run,
outside every process: it stands for durable storage, and a write to it
before the reply is what "durably applied" means. A worker that (re)starts
reloads its count from the ledger.

The load: ``clients`` client processes call random workers (each client has
its own seeded RNG) with ``GenServer.call(..., timeout=call_timeout)``. A
call that gets its reply is *completed*, and the client adds ``n`` to what
that worker acknowledged; ``NoProc`` (the worker is being restarted),
``ServerExited`` (it was killed while the call was in flight) and
``CallTimeout`` are *failed*. The kills are ``otp.chaos``'s: attached to
the supervisor with the run's seed, it kills a random worker with
``otp.exit(pid, KILL)`` every ``kill_every_ms``, as any user's fault
injection run would.

Deterministic, so a seed replays a run exactly
----------------------------------------------
The node runs on trio's ``MockClock(autojump_threshold=0)``: virtual time
stands still while any task can run, and jumps to the next deadline when
all are blocked. The run is cut into virtual *ticks* of ``kill_every_ms``.
At each tick ``otp.chaos``'s injector wakes, kills one worker (its kills
are due every ``1 / rate`` seconds from the start: the ticks) and, through
its ``on_fault`` hook, sends every client a tick message; each client, on
its tick, makes ``calls_per_tick`` calls and waits for the next one. (A
message, not a ``trio.sleep_until`` in every
client: a sleep costs a cancel scope and a ``Cancelled`` per client per
tick, as much as a call.) Time cannot move on until every call of the tick
and the restart are done, so what happens inside a tick depends only on
the order the scheduler runs tasks in, and that is made a function of the
seed too: trio shuffles each batch of runnable tasks with its private RNG
``trio._core._run._r``, which we seed, and with its private switch
``_ALLOW_DETERMINISTIC_SCHEDULING`` on (the one trio's Hypothesis plugin
uses) it first sorts each batch by task creation order, so that the shuffle
does not depend on the order tasks happened to be woken in (ties between
equal deadlines, for one, are broken by ``id()``). Both are private; if
this trio lacks them the run still works, but ``scheduler_seeded`` is false
and replays may differ.

So the same seed gives the same completed and failed counts, the same
restarts and the same sequence of victims (``victims_hash``). What is not
deterministic is wall time: throughput is completed calls per wall-clock
second (``time.perf_counter``) of the whole loaded run, restarts included.

Virtual time is not wall time: with 50 clients making one call per tick,
each virtual millisecond holds 50 calls and one kill whatever the machine's
speed, and ``wall_seconds`` says how long the 10 virtual seconds took.

At the end, checked and reported:

- ``tree_intact``: the supervisor is alive, ``which_children`` lists
  ``workers`` running children, and every name resolves to its child's pid;
- ``lost_acknowledged``: the sum over workers of acknowledged minus ledger,
  where positive (work a client was told was done but the ledger lacks):
  must be 0;
- ``restarts``: worker starts minus the first ``workers`` (counted in
  ``init``; ``otp.chaos``'s report, which counts the supervisor's restart
  events, must agree);
- ``victims_hash``: the first 16 hex digits of a SHA-256 of the victims
  (``otp.chaos``'s kill log: each victim's index, and whether it was
  running).

``python -m benchmarks chaos`` runs it once with a live progress line, a
summary table, and ``--plot`` (see ``chaos_cli.py``).
"""

from __future__ import annotations

import hashlib
import random
from time import perf_counter
from typing import Callable

import attrs
import trio
import trio.testing

import otp
import otp.chaos
from otp import CallTimeout, GenServer, NoProc, ServerExited, Strategy, Supervisor

from .._harness import Sample, Workload, capture_reports

ADD = "add"
TICK = "tick"
DONE = "done"
TIMELINE_POINTS = 100  # at most this many points in the timeline (the plot)

# Which deterministic fields must replay identically.
DETERMINISTIC = ("completed", "failed", "restarts", "victims_hash")


@attrs.frozen
class ChaosConfig:
    seconds: float = 10.0  # virtual
    kill_every_ms: float = 1.0  # virtual; one tick
    workers: int = 1000
    clients: int = 50
    calls_per_tick: int = 1  # per client
    seed: int = 1
    call_timeout: float = 1.0  # virtual seconds

    @property
    def ticks(self) -> int:
        return max(1, round(self.seconds * 1000 / self.kill_every_ms))

    @property
    def period(self) -> float:
        return self.kill_every_ms / 1000


@attrs.frozen
class TimelinePoint:
    """Totals at one tick: virtual seconds since the start, and the wall clock."""

    virtual: float
    wall: float
    completed: int
    failed: int
    restarts: int


@attrs.frozen
class ChaosRun:
    """Everything one chaos run measured."""

    config: ChaosConfig
    completed: int
    failed: int
    failures: dict  # {"NoProc": n, "ServerExited": n, "CallTimeout": n}
    kills: int
    restarts: int
    wall_seconds: float
    tree_intact: bool
    tree_problems: list  # what was wrong with the tree, if anything
    lost_acknowledged: int
    victims_hash: str
    scheduler_seeded: bool
    reports: int  # supervisor reports logged (one child_terminated per kill)
    timeline: list  # of TimelinePoint, the first at the start

    @property
    def calls_per_second(self) -> float:
        return self.completed / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def failed_percent(self) -> float:
        calls = self.completed + self.failed
        return 100.0 * self.failed / calls if calls else 0.0

    def fields(self) -> dict:
        """The JSON fields of W7, after the common ones."""
        c = self.config
        return {
            "completed": self.completed,
            "failed": self.failed,
            "failed_percent": self.failed_percent,
            "failures": dict(self.failures),
            "kills": self.kills,
            "restarts": self.restarts,
            "tree_intact": self.tree_intact,
            "lost_acknowledged": self.lost_acknowledged,
            "seed": c.seed,
            "victims_hash": self.victims_hash,
            "scheduler_seeded": self.scheduler_seeded,
            "virtual_seconds": c.seconds,
            "kill_every_ms": c.kill_every_ms,
            "workers": c.workers,
            "clients": c.clients,
            "calls_per_tick": c.calls_per_tick,
            "wall_seconds": self.wall_seconds,
            "reports": self.reports,
        }


class _Shared:
    """The run's state outside every process: the ledger and the counters."""

    def __init__(self, config: ChaosConfig) -> None:
        self.ledger: dict[int, int] = {}  # worker id -> durably applied count
        self.starts = 0  # worker inits, first starts included
        self.completed = 0
        self.failed = 0
        self.failures = {"NoProc": 0, "ServerExited": 0, "CallTimeout": 0}
        self.names = [f"w{i}" for i in range(config.workers)]


# ------------------------------------------------------------------ the tree


class Worker(GenServer):
    """A counter whose every change is written to the ledger before the reply."""

    async def init(self, arg: tuple) -> None:
        self.id, self.shared = arg
        self.shared.starts += 1
        self.count = self.shared.ledger.get(self.id, 0)

    async def handle_call(self, request: tuple, caller: object) -> int:
        operation, n = request
        if operation is ADD:
            self.count += n
            self.shared.ledger[self.id] = self.count  # durable before the reply
        return self.count


# ------------------------------------------------------------------ the load


async def _client(index: int, config: ChaosConfig, shared: _Shared, main: otp.Pid) -> None:
    rng = random.Random(f"{config.seed}:client:{index}")
    names = shared.names
    workers = config.workers
    acknowledged = [0] * workers
    failures = shared.failures
    timeout = config.call_timeout
    call = GenServer.call
    for _ in range(config.ticks):
        await otp.receive()  # TICK: nothing else is ever sent to a client
        for _ in range(config.calls_per_tick):
            worker = rng.randrange(workers)
            n = rng.randint(1, 9)
            try:
                await call(names[worker], (ADD, n), timeout=timeout)
            except (NoProc, ServerExited, CallTimeout) as error:
                shared.failed += 1
                failures[error.__class__.__name__] += 1
            else:
                acknowledged[worker] += n
                shared.completed += 1
    otp.send(main, (DONE, index, acknowledged))


class _Ticks:
    """The ticks of the run, made at otp.chaos's kills (its ``on_fault``): wake every client, keep the timeline.

    A tick is the instant of a kill, so the injector makes both: one process
    waking once per tick, as a chaos process of W7's own would.
    """

    def __init__(self, config: ChaosConfig, shared: _Shared, on_tick: Callable | None) -> None:
        self.config = config
        self.shared = shared
        self.on_tick = on_tick
        self.every = max(1, config.ticks // TIMELINE_POINTS)
        self.clients: list = []  # filled in once they are spawned, before the first tick
        self.timeline: list = []

    def __call__(self, fault: otp.chaos.Fault) -> None:
        tick = fault.number - 1
        virtual = tick * self.config.period
        shared = self.shared
        if tick % self.every == 0:
            self.timeline.append(_point(virtual, shared))
        if self.on_tick is not None:
            self.on_tick(virtual, shared.completed, shared.failed, shared.starts - self.config.workers)
        for client in self.clients:
            otp.send(client, TICK)


def _chaos_config(config: ChaosConfig, ticks: _Ticks) -> otp.chaos.ChaosConfig:
    """One kill per tick, the first one period after the run starts, of any worker; each kill makes its tick."""
    return otp.chaos.ChaosConfig(
        seed=config.seed,
        rate=1000 / config.kill_every_ms,
        count=config.ticks,
        targets=otp.chaos.Targets(kind="worker"),
        on_fault=ticks,
    )


def _victims_hash(report: otp.chaos.ChaosReport) -> str:
    """The kill log as 16 hex digits: each victim's index, and whether it was running (a miss is part of it too)."""
    victims = hashlib.sha256()
    for fault in report.faults:
        [index] = fault.target.path
        victims.update(index.to_bytes(4, "little") + (b"k" if fault.outcome == "killed" else b"m"))
    return victims.hexdigest()[:16]


def _point(virtual: float, shared: _Shared) -> TimelinePoint:
    return TimelinePoint(
        virtual=virtual,
        wall=perf_counter(),
        completed=shared.completed,
        failed=shared.failed,
        restarts=shared.starts - len(shared.names),
    )


async def _check_tree(supervisor: otp.Pid, config: ChaosConfig) -> list[str]:
    """What is wrong with the tree now (an empty list: it is intact)."""
    if not otp.is_alive(supervisor):
        return ["the supervisor is not alive"]
    problems = []
    children = await Supervisor.which_children(supervisor)
    if len(children) != config.workers:
        problems.append(f"{len(children)} children, not {config.workers}")
    for child in children:
        if child.pid.__class__ is not otp.Pid or not otp.is_alive(child.pid):
            problems.append(f"child {child.id!r} is not running ({child.pid!r})")
        elif otp.whereis(f"w{child.id}") != child.pid:
            problems.append(f"'w{child.id}' does not resolve to child {child.id!r}")
    return problems


async def _main(config: ChaosConfig, shared: _Shared, on_tick: Callable | None) -> tuple:
    me = otp.current_pid()
    supervisor = await Supervisor.start_link(
        [Worker.child_spec((i, shared), id=i, name=shared.names[i]) for i in range(config.workers)],
        strategy=Strategy.ONE_FOR_ONE,
        # Far more than the kill rate: the supervisor must never give up here.
        max_restarts=10**6,
        max_seconds=1.0,
    )
    ticks = _Ticks(config, shared, on_tick)
    async with otp.chaos.attach(supervisor, _chaos_config(config, ticks)) as chaos:
        wall_start = perf_counter()
        monitors = {}
        for index in range(config.clients):
            pid, ref = otp.spawn_monitor(_client, index, config, shared, me)
            monitors[ref] = index
            ticks.clients.append(pid)
        acknowledged = [0] * config.workers
        for _ in range(config.clients):
            _, _, result = await otp.receive(lambda m: m.__class__ is tuple and m[0] is DONE)
            for worker, n in enumerate(result):
                acknowledged[worker] += n
        wall = perf_counter() - wall_start
        await chaos.wait()  # the last kill made the last tick: done already
    # Every load process ended normally (a crash would have left us waiting).
    for ref in monitors:
        down = await otp.receive(lambda m, ref=ref: m.__class__ is otp.Down and m.ref is ref)
        if down.reason is not otp.NORMAL:
            raise RuntimeError(f"chaos load process {monitors[ref]!r} ended with {down.reason!r}")
    report = chaos.report()
    timeline = ticks.timeline
    timeline.append(_point(config.ticks * config.period, shared))
    problems = list(report.problems) + await _check_tree(supervisor, config)
    if report.restarts != shared.starts - config.workers:
        problems.append(f"otp.chaos counted {report.restarts} restarts, the workers {shared.starts - config.workers}")
    ledger = shared.ledger
    lost = sum(max(0, acked - ledger.get(worker, 0)) for worker, acked in enumerate(acknowledged))
    await Supervisor.stop(supervisor)
    return report.kills, _victims_hash(report), timeline, wall, problems, lost


def run_chaos(config: ChaosConfig, on_tick: Callable | None = None) -> ChaosRun:
    """One chaos run. ``on_tick(virtual_seconds, completed, failed, restarts)`` is called every tick."""
    shared = _Shared(config)
    with capture_reports() as reports, _seeded_scheduler(config.seed) as seeded:
        clock = trio.testing.MockClock(autojump_threshold=0)
        kills, victims_hash, timeline, wall, problems, lost = otp.run(_main, config, shared, on_tick, clock=clock)
    return ChaosRun(
        config=config,
        completed=shared.completed,
        failed=shared.failed,
        failures=dict(shared.failures),
        kills=kills,
        restarts=shared.starts - config.workers,
        wall_seconds=wall,
        tree_intact=not problems,
        tree_problems=problems,
        lost_acknowledged=lost,
        victims_hash=victims_hash,
        scheduler_seeded=seeded,
        reports=len(reports.events),
        timeline=timeline,
    )


class _seeded_scheduler:
    """Seed trio's scheduler shuffle, and make it independent of wake-up order.

    Both knobs are private to trio (``trio._core._run``); without them the
    context manager does nothing and yields False.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.module = None

    def __enter__(self) -> bool:
        try:
            from trio._core import _run as module
        except ImportError:
            return False
        rng = getattr(module, "_r", None)
        if not isinstance(rng, random.Random) or not hasattr(module, "_ALLOW_DETERMINISTIC_SCHEDULING"):
            return False
        self.module = module
        self.saved = rng.getstate(), module._ALLOW_DETERMINISTIC_SCHEDULING
        rng.seed(self.seed)
        module._ALLOW_DETERMINISTIC_SCHEDULING = True
        return True

    def __exit__(self, *exc_info: object) -> None:
        if self.module is not None:
            state, allow = self.saved
            self.module._r.setstate(state)
            self.module._ALLOW_DETERMINISTIC_SCHEDULING = allow


# ------------------------------------------------------------------ the workload


def config_from(size: int, **options: object) -> ChaosConfig:
    """The run's config from the workload's options (``size`` is the number of ticks)."""
    return ChaosConfig(**options)


def ours(size: int, **options: object) -> Sample:
    run = run_chaos(config_from(size, **options))
    return Sample(figure=run.calls_per_second, extra=run.fields())


_FULL = {"seconds": 10.0, "kill_every_ms": 1.0, "workers": 1000, "clients": 50, "calls_per_tick": 1, "seed": 1}
_QUICK = {"seconds": 0.1, "kill_every_ms": 1.0, "workers": 200, "clients": 10, "calls_per_tick": 1, "seed": 1}

WORKLOAD = Workload(
    id="w7",
    name="W7 chaos",
    aliases=("chaos",),
    unit="calls/s",
    rate=True,
    ours=ours,
    raw=None,
    full_size=ChaosConfig(**_FULL).ticks,
    quick_size=ChaosConfig(**_QUICK).ticks,
    full_options=_FULL,
    quick_options=_QUICK,
    size_label="{seconds:g} s x {workers:,}",
    deterministic=DETERMINISTIC,
)

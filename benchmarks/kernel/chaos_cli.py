"""``python -m benchmarks chaos``: one W7 chaos run, watched live.

::

    python -m benchmarks chaos                       # 10 s, 1 kill/ms, a random seed
    python -m benchmarks chaos --seed 7              # replay seed 7 exactly
    python -m benchmarks chaos --seconds 2 --kill-every 0.5 --workers 200 --clients 20
    python -m benchmarks chaos --quick --plot chaos.png
    python -m benchmarks chaos --json                # one JSON line, as `python -m benchmarks w7 --json`
    python -m benchmarks chaos --lines               # JSON lines: progress every second, then the result

It prints the seed first (on stderr, with the command that replays it),
shows a live progress line while the run goes (``rich``, on stderr, redrawn
from the wall clock), then a summary table against the targets, or with
``--json`` one JSON line of the same shape as the other workloads' (runs 1).
``--plot out.png`` draws, over virtual time, the calls completed per
wall-clock second and the restarts and failed calls per virtual second, so
that one can see the tree absorb the faults (matplotlib, Agg backend).

The kills are ``otp.chaos``'s (``w7_chaos.py`` attaches it to the
workers' supervisor): to run the same faults against a tree of your own,
use ``otp.chaos.attach`` with the seed this command prints.

``rich`` and ``matplotlib`` are the ``bench`` extra
(``pip install 'trio-otp[bench]'``); only this command needs them.
"""

from __future__ import annotations

import argparse
import json
import random
from time import perf_counter

from .._harness import Sample, settle, summarise, workload_options
from .w7_chaos import WORKLOAD, ChaosConfig, ChaosRun, run_chaos

# The targets of the chaos run (reported against, never asserted).
TARGET_CALLS_PER_SECOND = 20_000
TARGET_FAILED_PERCENT = 0.5

_REDRAW_EVERY = 0.1  # wall seconds between progress updates


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.lines:
        return _run_with_lines(_config(parser, args), _replay_arguments(args, _config(parser, args)))
    try:
        from rich.console import Console
    except ImportError:
        parser.error("the chaos command needs rich and matplotlib: pip install 'trio-otp[bench]'")
    config = _config(parser, args)
    log = Console(stderr=True)
    log.print(
        f"[bold]W7 chaos[/bold]: seed [bold]{config.seed}[/bold] "
        f"(replay: python -m benchmarks chaos {_replay_arguments(args, config)})",
        highlight=False,
        soft_wrap=True,
    )
    settle()
    run = _run_with_progress(config, log)
    result = summarise(
        WORKLOAD, config.ticks, [Sample(figure=run.calls_per_second, extra=run.fields())], [], quick=args.quick
    )
    if args.plot:
        plot(run, args.plot)
        log.print(f"plot written to {args.plot}", highlight=False)
    if args.json:
        print(json.dumps(result.to_json()), flush=True)
    else:
        Console().print(summary_table(run))
    return 0


def _parser() -> argparse.ArgumentParser:
    full = WORKLOAD.full_options
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks chaos",
        description="W7 chaos: GenServer calls to supervised workers while one is killed every "
        "--kill-every virtual ms. Deterministic: a seed replays the same run.",
    )
    parser.add_argument("--seconds", type=float, help=f"virtual seconds of load (default {full['seconds']:g})")
    parser.add_argument(
        "--kill-every", type=float, metavar="MS", help=f"virtual ms between kills: one tick (default {full['kill_every_ms']:g})"
    )
    parser.add_argument("--seed", type=int, help="the seed (default: a random one, printed)")
    parser.add_argument("--workers", type=int, help=f"supervised workers (default {full['workers']:,})")
    parser.add_argument("--clients", type=int, help=f"client processes (default {full['clients']})")
    parser.add_argument(
        "--calls-per-tick", type=int, metavar="K", help=f"calls each client makes per tick (default {full['calls_per_tick']})"
    )
    parser.add_argument("--plot", metavar="PNG", help="draw calls/s and restarts over time into this file")
    parser.add_argument("--json", action="store_true", help="one JSON line instead of the table")
    parser.add_argument(
        "--lines", action="store_true",
        help="for programs: a JSON line of progress every wall second, then one with the result; needs no rich",
    )
    parser.add_argument(
        "--quick", action="store_true", help="W7's quick sizes (options given explicitly still win)"
    )
    return parser


def _config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> ChaosConfig:
    _, options = workload_options(WORKLOAD, args.quick)
    given = {
        "seconds": args.seconds,
        "kill_every_ms": args.kill_every,
        "workers": args.workers,
        "clients": args.clients,
        "calls_per_tick": args.calls_per_tick,
    }
    options.update({key: value for key, value in given.items() if value is not None})
    options["seed"] = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    if not options["seconds"] > 0 or not options["kill_every_ms"] > 0:
        parser.error("--seconds and --kill-every must be positive")
    if options["workers"] < 1 or options["clients"] < 0 or options["calls_per_tick"] < 0:
        parser.error("--workers must be at least 1, --clients and --calls-per-tick at least 0")
    return ChaosConfig(**options)


def _replay_arguments(args: argparse.Namespace, config: ChaosConfig) -> str:
    words = ["--quick"] if args.quick else []
    words += [
        f"--seconds {config.seconds:g}",
        f"--kill-every {config.kill_every_ms:g}",
        f"--workers {config.workers}",
        f"--clients {config.clients}",
        f"--calls-per-tick {config.calls_per_tick}",
        f"--seed {config.seed}",
    ]
    return " ".join(words)


_LINE_EVERY = 1.0  # wall seconds between progress lines


def _run_with_lines(config: ChaosConfig, replay: str) -> int:
    """``--lines``: progress as JSON lines (calls/s over the last second, restarts), then the result."""
    print(json.dumps({"seed": config.seed, "replay": f"python -m benchmarks chaos {replay}"}), flush=True)
    last = {"wall": None, "completed": 0, "restarts": 0}

    def on_tick(virtual: float, completed: int, failed: int, restarts: int) -> None:
        now = perf_counter()
        if last["wall"] is None:
            last["wall"] = now
            return
        elapsed = now - last["wall"]
        if elapsed < _LINE_EVERY:
            return
        line = {
            "virtual": round(virtual, 3),
            "completed": completed,
            "failed": failed,
            "restarts": restarts,
            "calls_per_second": round((completed - last["completed"]) / elapsed, 1),
            "restarts_per_second": round((restarts - last["restarts"]) / elapsed, 1),
        }
        last.update(wall=now, completed=completed, restarts=restarts)
        print(json.dumps(line), flush=True)

    run = run_chaos(config, on_tick)
    print(json.dumps({"done": True, **run.fields()}), flush=True)
    return 0


def _run_with_progress(config: ChaosConfig, console) -> ChaosRun:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        BarColumn(bar_width=20),
        TextColumn("{task.completed:6.2f}/{task.total:g} virtual s"),
        TextColumn("{task.fields[rate]:>9,.0f} calls/s"),
        TextColumn("{task.fields[failed]:5.2f}% failed"),
        TextColumn("{task.fields[restarts]:>7,} restarts"),
        TimeElapsedColumn(),
        console=console,
        refresh_per_second=10,
    )
    with progress:
        task = progress.add_task("chaos", total=config.seconds, rate=0.0, failed=0.0, restarts=0)
        clock = {"start": None, "drawn": 0.0}

        def on_tick(virtual: float, completed: int, failed: int, restarts: int) -> None:
            # Called every virtual tick from inside the run; redraws by the wall clock.
            now = perf_counter()
            if clock["start"] is None:
                clock["start"] = now
            if now - clock["drawn"] < _REDRAW_EVERY:
                return
            clock["drawn"] = now
            elapsed = now - clock["start"]
            calls = completed + failed
            progress.update(
                task,
                completed=virtual,
                rate=completed / elapsed if elapsed > 0 else 0.0,
                failed=100.0 * failed / calls if calls else 0.0,
                restarts=restarts,
            )

        run = run_chaos(config, on_tick)
        progress.update(
            task,
            completed=config.seconds,
            rate=run.calls_per_second,
            failed=run.failed_percent,
            restarts=run.restarts,
        )
    return run


def summary_table(run: ChaosRun):
    """The run against its targets, as a ``rich.table.Table``."""
    from rich.table import Table

    c = run.config
    table = Table(
        title=(
            f"W7 chaos, seed {c.seed}: {c.seconds:g} virtual s, a kill every {c.kill_every_ms:g} ms\n"
            f"{c.workers:,} workers, {c.clients} clients x {c.calls_per_tick} call/tick"
        ),
        title_justify="left",
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_column("", justify="center")

    def verdict(ok: bool) -> str:
        return "[green]ok[/green]" if ok else "[red]missed[/red]"

    table.add_row(
        "calls/s (wall clock)", f"{run.calls_per_second:,.0f}", f"≥ {TARGET_CALLS_PER_SECOND:,}",
        verdict(run.calls_per_second >= TARGET_CALLS_PER_SECOND),
    )
    table.add_row(
        "failed calls", f"{run.failed_percent:.3f}%", f"≤ {TARGET_FAILED_PERCENT}%",
        verdict(run.failed_percent <= TARGET_FAILED_PERCENT),
    )
    table.add_row("lost acknowledged work", f"{run.lost_acknowledged:,}", "0", verdict(run.lost_acknowledged == 0))
    table.add_row("tree intact", "yes" if run.tree_intact else "no", "yes", verdict(run.tree_intact))
    for problem in run.tree_problems[:5]:
        table.add_row("", problem, "", "")
    table.add_row("calls completed", f"{run.completed:,}", "", "")
    table.add_row("calls failed", f"{run.failed:,}", "", "")
    for kind, count in run.failures.items():
        table.add_row(f"  {kind}", f"{count:,}", "", "")
    table.add_row("kills", f"{run.kills:,}", "", "")
    table.add_row("restarts", f"{run.restarts:,}", "", "")
    table.add_row("supervisor reports logged", f"{run.reports:,}", "", "")
    table.add_row("wall time of the load", f"{run.wall_seconds:.2f} s", "", "")
    table.add_row("seed", str(c.seed), "", "")
    table.add_row("victims hash", run.victims_hash, "", "")
    table.add_row("scheduler seeded", "yes: replayable" if run.scheduler_seeded else "no", "", "")
    return table


def plot(run: ChaosRun, path: str) -> None:
    """Calls/s and restarts per virtual second over the run, two panels, into a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points = run.timeline
    times, rates, restarts, failed = [], [], [], []
    for before, after in zip(points, points[1:], strict=False):
        virtual = after.virtual - before.virtual
        wall = after.wall - before.wall
        if virtual <= 0:
            continue
        times.append(before.virtual)
        rates.append((after.completed - before.completed) / wall if wall > 0 else 0.0)
        restarts.append((after.restarts - before.restarts) / virtual)
        failed.append((after.failed - before.failed) / virtual)
    if times:  # close the last step at the end of the run
        times.append(points[-1].virtual)
        rates.append(rates[-1])
        restarts.append(restarts[-1])
        failed.append(failed[-1])

    c = run.config
    figure = Figure(figsize=(10, 6.5), layout="constrained")
    FigureCanvasAgg(figure)
    calls_axes, faults_axes = figure.subplots(2, 1, sharex=True)
    calls_axes.step(times, rates, where="post", color="tab:blue", label="calls completed / wall s")
    calls_axes.axhline(TARGET_CALLS_PER_SECOND, color="tab:blue", linestyle=":", linewidth=1, label="target")
    calls_axes.set_ylabel("calls / s (wall clock)")
    calls_axes.set_ylim(bottom=0)
    calls_axes.legend(loc="lower right")
    calls_axes.grid(alpha=0.3)
    faults_axes.step(times, restarts, where="post", color="tab:red", label="restarts / virtual s")
    faults_axes.step(times, failed, where="post", color="tab:orange", label="failed calls / virtual s")
    faults_axes.set_ylabel("per virtual second")
    faults_axes.set_xlabel("virtual time (s)")
    faults_axes.set_ylim(bottom=0)
    faults_axes.legend(loc="center right")
    faults_axes.grid(alpha=0.3)
    figure.suptitle(
        f"W7 chaos, seed {c.seed}: {c.workers:,} workers, {c.clients} clients, one kill every "
        f"{c.kill_every_ms:g} ms. {run.calls_per_second:,.0f} calls/s, {run.failed_percent:.2f}% failed, "
        f"{run.restarts:,} restarts, tree {'intact' if run.tree_intact else 'BROKEN'}, "
        f"lost acknowledged {run.lost_acknowledged}",
        fontsize=10,
    )
    figure.savefig(path, format="png", dpi=100)

"""``abuse``: hostile clients against the demo chat server, one fresh server per attack (issue #12).

::

    python -m benchmarks abuse --quick --runs 1          # about half a minute
    python -m benchmarks abuse --runs 1 --json           # full sizes: a few minutes

Each attack runs against a **fresh** demo server in an OS process of its
own, the tree users run (``python -m web.demo chat``: ``chat_children`` of
``web/demo/app.py``, nothing lifted or tuned for the benchmark, with the
descriptor limit of the shell that started the benchmark), while the
watchers of ``abuse_watch.py`` check that everybody else is still served.
The attacks, in the order they run (``abuse_attacks.py``; sizes at
``--quick`` / full):

======================  ===============================================================  =======================
attack                  what the attacker does                                           sizes
======================  ===============================================================  =======================
ping-flood              WebSocket pings (125 B), never reading a pong                    2 × 50k / 4 × 250k
chunked-body            ``POST /`` with a chunked body of N one-byte chunks              4 × 100k / 8 × 1.1M
fragments               a text frame with FIN=0, then continuations, never the last      20 × 10k / 100 × 20k
ws-churn                connect, join, close (or reset), over and over                   300 / 3,000 cycles
slow-consumers          join ``room:lobby``, never read, while broadcasters flood it     5 / 50 consumers
slowloris               request heads trickled one byte a second                         200 × 2 s / 1,000 × 20 s
slowloris-fds           the same, past the server's RLIMIT_NOFILE (lowered to 128/256)   300 / 1,000 conns
message-flood           heartbeats and room pings in one burst, replies read             20k / 500k messages
message-flood-unread    the same burst, replies never read                               20k / 500k messages
join-brute-force        ``room:secret`` joins with wrong passwords from 8 sockets        1 s / 10 s
http-abuse              CL+TE smuggling, malformed and oversize heads, bad upgrades      1 / 10 rounds
                        (HTTP/1.0, bad key, version 8, foreign origin), resets in the
                        middle of a response
hostile-frames          deep nesting, lone surrogates, invalid UTF-8, wrong types in     1 / 5 rounds
                        chat frames and LiveView joins and events, random bytes,
                        reserved opcodes, unmasked frames
dashboard-kill          the demo's dashboard (no auth) kills the root process and the    2 pids
                        top supervisor with its kill button
======================  ===============================================================  =======================

What is measured, per attack
----------------------------
Before the attack: the server is warmed up (one fresh visit), three
*existing clients* join ``room:lobby``, and its RSS is read. During it:
fresh visitors keep arriving (``GET /``, then a WebSocket, a join and a
heartbeat), the existing clients keep going round (one shouts, all must
hear it and get a heartbeat reply), and the RSS is sampled every 20 ms.
An attack holds its pressure until the watchers have been served (or
failed) twice under it, then closes or resets everything it opened. After
it: one more visitor (more, until one is answered, if the server is still
busy), one more round, :data:`SETTLE` seconds for the server to let go, the
RSS read again, the server's stderr counted.

The fields of each attack (under ``attacks`` in the result, by name):

=====================  =============================================================
field                  meaning
=====================  =============================================================
what                   the attack in a line
passed                 every target below met
failed_targets         the names of those not met
alive                  the process still runs and answers (``answered_after_s``)
fresh_during_ms        the slowest visitor during the attack (ms)
fresh_during_probes    visitors during the attack, and ``fresh_during_unserved``:
                       those not served within 1 s
fresh_after_ms         the first visitor after it (ms; None if not answered within 2 s)
answered_after_s       how long after the attack a visitor was answered at all
                       (None: not within :data:`ALIVE_LIMIT`, 30 s, or the
                       process exited)
busy_after_s           how long the server kept working (using CPU) after the attack
                       ended, through what it had been sent; its memory is read after
existing_rounds        rounds of the existing clients (during and after), and
                       ``existing_failed``: those not completed within 1 s
existing_failure       why the first failed round failed (None: none did)
rss_before, rss_peak,  the server's resident set (bytes) before, at its highest,
rss_after              and :data:`SETTLE` seconds after it was done (``busy_after_s``)
log_lines              non-blank lines the server wrote to stderr
crash_reports          of them, crash reports (``Process <...> crashed``) and
                       tracebacks that escaped every process
first_log_line         the first of those lines (None when quiet)
detail                 the attack's own findings (counts, answers by case) and
                       ``unexpected``: what the server did that it should not have
error                  the load generator's own failure, if any (None)
=====================  =============================================================

Targets (reported per attack, never failing the run): ``alive``;
``fresh_during`` and ``fresh_after`` (every visitor served within
:data:`~benchmarks.web.abuse_watch.FRESH_BOUND`); ``existing`` (every
round within :data:`~benchmarks.web.abuse_watch.ROUND_BOUND`);
``rss_growth`` (peak − before ≤ :data:`MAX_RSS_GROWTH`, 64 MiB);
``rss_returned`` (after − before ≤ :data:`MAX_RSS_LEFT` of the growth, or
≤ :data:`RSS_NOISE` when the growth is that small: the allocator keeps a
few pages whatever happens); ``no_crash`` (zero crash reports);
``log_lines`` (≤ :data:`MAX_LOG_LINES`: an attacker must not be able to
fill the disk with warnings); ``expected`` (the attack's ``unexpected`` is
empty).

The result
----------
One :class:`~benchmarks._harness.Result`: ``size`` is the number of
attacks, the figure how many met every target (no baseline: what is
measured is the server's defence, not a speed). Its own fields:
``attacks`` (the table above, by attack), ``failed_attacks`` (names) and
``targets`` (the bounds used). While it runs, one line per attack goes to
stderr, so that a run of several minutes shows where it is.

Every run repeats all the attacks; ``--runs 1`` is what one wants here
(the harness's default of 5 takes five times as long, and keeps the
fields of the median run).
"""

from __future__ import annotations

import sys
from time import perf_counter

import trio

from .._harness import Sample, Workload
from .._harness.servers import Server, raise_fd_limit
from .abuse_attacks import ATTACKS, Arena, Attack
from .abuse_watch import (
    FRESH_BOUND,
    ROUND_BOUND,
    WATCH_GAP,
    Coverage,
    ExistingClients,
    FreshClients,
    MemoryWatch,
    Probe,
    count_log,
    demo_server,
    until_idle,
)

__all__ = ["WORKLOAD", "run_attack", "MAX_RSS_GROWTH", "MAX_RSS_LEFT", "RSS_NOISE", "MAX_LOG_LINES"]

MAX_RSS_GROWTH = 64 << 20  # bytes an attack may add to the server's RSS at its peak
MAX_RSS_LEFT = 0.10  # of that growth, the part it may leave behind once over
RSS_NOISE = 4 << 20  # bytes left behind that count as returned whatever the growth was (allocator slack)
MAX_LOG_LINES = 10  # stderr lines one attack may cause
EXISTING = 3  # existing clients in room:lobby
HOLD_ROUNDS = 2  # visitors and rounds an attack waits for under its pressure
HOLD_LIMIT = 15.0  # seconds it waits for them at most
# Seconds after the server is done with an attack (busy_after_s) before its RSS
# is read, --quick / full: in full, past the endpoint's MemoryReclaimer.DELAY.
SETTLE = {True: 0.3, False: 2.0}
ATTACK_LIMIT = 600.0  # seconds one attack may take in all before it is cut short (and counted as an error)
ALIVE_LIMIT = 30.0  # seconds after an attack within which a visitor must be answered at all for the server to be alive

TARGETS = {
    "fresh_bound_s": FRESH_BOUND,
    "round_bound_s": ROUND_BOUND,
    "max_rss_growth": MAX_RSS_GROWTH,
    "max_rss_left_fraction": MAX_RSS_LEFT,
    "rss_noise": RSS_NOISE,
    "max_log_lines": MAX_LOG_LINES,
}


# ---------------------------------------------------------------- the workload


def run_abuse(size: int, quick: bool) -> Sample:
    """Every attack (the first ``size`` of them) against its own fresh server; the figure: how many passed."""
    raise_fd_limit()  # the load generator holds up to a thousand sockets at once
    attacks = {}
    for attack in ATTACKS[:size]:
        report = run_attack(attack, quick)
        attacks[attack.name] = report
        print(_progress_line(attack.name, report), file=sys.stderr, flush=True)
    failed = [name for name, report in attacks.items() if not report["passed"]]
    return Sample(
        figure=float(len(attacks) - len(failed)),
        extra={"attacks": attacks, "failed_attacks": failed, "targets": TARGETS},
    )


def run_attack(attack: Attack, quick: bool) -> dict:
    """One attack against a fresh demo server: what the watchers saw, the RSS, the log, the verdicts."""
    sizes = attack.sizes(quick)
    start = perf_counter()
    with demo_server(fd_limit=sizes.get("fd_limit")) as server:
        try:
            seen = trio.run(_watch_attack, server, attack, sizes, SETTLE[quick])
        except Exception as error:  # the watchers could not even start: the server is broken from the outset
            seen = _unwatched(f"{type(error).__name__}: {error}"[:300])
        running = server.process.poll() is None
        log = server.log_text()
    lines, crashes = count_log(log)
    first_line = next((line for line in log.splitlines() if line.strip()), None)
    detail, error = seen.pop("detail"), seen.pop("error")
    report = {
        "what": attack.what,
        "passed": False,
        "failed_targets": [],
        "alive": running and seen["answered_after_s"] is not None,
        **seen,
        "log_lines": lines,
        "crash_reports": crashes,
        "first_log_line": None if first_line is None else first_line[:200],
        "wall_s": round(perf_counter() - start, 2),
        "detail": detail,  # the long ones last
        "error": error,
    }
    report["failed_targets"] = [name for name, met in _targets(report).items() if not met]
    report["passed"] = not report["failed_targets"]
    return report


async def _watch_attack(server: Server, attack: Attack, sizes: dict, settle: float) -> dict:
    """The attack with its watchers around it (see the module docstring); the fields they measured."""
    coverage = Coverage()
    fresh = FreshClients(server.port, coverage)
    memory = MemoryWatch(server.pid)
    await fresh.next()  # the first visit loads what a first visit loads: not the attack's doing
    existing = await ExistingClients.open(server.port, EXISTING, coverage)
    await existing.round()
    before = memory.sample()
    memory.peak = before or 0
    try:
        async with trio.open_nursery() as sampler:
            sampler.start_soon(memory.run)
            detail, error = await _attack_watched(attack, sizes, server.port, coverage, fresh, existing)
            during_probes, during_rounds = list(fresh.probes), list(existing.rounds)
            after, answered_after_s = await _first_answer(fresh, server)
            rounds = during_rounds + [await existing.round()]
            busy_after_s = await until_idle(server.pid)
            await trio.sleep(settle)  # a benchmark's pause, not a test's wait: the server lets go in its own time
            sampler.cancel_scope.cancel()
    finally:
        await existing.aclose()
    unserved = [p for p in during_probes if not p.ok]
    failed_rounds = [r for r in rounds if not r.ok]
    return {
        "fresh_during_ms": _ms(max((p.ms for p in during_probes), default=None)),
        "fresh_during_probes": len(during_probes),
        "fresh_during_unserved": len(unserved),
        "fresh_during_failure": unserved[0].failure if unserved else None,
        "fresh_after_ms": _ms(after.ms) if after.failure is None else None,
        "answered_after_s": None if answered_after_s is None else round(answered_after_s, 2),
        "busy_after_s": round(busy_after_s, 2),
        "existing_rounds": len(rounds),
        "existing_failed": len(failed_rounds),
        "existing_failure": failed_rounds[0].failure if failed_rounds else None,
        "rss_before": before,
        "rss_peak": memory.peak,
        "rss_after": memory.sample(),
        "detail": detail,
        "error": error,
    }


async def _first_answer(fresh: FreshClients, server: Server) -> tuple[Probe, float | None]:
    """The first visitor after the attack; and how long until one was answered at all (None: not in ALIVE_LIMIT).

    A server still busy with what the attack left it may answer late: that
    is slow, not dead. A process that has exited is not waited for.
    """
    start = perf_counter()
    first = visitor = await fresh.next()
    with trio.move_on_after(ALIVE_LIMIT):
        while visitor.failure is not None and server.process.poll() is None:
            await trio.sleep(WATCH_GAP)
            visitor = await fresh.next()
    answered = visitor.failure is None and server.process.poll() is None
    return first, (perf_counter() - start if answered else None)


def _unwatched(error: str) -> dict:
    """The fields of an attack whose watchers never got going."""
    return {
        "fresh_during_ms": None,
        "fresh_during_probes": 0,
        "fresh_during_unserved": 0,
        "fresh_during_failure": None,
        "fresh_after_ms": None,
        "answered_after_s": None,
        "busy_after_s": None,
        "existing_rounds": 0,
        "existing_failed": 0,
        "existing_failure": None,
        "rss_before": None,
        "rss_peak": 0,
        "rss_after": None,
        "detail": {"unexpected": []},
        "error": error,
    }


async def _attack_watched(attack, sizes, port, coverage, fresh, existing) -> tuple[dict, str | None]:
    """Run the attack while the visitors and rounds go on; (its findings, the load generator's error or None)."""
    arena = Arena(port=port, hold=lambda: coverage.wait_for(HOLD_ROUNDS, HOLD_LIMIT))
    start = perf_counter()
    detail: dict = {"unexpected": []}
    error = None
    async with trio.open_nursery() as watchers:
        watchers.start_soon(fresh.run)
        watchers.start_soon(existing.run)
        try:
            with trio.fail_after(ATTACK_LIMIT):
                detail = await attack.run(arena, **sizes)
        except Exception as e:  # the attacker's own failure: reported, and the next attack still runs
            error = f"{type(e).__name__}: {e}"[:300]
        watchers.cancel_scope.cancel()
    detail["attack_s"] = round(perf_counter() - start, 2)
    return detail, error


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# ---------------------------------------------------------------- the verdicts


def _targets(report: dict) -> dict[str, bool]:
    """Each target's name → met (see the module docstring)."""
    before, peak, after = report["rss_before"] or 0, report["rss_peak"], report["rss_after"]
    growth = peak - before
    return {
        "alive": report["alive"],
        "fresh_during": report["fresh_during_probes"] > 0 and report["fresh_during_unserved"] == 0,
        "fresh_after": report["fresh_after_ms"] is not None and report["fresh_after_ms"] <= FRESH_BOUND * 1e3,
        "existing": report["existing_failed"] == 0,
        "rss_growth": growth <= MAX_RSS_GROWTH,
        "rss_returned": after is not None and before > 0 and after - before <= max(MAX_RSS_LEFT * growth, RSS_NOISE),
        "no_crash": report["crash_reports"] == 0,
        "log_lines": report["log_lines"] <= MAX_LOG_LINES,
        "expected": report["error"] is None and not report["detail"].get("unexpected"),
    }


def _progress_line(name: str, report: dict) -> str:
    """One attack's verdict in a line, for stderr while the run goes on."""
    mb = 1 << 20
    verdict = "pass" if report["passed"] else "FAIL " + ",".join(report["failed_targets"])
    before, peak, after = (report[k] or 0 for k in ("rss_before", "rss_peak", "rss_after"))
    return (
        f"abuse {name:<21} {verdict}\n"
        f"      alive {'yes' if report['alive'] else 'NO'}; fresh client worst {report['fresh_during_ms']} ms "
        f"({report['fresh_during_unserved']}/{report['fresh_during_probes']} unserved), after "
        f"{report['fresh_after_ms']} ms; existing {report['existing_failed']}/{report['existing_rounds']} rounds failed; "
        f"RSS {before / mb:.1f} -> peak {peak / mb:.1f} -> {after / mb:.1f} MB; "
        f"log {report['log_lines']} lines, {report['crash_reports']} crash reports"
    )


WORKLOAD = Workload(
    id="abuse",
    name="A web abuse",
    aliases=("web-abuse", "attacks"),
    unit="attacks passed",
    rate=True,
    ours=run_abuse,
    raw=None,
    full_size=len(ATTACKS),
    quick_size=len(ATTACKS),
    full_options={"quick": False},
    quick_options={"quick": True},
    size_label="{size} attacks",
    max_runs=1,
)

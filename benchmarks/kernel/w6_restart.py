"""W6 restart: kill a supervised worker, wait until its name is back.

A ``ONE_FOR_ONE`` supervisor runs one GenServer worker registered under a
name (``name=`` in its child spec, so it is registered before ``init``
runs). Its ``init`` sends ``("up", pid)`` to the benchmark process. The
benchmark kills the worker with ``otp.exit(pid, KILL)`` and waits for the
next ``up``: the supervisor has seen the exit signal, logged its report,
counted the restart against its intensity and started a new worker, which
holds the name. Figure: µs per kill-to-restarted. ``max_restarts`` is 10**9
per second so the intensity never trips.

``up`` is sent from ``init``, but it means "fully started": ``init`` returns
and the worker acknowledges the supervisor in the same task step (no
checkpoint in between), so by the time the benchmark runs again the ack is
queued ahead of any exit signal the next kill causes.

Each kill logs one record under the ``"otp"`` logger, the supervisor's
``child_terminated`` (a killed worker has no crash report: it did not fail,
an exit signal stopped it); it is made but counted, not printed
(``capture_reports``).

The raw baseline is a restart loop written by hand in bare trio: a
supervisor task runs the worker task in a fresh nursery, and starts it again
whenever it ends (cancelled, or crashed). The worker opens a cancel scope,
registers that scope in a dict under the name, and sends it to the
benchmark over a memory channel; killing it is cancelling the scope. No
restart counting, no reports, no links: the least a restart can cost.
"""

from __future__ import annotations

import math
from time import perf_counter

import trio

import otp
from otp import GenServer, Strategy, Supervisor

from .._harness import Sample, Workload, capture_reports

NAME = "w6.worker"
UP = "up"


# ------------------------------------------------------------------ ours


class _Worker(GenServer):
    async def init(self, bench: otp.Pid) -> None:
        otp.send(bench, (UP, otp.current_pid()))


async def _ours_main(kills: int) -> Sample:
    supervisor = await Supervisor.start_link(
        [_Worker.child_spec(otp.current_pid(), name=NAME)],
        strategy=Strategy.ONE_FOR_ONE,
        max_restarts=10**9,
        max_seconds=1.0,
    )
    _, pid = await otp.receive()  # the first start
    start = perf_counter()
    for _ in range(kills):
        otp.exit(pid, otp.KILL)
        _, pid = await otp.receive()
        if otp.whereis(NAME) is not pid:
            raise AssertionError(f"{NAME!r} is not held by the restarted worker {pid!r}")
    elapsed = perf_counter() - start
    await Supervisor.stop(supervisor)
    return _sample(elapsed, kills)


def ours(kills: int) -> Sample:
    with capture_reports() as reports:
        sample = otp.run(_ours_main, kills)
    # Each kill: the supervisor's report (and no crash report: a kill is not a crash).
    assert reports.events.count("child_terminated") == kills, len(reports.events)
    return sample


# ------------------------------------------------------------------- raw


async def _raw_worker(registry: dict, up: trio.MemorySendChannel) -> None:
    with trio.CancelScope() as scope:  # its "pid": cancelling it kills the worker
        registry[NAME] = scope
        up.send_nowait(scope)
        await trio.sleep_forever()
    if registry.get(NAME) is scope:
        del registry[NAME]


async def _raw_supervisor(registry: dict, up: trio.MemorySendChannel) -> None:
    while True:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_raw_worker, registry, up)
        except Exception:
            pass  # it crashed: restart it all the same
        # it ended (killed or crashed): loop, and start a new one


async def _raw_main(kills: int) -> Sample:
    registry: dict = {}
    up_send, up_receive = trio.open_memory_channel(math.inf)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_raw_supervisor, registry, up_send)
        scope = await up_receive.receive()
        start = perf_counter()
        for _ in range(kills):
            scope.cancel()
            scope = await up_receive.receive()
            if registry.get(NAME) is not scope:
                raise AssertionError(f"{NAME!r} is not held by the restarted worker")
        elapsed = perf_counter() - start
        nursery.cancel_scope.cancel()
    return _sample(elapsed, kills)


def raw(kills: int) -> Sample:
    return trio.run(_raw_main, kills)


def _sample(elapsed: float, kills: int) -> Sample:
    return Sample(figure=elapsed / kills * 1e6)


WORKLOAD = Workload(
    id="w6",
    name="W6 restart",
    aliases=("restart",),
    unit="us/kill+restart",
    rate=False,
    ours=ours,
    raw=raw,
    full_size=10_000,
    quick_size=500,
)

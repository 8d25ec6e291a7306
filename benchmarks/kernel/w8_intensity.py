"""W8 intensity: a worker that keeps crashing in ``init`` makes its supervisor give up.

A ``ONE_FOR_ONE`` supervisor with ``max_restarts=3`` in ``max_seconds=5``
runs one GenServer worker. The worker starts once, healthy (a worker that
fails its very first start makes ``start_link`` fail instead, with
``failed_to_start_child``, as in OTP); then the resource it needs goes away
and it is killed. From then on every ``init`` raises. The supervisor
restarts it (1), the start fails and is retried through its mailbox (2, 3),
and the fourth restart within 5 s is one too many: it logs
``reached_max_restart_intensity``, shuts down and exits with
``Shutdown("reached_max_restart_intensity")``.

Figure: ms from the kill to the supervisor's ``Down``, on the real clock.
Fields of its own:

- ``gave_up``: the supervisor ended with exactly that reason;
- ``reason``: the repr of the reason it ended with
  (``{shutdown,'reached_max_restart_intensity'}``);
- ``init_attempts``: how many times ``init`` ran, the healthy start
  included (1 + 3);
- ``reports``: supervisor reports logged on the ``"otp"`` logger (records
  with an ``otp_event``: ``child_terminated``, 3 x ``start_error``,
  ``reached_max_restart_intensity``), counted rather than printed.

No raw baseline: what is measured is the supervisor's own policy.
"""

from __future__ import annotations

from time import perf_counter

import otp
from otp import GenServer, Strategy, Supervisor

from .._harness import Sample, Workload, capture_reports

GAVE_UP = otp.Shutdown("reached_max_restart_intensity")


class _World:
    """What the worker depends on, outside any process."""

    def __init__(self) -> None:
        self.healthy = True
        self.init_attempts = 0


class _Fragile(GenServer):
    async def init(self, world: _World) -> None:
        world.init_attempts += 1
        if not world.healthy:
            raise RuntimeError("cannot start: the resource it needs is gone")


async def _ours_main(world: _World) -> tuple[float, object]:
    # The supervisor's end reaches us twice: a Down (we wait for it) and a
    # link signal with a Shutdown reason, which would end a process that
    # does not trap exits.
    otp.trap_exits(True)
    supervisor = await Supervisor.start_link(
        [_Fragile.child_spec(world, id="fragile")],
        strategy=Strategy.ONE_FOR_ONE,
        max_restarts=3,
        max_seconds=5.0,
    )
    ref = otp.monitor(supervisor)
    [child] = await Supervisor.which_children(supervisor)
    world.healthy = False
    start = perf_counter()
    otp.exit(child.pid, otp.KILL)
    down = await otp.receive(lambda m: m.__class__ is otp.Down and m.ref is ref, timeout=60.0)
    elapsed = perf_counter() - start
    return elapsed, down.reason


def ours(size: int) -> Sample:
    world = _World()
    with capture_reports() as reports:
        elapsed, reason = otp.run(_ours_main, world)
    return Sample(
        figure=elapsed * 1e3,
        extra={
            "gave_up": reason == GAVE_UP,
            "reason": repr(reason),
            "init_attempts": world.init_attempts,
            "reports": len(reports.events),
        },
    )


WORKLOAD = Workload(
    id="w8",
    name="W8 intensity",
    aliases=("intensity",),
    unit="ms to give up",
    rate=False,
    ours=ours,
    raw=None,
    full_size=1,
    quick_size=1,
    size_label="3 in 5 s",
)

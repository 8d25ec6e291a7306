"""Chaos: seeded fault injection against a running supervision tree, and what it did to it.

A supervision tree is a claim: "whatever dies here comes back". ``otp.chaos``
tests the claim on *your* tree while it works: it kills children at a
rate, with the exit reasons you choose, optionally calls a probe to see
what the clients of the tree would see, and reports what happened and
whether the tree came back in shape. The same seed replays the same
faults, so a run that broke something can be run again.

Example
-------
::

    import otp
    from otp import GenServer, Supervisor
    from otp.chaos import ChaosConfig, Targets, attach

    class Counter(GenServer):
        async def init(self, start):
            self.count = start
        async def handle_call(self, request, caller):
            self.count += 1
            return self.count

    async def main():
        await Supervisor.start_link(
            [Counter.child_spec(0, id=i, name=f"counter{i}") for i in range(10)],
            name="counters", max_restarts=1000, max_seconds=1.0,
        )

        async def probe():                       # what a client of the tree sees
            await GenServer.call("counter0", "incr", timeout=0.5)

        config = ChaosConfig(seed=7, rate=100, duration=1.0, targets=Targets(name="counter*"),
                             reasons={otp.KILL: 3, otp.SHUTDOWN: 1}, probe=probe)
        async with attach("counters", config) as chaos:
            await chaos.wait()                   # the duration is over
        report = chaos.report()
        print(report.summary())                  # chaos seed 7: 100 kills (kill: 79, shutdown: 21), ...
        assert report.intact

    otp.run(main)

What a run does
---------------
:func:`attach` reads the tree under ``tree`` (a supervisor's pid or name)
and lists its *targets*: every child at every depth that
:class:`Targets` selects (by registered-name glob, by kind: ``"worker"``,
``"supervisor"`` or a process kind such as ``"genserver"``, or by any
predicate on the :class:`Target`). A target is a place in the tree (its
*path* of child ids), not a pid: a restarted child is the same target.

Then, every ``1 / rate`` seconds, the injector process draws a target and
an exit reason (weighted, ``ChaosConfig.reasons``) from the seed and sends
the signal to whatever runs there (``otp.exit(pid, reason)``). If nothing
runs there at that moment (its restart is not done), the kill is *missed*;
it is still part of the sequence. It stops after ``duration`` seconds or
``count`` kills, or when the block ends.

When the block ends, the run waits for the last victims to end and for
every supervisor of the tree to have handled them (at most
``settle_timeout``), then compares the tree with its shape at the start:
it is *intact* if every supervisor runs at the same place with the same
child ids and every permanent child runs. :meth:`Chaos.report` gives a
:class:`ChaosReport`: kills by reason, misses, restarts (the tree's
``("otp", "supervisor", "restart")`` events), probe calls and failures by
error, intact and the problems if not, and the log of every kill
(:class:`Fault`).

Replaying a seed
----------------
Every choice comes from the seed: the n-th kill strikes the same target
with the same reason in every run of a seed against a tree of the same
shape (``report().faults`` of two runs compare equal). Whether a kill
found its target running, and so what the tree and its clients went
through, depends on timing too; under a mock clock
(``trio.testing.MockClock(autojump_threshold=0)``), with the scheduler
seeded as ``benchmarks/kernel/w7_chaos.py`` does, it is exact.

Probes
------
``ChaosConfig.probe`` is an ``async`` function of no arguments, called
again and again (``probe_interval`` apart) from a process of its own for
as long as the run lasts. Every exception it raises counts as a failed
call, by class name (``{"NoProc": 3, "CallTimeout": 1}``): the errors a
client of the tree would have seen.

Between nodes
-------------
On a distributed node (``otp.dist``), ``ChaosConfig.nodes`` adds faults to
its links with other nodes (:class:`NodeFault`): ``delay`` holds back what
this node sends there (order kept), ``drop`` loses messages with a
probability, ``partition`` cuts the link both ways until the run ends:
after ``down_after`` both sides see ``NodeDown`` and ``Down(...,
NODEDOWN)``, and ``NodeUp`` once it heals. ``report().nodes`` counts what
was delayed, dropped and cut.

Keeping a live node alive
-------------------------
A supervisor that restarts more than ``max_restarts`` children in
``max_seconds`` gives up, and its own supervisor sees it die; at the top,
the application stops. That is what chaos is for in a test. On a live
node (the dashboard's chaos page) set ``spare_restarts=1``: a kill that
would leave the victim's supervisor less than one restart to spare is
skipped and counted as *spared*.

In tests
--------
The pytest plugin of ``otp.testing`` has a ``chaos`` fixture: ``async
with chaos.attach(tree, rate=..., duration=...)`` runs the block under
chaos and fails the test, with the seed to replay, if the tree is not
intact at the end; ``@pytest.mark.chaos(seed=..., rate=...)`` sets the
options for one test.
"""

from .._util import fixup_module_metadata as _fixup_module_metadata
from ._config import ChaosConfig, NodeFault, Target, Targets
from ._report import ChaosReport, ChaosStatistics, Fault, NodeFaultCounts
from ._run import Chaos, attach

__all__ = [
    "attach",
    "Chaos",
    "ChaosConfig",
    "Targets",
    "Target",
    "NodeFault",
    "ChaosReport",
    "ChaosStatistics",
    "Fault",
    "NodeFaultCounts",
]

_fixup_module_metadata(__name__, globals())

"""Supervisors: processes that start, watch and restart other processes.

Example
-------
::

    import otp
    from otp import GenServer, Supervisor, Strategy

    class Counter(GenServer):
        async def init(self, start):
            self.count = start
        async def handle_call(self, request, caller):
            self.count += 1
            return self.count

    async def main():
        sup = await Supervisor.start_link(
            [Counter.child_spec(0, name="counter")],
            strategy=Strategy.ONE_FOR_ONE,
        )
        await GenServer.call("counter", "incr")          # -> 1
        otp.exit(otp.whereis("counter"), otp.KILL)       # it dies ...
        ...                                               # ... and is back, count 0

Children start in list order and stop in reverse order; ``which_children``
lists them newest first, as OTP does. A module-based
supervisor subclasses :class:`Supervisor` and returns its spec from ``init``
(run inside the supervisor process)::

    class App(Supervisor):
        async def init(self, arg):
            return SupervisorSpec([Db.child_spec(arg), Web], strategy=Strategy.REST_FOR_ONE)

    await App.start_link(config)

When a child ends
-----------------
The child's restart type and exit reason decide; "normal" means ``NORMAL``,
``SHUTDOWN`` or ``Shutdown(...)`` (``otp.is_normal``):

=============  ===============  ===========  ===================================
restart        exit reason      restarted?   supervisor report logged?
=============  ===============  ===========  ===================================
PERMANENT      normal           yes          yes (``child_terminated``)
PERMANENT      anything else    yes          yes
TRANSIENT      normal           no           no
TRANSIENT      anything else    yes          yes
TEMPORARY      normal           no (spec     no
                                dropped)
TEMPORARY      anything else    no (spec     yes
                                dropped)
=============  ===============  ===========  ===================================

As in OTP, any end of a permanent child is reported (it was not supposed
to end), and a temporary child that ignores its start is not kept. A
restart restarts, by strategy: ``ONE_FOR_ONE`` that child;
``ONE_FOR_ALL`` every child (the others shut down newest first, then all
started in order); ``REST_FOR_ONE`` that child and those after it. A temporary
child's end never restarts its siblings.

Restart intensity
-----------------
At most ``max_restarts`` (default 3) restarts in any ``max_seconds`` (5 s).
One more, and the supervisor logs ``reached_max_restart_intensity``, shuts
every child down and exits with ``Shutdown("reached_max_restart_intensity")``:
its own supervisor then sees a child end and applies the same rules, so the
failure climbs the tree. A restart whose start fails is retried (through the
supervisor's mailbox, so it keeps answering calls) and each retry counts.

Every restart is also two telemetry events: ``("otp", "supervisor",
"restart")`` (supervisor, child id, reason, restart count) when it is
decided, before the child runs again, and ``("otp", "supervisor",
"restarted")`` (the same, plus the new pid) once the child runs and can
be called; giving up is ``("otp", "supervisor", "give_up")``, before the
children are shut down. A supervisor keeps its restart total and last few
restarts for ``otp.introspection.supervision_tree()``. In tests,
``otp.testing.wait_for_restart`` waits for a child to be back.

Shutdown
--------
As OTP: monitor the child, unlink it, ``exit(child, SHUTDOWN)``, wait up to
the child's ``shutdown`` seconds, then ``KILL``. ``BRUTAL_KILL`` kills at
once, ``math.inf`` waits for ever (the default for supervisor children). A
GenServer child runs ``terminate`` on shutdown only if it traps exits.

Starting
--------
``start_link`` returns once every child has started. If one fails, those
already started are shut down and ``start_link`` raises ``StartError`` with
reason ``Shutdown(("failed_to_start_child", id, reason))``.
"""

from __future__ import annotations

from .._util import fixup_module_metadata as _fixup_module_metadata
from ._intensity import RestartIntensity
from ._records import GAVE_UP, ChildCounts, ChildInfo, RestartRecord, SupervisorError
from ._spec import BRUTAL_KILL, ChildSpec, ChildType, Restart, Strategy, SupervisorSpec, normalise_child
from ._static import RESTARTING
from ._supervisor import DynamicSupervisor, Supervisor

__all__ = [
    "Supervisor",
    "DynamicSupervisor",
    "SupervisorSpec",
    "ChildSpec",
    "Strategy",
    "Restart",
    "ChildType",
    "BRUTAL_KILL",
    "RESTARTING",
    "ChildInfo",
    "ChildCounts",
    "RestartRecord",
    "SupervisorError",
    "RestartIntensity",
    "GAVE_UP",
    "normalise_child",
]

_fixup_module_metadata(__name__, globals(), defined_in=("otp._child_spec",))

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

Children start in list order and stop in reverse order. A module-based
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

Every restart is also the telemetry event ``("otp", "supervisor",
"restart")`` (supervisor, child id, reason, restart count) and giving up is
``("otp", "supervisor", "give_up")``; a supervisor keeps its restart total
and last few restarts for ``otp.introspection.supervision_tree()``.

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

import functools
import math

from otp import Pid
from otp.genserver import GenServer, Ignore

from ._dynamic import DynamicServer
from ._intensity import RestartIntensity
from ._records import GAVE_UP, ChildCounts, ChildInfo, RestartRecord, SupervisorError
from ._spec import BRUTAL_KILL, ChildSpec, ChildType, Restart, Strategy, SupervisorSpec, normalise_child
from ._static import RESTARTING, Failed, StaticSupervisor

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

_FLAGS = ("strategy", "max_restarts", "max_seconds")


async def _request(supervisor: object, request: tuple) -> object:
    answer = await GenServer.call(supervisor, request, timeout=math.inf)
    if answer.__class__ is Failed:
        raise answer.error
    return answer


class Supervisor:
    """Start a supervisor with a list of children, or subclass it and define ``init``.

    The functions below take the supervisor as a pid, a registered name or
    a via-name, and are async (each is a call to the supervisor process).
    """

    async def init(self, arg: object) -> SupervisorSpec | Ignore:
        """Module-based supervisors: return ``SupervisorSpec(children, ...)`` or ``Ignore()``."""
        raise NotImplementedError(f"{type(self).__qualname__} must define async def init(self, arg)")

    @classmethod
    async def start_link(
        cls,
        children_or_arg: object = None,
        *,
        name: object = None,
        timeout: float = math.inf,
        **flags: object,
    ) -> Pid | None:
        """Start a supervisor linked to the caller; return its pid once all children run.

        ``Supervisor.start_link(children, strategy=..., max_restarts=3,
        max_seconds=5.0, name=None)``, or ``MySupervisor.start_link(arg,
        name=None)`` for a subclass (its ``init(arg)`` gives the spec).

        Raises:
            StartError: a child failed to start (see the module docstring).
            AlreadyStarted: ``name`` is taken.
        """
        if cls is Supervisor:
            arg = (None, SupervisorSpec(children_or_arg, **flags))
        else:
            if flags:
                raise TypeError(f"{cls.__qualname__}.start_link: give {sorted(flags)} in the SupervisorSpec init returns")
            arg = (cls(), children_or_arg)
        return await StaticSupervisor.start_link(arg, name=name, timeout=timeout)

    @classmethod
    def child_spec(cls, arg: object = None, **overrides: object) -> ChildSpec:
        """A child spec starting this supervisor under another (type SUPERVISOR, shutdown inf).

        For ``Supervisor`` itself, ``arg`` is the children and ``strategy``,
        ``max_restarts``, ``max_seconds`` and ``name`` may be given; give an
        ``id`` when there are several.
        """
        start_options = {key: overrides.pop(key) for key in (*_FLAGS, "name") if key in overrides}
        start = functools.partial(cls.start_link, **start_options) if start_options else cls.start_link
        fields = {"id": cls, "type": ChildType.SUPERVISOR, **overrides}
        return ChildSpec(start=(start, arg), **fields)

    # ------------------------------------------------------------ client API

    @staticmethod
    async def which_children(supervisor: object) -> list[ChildInfo]:
        """Every child, in start order: id, pid (None if not running, or RESTARTING), type."""
        return await _request(supervisor, ("which_children",))

    @staticmethod
    async def count_children(supervisor: object) -> ChildCounts:
        return await _request(supervisor, ("count_children",))

    @staticmethod
    async def start_child(supervisor: object, child: object) -> Pid | None:
        """Add a child and start it; return its pid (None if it ignored the start).

        Raises:
            AlreadyStarted: a child with this id is running (``.pid``).
            SupervisorError: ``"already_present"``: the id exists but is not running.
            StartError: the child failed to start.
        """
        return await _request(supervisor, ("start_child", child))

    @staticmethod
    async def terminate_child(supervisor: object, child_id: object) -> None:
        """Shut a child down; its spec stays (unless it is temporary).

        Raises:
            SupervisorError: ``"not_found"``.
        """
        await _request(supervisor, ("terminate_child", child_id))

    @staticmethod
    async def restart_child(supervisor: object, child_id: object) -> Pid | None:
        """Start again a child that was terminated.

        Raises:
            SupervisorError: ``"not_found"``, ``"running"`` or ``"restarting"``.
            StartError: it failed to start.
        """
        return await _request(supervisor, ("restart_child", child_id))

    @staticmethod
    async def delete_child(supervisor: object, child_id: object) -> None:
        """Forget a child that is not running.

        Raises:
            SupervisorError: ``"not_found"``, ``"running"`` or ``"restarting"``.
        """
        await _request(supervisor, ("delete_child", child_id))

    stop = staticmethod(GenServer.stop)


class DynamicSupervisor:
    """A supervisor that starts with no children and adds them on demand (``ONE_FOR_ONE``).

    ::

        sup = await DynamicSupervisor.start_link(max_children=100)
        pid = await DynamicSupervisor.start_child(sup, (Worker, arg))
        await DynamicSupervisor.terminate_child(sup, pid)

    Options (keywords of ``start_link``, or class attributes of a subclass):
    ``max_restarts`` (3), ``max_seconds`` (5.0), ``max_children``
    (``math.inf``), ``extra_arguments`` (``()``: put before each child's
    own start args).
    """

    max_restarts: int = 3
    max_seconds: float = 5.0
    max_children: float = math.inf
    extra_arguments: tuple = ()

    @classmethod
    async def start_link(cls, *, name: object = None, timeout: float = math.inf, **options: object) -> Pid:
        """Start a dynamic supervisor linked to the caller."""
        settings = {key: getattr(cls, key) for key in ("max_restarts", "max_seconds", "max_children", "extra_arguments")}
        unknown = set(options) - set(settings)
        if unknown:
            raise TypeError(f"DynamicSupervisor.start_link got unknown options {sorted(unknown)}; known: {sorted(settings)}")
        settings.update(options)
        SupervisorSpec([], max_restarts=settings["max_restarts"], max_seconds=settings["max_seconds"])  # validates
        return await DynamicServer.start_link(settings, name=name, timeout=timeout)

    @classmethod
    def child_spec(cls, arg: object = None, **overrides: object) -> ChildSpec:
        """A child spec for this dynamic supervisor (``arg``: a dict of options, or None)."""
        start_options = dict(arg or {})
        for key in ("name", "max_restarts", "max_seconds", "max_children", "extra_arguments"):
            if key in overrides:
                start_options[key] = overrides.pop(key)
        start = functools.partial(cls.start_link, **start_options)
        fields = {"id": cls, "type": ChildType.SUPERVISOR, **overrides}
        return ChildSpec(start=(start,), **fields)

    @staticmethod
    async def start_child(supervisor: object, child: object) -> Pid | None:
        """Start a child; return its pid (None if it ignored the start).

        Raises:
            SupervisorError: ``"max_children"`` reached.
            StartError: it failed to start.
        """
        return await _request(supervisor, ("start_child", child))

    @staticmethod
    async def terminate_child(supervisor: object, pid: Pid) -> None:
        """Shut the child ``pid`` down and forget it.

        Raises:
            SupervisorError: ``"not_found"``: ``pid`` is not a child.
        """
        await _request(supervisor, ("terminate_child", pid))

    @staticmethod
    async def which_children(supervisor: object) -> list[ChildInfo]:
        return await _request(supervisor, ("which_children",))

    @staticmethod
    async def count_children(supervisor: object) -> ChildCounts:
        return await _request(supervisor, ("count_children",))

    stop = staticmethod(GenServer.stop)


from otp import _fix_module_names  # noqa: E402

_fix_module_names(globals(), __name__)

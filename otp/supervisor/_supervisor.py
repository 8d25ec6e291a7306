"""The Supervisor and DynamicSupervisor classes: the behaviours and their client functions.

What ``otp.supervisor``'s docstring teaches is implemented here, on the two
server processes (``_static.py`` for a supervisor with a fixed list of
children, ``_dynamic.py`` for children started on demand).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Protocol, overload

from .._child_spec import Child
from .._kernel import Destination, Pid, Via
from ..genserver import GenServer
from ._dynamic import DynamicServer
from ._records import ChildCounts, ChildInfo
from ._requests import (
    CountChildren,
    DeleteChild,
    Failed,
    RestartChild,
    StartChild,
    TerminateChild,
    WhichChildren,
)
from ._spec import ChildSpec, ChildType, Strategy, SupervisorSpec
from ._static import StaticSupervisor

_FLAGS = ("strategy", "max_restarts", "max_seconds")


class _CannotIgnore(Protocol):
    """A supervisor whose ``init`` is not annotated to return ``Ignore``: its start gives a Pid."""

    async def init(self, arg: Any, /) -> SupervisorSpec: ...


async def _request(supervisor: Destination, request: object) -> Any:
    answer = await GenServer.call(supervisor, request, timeout=math.inf)
    if answer.__class__ is Failed:
        raise answer.error
    return answer


class Supervisor:
    """Start a supervisor with a list of children, or subclass it and define ``init``.

    The functions below take the supervisor as a pid, a registered name or
    a via-name, and are async (each is a call to the supervisor process).
    """

    async def init(self, arg: Any, /) -> Any:
        """Module-based supervisors: return ``SupervisorSpec(children, ...)`` or ``Ignore()``.

        (Any in this base class: annotate yours, ``-> SupervisorSpec`` or
        ``-> SupervisorSpec | Ignore``, and that decides whether
        ``start_link`` may return None for type checkers.)
        """
        raise NotImplementedError(f"{type(self).__qualname__} must define async def init(self, arg)")

    @overload
    @classmethod
    async def start_link(
        cls: type[_CannotIgnore],
        children_or_arg: Any = None,
        *,
        name: str | Via | None = None,
        timeout: float = math.inf,
        strategy: Strategy = ...,
        max_restarts: int = ...,
        max_seconds: float = ...,
    ) -> Pid: ...
    @overload
    @classmethod
    async def start_link(
        cls,
        children_or_arg: Any = None,
        *,
        name: str | Via | None = None,
        timeout: float = math.inf,
        strategy: Strategy = ...,
        max_restarts: int = ...,
        max_seconds: float = ...,
    ) -> Pid | None: ...

    @classmethod
    async def start_link(
        cls,
        children_or_arg: Any = None,
        *,
        name: str | Via | None = None,
        timeout: float = math.inf,
        **flags: Any,
    ) -> Pid | None:
        """Start a supervisor linked to the caller; return its pid once all children run.

        ``Supervisor.start_link(children, strategy=..., max_restarts=3,
        max_seconds=5.0, name=None)``, or ``MySupervisor.start_link(arg,
        name=None)`` for a subclass (its ``init(arg)`` gives the spec).
        Returns None if a subclass's ``init`` returned ``Ignore()`` (for
        type checkers, only if it is annotated so).

        Raises:
            StartError: a child failed to start (see the module docstring).
            AlreadyStarted: ``name`` is taken.
        """
        arg: tuple[Supervisor | None, object]
        if cls is Supervisor:
            arg = (None, SupervisorSpec(children_or_arg, **flags))
        else:
            if flags:
                raise TypeError(f"{cls.__qualname__}.start_link: give {sorted(flags)} in the SupervisorSpec init returns")
            arg = (cls(), children_or_arg)
        return await StaticSupervisor.start_link(arg, name=name, timeout=timeout)

    @classmethod
    def child_spec(cls, arg: Any = None, **overrides: Any) -> ChildSpec:
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
    async def which_children(supervisor: Destination) -> list[ChildInfo]:
        """Every child, newest first (as OTP): id, pid (None if not running, or RESTARTING), type.

        Newest by spec: the reverse of the order the children were added in
        (those of ``start_link``, then each ``start_child``); a restart does
        not move a child.
        """
        return await _request(supervisor, WhichChildren())

    @staticmethod
    async def count_children(supervisor: Destination) -> ChildCounts:
        return await _request(supervisor, CountChildren())

    @staticmethod
    async def start_child(supervisor: Destination, child: Child) -> Pid | None:
        """Add a child and start it; return its pid (None if it ignored the start).

        Raises:
            AlreadyStarted: a child with this id is running (``.pid``).
            SupervisorError: ``"already_present"``: the id exists but is not running.
            StartError: the child failed to start.
        """
        return await _request(supervisor, StartChild(child))

    @staticmethod
    async def terminate_child(supervisor: Destination, child_id: object) -> None:
        """Shut a child down; its spec stays (unless it is temporary).

        Raises:
            SupervisorError: ``"not_found"``.
        """
        await _request(supervisor, TerminateChild(child_id))

    @staticmethod
    async def restart_child(supervisor: Destination, child_id: object) -> Pid | None:
        """Start again a child that was terminated.

        Raises:
            SupervisorError: ``"not_found"``, ``"running"`` or ``"restarting"``.
            StartError: it failed to start.
        """
        return await _request(supervisor, RestartChild(child_id))

    @staticmethod
    async def delete_child(supervisor: Destination, child_id: object) -> None:
        """Forget a child that is not running.

        Raises:
            SupervisorError: ``"not_found"``, ``"running"`` or ``"restarting"``.
        """
        await _request(supervisor, DeleteChild(child_id))

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
    async def start_link(cls, *, name: str | Via | None = None, timeout: float = math.inf, **options: Any) -> Pid:
        """Start a dynamic supervisor linked to the caller."""
        settings = {key: getattr(cls, key) for key in ("max_restarts", "max_seconds", "max_children", "extra_arguments")}
        unknown = set(options) - set(settings)
        if unknown:
            raise TypeError(f"DynamicSupervisor.start_link got unknown options {sorted(unknown)}; known: {sorted(settings)}")
        settings.update(options)
        SupervisorSpec([], max_restarts=settings["max_restarts"], max_seconds=settings["max_seconds"])  # validates
        return await DynamicServer.start_link(settings, name=name, timeout=timeout)

    @classmethod
    def child_spec(cls, arg: dict[str, Any] | None = None, **overrides: Any) -> ChildSpec:
        """A child spec for this dynamic supervisor (``arg``: a dict of options, or None)."""
        start_options = dict(arg or {})
        for key in ("name", "max_restarts", "max_seconds", "max_children", "extra_arguments"):
            if key in overrides:
                start_options[key] = overrides.pop(key)
        start = functools.partial(cls.start_link, **start_options)
        fields = {"id": cls, "type": ChildType.SUPERVISOR, **overrides}
        return ChildSpec(start=(start,), **fields)

    @staticmethod
    async def start_child(supervisor: Destination, child: Child) -> Pid | None:
        """Start a child; return its pid (None if it ignored the start).

        Raises:
            SupervisorError: ``"max_children"`` reached.
            StartError: it failed to start.
        """
        return await _request(supervisor, StartChild(child))

    @staticmethod
    async def terminate_child(supervisor: Destination, pid: Pid) -> None:
        """Shut the child ``pid`` down and forget it.

        Raises:
            SupervisorError: ``"not_found"``: ``pid`` is not a child.
        """
        await _request(supervisor, TerminateChild(pid))

    @staticmethod
    async def which_children(supervisor: Destination) -> list[ChildInfo]:
        """Every child, newest first: id None, pid (RESTARTING while a restart waits for a retry), type.

        Newest by its running process, so a restarted child comes first;
        children waiting for a retried restart come after the running ones.
        """
        return await _request(supervisor, WhichChildren())

    @staticmethod
    async def count_children(supervisor: Destination) -> ChildCounts:
        return await _request(supervisor, CountChildren())

    stop = staticmethod(GenServer.stop)

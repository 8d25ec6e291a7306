"""Child specs: how a supervisor starts, restarts and stops one child.

A child spec says how to start a child and what to do when it ends::

    ChildSpec(id="cache", start=(Cache.start_link, {"size": 100}))
    ChildSpec(id="db", start=(Db.start_link, url), restart=Restart.TRANSIENT, shutdown=30.0)
    Cache.child_spec({"size": 100})      # the usual way: the class builds its own

``start`` is ``(async_function, *args)``; the function must start a process
linked to the caller (the supervisor) and return its pid, or None to be
ignored (``GenServer.start_link`` does exactly that).

Supervisors accept children as a ``ChildSpec``, a class with
``child_spec()`` (a GenServer or Supervisor subclass), or ``(class, arg)``.

This module sits below both ``otp.genserver`` and ``otp.supervisor`` and
imports neither: a GenServer builds its own child spec without needing the
supervisor package, and the supervisor package is built on GenServer.
"""

from __future__ import annotations

import enum
import math
from typing import Any, Callable, Protocol, TypeAlias

import attrs

__all__ = [
    "Restart",
    "ChildType",
    "BRUTAL_KILL",
    "ChildSpec",
    "Child",
    "normalise_child",
    "normalise_children",
]


class Restart(enum.Enum):
    """When a child that ended is restarted."""

    PERMANENT = "permanent"  # always
    TRANSIENT = "transient"  # only after an abnormal exit (not NORMAL/SHUTDOWN/Shutdown)
    TEMPORARY = "temporary"  # never; its spec is dropped when it ends


class ChildType(enum.Enum):
    WORKER = "worker"
    SUPERVISOR = "supervisor"


class _BrutalKill:
    __slots__ = ()

    def __repr__(self) -> str:
        return "BRUTAL_KILL"


BRUTAL_KILL = _BrutalKill()
"""``shutdown=BRUTAL_KILL``: end the child with ``KILL`` at once, no grace period."""


def _check_start(spec: ChildSpec, attribute: attrs.Attribute, start: object) -> None:
    if not (isinstance(start, tuple) and start and callable(start[0])):
        raise TypeError(
            f"ChildSpec start must be (function, *args), e.g. (Worker.start_link, arg); got {start!r}"
        )


def _check_shutdown(spec: ChildSpec, attribute: attrs.Attribute, shutdown: object) -> None:
    if shutdown is BRUTAL_KILL or shutdown is None:
        return
    if isinstance(shutdown, bool) or not isinstance(shutdown, (int, float)) or shutdown < 0:
        raise TypeError(
            f"ChildSpec shutdown must be seconds >= 0, math.inf or BRUTAL_KILL; got {shutdown!r}"
        )


def _as_start(start: object) -> object:
    return (start,) if callable(start) and not isinstance(start, tuple) else start


@attrs.frozen
class ChildSpec:
    """How a supervisor starts, restarts and stops one child.

    Attributes:
        id: names the child within its supervisor (any hashable value).
        start: ``(async_function, *args)`` (a bare function means no args).
        restart: :class:`Restart`; default ``PERMANENT``.
        shutdown: seconds to wait after ``SHUTDOWN`` before ``KILL``,
            ``math.inf`` to wait for ever, or ``BRUTAL_KILL``. Default: 5 s
            for workers, ``math.inf`` for supervisors (as in OTP).
        type: :class:`ChildType`; default ``WORKER``.
    """

    id: object
    start: tuple[Any, ...] = attrs.field(converter=_as_start, validator=_check_start)
    restart: Restart = attrs.field(default=Restart.PERMANENT, validator=attrs.validators.instance_of(Restart))
    # None until __attrs_post_init__ puts the default of the child's type
    # there (it depends on `type`, a later field): never None once made.
    shutdown: float | _BrutalKill = attrs.field(default=None, validator=_check_shutdown)
    type: ChildType = attrs.field(default=ChildType.WORKER, validator=attrs.validators.instance_of(ChildType))

    def __attrs_post_init__(self) -> None:
        if self.shutdown is None:
            default = math.inf if self.type is ChildType.SUPERVISOR else 5.0
            object.__setattr__(self, "shutdown", default)
        try:
            hash(self.id)
        except TypeError:
            raise TypeError(f"ChildSpec id must be hashable; got {self.id!r}") from None

    @property
    def function(self) -> Callable[..., Any]:
        return self.start[0]


class HasChildSpec(Protocol):
    """A class that builds its own child spec: a GenServer or Supervisor subclass."""

    @classmethod
    def child_spec(cls, arg: Any = None, /) -> ChildSpec: ...


Child: TypeAlias = ChildSpec | type[HasChildSpec] | tuple[type[HasChildSpec], Any]
"""What a supervisor accepts as a child: a spec, a class with ``child_spec()``, or ``(class, arg)``."""


def normalise_child(child: object) -> ChildSpec:
    """A ``ChildSpec`` from what users write: a spec, a class, or ``(class, arg)``."""
    if isinstance(child, ChildSpec):
        return child
    if isinstance(child, tuple) and len(child) == 2 and hasattr(child[0], "child_spec"):
        return _spec_from(child[0], child[1])
    if isinstance(child, type) and hasattr(child, "child_spec"):
        return _spec_from(child, None)
    raise TypeError(
        f"a child must be a ChildSpec, a class with child_spec() (a GenServer or "
        f"Supervisor subclass) or (class, arg); got {child!r}"
    )


def normalise_children(children: object) -> list[ChildSpec]:
    """Normalise a list of children and check that their ids are unique."""
    if not isinstance(children, (list, tuple)):
        raise TypeError(f"children must be a list; got {children!r}")
    specs = [normalise_child(child) for child in children]
    seen = set()
    for spec in specs:
        if spec.id in seen:
            raise ValueError(
                f"two children have the id {spec.id!r}; give each a unique id, "
                f"e.g. Worker.child_spec(arg, id='worker_2')"
            )
        seen.add(spec.id)
    return specs


def _spec_from(cls: type[HasChildSpec], arg: object) -> ChildSpec:
    spec = cls.child_spec(arg)
    if not isinstance(spec, ChildSpec):
        raise TypeError(f"{cls.__qualname__}.child_spec({arg!r}) returned {spec!r}, not a ChildSpec")
    return spec

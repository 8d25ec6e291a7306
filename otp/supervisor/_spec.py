"""Supervisor specs: what a module-based supervisor's ``init`` returns.

::

    async def init(self, arg):
        return SupervisorSpec([Cache, (Worker, 1)], strategy=Strategy.ONE_FOR_ALL, max_restarts=5)

The child specs themselves are ``otp._child_spec``'s (a GenServer needs them
without the supervisor package); this module re-exports them for the
supervisor modules.
"""

from __future__ import annotations

import enum

import attrs

from .._child_spec import BRUTAL_KILL, ChildSpec, ChildType, Restart, normalise_child, normalise_children

__all__ = [
    "Strategy",
    "SupervisorSpec",
    "Restart",
    "ChildType",
    "BRUTAL_KILL",
    "ChildSpec",
    "normalise_child",
    "normalise_children",
]


class Strategy(enum.Enum):
    """What a supervisor restarts when one child ends."""

    ONE_FOR_ONE = "one_for_one"  # only that child
    ONE_FOR_ALL = "one_for_all"  # every child (the others are shut down first)
    REST_FOR_ONE = "rest_for_one"  # that child and those started after it


@attrs.frozen
class SupervisorSpec:
    """What a module-based supervisor's ``init`` returns (Elixir's ``Supervisor.init/2``).

    ``max_restarts`` restarts are allowed within ``max_seconds``; one more
    and the supervisor gives up.
    """

    children: list = attrs.field(converter=lambda c: normalise_children(c))
    strategy: Strategy = attrs.field(default=Strategy.ONE_FOR_ONE, validator=attrs.validators.instance_of(Strategy))
    max_restarts: int = attrs.field(default=3)
    max_seconds: float = attrs.field(default=5.0)

    @max_restarts.validator
    def _check_max_restarts(self, attribute, value) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise TypeError(f"max_restarts must be an int >= 0; got {value!r}")

    @max_seconds.validator
    def _check_max_seconds(self, attribute, value) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise TypeError(f"max_seconds must be a number of seconds > 0; got {value!r}")

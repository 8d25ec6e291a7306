"""The calls a supervisor answers, as message classes, and the one dispatch for both kinds.

The client functions (``Supervisor.which_children(sup)`` and the rest, in
``_supervisor.py``) send one of these to the supervisor process; the
process's ``handle_call`` hands it to :func:`answer`, which calls the
server's method of the same name::

    WhichChildren()            -> server.which_children()
    StartChild(child)          -> server.start_child(child)
    TerminateChild(child)      -> server.terminate_child(child)  (an id, or a pid for a dynamic one)

A failure is answered, not raised: the server returns ``Failed(error)``
and the client function raises ``error`` in the caller, so that a bad
request (an unknown id, a child spec that does not validate) fails the
caller and leaves the supervisor running, as in OTP.
"""

from __future__ import annotations

from typing import Any, Protocol

import attrs

__all__ = [
    "WhichChildren",
    "CountChildren",
    "StartChild",
    "TerminateChild",
    "RestartChild",
    "DeleteChild",
    "Failed",
    "SupervisorServer",
    "answer",
]


@attrs.frozen(slots=True)
class WhichChildren:
    pass


@attrs.frozen(slots=True)
class CountChildren:
    pass


@attrs.frozen(slots=True)
class StartChild:
    child: object  # a ChildSpec, a class with child_spec(), or (class, arg)


@attrs.frozen(slots=True)
class TerminateChild:
    child: object  # the child's id (Supervisor) or pid (DynamicSupervisor)


@attrs.frozen(slots=True)
class RestartChild:
    child_id: object


@attrs.frozen(slots=True)
class DeleteChild:
    child_id: object


class Failed:
    """A reply that makes the client function raise ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class SupervisorServer(Protocol):
    """What :func:`answer` calls; a dynamic supervisor has no restart_child/delete_child.

    The arguments are what the client function sent, unchecked (Any): each
    server says what it makes of them.
    """

    async def which_children(self) -> list[Any]: ...
    async def count_children(self) -> object: ...
    async def start_child(self, child: Any) -> object: ...
    async def terminate_child(self, child: Any) -> Failed | None: ...


async def answer(server: SupervisorServer, request: object) -> object:
    """Run ``request`` on ``server``; any exception becomes ``Failed`` (the caller raises it)."""
    try:
        return await _run(server, request)
    except Exception as error:
        return Failed(error)


async def _run(server: SupervisorServer, request: object) -> object:
    match request:
        case WhichChildren():
            return await server.which_children()
        case CountChildren():
            return await server.count_children()
        case StartChild(child):
            return await server.start_child(child)
        case TerminateChild(child):
            return await server.terminate_child(child)
        case RestartChild(child_id) if hasattr(server, "restart_child"):
            return await server.restart_child(child_id)
        case DeleteChild(child_id) if hasattr(server, "delete_child"):
            return await server.delete_child(child_id)
    return Failed(TypeError(f"a {_kind(server)} answers {_accepted(server)}; got {request!r}"))


def _kind(server: SupervisorServer) -> str:
    return "supervisor" if hasattr(server, "restart_child") else "dynamic supervisor"


def _accepted(server: SupervisorServer) -> str:
    kinds = [WhichChildren, CountChildren, StartChild, TerminateChild]
    if hasattr(server, "restart_child"):
        kinds += [RestartChild, DeleteChild]
    return ", ".join(kind.__name__ for kind in kinds)

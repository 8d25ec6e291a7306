"""Agent: a value behind a process, read and changed by functions sent to it.

An agent is the smallest stateful process: no callbacks to write, only a
value and the functions that read or change it. The functions run *inside*
the agent's process, one at a time, so concurrent updates never race::

    import otp
    from otp import Agent

    async def main():
        counter = await Agent.start_link(lambda: 0, name="visits")
        await Agent.update("visits", lambda n: n + 1)
        Agent.cast(counter, lambda n: n + 10)                  # fire and forget
        return await Agent.get(counter, lambda n: n)           # -> 11

    otp.run(main)

The API
-------
=====================================================  ==========================================
``await Agent.start_link(init, name=, timeout=)``      start, linked; ``init()`` gives the value
``await Agent.start(init, name=, timeout=)``           the same, unlinked
``await Agent.get(agent, fun, timeout=5.0)``           ``fun(value)``, returned; value unchanged
``await Agent.update(agent, fun, timeout=5.0)``        value becomes ``fun(value)``; returns None
``await Agent.get_and_update(agent, fun, timeout=)``   ``fun(value)`` gives ``(reply, new value)``
``Agent.cast(agent, fun)``                             value becomes ``fun(value)``; never waits
``await Agent.stop(agent, reason=NORMAL, timeout=)``   ends it; waits until it has exited
``Agent.child_spec(init, name=, id=, restart=, ...)``  for a supervisor
=====================================================  ==========================================

``agent`` is a pid, a registered name or a via-name (``Registry.via``), as
for :meth:`GenServer.call`. Every function may be plain or ``async``; an
``async`` one is awaited inside the agent (the agent serves nothing else
meanwhile, so keep it short).

Errors
------
The functions run in the agent, so their failures are the agent's: a
function that raises crashes the agent (a crash report shows the
exception and the value) and the caller of ``get``/``update``/
``get_and_update`` gets ``ServerExited`` with that exception as the
reason. A ``get_and_update`` function that does not return a 2-tuple is a
crash too, with a ``TypeError`` that names what it returned. An ``init``
that raises makes ``start_link`` raise ``StartError``. Under a supervisor, a
crashed agent is restarted with a fresh ``init()``, as any child is.

``timeout`` bounds the wait for the reply: ``CallTimeout`` when it passes
(the agent keeps running and finishes the function; its late reply is
dropped).
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any, Awaitable, Callable, TypeVar, cast

import attrs

from ._child_spec import ChildSpec
from ._kernel import NORMAL, Destination, Pid, Via
from .genserver import GenServer

__all__ = ["Agent"]

R = TypeVar("R")

Init = Callable[[], Any]
"""Makes the first value: ``lambda: {}`` or an ``async def`` with no argument."""


async def _run(fun: Callable[..., Any], *args: Any) -> Any:
    """Call ``fun``; await what it returned when it is awaitable (an ``async`` function)."""
    result = fun(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


@attrs.frozen
class _Get:
    fun: Callable[[Any], Any]


@attrs.frozen
class _Update:
    fun: Callable[[Any], Any]


@attrs.frozen
class _GetAndUpdate:
    fun: Callable[[Any], Any]


class _AgentServer(GenServer):
    """The agent's process: holds ``value`` and applies the functions it is sent."""

    value: Any

    async def init(self, init: Init) -> None:
        self.value = await _run(init)

    async def handle_call(self, request: object, caller: object) -> object:
        if isinstance(request, _Get):
            return await _run(request.fun, self.value)
        if isinstance(request, _Update):
            self.value = await _run(request.fun, self.value)
            return None
        if isinstance(request, _GetAndUpdate):
            reply, self.value = _reply_and_value(await _run(request.fun, self.value))
            return reply
        raise TypeError(f"an agent takes requests from Agent.get/update/get_and_update only; got {request!r}")

    async def handle_cast(self, request: object) -> None:
        if not isinstance(request, _Update):
            raise TypeError(f"an agent takes casts from Agent.cast only; got {request!r}")
        self.value = await _run(request.fun, self.value)

    def format_status(self) -> object:
        return {"value": self.value}


def _reply_and_value(result: object) -> tuple[object, object]:
    if isinstance(result, tuple) and len(result) == 2:
        return result
    raise TypeError(f"an Agent.get_and_update function must return (reply, new_value); it returned {result!r}")


class Agent:
    """The agent API; see the module docstring. Every method is used on the class: ``Agent.get(...)``."""

    def __init__(self) -> None:
        raise TypeError("Agent is used through its static methods: Agent.start_link(init), Agent.get(agent, fun)...")

    @staticmethod
    async def start_link(init: Init, *, name: str | Via | None = None, timeout: float = math.inf) -> Pid:
        """Start an agent linked to the caller, holding ``init()``; return its pid.

        Raises:
            StartError: ``init`` raised or took longer than ``timeout`` (``.reason``).
            AlreadyStarted: ``name`` is taken (``.pid`` holds it).
        """
        return await _AgentServer.start_link(init, name=name, timeout=timeout)

    @staticmethod
    async def start(init: Init, *, name: str | Via | None = None, timeout: float = math.inf) -> Pid:
        """Like :meth:`start_link`, without the link."""
        return await _AgentServer.start(init, name=name, timeout=timeout)

    @staticmethod
    async def get(agent: Destination, fun: Callable[[Any], R | Awaitable[R]], timeout: float = 5.0) -> R:
        """Return ``fun(value)``, computed in the agent; the value is unchanged."""
        return cast(R, await GenServer.call(agent, _Get(fun), timeout))

    @staticmethod
    async def update(agent: Destination, fun: Callable[[Any], Any], timeout: float = 5.0) -> None:
        """Replace the value by ``fun(value)``; return once it is done."""
        await GenServer.call(agent, _Update(fun), timeout)

    @staticmethod
    async def get_and_update(
        agent: Destination, fun: Callable[[Any], tuple[R, Any] | Awaitable[tuple[R, Any]]], timeout: float = 5.0
    ) -> R:
        """``fun(value)`` returns ``(reply, new_value)``: keep the new value, return the reply."""
        return cast(R, await GenServer.call(agent, _GetAndUpdate(fun), timeout))

    @staticmethod
    def cast(agent: Destination, fun: Callable[[Any], Any]) -> None:
        """Replace the value by ``fun(value)`` without waiting (a dead agent drops it)."""
        GenServer.cast(agent, _Update(fun))

    @staticmethod
    async def stop(agent: Destination, reason: object = NORMAL, timeout: float = math.inf) -> None:
        """End the agent with ``reason`` and wait until it has exited."""
        await GenServer.stop(agent, reason, timeout)

    @staticmethod
    def child_spec(init: Init, *, name: str | Via | None = None, **overrides: Any) -> ChildSpec:
        """A supervisor child spec that starts ``Agent.start_link(init, name=name)``.

        Defaults as for a GenServer (permanent, 5 s shutdown, worker); the id
        is ``name`` when given, else ``Agent``; ``overrides`` change any field.
        """
        overrides.setdefault("id", Agent if name is None else name)
        return ChildSpec(start=(functools.partial(Agent.start_link, name=name), init), **overrides)


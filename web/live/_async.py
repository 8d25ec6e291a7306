"""Async assigns: work that runs beside the view, and the states a page shows meanwhile.

``assign_async`` runs a function in a process of its own and assigns its
result when it arrives; until then the assign is a loading
:class:`AsyncResult`, and if the function raises it is a failed one::

    async def mount(self, params, session, socket):
        socket.assign_async("profile", lambda: load_profile(params["id"]))

    # template
    <div :if={@profile.loading}>Loading…</div>
    <div :if={@profile.ok}>{@profile.result.name}</div>
    <div :if={@profile.failed}>Could not load: {@profile.failed}</div>

``start_async(name, fn)`` is the lower-level form: the outcome goes to
``handle_async(name, outcome, socket)`` as ``("ok", value)`` or ``("exit",
reason)``. Nothing runs on the dead render (the page shows loading), and a
view that stops kills the work it started.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import attrs

import otp

__all__ = ["AsyncResult", "AsyncDone", "run_async"]


@attrs.frozen
class AsyncResult:
    """The state of an async assign: ``loading``, then ``ok`` with ``result``, or ``failed``."""

    loading: bool = False
    ok: bool = False
    result: object = None
    failed: object = None  # the reason (an exception) when it failed

    @classmethod
    def pending(cls) -> AsyncResult:
        return cls(loading=True)

    @classmethod
    def succeeded(cls, result: object) -> AsyncResult:
        return cls(ok=True, result=result)

    @classmethod
    def failure(cls, reason: object) -> AsyncResult:
        return cls(failed=reason)


@attrs.frozen
class AsyncDone:
    """What an async worker sends its view: the key it was started under and the outcome."""

    name: tuple  # (cid or None for the view, the name of the work)
    token: int
    outcome: tuple  # ("ok", value) | ("exit", reason)


async def run_async(owner, name: tuple, token: int, function: Callable) -> None:
    """The body of an async worker process: run ``function`` and report to ``owner``."""
    # The view kills its workers in terminate, but a view killed outright runs no
    # terminate; a watcher ends the work with its owner then. (Phoenix links the task;
    # here the view's channel process traps exits and would stop on a linked worker's exit.)
    otp.spawn(_watch, owner, otp.current_pid())
    try:
        value = function()
        if inspect.isawaitable(value):
            value = await value
    except Exception as error:
        otp.send(owner, AsyncDone(name, token, ("exit", error)))
    else:
        otp.send(owner, AsyncDone(name, token, ("ok", value)))


async def _watch(owner, worker) -> None:
    """Kill ``worker`` if ``owner`` ends first; end quietly when the worker does."""
    owner_ref, worker_ref = otp.monitor(owner), otp.monitor(worker)
    down = await otp.receive(lambda m: m.__class__ is otp.Down and m.ref in (owner_ref, worker_ref))
    if down.ref == owner_ref:
        otp.exit(worker, otp.KILL)

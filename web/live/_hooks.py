"""Lifecycle hooks: functions attached to a socket that run before a view's own callbacks.

``socket.attach_hook(name, stage, function)`` adds behaviour to a view
without subclassing it; an ``on_mount`` hook typically attaches them, so
that one hook serves every view of a live session::

    async def track_active_tab(params, session, socket):      # an on_mount hook
        socket.attach_hook("active-tab", "handle_params", set_active_tab)

    async def set_active_tab(params, url, socket):
        socket.assign(active_tab=urlsplit(url).path)          # returns None: the view's handle_params runs next

==================  ======================================  ==========================================
stage               the hook is called as                   and runs before
==================  ======================================  ==========================================
``handle_params``   ``hook(params, url, socket)``           the view's ``handle_params``
``handle_event``    ``hook(event, value, socket)``          the ``handle_event`` of the view (or of
                                                            the component whose socket it is on)
``handle_info``     ``hook(message, socket)``               the view's ``handle_info``
``handle_async``    ``hook(name, outcome, socket)``         ``handle_async`` (``start_async`` results)
``after_render``    ``hook(socket)``                        nothing: it runs after each render (what
                                                            it assigns is kept, not rendered: a render
                                                            causes no other; what it pushes goes out)
==================  ======================================  ==========================================

A hook may be sync or async. It returns None to go on (the next hook, then
the callback), or :data:`HALT` to stop there: the callback and the hooks
after it do not run. A ``handle_event`` hook may halt with a reply to the
JS hook that pushed the event: ``return Halt(reply={"ok": True})``. Hooks
run in the order they were attached; a name is unique per stage.
A component's socket takes ``handle_event``, ``handle_async`` and
``after_render`` hooks (the others are the view's).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["Halt", "HALT", "Hooks", "STAGES", "COMPONENT_STAGES"]

STAGES = ("handle_params", "handle_event", "handle_info", "handle_async", "after_render")
COMPONENT_STAGES = ("handle_event", "handle_async", "after_render")


class Halt:
    """Returned by a hook to stop there: an ``on_mount`` hook's (after a redirect), or a lifecycle hook's.

    ``reply``: what a halting ``handle_event`` hook answers the JS hook that
    pushed the event (as a dict returned by ``handle_event`` would).
    """

    __slots__ = ("reply",)

    def __init__(self, reply: dict[str, Any] | None = None) -> None:
        self.reply = reply

    def __repr__(self) -> str:
        return "HALT" if self.reply is None else f"Halt(reply={self.reply!r})"


HALT = Halt()


class Hooks:
    """The hooks attached to one socket, by stage, in the order they were attached."""

    def __init__(self, stages: tuple[str, ...] = STAGES) -> None:
        self._stages = stages
        self._by_stage: dict[str, list[tuple[str, Callable[..., Any]]]] = {}

    def attach(self, name: str, stage: str, function: Callable[..., Any]) -> None:
        """Add ``function`` as the hook ``name`` of ``stage``.

        Raises:
            ValueError: ``stage`` is not a stage this socket has, or ``name`` is
                already attached there.
            TypeError: ``function`` is not callable.
        """
        self._check_stage(stage)
        if not callable(function):
            raise TypeError(f"attach_hook({name!r}, {stage!r}, ...) needs a function; got {function!r}")
        hooks = self._by_stage.setdefault(stage, [])
        if any(existing == name for existing, _ in hooks):
            raise ValueError(f"a hook {name!r} is already attached on {stage!r}: detach_hook({name!r}, {stage!r}) first")
        hooks.append((name, function))

    def detach(self, name: str, stage: str) -> None:
        """Remove the hook ``name`` of ``stage``, if attached."""
        self._check_stage(stage)
        self._by_stage[stage] = [(n, f) for n, f in self._by_stage.get(stage, ()) if n != name]

    def __contains__(self, stage: str) -> bool:
        """Whether any hook is attached on ``stage`` (the fast path skips running none)."""
        return bool(self._by_stage.get(stage))

    async def run(self, stage: str, *args: object) -> Halt | None:
        """Run the hooks of ``stage`` in order; the :class:`Halt` one of them returned, else None.

        Raises:
            TypeError: a hook returned something else than None or a Halt.
        """
        for name, function in list(self._by_stage.get(stage, ())):
            result = function(*args)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, Halt):
                return result
            if result is not None:
                raise TypeError(
                    f"the {stage} hook {name!r} returned {result!r}; a hook returns None (go on) or HALT (stop here)"
                )
        return None

    def _check_stage(self, stage: str) -> None:
        if stage not in self._stages:
            raise ValueError(f"no lifecycle stage {stage!r} here; expected one of: {', '.join(self._stages)}")

"""The LiveView behaviour and its socket: assigns with change tracking.

A LiveView is a process that renders HTML and re-renders on events; see
``web.live`` for the whole picture. This module holds what a view's author
touches: :class:`LiveView` (callbacks) and :class:`LiveSocket` (assigns,
``push_event``, ``connected``).
"""

from __future__ import annotations

import inspect

from ._rendered import Rendered

__all__ = ["LiveView", "LiveSocket"]


class LiveSocket:
    """A view's state: ``assigns`` and which of them changed since the last render."""

    def __init__(self, *, connected: bool, view_id: str) -> None:
        self.assigns: dict = {}
        self.changed: set[str] = set()
        self.connected = connected
        self.id = view_id
        self.events: list = []  # push_event()s waiting for the next diff
        self.title: str | None = None
        self.navigation: tuple | None = None  # ("patch" | "navigate" | "redirect", to, kind)

    def assign(self, **values: object) -> LiveSocket:
        """Set assigns; only those whose value really changes are marked changed."""
        for key, value in values.items():
            if key not in self.assigns or self.assigns[key] != value or not _comparable(value):
                self.assigns[key] = value
                self.changed.add(key)
        return self

    def update(self, key: str, function) -> LiveSocket:
        """``assigns[key] = function(assigns[key])``."""
        return self.assign(**{key: function(self.assigns[key])})

    def assign_new(self, key: str, default) -> LiveSocket:
        """Assign ``default()`` to ``key`` unless it is already assigned."""
        if key not in self.assigns:
            self.assign(**{key: default()})
        return self

    def push_event(self, name: str, payload: dict) -> LiveSocket:
        """Send a ``phx:<name>`` event to the page with the next diff."""
        self.events.append([name, payload])
        return self

    def page_title(self, title: str) -> LiveSocket:
        self.title = title
        return self

    def push_patch(self, to: str, *, replace: bool = False) -> LiveSocket:
        """Change the URL, same view: ``handle_params`` runs with the new URL's params."""
        self.navigation = ("patch", to, "replace" if replace else "push")
        return self

    def push_navigate(self, to: str, *, replace: bool = False) -> LiveSocket:
        """Go to another LiveView over the same socket (a live redirect); this view stops."""
        self.navigation = ("navigate", to, "replace" if replace else "push")
        return self

    def redirect(self, to: str) -> LiveSocket:
        """A full page load of ``to``; this view stops."""
        self.navigation = ("redirect", to, None)
        return self


def _comparable(value: object) -> bool:
    # Mutable containers may have been changed in place: treat them as changed.
    return not isinstance(value, (list, dict, set))


class LiveView:
    """Subclass and define ``render(assigns) -> Rendered`` and the callbacks you need.

    ``render`` may use a compiled template (``web.live`` templates) or build
    a :class:`Rendered` by hand; it gets ``assigns`` and, for change
    tracking, ``changed`` (the set of assigns changed since the last render,
    or None for a full render).
    """

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("mount", "handle_params", "handle_event", "handle_info", "terminate"):
            if not inspect.iscoroutinefunction(getattr(cls, name)):
                raise TypeError(f"{cls.__qualname__}.{name} must be an async function (async def {name}(...))")

    async def mount(self, params: dict, session: dict, socket: LiveSocket) -> None:
        return None

    async def handle_params(self, params: dict, uri: str, socket: LiveSocket) -> None:
        return None

    async def handle_event(self, event: str, value: object, socket: LiveSocket) -> object:
        raise NotImplementedError(f"{type(self).__qualname__} got the event {event!r} but defines no handle_event")

    async def handle_info(self, message: object, socket: LiveSocket) -> None:
        return None

    async def terminate(self, reason: object, socket: LiveSocket) -> None:
        return None

    def render(self, assigns: dict, changed: set | None) -> Rendered:
        raise NotImplementedError(f"{type(self).__qualname__} must define render(assigns, changed)")

"""LiveComponents: stateful pieces of a view, with their own assigns and events (docs/protocol/liveview.md, "Components").

A component lives inside its view's process. The template places it by
module and id; the first time, it is mounted, and every time the parent
renders it with new assigns, ``update`` runs and it re-renders, sending only
its own diff under the view diff's ``"c"``::

    CARD = compile_template('''<div class="card">
      <b>{@title}</b> liked {@likes} times
      <button phx-click="like" phx-target={@myself}>like</button>
    </div>''')

    class Card(LiveComponent):
        async def mount(self, socket):
            socket.assign(likes=0)

        async def handle_event(self, event, value, socket):
            socket.update("likes", lambda n: n + 1)       # only this card re-renders

        def render(self, assigns, changed):
            return CARD.render(assigns, changed)

    # in the view's template
    <.live_component module={Card} id="card-1" title={@title} />

Each component gets a *cid*, a positive integer never reused in its view;
``@myself`` is that cid, so ``phx-target={@myself}`` sends events to it.
``send_update(Card, "card-1", title="new")`` (from the view's process, or
from any process given the view's pid) runs its ``update`` and re-renders
it. The page tells the view when components left the DOM
(``cids_will_destroy``, then ``cids_destroyed``) and only then are they
deleted; a component rendered again in between lives on.
"""

from __future__ import annotations

import contextvars
import inspect
from typing import TYPE_CHECKING, Any

import attrs

import otp

from ._diff import DiffState
from ._rendered import Rendered
from ._wire import ROOT, STATIC

if TYPE_CHECKING:
    # Annotations only: a view's class (web.live._view) finds its template through the
    # templates' components, this module among them.
    from ._view import LiveSocket

__all__ = ["LiveComponent", "Components", "SendUpdate", "live_component", "send_update"]

# The component table of the view being rendered (templates register into it).
current_components: contextvars.ContextVar[Components | None] = contextvars.ContextVar("live_components", default=None)


class LiveComponent:
    """Subclass and define ``render(assigns, changed)``; the other callbacks are optional."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("mount", "update", "handle_event", "handle_async"):
            if not inspect.iscoroutinefunction(getattr(cls, name)):
                raise TypeError(f"{cls.__qualname__}.{name} must be an async function (async def {name}(...))")

    # The data parameters are typed Any, as LiveView's are, so that a subclass
    # may annotate them as narrowly as it likes without an override error.

    async def mount(self, socket: LiveSocket) -> None:
        return None

    async def update(self, assigns: Any, socket: LiveSocket) -> None:
        socket.assign(**assigns)

    async def handle_event(self, event: str, value: Any, socket: LiveSocket) -> dict[str, Any] | None:
        """Handle an event targeted at this component; a dict returned is the reply to the hook that pushed it."""
        raise NotImplementedError(f"{type(self).__qualname__} got the event {event!r} but defines no handle_event")

    async def handle_async(self, name: Any, outcome: tuple[str, Any], socket: LiveSocket) -> None:
        raise NotImplementedError(
            f"{type(self).__qualname__} started async work {name!r} but defines no handle_async to take its result"
        )

    def render(self, assigns: dict[str, Any], changed: set[str] | None) -> Rendered:
        raise NotImplementedError(f"{type(self).__qualname__} must define render(assigns, changed)")


@attrs.frozen
class SendUpdate:
    """The message ``send_update`` sends a view: update component ``(module, id)`` with ``assigns``."""

    module: type
    id: object
    assigns: dict


def send_update(module: type[LiveComponent], id: object, *, pid: otp.Destination | None = None, **assigns: object) -> None:
    """Have the component ``(module, id)`` of a view run ``update(assigns)`` and re-render.

    ``pid``: the view's process; by default the calling process (a view
    updating one of its own components).
    """
    otp.send(pid if pid is not None else otp.current_pid(), SendUpdate(module, id, dict(assigns)))


def live_component(assigns: dict) -> int:
    """``<.live_component module={M} id=... />`` in a template: register and return its cid."""
    table = current_components.get()
    if table is None:
        raise RuntimeError("<.live_component> can only be rendered by a LiveView (no component table)")
    assigns = dict(assigns)
    module = assigns.pop("module", None)
    if not (isinstance(module, type) and issubclass(module, LiveComponent)):
        raise TypeError(f"<.live_component> needs module={{SomeLiveComponent}}; got {module!r}")
    if "id" not in assigns:
        raise TypeError(f"<.live_component module={{{module.__qualname__}}}> needs an id")
    return table.register(module, assigns)


class _Component:
    __slots__ = ("cid", "module", "id", "instance", "socket", "diff_state", "mounted", "dirty", "doomed")

    def __init__(self, cid: int, module: type, id: object, socket) -> None:
        self.cid, self.module, self.id = cid, module, id
        self.instance = module()
        self.socket = socket
        self.diff_state = DiffState()
        self.mounted = False
        self.dirty = True  # render it at the next settle
        self.doomed = False  # the page said it will destroy it (cids_will_destroy)


class Components:
    """A view's component table: cid allocation, pending updates, and the ``"c"`` diff."""

    def __init__(self, make_socket) -> None:
        self._make_socket = make_socket  # cid -> a LiveSocket for a new component
        self._by_key: dict[tuple, int] = {}
        self._by_cid: dict[int, _Component] = {}
        self._next_cid = 1
        self._pending: list[tuple[int, dict]] = []  # (cid, assigns) waiting for update()

    def __len__(self) -> int:
        return len(self._by_cid)

    def __iter__(self):
        return iter(list(self._by_cid.values()))

    def get(self, cid: int) -> _Component | None:
        return self._by_cid.get(cid)

    def find(self, module: type, id: object) -> _Component | None:
        cid = self._by_key.get((module, id))
        return None if cid is None else self._by_cid[cid]

    def register(self, module: type, assigns: dict) -> int:
        """A template rendered ``(module, id)``: its cid (new or kept), with an update queued."""
        key = (module, assigns["id"])
        cid = self._by_key.get(key)
        if cid is None:
            cid = self._next_cid
            self._next_cid += 1
            self._by_key[key] = cid
            self._by_cid[cid] = _Component(cid, module, assigns["id"], self._make_socket(cid))
        component = self._by_cid[cid]
        if component.doomed:  # rendered again before the page destroyed it: revive, full render
            component.doomed = False
            component.diff_state.reset()
            component.socket.changed.update(component.socket.assigns)
        self._pending.append((cid, assigns))
        return cid

    def queue_update(self, module: type, id: object, assigns: dict) -> bool:
        component = self.find(module, id)
        if component is None:
            return False
        self._pending.append((component.cid, {"id": id, **assigns}))
        return True

    def with_effects(self) -> list[_Component]:
        """Components whose socket asks for something of the view (events, navigation, async work)."""
        return [
            c for c in self._by_cid.values()
            if c.socket.events or c.socket.navigation is not None or c.socket.async_requests or c.socket.async_cancels
        ]

    def forget_rendered(self) -> None:
        """The page lost every component (a new root template): render each again in full."""
        for component in self._by_cid.values():
            component.diff_state.reset()
            component.dirty = True

    def mark_dirty(self, cid: int) -> None:
        if cid in self._by_cid:
            self._by_cid[cid].dirty = True

    async def settle(self, *, full: bool = False) -> dict[int, Rendered]:
        """Run the pending mounts and updates, render what changed; return cid → Rendered.

        Rendering a component may place more components: loop until none wait.
        ``full``: render every component whole (a first render).
        """
        rendered: dict[int, Rendered] = {}
        while self._pending or any(c.dirty for c in self._by_cid.values()):
            pending, self._pending = self._pending, []
            for cid, assigns in pending:
                await self._update(self._by_cid[cid], assigns)
            for component in list(self._by_cid.values()):
                if component.dirty:
                    component.dirty = False
                    rendered[component.cid] = self._render(component, full or component.cid not in rendered)
        return rendered

    async def _update(self, component: _Component, assigns: dict) -> None:
        socket = component.socket
        if not component.mounted:
            component.mounted = True
            await component.instance.mount(socket)
        await component.instance.update(assigns, socket)
        if socket.changed:
            component.dirty = True

    def _render(self, component: _Component, first: bool) -> Rendered:
        socket = component.socket
        full = first and component.diff_state.root is None
        token = current_components.set(self)
        try:
            result = component.instance.render(socket.assigns, None if full else set(socket.changed))
        finally:
            current_components.reset(token)
        # Not just changed.clear(): a component's streams must forget the operations this
        # render sent (else every later render re-sends them) and its temporary assigns reset.
        socket.after_render()
        if not isinstance(result, Rendered) or not result.root:
            raise TypeError(
                f"{component.module.__qualname__}.render must return a Rendered with exactly one root "
                f"HTML element (docs/protocol/liveview.md, \"Components\"); got {result!r}"
            )
        return result

    def diff(self, rendered: dict[int, Rendered]) -> dict:
        """The ``"c"`` table for these renders (components that did not change are left out)."""
        table = {}
        for cid, tree in rendered.items():
            change = self._by_cid[cid].diff_state.diff(tree)
            if change:
                if STATIC in change:  # a new template: a component's root must carry the flag ("Components")
                    change.setdefault(ROOT, 1)
                table[str(cid)] = change
        return table

    # -- destruction, driven by the page (docs/protocol/liveview.md, "Component destruction") ------------------

    def will_destroy(self, cids: list) -> None:
        for cid in cids:
            component = self._by_cid.get(cid)
            if component is not None:
                component.doomed = True

    def destroyed(self, cids: list) -> list[int]:
        deleted = []
        for cid in cids:
            component = self._by_cid.get(cid)
            if component is not None and component.doomed:
                del self._by_cid[cid]
                del self._by_key[(component.module, component.id)]
                deleted.append(cid)
        return deleted

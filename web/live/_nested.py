"""Nested LiveViews: a view that renders another view, each in a process of its own.

A view places a child with :func:`live_render` in its template (or its
``render``); the child has its own assigns, events and process, and the
page joins it on its own topic once the parent has joined::

    CLOCK_PAGE = compile_template('''<main>
      <h1>{@title}</h1>
      {live_render(Clock, id="clock", session={"tz": "UTC"})}
    </main>''', namespace={"live_render": live_render})

    class Clock(LiveView):
        async def mount(self, params, session, socket):     # params: {} (a child has no URL)
            socket.assign(tz=session["tz"], now=now_in(session["tz"]))

How a child comes to the page (docs/protocol/liveview.md, "Nested views"):

* on the *dead render* the child is mounted and rendered too, its HTML
  inside a container that names its parent (``data-phx-parent-id``);
* once the parent has joined, its render holds the child's container,
  empty, with a signed session naming the child's view and the parent's
  process; the client joins ``lv:<child id>`` with it;
* the child's process watches its parent's: when the parent ends (it
  navigated away, crashed, the page left), the child ends too. A crash of
  the child is its own: the client joins it again, the parent never
  notices;
* a *sticky* child (``sticky=True``) has no parent: it lives as long as
  the socket and survives live navigation (``push_navigate``) between the
  views of its live session, the client keeping its element on the page.

A child has no URL: its ``mount`` gets ``{}`` as params and its
``handle_params`` is never called; a ``push_patch`` it makes patches the
page's root view; ``socket.parent_id`` is its parent's id (None for a
root or sticky view).
"""

from __future__ import annotations

import contextvars
import hashlib
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from markupsafe import escape

from otp import Pid

from ._rendered import LateHtml, Rendered
from ._view import LiveView

if TYPE_CHECKING:
    from ._router import LiveRouter

__all__ = ["live_render", "Nest", "DeadChild", "current_nest", "container_html", "view_name", "INCARNATION"]

#: Tells this OS process's pids from those of an earlier run of the server: a child's
#: session names its parent by pid number, and numbers start again after a restart.
INCARNATION = secrets.token_hex(8)

#: ``(tag, attributes)`` of a view's container element.
Container = tuple[str, Mapping[str, Any]]
DEFAULT_CONTAINER: Container = ("div", {})


@attrs.define(eq=False)
class DeadChild:
    """A child placed by a dead render, mounted and rendered once its parent's render is done."""

    view: type[LiveView]
    id: str
    session: dict[str, Any]
    html: LateHtml


@attrs.define(eq=False)
class Nest:
    """What :func:`live_render` needs of the view being rendered; set around each render.

    ``parent`` is the rendering view's process once connected, None on the
    dead render (whose children are collected in ``dead_children`` to be
    mounted after it). ``root`` is the process of the page's root view.
    """

    router: LiveRouter
    parent_id: str
    session: dict[str, Any]  # the page's user session: a child gets it, and the keys it is given
    live_session: str
    parent: Pid | None = None
    root: Pid | None = None
    dead_children: list[DeadChild] = attrs.field(factory=list)
    placed: set[str] = attrs.field(factory=set)  # the ids placed by the render under way


current_nest: contextvars.ContextVar[Nest | None] = contextvars.ContextVar("live_nest", default=None)


def live_render(
    view: type[LiveView],
    *,
    id: str,
    session: Mapping[str, Any] | None = None,
    sticky: bool = False,
    container: Container | None = None,
) -> Rendered:
    """Place the child LiveView ``view`` here, with the DOM id ``id`` (unique on the page).

    Call it while a LiveView renders: in its template (give the template
    ``namespace={"live_render": live_render}``) or in its ``render``.

    Args:
        view: the child's LiveView class.
        id: the child's view id, its container's DOM id and topic (``lv:<id>``).
        session: what the child's ``mount`` gets as session, over the page's
            own session (string keys, JSON values: it travels signed in the page).
        sticky: the child survives live navigation of its page (it has no parent
            process; see the module docstring).
        container: ``(tag, attributes)`` of its container element; by default
            the view's ``container`` class attribute (``("div", {})``).

    Raises:
        RuntimeError: no LiveView is rendering.
        TypeError, ValueError: an argument of the wrong kind (each message says which).
    """
    nest = current_nest.get()
    if nest is None:
        raise RuntimeError(
            f"live_render({getattr(view, '__qualname__', view)!r}) places a child LiveView while a LiveView "
            "renders: call it from a view's render or template, not from a component or elsewhere"
        )
    child_session = _check_arguments(view, id, session)
    if id in nest.placed:
        raise ValueError(f"live_render: the id {id!r} is placed twice in one render; each nested view needs its own id")
    nest.placed.add(id)
    tag, attributes = _container_of(view, container)
    nest.router.register_nested(view)
    merged = {**nest.session, **child_session}
    marks: dict[str, Any] = {"data-phx-sticky": True} if sticky else {"data-phx-parent-id": nest.parent_id}
    if nest.parent is not None:
        token = nest.router.sign_nested_session(id, view, merged, nest, sticky=sticky)
        html = container_html(tag, {"id": id, "data-phx-session": token, "data-phx-static": "", **marks}, attributes)
        # The fingerprint names the child, not its token (signed anew at each render): the client
        # keeps the container it has, and the child's process is not disturbed by a re-render.
        return Rendered((html + f"</{tag}>",), (), _fingerprint(view, id, tag, sticky))
    # The dead render: a non-sticky child's session is empty, as the page joins it only once its
    # parent's connected render has given it one naming the parent's process.
    token = nest.router.sign_nested_session(id, view, merged, nest, sticky=True) if sticky else ""
    static = nest.router.sign_static(id, {})
    opening = container_html(tag, {"id": id, "data-phx-session": token, "data-phx-static": static, **marks}, attributes)
    child = DeadChild(view, id, merged, LateHtml(f"the dead render of the nested view {id!r}"))
    nest.dead_children.append(child)
    return Rendered((opening, f"</{tag}>"), (child.html,), _fingerprint(view, id, tag, sticky))


def container_html(tag: str, ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> str:
    """The opening tag of a container: our attributes (id, tokens), then the app's (class, style...).

    The app's may not replace ours: an ``id`` or ``data-phx-*`` among them is left out.
    """
    parts = [f"<{tag}"]
    for name, value in ours.items():
        parts.append(_attribute(name, value))
    for name, value in theirs.items():
        if name not in ours and not name.startswith("data-phx-"):
            parts.append(_attribute(name, value))
    return "".join(parts) + ">"


def view_name(view: type) -> str:
    """How a session token names a view class: ``module:qualname``."""
    return f"{view.__module__}:{view.__qualname__}"


def check_container(container: object, where: str) -> Container:
    """``(tag, attributes)``, checked: a tag name and a mapping of attribute names to values."""
    if (
        not isinstance(container, tuple)
        or len(container) != 2
        or not isinstance(container[0], str)
        or not container[0].isalnum()
        or not isinstance(container[1], Mapping)
    ):
        raise TypeError(f'{where}: a container is (tag, attributes), such as ("section", {{"class": "wide"}}); got {container!r}')
    return container[0], dict(container[1])


# ---------------------------------------------------------------- helpers


def _check_arguments(view: object, id: object, session: object) -> dict[str, Any]:
    if not (isinstance(view, type) and issubclass(view, LiveView)):
        raise TypeError(f"live_render() needs a LiveView subclass; got {view!r}")
    if not isinstance(id, str) or not id:
        raise ValueError(f"live_render({view.__qualname__}) needs an id: a non-empty string unique on the page; got {id!r}")
    if session is None:
        return {}
    if not isinstance(session, Mapping) or not all(isinstance(key, str) for key in session):
        raise TypeError(f"live_render({view.__qualname__}, id={id!r}): session must be a dict with string keys; got {session!r}")
    return dict(session)


def _container_of(view: type, container: object) -> Container:
    if container is None:
        container = getattr(view, "container", DEFAULT_CONTAINER)
    return check_container(container, f"live_render({view.__qualname__})")


def _attribute(name: str, value: object) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return f" {name}"
    return f' {name}="{escape(value)}"'


def _fingerprint(view: type, id: str, tag: str, sticky: bool) -> int:
    digest = hashlib.blake2b(repr(("live_render", view_name(view), id, tag, sticky)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1

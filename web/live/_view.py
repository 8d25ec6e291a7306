"""The LiveView behaviour and its socket: assigns with change tracking, and what a view asks for.

A LiveView is a process that renders HTML and re-renders on events; see
``web.live`` for the whole picture. This module holds what a view's author
touches: :class:`LiveView` (callbacks) and :class:`LiveSocket`::

    class Chat(LiveView):
        on_mount = [require_user]                       # hooks run before mount

        async def mount(self, params, session, socket):
            socket.assign(user=session["user"], body="")
            socket.stream("messages", [])               # sent once, kept by the page
            socket.assign_async("history", load_history)    # loading, then ok/failed
            if socket.connected:
                PubSub.subscribe("chat", "room:lobby")

        async def handle_info(self, message, socket):
            socket.stream_insert("messages", message)

Everything a callback does to the socket takes effect when it returns: the
view re-renders what changed and the page gets one diff carrying the
changes, pushed events (``"e"``), a new title (``"t"``), or a navigation.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ClassVar, TypeVar, Unpack
from urllib.parse import urlsplit

from ._async import AsyncResult
from ._hooks import COMPONENT_STAGES, HALT, Halt, Hooks
from ._rendered import Rendered
from ._stream import LiveStream, StreamAsync, Streams
from ._upload import UploadConfig, UploadEntry, UploadOptions, Uploads

__all__ = ["LiveView", "LiveSocket", "Halt", "HALT"]


#: An ``on_mount`` hook: ``async hook(params, session, socket)``; returning :data:`HALT` stops the mount.
OnMountHook = Callable[[Any, Any, "LiveSocket"], Awaitable[object]]

_Consumed = TypeVar("_Consumed")


class LiveSocket:
    """A view's (or a component's) state: ``assigns``, what changed since the last render, and requests."""

    def __init__(self, *, connected: bool, view_id: str, myself: int | None = None) -> None:
        self.assigns: dict[str, Any] = {"flash": {}}
        self.changed: set[str] = set(self.assigns)
        self.connected = connected
        self.id = view_id
        self.connect_params: dict[str, Any] | None = None  # the client's join params once connected
        self.events: list[list[Any]] = []  # push_event()s waiting for the next diff
        self.title: str | None = None
        self.navigation: tuple[str, str, str | None] | None = None  # ("patch" | "navigate" | "redirect", to, kind)
        self.temporary: dict[str, Any] = {}  # assign -> the value it returns to after each render
        # (name, function, what the outcome is for: assign_async's keys, a stream_async's stream, None) to start
        self.async_requests: list[tuple[object, Callable[[], Any], list[str] | StreamAsync | None]] = []
        self.async_cancels: list[object] = []
        # Lifecycle hooks (attach_hook); a component's socket has only the stages a component runs.
        self.hooks = Hooks(COMPONENT_STAGES) if myself is not None else Hooks()
        self.parent_id: str | None = None  # a nested view's parent's id (live_render)
        self.tracked_static: frozenset[str] | None = None  # the router's tracked_static, for static_changed()
        if myself is not None:
            self.assigns["myself"] = myself

    # -- assigns ---------------------------------------------------------------

    def assign(self, **values: object) -> LiveSocket:
        """Set assigns; only those whose value really changes are marked changed."""
        for key, value in values.items():
            if key not in self.assigns or self.assigns[key] != value or not _comparable(value):
                self.assigns[key] = value
                self.changed.add(key)
        return self

    def update(self, key: str, function: Callable[[Any], Any]) -> LiveSocket:
        """``assigns[key] = function(assigns[key])``."""
        return self.assign(**{key: function(self.assigns[key])})

    def assign_new(self, key: str, default: Callable[[], Any]) -> LiveSocket:
        """Assign ``default()`` to ``key`` unless it is already assigned."""
        if key not in self.assigns:
            self.assign(**{key: default()})
        return self

    def temporary_assigns(self, **defaults: object) -> LiveSocket:
        """After every render, reset these assigns to their default (rendered once, then forgotten)."""
        self.temporary.update(defaults)
        return self

    def after_render(self) -> None:
        """Reset temporary assigns (not a change: the page keeps what it was sent)."""
        self.changed.clear()
        for key, default in self.temporary.items():
            self.assigns[key] = default
        streams = self.assigns.get("streams")
        if streams is not None:
            for stream in streams:
                stream.rendered()

    # -- page effects ------------------------------------------------------------

    def push_event(self, name: str, payload: dict[str, Any], *, dispatch_before: bool = False) -> LiveSocket:
        """Send a ``phx:<name>`` event to the page (and its hooks) with the next diff."""
        self.events.append([name, payload, True] if dispatch_before else [name, payload])
        return self

    def page_title(self, title: str) -> LiveSocket:
        self.title = title
        return self

    def put_flash(self, kind: str, message: str) -> LiveSocket:
        """Show a flash message (``@flash[kind]``); ``lv:clear-flash`` from the page clears it."""
        return self.assign(flash={**self.assigns["flash"], kind: message})

    def clear_flash(self, kind: str | None = None) -> LiveSocket:
        flash = {} if kind is None else {k: v for k, v in self.assigns["flash"].items() if k != kind}
        return self.assign(flash=flash)

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

    def static_changed(self) -> bool:
        """Whether the page runs other static files than the server serves now (a deploy since it loaded).

        The client sends the ``src``/``href`` of the page's elements marked
        ``phx-track-static``; they are compared, path and query, with the
        router's ``tracked_static``. False on the dead render, when the page
        tracks nothing, or when the router tracks nothing. Typical use, in
        ``mount``: ``socket.assign(static_changed=socket.static_changed())``
        and a "reload" banner in the template.
        """
        tracked = (self.connect_params or {}).get("_track_static")
        if not self.connected or self.tracked_static is None or not isinstance(tracked, list):
            return False
        return any(_path_and_query(url) not in self.tracked_static for url in tracked)

    # -- lifecycle hooks -----------------------------------------------------------

    def attach_hook(self, name: str, stage: str, function: Callable[..., Any]) -> LiveSocket:
        """Run ``function`` before the view's ``stage`` callback (see ``web.live._hooks``).

        ``stage``: ``handle_params``, ``handle_event``, ``handle_info``,
        ``handle_async`` or ``after_render``. The hook returns None to go on,
        :data:`HALT` to stop there.

        Raises:
            ValueError: an unknown stage (or one a component has not), or ``name``
                already attached on it.
        """
        self.hooks.attach(name, stage, function)
        return self

    def detach_hook(self, name: str, stage: str) -> LiveSocket:
        """Remove the hook ``name`` from ``stage`` (nothing if it is not attached)."""
        self.hooks.detach(name, stage)
        return self

    # -- streams -----------------------------------------------------------------

    def stream(
        self,
        name: str,
        items: Iterable[Any],
        *,
        at: int = -1,
        reset: bool = False,
        limit: int | None = None,
        dom_id: Callable[[Any], str] | None = None,
    ) -> LiveSocket:
        """Create the stream ``name`` (first call) and insert ``items``; ``reset`` empties it first."""
        streams = self._streams()
        stream = streams.get(name) or streams.add(name, dom_id)
        if reset:
            stream.clear()
        for item in items:
            stream.insert(item, at=at, limit=limit)
        self.changed.add("streams")
        return self

    def stream_configure(self, name: str, *, dom_id: Callable[[Any], str]) -> LiveSocket:
        """Configure the stream ``name`` before it is created: ``dom_id(item)`` names each item's element.

        For a stream whose items come in several places (``stream``,
        ``stream_insert``, ``stream_async``) with one naming rule, set once in ``mount``.

        Raises:
            ValueError: the stream exists already (its items are named by then).
        """
        self._streams().configure(name, dom_id)
        return self

    def _streams(self) -> Streams:
        streams = self.assigns.get("streams")
        if streams is None:
            myself = self.assigns.get("myself")
            streams = self.assigns["streams"] = Streams(f"{myself}-" if myself is not None else "")
        return streams

    def stream_insert(
        self, name: str, item: Any, *, at: int = -1, limit: int | None = None, update_only: bool = False
    ) -> LiveSocket:
        """Insert (or update, by dom id) one item: ``at`` -1 appends, 0 prepends; ``limit`` prunes."""
        self._stream(name).insert(item, at=at, limit=limit, update_only=update_only)
        self.changed.add("streams")
        return self

    def stream_delete(self, name: str, item: Any) -> LiveSocket:
        self._stream(name).delete(item)
        self.changed.add("streams")
        return self

    def stream_delete_by_dom_id(self, name: str, dom_id: str) -> LiveSocket:
        self._stream(name).delete_by_dom_id(dom_id)
        self.changed.add("streams")
        return self

    def _stream(self, name: str) -> LiveStream:
        streams = self.assigns.get("streams")
        stream = streams.get(name) if streams is not None else None
        if stream is None:
            raise KeyError(f"no stream {name!r}: call socket.stream({name!r}, items) first")
        return stream

    # -- async work --------------------------------------------------------------

    def assign_async(self, keys: str | list[str], function: Callable[[], Any]) -> LiveSocket:
        """Run ``function`` beside the view; assign its result (a dict for several keys).

        Until it finishes, each key holds ``AsyncResult(loading=True)``; then
        ``AsyncResult(ok=True, result=...)`` or, if it raised,
        ``AsyncResult(failed=exception)``. Runs only once connected.
        """
        names = [keys] if isinstance(keys, str) else list(keys)
        self.assign(**{name: AsyncResult.pending() for name in names})
        if self.connected:
            self.async_requests.append((tuple(names), function, names))
        return self

    def start_async(self, name: object, function: Callable[[], Any]) -> LiveSocket:
        """Run ``function`` beside the view; ``handle_async(name, ("ok", value) | ("exit", reason), socket)``."""
        if self.connected:
            self.async_requests.append((name, function, None))
        return self

    def stream_async(self, name: str, function: Callable[[], Any], *, reset: bool = False) -> LiveSocket:
        """Run ``function`` beside the view and insert the items it returns into the stream ``name``.

        The stream is created (empty) if it is not yet, so the template can
        always read ``@streams.<name>``; the assign ``name`` holds an
        :class:`AsyncResult`: loading, then ``ok`` (its ``result`` True) once
        the items are in, or ``failed`` with the exception ``function`` raised
        (the stream is left as it was). ``function`` returns the items, or
        ``(items, options)`` with the options of :meth:`stream` (``at``,
        ``reset``, ``limit``). ``reset`` here is about the assign only: True
        forgets the previous outcome while loading again. Runs only once
        connected; ``cancel_async(name)`` stops it.
        """
        if self._streams().get(name) is None:
            self.stream(name, [])
        previous = self.assigns.get(name)
        if reset or not isinstance(previous, AsyncResult):
            self.assign(**{name: AsyncResult.pending()})
        else:
            self.assign(**{name: AsyncResult(loading=True, ok=previous.ok, result=previous.result)})
        if self.connected:
            self.async_requests.append((name, function, StreamAsync(name)))
        return self

    def cancel_async(self, name: object) -> LiveSocket:
        """Stop the work started under ``name`` (a start_async name, or an assign_async key).

        A start_async's result, if any, is dropped; assign_async keys become
        failed with ``Shutdown("cancel")`` (Phoenix's ``{:exit, {:shutdown, :cancel}}``).
        """
        self.async_cancels.append(name)
        return self

    # -- uploads ---------------------------------------------------------------

    def allow_upload(self, name: str, **options: Unpack[UploadOptions]) -> LiveSocket:
        """Allow the upload ``name`` (``@uploads.<name>``): accept, max_entries, max_file_size, ..."""
        uploads = self.assigns.get("uploads")
        if uploads is None:
            uploads = self.assigns["uploads"] = Uploads()
        uploads.add(name, **options)
        self.changed.add("uploads")
        return self

    def uploaded_entries(self, name: str) -> tuple[list[UploadEntry], list[UploadEntry]]:
        """``(done, in_progress)`` entries of the upload ``name``."""
        config = self._upload(name)
        done = [entry for entry in config.entries if entry.done]
        return done, [entry for entry in config.entries if not entry.done]

    def consume_uploaded_entries(
        self, name: str, function: Callable[[Any, UploadEntry], _Consumed]
    ) -> list[_Consumed]:
        """Call ``function(path, entry)`` for every finished entry, then delete its file; return the results.

        An external upload's entry (``allow_upload(..., external=...)``) has no
        file here: ``function(meta, entry)`` gets the meta its preflight gave.
        """
        config = self._upload(name)
        results = []
        for entry in config.take_done():
            if entry.meta is not None:
                results.append(function(entry.meta, entry))
                continue
            assert entry.path is not None  # (only an entry with a file or a meta is ever done: see put_progress)
            try:
                results.append(function(entry.path, entry))
            finally:
                entry.path.unlink(missing_ok=True)
        self.changed.add("uploads")
        return results

    def cancel_upload(self, name: str, entry_ref: str) -> LiveSocket:
        self._upload(name).cancel(entry_ref)
        self.changed.add("uploads")
        return self

    def _upload(self, name: str) -> UploadConfig:
        uploads = self.assigns.get("uploads")
        config = uploads.get(name) if uploads is not None else None
        if config is None:
            raise KeyError(f"no upload {name!r}: call socket.allow_upload({name!r}, ...) in mount first")
        return config


def _path_and_query(url: object) -> str:
    """``/app.js?vsn=1`` of a tracked static's URL, absolute or not, so that the origin does not count."""
    if not isinstance(url, str):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _comparable(value: object) -> bool:
    # Mutable containers may have been changed in place: treat them as changed.
    return not isinstance(value, (list, dict, set))


class LiveView:
    """Subclass and define ``render(assigns, changed)`` and the callbacks you need.

    ``render`` may use a compiled template (``web.live`` templates) or build
    a :class:`Rendered` by hand; it gets ``assigns`` and, for change
    tracking, ``changed`` (the set of assigns changed since the last render,
    or None for a full render).

    ``on_mount``: hooks ``async hook(params, session, socket)`` run before
    ``mount`` (on the dead render and on the connected mount); one that
    returns :data:`HALT` stops the mount, having redirected.

    ``container``: ``(tag, attributes)`` of the element the view lives in on
    the page, ``("div", {})`` by default (a route's ``LiveRoute(container=...)``
    and ``live_render(container=...)`` come first).

    ``template``: what the inherited ``render`` renders, so a view needs no
    ``render`` of its own: template source (compiled when the class is
    made, with the names of its module) or a compiled template; without
    one, a file beside the module named after the class (``TodoLive`` →
    ``todo_live.html.heex``). See ``web.live._template``, "A view's
    template".
    """

    on_mount: ClassVar[list[OnMountHook]] = []
    container: ClassVar[tuple[str, dict[str, Any]]] = ("div", {})
    template: ClassVar[Any] = None  # a Template once the class is made (see view_template)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("mount", "handle_params", "handle_event", "handle_info", "handle_async", "terminate"):
            if not inspect.iscoroutinefunction(getattr(cls, name)):
                raise TypeError(f"{cls.__qualname__}.{name} must be an async function (async def {name}(...))")
        from ._template import view_template  # (here: the templates' components import this module)

        cls.template = view_template(cls, renders_itself=cls.render is not LiveView.render)

    # The data parameters are typed Any (params and session are dicts, an event's
    # value a dict or a string) so that a subclass may annotate them as narrowly
    # as it likes (dict[str, str], a TypedDict) without an override error.

    async def mount(self, params: Any, session: Any, socket: LiveSocket) -> None:
        return None

    async def handle_params(self, params: Any, uri: str, socket: LiveSocket) -> None:
        return None

    async def handle_event(self, event: str, value: Any, socket: LiveSocket) -> dict[str, Any] | None:
        """Handle a page event; a dict returned is the reply to the hook that pushed it (``pushEvent``)."""
        raise NotImplementedError(f"{type(self).__qualname__} got the event {event!r} but defines no handle_event")

    async def handle_info(self, message: Any, socket: LiveSocket) -> None:
        return None

    async def handle_async(self, name: Any, outcome: tuple[str, Any], socket: LiveSocket) -> None:
        raise NotImplementedError(
            f"{type(self).__qualname__} started async work {name!r} but defines no handle_async to take its result"
        )

    async def terminate(self, reason: Any, socket: LiveSocket) -> None:
        return None

    def render(self, assigns: dict[str, Any], changed: set[str] | None) -> Rendered:
        """The view's ``template`` rendered (``changed``: only the slots reading those assigns)."""
        template = type(self).template
        if template is None:
            from ._template import view_file_name  # (see __init_subclass__)

            raise NotImplementedError(
                f"{type(self).__qualname__} has nothing to render: define render(assigns, changed), set "
                f"template = '''...''' on the class, or put {view_file_name(type(self))}.html.heex beside its module"
            )
        return template.render(assigns, changed)

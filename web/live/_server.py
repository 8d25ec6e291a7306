"""The LiveView process: a channel specialisation serving ``lv:<id>`` (docs/protocol/liveview.md).

Join: verify the session token (signed, for this view id), resolve the
route from the URL, run the ``on_mount`` hooks, ``mount`` and
``handle_params``, render in full, reply ``{"rendered": diff,
"liveview_version": ...}``. Then every push gets exactly one reply (the
client reloads after 30 s without one):

=======================  ===============================================================
push                     what the view does
=======================  ===============================================================
``event``                ``handle_event`` (of the view, or of the component ``cid``);
                         form values decoded like Plug; reply ``{"diff": D}`` or ``{}``
``live_patch``           ``handle_params`` for the same view, else ``link_redirect``
``allow_upload``         the upload preflight: a token per entry
``progress``             an upload entry's progress; at 100 it is done
``cids_will_destroy``,   components leaving the page ("Component destruction")
``cids_destroyed``
=======================  ===============================================================

Messages to the process go to ``handle_info`` (async results to
``handle_async`` or straight into their assigns, ``send_update`` to its
component); what they change is pushed as a ``diff``. A token that does not
verify, a topic that is not the token's view id, or a socket whose CSRF
token failed, is answered ``{"reason": "stale"}``, which makes the client
reload the page (never a 403 loop).

Nothing in a client's payload is trusted: every join and push is read
through ``_payloads.py``, whose table lists each field and the type it
must have. A field of the wrong type is answered ``error {"reason":
reason}`` (a join: refused the same way) and the view goes on, untouched;
a push the view does not know is answered ``ok {}``.

A crash is a crash of this process: the socket sends ``phx_error``, the
client rejoins with a fresh mount, and the crash report names the view and
the event it was handling. It goes to the logger ``web.live``, with the
fields ``otp_view``, ``otp_topic`` and ``otp_url`` (see ``otp.log``).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import orjson

import otp
from otp import Down, Shutdown, Stop, telemetry
from otp.lowlevel import set_report_details
from web._telemetry import LIVE_VIEW_RENDER_STOP
from web.channel import Channel, ChannelSocket, Error, Ok
from web.token import InvalidToken, sign, verify

from ._async import AsyncDone, AsyncResult, run_async
from ._component import Components, SendUpdate, current_components
from ._diff import DiffState
from ._forms import current_csrf_token
from ._nested import INCARNATION, Nest, current_nest
from ._payloads import (
    BadPayload,
    EventPush,
    JoinPush,
    ProgressPush,
    UploadPush,
    allow_upload_push,
    cids_push,
    event_push,
    join_push,
    live_patch_url,
    progress_push,
)
from ._stream import StreamAsync, stream_async_items
from ._upload import UploadJoined
from ._view import HALT, LiveSocket, LiveView
from ._wire import (
    ALLOW_UPLOAD,
    CIDS_DESTROYED,
    CIDS_WILL_DESTROY,
    COMPONENTS,
    DIFF,
    EVENT,
    EVENTS,
    LIVE_PATCH,
    LIVE_REDIRECT,
    PROGRESS,
    REDIRECT,
    RENDERED,
    REPLY,
    ROOT,
    TITLE,
)

if TYPE_CHECKING:
    from ._router import LiveRouter, Route  # (which imports this module)

__all__ = ["LiveViewChannel", "LIVEVIEW_VERSION", "SESSION_SALT", "mount_view", "default_title"]

# The client this project ships and is tested with (docs/protocol/liveview.md, "The join reply").
LIVEVIEW_VERSION = "1.2.12"
SESSION_SALT = "liveview session"
FLASH_SALT = "liveview flash"
STATIC_SALT = "liveview static"
SESSION_MAX_AGE = 14 * 24 * 3600
LEFT_BY_NAVIGATION = Shutdown("navigated")  # normal: the client gets phx_close after the reply
MAX_PATCHES = 20  # consecutive push_patch from handle_params: a loop (Phoenix's limit)
CANCELLED = Shutdown("cancel")  # what a cancelled assign_async fails with
PARENT_EXITED = Shutdown("parent_exited")  # a nested view's parent ended: so does it


RELOAD_SALT = "liveview reload"

logger = logging.getLogger("web.live")  # crash reports of LiveView processes


class HTTPError(Exception):
    """Raise from ``mount`` (or ``handle_params``) to answer with an HTTP status, e.g. ``HTTPError(404)``.

    Any exception with an int ``status_code`` attribute does the same. A
    4xx makes the dead render answer with that status and a live join
    answer ``reload`` with it, so the client reloads into that error page.
    """

    def __init__(self, status_code: int, message: str = "") -> None:
        super().__init__(message or f"HTTP {status_code}")
        self.status_code = status_code


def http_status(error: BaseException) -> int | None:
    """The 4xx an exception from mount stands for, or None (a crash)."""
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) and 400 <= status <= 499 else None


def _span(callback: str, metadata: dict):
    """A telemetry span around a view callback, Phoenix LiveView's event names; free when unwatched."""
    prefix = ("web", "live_view", callback)
    if telemetry.attached(prefix + ("start",), prefix + ("stop",), prefix + ("exception",)):
        return telemetry.span(prefix, metadata)
    return contextlib.nullcontext()


def default_title(view: type) -> str:
    """The title of a view's page when the view sets none with ``page_title``: its class's name."""
    return view.__name__


async def mount_view(view, socket: LiveSocket, params: dict, session: dict, url: str, *, route: Route | None = None) -> object:
    """``on_mount`` hooks (the live session's, then the view's), ``mount``, ``handle_params``.

    Returns HALT if a hook halted. The dead render and the join both mount
    this way. ``route`` is None for a nested view: it has no URL, so no
    ``handle_params``, and its ``live_action`` is None.
    """
    socket.assign(live_action=route.action if route is not None else None)
    hooks = (*(route.on_mount if route is not None else ()), *type(view).on_mount)
    for hook in hooks:
        if await hook(params, session, socket) is HALT:
            return HALT
    await view.mount(params, session, socket)
    if route is not None and socket.navigation is None:
        await handle_params(view, socket, params, url)
    return None


async def handle_params(view, socket: LiveSocket, params: dict, url: str) -> None:
    """The ``handle_params`` hooks (``attach_hook``), then the view's ``handle_params`` unless one halted."""
    if "handle_params" in socket.hooks and await socket.hooks.run("handle_params", params, url, socket) is not None:
        return
    await view.handle_params(params, url, socket)


class LiveViewChannel(Channel):
    """Serves ``lv:*`` for a :class:`~web.live.LiveRouter` (which sets ``router`` and ``secret``)."""

    router: LiveRouter  # set with the secret by the LiveRouter, on the subclass it makes
    secret: str = ""

    # -- join --------------------------------------------------------------------------

    async def join(self, topic: str, payload: dict, socket: ChannelSocket) -> Ok | Error:
        if not socket.assigns.get("csrf_ok", True):
            return Error({"reason": "stale"})
        try:
            fields = join_push(payload)
        except BadPayload as error:
            return Error({"reason": error.reason})
        session = self._verify_session(topic, payload)
        static = self._verify_static(topic, payload)
        if session is None or static is None:
            return Error({"reason": "stale"})
        if "view" in session:  # a view live_render placed: its session names it, not a route
            return await self._mount_nested(session, static, fields, payload, socket)
        found = self.router.match(fields.url)
        if found is None:
            # A live navigation to what is not a LiveView is "unauthorized" (docs/protocol/liveview.md, "Join errors");
            # either way the client falls back to a full page load.
            return Error({"reason": "unauthorized" if fields.redirect else "stale"})
        route, params = found
        if fields.redirect and route.live_session != session.get("live_session"):
            return Error({"reason": "unauthorized"})  # live navigation out of the live session
        if fields.redirect and not self.router.same_layout(route, session.get("route")):
            return Error({"reason": "unauthorized"})  # the page's layout is dead HTML: only a page load changes it
        if not fields.redirect and route.path != session.get("route"):
            return Error({"reason": "stale"})
        return await self._mount(route, params, session, static, fields, payload, socket)

    def _verify_session(self, topic: str, payload: dict) -> dict | None:
        try:
            session = verify(self.secret, SESSION_SALT, payload.get("session"), max_age=SESSION_MAX_AGE)
        except InvalidToken:
            return None
        if not isinstance(session, dict) or session.get("id") != topic.removeprefix("lv:"):
            return None
        return session

    def _verify_static(self, topic: str, payload: dict) -> dict | None:
        """The static token's contents; ``{}`` when the page sent none (``""`` is sent as null)."""
        token = payload.get("static")
        if not token:
            return {}
        try:
            static = verify(self.secret, STATIC_SALT, token, max_age=SESSION_MAX_AGE)
        except InvalidToken:
            return None
        if not isinstance(static, dict) or static.get("id") != topic.removeprefix("lv:"):
            return None  # a static token of another view (docs/protocol/liveview.md, "Session and static tokens")
        return static

    async def _mount(
        self, route, params: dict, session: dict, static: dict, fields: JoinPush, payload: dict, socket
    ) -> Ok | Error:
        url = fields.url
        user_session = self._begin(route.view(), route, url, session, static, fields, payload, socket)
        with _span("mount", {"view": route.view, "url": url, "params": params}):
            try:
                halted = await mount_view(self.view, self.live, params, user_session, url, route=route)
            except Exception as error:
                status = http_status(error)
                if status is None:
                    raise
                # A 4xx from mount (not found, forbidden...): the client sets a cookie and
                # reloads, and the dead render answers with that status (docs/protocol/liveview.md, "Join errors").
                return Error({"reason": "reload", "status": status, "token": sign(self.secret, RELOAD_SALT, status)})
        self._start_async_work()
        reply: dict = {}
        for _ in range(MAX_PATCHES + 1):
            navigation, self.live.navigation = self.live.navigation, None
            if navigation is None or navigation[0] != "patch" or halted is HALT:
                break
            # push_patch during mount: handle_params with the new URL, which may patch again.
            await self._patch(navigation[1])
            reply[LIVE_PATCH] = {"to": navigation[1], "kind": navigation[2]}
        else:
            raise RuntimeError(f"{type(self.view).__qualname__}: more than {MAX_PATCHES} consecutive push_patch (a loop?)")
        if navigation is not None and navigation[0] != "patch":
            refusal = self._navigation_reply(navigation)
            if self.live.events:  # the client dispatches them before it navigates
                refusal["events"], self.live.events = self.live.events, []
            return Error(refusal)
        if halted is HALT:
            return Error({"reason": "stale"})  # a hook halted without saying where to go
        if fields.redirect and self.live.title is None:
            # Live navigation keeps the page, and so the previous view's <title>: give this view
            # the title its own page load shows, so one URL has one title however it was reached.
            self.live.page_title(default_title(route.view))
        if fields.redirect:
            # The new view's container element: the client reshapes the one it keeps ("The join reply").
            reply["container"] = _container_reply(route.container)
        reply[RENDERED] = await self._diff(full=True)
        reply["liveview_version"] = LIVEVIEW_VERSION
        return Ok(reply)

    def _begin(
        self, view: LiveView, route: Route | None, url: str, session: dict, static: dict, fields: JoinPush, payload: dict, socket
    ) -> dict:
        """The state of a view process before its mount; returns the user session to mount with."""
        view_id = socket.topic.removeprefix("lv:")
        self.view = view
        self.route = route  # None for a nested view
        self.url = url
        self.event: str | None = None
        self.component: str | None = None  # the component handling the current event, for crash reports
        self.message: object = None  # the message handle_info is handling, for crash reports
        self.live = LiveSocket(connected=True, view_id=view_id)
        self.live.tracked_static = self.router.tracked_static
        self.nesting = _Nesting(session)  # what live_render needs; a nested view's parent, if any
        self._nest: Nest | None = None  # made from it at the first render
        self.live.parent_id = self.nesting.parent_id
        self.components = Components(lambda cid: LiveSocket(connected=True, view_id=view_id, myself=cid))
        self.tracker = DiffState()
        self.sent_title: str | None = None
        self.tasks: dict[tuple, _AsyncTask] = {}  # (cid or None for the view, async name) -> its work
        self.task_tokens = iter(range(1, 1 << 62))
        self.socket = socket
        self._describe_crashes()
        # Set once for this process (a channel process runs in one task): its renders' <.form action=...>.
        current_csrf_token.set(socket.assigns.get("csrf_token"))
        self._take_flash(payload.get("flash"))
        self.live.assign(flash={**self.live.assigns["flash"], **static.get("flash", {})})
        # mount gets the URL's params only, as on the dead render (else the two renders can
        # differ); the client's connect params (_csrf_token, _mounts, ...) are apart.
        self.live.connect_params = dict(fields.params)
        return session.get("session", {})

    async def _mount_nested(self, session: dict, static: dict, fields: JoinPush, payload: dict, socket) -> Ok | Error:
        """Join a view ``live_render`` placed (docs/protocol/liveview.md, "Nested views").

        It has no URL: no params, no ``handle_params``. Unless sticky, it
        watches its parent's process and ends with it; a parent already gone
        (or of an earlier run of the server) is ``stale``, as is a view no
        render of this server has placed.
        """
        view_cls = self.router.nested_views.get(session.get("view"))  # type: ignore[arg-type]
        nesting = _Nesting(session)
        if view_cls is None or not nesting.watch_parent():
            return Error({"reason": "stale"})
        user_session = self._begin(view_cls(), None, "", session, static, fields, payload, socket)
        self.nesting = nesting
        with _span("mount", {"view": view_cls, "url": "", "params": {}}):
            halted = await mount_view(self.view, self.live, {}, user_session, "")
        self._start_async_work()
        navigation, self.live.navigation = self.live.navigation, None
        if navigation is not None and navigation[0] == "patch":
            self.nesting.patch_root(navigation)  # a child has no URL: it patches its page's
        elif navigation is not None:
            return Error({**self._navigation_reply(navigation), "events": self.live.events})
        if halted is HALT:
            return Error({"reason": "stale"})
        return Ok({RENDERED: await self._diff(full=True), "liveview_version": LIVEVIEW_VERSION})

    def _describe_crashes(self) -> None:
        """Have this process's crash report name the view, its topic and URL (as text and as record fields)."""
        view = type(self.view)
        fields = {"otp_view": f"{view.__module__}.{view.__qualname__}", "otp_topic": self.socket.topic, "otp_url": self.url}
        set_report_details(self._report_details, logger=logger, fields=fields)

    def _report_details(self) -> dict[str, object]:
        details: dict[str, object] = {"view": type(self.view).__qualname__, "url": self.url}
        if self.event is not None:
            details["event"] = self.event
        if self.message is not None:
            details["message"] = self.message
        if self.component is not None:
            details["component"] = self.component
        details["assigns"] = {k: v for k, v in self.live.assigns.items() if k not in ("streams", "uploads")}
        return details

    def _take_flash(self, token: object) -> None:
        if not token:
            return
        try:
            flash = verify(self.secret, FLASH_SALT, token, max_age=60)
        except InvalidToken:
            return
        if isinstance(flash, dict):
            self.live.assign(flash={str(k): str(v) for k, v in flash.items()})

    # -- pushes ------------------------------------------------------------------------

    async def handle_in(self, event: str, payload: dict | bytes, socket: ChannelSocket) -> Ok | Error | Stop:
        push = self._PUSHES.get(event)
        if push is None:
            return Ok({})  # every push gets a reply, even one we do not know
        read, handler = push
        try:
            fields = read(payload)
        except BadPayload as error:
            return Error({"reason": error.reason})  # the client's mistake: this push only
        return await handler(self, fields, socket)

    async def _on_event(self, push: EventPush, socket):
        name, value, cid = push.name, push.value, push.cid
        self.event = name
        if push.kind == "form":
            self._put_upload_entries(push.uploads, cid)
        if name == "lv:clear-flash":
            self.live.clear_flash(value.get("key") if isinstance(value, dict) else None)
            result = None
        elif cid is not None:
            result = await self._component_event(cid, name, value)
        else:
            with _span("handle_event", {"view": type(self.view), "event": name, "params": value}):
                result = await _handle_event(self.view, name, value, self.live)
        self.event = None
        return await self._reply(socket, reply_to_hook=result)

    async def _component_event(self, cid: int, name: str, value: object) -> object:
        component = self.components.get(cid)
        if component is None:
            return None  # destroyed meanwhile: nothing to do (Phoenix logs and ignores it too)
        # A crash report names the component too, not just the view: a report says where it happened.
        self.component = f"{component.module.__qualname__} id={component.id!r} cid={cid}"
        result = await _handle_event(component.instance, name, value, component.socket)
        self.component = None
        self._adopt_component_effects(cid, component.socket)
        if component.socket.changed:
            component.dirty = True
        return result

    async def _on_live_patch(self, url: str, socket):
        # The client followed a patch link (docs/protocol/liveview.md, "live_patch").
        if self.route is None:
            return Error({"reason": "a nested view has no URL: live_patch is for the page's main view"})
        found = self.router.match(url)
        if found is None or found[0].view is not type(self.view):
            return Ok({"link_redirect": True})
        await self._patch(url)
        return await self._reply(socket)

    async def _on_allow_upload(self, push: UploadPush, socket):
        config, live = self._upload_config(push.ref, push.cid)
        if config is None:
            return Ok({"ref": push.ref, "error": [[push.ref, "unknown upload"]]})
        response = config.preflight(push.entries, self.secret, self.live.id)
        if config.external is not None and response.get("entries"):
            # A direct-to-storage upload: each entry gets what its uploader needs instead of a token.
            response["entries"] = await config.external_metas(list(response["entries"]), live)
        self._uploads_changed(live, push.cid)
        diff = await self._diff()
        if diff:
            response[DIFF] = diff
        return Ok(response)

    async def _on_progress(self, push: ProgressPush, socket):
        config, live = self._upload_config(push.ref, push.cid)
        if config is not None:
            entry = config.put_progress(push.entry_ref, push.progress)
            if entry is not None:
                if config.progress is not None:
                    outcome = config.progress(config.name, entry, live)
                    if inspect.isawaitable(outcome):
                        await outcome
                self._uploads_changed(live, push.cid)
        return await self._reply(socket)

    async def _on_cids_will_destroy(self, cids: list[int], socket):
        self.components.will_destroy(cids)
        return Ok({})

    async def _on_cids_destroyed(self, cids: list[int], socket):
        doomed = [self.components.get(cid) for cid in cids]
        deleted = self.components.destroyed(cids)
        for component in doomed:
            if component is not None and component.cid in deleted:
                _discard_uploads(component.socket)  # its temporary files go with it
        for key in [key for key in self.tasks if key[0] in deleted]:
            self._cancel_async(key)  # a deleted component's async work has nobody to go to
        return Ok({"cids": deleted})

    # Each push: the function that reads (and checks) its payload, then the handler of what it read.
    _PUSHES: dict[str, tuple[Callable[[Any], object], Callable[..., Awaitable[Ok | Error | Stop]]]] = {
        EVENT: (event_push, _on_event),
        LIVE_PATCH: (live_patch_url, _on_live_patch),
        ALLOW_UPLOAD: (allow_upload_push, _on_allow_upload),
        PROGRESS: (progress_push, _on_progress),
        CIDS_WILL_DESTROY: (lambda payload: cids_push(payload, CIDS_WILL_DESTROY), _on_cids_will_destroy),
        CIDS_DESTROYED: (lambda payload: cids_push(payload, CIDS_DESTROYED), _on_cids_destroyed),
    }

    # -- messages ----------------------------------------------------------------------

    async def handle_info(self, message: object, socket: ChannelSocket) -> Stop | None:
        self.message = message  # named in a crash report
        result = await self._handle_info(message, socket)
        self.message = None
        return result

    async def _handle_info(self, message: object, socket) -> Stop | None:
        if message.__class__ is AsyncDone:
            task = self.tasks.get(message.name)
            if task is None or task.token != message.token:
                return None  # cancelled or replaced meanwhile: drop it
            del self.tasks[message.name]
            otp.demonitor(task.ref, flush=True)
            await self._apply_async(message.name, task.keys, message.outcome)
        elif message.__class__ is Down and (found := self._task_of(message.ref)) is not None:
            # The worker died without reporting (killed from outside): an exit.
            name, task = found
            await self._apply_async(name, task.keys, ("exit", message.reason))
        elif message.__class__ is SendUpdate:
            if not self.components.queue_update(message.module, message.id, message.assigns):
                return None  # no such component (any more): Phoenix ignores it too
        elif message.__class__ is Down and message.ref == self.nesting.parent_ref:
            return Stop(PARENT_EXITED)  # a nested view ends with its parent (the client gets phx_close)
        elif message.__class__ is PatchFromChild:
            self.live.push_patch(message.to, replace=message.kind == "replace")
        elif message.__class__ is UploadJoined:
            self._upload_joined(message)
            return None  # nothing on the page changes
        elif "handle_info" not in self.live.hooks or await self.live.hooks.run("handle_info", message, self.live) is None:
            await self.view.handle_info(message, self.live)
        return await self._push_changes(socket)

    async def _push_changes(self, socket) -> Stop | None:
        self._start_async_work()
        navigation = await self._navigate(socket)
        diff = await self._diff()
        if diff:
            socket.push(DIFF, diff)
        if navigation is not None:
            socket.push(*navigation)  # "redirect"/"live_redirect" after the last diff
            if not self._stays(navigation):
                return Stop(LEFT_BY_NAVIGATION)
        return None

    # -- async work ------------------------------------------------------------------

    def _start_async_work(self, cid: int | None = None, live: LiveSocket | None = None) -> None:
        """Start and cancel the async work the view (or component ``cid``) asked for.

        Tasks are keyed by ``(cid, name)``: a component's async result goes back
        to that component, not to the view.
        """
        live = self.live if live is None else live
        cancels, live.async_cancels = live.async_cancels, []
        for name in cancels:
            self._cancel_async_named(cid, name, live)
        requests, live.async_requests = live.async_requests, []
        for name, function, keys in requests:
            key = (cid, name)
            self._cancel_async(key)  # a new start under the same name replaces the old one
            token = next(self.task_tokens)
            pid, ref = otp.spawn_monitor(run_async, otp.current_pid(), key, token, function)
            self.tasks[key] = _AsyncTask(pid, ref, token, keys)

    def _cancel_async_named(self, cid: int | None, name: object, live: LiveSocket) -> None:
        # cancel_async("a") names an assign_async key, whose task is keyed by all its keys
        # (("a", "b")): find it, and fail its assigns as Phoenix does ({:exit, {:shutdown, :cancel}}),
        # rather than leave them loading forever. A start_async's result is just dropped.
        key = next(
            (k for k, task in self.tasks.items() if k[0] == cid and task.keys is not None and name in task.keys),
            (cid, name),
        )
        task = self.tasks.get(key)
        self._cancel_async(key)
        keys = task.keys if task is not None else None
        if isinstance(keys, StreamAsync):
            live.assign(**{keys.name: AsyncResult.failure(CANCELLED)})
        elif keys is not None:
            live.assign(**{k: AsyncResult.failure(CANCELLED) for k in keys})

    def _cancel_async(self, key: tuple) -> None:
        task = self.tasks.pop(key, None)
        if task is not None:
            otp.demonitor(task.ref, flush=True)
            otp.exit(task.pid, otp.KILL)

    def _task_of(self, ref) -> tuple[tuple, _AsyncTask] | None:
        """The task monitored with ``ref`` and its key, forgotten; None if it is not one of ours."""
        for name, task in list(self.tasks.items()):
            if task.ref == ref:
                del self.tasks[name]
                return name, task
        return None

    async def _apply_async(self, task_key: tuple, keys: list[str] | StreamAsync | None, outcome: tuple) -> None:
        cid, name = task_key
        component = None if cid is None else self.components.get(cid)
        if cid is not None and component is None:
            return  # the component was destroyed meanwhile
        live = self.live if component is None else component.socket
        if keys is None:
            handler = self.view if component is None else component.instance
            if "handle_async" not in live.hooks or await live.hooks.run("handle_async", name, outcome, live) is None:
                await handler.handle_async(name, outcome, live)
        elif isinstance(keys, StreamAsync):
            _stream_async_result(live, keys.name, outcome)
        else:
            _assign_async_result(live, keys, outcome)
        if component is not None and live.changed:
            component.dirty = True

    # -- uploads -----------------------------------------------------------------------

    def _upload_config(self, ref: str, cid: int | None) -> tuple:
        """``(config, socket)`` of upload ``ref``: the view's, or component ``cid``'s (the client
        sends ``cid`` for an input inside a component: docs/protocol/liveview.md, "Uploads")."""
        component = self.components.get(cid) if cid is not None else None
        live = self.live if component is None else component.socket
        uploads = live.assigns.get("uploads")
        return (uploads.by_ref(ref) if uploads is not None else None), live

    def _upload_joined(self, message: UploadJoined) -> None:
        """Note which upload channel receives an entry, to end it once the entry leaves (web.live._upload)."""
        sockets = [self.live, *(component.socket for component in self.components)]
        for live in sockets:
            uploads = live.assigns.get("uploads")
            if uploads is not None and any(config.joined(message.ref, message.channel) for config in uploads):
                return

    def _uploads_changed(self, live: LiveSocket, cid: int | None) -> None:
        live.changed.add("uploads")
        if live is not self.live and cid is not None:
            self.components.mark_dirty(cid)

    def _put_upload_entries(self, uploads: dict[str, list[dict]], cid: int | None) -> None:
        for ref, metas in uploads.items():
            config, live = self._upload_config(ref, cid)
            if config is not None:
                config.put_entries(metas)
                self._uploads_changed(live, cid)

    # -- rendering and replies -----------------------------------------------------------

    async def _reply(self, socket, *, reply_to_hook: object = None) -> Ok | Stop:
        self._start_async_work()
        navigation = await self._navigate(socket)
        response: dict = {}
        diff = await self._diff()
        if isinstance(reply_to_hook, dict):
            diff[REPLY] = reply_to_hook  # a reply to the hook that pushed the event ("Top-level keys")
        else:
            diff.pop(ROOT, None)  # a root flag here would read as the hook's reply ("Top-level keys")
        if diff:
            response[DIFF] = diff
        if navigation is not None:
            response[navigation[0]] = navigation[1]
            if not self._stays(navigation):
                return Stop(LEFT_BY_NAVIGATION, reply=Ok(response))
        return Ok(response)

    def _stays(self, navigation: tuple[str, dict]) -> bool:
        """Whether this view lives on after the navigation it asked for: a sticky view's live
        navigation changes the page around it, which keeps its element (and so its process)."""
        return self.nesting.sticky and navigation[0] == LIVE_REDIRECT

    async def _navigate(self, socket) -> tuple[str, dict] | None:
        """Act on push_patch (here) / push_navigate / redirect (returned: the view then stops)."""
        for _ in range(MAX_PATCHES):
            navigation, self.live.navigation = self.live.navigation, None
            if navigation is None:
                return None
            kind, to, mode = navigation
            if kind != "patch":
                return self._navigation_reply(navigation).popitem()
            if self.route is None:  # a nested view has no URL: its page's root view patches
                self.nesting.patch_root(navigation)
                return None
            await self._patch(to)
            socket.push(LIVE_PATCH, {"to": to, "kind": mode})  # before the reply with the diff
        raise RuntimeError(f"{type(self.view).__qualname__}: more than {MAX_PATCHES} consecutive push_patch (a loop?)")

    async def _patch(self, to: str) -> None:
        found = self.router.match(to)
        if found is None or found[0].view is not type(self.view):
            # Phoenix raises too: the client would show this view at the other view's URL.
            raise ValueError(
                f"{type(self.view).__qualname__} cannot push_patch to {to!r}: it is not a route of this view; "
                "use push_navigate(to) to go to another LiveView"
            )
        params = found[1]
        # push_patch("/path?q") gives a path: handle_params always gets the absolute URL,
        # as on the join (the client's location.href) and the dead render (_router.page_url).
        self.url = urljoin(self.url, to)
        self._describe_crashes()  # its report names the URL the view is at
        self.route = found[0]
        self.live.assign(live_action=self.route.action)  # two routes of one view may have two actions
        await handle_params(self.view, self.live, params, self.url)

    def _navigation_reply(self, navigation: tuple) -> dict:
        kind, to, mode = navigation
        target: dict = {"to": to}
        flash = self.live.assigns.get("flash")
        if flash:
            target["flash"] = sign(self.secret, FLASH_SALT, flash)
        if kind == "navigate":
            return {LIVE_REDIRECT: {**target, "kind": mode}}
        return {REDIRECT: target}

    def _adopt_component_effects(self, cid: int, component_socket: LiveSocket) -> None:
        # What a component asks of the page goes out with its view's diff.
        live = self.live
        live.events += component_socket.events
        component_socket.events = []
        if component_socket.navigation is not None:
            live.navigation, component_socket.navigation = component_socket.navigation, None
        self._start_async_work(cid, component_socket)

    async def _diff(self, *, full: bool = False) -> dict:
        if not telemetry.attached(LIVE_VIEW_RENDER_STOP):
            return await self._render_diff(full)
        started = time.perf_counter()
        diff = await self._render_diff(full)
        measurements = {"duration": time.perf_counter() - started, "diff_bytes": len(orjson.dumps(diff))}
        telemetry.execute(LIVE_VIEW_RENDER_STOP, measurements, {"view": type(self.view), "full": full, "topic": self.socket.topic})
        return diff

    async def _render_diff(self, full: bool) -> dict:
        live = self.live
        diff: dict = {}
        view_rendered = full or bool(live.changed)
        if view_rendered:
            rendered = self._render_view(None if full else set(live.changed))
            previous = self.tracker.root
            if not full and previous is not None and rendered.fingerprint != previous.fingerprint:
                # A new root template: the client replaces its whole tree, component
                # table included, so everything goes out again in full (Phoenix does the same).
                rendered = self._render_view(None)
                self.components.forget_rendered()
                full = True
            live.after_render()
            diff = self.tracker.diff(rendered)
        components = await self.components.settle(full=full)
        for component in self.components.with_effects():
            # Every component with requests, not only those rendered: an update() may ask
            # for async work without changing anything.
            self._adopt_component_effects(component.cid, component.socket)
        table = self.components.diff(components)
        if table:
            diff[COMPONENTS] = table
        await self._after_render(view_rendered, components)
        if live.events:
            diff[EVENTS], live.events = live.events, []
        if live.title is not None:
            if live.title != self.sent_title:  # the page already shows it otherwise
                diff[TITLE] = self.sent_title = live.title
            live.title = None
        return diff

    async def _after_render(self, view_rendered: bool, components: dict) -> None:
        """Run the ``after_render`` hooks of the view (if it rendered) and of the components that did.

        What they assign is kept but not marked changed, as in Phoenix: a render does
        not cause another; what they push (``push_event``) goes out with this render.
        """
        if view_rendered and "after_render" in self.live.hooks:
            await self.live.hooks.run("after_render", self.live)
            self.live.changed.clear()
        for cid in components:
            component = self.components.get(cid)
            if component is not None and "after_render" in component.socket.hooks:
                await component.socket.hooks.run("after_render", component.socket)
                component.socket.changed.clear()
                self._adopt_component_effects(cid, component.socket)

    def _render_view(self, changed: set | None):
        if self._nest is None:
            self._nest = self.nesting.nest(self.router, self.live.id)
        self._nest.placed.clear()
        tokens = current_components.set(self.components), current_nest.set(self._nest)
        try:
            return self.view.render(self.live.assigns, changed)
        finally:
            current_nest.reset(tokens[1])
            current_components.reset(tokens[0])

    async def terminate(self, reason: object, socket: ChannelSocket) -> None:
        view = getattr(self, "view", None)
        if view is None:
            return
        for name in list(self.tasks):
            self._cancel_async(name)
        _discard_uploads(self.live)
        for component in self.components:
            _discard_uploads(component.socket)
        await view.terminate(reason, self.live)


class _Nesting:
    """Where a view process stands among nested views (``web.live._nested``), read from its session token.

    ``parent``: the parent view's process (a nested view that is not sticky),
    watched once ``watch_parent`` ran; ``root``: the page's root view, which
    a child's ``push_patch`` goes to.
    """

    __slots__ = ("session", "live_session", "sticky", "parent_id", "parent", "root", "parent_ref")

    def __init__(self, token: dict) -> None:
        self.session: dict = token.get("session", {})
        self.live_session: str = token.get("live_session", "default")
        self.sticky = bool(token.get("sticky"))
        parent: dict = token.get("parent") or {}
        self.parent_id: str | None = parent.get("id")
        # Pids travel as numbers of this OS process: a token from an earlier run names nobody.
        ours = parent.get("run") == INCARNATION
        self.parent = otp.Pid(parent["pid"]) if ours else None
        self.root = otp.Pid(parent["root"]) if ours else None
        self.parent_ref: otp.Ref | None = None

    def watch_parent(self) -> bool:
        """Monitor the parent's process; False if there should be one and it is gone."""
        if self.parent_id is None:
            return True  # a root view, or a sticky one
        if self.parent is None or not otp.is_alive(self.parent):
            return False
        self.parent_ref = otp.monitor(self.parent)
        return True

    def patch_root(self, navigation: tuple) -> None:
        """A nested view's ``push_patch``: the page's root view patches (a child has no URL)."""
        if self.root is not None:
            otp.send(self.root, PatchFromChild(navigation[1], navigation[2]))

    def nest(self, router: LiveRouter, view_id: str) -> Nest:
        """What ``live_render`` needs while this view renders: its children's parent is this process."""
        me = otp.current_pid()
        return Nest(router, view_id, self.session, self.live_session, parent=me, root=self.root or me)


class PatchFromChild:
    """A nested view → its page's root view: ``push_patch(to)``, which a child cannot do itself."""

    __slots__ = ("to", "kind")

    def __init__(self, to: str, kind: str) -> None:
        self.to, self.kind = to, kind


class _AsyncTask:
    """Work started by ``start_async``/``assign_async``/``stream_async``, as the view keeps track of it.

    ``token`` tells its :class:`AsyncDone` from that of the work it replaced
    under the same name; ``keys`` are the assigns of an ``assign_async``, a
    :class:`StreamAsync` for ``stream_async`` (None for ``start_async``,
    whose outcome goes to ``handle_async``).
    """

    __slots__ = ("pid", "ref", "token", "keys")

    def __init__(self, pid: otp.Pid, ref: otp.Ref, token: int, keys: list[str] | StreamAsync | None) -> None:
        self.pid, self.ref, self.token, self.keys = pid, ref, token, keys


def _container_reply(container: tuple[str, dict]) -> list:
    """``[tag, attributes]`` as the join reply's ``container``: attribute values as the DOM takes them."""
    tag, attributes = container
    values = {}
    for name, value in attributes.items():
        if value is None or value is False or name == "id" or name.startswith("data-phx-"):
            continue
        values[name] = "" if value is True else " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    return [tag, values]


async def _handle_event(handler: Any, name: str, value: object, live: LiveSocket) -> object:
    """The ``handle_event`` hooks of ``live``, then ``handler.handle_event`` unless one halted.

    Returns the reply to the JS hook that pushed the event: the handler's, or
    that of the hook that halted (``Halt(reply=...)``).
    """
    if "handle_event" in live.hooks:
        halted = await live.hooks.run("handle_event", name, value, live)
        if halted is not None:
            return halted.reply
    return await handler.handle_event(name, value, live)


def _assign_async_result(live: LiveSocket, keys: list[str], outcome: tuple) -> None:
    kind, value = outcome
    if kind == "exit":
        live.assign(**{key: AsyncResult.failure(value) for key in keys})
    elif len(keys) == 1 and not (isinstance(value, dict) and set(value) == set(keys)):
        live.assign(**{keys[0]: AsyncResult.succeeded(value)})
    elif isinstance(value, dict) and set(keys) <= set(value):
        live.assign(**{key: AsyncResult.succeeded(value[key]) for key in keys})
    else:
        error = ValueError(f"assign_async({list(keys)!r}) expected a dict with those keys; got {value!r}")
        live.assign(**{key: AsyncResult.failure(error) for key in keys})


def _stream_async_result(live: LiveSocket, name: str, outcome: tuple) -> None:
    """A ``stream_async`` outcome: its items into the stream and ``ok``, or the assign ``failed``."""
    kind, value = outcome
    if kind == "ok":
        try:
            items, options = stream_async_items(name, value)
        except TypeError as error:
            value = error  # what the function returned cannot be streamed: that is its failure
        else:
            live.stream(name, items, **options)
            live.assign(**{name: AsyncResult.succeeded(True)})
            return
    live.assign(**{name: AsyncResult.failure(value)})


def _discard_uploads(live: LiveSocket) -> None:
    """Delete the temporary files of every upload of a view or component that is going away."""
    uploads = live.assigns.get("uploads")
    if uploads is not None:
        for config in uploads:
            config.discard_all()

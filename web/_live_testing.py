"""Test LiveViews without a browser or a network (Phoenix.LiveViewTest in Python).

Inside an otp test (the pytest plugin runs each async test in a node)::

    from web.testing import live, element, render_click, render_change, assert_patch

    async def test_the_counter_counts():
        await PubSub.start_link("live")                       # the router's pubsub
        view = await live(router, "/counter")
        assert '<span id="count">0</span>' in view.html
        html = await render_click(element(view, "button", "+"))
        assert '<span id="count">1</span>' in html

:func:`live` does what a browser does: the dead render (``GET``), the
socket connect with the page's CSRF token, the join of ``lv:<id>`` with the
page's session. From then on the test plays the official client
(phoenix_live_view 1.2.12) frame for frame: events carry the payloads the
client builds from the DOM (``phx-value-*``, form bodies, ``phx-target``),
every diff is merged by the client's rules and the page kept as the
client's morph keeps it (streams included; see :mod:`web.live._client`).

What the helpers return
-----------------------
``render_click``, ``render_change``, ``render_submit``, ``render_hook``,
``render_patch`` and ``render_upload`` return the view's HTML after the
server's reply, or, when that reply navigates away, a :class:`Redirect`
(as Phoenix returns ``{:error, {:live_redirect, %{to: ...}}}``)::

    assert await render_click(view, "go") == Redirect("live_redirect", "/other")
    other = await follow_redirect(await render_click(view, "go"))

``render_upload`` returns an :class:`UploadError` when the server refuses
files. :func:`live` itself returns a :class:`Redirect` if the mount
navigated away. The HTML is the view's content (inside its container),
serialised by the HTML parser (``disabled=""``, quotes normalised), with
``data-phx-component``/``data-phx-view`` on component roots as the client
puts them.

Elements
--------
``element(view, "#items li", text_filter="Milk")`` names an element; it is
looked up when used and must then match exactly one element, else the
helper fails with the HTML it searched. ``has_element`` asks whether any
matches.

Uploads
-------
::

    avatar = file_input(view, "#upload-form", "avatar", [{"name": "a.png", "content": b"...", "type": "image/png"}])
    html = await render_upload(avatar, "a.png")          # all of it; render_upload(avatar, "a.png", 50) for half

The first ``render_upload`` chooses the files (the form's ``phx-change``
with ``uploads``), then preflights them (``allow_upload``); each entry is
sent in ``chunk_size`` binary chunks on ``lvu:<ref>`` with the preflight's
token, and every acknowledged chunk is followed by a ``progress`` push, as
the client's uploader does.

Everything waits for the frame it expects, never for a fixed time;
``timeout`` (seconds, per wait) only bounds how long a failure takes.
"""

from __future__ import annotations

import itertools
import mimetypes
import re
from urllib.parse import parse_qsl, urlsplit

import attrs
import orjson
import trio
from selectolax.lexbor import LexborHTMLParser, LexborNode

import otp
from otp import ReceiveTimeout
from web._http import Request
from web.live._client import (
    PageDom,
    RenderedTree,
    closest_component,
    element_value,
    encode_form,
    extract,
    flatten_params,
    form_body,
    is_cid,
)
from web.live._server import FLASH_SALT
from web.token import InvalidToken, verify

from .testing import ANY, ClientSocket, _decode, _Frame, connect

__all__ = [
    "live",
    "LiveViewTest",
    "Element",
    "Redirect",
    "Upload",
    "UploadError",
    "element",
    "render",
    "render_click",
    "render_change",
    "render_submit",
    "render_hook",
    "render_patch",
    "has_element",
    "assert_patch",
    "assert_redirect",
    "assert_push_event",
    "follow_redirect",
    "page_title",
    "file_input",
    "render_upload",
]

DEFAULT_TIMEOUT = 5.0  # seconds to wait for any one frame (Phoenix waits 5000 ms)
ORIGIN = "http://localhost"  # the page's scheme and host, as the client puts them in URLs
LAST_MODIFIED = 1594171879000  # a file's lastModified when the test does not give one


# ---------------------------------------------------------------- results


@attrs.frozen
class Redirect:
    """The view navigated away: ``kind`` is ``"live_redirect"`` (push_navigate) or ``"redirect"``.

    ``flash`` is the flash it carries (decoded); ``replace`` says a live
    redirect replaces the history entry. Compare it like a value
    (``Redirect("redirect", "/login")``); :func:`follow_redirect` goes there.
    """

    kind: str
    to: str
    flash: dict = attrs.field(factory=dict)
    replace: bool = False
    # Where it came from, for follow_redirect (not part of the value).
    source: object = attrs.field(default=None, eq=False, repr=False)
    flash_token: str | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class UploadError:
    """The server refused files: ``errors`` is ``[(client file name, reason), ...]``.

    A reason about the whole upload (``too_many_files``) is given under the
    upload's name instead of a file's.
    """

    errors: list


@attrs.frozen
class Element:
    """An element of a view, by CSS selector (and text): see :func:`element`."""

    view: LiveViewTest = attrs.field(repr=False)
    selector: str
    text_filter: object = None


# ---------------------------------------------------------------- live()


@attrs.define(eq=False)
class _Page:
    """One page load: its router, user session, socket and what the client counts per page."""

    router: object
    session: dict | None
    timeout: float
    client: ClientSocket | None = None
    csrf: str = ""
    file_refs: itertools.count = attrs.field(factory=itertools.count)


async def live(router, path: str = "/", *, session: dict | None = None, timeout: float = DEFAULT_TIMEOUT):
    """Load ``path`` of ``router`` like a browser; return the connected :class:`LiveViewTest`.

    ``session``: the user session the router's ``session`` function would
    have given for the request (default: call it with the test request).
    Returns a :class:`Redirect` instead if the mount navigated away. Start
    the router's PubSub first.
    """
    page = _Page(router, session, timeout)
    dead = await _dead_render(page, path)
    if isinstance(dead, Redirect):
        return dead
    view_id, session_token, static_token, title = dead
    params = {"_csrf_token": page.csrf, "_mounts": "0", "_mount_attempts": "0", "_live_referer": "undefined", "vsn": "2.0.0"}
    page.client = await connect(router.socket_cls, params, pubsub=router.pubsub, channel_supervisor=router.channel_supervisor)
    view = LiveViewTest(page, view_id, session_token, static_token, ORIGIN + path, title)
    try:
        return await view._join(
            {"url": view.url, "params": view._join_params(0), "session": session_token, "static": static_token, "sticky": False}
        )
    except _JoinRefused as refused:
        raise AssertionError(f"joining {view.topic} failed: {refused.response!r}") from None


async def _dead_render(page: _Page, path: str):
    """GET ``path``: ``(view id, session token, static token, title)``, or a :class:`Redirect`."""
    router = page.router
    parts = urlsplit(path)
    request = Request("GET", parts.path or "/", dict(parse_qsl(parts.query, keep_blank_values=True)),
                      {"host": "localhost"}, ("127.0.0.1", 0), b"", parts.query)
    if page.session is not None:
        # The router asks its session function for the request's session: answer with the test's.
        router = _with_session(router, page.session)
    response = await router.render(request)
    if response is None:
        raise ValueError(f"no route of the router matches {path!r}; routes: {[route.path for route in page.router.routes]}")
    if response.status in (301, 302, 303, 307, 308):
        return Redirect("redirect", response.headers["location"], source=page)
    document = LexborHTMLParser(response.body.decode())
    container = document.css_first("[data-phx-main]")
    csrf = document.css_first('meta[name="csrf-token"]')
    if container is None or csrf is None:
        raise AssertionError(
            f"the dead render of {path!r} has no LiveView container or CSRF meta tag:\n{response.body.decode()}"
        )
    page.csrf = csrf.attributes.get("content") or ""
    attributes = container.attributes
    title = document.css_first("title")
    static = attributes.get("data-phx-static") or None  # the client sends "" as null
    return attributes["id"], attributes["data-phx-session"], static, title.text() if title else None


def _with_session(router, session: dict):
    clone = object.__new__(type(router))
    clone.__dict__.update(router.__dict__)
    clone.session = lambda request: dict(session)
    return clone


class _JoinRefused(Exception):
    def __init__(self, response: dict) -> None:
        super().__init__(response)
        self.response = response


# ---------------------------------------------------------------- the view


class LiveViewTest:
    """A connected LiveView under test: its socket, its rendered tree and its page.

    Attributes: ``id`` (the container id), ``topic``, ``url`` (as the
    browser's location bar would show it), ``html`` (the page now, without
    waiting), ``title``, ``events`` (``[name, payload]`` pushed with
    ``push_event`` and not yet asserted), ``reply`` (the last reply to a
    hook event).
    """

    def __init__(
        self, page: _Page, view_id: str, session_token: str, static_token: str | None, url: str, title: str | None
    ) -> None:
        self.page = page
        self.client = page.client
        self.id = view_id
        self.topic = f"lv:{view_id}"
        self.url = url
        self.title = title
        self.events: list = []
        self.reply: object = None
        self.join_ref: str | None = None
        self.timeout = page.timeout
        self._session_token, self._static_token = session_token, static_token
        self._tree: RenderedTree | None = None
        self._dom = PageDom()
        self._patches: list[str] = []
        self._redirects: list[Redirect] = []
        self._gone: str | None = None  # why this view no longer answers, once it does not
        self._closed = False  # phx_close received
        self._pending: dict[str, tuple] = {}  # ref -> (push, cids) of component destruction pushes
        self._used: set[str] = set()  # form fields the "user" touched (no _unused_ marker)

    def __repr__(self) -> str:
        return f"<LiveViewTest {self.topic} {urlsplit(self.url).path}>"

    @property
    def html(self) -> str:
        """The view's HTML as the page shows it now (frames not yet read are not applied)."""
        return self._dom.html

    # -- joining ----------------------------------------------------------------------

    def _join_params(self, mounts: int, **extra) -> dict:
        return {"_csrf_token": self.page.csrf, "_mounts": mounts, "_mount_attempts": 0, **extra}

    async def _join(self, payload: dict):
        status, response = await self.client.join(self.topic, payload, timeout=self.timeout)
        self.join_ref = self.client.join_refs[self.topic]
        if status != "ok":
            for kind in ("live_redirect", "redirect"):
                if kind in response:  # the mount navigated away; no channel was started
                    return self._redirect(kind, response[kind])
            raise _JoinRefused(response)
        extracted = extract(response["rendered"])
        if extracted.title is not None:
            self.title = extracted.title
        self.events.extend(extracted.events)
        self._tree = RenderedTree(self.id, extracted.diff)
        self._render()
        if "live_patch" in response:
            self._patched(response["live_patch"]["to"])
        return self

    # -- frames -------------------------------------------------------------------------

    def _owns(self, frame: object) -> bool:
        return isinstance(frame, list) and frame[2] == self.topic and frame[0] == self.join_ref

    async def _next(self, timeout: float) -> list | None:
        """This view's next frame (selective receive: others stay queued), or None after ``timeout``."""
        number = self.client.transport.client

        def mine(message: object) -> bool:
            return message.__class__ is _Frame and message.client == number and self._owns(_decode(message.data))

        try:
            message = await otp.receive(mine, timeout=timeout)
        except ReceiveTimeout:
            return None
        return _decode(message.data)

    async def _drain(self) -> None:
        """Apply the frames already received, as the client does while the test was busy."""
        while (frame := await self._next(0)) is not None:
            self._handle(frame)

    def _handle(self, frame: list) -> None:
        event, payload = frame[3], frame[4]
        if event == "phx_reply":
            if frame[1] in self._pending:
                self._destroyed(frame[1], payload.get("response") or {})
        elif event == "diff":
            self._apply(payload)
        elif event == "live_patch":
            self._patched(payload["to"])
        elif event in ("redirect", "live_redirect"):
            self._redirect(event, payload)
        elif event == "phx_close":
            self._closed = True
            self._gone = self._gone or "it left (phx_close)"
        elif event == "phx_error":
            self._gone = "it crashed (phx_error)"
            raise AssertionError(f"{self!r} crashed (phx_error); its crash report says why")

    async def _call(self, event: str, payload: dict) -> dict:
        """Push ``event`` and return the ``ok`` reply's response, applying the frames before it in order."""
        if self._gone:
            raise AssertionError(f"{self!r} no longer runs: {self._gone}")
        ref = self.client.push(self.topic, event, payload, join_ref=self.join_ref)
        while True:
            frame = await self._next(self.timeout)
            if frame is None:
                raise AssertionError(f"{self!r}: no reply to {event} {payload!r} within {self.timeout} s")
            if frame[3] == "phx_reply" and frame[1] == ref:
                body = frame[4]
                if body["status"] != "ok":
                    raise AssertionError(f"{self!r} answered {event} {payload!r} with {body['status']}: {body['response']!r}")
                return body["response"]
            self._handle(frame)

    async def _sync(self) -> None:
        # A push the view must answer (LIVEVIEW.md §4.5) and that changes nothing: once
        # its reply is here, so is every diff the view sent before it.
        await self._call("cids_will_destroy", {"cids": []})

    async def _reply(self, response: dict):
        """What a helper returns for an event's reply: the HTML, or where the view went."""
        if "diff" in response:
            self._apply(response["diff"])
        for kind in ("live_redirect", "redirect"):
            if kind in response:
                redirect = self._redirect(kind, response[kind])
                await self._wait_closed()
                return redirect
        return self.html

    async def _wait_closed(self) -> None:
        while not self._closed:
            frame = await self._next(self.timeout)
            if frame is None:
                raise AssertionError(f"{self!r} navigated away but sent no phx_close within {self.timeout} s")
            self._handle(frame)

    # -- rendering ----------------------------------------------------------------------

    def _apply(self, diff: dict) -> None:
        extracted = extract(diff)
        self.events.extend(extracted.events)
        if extracted.reply is not None:
            self.reply = extracted.reply
        if extracted.title is not None:
            self.title = extracted.title
        if extracted.diff:
            self._tree.merge(extracted.diff)
            self._render()

    def _render(self) -> None:
        html, streams = self._tree.to_html()
        before = self._dom.component_ids()
        self._dom.patch(html, streams)
        gone = sorted(before - self._dom.component_ids())
        if gone:
            # Components that left the page: the client tells the server, in two steps (§4.5).
            self._pending[self._push("cids_will_destroy", {"cids": gone})] = ("cids_will_destroy", gone)

    def _destroyed(self, ref: str, response: dict) -> None:
        push, cids = self._pending.pop(ref)
        if push == "cids_will_destroy":
            absent = [cid for cid in cids if self._dom.find_component(cid) is None]  # not rendered again meanwhile
            if absent:
                self._pending[self._push("cids_destroyed", {"cids": absent})] = ("cids_destroyed", absent)
        else:
            self._tree.prune(response.get("cids") or [])

    def _push(self, event: str, payload: dict) -> str:
        return self.client.push(self.topic, event, payload, join_ref=self.join_ref)

    # -- navigation -----------------------------------------------------------------------

    def _patched(self, to: str) -> None:
        self.url = _absolute(to)
        self._patches.append(to)

    def _redirect(self, kind: str, target: dict) -> Redirect:
        flash_token = target.get("flash")
        redirect = Redirect(
            kind, target["to"], _flash(self.page.router, flash_token), target.get("kind") == "replace",
            source=self, flash_token=flash_token,
        )
        self._redirects.append(redirect)
        self._gone = f"it navigated to {redirect.to} ({kind})"
        return redirect

    async def _leave(self) -> None:
        if not self._closed and not self._gone:
            await self._call("phx_leave", {})
            await self._wait_closed()
        self._gone = self._gone or "it left"

    # -- the page -------------------------------------------------------------------------

    def _select(self, selector: str, text_filter: object = None) -> list[LexborNode]:
        nodes = self._dom.select(selector)
        if text_filter is None:
            return nodes
        if isinstance(text_filter, re.Pattern):
            return [node for node in nodes if text_filter.search(node.text())]
        return [node for node in nodes if str(text_filter) in node.text()]

    def _one(self, target: Element) -> LexborNode:
        nodes = self._select(target.selector, target.text_filter)
        if len(nodes) == 1:
            return nodes[0]
        if not nodes:
            candidates = self._select(target.selector) if target.text_filter is not None else []
            if candidates:
                raise AssertionError(
                    f"selector {target.selector!r} did not match text filter {target.text_filter!r}, got:\n\n"
                    + "\n".join(node.html for node in candidates)
                )
            raise AssertionError(f"selector {target.selector!r} did not return any element within:\n\n{self.html}")
        raise AssertionError(
            f"selector {target.selector!r} returned {len(nodes)} elements and therefore cannot be the target "
            f"of an event or rendered (use a more precise selector, or a text filter):\n\n"
            + "\n".join(node.html for node in nodes)
        )

    def _targets(self, node: LexborNode | None, target: object = None) -> list[int | None]:
        """The cids an event goes to (None: the view): the JS push's target, else ``phx-target``."""
        if target is None and node is not None:
            target = node.attributes.get("phx-target")
        if target is None:
            return [None]
        if is_cid(target):
            if self._dom.find_component(int(target)) is None:
                raise AssertionError(f"no component found matching phx-target of {target} in:\n\n{self.html}")
            return [int(target)]
        matches = self._dom.select(str(target))
        if not matches:
            raise AssertionError(f"nothing found matching the phx-target selector {target!r} in:\n\n{self.html}")
        return [closest_component(match) for match in matches]

    async def _push_events(self, payload: dict, cids: list[int | None]):
        """Push one event per target; the HTML (or the redirect) after the last reply."""
        result = self.html
        for cid in cids:
            result = await self._reply(await self._call("event", _with_cid(payload, cid)))
            if isinstance(result, Redirect):
                break
        return result


def _with_cid(payload: dict, cid: int | None) -> dict:
    return payload if cid is None else {**payload, "cid": cid}


def _absolute(to: str) -> str:
    return to if urlsplit(to).scheme else ORIGIN + to


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _flash(router, token: str | None) -> dict:
    if not token:
        return {}
    try:
        flash = verify(router.secret, FLASH_SALT, token, max_age=60)
    except InvalidToken:
        return {}
    return flash if isinstance(flash, dict) else {}


def _bindings(node: LexborNode, attribute: str) -> list[tuple[str, dict | None, object]]:
    """``(event, value, target)`` of the pushes a binding makes: its name, or its JS commands' pushes."""
    binding = node.attributes.get(attribute)
    if not binding:
        return []
    if not binding.lstrip().startswith("["):
        return [(binding, None, None)]
    pushes = [args for kind, args in orjson.loads(binding) if kind == "push"]
    return [(args.get("event", binding), args.get("value"), args.get("target")) for args in pushes]


# ---------------------------------------------------------------- elements


def element(view: LiveViewTest, selector: str, text_filter: object = None) -> Element:
    """The element of ``view`` matching ``selector`` (and whose text contains ``text_filter``,
    a string, or matches it, a compiled regex). Looked up when used: it must then match exactly one.
    """
    if not isinstance(view, LiveViewTest):
        raise TypeError(f"element() takes a view (from live()); got {view!r}")
    return Element(view, selector, text_filter)


def _view_of(target: object) -> LiveViewTest:
    if isinstance(target, Element):
        return target.view
    if isinstance(target, LiveViewTest):
        return target
    raise TypeError(f"expected a view (from live()) or an element (from element()); got {target!r}")


async def render(target: LiveViewTest | Element) -> str:
    """The HTML of the view, or of the element, once the view has sent everything it had to send."""
    view = _view_of(target)
    await view._sync()
    if isinstance(target, Element):
        return view._one(target).html
    return view.html


async def has_element(target: LiveViewTest | Element, selector: str | None = None, text_filter: object = None) -> bool:
    """Whether the page has at least one such element: ``has_element(element)`` or ``has_element(view, selector, text)``."""
    view = _view_of(target)
    if isinstance(target, Element):
        selector, text_filter = target.selector, target.text_filter
    elif selector is None:
        raise TypeError("has_element(view, selector, text_filter=None) needs a selector")
    await view._sync()
    return bool(view._select(selector, text_filter))


# ---------------------------------------------------------------- events


def _check_event(target: object, event: object, helper: str) -> None:
    if isinstance(target, Element) and event is not None:
        raise TypeError(f"{helper}(element) takes the event from the element's binding; pass value=... (got event {event!r})")
    if isinstance(target, LiveViewTest) and not isinstance(event, str):
        raise TypeError(f"{helper}(view, event, value=None) needs the event name; got {event!r}")


async def render_click(target: LiveViewTest | Element, event: str | None = None, value: dict | None = None):
    """Click: send ``event`` to the view, or click the element (its ``phx-click``, or follow its link).

    The payload is the client's: ``{"type": "click", "event", "value"}`` where
    an element's value holds its ``phx-value-*`` attributes and ``value``
    property, then ``value``; ``phx-target`` picks the component. An ``<a>``
    without ``phx-click`` is followed: a patch link patches the view, a
    navigate link returns ``Redirect("live_redirect", href)``, any other
    ``Redirect("redirect", href)``. Returns the HTML, or a :class:`Redirect`.
    """
    _check_event(target, event, "render_click")
    view = _view_of(target)
    await view._drain()
    if isinstance(target, LiveViewTest):
        return await view._push_events({"type": "click", "event": event, "value": dict(value or {})}, [None])
    node = view._one(target)
    pushes = _bindings(node, "phx-click")
    if not pushes:
        return await _follow_link(view, target, node)
    result = view.html
    for name, js_value, js_target in pushes:
        payload = {"type": "click", "event": name, "value": element_value(node, {**(js_value or {}), **(value or {})})}
        result = await view._push_events(payload, view._targets(node, js_target))
        if isinstance(result, Redirect):
            break
    return result


async def _follow_link(view: LiveViewTest, target: Element, node: LexborNode):
    href = node.attributes.get("href")
    if node.tag != "a" or href is None:
        raise AssertionError(
            f"element selected by {target.selector!r} has no phx-click attribute and is not a link:\n\n{node.html}"
        )
    kind = node.attributes.get("data-phx-link")
    if kind == "patch":
        return await render_patch(view, href)
    replace = node.attributes.get("data-phx-link-state") == "replace"
    redirect = Redirect("live_redirect" if kind == "redirect" else "redirect", href, replace=replace, source=view)
    view._redirects.append(redirect)
    return redirect


async def render_patch(view: LiveViewTest, path: str):
    """Follow a patch link to ``path`` (``live_patch``): ``handle_params`` runs; the HTML after it.

    A path that belongs to another view is a live navigation: returns ``Redirect("live_redirect", path)``.
    """
    await view._drain()
    response = await view._call("live_patch", {"url": _absolute(path)})
    if response.get("link_redirect"):
        redirect = Redirect("live_redirect", path, source=view)
        view._redirects.append(redirect)
        return redirect
    view._patched(path)
    return await view._reply(response)


def _form_of(node: LexborNode, target: Element) -> LexborNode:
    form = node
    while form is not None and form.tag != "form":
        form = form.parent
    if form is None:
        raise AssertionError(f"form events need a form: element selected by {target.selector!r} is not in one:\n\n{node.html}")
    return form


def _typed(value: dict | None) -> tuple[str | None, list[tuple[str, str]]]:
    """``(_target, pairs)`` of a form value: the target it names (str or path list), the rest flattened."""
    value = dict(value or {})
    target = value.pop("_target", None)
    if isinstance(target, (list, tuple)):
        target = target[0] + "".join(f"[{part}]" for part in target[1:]) if target else None
    return (str(target) if target is not None else None), (flatten_params(value) if value else [])


async def render_change(target: LiveViewTest | Element, event: str | None = None, value: dict | None = None):
    """A form change (``phx-change``) of the element's form, or ``event`` with ``value`` to the view.

    For an element (a form, or an input with its own ``phx-change``) the body
    is the form's current values with ``value`` (nested params, like
    ``{"user": {"name": "Ann"}}``) typed over them; fields never touched get
    the client's ``_unused_`` markers; ``meta._target`` names the changed
    field (``value["_target"]``, else the first one given). Returns the HTML,
    or a :class:`Redirect`.
    """
    return await _render_form(target, event, value, "change")


async def render_submit(target: LiveViewTest | Element, event: str | None = None, value: dict | None = None):
    """A form submit (``phx-submit``) of the element's form with ``value`` typed in, or ``event`` to the view."""
    return await _render_form(target, event, value, "submit")


async def _render_form(target, event, value, kind: str):
    _check_event(target, event, f"render_{kind}")
    view = _view_of(target)
    await view._drain()
    target_name, overrides = _typed(value)
    if isinstance(target, LiveViewTest):
        target_name = target_name or (overrides[0][0] if overrides else None)
        payload = {"type": "form", "event": event, "value": encode_form(overrides)}
        if kind == "change":
            payload.update(meta={"_target": target_name or "undefined"}, uploads={})
        else:
            payload["meta"] = {}
        return await view._push_events(payload, [None])
    node = view._one(target)
    form = _form_of(node, target)
    own = node.tag != "form" and f"phx-{kind}" in node.attributes
    source = node if own else form
    pushes = _bindings(source, f"phx-{kind}")
    if not pushes:
        raise AssertionError(f"element selected by {target.selector!r} has no phx-{kind} (nor has its form):\n\n{source.html}")
    if target_name is None:
        # The field that changed: the input itself, else the first one typed in.
        target_name = node.attributes.get("name") if node.tag != "form" else (overrides[0][0] if overrides else None)
    view._used.update(name for name, _ in overrides)
    if target_name is not None and kind == "change":
        view._used.add(target_name)
    if kind == "submit":  # the client marks every field as submitted
        view._used.update(field.attributes.get("name") for field in form.css("[name]"))
    result = view.html
    for name, js_value, js_target in pushes:
        body = form_body(form, view._used, only=[node.attributes.get("name")] if own else None, overrides=overrides)
        meta = element_value(form, js_value)
        payload = {"type": "form", "event": name, "value": body}
        if kind == "change":
            payload.update(meta={"_target": target_name or "undefined", **meta}, uploads={})
        else:
            payload["meta"] = meta
        result = await view._push_events(payload, view._targets(source, js_target))
        if isinstance(result, Redirect):
            break
    return result


async def render_hook(target: LiveViewTest | Element, event: str, value: dict | None = None):
    """An event pushed by a JS hook (``type: "hook"``); an element's ``phx-target`` picks the component.

    The hook's reply (what ``handle_event`` returned) is ``view.reply`` afterwards.
    """
    if not isinstance(event, str):
        raise TypeError(f"render_hook(view_or_element, event, value=None) needs the event name; got {event!r}")
    view = _view_of(target)
    await view._drain()
    cids = view._targets(view._one(target)) if isinstance(target, Element) else [None]
    return await view._push_events({"type": "hook", "event": event, "value": dict(value or {})}, cids)


# ---------------------------------------------------------------- asserting navigation and events


async def _wait_for(view: LiveViewTest, found, timeout: float, failure: str):
    """Apply the view's frames until ``found()`` returns something; fail after ``timeout``."""
    await view._drain()
    deadline = trio.current_time() + timeout
    while (result := found()) is None:
        frame = await view._next(max(0.0, deadline - trio.current_time()))
        if frame is None:
            raise AssertionError(failure)
        view._handle(frame)
    return result


async def wait_for_html(view: LiveViewTest, predicate, *, timeout: float = 5.0) -> str:
    """Apply what the view pushes until ``predicate(html)`` holds; return that HTML.

    For updates the view makes on its own (``handle_info``, async results,
    PubSub): waits for the pushes, never polls. Fails after ``timeout``.
    """
    return await _wait_for(
        view,
        lambda: view.html if predicate(view.html) else None,
        timeout,
        f"the view's HTML did not satisfy the predicate within {timeout} s; it is:\n{view.html}",
    )


async def assert_patch(view: LiveViewTest, to: str | None = None, *, timeout: float = 1.0) -> str:
    """Wait for the view to patch its URL (``push_patch``, a patch link); return the path patched to."""
    path = await _wait_for(
        view, lambda: view._patches.pop(0) if view._patches else None, timeout,
        f"expected {view!r} to patch{f' to {to!r}' if to else ''} within {timeout} s; it did not",
    )
    if to is not None and path != to:
        raise AssertionError(f"expected {view!r} to patch to {to!r}; it patched to {path!r}")
    return path


async def assert_redirect(view: LiveViewTest, to: str | None = None, *, timeout: float = 1.0) -> Redirect:
    """Wait for the view to navigate away (either kind); return the :class:`Redirect`."""
    redirect = await _wait_for(
        view, lambda: view._redirects.pop(0) if view._redirects else None, timeout,
        f"expected {view!r} to redirect{f' to {to!r}' if to else ''} within {timeout} s; it did not",
    )
    if to is not None and redirect.to != to:
        raise AssertionError(f"expected {view!r} to redirect to {to!r}; it redirected to {redirect.to!r}")
    return redirect


async def assert_push_event(view: LiveViewTest, event: str, payload: object = ANY, *, timeout: float = 1.0) -> dict:
    """Wait for a ``push_event(event, payload)`` of the view; return its payload (and forget it)."""

    def found():
        for index, pushed in enumerate(view.events):
            if pushed[0] == event and pushed[1] == payload:
                return view.events.pop(index)[1]
        return None

    failure = f"expected {view!r} to push event {event!r} {payload!r}; pushed: {view.events!r}"
    return await _wait_for(view, found, timeout, failure)


async def page_title(view: LiveViewTest) -> str | None:
    """The page's title now (the dead render's ``<title>``, then each ``"t"`` the view sent)."""
    await view._sync()
    return view.title


async def follow_redirect(redirect: Redirect, router=None, *, session: dict | None = None):
    """Go where ``redirect`` says, as the client would; return the new :class:`LiveViewTest`.

    A ``live_redirect`` from a view navigates on the same socket (the join
    carries ``redirect`` and the flash); if the server refuses that, or for
    a ``redirect``, the page is loaded afresh with :func:`live`. ``router``
    and ``session`` default to those of the page the redirect came from.
    """
    if not isinstance(redirect, Redirect):
        raise TypeError(f"follow_redirect() takes the Redirect a render_* or live() returned; got {redirect!r}")
    source = redirect.source
    page = source.page if isinstance(source, LiveViewTest) else source
    router = router or (page.router if page is not None else None)
    if router is None:
        raise TypeError("follow_redirect(redirect, router): this redirect does not say which router it came from")
    if session is None and page is not None:
        session = page.session
    timeout = page.timeout if page is not None else DEFAULT_TIMEOUT
    if redirect.kind == "live_redirect" and isinstance(source, LiveViewTest) and source.page.router is router:
        try:
            return await _navigate(source, redirect)
        except _JoinRefused:
            pass  # stale/unauthorized: the client falls back to a full page load
    if router.match(_path(redirect.to)) is None:
        raise ValueError(f"cannot follow a redirect to {redirect.to!r}: no LiveView route of the router matches it")
    if isinstance(source, LiveViewTest):
        await source.client.close()  # a full page load drops the socket
    return await live(router, _path(redirect.to), session=session, timeout=timeout)


async def _navigate(origin: LiveViewTest, redirect: Redirect):
    # LIVEVIEW.md §6.2: leave, then join the same container id with "redirect".
    await origin._leave()
    view = LiveViewTest(
        origin.page, origin.id, origin._session_token, origin._static_token, _absolute(redirect.to), origin.title
    )
    payload = {
        "redirect": view.url,
        "params": origin._join_params(0, _live_referer=origin.url),
        "session": origin._session_token,
        "static": origin._static_token,
        "sticky": False,
    }
    if redirect.flash_token:
        payload["flash"] = redirect.flash_token
    return await view._join(payload)


# ---------------------------------------------------------------- uploads


@attrs.define(eq=False)
class _File:
    name: str
    content: bytes
    type: str
    size: int
    last_modified: int
    relative_path: str
    ref: str
    offset: int = 0
    progress: int = -1  # the last progress sent
    joined: bool = False

    def meta(self) -> dict:
        return {
            "last_modified": self.last_modified, "name": self.name, "relative_path": self.relative_path,
            "size": self.size, "type": self.type, "ref": self.ref,
        }


@attrs.define(eq=False)
class Upload:
    """Files chosen in a ``<.live_file_input>``: see :func:`file_input`."""

    view: LiveViewTest = attrs.field(repr=False)
    form_selector: str
    name: str
    files: list = attrs.field(repr=False)
    chosen: bool = attrs.field(default=False, repr=False)
    preflight: dict | None = attrs.field(default=None, repr=False)

    def file(self, name: str) -> _File:
        for file in self.files:
            if file.name == name:
                return file
        raise KeyError(f"no file {name!r} in this file_input; files: {[file.name for file in self.files]}")

    def locate(self) -> tuple[LexborNode, LexborNode]:
        """The form and its file input, in the page as it is now."""
        form = self.view._one(Element(self.view, self.form_selector))
        inputs = [
            node for node in form.css('input[type="file"]') if node.attributes.get("name") == self.name
        ]
        if len(inputs) != 1 or "data-phx-upload-ref" not in inputs[0].attributes:
            raise AssertionError(
                f"expected one <.live_file_input> named {self.name!r} in the form {self.form_selector!r}; "
                f"found {len(inputs)}:\n\n{form.html}"
            )
        return form, inputs[0]


def file_input(view: LiveViewTest, form_selector: str, name: str, entries: list[dict]) -> Upload:
    """Files to choose in the upload ``name``'s input of the form at ``form_selector``.

    Each entry: ``name`` and ``content`` (bytes); optionally ``type``
    (default: guessed from the name), ``size`` (what the client declares;
    default ``len(content)``), ``last_modified``, ``relative_path``.
    """
    files = []
    for entry in entries:
        content = entry["content"]
        files.append(_File(
            name=entry["name"], content=content,
            type=entry.get("type") or mimetypes.guess_type(entry["name"])[0] or "",
            size=entry.get("size", len(content)), last_modified=entry.get("last_modified", LAST_MODIFIED),
            relative_path=entry.get("relative_path", ""), ref=str(next(view.page.file_refs)),
        ))
    return Upload(view, form_selector, name, files)


async def render_upload(upload: Upload, entry_name: str, percent: int = 100):
    """Upload ``percent`` of the file ``entry_name`` (the rest on a later call); the HTML after it.

    Returns an :class:`UploadError` if the server refuses the files, at the
    preflight (``too_large``, ``not_accepted``, ``too_many_files``) or while
    receiving them (``file_size_limit_exceeded``), or a :class:`Redirect`.
    """
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in 1..100; got {percent!r}")
    view = upload.view
    await view._drain()
    file = upload.file(entry_name)
    if not upload.chosen:
        upload.chosen = True
        result = await _choose(upload)
        if isinstance(result, Redirect):
            return result
    if upload.preflight is None:
        result = await _preflight(upload)
        if not isinstance(result, dict):
            return result
    if file.ref not in upload.preflight["entries"]:
        return UploadError([(file.name, "failed preflight")])
    return await _send(upload, file, percent)


def _active(upload: Upload) -> list[_File]:
    return [file for file in upload.files if file.size > 0]  # the client ignores empty files


async def _choose(upload: Upload):
    """Choosing the files: the input's (or form's) ``phx-change`` with the entries in ``uploads``."""
    view = upload.view
    form, file_input_node = upload.locate()
    own = "phx-change" in file_input_node.attributes
    source = file_input_node if own else form
    pushes = _bindings(source, "phx-change")
    name = file_input_node.attributes["name"]
    view._used.add(name)
    result = view.html
    for event, js_value, js_target in pushes:
        payload = {
            "type": "form", "event": event,
            "value": form_body(form, view._used, only=[name] if own else None),
            "meta": {"_target": name, **element_value(form, js_value)},
            "uploads": {
                file_input_node.attributes["data-phx-upload-ref"]: [{"path": name, **file.meta()} for file in _active(upload)]
            },
        }
        result = await view._push_events(payload, view._targets(source, js_target))
        if isinstance(result, Redirect):
            break
    return result


async def _preflight(upload: Upload):
    """``allow_upload``: the preflight response, or the :class:`UploadError` / :class:`Redirect` instead."""
    view = upload.view
    form, file_input_node = upload.locate()
    upload_ref = file_input_node.attributes["data-phx-upload-ref"]
    payload = {"ref": upload_ref, "entries": [file.meta() for file in _active(upload)]}
    cid = view._targets(form)[0]
    response = await view._call("allow_upload", _with_cid(payload, cid))
    result = await view._reply({key: value for key, value in response.items() if key == "diff"})
    if isinstance(result, Redirect):
        return result
    names = {file.ref: file.name for file in upload.files} | {upload_ref: upload.name}
    if response.get("error"):
        return UploadError([(names.get(ref, ref), reason) for ref, reason in response["error"]])
    if not response.get("entries"):
        return UploadError([(file.name, "failed preflight") for file in _active(upload)])
    upload.preflight = response
    return response


async def _send(upload: Upload, file: _File, percent: int):
    """The chunks of one entry up to ``percent``, each acknowledged, each followed by its progress."""
    view, client = upload.view, upload.view.client
    topic = f"lvu:{file.ref}"
    if not file.joined:
        status, response = await client.join(topic, {"token": upload.preflight["entries"][file.ref]}, timeout=view.timeout)
        if status != "ok":
            return await _failed(upload, file, response.get("reason", "failed"))
        file.joined = True
    chunk_size = upload.preflight["config"]["chunk_size"]
    goal = len(file.content) * percent // 100
    while file.offset < goal:
        chunk = file.content[file.offset:min(file.offset + chunk_size, goal)]
        reply = await client.assert_reply(client.push_binary(topic, "chunk", chunk), timeout=view.timeout)
        if reply["status"] != "ok":
            return await _failed(upload, file, reply["response"].get("reason", "failed"))
        file.offset += len(chunk)
        progress = min(100, file.offset * 100 // len(file.content))
        if progress > file.progress:
            file.progress = progress
            result = await _progress(upload, file, progress)
            if isinstance(result, Redirect):
                return result
    return view.html


async def _progress(upload: Upload, file: _File, progress: object):
    view = upload.view
    form, file_input_node = upload.locate()
    payload = {
        "event": file_input_node.attributes.get("phx-progress"),
        "ref": file_input_node.attributes["data-phx-upload-ref"],
        "entry_ref": file.ref,
        "progress": progress,
    }
    return await view._reply(await view._call("progress", _with_cid(payload, view._targets(form)[0])))


async def _failed(upload: Upload, file: _File, reason: str):
    # The uploader reports the failure as the entry's progress, so the view can render it.
    result = await _progress(upload, file, {"error": reason})
    return result if isinstance(result, Redirect) else UploadError([(file.name, reason)])


# Say where they are used from (reprs and tracebacks read web.testing.*).
for _name in __all__:
    globals()[_name].__module__ = "web.testing"
del _name

"""``live()`` and :class:`LiveViewTest`: a LiveView page loaded and driven as the JS client would.

Inside an otp test (the pytest plugin runs each async test in a node)::

    from web.testing import live, element, render_click

    async def test_the_counter_counts():
        await PubSub.start_link("live")                       # the router's pubsub
        view = await live(router, "/counter")
        assert '<span id="count">0</span>' in view.html
        html = await render_click(element(view, "button", "+"))
        assert '<span id="count">1</span>' in html

:func:`live` does what a browser does: the dead render (``GET``), the
socket connect with the page's CSRF token, the join of ``lv:<id>`` with the
page's session. From then on :class:`LiveViewTest` plays the official
client (phoenix_live_view 1.2.12) frame for frame: every diff is merged by
the client's rules and the page kept as the client's morph keeps it
(streams included; see ``_client_model.py``), components that leave the
page are destroyed in the client's two steps (docs/protocol/liveview.md, "Component destruction"), patches
and redirects are recorded for the navigation asserts.

The ``render_*`` helpers (``_events.py``), elements (``_elements.py``),
navigation (``_navigation.py``), pushes (``_pushes.py``) and uploads
(``_uploads.py``) are built from a few protocol steps of the view, public
so that a test can build its own helpers the same way:

* :meth:`LiveViewTest.call`: push an event, apply what comes before its
  reply, return the reply's response;
* :meth:`LiveViewTest.apply_reply`: what a helper returns for that reply
  (the HTML, or a :class:`Redirect` once the view has closed);
* :meth:`LiveViewTest.drain`, :meth:`LiveViewTest.sync`,
  :meth:`LiveViewTest.wait_for`: apply what the view sent, without waiting,
  up to a round trip, or until something shows up.

Everything waits for the frame it expects, never for a fixed time;
``timeout`` (seconds, per wait) only bounds how long a failure takes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import attrs
import trio
from selectolax.lexbor import LexborHTMLParser

from web import Request
from web.live import LiveRouter
from web.live._wire import CIDS_DESTROYED, CIDS_WILL_DESTROY, DIFF, LIVE_PATCH, LIVE_REDIRECT, REDIRECT, RENDERED

from ._channel import ClientSocket, connect
from ._client_model import PageDom, RenderedTree, extract
from ._results import Redirect

__all__ = ["live", "LiveViewTest", "JoinRefused", "join_redirect", "absolute_url", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 5.0  # seconds to wait for any one frame (Phoenix waits 5000 ms)
ORIGIN = "http://localhost"  # the page's scheme and host, as the client puts them in URLs

_Found = TypeVar("_Found")


# ---------------------------------------------------------------- live()


@attrs.define(eq=False)
class Page:
    """One page load: its router, user session, socket and what the client counts per page."""

    router: LiveRouter
    session: Mapping[str, Any] | None
    timeout: float
    client: ClientSocket | None = None
    csrf: str = ""
    file_refs: itertools.count = attrs.field(factory=itertools.count)  # upload entry refs, per page


class JoinRefused(Exception):
    """The server refused a view's join (``stale``, ``unauthorized``, ...): ``response`` says why."""

    def __init__(self, response: dict) -> None:
        super().__init__(response)
        self.response = response


async def live(
    router: LiveRouter, path: str = "/", *, session: Mapping[str, Any] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> LiveViewTest | Redirect:
    """Load ``path`` of ``router`` like a browser; return the connected :class:`LiveViewTest`.

    ``session``: the user session the router's ``session`` function would
    have given for the request (default: call it with the test request).
    Returns a :class:`Redirect` instead if the mount navigated away. Start
    the router's PubSub first.
    """
    page = Page(router, session, timeout)
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
    except JoinRefused as refused:
        raise AssertionError(f"joining {view.topic} failed: {refused.response!r}") from None


async def _dead_render(page: Page, path: str) -> tuple[str, str, str | None, str | None] | Redirect:
    """GET ``path``: ``(view id, session token, static token, title)``, or a :class:`Redirect`."""
    parts = urlsplit(path)
    request = Request("GET", parts.path or "/", dict(parse_qsl(parts.query, keep_blank_values=True)),
                      {"host": "localhost"}, ("127.0.0.1", 0), b"", parts.query)
    response = await page.router.render(request, session=page.session)
    if response is None:
        raise ValueError(f"no route of the router matches {path!r}; routes: {[route.path for route in page.router.routes]}")
    if response.status in (301, 302, 303, 307, 308):
        flash_token = _flash_cookie(response.headers.get("set-cookie", ""))
        flash = page.router.read_flash(flash_token) or {}
        return Redirect(REDIRECT, response.headers["location"], flash, source=page, flash_token=flash_token)
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
    view_id, session = attributes.get("id"), attributes.get("data-phx-session")
    if not view_id or not session:
        raise AssertionError(f"the LiveView container of {path!r} has no id or data-phx-session: {container.html}")
    return view_id, session, static, title.text() if title else None


def _flash_cookie(set_cookie: str) -> str | None:
    """The flash token a dead render's redirect sets (``__phoenix_flash__=<token>; ...``), if any."""
    name, _, rest = set_cookie.partition("=")
    token = rest.split(";", 1)[0]
    return token if name == "__phoenix_flash__" and token else None


async def join_redirect(origin: LiveViewTest, redirect: Redirect) -> LiveViewTest | Redirect:
    """A ``live_redirect`` on the same socket: leave ``origin``, join its container with ``redirect``.

    docs/protocol/liveview.md, "Navigation". Raises :class:`JoinRefused` if the server refuses the
    join (the client then loads the page afresh); returns a :class:`Redirect`
    if the new view's mount navigated away in turn.
    """
    await origin._leave()
    view = LiveViewTest(
        origin.page, origin.id, origin._session_token, origin._static_token, absolute_url(redirect.to), origin.title
    )
    payload = {
        REDIRECT: view.url,  # a live navigation joins with "redirect" instead of "url"
        "params": origin._join_params(0, _live_referer=origin.url),
        "session": origin._session_token,
        "static": origin._static_token,
        "sticky": False,
    }
    if redirect.flash_token:
        payload["flash"] = redirect.flash_token
    return await view._join(payload)


def absolute_url(to: str) -> str:
    """``to`` as the browser's location bar shows it: a path gets the page's origin."""
    return to if urlsplit(to).scheme else ORIGIN + to


# ---------------------------------------------------------------- the view


class LiveViewTest:
    """A connected LiveView under test: its socket, its rendered tree and its page.

    What a test reads: ``id`` (the container id), ``topic``, ``url`` (as the
    browser's location bar would show it), ``html`` (the page now, without
    waiting), ``title``, ``events`` (``[name, payload]`` pushed with
    ``push_event`` and not yet asserted), ``reply`` (the last reply to a
    hook event).

    What helpers use: ``tree`` (the rendered tree as the client holds it),
    ``dom`` (the page as the client's morph leaves it), ``patches`` and
    ``redirects`` (not yet asserted), ``touched`` (form fields the user
    typed in: they get no ``_unused_`` marker), and the protocol steps
    below the properties.
    """

    def __init__(
        self, page: Page, view_id: str, session_token: str, static_token: str | None, url: str, title: str | None
    ) -> None:
        assert page.client is not None  # (live() connects before it makes a view)
        self.page = page
        self.client: ClientSocket = page.client
        self.id = view_id
        self.topic = f"lv:{view_id}"
        self.url = url
        self.title = title
        self.events: list = []
        self.reply: object = None
        self.join_ref: str | None = None
        self.timeout = page.timeout
        self.tree: RenderedTree | None = None
        self.dom = PageDom()
        self.patches: list[str] = []
        self.redirects: list[Redirect] = []
        self.touched: set[str] = set()
        self._session_token, self._static_token = session_token, static_token
        self._gone: str | None = None  # why this view no longer answers, once it does not
        self._closed = False  # phx_close received
        self._pending: dict[str, tuple] = {}  # ref -> (push, cids) of component destruction pushes

    def __repr__(self) -> str:
        return f"<LiveViewTest {self.topic} {urlsplit(self.url).path}>"

    @property
    def html(self) -> str:
        """The view's HTML as the page shows it now (frames not yet read are not applied)."""
        return self.dom.html

    # -- the protocol steps helpers are built from -----------------------------------------

    async def call(self, event: str, payload: dict) -> dict:
        """Push ``event`` and return the ``ok`` reply's response, applying the frames before it in order.

        Fails if the view is gone, answers with an error, or does not answer within ``timeout``.
        """
        if self._gone:
            raise AssertionError(f"{self!r} no longer runs: {self._gone}")
        ref = self._push(event, payload)
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

    async def apply_reply(self, response: dict) -> str | Redirect:
        """What a helper returns for an event's reply: the HTML, or where the view went.

        Applies the reply's diff; a reply that navigates away returns the
        :class:`Redirect` once the view has closed (``phx_close``).
        """
        if DIFF in response:
            self._apply(response[DIFF])
        for kind in (LIVE_REDIRECT, REDIRECT):
            if kind in response:
                redirect = self._redirect(kind, response[kind])
                await self._wait_closed()
                return redirect
        return self.html

    async def drain(self) -> None:
        """Apply the frames already received, as the client does while the test was busy."""
        while (frame := await self._next(0)) is not None:
            self._handle(frame)

    async def sync(self) -> None:
        """Apply everything the view sent before now: one round trip that changes nothing."""
        # A push the view must answer (docs/protocol/liveview.md, "Component destruction") and that changes nothing: once
        # its reply is here, so is every diff the view sent before it.
        await self.call(CIDS_WILL_DESTROY, {"cids": []})

    async def wait_for(self, found: Callable[[], _Found | None], *, timeout: float, failure: str) -> _Found:
        """Apply the view's frames until ``found()`` returns something (not None); return it.

        Fails with ``failure`` after ``timeout`` seconds.
        """
        await self.drain()
        deadline = trio.current_time() + timeout
        while (result := found()) is None:
            frame = await self._next(max(0.0, deadline - trio.current_time()))
            if frame is None:
                raise AssertionError(failure)
            self._handle(frame)
        return result

    def patched(self, to: str) -> None:
        """The view's URL is now ``to`` (a patch): the location bar changes, ``assert_patch`` will see it."""
        self.url = absolute_url(to)
        self.patches.append(to)

    # -- joining and leaving ---------------------------------------------------------------

    def _join_params(self, mounts: int, **extra) -> dict:
        return {"_csrf_token": self.page.csrf, "_mounts": mounts, "_mount_attempts": 0, **extra}

    async def _join(self, payload: dict) -> LiveViewTest | Redirect:
        status, response = await self.client.join(self.topic, payload, timeout=self.timeout)
        self.join_ref = self.client.join_refs[self.topic]
        if status != "ok":
            for kind in (LIVE_REDIRECT, REDIRECT):
                if kind in response:  # the mount navigated away; no channel was started
                    return self._redirect(kind, response[kind])
            raise JoinRefused(response)
        extracted = extract(response[RENDERED])
        if extracted.title is not None:
            self.title = extracted.title
        self.events.extend(extracted.events)
        self.tree = RenderedTree(self.id, extracted.diff)
        self._render()
        if LIVE_PATCH in response:
            self.patched(response[LIVE_PATCH]["to"])
        return self

    async def _leave(self) -> None:
        if not self._closed and not self._gone:
            await self.call("phx_leave", {})
            await self._wait_closed()
        self._gone = self._gone or "it left"

    async def _wait_closed(self) -> None:
        while not self._closed:
            frame = await self._next(self.timeout)
            if frame is None:
                raise AssertionError(f"{self!r} navigated away but sent no phx_close within {self.timeout} s")
            self._handle(frame)

    # -- frames ------------------------------------------------------------------------------

    def _push(self, event: str, payload: dict) -> str:
        return self.client.push(self.topic, event, payload, join_ref=self.join_ref)

    async def _next(self, timeout: float) -> list | None:
        """This view's next frame (selective receive: others stay queued), or None after ``timeout``."""
        frame = await self.client.receive_frame(self._owns, timeout=timeout)
        return frame if isinstance(frame, list) else None  # (_owns takes lists only)

    def _owns(self, frame: object) -> bool:
        return isinstance(frame, list) and frame[2] == self.topic and frame[0] == self.join_ref

    def _handle(self, frame: list) -> None:
        event, payload = frame[3], frame[4]
        if event == "phx_reply":
            if frame[1] in self._pending:
                self._destroyed(frame[1], payload.get("response") or {})
        elif event == DIFF:
            self._apply(payload)
        elif event == LIVE_PATCH:
            self.patched(payload["to"])
        elif event in (REDIRECT, LIVE_REDIRECT):
            self._redirect(event, payload)
        elif event == "phx_close":
            self._closed = True
            self._gone = self._gone or "it left (phx_close)"
        elif event == "phx_error":
            self._gone = "it crashed (phx_error)"
            raise AssertionError(f"{self!r} crashed (phx_error); its crash report says why")

    def _redirect(self, kind: str, target: dict) -> Redirect:
        flash_token = target.get("flash")
        redirect = Redirect(
            kind, target["to"], self.page.router.read_flash(flash_token) or {}, target.get("kind") == "replace",
            source=self, flash_token=flash_token,
        )
        self.redirects.append(redirect)
        self._gone = f"it navigated to {redirect.to} ({kind})"
        return redirect

    # -- rendering ---------------------------------------------------------------------------

    def _apply(self, diff: dict) -> None:
        extracted = extract(diff)
        self.events.extend(extracted.events)
        if extracted.reply is not None:
            self.reply = extracted.reply
        if extracted.title is not None:
            self.title = extracted.title
        if extracted.diff:
            assert self.tree is not None  # (diffs come after the join, which made the tree)
            self.tree.merge(extracted.diff)
            self._render()

    def _render(self) -> None:
        assert self.tree is not None  # (made by the join)
        html, streams = self.tree.to_html()
        before = self.dom.component_ids()
        self.dom.patch(html, streams)
        gone = sorted(before - self.dom.component_ids())
        if gone:
            # Components that left the page: the client tells the server, in two steps
            # (docs/protocol/liveview.md, "Component destruction").
            self._pending[self._push(CIDS_WILL_DESTROY, {"cids": gone})] = (CIDS_WILL_DESTROY, gone)

    def _destroyed(self, ref: str, response: dict) -> None:
        push, cids = self._pending.pop(ref)
        if push == CIDS_WILL_DESTROY:
            absent = [cid for cid in cids if self.dom.find_component(cid) is None]  # not rendered again meanwhile
            if absent:
                self._pending[self._push(CIDS_DESTROYED, {"cids": absent})] = (CIDS_DESTROYED, absent)
        else:
            assert self.tree is not None  # (made by the join)
            self.tree.prune(response.get("cids") or [])

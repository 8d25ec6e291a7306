"""The LiveView router: URL paths → views, the dead render, and the ``/live`` socket.

One :class:`LiveRouter` describes a set of LiveView pages::

    router = LiveRouter(
        secret=SECRET,
        routes={"/live/counter": Counter, "/live/items/:id": Item},
        pubsub="live", channel_supervisor="live.channels",
        layout=my_layout,                       # (title, container_html, csrf_token) -> full page
    )
    endpoint = await Endpoint.start_link(router.http(other_pages), websocket=router.websocket())

``GET`` on a route is the *dead render* (docs/protocol/liveview.md, "The page"): the view is
mounted without a process and its HTML is put in a container carrying the
signed session; the page's script then connects to ``/live/websocket`` and
joins ``lv:<container id>``, where :class:`~web.live.LiveViewChannel`
mounts it again, this time in a process of its own.

Routes may have ``:name`` segments (they become params). Routes belong to a
*live session* (``live_session`` in Phoenix): live navigation
(``push_navigate``, ``<.link navigate=...>``) stays on the socket only
between views of the same live session; give a route as ``(View,
"admin")`` to put it in another one.

A route may also be a :class:`LiveRoute`, with the view's ``@live_action``
there, a page layout and a container element of its own; the router's
``live_sessions`` give each live session a layout and ``on_mount`` hooks
(:class:`LiveSession`)::

    router = LiveRouter(
        secret=SECRET, pubsub="live",
        routes={
            "/users/:id": LiveRoute(UserLive, "show"),
            "/users/:id/edit": LiveRoute(UserLive, "edit"),
            "/admin": LiveRoute(AdminLive, live_session="admin"),
        },
        live_sessions={"admin": LiveSession(layout=admin_layout, on_mount=[require_admin])},
        tracked_static=["/assets/app.js?vsn=3f2a"],     # for LiveSocket.static_changed()
    )

A route's layout is its own, else its live session's, else the router's;
a live navigation only goes where the layout is the page's (elsewhere the
client loads the page). Views placed in a view with ``live_render`` are
rendered here too, on the dead render (``web.live._nested``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
from markupsafe import Markup, escape

from otp import Destination
from web._http import Handler, Request, Response
from web._static import client_script
from web.channel import Channel
from web.session import CSRF_SALT  # the session's CSRF tokens are the page's: one salt
from web.socket import Socket
from web.token import InvalidToken, sign, verify
from web.transports.longpoll import LongPoll
from web.transports.phoenix import phoenix_socket
from web.transports.websocket import WebSocket

from ._component import Components, current_components
from ._forms import current_csrf_token
from ._nested import (
    DEFAULT_CONTAINER,
    INCARNATION,
    Container,
    DeadChild,
    Nest,
    check_container,
    container_html,
    current_nest,
    view_name,
)
from ._server import FLASH_SALT, SESSION_SALT, STATIC_SALT, LiveViewChannel, default_title, http_status, mount_view
from ._upload import UploadChannel
from ._view import LiveSocket, LiveView, OnMountHook, _path_and_query

__all__ = ["LiveRouter", "LiveRoute", "LiveSession", "Route", "CSRF_SALT", "live_title"]

FLASH_COOKIE = "__phoenix_flash__"  # set by the client on a full redirect that carries a flash
DEFAULT_SESSION = "default"

#: A page layout: ``layout(title, container_html, csrf_token)`` -> the whole HTML document.
Layout = Callable[[str, str, str], str]


@attrs.frozen
class LiveRoute:
    """A route's view with its options, where a bare view class is not enough::

        routes={
            "/users/:id": LiveRoute(UserLive, "show"),
            "/users/:id/edit": LiveRoute(UserLive, "edit"),        # @live_action == "edit"
            "/admin": LiveRoute(AdminLive, live_session="admin", container=("main", {"class": "wide"})),
        }

    Args:
        view: the LiveView class.
        action: the view's ``@live_action`` at this route (Phoenix's ``live "/x", View, :action``);
            a ``push_patch`` between two routes of one view changes it.
        live_session: the route's live session (see :class:`LiveSession`).
        layout: the page layout of this route, over its live session's and the router's.
        container: ``(tag, attributes)`` of the view's container element, over the view's
            ``container`` class attribute (``("div", {})``).
    """

    view: type[LiveView]
    action: str | None = None
    live_session: str = "default"
    layout: Layout | None = None
    container: tuple[str, Mapping[str, Any]] | None = None


@attrs.frozen
class LiveSession:
    """What the routes of one live session share (Phoenix's ``live_session``).

    Live navigation stays on the socket between views of one live session
    only. ``layout``: the page layout of its routes (a route's own comes
    first). ``on_mount``: hooks run before the ``on_mount`` hooks of each of
    its views, on the dead render and on the join (the place to check who
    the user is, once for a whole part of the app).
    """

    layout: Layout | None = None
    on_mount: tuple[OnMountHook, ...] = attrs.field(default=(), converter=tuple)


#: What ``LiveRouter(routes=...)`` maps a path to: a view, ``(view, live_session)`` or a :class:`LiveRoute`.
RouteTarget = type[LiveView] | tuple[type[LiveView], str] | LiveRoute


@attrs.frozen
class Redirect:
    to: str
    flash: dict = attrs.field(factory=dict)  # carried to the next page in the flash cookie


@attrs.frozen
class Route:
    """A route as the router keeps it: its :class:`LiveRoute` options resolved, its path compiled."""

    path: str
    view: type[LiveView]
    live_session: str
    pattern: re.Pattern
    action: str | None = None
    layout: Layout | None = None  # the route's, else its live session's; None: the router's
    container: Container = DEFAULT_CONTAINER
    on_mount: tuple[OnMountHook, ...] = ()  # its live session's hooks, run before the view's own

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()


def _route(path: str, target: RouteTarget, sessions: Mapping[str, LiveSession]) -> Route:
    if isinstance(target, LiveRoute):
        spec = target
    elif isinstance(target, tuple):
        spec = LiveRoute(target[0], live_session=target[1])
    else:
        spec = LiveRoute(target)
    view = spec.view
    if not (isinstance(view, type) and issubclass(view, LiveView)):
        raise TypeError(f"route {path!r} needs a LiveView subclass; got {view!r}")
    if spec.action is not None and not isinstance(spec.action, str):
        raise TypeError(f"route {path!r}: action must be a string such as \"edit\"; got {spec.action!r}")
    session = sessions.get(spec.live_session, LiveSession())
    container = check_container(spec.container or getattr(view, "container", DEFAULT_CONTAINER), f"route {path!r}")
    regex = re.sub(r":([A-Za-z_]\w*)", lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(path).replace("\\:", ":"))
    return Route(
        path, view, spec.live_session, re.compile(regex), action=spec.action,
        layout=spec.layout or session.layout, container=container, on_mount=session.on_mount,
    )


def live_title(title: str, *, prefix: str = "", suffix: str = "", default: str | None = None) -> Markup:
    """A page's ``<title>`` whose prefix and suffix stay when a view changes the title (Phoenix's ``live_title``).

    The client writes ``prefix + title + suffix`` to ``document.title`` each
    time a view sets its title (``page_title``), reading them from the
    element's ``data-prefix`` and ``data-suffix``; ``default`` is the title
    shown for an empty one::

        >>> print(live_title("Inbox", suffix=" · Mail"))
        <title data-suffix=" · Mail">Inbox · Mail</title>

    For a layout of your own; :func:`default_layout` uses it.
    """
    shown = title if title.strip() or default is None else default
    data = {"data-prefix": prefix, "data-suffix": suffix, "data-default": default}
    attributes = "".join(f' {name}="{escape(value)}"' for name, value in data.items() if value)
    return Markup(f"<title{attributes}>{escape(prefix)}{escape(shown)}{escape(suffix)}</title>")


def default_layout(
    title: str,
    container: str,
    csrf: str,
    *,
    head: str = "",
    before: str = "",
    hooks: str = "",
    live_socket_options: Mapping[str, str] | None = None,
    title_prefix: str = "",
    title_suffix: str = "",
) -> str:
    """A minimal page: the CSRF meta tag, the container, the two client scripts, the bootstrap.

    The page names an empty icon (``data:,``), so a browser does not ask
    for ``/favicon.ico``, which the router does not serve, and log a 404.

    The client falls back to long-poll (``/live/longpoll``, which
    ``LiveRouter.websocket()`` mounts) when its WebSocket has not opened
    within 2.5 s (``longPollFallbackMs``), and remembers it for the tab.

    ``head`` (e.g. a ``<style>``) goes at the end of ``<head>``, ``before``
    (e.g. a ``<nav>``) just before the container: an app's layout can be
    ``functools.partial(default_layout, head=..., before=...)``.

    ``title_prefix`` and ``title_suffix`` go around every title of the page,
    the first and those a view sets later (:func:`live_title`):
    ``functools.partial(default_layout, title_suffix=" · My App")``.

    ``hooks`` is the JavaScript of the page's hooks object (``phx-hook``),
    ``live_socket_options`` any other option of the client's ``LiveSocket``,
    name to JavaScript (a value given for ``longPollFallbackMs`` or
    ``params`` replaces ours). Both are code the page runs, written by the
    app, never text from a user::

        layout = functools.partial(default_layout, hooks='''{
          Copy: {mounted() { this.el.addEventListener("click", () => navigator.clipboard.writeText(this.el.dataset.text)) }}
        }''', live_socket_options={"metadata": "{click: (e) => ({alt: e.altKey})}"})
    """
    options = {"longPollFallbackMs": "2500", "params": "{_csrf_token: csrf}"}
    if hooks:
        options["hooks"] = hooks
    options.update(live_socket_options or {})
    bootstrap = ", ".join(f"{name}: {value}" for name, value in options.items())
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="csrf-token" content="{escape(csrf)}">
  <link rel="icon" href="data:,">
  {live_title(title, prefix=title_prefix, suffix=title_suffix)}{head}
</head>
<body>{before}
{container}
<script src="/phoenix.min.js"></script>
<script src="/phoenix_live_view.min.js"></script>
<script>
  let csrf = document.querySelector("meta[name='csrf-token']").getAttribute("content");
  let liveSocket = new LiveView.LiveSocket("/live", Phoenix.Socket, {{{bootstrap}}});
  liveSocket.connect();
  window.liveSocket = liveSocket;
</script>
</body>
</html>
"""


# A Host header we can put in a URL as it is: a name or an IPv4/IPv6 address, and a port.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def page_url(request: Request) -> str:
    """The page's absolute URL, as the browser's location bar shows it: what ``handle_params`` gets.

    The connected join gets the URL the client sends (``location.href``), so
    the dead render builds the same one from the request, and the view sees
    one URL whichever render it is in. The endpoint speaks plain HTTP; a
    ``Host`` header that is not a host (and port) is read as ``localhost``.

        >>> page_url(Request("GET", "/search", {"q": "1"}, {"host": "example.com:4000"}, ("127.0.0.1", 1), b"", "q=1"))
        'http://example.com:4000/search?q=1'
    """
    host = request.headers.get("host", "")
    if not _HOST.fullmatch(host):
        host = "localhost"
    return f"http://{host}{request.path}" + (f"?{request.query_string}" if request.query_string else "")


class LiveRouter:
    """LiveView routes, their dead render and their socket; see the module docstring."""

    def __init__(
        self,
        *,
        secret: str,
        routes: Mapping[str, RouteTarget] | None = None,
        pubsub: str,
        channel_supervisor: Destination | None = None,
        layout: Callable[[str, str, str], str] = default_layout,
        session: Callable[[Request], dict[str, Any]] | None = None,
        socket_path: str = "/live",
        rate_limit: tuple[float, float] | None = None,
        live_sessions: Mapping[str, LiveSession] | None = None,
        tracked_static: Iterable[str] = (),
    ) -> None:
        if not secret:
            raise ValueError("LiveRouter needs a secret (it signs sessions, CSRF and upload tokens)")
        self.secret = secret
        self.live_sessions = dict(live_sessions or {})
        self.routes = [_route(path, target, self.live_sessions) for path, target in (routes or {}).items()]
        # The URLs of the app's phx-track-static files as served now (path and query), for
        # LiveSocket.static_changed(); None when the app tracks none.
        self.tracked_static = frozenset(_path_and_query(url) for url in tracked_static) or None
        self.nested_views: dict[str, type[LiveView]] = {}  # view_name -> class, of every child rendered
        self.pubsub = pubsub
        self.channel_supervisor = channel_supervisor
        self.layout = layout
        self.session: Callable[[Request], dict[str, Any]] = session or (lambda request: {})
        self.socket_path = socket_path
        self.channel_cls = type("LiveChannel", (LiveViewChannel,), {"router": self, "secret": secret})
        upload_cls = type("LiveUploadChannel", (UploadChannel,), {"secret": secret})
        self.socket_cls = _socket_class(self, self.channel_cls, upload_cls)
        if rate_limit is not None:  # messages/s and burst per page (web.socket.Socket.rate_limit)
            self.socket_cls.rate_limit = rate_limit

    # -- routes ----------------------------------------------------------------

    def add_route(self, path: str, target: RouteTarget) -> None:
        """Add a route after those given to the constructor (``web.router``'s ``live`` does).

        Raises:
            TypeError: ``target`` is not a LiveView class, ``(view, live_session)`` or a :class:`LiveRoute`.
        """
        self.routes.append(_route(path, target, self.live_sessions))

    def layout_of(self, route: Route) -> Layout:
        """The page layout of ``route``: its own, else its live session's, else the router's."""
        return route.layout or self.layout

    def same_layout(self, route: Route, loaded_path: object) -> bool:
        """Whether ``route`` has the layout of the route at ``loaded_path`` (the page the browser loaded).

        A live navigation keeps the loaded page around the view, so it may only go
        where the layout is the same; elsewhere the client loads the page.
        """
        loaded = next((r for r in self.routes if r.path == loaded_path), None)
        return loaded is not None and self.layout_of(loaded) is self.layout_of(route)

    def match(self, url: str) -> tuple[Route, dict[str, str]] | None:
        """The route of a URL (or path) and its params: path segments, then the query.

        None when no route matches, or when ``url`` (from the client) cannot
        even be parsed (``http://[::1``).
        """
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        for route in self.routes:
            params = route.match(parts.path or "/")
            if params is not None:
                return route, {**dict(parse_qsl(parts.query, keep_blank_values=True)), **params}
        return None

    # -- HTTP ----------------------------------------------------------------------

    def http(self, fallback: Callable[[Request], Awaitable[Response]] | None = None) -> Handler:
        """An endpoint handler: the two client scripts every page loads, dead renders of the routes,
        else ``fallback`` (or 404)."""

        async def handler(request: Request) -> Response:
            if request.method == "GET":
                response = client_script(request.path) or await self.render(request)
                if response is not None:
                    return response
            if fallback is not None:
                return await fallback(request)
            return Response(404, {"content-type": "text/plain"}, b"not found")

        return handler

    async def render(
        self, request: Request, *, session: Mapping[str, Any] | None = None, csrf_token: str | None = None
    ) -> Response | None:
        """The dead render of the route at ``request``'s URL, or None if none matches.

        ``session``: the user session to render with, instead of asking the
        router's ``session`` function (``web.testing.live(..., session=...)``
        passes a test's). ``csrf_token``: the page's CSRF token, instead of
        a new one (``web.router`` passes the one of the request's session,
        so that forms of the page pass ``web.session.CSRFProtection``); it
        must verify with this router's secret.
        """
        url = page_url(request)
        found = self.match(url)
        if found is None:
            return None
        route, params = found
        user_session = self.session(request) if session is None else dict(session)
        flash = self._flash_cookie(request)
        csrf = csrf_token or sign(self.secret, CSRF_SALT, secrets.token_urlsafe(16))
        rendering = current_csrf_token.set(csrf)  # (for the page's <.form action=...>)
        try:
            page = await self.render_container(route, params, user_session, url, flash=flash)
        except Exception as error:
            status = http_status(error)
            if status is None:
                raise
            return Response(status, {"content-type": "text/plain; charset=utf-8"}, f"{status} {error}")
        finally:
            current_csrf_token.reset(rendering)
        # The flash a full redirect carried (docs/protocol/liveview.md, "Navigation") is shown once: clear its cookie.
        clear = {"set-cookie": f"{FLASH_COOKIE}=; max-age=0; path=/"} if flash is not None else {}
        if isinstance(page, Redirect):  # the mount navigated away
            return Response(302, {"location": page.to, **(self._flash_carried(page.flash) or clear)}, b"")
        title, container = page
        body = self.layout_of(route)(title, container, csrf)
        return Response(200, {"content-type": "text/html; charset=utf-8", **clear}, body)

    def _flash_cookie(self, request: Request) -> dict[str, str] | None:
        cookies = SimpleCookie()
        try:
            cookies.load(request.headers.get("cookie", ""))
        except CookieError:
            return None
        morsel = cookies.get(FLASH_COOKIE)
        flash = self.read_flash(morsel.value if morsel is not None else None)
        return None if flash is None else {str(k): str(v) for k, v in flash.items()}

    def _flash_carried(self, flash: dict) -> dict[str, str]:
        """The cookie that carries a flash over a redirect from the dead render; ``{}`` without a flash.

        What the client does on a connected view's redirect (it sets the same cookie from the
        reply's signed flash), done by the 302 itself: the page redirected to shows it once.
        """
        if not flash:
            return {}
        return {"set-cookie": f"{FLASH_COOKIE}={sign(self.secret, FLASH_SALT, flash)}; max-age=60; path=/"}

    def read_flash(self, token: str | None) -> dict[str, Any] | None:
        """The flash a redirect's signed flash token carries (docs/protocol/liveview.md, "Navigation").

        None when there is no token, or it is forged, expired (older than
        60 s) or not a flash. The flash cookie of a full redirect and the
        ``flash`` of a ``live_redirect`` carry the same token; the test
        client reads it to show what a redirect carries.
        """
        if not token:
            return None
        try:
            flash = verify(self.secret, FLASH_SALT, token, max_age=60)
        except InvalidToken:
            return None
        return flash if isinstance(flash, dict) else None

    async def render_container(
        self, route: Route, params: dict[str, str], session: dict[str, Any], url: str, *, flash: dict[str, str] | None = None
    ) -> tuple[str, str] | Redirect:
        """``(title, container html)``; or a :class:`Redirect` if the mount navigated away."""
        view_id = "phx-" + secrets.token_urlsafe(12)
        view = route.view()
        socket = LiveSocket(connected=False, view_id=view_id)
        if flash:
            socket.assign(flash=flash)
        socket.tracked_static = self.tracked_static
        await mount_view(view, socket, params, session, url, route=route)
        if socket.navigation is not None and socket.navigation[0] != "patch":
            return Redirect(socket.navigation[1], socket.assigns["flash"])
        html = await self._render_dead(view, socket, Nest(self, view_id, dict(session), route.live_session))
        if isinstance(html, Redirect):
            return html  # a nested view's mount navigated away: so does the page
        signed = sign(self.secret, SESSION_SALT, self.session_payload(view_id, route, session))
        # The static token: the same id, and the flash the dead render showed, for the join.
        static = self.sign_static(view_id, flash or {})
        tag, attributes = route.container
        ours = {"id": view_id, "data-phx-main": True, "data-phx-session": signed, "data-phx-static": static}
        container = f"{container_html(tag, ours, attributes)}{html}</{tag}>"
        return socket.title or default_title(route.view), container

    def session_payload(self, view_id: str, route: Route, session: dict[str, Any]) -> dict[str, Any]:
        return {"id": view_id, "route": route.path, "live_session": route.live_session, "session": dict(session)}

    # -- nested views ----------------------------------------------------------------

    async def _render_dead(self, view: LiveView, socket: LiveSocket, nest: Nest) -> str | Redirect:
        """The HTML of a mounted view on the dead render, its components and nested views in it."""
        components = Components(lambda cid: LiveSocket(connected=False, view_id=socket.id, myself=cid))
        tokens = current_components.set(components), current_nest.set(nest)
        try:
            rendered = view.render(socket.assigns, None)
        finally:
            current_nest.reset(tokens[1])
            current_components.reset(tokens[0])
        trees = await components.settle(full=True)
        for child in nest.dead_children:
            redirect = await self._render_dead_child(child, nest)
            if redirect is not None:
                return redirect
        return rendered.to_html(_ComponentHtml(trees))

    async def _render_dead_child(self, child: DeadChild, parent: Nest) -> Redirect | None:
        """Mount and render a child the dead render placed (its HTML goes in ``child.html``).

        A child has no URL: no params, no ``handle_params`` (see ``web.live._nested``).
        Returns a :class:`Redirect` if its mount navigated away (the whole page then does).
        """
        view = child.view()
        socket = LiveSocket(connected=False, view_id=child.id)
        socket.parent_id = parent.parent_id
        await mount_view(view, socket, {}, child.session, "")
        if socket.navigation is not None and socket.navigation[0] != "patch":
            return Redirect(socket.navigation[1], socket.assigns["flash"])
        html = await self._render_dead(view, socket, Nest(self, child.id, child.session, parent.live_session))
        if isinstance(html, Redirect):
            return html
        child.html.html = html
        return None

    def register_nested(self, view: type[LiveView]) -> None:
        """Remember a view ``live_render`` placed, so that its child's join finds it by name."""
        self.nested_views[view_name(view)] = view

    def sign_nested_session(self, view_id: str, view: type[LiveView], session: dict[str, Any], nest: Nest, *, sticky: bool) -> str:
        """The signed session of a nested view: its view by name, its parent's process unless sticky.

        See docs/protocol/liveview.md, "Nested views"; the pid is a number of this OS process,
        so ``INCARNATION`` comes with it (a token signed before a restart names no parent).
        """
        payload: dict[str, Any] = {
            "id": view_id, "view": view_name(view), "live_session": nest.live_session, "session": session,
            "sticky": sticky,
        }
        if not sticky and nest.parent is not None:
            root = nest.root or nest.parent
            payload["parent"] = {"id": nest.parent_id, "pid": nest.parent.number, "root": root.number, "run": INCARNATION}
        return sign(self.secret, SESSION_SALT, payload)

    def sign_static(self, view_id: str, flash: Mapping[str, str]) -> str:
        """A view's static token: its id and the flash its dead render showed."""
        return sign(self.secret, STATIC_SALT, {"id": view_id, "flash": dict(flash)})

    # -- the socket ------------------------------------------------------------------

    def websocket(self, *, longpoll: bool | LongPoll = True, **options: Any) -> WebSocket:
        """The WebSocket mount for ``<socket_path>/websocket``: ``lv:*`` views, ``lvu:*`` uploads.

        With long-poll at ``<socket_path>/longpoll`` too (``longpoll=False``
        leaves it out; a :class:`~web.transports.longpoll.LongPoll` tunes it),
        which :func:`default_layout`'s pages fall back to when their WebSocket
        does not open within 2.5 s. ``options`` are those of
        :class:`~web.transports.websocket.WebSocket`. ``longpoll=True`` signs
        its session tokens with a key derived from the router's secret, so
        that every node with this router (every worker of
        :mod:`web.workers`) serves every session.
        """
        if longpoll is True:
            key = self.secret.encode() if isinstance(self.secret, str) else self.secret
            longpoll = LongPoll(secret=hmac.new(key, b"web.live longpoll", hashlib.sha256).hexdigest())
        return phoenix_socket(
            self.socket_cls, pubsub=self.pubsub, channel_supervisor=self.channel_supervisor,
            path=self.socket_path + "/websocket", longpoll=longpoll, **options,
        )

    def check_csrf(self, token: object) -> bool:
        try:
            verify(self.secret, CSRF_SALT, token)
        except InvalidToken:
            return False
        return True


class _ComponentHtml(dict):
    """cid → HTML for the dead render, each component rendered (recursively) on first use."""

    def __init__(self, trees: dict) -> None:
        super().__init__()
        self.trees = trees

    def __missing__(self, cid: int) -> str:
        html = self.trees[cid].to_html(self)
        self[cid] = html
        return html


def _socket_class(router: LiveRouter, channel_cls: type[Channel], upload_cls: type[Channel]) -> type[Socket]:
    class LiveUserSocket(Socket):
        """Accept every connect; a bad CSRF token makes every join ``stale``

        (docs/protocol/liveview.md, "The /live socket").
        """

        channels = {"lv:*": channel_cls, "lvu:*": upload_cls}

        async def connect(self, params, connect_info):
            token = params.get("_csrf_token")
            ok = router.check_csrf(token)
            # The page's token, which its views' <.form action=...> render (web.live._forms.current_csrf_token).
            return {"csrf_ok": ok, "csrf_token": token if ok else None}

    return LiveUserSocket

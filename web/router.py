"""HTTP routes beside the sockets: paths and methods to handlers, through pipelines of plugs.

A :class:`Router` is an endpoint handler, as Phoenix's router is a plug::

    from web import Endpoint, json, redirect, text
    from web.plugs import RateLimit, SecureBrowserHeaders
    from web.router import Router
    from web.session import CookieSession, CSRFProtection

    router = Router(live=live)                           # live: the web.live.LiveRouter of the pages
    browser = [SecureBrowserHeaders(), CookieSession(secret=SECRET), CSRFProtection()]
    api = [RateLimit(10, burst=20)]

    site = router.scope("/", pipe_through=browser)
    site.get("/", home)
    site.post("/login", login)
    site.live("/dashboard", Dashboard)                   # a LiveView page, same session

    v1 = router.scope("/api/v1", pipe_through=api)
    v1.get("/users/:id", show_user)                      # request.path_params["id"]
    v1.match(["PUT", "PATCH"], "/users/:id", update_user)
    router.mount("/legacy", starlette_app)               # any ASGI application

    await Endpoint.start_link(router.http(), websocket=live.websocket())

Handlers
--------
``async def handler(request) -> Response``, given a
:class:`~web.router.RoutedRequest`: the endpoint's :class:`web.Request`
with ``path_params``, ``assigns`` (what plugs put there), ``session``,
``cookies``, ``form()`` and ``json()``. Return a :class:`web.Response` or
a :class:`web.StreamingResponse`; :func:`web.json`, :func:`web.html`,
:func:`web.text` and :func:`web.redirect` make the usual ones. The route
methods also work as decorators: ``@router.get("/health")``.

Plugs and pipelines
-------------------
One model for every middleware, Plug's, written as a coroutine around
the rest of the chain::

    async def require_user(request, next):
        user = request.session.get("user")
        if user is None:
            return redirect("/login")                    # halt: the rest never runs
        response = await next(request.assign(user=user)) # the rest, with a new assign
        return response                                  # (a plug may change it on the way out)

A *pipeline* is a list of plugs. ``scope(prefix, pipe_through=[...])``
runs its pipelines, in order, before each of its routes, after those of
the scopes it is inside. As in Phoenix, pipelines run only for a request
that matched a route; ``Router(plugs=[...])`` run for every request,
before routing (static files, a rate limit for everything). A plug's
refusal skips the plugs after it, so put ``SecureBrowserHeaders`` first.

What the router answers itself
------------------------------
====================================  ===================================================
request                               answer
====================================  ===================================================
no route's path matches               404
a route's path matches, not its       405 with ``Allow`` (the methods that would match)
method
``HEAD`` on a ``GET`` route           the ``GET`` route (the endpoint sends no body;
                                      ``request.method`` stays ``"HEAD"``)
a path param that is not UTF-8        400
once percent-decoded
a plug or handler raises an           that status, with the exception's message as
exception with a 4xx ``status_code``  plain text; no crash report (``BadRequest`` from
                                      ``form()``/``json()``, ``web.live.HTTPError(404)``)
a plug or handler raises anything     500, and the connection's process crashes with
else                                  the exception (a crash report on ``web.http``)
====================================  ===================================================

Routes are tried in the order they were declared; the first whose path
and method match wins. ``forward(prefix, handler)`` hands everything under
``prefix`` to another handler (any method; the request's path unchanged),
``mount(prefix, app)`` to an ASGI application (:mod:`web.asgi`).

LiveView pages
--------------
``Router(live=live_router)`` and ``scope.live(path, View)`` put a
:class:`web.live.LiveRouter` page behind the scope's pipelines: the dead
render gets the session of the scope's ``CookieSession`` (what ``mount`` and
``on_mount`` hooks receive as ``session``), and the page's CSRF token is
that session's, so the ``/live`` socket accepts it and a form the page
posts passes ``CSRFProtection``. The first ``live`` route also serves the
two client scripts the page loads. The LiveRouter and the session must
share a secret.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from otp import ChildSpec
from otp.lowlevel import fixup_module_metadata as _fixup_module_metadata

from ._http import Request, Response
from ._request import SESSION, BadRequest, RoutedRequest, UploadedFile
from ._responses import delete_cookie, html, json, put_cookie, redirect, text, with_headers
from ._routes import PathPattern, join_paths, split_path
from ._static import CLIENT_SCRIPTS, client_script

__all__ = [
    "Router",
    "Scope",
    "RoutedRequest",
    "BadRequest",
    "UploadedFile",
    "Plug",
    "Next",
    "RouteHandler",
    "json",
    "html",
    "text",
    "redirect",
    "put_cookie",
    "delete_cookie",
    "with_headers",
]

logger = logging.getLogger("web.http")

#: ``async def handler(request) -> Response``.
RouteHandler = Callable[[RoutedRequest], Awaitable[Any]]
#: What a plug calls to run the rest of the chain: ``await next(request)``.
Next = Callable[[RoutedRequest], Awaitable[Any]]
#: ``async def plug(request, next) -> Response``.
Plug = Callable[[RoutedRequest, Next], Awaitable[Any]]

Methods = Iterable[str] | str
_Handler = TypeVar("_Handler", bound=Callable[..., Any])

ANY_METHOD = "*"


# ---------------------------------------------------------------- routes


@attrs.frozen
class _Route:
    """One declared route: methods (None: any), path, and the handler with its pipelines composed in."""

    methods: frozenset[str] | None
    pattern: PathPattern
    call: Callable[[RoutedRequest], Awaitable[Any]]

    def accepts(self, method: str) -> bool:
        if self.methods is None or method in self.methods:
            return True
        return method == "HEAD" and "GET" in self.methods

    def allowed(self) -> set[str]:
        """The methods for ``Allow`` (a GET route answers HEAD too)."""
        assert self.methods is not None
        return set(self.methods) | ({"HEAD"} if "GET" in self.methods else set())


def _compose(plugs: Sequence[Plug], handler: RouteHandler) -> Callable[[RoutedRequest], Awaitable[Any]]:
    """``handler`` behind ``plugs``: one callable, built once when the route is declared."""
    call = _checked(handler)
    for plug in reversed(plugs):
        call = _bind(plug, call)
    return call


def _bind(plug: Plug, rest: Next) -> Next:
    """``plug`` in front of ``rest``: called as ``plug(request, rest)``, positionally (any parameter names do)."""

    async def step(request: RoutedRequest) -> Any:
        return await plug(request, rest)

    return step


def _checked(handler: RouteHandler) -> RouteHandler:
    async def call(request: RoutedRequest) -> Any:
        response = await handler(request)
        if not isinstance(response, Response) and not callable(getattr(response, "write_to", None)):
            raise TypeError(
                f"the route handler {handler!r} for {request.method} {request.path} must return a web.Response "
                f"(web.json(...), web.html(...), web.redirect(...)) or a web.StreamingResponse; got {response!r}"
            )
        return response

    return call


def _methods(methods: Methods) -> frozenset[str] | None:
    if methods == ANY_METHOD:
        return None
    names = [methods] if isinstance(methods, str) else list(methods)
    if not names or not all(isinstance(name, str) and name.isalpha() for name in names):
        raise ValueError(f'methods are HTTP method names (["GET", "POST"]) or "*"; got {methods!r}')
    return frozenset(name.upper() for name in names)


def _flatten(pipe_through: Iterable[Plug | Sequence[Plug]]) -> tuple[Plug, ...]:
    plugs: list[Plug] = []
    for item in pipe_through:
        if isinstance(item, (list, tuple)):
            plugs.extend(_flatten(item))
        elif callable(item):
            plugs.append(item)
        else:
            raise TypeError(f"pipe_through takes plugs (async plug(request, next)) and lists of them; got {item!r}")
    return tuple(plugs)


# ---------------------------------------------------------------- scopes


class Scope:
    """Routes under a path prefix, behind pipelines; made by :meth:`Router.scope` (and :meth:`scope`).

    Every route method takes the handler, or returns a decorator taking it,
    and returns the handler.
    """

    def __init__(self, router: Router, prefix: str, plugs: tuple[Plug, ...]) -> None:
        self.router = router
        self.prefix = join_paths("", prefix)
        self.plugs = plugs

    def scope(self, prefix: str = "/", *, pipe_through: Iterable[Plug | Sequence[Plug]] = ()) -> Scope:
        """A scope inside this one: its prefix after this one's, its pipelines after this one's."""
        return Scope(self.router, join_paths(self.prefix, prefix), self.plugs + _flatten(pipe_through))

    def get(self, path: str, handler: RouteHandler | None = None) -> Any:
        """Route ``GET`` (and ``HEAD``) on ``path`` to ``handler``."""
        return self.match(["GET"], path, handler)

    def post(self, path: str, handler: RouteHandler | None = None) -> Any:
        """Route ``POST`` on ``path`` to ``handler``."""
        return self.match(["POST"], path, handler)

    def put(self, path: str, handler: RouteHandler | None = None) -> Any:
        """Route ``PUT`` on ``path`` to ``handler``."""
        return self.match(["PUT"], path, handler)

    def patch(self, path: str, handler: RouteHandler | None = None) -> Any:
        """Route ``PATCH`` on ``path`` to ``handler``."""
        return self.match(["PATCH"], path, handler)

    def delete(self, path: str, handler: RouteHandler | None = None) -> Any:
        """Route ``DELETE`` on ``path`` to ``handler``."""
        return self.match(["DELETE"], path, handler)

    def options(self, path: str, handler: RouteHandler | None = None) -> Any:
        """Route ``OPTIONS`` on ``path`` to ``handler``."""
        return self.match(["OPTIONS"], path, handler)

    def match(self, methods: Methods, path: str, handler: RouteHandler | None = None) -> Any:
        """Route ``methods`` (a list of names, or ``"*"`` for any) on ``path`` to ``handler``.

        Raises:
            ValueError: a malformed path (see ``web._routes``) or method list.
        """
        accepted = _methods(methods)
        pattern = PathPattern(join_paths(self.prefix, path))

        def add(handler: _Handler) -> _Handler:
            self.router._add(_Route(accepted, pattern, _compose(self.plugs, handler)))
            return handler

        return add if handler is None else add(handler)

    def forward(self, prefix: str, handler: Callable[[Request], Awaitable[Any]]) -> None:
        """Hand every request under ``prefix`` (any method) to ``handler``, after this scope's pipelines.

        The request reaches ``handler`` with its whole path, e.g. a
        ``LiveRouter.http()``, a ``web.static.Static`` plug's own handler,
        or another router.
        """
        pattern = PathPattern(join_paths(self.prefix, prefix), prefix=True)
        self.router._add(_Route(None, pattern, _compose(self.plugs, handler)))

    def mount(self, prefix: str, app: Callable[..., Awaitable[None]], **options: Any) -> None:
        """Serve the ASGI application ``app`` under ``prefix``, after this scope's pipelines.

        The application sees ``prefix`` as its ``root_path``; its lifespan
        (startup and shutdown) runs when the endpoint starts and stops.
        ``options`` are :class:`web.asgi.ASGIApp`'s.
        """
        from .asgi import ASGIApp  # (web.asgi needs the router only here)

        full = join_paths(self.prefix, prefix)
        mounted = ASGIApp(app, root_path="" if full == "/" else full, **options)
        self.forward(prefix, mounted)
        self.router.children.extend(mounted.children)

    def live(self, path: str, view: type, *, live_session: str = "default") -> None:
        """A LiveView page at ``path``, rendered behind this scope's pipelines (see the module docstring).

        Raises:
            ValueError: the router was made without ``live=`` (a :class:`web.live.LiveRouter`).
        """
        live_router = self.router.live_router
        if live_router is None:
            raise ValueError(
                "router.live(...) needs the LiveRouter that serves the page's socket: Router(live=LiveRouter(...))"
            )
        full = join_paths(self.prefix, path)
        live_router.add_route(full, (view, live_session))
        self.match(["GET"], path, functools.partial(_render_live, live_router))
        self.router._serve_client_scripts()


async def _render_live(live_router: Any, request: RoutedRequest) -> Response:
    """The dead render of a LiveView route with the session and CSRF token of the pipeline's session plug."""
    session = request.assigns.get(SESSION)
    if session is None:
        response = await live_router.render(request)  # no session plug: the LiveRouter's own session function
    else:
        token = session.csrf_token()
        if not live_router.check_csrf(token):
            raise RuntimeError(
                "the session's CSRF token does not verify with the LiveRouter's secret: give "
                "web.session.CookieSession and web.live.LiveRouter the same secret"
            )
        response = await live_router.render(request, session=dict(session), csrf_token=token)
    return response if response is not None else text("not found", status=404)


# ---------------------------------------------------------------- the router


class Router(Scope):
    """Routes, pipelines, mounts; an endpoint handler (see the module docstring).

    Args:
        plugs: run for every request, before routing.
        live: the :class:`web.live.LiveRouter` whose pages :meth:`Scope.live` declares.
    """

    def __init__(self, *, plugs: Iterable[Plug | Sequence[Plug]] = (), live: Any = None) -> None:
        super().__init__(self, "/", ())
        self.routes: list[_Route] = []
        self.live_router = live
        #: Child specs the endpoint starts before it listens and stops after its connections
        #: (the lifespans of mounted ASGI applications); see ``web.endpoint``.
        self.children: list[ChildSpec] = []
        self._scripts_served = False
        self._call = _compose(_flatten(plugs), self._route)

    def http(self) -> Router:
        """The endpoint handler: the router itself (``Endpoint.start_link(router.http(), ...)``)."""
        return self

    async def __call__(self, request: Request) -> Any:
        """Answer ``request`` (the endpoint calls this; so can a test)."""
        try:
            return await self._call(RoutedRequest.of(request))
        except Exception as error:
            status = _client_error_status(error)
            if status is None:
                raise
            return text(f"{status} {error}\n", status=status)

    def _add(self, route: _Route) -> None:
        self.routes.append(route)

    async def _route(self, request: RoutedRequest) -> Any:
        segments = split_path(request.path)
        allowed: set[str] = set()
        for route in self.routes:
            params = route.pattern.match(segments)
            if params is None:
                continue
            if route.accepts(request.method):
                return await route.call(attrs.evolve(request, path_params=params))
            allowed |= route.allowed()
        if allowed:
            return text("405 method not allowed\n", status=405, headers={"allow": ", ".join(sorted(allowed))})
        return text("404 not found\n", status=404)

    def _serve_client_scripts(self) -> None:
        if self._scripts_served:
            return
        self._scripts_served = True
        for path in CLIENT_SCRIPTS:
            self.routes.insert(0, _Route(frozenset({"GET"}), PathPattern(path), _client_script))


async def _client_script(request: RoutedRequest) -> Response:
    response = client_script(request.path)
    assert response is not None  # (routed on CLIENT_SCRIPTS' own paths)
    return response


def _client_error_status(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) and 400 <= status <= 499 else None


_fixup_module_metadata(__name__, globals(), defined_in=("web._request", "web._responses"))

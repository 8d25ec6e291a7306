"""Who may load the dashboard: clients on this machine, or whoever holds its token.

:meth:`web.dashboard.Dashboard.http` wraps the endpoint's handler; every
request under the dashboard's path is judged here before its page is
rendered:

========================================  ===================================================
request                                   answer
========================================  ===================================================
no token set, client on this machine      the page (127.0.0.0/8, ::1, ::ffff:127.x.x.x)
(loopback)
no token set, any other client            403: the dashboard is served to this machine only
token set, ``?token=`` right              303 to the same URL without the token, and the
                                          token kept in an HttpOnly cookie for the path
token set, the cookie right               the page
token set, token missing or wrong         403: the page needs the dashboard's token
========================================  ===================================================

With a token, being on this machine grants nothing: behind a reverse proxy
on the same host every client looks local, so a token is then the only
safe setting. The redirect takes the token out of the address bar (and
the browser's history); the cookie is sent back only on the dashboard's
own path, never to other sites (``SameSite=Strict``). Tokens are compared
in constant time.

The LiveView joins of the pages are not HTTP requests; they are covered
because the dashboard's routes form a live session of their own (see
``Dashboard.routes``): a join must carry a session signed by the dead render
of a dashboard page, which only a request admitted here gets.
"""

from __future__ import annotations

import contextvars
import hmac
import ipaddress
import re
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

from web._http import Request, Response

__all__ = ["Access", "is_loopback", "admitted", "TOKEN_COOKIE", "TOKEN_PARAM"]

TOKEN_PARAM = "token"  # the query parameter a first visit brings the token in
TOKEN_COOKIE = "dashboard_token"  # where the browser keeps it afterwards
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9._~-]{16,256}")  # safe in a URL and a cookie, long enough to guess not

# The dashboard whose access check admitted the request being handled: set by
# Access.handler around the dead render, read by the pages' on_mount hook
# (same task, so the same context), so that a dashboard nobody wrapped fails closed.
admitted: contextvars.ContextVar[object] = contextvars.ContextVar("web.dashboard.admitted", default=None)


def is_loopback(host: object) -> bool:
    """True for an address of this machine's loopback interface (IPv4-mapped IPv6 included).

    >>> [is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "::ffff:127.0.0.1", "10.0.0.1", "localhost", None)]
    [True, True, True, True, False, False, False]
    """
    try:
        address = ipaddress.ip_address(str(host).split("%", 1)[0])  # an IPv6 scope (%lo) is not part of it
    except ValueError:
        return False  # a name, or nothing: only an address can prove it is local
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


class Access:
    """The rule above for one dashboard: ``token`` (None: loopback clients only) and its ``path``."""

    def __init__(self, owner: object, path: str, token: str | None) -> None:
        if token is not None and not (isinstance(token, str) and _TOKEN_SHAPE.fullmatch(token)):
            raise ValueError(
                "a dashboard token must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ - (safe in a URL and a "
                "cookie); make one with: python -c 'import secrets; print(secrets.token_urlsafe(24))'"
            )
        self.owner = owner
        self.path = path
        self.token = token

    def covers(self, request: Request) -> bool:
        """Whether ``request`` is for one of the dashboard's pages (or anything under its path)."""
        return request.path == self.path or request.path.startswith(self.path + "/")

    def refusal(self, request: Request) -> Response | None:
        """The answer that keeps ``request`` out (403, or the 303 that stores the token); None admits it."""
        if self.token is None:
            return None if is_loopback(request.peer[0] if request.peer else None) else self._forbidden_remote(request)
        offered = request.query.get(TOKEN_PARAM)
        if offered is not None:
            return self._store_token(request) if self._matches(offered) else _forbidden("the dashboard token is wrong")
        if self._matches(_cookie(request, TOKEN_COOKIE)):
            return None
        return _forbidden(f"this page needs the dashboard token: open it once with ?{TOKEN_PARAM}=<the token>")

    def handler(self, inner):
        """``inner`` (an endpoint handler) behind the rule, for the dashboard's paths only."""

        async def guarded(request: Request) -> Response:
            if not self.covers(request):
                return await inner(request)
            refused = self.refusal(request)
            if refused is not None:
                return refused
            mark = admitted.set(self.owner)
            try:
                return await inner(request)
            finally:
                admitted.reset(mark)

        return guarded

    def _matches(self, offered: str | None) -> bool:
        return offered is not None and self.token is not None and hmac.compare_digest(offered.encode(), self.token.encode())

    def _forbidden_remote(self, request: Request) -> Response:
        host = request.peer[0] if request.peer else "an unknown address"
        return _forbidden(
            f"the dashboard is served to this machine only (127.0.0.1, ::1), and this request came from {host}; "
            "give the dashboard a token to open it to other machines"
        )

    def _store_token(self, request: Request) -> Response:
        # The token leaves the URL at once: an address bar, a history or a log line keeps no copy.
        rest = [(key, value) for key, value in parse_qsl(request.query_string, keep_blank_values=True) if key != TOKEN_PARAM]
        location = request.path + (f"?{urlencode(rest)}" if rest else "")
        cookie = f"{TOKEN_COOKIE}={self.token}; Path={self.path}; HttpOnly; SameSite=Strict"
        return Response(303, {"location": location, "set-cookie": cookie}, b"")


def _forbidden(why: str) -> Response:
    return Response(403, {"content-type": "text/plain; charset=utf-8"}, f"403 Forbidden: {why}\n")


def _cookie(request: Request, name: str) -> str | None:
    cookies = SimpleCookie()
    try:
        cookies.load(request.headers.get("cookie", ""))
    except CookieError:
        return None  # a malformed Cookie header carries no token
    morsel = cookies.get(name)
    return morsel.value if morsel is not None else None

"""Plugs most sites want in a pipeline: security headers for browsers, and a rate limit per client.

Both are plugs of :mod:`web.router` (``async plug(request, next)``)::

    browser = [SecureBrowserHeaders(), CookieSession(secret=SECRET), CSRFProtection()]
    api = [RateLimit(5, burst=10)]                             # 5 requests/s per client address
    router = Router(plugs=[RateLimit(100, burst=200)])         # for every request, before routing

:class:`SecureBrowserHeaders` adds to each response the headers that keep
a browser from sniffing content types, framing the page on another site,
and leaking the URL in the ``Referer`` of links to other sites, plus a
``content-security-policy``; a header the handler set itself is kept.

:class:`RateLimit` gives each client (by address, or by any key of the
request) a token bucket: ``rate`` requests a second on average, ``burst``
at once. A request that finds the bucket empty is answered ``429 Too Many
Requests`` with ``Retry-After`` (whole seconds until a token is there) and
reaches no handler. The buckets are a bounded table (``max_keys``; the
table the socket mounts use for failed joins, ``web.socket.FailedJoins``):
many addresses cannot grow it, and a client that stopped has its entry
dropped once its bucket is full again.

Behind a reverse proxy every request comes from the proxy's address: key
by the client address the proxy reports (and only if a proxy you trust
sets it)::

    RateLimit(5, key=lambda request: request.headers.get("x-real-ip", request.peer[0]))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import trio

from otp.lowlevel import fixup_module_metadata as _fixup_module_metadata

from ._http import Response, StreamingResponse
from ._request import RoutedRequest
from ._responses import text
from .router import Next
from .socket import FailedJoins

__all__ = ["SecureBrowserHeaders", "RateLimit", "client_address", "DEFAULT_CONTENT_SECURITY_POLICY"]

#: No ``<base>`` pointing elsewhere, no framing by other sites: restricts nothing a page of this site loads.
DEFAULT_CONTENT_SECURITY_POLICY = "base-uri 'self'; frame-ancestors 'self';"


class SecureBrowserHeaders:
    """A plug adding browser security headers to every response (those the handler set are kept).

    Args:
        content_security_policy: the ``content-security-policy`` (None: none).
        frame_options: ``x-frame-options`` (``"SAMEORIGIN"``; ``"DENY"``).
        referrer_policy: ``referrer-policy``.
        hsts: ``strict-transport-security``'s ``max-age`` in seconds, for a
            site served over HTTPS only (None, the default: not sent).
        headers: more headers to add (or override the defaults with).
    """

    def __init__(
        self,
        *,
        content_security_policy: str | None = DEFAULT_CONTENT_SECURITY_POLICY,
        frame_options: str = "SAMEORIGIN",
        referrer_policy: str = "strict-origin-when-cross-origin",
        hsts: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        defaults = {
            "x-content-type-options": "nosniff",
            "x-frame-options": frame_options,
            "referrer-policy": referrer_policy,
            "x-permitted-cross-domain-policies": "none",
        }
        if content_security_policy is not None:
            defaults["content-security-policy"] = content_security_policy
        if hsts is not None:
            defaults["strict-transport-security"] = f"max-age={int(hsts)}; includeSubDomains"
        defaults.update({name.lower(): value for name, value in (headers or {}).items()})
        self.headers = defaults

    async def __call__(self, request: RoutedRequest, next: Next) -> Any:
        response = await next(request)
        if not isinstance(response, (Response, StreamingResponse)):
            return response  # (an ASGI application's response: its headers are its own)
        missing = {name: value for name, value in self.headers.items() if name not in response.headers}
        return attrs.evolve(response, headers={**response.headers, **missing}) if missing else response


def client_address(request: RoutedRequest) -> str:
    """The address the request came from (:class:`RateLimit`'s default key)."""
    return str(request.peer[0]) if request.peer else ""


class RateLimit:
    """A plug limiting each client to ``rate`` requests a second, ``burst`` at once (see the module docstring).

    Args:
        rate: requests a second, on average (tokens added to a bucket each second).
        burst: requests at once (the bucket's size); default ``rate``, at least 1.
        key: the request's bucket (default: its address, :func:`client_address`);
            None exempts the request.
        max_keys: buckets kept at most.

    Raises:
        ValueError: a ``rate`` or ``burst`` that is not a positive number.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        key: Callable[[RoutedRequest], str | None] = client_address,
        max_keys: int = 10_000,
    ) -> None:
        burst = max(1.0, rate) if burst is None else burst
        for name, value in (("rate", rate), ("burst", burst)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"RateLimit's {name} must be a number > 0; got {value!r}")
        if burst < 1:
            raise ValueError(f"RateLimit's burst must be at least 1 (one request); got {burst!r}")
        self.rate, self.burst, self.key = float(rate), float(burst), key
        self.buckets = FailedJoins(self.rate, self.burst, max_addresses=max_keys)

    async def __call__(self, request: RoutedRequest, next: Next) -> Any:
        key = self.key(request)
        if key is None:
            return await next(request)
        now = trio.current_time()
        wait = self.buckets.wait(key, now)
        if wait > 0:
            return text(
                f"429 Too Many Requests: at most {self.rate:g} a second; try again in {math.ceil(wait)} s\n",
                status=429,
                headers={"retry-after": str(math.ceil(wait))},
            )
        self.buckets.charge(key, now)
        return await next(request)


_fixup_module_metadata(__name__, globals())

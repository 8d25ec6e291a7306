"""Signed-cookie sessions and CSRF protection for a router's pipelines.

::

    from web.router import Router
    from web.session import CookieSession, CSRFProtection, csrf_token

    browser = [SecureBrowserHeaders(), CookieSession(secret=SECRET), CSRFProtection()]   # (web.plugs)
    site = Router().scope("/", pipe_through=browser)

    @site.get("/login")
    async def login_form(request):
        return html(f'<form method="post"><input type="hidden" name="_csrf_token" value="{csrf_token(request)}">...')

    @site.post("/login")
    async def login(request):
        request.session["user"] = request.form()["name"]     # sent back as a signed cookie
        return redirect("/", status=303)

The session
-----------
:class:`CookieSession` keeps the session in one cookie, signed (not
encrypted: put nothing secret in it) with ``secret``, as Plug's cookie
store does. The data is JSON. Only a session that changed is sent back,
and a session of no keys deletes the cookie. The cookie is ``HttpOnly``,
``SameSite=Lax`` and, with ``secure=True``, ``Secure``; it expires
``max_age`` seconds after it was last sent (14 days by default; None: when
the browser closes), and the signature expires with it. A session used
after half its age is sent again, so an active user stays logged in.

A cookie that is not ours (forged, expired, signed with an unknown
secret, not JSON, not a dict) is no error: the request gets an empty
session, and nothing is logged. To rotate the secret, give the new one as
``secret`` and the old ones as ``old_secrets``: cookies signed with an old
secret are read, and sent back signed with the new one.

A session over 4096 bytes (what browsers keep of a cookie) raises
:class:`CookieTooLarge` when the response is sent back: keep the session
small (ids, not records).

CSRF
----
A page of this site that sends a form puts :func:`csrf_token` in it (a
hidden ``_csrf_token`` field, or the ``x-csrf-token`` header of a script's
request). :class:`CSRFProtection` answers 403 to a ``POST``, ``PUT``,
``PATCH`` or ``DELETE`` that does not carry a token of its own session.
The session holds a random value; a token is that value signed and
timestamped (``web.token``, salt ``csrf``), so it cannot be made without
the secret and is worth nothing with another session.
A LiveView page rendered behind the same pipeline (``router.live``) puts
the same token in its ``csrf-token`` meta tag, which the ``/live`` socket
accepts.

An API whose clients send JSON can skip the check:
``CSRFProtection(forms_only=True)`` checks only the requests a page of
another site could send without a CORS preflight (a form's content types,
``text/plain``, or no body type), and lets an ``application/json`` request
through: a browser sends that cross-site only if CORS allows it. An API
pipeline may also leave ``CSRFProtection`` out altogether.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any, Literal

import attrs
import itsdangerous

from otp.lowlevel import fixup_module_metadata as _fixup_module_metadata

from ._http import Response, StreamingResponse
from ._request import FORM_URLENCODED, MULTIPART, SESSION, BadRequest, RoutedRequest, content_type
from ._responses import cookie_header, text, with_headers
from .router import Next
from .token import InvalidToken, sign, verify

__all__ = [
    "CookieSession",
    "Session",
    "CSRFProtection",
    "csrf_token",
    "CookieTooLarge",
    "CSRF_SALT",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CSRF_SESSION_KEY",
    "MAX_COOKIE_SIZE",
]

#: The ``web.token`` salt of CSRF tokens (the ``/live`` socket checks its ``_csrf_token`` with it too).
CSRF_SALT = "csrf"
#: The form field and the header a CSRF token comes in.
CSRF_FIELD = "_csrf_token"
CSRF_HEADER = "x-csrf-token"
#: The session key holding the value CSRF tokens are signatures of.
CSRF_SESSION_KEY = "_csrf_token"

#: Bytes of a ``set-cookie`` value browsers are sure to keep.
MAX_COOKIE_SIZE = 4096

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The body types a page may send to another site without a CORS preflight (the Fetch standard's
# "CORS-safelisted" ones); "" is a request without one.
_CROSS_SITE_TYPES = frozenset({FORM_URLENCODED, MULTIPART, "text/plain", ""})

DEFAULT_MAX_AGE = 14 * 86400


class CookieTooLarge(ValueError):
    """A session that does not fit in a cookie (over :data:`MAX_COOKIE_SIZE` bytes once signed)."""


# ---------------------------------------------------------------- the session


class Session(MutableMapping[str, Any]):
    """A request's session: a dict of JSON values that knows whether it changed.

    What ``request.session`` is behind a :class:`CookieSession`. Writing to
    it (``session["user"] = 1``, ``del``, ``clear()``, ``pop``...) marks it
    changed: the response then carries it back.
    """

    __slots__ = ("_data", "changed", "_store")

    def __init__(self, data: dict[str, Any], store: CookieSession, *, changed: bool = False) -> None:
        self._data = data
        self._store = store
        #: True once written to: the response carries the session back.
        self.changed = changed

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self.changed = True

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self.changed = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Session({self._data!r}, changed={self.changed})"

    def csrf_token(self) -> str:
        """A CSRF token of this session for a form or a page (the session's value, signed and timestamped).

        The first call puts a random value in the session (so it changes).
        """
        raw = self._data.get(CSRF_SESSION_KEY)
        if not isinstance(raw, str):
            raw = self[CSRF_SESSION_KEY] = secrets.token_urlsafe(18)
        return sign(self._store.secret, CSRF_SALT, raw)

    def check_csrf(self, token: object) -> bool:
        """True if ``token`` (whatever the client sent) is a CSRF token of this session."""
        raw = self._data.get(CSRF_SESSION_KEY)
        if not isinstance(raw, str):
            return False
        for secret in self._store.secrets:
            try:
                value = verify(secret, CSRF_SALT, token, max_age=self._store.token_max_age)
            except InvalidToken:
                continue
            return isinstance(value, str) and hmac.compare_digest(value.encode(), raw.encode())
        return False


def csrf_token(request: RoutedRequest) -> str:
    """A CSRF token of ``request``'s session, for a form's hidden ``_csrf_token`` field or a meta tag.

    Raises:
        LookupError: no :class:`CookieSession` in the route's pipeline.
    """
    session: Session = request.session
    return session.csrf_token()


# ---------------------------------------------------------------- the cookie store


@attrs.define(eq=False)
class _Loaded:
    """What a cookie held: the data, and whether it must be sent again though unchanged (old secret, half its age)."""

    data: dict[str, Any]
    stale: bool = False


class CookieSession:
    """The session plug: loads ``request.session`` from a signed cookie, sends it back if it changed.

    Args:
        secret: signs the cookie (and CSRF tokens); at least 32 characters.
        key: the cookie's name.
        max_age: seconds the cookie and its signature last from when it
            was last sent; None: until the browser closes (the signature
            then does not expire).
        secure: mark the cookie ``Secure`` (sent over HTTPS only).
        same_site: ``"Lax"`` (the default), ``"Strict"``, or ``"None"``
            (which needs ``secure``).
        http_only: hide the cookie from scripts (the default).
        path, domain: the cookie's scope.
        old_secrets: secrets cookies may still be signed with (rotation).
        salt: namespaces the signature (cookies of another salt do not verify).

    Raises:
        ValueError: a secret shorter than 32 characters, a bad ``same_site``
            or ``max_age``.
    """

    def __init__(
        self,
        secret: str,
        *,
        key: str = "_session",
        max_age: int | None = DEFAULT_MAX_AGE,
        secure: bool = False,
        same_site: Literal["Lax", "Strict", "None"] = "Lax",
        http_only: bool = True,
        path: str = "/",
        domain: str | None = None,
        old_secrets: Sequence[str] = (),
        salt: str = "cookie session",
    ) -> None:
        for each in (secret, *old_secrets):
            if not isinstance(each, str) or len(each) < 32:
                raise ValueError("a session secret must be a str of at least 32 characters: secrets.token_urlsafe(32)")
        if same_site not in ("Lax", "Strict", "None"):
            raise ValueError(f'same_site is "Lax", "Strict" or "None"; got {same_site!r}')
        if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0):
            raise ValueError(f"max_age is a whole number of seconds > 0, or None; got {max_age!r}")
        self.secret = secret
        self.secrets = (secret, *old_secrets)
        self.key, self.max_age, self.path, self.domain = key, max_age, path, domain
        self.secure, self.same_site, self.http_only = secure, same_site, http_only
        cookie_header(key, "", secure=secure, same_site=same_site)  # refuses a bad name or SameSite=None unsecured
        self._signers = [itsdangerous.URLSafeTimedSerializer(each, salt=salt) for each in self.secrets]

    @property
    def token_max_age(self) -> int:
        """Seconds a CSRF token of a session lasts: as long as the session (a year if it has no max_age)."""
        return self.max_age if self.max_age is not None else 365 * 86400

    async def __call__(self, request: RoutedRequest, next: Next) -> Any:
        loaded = self._load(request.cookies.get(self.key))
        session = Session(loaded.data, self, changed=loaded.stale)
        response = await next(request.assign(**{SESSION: session}))
        if session.changed:
            return _add_cookie(response, self._cookie(session, existed=self.key in request.cookies))
        return response

    def read(self, cookie: str | None) -> dict[str, Any] | None:
        """The session a cookie value carries, or None if it is not a valid one of ours.

        For tests and tools (``web.testing.live(..., session=store.read(cookie))``).
        """
        verified = self._verified(cookie)
        return None if verified is None else verified[0]

    def dumps(self, data: dict[str, Any]) -> str:
        """``data`` as a signed cookie value (what a browser would hold): for tests."""
        return self._signers[0].dumps(data)

    # -- loading ----------------------------------------------------------------

    def _load(self, cookie: str | None) -> _Loaded:
        verified = self._verified(cookie)
        if verified is None:
            return _Loaded({})
        data, signed_at, signer = verified
        half_age = self.max_age is not None and time.time() - signed_at > self.max_age / 2
        return _Loaded(data, stale=signer != 0 or half_age)

    def _verified(self, cookie: str | None) -> tuple[dict[str, Any], float, int] | None:
        """``(data, when signed, which secret)`` of a valid cookie; None for anything else."""
        if not cookie:
            return None
        for index, signer in enumerate(self._signers):
            try:
                data, signed_at = signer.loads(cookie, max_age=self.max_age, return_timestamp=True)
            except (itsdangerous.BadData, UnicodeError, ValueError):
                continue
            return (data, signed_at.timestamp(), index) if isinstance(data, dict) else None
        return None

    # -- sending back -------------------------------------------------------------

    def _cookie(self, session: Session, *, existed: bool) -> str | None:
        """The ``set-cookie`` for a changed session; None when there is nothing to set or delete."""
        if not session:
            return self._header("", 0) if existed else None
        try:
            value = self._signers[0].dumps(dict(session))
        except TypeError as error:
            raise TypeError(f"a session holds JSON values only (str, int, float, bool, None, list, dict): {error}") from None
        header = self._header(value, self.max_age)
        if len(header) > MAX_COOKIE_SIZE:
            raise CookieTooLarge(
                f"the session is {len(header)} bytes as a cookie, over the {MAX_COOKIE_SIZE} browsers keep: "
                f"store ids in it, not records (keys: {sorted(session)})"
            )
        return header

    def _header(self, value: str, max_age: int | None) -> str:
        return cookie_header(
            self.key, value, max_age=max_age, path=self.path, domain=self.domain,
            secure=self.secure, http_only=self.http_only, same_site=self.same_site,
        )


def _add_cookie(response: Any, cookie: str | None) -> Any:
    if cookie is None:
        return response
    if isinstance(response, Response):
        return with_headers(response, {"set-cookie": cookie})
    if isinstance(response, StreamingResponse):
        merged = with_headers(Response(response.status, response.headers), {"set-cookie": cookie})
        return attrs.evolve(response, headers=merged.headers)
    raise TypeError(
        f"the session changed, but {response!r} takes no headers to carry it back: "
        "change the session only in handlers that return a web.Response or web.StreamingResponse"
    )


# ---------------------------------------------------------------- CSRF


class CSRFProtection:
    """The CSRF plug: a request that changes things must carry a token of its session (see the module docstring).

    Args:
        forms_only: check only what another site's page could send without
            a CORS preflight; let JSON (and other non-form bodies) through.

    A refused request is answered 403, says why, and reaches no handler;
    nothing is logged (it is the client's doing). Needs a
    :class:`CookieSession` before it in the pipeline.
    """

    def __init__(self, *, forms_only: bool = False) -> None:
        self.forms_only = forms_only

    async def __call__(self, request: RoutedRequest, next: Next) -> Any:
        if request.method in SAFE_METHODS or (self.forms_only and content_type(request) not in _CROSS_SITE_TYPES):
            return await next(request)
        session: Session = request.session
        if not session.check_csrf(_offered_token(request)):
            return text(
                f"403 Forbidden: invalid CSRF token: a {request.method} needs the page's token in the "
                f"{CSRF_FIELD!r} field or the {CSRF_HEADER!r} header\n",
                status=403,
            )
        return await next(request)


def _offered_token(request: RoutedRequest) -> object:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if content_type(request) not in (FORM_URLENCODED, MULTIPART):
        return None
    try:
        return request.form().get(CSRF_FIELD)
    except BadRequest:
        return None


_fixup_module_metadata(__name__, globals())

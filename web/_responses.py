"""Responses a handler returns most: JSON, HTML, text, redirects; and cookies added to any response.

::

    >>> json({"id": 1}, status=201).headers["content-type"], json({"id": 1}).body
    ('application/json', b'{"id":1}')
    >>> redirect("/users/1").status, redirect("/users/1").headers["location"]
    (302, '/users/1')
    >>> put_cookie(text("hi"), "theme", "dark", max_age=3600).headers["set-cookie"]
    'theme=dark; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax'

A redirect goes to a path of this site unless told otherwise: ``to`` must be
a local path (``/...``, not ``//host``), and a full URL is given as
``external=``, so that a ``?next=`` parameter copied into a redirect
cannot send a user to another site::

    >>> redirect("//evil.example/")
    Traceback (most recent call last):
      ...
    ValueError: redirect(to=...) takes a path of this site ('/...'); got '//evil.example/' (use external= for another site)
"""

from __future__ import annotations

import re
from typing import Any, Literal, Mapping

import orjson

from web._http import Response

__all__ = ["json", "html", "text", "redirect", "put_cookie", "delete_cookie", "with_headers"]

Headers = Mapping[str, str] | None

_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 6265 token
_COOKIE_VALUE = re.compile(r"[!#-+\--:<-\[\]-~]*")  # no space, quote, comma, semicolon, backslash


def json(data: Any, *, status: int = 200, headers: Headers = None) -> Response:
    """``data`` as a JSON response (orjson: dicts, lists, str, numbers, dataclasses, datetimes, ...)."""
    return Response(status, {"content-type": "application/json", **(headers or {})}, orjson.dumps(data))


def html(body: str | bytes, *, status: int = 200, headers: Headers = None) -> Response:
    """An HTML page (``text/html; charset=utf-8``)."""
    return Response(status, {"content-type": "text/html; charset=utf-8", **(headers or {})}, body)


def text(body: str | bytes, *, status: int = 200, headers: Headers = None) -> Response:
    """Plain text (``text/plain; charset=utf-8``)."""
    return Response(status, {"content-type": "text/plain; charset=utf-8", **(headers or {})}, body)


def redirect(to: str | None = None, *, external: str | None = None, status: int = 302, headers: Headers = None) -> Response:
    """A redirect to ``to``, a path of this site, or to ``external``, a full URL.

    ``status``: 302 (the default), 303 after a form's POST when the method
    must become GET, 301/308 for a permanent move, 307 to repeat the method.

    Raises:
        ValueError: ``to`` is not a local path, or both or neither of
            ``to`` and ``external`` are given.
    """
    if (to is None) == (external is None):
        raise ValueError("redirect takes one of to= (a path of this site) or external= (a full URL)")
    if to is not None and not _is_local_path(to):
        raise ValueError(f"redirect(to=...) takes a path of this site ('/...'); got {to!r} (use external= for another site)")
    if status not in (301, 302, 303, 307, 308):
        raise ValueError(f"a redirect's status is one of 301, 302, 303, 307, 308; got {status!r}")
    location = to if to is not None else external
    return Response(status, {"location": location, **(headers or {})}, b"")


def _is_local_path(to: str) -> bool:
    # "//host" and "/\\host" are read by browsers as another host.
    return to.startswith("/") and not to.startswith(("//", "/\\")) and not any(c in to for c in "\r\n")


def with_headers(response: Response, headers: Mapping[str, str]) -> Response:
    """``response`` with ``headers`` added; a ``set-cookie`` is added beside those it has, others replace."""
    merged = dict(response.headers)
    for name, value in headers.items():
        name = name.lower()
        if name == "set-cookie" and name in merged:
            merged[name] = f"{merged[name]}\n{value}"
        else:
            merged[name] = value
    return Response(response.status, merged, response.body)


def put_cookie(
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    path: str = "/",
    domain: str | None = None,
    secure: bool = False,
    http_only: bool = True,
    same_site: Literal["Lax", "Strict", "None"] | None = "Lax",
) -> Response:
    """``response`` with a cookie set (beside any it sets already).

    ``max_age`` None makes a browser-session cookie. ``same_site="None"``
    needs ``secure=True`` (browsers refuse it otherwise).

    Raises:
        ValueError: a name or value a cookie cannot carry (encode the value
            first, e.g. as URL-safe base64), or ``SameSite=None`` without ``secure``.
    """
    return with_headers(response, {"set-cookie": cookie_header(
        name, value, max_age=max_age, path=path, domain=domain, secure=secure, http_only=http_only, same_site=same_site
    )})


def delete_cookie(response: Response, name: str, *, path: str = "/", domain: str | None = None) -> Response:
    """``response`` with the browser told to forget cookie ``name`` (of that path and domain)."""
    return put_cookie(response, name, "", max_age=0, path=path, domain=domain, same_site=None, http_only=False)


def cookie_header(
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    path: str = "/",
    domain: str | None = None,
    secure: bool = False,
    http_only: bool = True,
    same_site: str | None = "Lax",
) -> str:
    """The value of a ``set-cookie`` header (see :func:`put_cookie`)."""
    if not _COOKIE_NAME.fullmatch(name) or not _COOKIE_VALUE.fullmatch(value):
        raise ValueError(f"a cookie cannot carry the name {name!r} with the value {value!r}; encode the value first")
    if same_site == "None" and not secure:
        raise ValueError("a SameSite=None cookie must be secure=True (browsers refuse it otherwise)")
    parts = [f"{name}={value}", f"Path={path}"]
    if domain is not None:
        parts.append(f"Domain={domain}")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    if same_site is not None:
        parts.append(f"SameSite={same_site}")
    return "; ".join(parts)

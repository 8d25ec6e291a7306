"""The request a router's handlers and plugs see: the endpoint's request, plus path params and assigns.

:class:`RoutedRequest` is a :class:`web.Request` (everything the endpoint
read: method, path, query, headers, peer, body) with what routing adds:

* ``path_params``: the route's ``:name`` and ``*name`` segments, decoded;
* ``assigns``: what plugs put there for the plugs and the handler after
  them (the session, the current user, ...). A request is immutable, so a
  plug passes a new one on: ``await next(request.assign(user=user))``.

And readers of its body and headers, each a precise 400 on bad input
(:class:`BadRequest`, answered by the router without a crash report):

* :meth:`RoutedRequest.form`: an HTML form's fields
  (``application/x-www-form-urlencoded`` or ``multipart/form-data``), with
  Plug's nesting (``user[email]`` -> ``{"user": {"email": ...}}``);
  uploaded files are :class:`UploadedFile`;
* :meth:`RoutedRequest.json`: a JSON body;
* ``cookies``: the ``Cookie`` header as a dict.
"""

from __future__ import annotations

import email.parser
import email.policy
from typing import Any, Mapping
from urllib.parse import unquote_to_bytes, urlencode

import attrs
import orjson

from web._http import Request

__all__ = ["RoutedRequest", "BadRequest", "UploadedFile", "SESSION", "parse_cookies", "content_type"]

#: The assign the session plug (``web.session.CookieSession``) puts the session under.
SESSION = "session"

FORM_URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


class BadRequest(ValueError):
    """The request cannot be read as asked (a body that is not the form or JSON it claims); answered 400.

    Any exception with an int ``status_code`` between 400 and 499 is
    answered so by the router (``web.live.HTTPError(404)`` too), with its
    message as a plain-text body and no crash report.
    """

    status_code = 400


@attrs.frozen
class UploadedFile:
    """A file field of a ``multipart/form-data`` form."""

    filename: str
    content_type: str
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")


def content_type(request: Request) -> str:
    """The media type of the request's body, lower case, without parameters (``""`` when not given)."""
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def parse_cookies(header: str) -> dict[str, str]:
    """The cookies of a ``Cookie`` header; leniently, as browsers send them.

    A pair without ``=`` is skipped; of a name sent twice the first is kept
    (browsers send the most specific cookie first); quotes around a value
    are removed.

    >>> parse_cookies('a=1; b="two"; junk; a=3')
    {'a': '1', 'b': 'two'}
    """
    cookies: dict[str, str] = {}
    for pair in header.split(";"):
        name, equals, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or name in cookies:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies[name] = value
    return cookies


@attrs.frozen
class RoutedRequest(Request):
    """A :class:`web.Request` as a router hands it to plugs and handlers (see the module docstring).

    Attributes:
        path_params: the matched route's params (``{"id": "42"}`` for
            ``/users/:id``); empty before routing (router-wide plugs).
        assigns: what plugs put there, read-only; add with :meth:`assign`.
    """

    path_params: Mapping[str, str] = attrs.field(factory=dict)
    assigns: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def of(cls, request: Request) -> RoutedRequest:
        """``request`` as a :class:`RoutedRequest` (itself if it is one)."""
        if isinstance(request, RoutedRequest):
            return request
        return cls(**{field.name: getattr(request, field.name) for field in attrs.fields(Request)})

    def assign(self, **values: Any) -> RoutedRequest:
        """This request with ``values`` added to its assigns: ``await next(request.assign(user=user))``."""
        return attrs.evolve(self, assigns={**self.assigns, **values})

    @property
    def session(self) -> Any:
        """The session (a ``web.session.Session``) the session plug loaded for this request.

        Raises:
            LookupError: no session plug ran before (put
                ``web.session.CookieSession(secret=...)`` in the route's pipeline).
        """
        try:
            return self.assigns[SESSION]
        except KeyError:
            raise LookupError(
                f"{self.method} {self.path} has no session: put web.session.CookieSession(secret=...) "
                "in the pipeline of its route (router.scope(..., pipe_through=[...]))"
            ) from None

    @property
    def cookies(self) -> dict[str, str]:
        """The request's cookies (see :func:`parse_cookies`)."""
        return parse_cookies(self.headers.get("cookie", ""))

    def json(self) -> Any:
        """The body decoded as JSON (parsed at each call).

        Raises:
            BadRequest: the body is not JSON.
        """
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as error:
            raise BadRequest(f"the request body is not JSON: {error}") from None

    def form(self) -> dict[str, Any]:
        """The fields of a form body, nested by their names as Plug does (parsed at each call).

        ``user[email]=a&tags[]=x&tags[]=y`` gives ``{"user": {"email": "a"},
        "tags": ["x", "y"]}``. Of a ``multipart/form-data`` body, file fields
        are :class:`UploadedFile`, by their (unnested) name. A request
        without a form body gives ``{}``.

        Raises:
            BadRequest: a body that is not the form its content type says,
                or a name nested too deep.
        """
        kind = content_type(self)
        if kind == FORM_URLENCODED:
            return _decode_urlencoded(self.body)
        if kind == MULTIPART:
            return _decode_multipart(self.headers.get("content-type", ""), self.body)
        return {}


def _decode_urlencoded(body: bytes) -> dict[str, Any]:
    # Imported here, not above: LiveView's form decoding is Plug's, but importing web.live
    # when this module loads would make a cycle (web.live's router imports web.session).
    from web.live._forms import FormError, decode_form

    try:
        unquote_to_bytes(body).decode("utf-8")  # strictly: parsing would put U+FFFD in place of bad bytes
        return decode_form(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the form body is not UTF-8") from None
    except FormError as error:
        raise BadRequest(str(error)) from None


def _decode_multipart(header: str, body: bytes) -> dict[str, Any]:
    """A ``multipart/form-data`` body's fields: text fields nested as a URL-encoded form's, files by name."""
    if "boundary=" not in header.lower():
        raise BadRequest("a multipart/form-data body needs a boundary in its content-type")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"content-type: " + header.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart() or message.defects:
        raise BadRequest("the multipart/form-data body is malformed")
    texts: list[tuple[str, str]] = []
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise BadRequest("a part of the multipart/form-data body has no field name")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedFile(filename, part.get_content_type(), data)
            continue
        try:
            texts.append((name, data.decode(part.get_content_charset() or "utf-8")))
        except (UnicodeDecodeError, LookupError):
            raise BadRequest(f"the multipart field {name!r} is not text in its charset") from None
    return {**_decode_urlencoded(urlencode(texts).encode()), **files}

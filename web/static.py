"""Static files: a plug serving a directory's files, cached by browsers and proxies the way they expect.

::

    from web.router import Router
    from web.static import Static

    router = Router(plugs=[Static("priv/static", at="/assets")])   # /assets/app.css -> priv/static/app.css

A ``GET`` or ``HEAD`` for a path under ``at`` naming a regular file under
``directory`` is answered with it; any other request goes on to the next
plug (the router's routes, say), as Plug.Static does.

========================================  ===============================================
request                                   answer
========================================  ===============================================
a file                                    200: ``content-type`` from its extension,
                                          ``etag``, ``last-modified``, ``cache-control``,
                                          ``vary: accept-encoding``
``If-None-Match`` with its ETag (or       304, no body
``*``); without ``If-None-Match``, an
``If-Modified-Since`` not before it
``Accept-Encoding`` allowing ``br``       ``file.br`` (then ``file.gz``) if it exists beside
or ``gzip``                               the file: same ``content-type``, its own
                                          ``content-encoding`` and ETag
a ``vsn`` query parameter                 ``cache-control`` :data:`IMMUTABLE` (a year,
(``app.css?vsn=d41d8``)                   immutable: the URL changes with the file)
a segment ``..`` or ``.``, or one         400, said why: never a file outside
holding a slash, a backslash or NUL       ``directory``
once percent-decoded, or not UTF-8
a path leading out of ``directory``       the next plug (as a file that is not there)
through a symlink; a directory; no
such file; another method
========================================  ===============================================

Files up to :data:`READ_WHOLE` bytes are read at once (in a worker
thread); bigger ones are streamed in :data:`CHUNK` pieces, so serving a big
file costs a chunk of memory, not the file. Make the ``.br`` and ``.gz``
variants when you build your assets (``brotli -k``, ``gzip -k``); they
are served only when a client accepts them and they exist.
"""

from __future__ import annotations

import email.utils
import mimetypes
import os
import stat
from collections.abc import AsyncIterator, Mapping
from typing import Any

import attrs
import trio

from otp.lowlevel import fixup_module_metadata as _fixup_module_metadata

from ._http import Response, StreamingResponse
from ._request import BadRequest, RoutedRequest
from ._routes import MalformedPath, decode_segment, split_path
from .router import Next

__all__ = ["Static", "content_type_of", "READ_WHOLE", "CHUNK", "IMMUTABLE"]

#: Files up to this size are read whole; bigger ones are streamed.
READ_WHOLE = 64 * 1024
#: Bytes read and sent at a time of a streamed file.
CHUNK = 64 * 1024
#: ``cache-control`` of a request with a ``vsn`` parameter: its URL names one version of the file.
IMMUTABLE = "public, max-age=31536000, immutable"

# Python's own table (not the system's /etc/mime.types, which differs from machine to machine),
# with what browsers need that it lacks or names otherwise.
_TYPES = mimetypes.MimeTypes()
_OVERRIDES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".map": "application/json",
}
_TEXT_TYPES = ("text/", "application/json", "application/manifest+json", "image/svg+xml", "application/xml")
# What a client may accept, best first, and the suffix of the file made for it.
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def content_type_of(name: str, overrides: Mapping[str, str] | None = None) -> str:
    """The ``content-type`` of a file by its extension (text types in UTF-8).

    >>> content_type_of("app.js"), content_type_of("logo.svg"), content_type_of("font.woff2")
    ('text/javascript; charset=utf-8', 'image/svg+xml; charset=utf-8', 'font/woff2')
    >>> content_type_of("archive.tar.gz"), content_type_of("README")
    ('application/gzip', 'application/octet-stream')
    """
    suffix = os.path.splitext(name)[1].lower()
    kind = (overrides or {}).get(suffix) or _OVERRIDES.get(suffix) or _TYPES.types_map[True].get(suffix)
    if kind is None:
        kind = "application/gzip" if suffix == ".gz" else "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith(_TEXT_TYPES) and "charset" not in kind else kind


@attrs.frozen
class _File:
    """A file chosen to answer a request: where, how big, when changed, and its encoding (if a variant)."""

    path: str
    size: int
    mtime_ns: int
    encoding: str | None = None

    @property
    def etag(self) -> str:
        # Size and change time: a new version of the file has a new tag, and each
        # variant (a different file) its own, as a strong ETag must.
        return f'"{self.size:x}-{self.mtime_ns:x}"'

    @property
    def last_modified(self) -> str:
        return email.utils.formatdate(self.mtime_ns / 1e9, usegmt=True)


class Static:
    """The static files plug (see the module docstring).

    Args:
        directory: the folder whose files are served.
        at: the URL path they are served under.
        gzip, brotli: serve ``.gz`` / ``.br`` variants to clients accepting them.
        cache_control: of every answer but those with a ``vsn`` parameter
            (``"public"``: caches keep the file and ask with its ETag).
        headers: more headers for every file served.
        content_types: extension -> content type, over the defaults (``{".dat": "application/x-dat"}``).

    Raises:
        ValueError: ``directory`` is not a directory.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        at: str = "/",
        gzip: bool = True,
        brotli: bool = True,
        cache_control: str = "public",
        headers: Mapping[str, str] | None = None,
        content_types: Mapping[str, str] | None = None,
    ) -> None:
        self.root = os.path.realpath(directory)
        if not os.path.isdir(self.root):
            raise ValueError(f"Static serves a directory; {os.fspath(directory)!r} is not one")
        self.at = split_path(at)
        self.encodings = tuple(pair for pair in _ENCODINGS if {"br": brotli, "gzip": gzip}[pair[0]])
        self.cache_control = cache_control
        self.headers = {name.lower(): value for name, value in (headers or {}).items()}
        self.content_types = {suffix.lower(): kind for suffix, kind in (content_types or {}).items()}

    async def __call__(self, request: RoutedRequest, next: Next) -> Any:
        if request.method not in ("GET", "HEAD"):
            return await next(request)
        names = self._names(request.path)
        if names is None:
            return await next(request)
        found = self._find(names, request.headers.get("accept-encoding", ""))
        if found is None:
            return await next(request)
        return await self._answer(request, names[-1], found)

    # -- which file --------------------------------------------------------------

    def _names(self, path: str) -> list[str] | None:
        """The file's path segments under the root, decoded; None if ``path`` is not under ``at`` (or is ``at``).

        Raises:
            BadRequest: a segment that could step out of the root or is not UTF-8.
        """
        segments = split_path(path)
        if segments[: len(self.at)] != self.at or len(segments) == len(self.at):
            return None
        try:
            names = [decode_segment(segment) for segment in segments[len(self.at) :]]
        except MalformedPath as error:
            raise BadRequest(f"invalid static file path: {error}") from None
        for name in names:
            if name in (".", "..") or any(c in name for c in "/\\\0"):
                raise BadRequest(f"invalid static file path: the segment {name!r} is not a file name")
        return names

    def _find(self, names: list[str], accept_encoding: str) -> _File | None:
        """The file to serve: a variant the client accepts, else the file itself; None if there is none."""
        path = os.path.join(self.root, *names)
        original = self._regular_file(path)
        if original is None:
            return None
        accepted = _accepted_encodings(accept_encoding)
        for encoding, suffix in self.encodings:
            if encoding in accepted:
                variant = self._regular_file(path + suffix)
                if variant is not None:
                    return attrs.evolve(variant, encoding=encoding)
        return original

    def _regular_file(self, path: str) -> _File | None:
        real = os.path.realpath(path)
        if not real.startswith(self.root + os.sep):
            return None  # a symlink leading out of the root: as if there were no such file
        try:
            info = os.stat(real)
        except OSError:
            return None
        return _File(real, info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None

    # -- the answer ---------------------------------------------------------------

    async def _answer(self, request: RoutedRequest, name: str, file: _File) -> Response | StreamingResponse:
        headers = {
            "content-type": content_type_of(name, self.content_types),
            "etag": file.etag,
            "last-modified": file.last_modified,
            "cache-control": IMMUTABLE if "vsn" in request.query else self.cache_control,
            **({"vary": "accept-encoding"} if self.encodings else {}),
            **({"content-encoding": file.encoding} if file.encoding else {}),
            **self.headers,
        }
        if _not_modified(request.headers, file):
            return Response(304, {name: value for name, value in headers.items() if name != "content-type"})
        if request.method == "HEAD" or file.size > READ_WHOLE:
            # The size as it was when looked at: a file growing meanwhile is cut there.
            body = _no_body() if request.method == "HEAD" else _chunks(file.path, file.size)
            return StreamingResponse(200, {**headers, "content-length": str(file.size)}, body)
        return Response(200, headers, await trio.to_thread.run_sync(_read, file.path))


def _read(path: str) -> bytes:
    with open(path, "rb") as opened:
        return opened.read(READ_WHOLE + 1)


async def _no_body() -> AsyncIterator[bytes]:
    return
    yield b""


async def _chunks(path: str, size: int) -> AsyncIterator[bytes]:
    """The first ``size`` bytes of the file, ``CHUNK`` at a time."""
    async with await trio.open_file(path, "rb") as opened:
        left = size
        while left > 0:
            data = await opened.read(min(CHUNK, left))
            if not data:
                return  # (truncated meanwhile: the endpoint ends the connection, the length being wrong)
            left -= len(data)
            yield data


def _accepted_encodings(header: str) -> set[str]:
    """The content codings an ``Accept-Encoding`` header allows (``q=0`` refuses one).

    >>> sorted(_accepted_encodings("gzip, br;q=0, deflate;q=0.5"))
    ['deflate', 'gzip']
    """
    accepted = set()
    for item in header.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        quality = next((param[2:] for param in params if param.lower().startswith("q=")), "1")
        try:
            refused = float(quality) <= 0
        except ValueError:
            refused = True
        if coding and not refused:
            accepted.add(coding.lower())
    return accepted


def _not_modified(headers: Mapping[str, str], file: _File) -> bool:
    """Whether the client's copy is current: its ``If-None-Match``, else its ``If-Modified-Since``."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or file.etag in tags
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False  # not a date: as if not given
    return file.mtime_ns // 1_000_000_000 <= when.timestamp()


_fixup_module_metadata(__name__, globals())

"""Route paths: ``/users/:id`` and ``/files/*rest`` compiled once, matched against a request's path.

Pure: the router (:mod:`web.router`) keeps a list of :class:`PathPattern`
and asks each, in the order routes were declared, whether a path is its
own. Paths are compared segment by segment; empty segments are ignored,
so ``/users/1/`` and ``/users//1`` are ``/users/1``. A ``:name`` segment
takes one segment, a final ``*name`` all the rest (joined by ``/``); both
become path params, percent-decoded::

    >>> PathPattern("/users/:id").match(split_path("/users/42"))
    {'id': '42'}
    >>> PathPattern("/files/*rest").match(split_path("/files/a%20b/c.txt"))
    {'rest': 'a b/c.txt'}
    >>> PathPattern("/users/:id").match(split_path("/users")) is None
    True

A prefix pattern (``prefix=True``, what ``forward`` and ``mount`` use)
matches its own path and everything below it::

    >>> PathPattern("/api", prefix=True).match(split_path("/api/v1/items"))
    {}
    >>> PathPattern("/api", prefix=True).match(split_path("/apis")) is None
    True

A segment that is not UTF-8 once percent-decoded cannot be a param:
:class:`MalformedPath` (the router answers 400)::

    >>> PathPattern("/users/:id").match(split_path("/users/%ff"))
    Traceback (most recent call last):
      ...
    web._routes.MalformedPath: the path segment '%ff' is not UTF-8 once percent-decoded
"""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = ["PathPattern", "MalformedPath", "split_path", "join_paths", "decode_segment"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class MalformedPath(ValueError):
    """A request path whose params cannot be decoded; answered 400."""

    status_code = 400


def split_path(path: str) -> list[str]:
    """The non-empty segments of ``path``, still percent-encoded: ``"/a//b/"`` -> ``["a", "b"]``."""
    return [segment for segment in path.split("/") if segment]


def join_paths(prefix: str, path: str) -> str:
    """``prefix`` and ``path`` as one path: ``join_paths("/admin/", "/users")`` -> ``"/admin/users"``."""
    joined = "/".join(split_path(prefix) + split_path(path))
    return "/" + joined


def decode_segment(segment: str) -> str:
    """A path segment percent-decoded (``%20`` -> space), strictly as UTF-8.

    Raises:
        MalformedPath: the decoded bytes are not UTF-8.
    """
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise MalformedPath(f"the path segment {segment!r} is not UTF-8 once percent-decoded") from None


class PathPattern:
    """One route's path, compiled: literal segments, ``:param`` segments, maybe a final ``*glob``.

    Raises:
        ValueError: a param name that is not an identifier, a name used
            twice, or a ``*glob`` that is not the last segment.
    """

    __slots__ = ("path", "segments", "glob", "prefix")

    def __init__(self, path: str, *, prefix: bool = False) -> None:
        self.path = join_paths("", path)
        self.prefix = prefix
        self.segments: list[tuple[bool, str]] = []  # (is a param, literal or name)
        self.glob: str | None = None
        parts = split_path(path)
        for index, part in enumerate(parts):
            if part.startswith("*"):
                if index != len(parts) - 1:
                    raise ValueError(f"route {path!r}: a *glob segment must be the last one")
                self.glob = _param_name(path, part[1:])
            elif part.startswith(":"):
                self.segments.append((True, _param_name(path, part[1:])))
            else:
                self.segments.append((False, decode_segment(part)))
        names = [name for is_param, name in self.segments if is_param] + ([self.glob] if self.glob else [])
        if len(set(names)) != len(names):
            raise ValueError(f"route {path!r} names a param twice: {names}")

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """The path params if ``segments`` (from :func:`split_path`) are this pattern's path, else None.

        Raises:
            MalformedPath: a segment that would be a param is not UTF-8 once decoded.
        """
        count = len(self.segments)
        if len(segments) < count or (len(segments) > count and self.glob is None and not self.prefix):
            return None
        params: dict[str, str] = {}
        for (is_param, expected), segment in zip(self.segments, segments, strict=False):
            if is_param:
                params[expected] = decode_segment(segment)
            elif unquote(segment) != expected:  # (lenient: only a param must decode)
                return None
        if self.glob is not None:
            params[self.glob] = "/".join(decode_segment(segment) for segment in segments[count:])
        return params

    def __repr__(self) -> str:
        return f"PathPattern({self.path!r})"


def _param_name(path: str, name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"route {path!r}: {name!r} is not a param name (letters, digits and _, not first a digit)")
    return name

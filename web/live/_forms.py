"""Form events: the URL-encoded body of a ``phx-change``/``phx-submit`` decoded like Plug.

What the client sends is in docs/protocol/liveview.md, "event".

Nested names build nested dicts, ``[]`` builds lists, ``meta`` is merged
in, and ``_target`` (the name of the input that changed) becomes its path::

    >>> decode_form("user[name]=ann&user[tags][]=a&user[tags][]=b&agree=on", {"_target": "user[name]"})
    {'user': {'name': 'ann', 'tags': ['a', 'b']}, 'agree': 'on', '_target': ['user', 'name']}

A name that is both a value and a map (``a=1&a[b]=2``) keeps the last
shape given, as Plug does. The body comes from the client, so a name
nested deeper than :data:`MAX_NAME_DEPTH` raises :class:`FormError` (the
event is answered with an error) rather than build params no reply could
carry, and a ``meta`` that is not a dict is refused the same way::

    >>> decode_form("a" + "[b]" * 64 + "=1")
    Traceback (most recent call last):
    ...
    web.live._forms.FormError: form field name nested deeper than 64 levels: 'a[b][b][b][b][b][b][b][b][b][b][b][b][b]...'
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from web.serializer import MAX_DEPTH

__all__ = ["decode_form", "split_name", "FormError", "MAX_NAME_DEPTH"]

_PART = re.compile(r"\[([^\]]*)\]")
# Each part of a name is at most one level of the params (``a[b][c]`` is 3): so decoded
# params nest no deeper than a client's JSON payload may (web.serializer.MAX_DEPTH).
MAX_NAME_DEPTH = MAX_DEPTH


class FormError(ValueError):
    """A form body or meta that cannot be decoded into params."""


def split_name(name: str) -> list[str]:
    """``"user[address][city]"`` -> ``["user", "address", "city"]``; ``"tags[]"`` -> ``["tags", ""]``."""
    head, _, rest = name.partition("[")
    return [head] + _PART.findall("[" + rest) if rest else [head]


def decode_form(body: str, meta: dict | None = None) -> dict:
    """The params of a form event: ``body`` decoded, ``meta`` merged, ``_target`` split.

    Raises:
        FormError: a name nested deeper than :data:`MAX_NAME_DEPTH`, or a
            ``meta`` that is not a dict.
    """
    params: dict = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        path = split_name(name)
        if len(path) > MAX_NAME_DEPTH:
            shown = name if len(name) <= 40 else name[:40] + "..."
            raise FormError(f"form field name nested deeper than {MAX_NAME_DEPTH} levels: {shown!r}")
        _put(params, path, value)
    if meta is not None and not isinstance(meta, dict):
        raise FormError(f"a form event's meta must be an object; got {type(meta).__name__}")
    for key, value in (meta or {}).items():
        if key == "_target":
            params["_target"] = split_name(value) if isinstance(value, str) and value != "undefined" else []
        else:
            params[key] = value
    return params


def _put(params: dict, path: list[str], value: str) -> None:
    node = params
    for index, key in enumerate(path[:-1]):
        following = path[index + 1]
        if following == "":  # key[] : a list
            existing = node.get(key)
            if not isinstance(existing, list):
                node[key] = existing = []
            if index + 1 == len(path) - 1:
                existing.append(value)
                return
            existing.append({})
            node = existing[-1]
            continue
        child = node.get(key)
        if not isinstance(child, dict):
            node[key] = child = {}
        node = child
    if path[-1] != "":
        node[path[-1]] = value

"""Form events: the URL-encoded body of a ``phx-change``/``phx-submit`` decoded like Plug (LIVEVIEW.md §4.1).

Nested names build nested dicts, ``[]`` builds lists, ``meta`` is merged
in, and ``_target`` (the name of the input that changed) becomes its path::

    >>> decode_form("user[name]=ann&user[tags][]=a&user[tags][]=b&agree=on", {"_target": "user[name]"})
    {'user': {'name': 'ann', 'tags': ['a', 'b']}, 'agree': 'on', '_target': ['user', 'name']}

A name that is both a value and a map (``a=1&a[b]=2``) keeps the last
shape given, as Plug does.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

__all__ = ["decode_form", "split_name"]

_PART = re.compile(r"\[([^\]]*)\]")


def split_name(name: str) -> list[str]:
    """``"user[address][city]"`` -> ``["user", "address", "city"]``; ``"tags[]"`` -> ``["tags", ""]``."""
    head, _, rest = name.partition("[")
    return [head] + _PART.findall("[" + rest) if rest else [head]


def decode_form(body: str, meta: dict | None = None) -> dict:
    """The params of a form event: ``body`` decoded, ``meta`` merged, ``_target`` split."""
    params: dict = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        _put(params, split_name(name), value)
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

"""The LiveView wire protocol's keys and event names, spelled once (docs/protocol/liveview.md).

The diff engine (``_diff.py``, ``_component.py``) writes these keys and the
test client's model of the JS client (``web/testing/_client_model.py``)
reads them; both import them from here, so that a key can only be wrong in
one place. A first render of ``<p>{@count}</p>``, and a keyed
comprehension of two entries, built from the names::

    >>> {STATIC: ["<p>", "</p>"], "0": "0", ROOT: 1}
    {'s': ['<p>', '</p>'], '0': '0', 'r': 1}
    >>> {STATIC: ["<li>", "</li>"], KEYED: {"0": {"0": "a"}, "1": {"0": "b"}, KEYED_COUNT: 2}}
    {'s': ['<li>', '</li>'], 'k': {'0': {'0': 'a'}, '1': {'0': 'b'}, 'kc': 2}}

Dynamic slots are the slot's index as a string (``"0"``, ``"1"``, ...),
not a name. ``"r"`` has two meanings ("Top-level keys" on that page): the root flag inside a node,
the hook's reply at the top level of a view diff; hence ``ROOT`` and
``REPLY``, the same string. The channel protocol's own events
(``phx_join``, ``phx_reply``, ``phx_leave``, ``phx_close``, ``phx_error``)
belong to docs/protocol/channels.md, not here. Section titles in quotes below are those of docs/protocol/liveview.md.

These are module globals, read with one dictionary lookup: the diff engine
uses them on its hot path (``from ._wire import STATIC``, never
``_wire.STATIC``).
"""

from __future__ import annotations

__all__ = [
    "STATIC", "ROOT", "TEMPLATES", "KEYED", "KEYED_COUNT", "KEYED_MOVED", "STREAM",
    "COMPONENTS", "EVENTS", "REPLY", "TITLE",
    "RENDERED", "DIFF", "LIVE_PATCH", "LIVE_REDIRECT", "REDIRECT",
    "EVENT", "ALLOW_UPLOAD", "PROGRESS", "CIDS_WILL_DESTROY", "CIDS_DESTROYED", "CHUNK",
]

# ---------------------------------------------------------------- rendered nodes and comprehensions ("Nodes")

STATIC = "s"  # statics: a list of N+1 strings, a template index into "p", or (components) a shared cid
ROOT = "r"  # 1: the node renders exactly one root element (required on a component's root)
TEMPLATES = "p"  # template table {"0": [statics], ...} for the "s" indexes below it ("Nodes")
KEYED = "k"  # a comprehension's entries by position: {"0": entry, ..., "kc": n, "km": true?}
KEYED_COUNT = "kc"  # how many entries the comprehension has now
KEYED_MOVED = "km"  # true: some entries are given as their old position (a move, "Merge rules")
STREAM = "stream"  # a stream's operations: [ref, inserts, deletes(, reset)] ("Streams")

# ---------------------------------------------------------------- top level of a view diff ("Top-level keys")

COMPONENTS = "c"  # the component table: cid -> that component's diff ("Components")
EVENTS = "e"  # push_event()s: [[name, payload], ...]
REPLY = "r"  # a hook event's reply (the same string as ROOT: it means this at the top level)
TITLE = "t"  # the new page title

# ---------------------------------------------------------------- reply keys, and pushes of the same name
# ("The join reply", "Messages from the server")

RENDERED = "rendered"  # the join reply's full render
DIFF = "diff"  # a view diff: in a reply, or pushed on its own
LIVE_PATCH = "live_patch"  # {"to", "kind"}: the URL changed, same view (also the client's patch event, "live_patch")
LIVE_REDIRECT = "live_redirect"  # {"to", "kind", "flash"?}: another view on the same socket
REDIRECT = "redirect"  # {"to", "flash"?}: a full page load (also the join's key for a live navigation, "Navigation")

# ---------------------------------------------------------------- client → server events on lv:<id> and lvu:<ref>
# ("Events from the page", "Uploads")

EVENT = "event"  # a phx-* binding or a hook's pushEvent ("event")
ALLOW_UPLOAD = "allow_upload"  # an upload's preflight ("Uploads")
PROGRESS = "progress"  # an upload entry's progress ("Uploads")
CIDS_WILL_DESTROY = "cids_will_destroy"  # components left the page: step one ("Component destruction")
CIDS_DESTROYED = "cids_destroyed"  # step two: the server deletes them
CHUNK = "chunk"  # a binary chunk of an upload entry, on lvu:<ref> ("Uploads")

"""What a LiveView template renders to: statics, dynamics and a fingerprint.

A template is compiled once into N+1 *statics* (literal HTML fragments) and
N *dynamic* slots. Rendering it with assigns gives a :class:`Rendered`; the
diff engine (``_diff.py``) turns successive Rendered trees into the JSON
diffs of docs/protocol/liveview.md, "Rendered diffs". A dynamic slot holds:

* ``str``: HTML, already escaped;
* ``Rendered``: a nested template (``:if`` branches, function components);
* ``Comprehension``: a ``:for`` list, one template repeated;
* ``int``: a stateful component's cid ("Components" on that page), whose HTML
  ``to_html`` takes from its ``components`` argument;
* ``None``: unchanged since the previous render (change tracking skipped
  it because none of the assigns it reads changed). Only valid where the
  previous render had the same fingerprint at the same place;
* :class:`LateHtml`: on a dead render only, HTML filled in after the tree
  is built (a nested view's, whose mount is async while a render is not).

The fingerprint identifies the template (its statics and the shape of its
slots): the same fingerprint at the same place means the client already has
the statics, so they are not sent again.
"""

from __future__ import annotations

import attrs

__all__ = ["Rendered", "Comprehension", "LateHtml"]


@attrs.frozen
class Rendered:
    static: tuple[str, ...]
    dynamic: tuple[object, ...]
    fingerprint: int
    root: bool | None = None  # exactly one root HTML element (the "r": 1 flag)

    def __attrs_post_init__(self) -> None:
        if len(self.static) != len(self.dynamic) + 1:
            raise ValueError(f"a template needs len(static) == len(dynamic) + 1; got {len(self.static)} and {len(self.dynamic)}")

    def to_html(self, components: dict | None = None) -> str:
        """The HTML this tree renders to (the dead render): statics around the dynamics.

        ``components`` maps each cid in the tree to its component's HTML.
        """
        parts = [self.static[0]]
        for value, static in zip(self.dynamic, self.static[1:]):
            parts.append(_html(value, components))
            parts.append(static)
        return "".join(parts)


@attrs.frozen
class Comprehension:
    static: tuple[str, ...]
    entries: tuple[tuple[object, ...], ...]  # each entry's dynamics, in order
    fingerprint: int
    keys: tuple | None = None  # each entry's identity (the :key), or None: by position
    # A stream's entries: (ref, inserts, deletes, reset), sent as "stream" (docs/protocol/liveview.md, "Streams").
    stream: tuple | None = None

    def to_html(self, components: dict | None = None) -> str:
        parts = []
        for entry in self.entries:
            parts.append(Rendered(self.static, tuple(entry), self.fingerprint).to_html(components))
        return "".join(parts)


class LateHtml:
    """HTML a dead render knows only after its tree is built: ``html`` is set before ``to_html``.

    ``what`` names it in the error if it never is.
    """

    __slots__ = ("html", "what")

    def __init__(self, what: str) -> None:
        self.html: str | None = None
        self.what = what

    def __repr__(self) -> str:
        return f"<LateHtml {self.what}: {'set' if self.html is not None else 'not set'}>"


def _html(value: object, components: dict | None) -> str:
    if value is None:
        raise ValueError("to_html() needs a full render: a slot is None (unchanged)")
    if isinstance(value, str):
        return value
    if isinstance(value, (Rendered, Comprehension)):
        return value.to_html(components)
    if isinstance(value, int) and components is not None:
        return components[value]
    if isinstance(value, LateHtml):
        if value.html is None:
            raise ValueError(f"to_html(): {value.what} was never rendered")
        return value.html
    raise TypeError(f"to_html() cannot render {value!r} (a cid needs its component's HTML in components)")

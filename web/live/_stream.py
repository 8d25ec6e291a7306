"""Streams: long or endless lists the server does not keep (Phoenix.LiveView.stream).

A stream sends each item to the page once; the page keeps the DOM, the
view keeps nothing but the operations waiting for the next render::

    async def mount(self, params, session, socket):
        socket.stream("messages", await recent_messages())      # dom ids "messages-<id>"

    async def handle_info(self, message, socket):
        socket.stream_insert("messages", message, at=0, limit=50)   # newest first, keep 50

    # template: the container says phx-update="stream", each entry's root has id={dom_id}
    <ul id="messages" phx-update="stream">
      <li :for={(dom_id, msg) in @streams.messages} id={dom_id}>{msg.body}</li>
    </ul>

Rendering a stream gives a comprehension of the pending inserts only, with
``"stream": [ref, inserts, deletes(, reset)]`` (docs/protocol/liveview.md, "Streams"); after the
render the pending operations are cleared. An item's dom id is
``f"{name}-{item.id}"`` (or ``item["id"]``) unless ``dom_id=`` says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ._rendered import Comprehension

__all__ = ["LiveStream", "Streams", "StreamAsync", "stream_async_items"]


class LiveStream:
    """One stream: its ref, how to name items, and the operations not yet rendered."""

    def __init__(self, name: str, ref: str, dom_id: Callable[[object], str] | None = None) -> None:
        self.name = name
        self.ref = ref
        self.dom_id = dom_id or _default_dom_id(name)
        # dom_id -> (dom_id, item, at, limit, update_only), in insertion order; a dict so
        # that inserting 10,000 items (or one again) stays linear.
        self._inserts: dict[str, tuple[str, object, int, int | None, bool]] = {}
        self.deletes: list[str] = []
        self.reset = False

    def insert(self, item: object, *, at: int = -1, limit: int | None = None, update_only: bool = False) -> None:
        dom_id = self.dom_id(item)
        # The same item twice before a render: the later insert wins, last in order.
        self._inserts.pop(dom_id, None)
        self._inserts[dom_id] = (dom_id, item, at, limit, update_only)

    def delete(self, item: object) -> None:
        self.delete_by_dom_id(self.dom_id(item))

    def delete_by_dom_id(self, dom_id: str) -> None:
        self._inserts.pop(dom_id, None)
        self.deletes.append(dom_id)

    def clear(self) -> None:
        """Empty the page's container (a reset) and forget pending inserts."""
        self._inserts, self.deletes, self.reset = {}, [], True

    @property
    def pending(self) -> bool:
        return bool(self._inserts or self.deletes or self.reset)

    def rendered(self) -> None:
        """The pending operations went out with a render: forget them."""
        self._inserts, self.deletes, self.reset = {}, [], False

    @property
    def inserts(self) -> list[tuple[str, object, int, int | None, bool]]:
        """The pending inserts, ``(dom_id, item, at, limit, update_only)``, in order."""
        return list(self._inserts.values())

    def __iter__(self):
        """``(dom_id, item)`` of the pending inserts (what a render shows)."""
        return iter([(dom_id, item) for dom_id, item, *_ in self._inserts.values()])

    def __render_for__(self, static: tuple[str, ...], fingerprint: int, keyed: bool, rows_of: Callable) -> Comprehension:
        # Called by a template's :for over this stream (see _template._for);
        # a :key is not needed (the dom id is the identity) and is ignored.
        rows = rows_of(list(self))
        entries = tuple(row[0] for row in rows) if keyed else tuple(rows)
        inserts = tuple((dom_id, at, limit, update_only or None) for dom_id, _, at, limit, update_only in self._inserts.values())
        return Comprehension(static, entries, fingerprint, None, (self.ref, inserts, tuple(self.deletes), self.reset))

    def __repr__(self) -> str:
        return f"<LiveStream {self.name!r} ref={self.ref} pending inserts={len(self.inserts)} deletes={len(self.deletes)}>"


class Streams:
    """``@streams``: the view's streams by name, as attributes (``@streams.messages``)."""

    def __init__(self, ref_prefix: str = "") -> None:
        self._streams: dict[str, LiveStream] = {}
        self._dom_ids: dict[str, Callable] = {}  # stream_configure()d before the stream exists
        # A component's stream refs are "<cid>-<n>" (the protocol page's "Streams"): the client finds a
        # stream's children by ref on reset, so they must not collide with the view's "<n>".
        self._ref_prefix = ref_prefix

    def get(self, name: str) -> LiveStream | None:
        return self._streams.get(name)

    def add(self, name: str, dom_id: Callable | None) -> LiveStream:
        stream = LiveStream(name, f"{self._ref_prefix}{len(self._streams)}", dom_id or self._dom_ids.get(name))
        self._streams[name] = stream
        return stream

    def configure(self, name: str, dom_id: Callable) -> None:
        """How the stream ``name``, not created yet, names its items (``stream_configure``)."""
        if name in self._streams:
            raise ValueError(f"stream {name!r} exists already: call stream_configure({name!r}, ...) before stream({name!r}, ...)")
        if not callable(dom_id):
            raise TypeError(f"stream_configure({name!r}): dom_id must be a function item -> str; got {dom_id!r}")
        self._dom_ids[name] = dom_id

    def __getattr__(self, name: str) -> LiveStream:
        try:
            return self.__dict__["_streams"][name]
        except KeyError:
            raise AttributeError(f"no stream {name!r}: call socket.stream({name!r}, items) in mount first") from None

    def __getitem__(self, name: str) -> LiveStream:
        return getattr(self, name)

    def __iter__(self) -> Iterable[LiveStream]:
        return iter(self._streams.values())

    def __eq__(self, other: object) -> bool:
        return False  # always "changed" when assigned: its operations are the change


def _default_dom_id(name: str) -> Callable[[object], str]:
    def dom_id(item: object) -> str:
        key = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
        if key is None:
            raise ValueError(f"stream {name!r}: item {item!r} has no id; pass dom_id=lambda item: ... to stream()")
        return f"{name}-{key}"

    return dom_id


# ---------------------------------------------------------------- stream_async


class StreamAsync:
    """What a ``stream_async`` worker's outcome is for: the stream (and the assign) ``name``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"StreamAsync({self.name!r})"

    def __contains__(self, name: object) -> bool:
        # cancel_async(name) finds the work it names among assign_async keys and these.
        return name == self.name


_STREAM_OPTIONS = frozenset({"at", "reset", "limit"})


def stream_async_items(name: str, value: object) -> tuple[list, dict]:
    """``(items, stream options)`` from what a ``stream_async`` function returned.

    Raises:
        TypeError: neither an iterable of items nor ``(items, options)`` with
            options among ``at``, ``reset``, ``limit``.
    """
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict):
        items, options = value
        unknown = set(options) - _STREAM_OPTIONS
        if unknown:
            raise TypeError(f"stream_async({name!r}) returned options {sorted(unknown)}; a stream takes at, reset, limit")
    else:
        items, options = value, {}
    if isinstance(items, (str, bytes, dict)) or not isinstance(items, Iterable):
        raise TypeError(f"stream_async({name!r}) must return the items (a list) or (items, options); got {value!r}")
    return list(items), dict(options)

"""The diff engine: successive renders of a LiveView in, the JSON diffs of docs/protocol/liveview.md, "Rendered diffs", out.

Pure: it keeps, per view, a tree of what the client already has (the
fingerprint of the template at every place, and for keyed comprehensions
where each key sits), and answers each new :class:`Rendered` with the
smallest diff the client's merge rules turn into the new page::

    >>> from web.live._rendered import Rendered
    >>> page = lambda count: Rendered(("<p>", "</p>"), (count,), fingerprint=1, root=True)
    >>> state = DiffState()
    >>> state.diff(page("0"))                 # first render: statics and every slot
    {'s': ['<p>', '</p>'], '0': '0', 'r': 1}
    >>> state.diff(page("1"))                 # same template: only what changed
    {'0': '1'}
    >>> state.diff(page(None))                # change tracking says: unchanged
    {}

Statics are always sent inline (``"s": [...]``), never through a ``"p"``
table, which the client also accepts ("Nodes" on that page). Keyed comprehensions send per-entry
diffs: unchanged entries that stayed in place are not mentioned, moved ones
are sent as their old position (``"km": true``), new ones in full.
"""

from __future__ import annotations

from ._rendered import Comprehension, Rendered
from ._wire import KEYED, KEYED_COUNT, KEYED_MOVED, ROOT, STATIC, STREAM

__all__ = ["DiffState", "diff_rendered"]

_SAME = object()  # a value the client already has


class _Node:
    """What the client has for one Rendered: its fingerprint and its children's nodes."""

    __slots__ = ("fingerprint", "children")

    def __init__(self, fingerprint: int) -> None:
        self.fingerprint = fingerprint
        self.children: dict[int, object] = {}  # slot -> _Node | _Comp | the str or cid the client has


class _Comp:
    """What the client has for one comprehension."""

    __slots__ = ("fingerprint", "positions", "entries", "empty")

    def __init__(self, fingerprint: int) -> None:
        self.fingerprint = fingerprint
        self.positions: dict = {}  # key -> position
        self.entries: list[dict] = []  # per position: slot -> _Node | _Comp | str | cid
        self.empty = False  # sent as "" (the client holds a string, not a comprehension)


class DiffState:
    """The diff state of one view (or one component): what the client has; feed it each render in turn.

    Not to be confused with ``otp.Tracker`` (presence); ``web.live.Tracker`` is its deprecated old name.
    """

    def __init__(self) -> None:
        self.root: _Node | None = None

    def diff(self, rendered: Rendered) -> dict:
        """The diff taking the client from the previous render to ``rendered``."""
        result, self.root = diff_rendered(rendered, self.root)
        return result if isinstance(result, dict) else {}  # (else _SAME: the client has it all)

    def reset(self) -> None:
        """Forget what the client has (a rejoin starts from an empty tree)."""
        self.root = None


def diff_rendered(rendered: Rendered, previous: _Node | None) -> tuple[object, _Node]:
    if previous is None or previous.fingerprint != rendered.fingerprint:
        node = _Node(rendered.fingerprint)
        return _full_rendered(rendered, node), node
    out: dict = {}
    for slot, value in enumerate(rendered.dynamic):
        if value is None:
            continue  # change tracking: the client has it
        change = _diff_value(value, previous, slot)
        if change is not _SAME:
            out[str(slot)] = change
    return (out if out else _SAME), previous


def _diff_value(value: object, parent: _Node | dict, slot: int) -> object:
    children = parent.children if isinstance(parent, _Node) else parent
    before = children.get(slot)
    if isinstance(value, Rendered):
        change, node = diff_rendered(value, before if isinstance(before, _Node) else None)
        children[slot] = node
        return change
    if isinstance(value, Comprehension):
        diff_comprehension = _diff_comprehension if value.stream is None else _diff_stream
        change, comp = diff_comprehension(value, before if isinstance(before, _Comp) else None)
        children[slot] = comp
        return change
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        # Remember it (a reference, not a copy): the same value again is not
        # resent, which is what makes re-rendering a long list cheap on the wire.
        if before is not None and before.__class__ is value.__class__ and before == value:
            return _SAME
        children[slot] = value
        return value
    raise TypeError(f"a dynamic slot holds str, int (cid), Rendered, Comprehension or None; got {value!r}")


# ---------------------------------------------------------------- full renders


def _full_rendered(rendered: Rendered, node: _Node) -> dict:
    out: dict = {STATIC: list(rendered.static)}
    for slot, value in enumerate(rendered.dynamic):
        if value is None:
            raise ValueError(
                f"slot {slot} is None (unchanged) in a render the client has not seen "
                f"(new template, fingerprint {rendered.fingerprint}): render it in full"
            )
        out[str(slot)] = _diff_value(value, node, slot)
    if rendered.root:
        out[ROOT] = 1
    return out


def _full_comprehension(comp: Comprehension, state: _Comp) -> object:
    if not comp.entries:
        state.empty = True
        return ""  # an empty comprehension's first render (docs/protocol/liveview.md, "Nodes")
    entries: dict = {}
    for position, entry in enumerate(comp.entries):
        children: dict = {}
        entries[str(position)] = _full_entry(entry, children)
        state.entries.append(children)
    state.positions = {key: position for position, key in enumerate(_keys(comp))}
    entries[KEYED_COUNT] = len(comp.entries)
    return {STATIC: list(comp.static), KEYED: entries}


def _full_entry(entry: tuple, children: dict) -> dict:
    out = {}
    for slot, value in enumerate(entry):
        if value is None:
            raise ValueError(f"slot {slot} of a new comprehension entry is None: render it in full")
        out[str(slot)] = _diff_value(value, children, slot)
    return out


# ---------------------------------------------------------------- keyed comprehensions


def _diff_comprehension(comp: Comprehension, previous: _Comp | None) -> tuple[object, _Comp]:
    if previous is None or previous.fingerprint != comp.fingerprint or previous.empty:
        state = _Comp(comp.fingerprint)
        return _full_comprehension(comp, state), state
    if not comp.entries and not previous.entries:
        return _SAME, previous
    old_positions, old_entries = previous.positions, previous.entries
    state = _Comp(comp.fingerprint)
    out: dict = {}
    moved = False
    for position, (key, entry) in enumerate(zip(_keys(comp), comp.entries)):
        old = old_positions.get(key)
        if old is None:
            children: dict = {}
            out[str(position)] = _full_entry(entry, children)
        else:
            children = old_entries[old]
            change = _diff_entry(entry, children)
            if old != position:
                moved = True
                out[str(position)] = old if change is _SAME else [old, change]
            elif change is not _SAME:
                out[str(position)] = change
        state.entries.append(children)
        state.positions[key] = position
    if len(comp.entries) != len(old_entries) or out:
        out[KEYED_COUNT] = len(comp.entries)
    if moved:
        out[KEYED_MOVED] = True
    return ({KEYED: out} if out else _SAME), state


def _diff_entry(entry: tuple, children: dict) -> object:
    out = {}
    for slot, value in enumerate(entry):
        if value is None:
            continue
        change = _diff_value(value, children, slot)
        if change is not _SAME:
            out[str(slot)] = change
    return out if out else _SAME


# ---------------------------------------------------------------- streams


def _diff_stream(comp: Comprehension, previous: _Comp | None) -> tuple[object, _Comp]:
    """A stream's new entries, each in full, and its ``"stream"`` operations (docs/protocol/liveview.md, "Streams").

    The client drops a stream's entries once patched into the DOM, and so
    do we: nothing per entry is remembered, only the template.
    """
    assert comp.stream is not None  # (only a stream's comprehension is diffed here)
    ref, inserts, deletes, reset = comp.stream
    new_template = previous is None or previous.fingerprint != comp.fingerprint
    state = _Comp(comp.fingerprint) if previous is None or new_template else previous
    if not new_template and not comp.entries and not deletes and not reset:
        return _SAME, state
    entries: dict = {str(position): _full_entry(entry, {}) for position, entry in enumerate(comp.entries)}
    entries[KEYED_COUNT] = len(comp.entries)
    out: dict = {STATIC: list(comp.static)} if new_template else {}
    out[KEYED] = entries
    out[STREAM] = [ref, [list(insert) for insert in inserts], list(deletes)] + ([True] if reset else [])
    return out, state


def _keys(comp: Comprehension):
    if comp.keys is None:
        return range(len(comp.entries))  # by position: never a move
    if len(comp.keys) != len(comp.entries):
        raise ValueError(f"a comprehension has {len(comp.entries)} entries but {len(comp.keys)} keys")
    if len(set(comp.keys)) != len(comp.keys):
        raise ValueError("the keys of a comprehension must be unique (a :key that repeats)")
    return comp.keys

"""The client model: the JS client's rendered tree and its DOM rules, in Python, for the test client.

The official client (phoenix_live_view 1.2.12) keeps a copy of the view's
rendered tree, merges every diff into it (``rendered.js``), renders it to
HTML and morphs the page to that HTML (``dom_patch.ts``), where streams keep
their children between renders. This module does the same, without a
browser, so tests can see what a user would see (docs/protocol/liveview.md, "Rendered diffs")::

    >>> tree = RenderedTree("phx-1", {"0": "0", "s": 0, "p": {"0": ["<p>Count: ", "</p>"]}})
    >>> tree.to_html()[0]
    '<p>Count: 0</p>'
    >>> tree.merge({"0": "1"})                  # a diff: only the changed slot
    >>> tree.to_html()[0]
    '<p>Count: 1</p>'

:class:`RenderedTree` is a port of ``rendered.js`` minus its DOM
optimisations (magic ids, skipped subtrees): same merge (templates ``"p"``,
keyed comprehensions with moves, components with shared statics), same
rendering (``data-phx-component``/``data-phx-view`` injected on a component's
root element, as ``modifyRoot`` does). A diff the real client would choke
on raises :class:`DiffError` here, saying what was wrong.

:class:`PageDom` is the page after each render: the HTML, except that
``phx-update="stream"`` containers keep their children as the client's
morph does (inserts at ``at``, ``limit``, ``update_only``, deletes,
resets) and ``phx-update="ignore"`` elements keep their content. It is
parsed with selectolax (lexbor), which also answers CSS selectors, so its
HTML is the parser's serialisation (``disabled=""``, quotes normalised).

The remaining functions build event payloads from the DOM as the client
does (docs/protocol/liveview.md, "event"): ``phx-value-*`` attributes, form bodies with
``_unused_`` markers, ``phx-target`` to a cid.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import TypeGuard
from urllib.parse import quote_plus

import attrs
from selectolax.lexbor import LexborHTMLParser, LexborNode

# The keys the diff engine writes, read here: spelled once, in the live package.
from web.live._wire import COMPONENTS, EVENTS, KEYED, KEYED_COUNT, KEYED_MOVED, REPLY, ROOT, STATIC, STREAM, TEMPLATES, TITLE

__all__ = [
    "DiffError",
    "Extracted",
    "PageDom",
    "RenderedTree",
    "extract",
    "modify_root",
    "is_cid",
    "closest_component",
    "element_value",
    "form_body",
    "encode_form",
    "flatten_params",
    "unused_key",
]

PHX_COMPONENT, PHX_VIEW_REF = "data-phx-component", "data-phx-view"


class DiffError(ValueError):
    """A diff the official client could not apply (it would throw, or render garbage)."""


# ---------------------------------------------------------------- the rendered tree (rendered.js)


@attrs.frozen
class Extracted:
    """A view diff with its top-level ``"r"``/``"e"``/``"t"`` taken out (docs/protocol/liveview.md, "Top-level keys")."""

    diff: dict
    title: str | None
    reply: object
    events: list


def extract(diff: dict) -> Extracted:
    """``Rendered.extract``: the reply, events and title leave the diff before it is merged.

    At the top level ``"r"`` is the reply to a hook, so a root flag sent there is
    dropped too, as the client does.
    """
    reply, events, title = diff.pop(REPLY, None), diff.pop(EVENTS, None), diff.pop(TITLE, None)
    return Extracted(diff, title, reply, events or [])


def is_cid(value: object) -> TypeGuard[int | str]:
    """``isCid``: an integer, or a string of digits (a ``phx-target="3"``)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"0|[1-9]\d*", value) is not None)


def _is_object(value: object) -> TypeGuard[dict]:
    return isinstance(value, dict)


class RenderedTree:
    """One view's rendered tree, merged diff after diff like the JS client's ``Rendered``.

    ``view_id`` is the view's container id (put in ``data-phx-view``);
    ``rendered`` is the join's ``rendered`` with ``"r"``/``"e"``/``"t"``
    already taken out (:func:`extract`). Render (:meth:`to_html`) after
    every merge, as the client does: template indexes are only meaningful
    within their message, and rendering is what resolves them.
    """

    def __init__(self, view_id: str, rendered: dict) -> None:
        self.view_id = view_id
        self.tree: dict = {}
        self.merge(rendered)

    @property
    def components(self) -> dict[int, dict]:
        """cid -> that component's stored tree."""
        return self.tree[COMPONENTS]

    def prune(self, cids: list) -> None:
        """Forget components the server deleted (the ``cids_destroyed`` reply)."""
        for cid in cids:
            self.tree[COMPONENTS].pop(int(cid), None)

    # -- merging ------------------------------------------------------------------

    def merge(self, diff: dict) -> None:
        """``mergeDiff``: merge a view diff (already :func:`extract`-ed) into the tree."""
        new_components = diff.pop(COMPONENTS, None)
        self.tree = self._mutable_merge(self.tree, diff)
        # A root diff with "s" replaced the whole tree, components included (as in the client).
        self.tree.setdefault(COMPONENTS, {})
        if new_components:
            old = self.tree[COMPONENTS]
            new = {int(cid): tree for cid, tree in new_components.items()}
            cache: dict = {}
            resolved = {cid: self._find_component(cid, new, old, cache) for cid in new}
            old.update(resolved)

    def _find_component(self, cid: int, new: dict, old: dict, cache: dict) -> dict:
        # cachedFindComponent: a component's "s" may name another component whose statics it shares.
        if cid in cache:
            return cache[cid]
        if cid not in new:
            raise DiffError(
                f"a component refers to the statics of component {cid}, which is not in the same 'c' "
                "(docs/protocol/liveview.md, \"Components\")"
            )
        cdiff = new[cid]
        shared = cdiff.get(STATIC)
        if is_cid(shared) and not isinstance(shared, str):
            if shared > 0:
                template = self._find_component(shared, new, old, cache)
            elif -shared in old:
                template = old[-shared]
            else:
                raise DiffError(f"component {cid} refers to component {-shared}, which the client does not have")
            merged = self._clone_merge(template, cdiff)
            merged[STATIC] = template[STATIC]
        elif STATIC in cdiff or cid not in old:
            merged = cdiff
        else:
            merged = self._clone_merge(old[cid], cdiff)
        cache[cid] = merged
        return merged

    def _mutable_merge(self, target: dict, source: dict) -> dict:
        if STATIC in source:
            return source
        self._do_mutable_merge(target, source)
        return target

    def _do_mutable_merge(self, target: dict, source: dict) -> None:
        if source.get(KEYED):
            self._merge_keyed(target, source)
            return
        for key, value in source.items():
            stored = target.get(key)
            if _is_object(value) and STATIC not in value and _is_object(stored):
                self._do_mutable_merge(stored, value)
            else:
                target[key] = value

    def _merge_keyed(self, target: dict, source: dict) -> None:
        keyed = source[KEYED]
        if not _is_object(target.get(KEYED)):
            raise DiffError(f"a keyed diff {keyed!r} for a slot that holds no comprehension (send it with 's')")
        # Moves read entries at their old positions: snapshot before changing anything.
        snapshot = copy.deepcopy(target) if keyed.get(KEYED_MOVED) else None
        entries = target[KEYED]
        for position, entry in keyed.items():
            if position in (KEYED_COUNT, KEYED_MOVED):
                continue
            if isinstance(entry, (list, int)) and not isinstance(entry, bool):
                if snapshot is None:
                    # The 1.2.12 client throws a TypeError here and the diff is lost.
                    raise DiffError(
                        f"keyed entry {position} moves ({entry!r}) but the diff lacks \"km\": true "
                        "(docs/protocol/liveview.md, \"Merge rules\")"
                    )
                old_position, change = (entry[0], entry[1]) if isinstance(entry, list) else (entry, None)
                entries[position] = snapshot[KEYED][str(old_position)]
                if change is not None:
                    self._do_mutable_merge(entries[position], change)
            elif _is_object(entry):
                entries.setdefault(position, {})
                self._do_mutable_merge(entries[position], entry)
        count = keyed[KEYED_COUNT]
        for position in range(count, entries.get(KEYED_COUNT, 0)):
            entries.pop(str(position), None)
        entries[KEYED_COUNT] = count
        if source.get(STREAM):
            target[STREAM] = source[STREAM]
        if source.get(TEMPLATES):
            target[TEMPLATES] = source[TEMPLATES]

    def _clone_merge(self, target: dict, source: dict) -> dict:
        # Components are merged into copies, never in place (cloneMerge).
        if source.get(KEYED):
            merged = copy.deepcopy(target)
            self._merge_keyed(merged, source)
            return merged
        merged = {**target, **source}
        for key in merged:
            value, stored = source.get(key), target.get(key)
            if _is_object(value) and STATIC not in value and _is_object(stored):
                merged[key] = self._clone_merge(stored, value)
            elif key not in source and _is_object(stored):
                merged[key] = self._clone_merge(stored, {})
        return merged

    # -- rendering ------------------------------------------------------------------

    def to_html(self, *, component_attrs: bool = True) -> tuple[str, list]:
        """The view's HTML and the stream operations this render carries.

        Like the client, rendering resolves template indexes in place and
        drops the entries of rendered streams (the DOM keeps them), so each
        render returns a stream's operations once. ``component_attrs=False``
        leaves out ``data-phx-component``/``data-phx-view``, to compare with
        the dead render, which has neither.
        """
        streams: list = []
        html = self._node(self.tree, None, streams, None, component_attrs)
        return html, streams

    def _node(self, node: dict, templates: dict | None, streams: list, root_attrs: dict | None, attrs_on: bool) -> str:
        if node.get(KEYED):
            return self._comprehension(node, templates, streams, attrs_on)
        if TEMPLATES in node:
            templates = node.pop(TEMPLATES)
        statics = node[STATIC] = _statics(node.get(STATIC), templates, node)
        html = self._dynamics(node, statics, templates, streams, attrs_on)
        if node.get(ROOT) and root_attrs:
            html = modify_root(html, root_attrs)
        return html

    def _dynamics(self, node: dict, statics: list, templates: dict | None, streams: list, attrs_on: bool) -> str:
        parts = [statics[0]]
        for index, static in enumerate(statics[1:]):
            value = node.get(str(index), _MISSING)
            if value is _MISSING or value is None:
                raise DiffError(f"slot {index} of {_short(statics)} has no value (a full render must send every slot)")
            parts.append(self._dynamic(value, templates, streams, attrs_on))
            parts.append(static)
        return "".join(parts)

    def _dynamic(self, value: object, templates: dict | None, streams: list, attrs_on: bool) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return self._component(value, streams, attrs_on)
        if _is_object(value):
            return self._node(value, templates, streams, None, attrs_on)
        return value if isinstance(value, str) else str(value)

    def _comprehension(self, node: dict, templates: dict | None, streams: list, attrs_on: bool) -> str:
        # As comprehensionToBuffer: an outer table wins over the comprehension's own.
        entry_templates = templates if templates is not None else node.get(TEMPLATES)
        statics = node[STATIC] = _statics(node.get(STATIC), templates, node)
        node.pop(TEMPLATES, None)
        keyed = node[KEYED]
        parts = []
        for position in range(keyed[KEYED_COUNT]):
            entry = keyed.get(str(position))
            if entry is None:
                raise DiffError(f"keyed comprehension {_short(statics)} has kc={keyed[KEYED_COUNT]} but no entry {position}")
            parts.append(self._dynamics(entry, statics, entry_templates, streams, attrs_on))
        stream = node.get(STREAM)
        if stream:
            # The DOM keeps a stream's children: the tree forgets them once rendered.
            deletes, reset = stream[2], stream[3] if len(stream) > 3 else None
            if keyed[KEYED_COUNT] > 0 or deletes or reset:
                del node[STREAM]
                node[KEYED] = {KEYED_COUNT: 0}
                if not any(seen is stream for seen in streams):
                    streams.append(stream)
        return "".join(parts)

    def _component(self, cid: int, streams: list, attrs_on: bool) -> str:
        component = self.tree[COMPONENTS].get(cid)
        if component is None:
            raise DiffError(f"the render refers to component {cid}, which the client does not have")
        root_attrs = {PHX_COMPONENT: cid, PHX_VIEW_REF: self.view_id} if attrs_on else None
        return self._node(component, None, streams, root_attrs, attrs_on)


_MISSING = object()


def _statics(statics: object, templates: dict | None, node: dict) -> list:
    if isinstance(statics, list):
        return statics
    if isinstance(statics, int) and not isinstance(statics, bool):
        if templates is None or str(statics) not in templates:
            raise DiffError(
                f"'s': {statics} but no template {statics} in a 'p' in scope (docs/protocol/liveview.md, \"Nodes\")"
            )
        return templates[str(statics)]
    raise DiffError(f"a node without statics: {_short(node)} (a new template must come with 's')")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_VOID_TAGS = {
    "area", "base", "br", "col", "command", "embed", "hr", "img", "input", "keygen",
    "link", "meta", "param", "source", "track", "wbr",
}
_LEAD = re.compile(r"^(\s*(?:<!--.*?-->\s*)*)<([^\s/>]+)")


def modify_root(html: str, attrs: dict) -> str:
    """``modifyRoot``: add ``attrs`` right after the tag name of the single root element of ``html``.

    >>> modify_root('<div class="card">hi</div>', {"data-phx-component": 1, "data-phx-view": "phx-1"})
    '<div data-phx-component="1" data-phx-view="phx-1" class="card">hi</div>'
    """
    lead = _LEAD.match(html)
    if lead is None:
        raise DiffError(f"a component must render one root HTML element; got {_short(html)}")
    before, tag = lead.group(1), lead.group(2)
    name_end = lead.end()
    close_at = _last_tag_end(html, len(before) + len(tag))
    rendered = " ".join(name if value is True else f'{name}="{value}"' for name, value in attrs.items())
    return f"{before}<{tag}{' ' if rendered else ''}{rendered}{html[name_end:close_at + 1]}{html[close_at + 1:]}"


def _last_tag_end(html: str, floor: int) -> int:
    # The last ">" that does not close a trailing comment: where the root element ends.
    close_at, in_comment = len(html) - 1, False
    while close_at >= floor:
        char = html[close_at]
        if in_comment:
            if char == "-" and html[close_at - 3:close_at] == "<!-":
                in_comment = False
                close_at -= 4
            else:
                close_at -= 1
        elif char == ">" and html[close_at - 2:close_at] == "--":
            in_comment = True
            close_at -= 3
        elif char == ">":
            break
        else:
            close_at -= 1
    return close_at


# ---------------------------------------------------------------- the page (dom_patch.ts)


@attrs.define(eq=False)
class _Child:
    """A child of a stream container as the DOM holds it."""

    id: str | None
    ref: str | None  # the stream it was inserted by (data-phx-stream), None for template children
    html: str


@attrs.frozen
class _Insert:
    ref: str
    at: int
    limit: int | None
    reset: bool
    update_only: bool


class PageDom:
    """The view's DOM as the client's morph leaves it, render after render.

    >>> page = PageDom()
    >>> page.patch('<ul id="s" phx-update="stream"><li id="s-1">a</li></ul>', [["0", [["s-1", -1, None, None]], []]])
    '<ul id="s" phx-update="stream"><li id="s-1">a</li></ul>'
    >>> page.patch('<ul id="s" phx-update="stream"><li id="s-2">b</li></ul>', [["0", [["s-2", 0, None, None]], []]])
    '<ul id="s" phx-update="stream"><li id="s-2">b</li><li id="s-1">a</li></ul>'
    """

    def __init__(self) -> None:
        self.html = ""
        self.document = LexborHTMLParser("", is_fragment=True)
        self._containers: dict[str, list[_Child]] = {}  # stream container id -> its children
        self._ignored: dict[str, str] = {}  # phx-update="ignore" element id -> its inner HTML

    def patch(self, html: str, streams: list) -> str:
        """Morph to a new render (``html``) carrying ``streams`` operations; return the page's HTML."""
        document = LexborHTMLParser(html, is_fragment=True)
        inserts = _inserts(streams)
        restore: dict[str, _Child] = {}
        self._remove_before_morph(streams, inserts, restore)
        containers: dict[str, list[_Child]] = {}
        # Re-query after each container: replacing children invalidates the nodes found before.
        while (found := _next_unseen(document, '[phx-update="stream"]', containers)) is not None:
            container, dom_id = found
            new = [(child.attributes.get("id"), child.html) for child in _element_children(container)]
            children = _morph_children(self._containers.get(dom_id, []), new, inserts, restore)
            container.inner_html = "".join(child.html for child in children)
            containers[dom_id] = children
        self._containers = containers
        self._keep_ignored(document)
        self.document = document
        self.html = document.html or ""
        return self.html

    def _remove_before_morph(self, streams: list, inserts: dict, restore: dict) -> None:
        # Resets and deletes apply to the old DOM, before the morph adds anything.
        for stream in streams:
            if len(stream) > 3:  # the client tests "reset !== undefined"
                for children in self._containers.values():
                    for child in [c for c in children if c.ref == stream[0]]:
                        _remove(children, child, inserts, restore)
            for dom_id in stream[2]:
                for children in self._containers.values():
                    for child in [c for c in children if c.id == dom_id]:
                        _remove(children, child, inserts, restore)

    def _keep_ignored(self, document: LexborHTMLParser) -> None:
        # The client matches them by id: one without an id cannot be told apart, so it is not kept.
        ignored: dict[str, str] = {}
        while (found := _next_unseen(document, '[phx-update="ignore"][id]', ignored)) is not None:
            node, dom_id = found
            if dom_id in self._ignored:
                node.inner_html = self._ignored[dom_id]
            ignored[dom_id] = node.inner_html or ""
        self._ignored = ignored

    def component_ids(self) -> set[int]:
        """The cids of the components on the page now."""
        return {int(cid) for node in self.document.css(f"[{PHX_COMPONENT}]") if (cid := node.attributes.get(PHX_COMPONENT))}

    def find_component(self, cid: int) -> LexborNode | None:
        return self.document.css_first(f'[{PHX_COMPONENT}="{cid}"]')

    def select(self, selector: str) -> list[LexborNode]:
        return self.document.css(selector)


def _next_unseen(document: LexborHTMLParser, selector: str, seen: dict) -> tuple[LexborNode, str] | None:
    """The first element matching ``selector`` whose id is not in ``seen``, and that id."""
    for node in document.css(selector):
        dom_id = node.attributes.get("id")
        if not dom_id:
            what = selector[1:selector.index("]")]
            raise DiffError(f"an element with {what} needs an id (the client finds it again by id): {_short(node.html)}")
        if dom_id not in seen:
            return node, dom_id
    return None


def _element_children(node: LexborNode) -> list[LexborNode]:
    # Text between a stream's children is not kept: the client's morph discards it.
    return [child for child in node.iter(include_text=False) if child.is_element_node]


def _inserts(streams: list) -> dict[str, _Insert]:
    inserts = {}
    for stream in streams:
        ref, stream_inserts, reset = stream[0], stream[1], len(stream) > 3
        for dom_id, at, limit, update_only in stream_inserts:
            inserts[dom_id] = _Insert(ref, at, limit, reset, bool(update_only))
    return inserts


def _morph_children(old: list[_Child], new: list[tuple], inserts: dict, restore: dict) -> list[_Child]:
    """The children of one stream container after the morph to ``new`` ``(id, html)`` children."""
    # Children with an id stay (they are the stream's); id-less ones are the template's, re-rendered.
    children = [child for child in old if child.id]
    for dom_id, html in new:
        insert = inserts.get(dom_id) if dom_id else None
        existing = next((child for child in children if dom_id and child.id == dom_id), None)
        if existing is not None:  # morphed in place: an update keeps its position
            existing.html = html
            if insert is not None:
                existing.ref = insert.ref
                _reorder(children, existing, insert, False, inserts, restore)
            continue
        if insert is not None and insert.update_only and dom_id not in restore:
            continue  # update_only: never adds an element that was not there
        restore.pop(dom_id, None)
        child = _Child(dom_id, insert.ref if insert is not None else None, html)
        if _add(children, child, insert) and insert is not None:
            _reorder(children, child, insert, True, inserts, restore)
    return children


def _add(children: list[_Child], child: _Child, insert: _Insert | None) -> bool:
    # addChild: where a new child goes first.
    if insert is None:
        children.append(child)
    elif insert.at == 0:
        children.insert(0, child)
    elif insert.at == -1:
        if children and children[-1].ref is None:
            # Appended before the template's own trailing children.
            first_plain = next(i for i, c in enumerate(children) if c.ref is None)
            children.insert(first_plain, child)
        else:
            children.append(child)
    elif insert.at > 0:
        children.insert(min(insert.at, len(children)), child)
    else:
        return False  # the client adds nothing for an "at" below -1
    return True


def _reorder(children: list[_Child], child: _Child, insert: _Insert, is_new: bool, inserts: dict, restore: dict) -> None:
    # maybeReOrderStream: only new children (or all, on a reset) move, then the limit applies.
    if not insert.reset and not is_new:
        return
    at = insert.at
    if at == 0:
        _move_before(children, child, children[0])
    elif at > 0:
        old_index = children.index(child)
        if at >= len(children) - 1:
            _move_before(children, child, None)
        else:
            sibling = children[at]
            if old_index > at:
                _move_before(children, child, sibling)
            elif sibling is not child:
                after = children.index(sibling) + 1
                _move_before(children, child, children[after] if after < len(children) else None)
    _limit(children, insert, inserts, restore)


def _move_before(children: list[_Child], child: _Child, ref: _Child | None) -> None:
    if ref is child:
        return
    children.remove(child)
    if ref is None:
        children.append(child)
    else:
        children.insert(children.index(ref), child)


def _limit(children: list[_Child], insert: _Insert, inserts: dict, restore: dict) -> None:
    limit, count = insert.limit, len(children)
    if limit is None:
        return
    if limit < 0 and count > -limit:
        doomed = children[: count + limit]
    elif limit >= 0 and count > limit:
        doomed = children[limit:]
    else:
        return
    for child in doomed:
        _remove(children, child, inserts, restore)


def _remove(children: list[_Child], child: _Child, inserts: dict, restore: dict) -> None:
    children.remove(child)
    if child.id in inserts:  # inserted again by this very patch: it comes back (restored)
        restore[child.id] = child


# ---------------------------------------------------------------- event payloads (view.ts)


def closest_component(node: LexborNode | None) -> int | None:
    """The cid of the component ``node`` is in (itself included), or None: ``closestComponentID``."""
    while node is not None:
        cid = node.attributes.get(PHX_COMPONENT) if node.is_element_node else None
        if cid is not None:
            return int(cid)
        node = node.parent
    return None


def element_value(node: LexborNode, value: dict | None = None) -> dict:
    """``extractMeta`` for a non-form event: ``phx-value-*``, the element's ``value``, then ``value``.

    >>> page = LexborHTMLParser('<button phx-value-id="7" phx-value-kind="x">go</button>', is_fragment=True)
    >>> button = page.css_first("button")
    >>> element_value(button, {"extra": 1})
    {'id': '7', 'kind': 'x', 'value': '', 'extra': 1}
    """
    meta: dict[str, object] = {
        name[len("phx-value-"):]: text or "" for name, text in node.attributes.items() if name.startswith("phx-value-")
    }
    element = _value_property(node)
    if element is not None:
        meta["value"] = element
    meta.update(value or {})
    return meta


def _value_property(node: LexborNode) -> object:
    """What ``el.value`` is for this element; None where it is undefined (or an unchecked checkable)."""
    attrs_, tag = node.attributes, node.tag
    if tag == "input":
        kind = (attrs_.get("type") or "text").lower()
        if kind in ("checkbox", "radio"):
            return (attrs_.get("value") or "on") if "checked" in attrs_ else None
        return attrs_.get("value") or ""
    if tag in ("button", "data", "param"):
        return attrs_.get("value") or ""
    if tag == "option":
        return _option_value(node)
    if tag in ("textarea", "output"):
        return node.text()
    if tag == "select":
        values = _selected(node)
        return values[0] if values else ""
    if tag in ("li", "meter", "progress"):  # numeric properties: JSON numbers
        return _number(attrs_.get("value"))
    return None


def _number(text: str | None) -> int | float:
    try:
        number = float(text) if text is not None else 0.0
    except ValueError:
        number = 0.0
    return int(number) if number.is_integer() else number


def form_body(
    form: LexborNode, used: set[str], *, only: Sequence[str | None] | None = None, overrides: list[tuple] | None = None
) -> str:
    """``serializeForm``: the form's URL-encoded body as the client sends it.

    The controls' current values (as the DOM has them) in document order,
    ``overrides`` ``(name, value)`` pairs replacing every control of that
    name (new names appended), and before each value of a field the user has
    not touched (not in ``used``, not hidden) an ``_unused_`` marker, unless
    ``phx-no-unused-field`` is set. ``only``: just these names (an input
    with its own ``phx-change``).
    """
    controls = list(_controls(form))
    pairs = [(name, value) for name, value, _ in controls if value is not None]
    if overrides:
        pairs = _override(pairs, overrides)
    unused = _unused_names(controls, used) if "phx-no-unused-field" not in form.attributes else set()
    out = []
    for name, value in pairs:
        if only is not None and name not in only:
            continue
        if name in unused:
            out.append((unused_key(name), ""))
        out.append((name, value))
    return encode_form(out)


def _controls(form: LexborNode):
    """``(name, value or None, node)`` for every named control of the form (FormData's view)."""
    for node in form.css("input, select, textarea, button"):
        name = node.attributes.get("name")
        if not name or _disabled(node, form):
            continue
        kind = (node.attributes.get("type") or "text").lower() if node.tag == "input" else node.tag
        if node.tag == "button" or kind in ("submit", "button", "reset", "image", "file"):
            yield name, None, node  # counted for _unused_, never in the body (files go as uploads)
        elif node.tag == "select":
            selected = _selected(node)
            if not selected:
                yield name, None, node
            for value in selected:
                yield name, value, node
        else:
            yield name, _value_property(node), node


def _disabled(node: LexborNode, form: LexborNode) -> bool:
    if "disabled" in node.attributes:
        return True
    parent = node.parent
    while parent is not None and parent.mem_id != form.mem_id:
        if parent.tag == "fieldset" and "disabled" in parent.attributes:
            return True
        parent = parent.parent
    return False


def _selected(select: LexborNode) -> list[str]:
    options = select.css("option")
    chosen = [option for option in options if "selected" in option.attributes]
    if "multiple" not in select.attributes:
        # A single select shows the last selected option, else its first one.
        chosen = chosen[-1:] or [option for option in options if "disabled" not in option.attributes][:1]
    return [_option_value(option) for option in chosen]


def _option_value(option: LexborNode) -> str:
    value = option.attributes.get("value")
    return value if value is not None else " ".join(option.text().split())


def _unused_names(controls: list, used: set[str]) -> set[str]:
    unused: dict[str, bool] = {}
    hidden_only: dict[str, bool] = {}
    for name, _, node in controls:
        is_used = name in used or "phx-no-unused-field" in node.attributes
        is_hidden = node.tag == "input" and (node.attributes.get("type") or "").lower() == "hidden"
        unused[name] = unused.get(name, True) and not is_used
        hidden_only[name] = hidden_only.get(name, True) and is_hidden
    return {name for name, flag in unused.items() if flag and not hidden_only[name]}


def _override(pairs: list[tuple], overrides: list[tuple]) -> list[tuple]:
    given: dict[str, list] = {}
    for name, value in overrides:
        given.setdefault(name, []).append(value)
    out, placed = [], set()
    for name, value in pairs:
        if name not in given:
            out.append((name, value))
        elif name not in placed:
            placed.add(name)
            out.extend((name, v) for v in given[name])
    out.extend((name, v) for name, values in given.items() if name not in placed for v in values)
    return out


def unused_key(name: str) -> str:
    """``prependFormDataKey(name, "_unused_")``: ``"user[name]"`` -> ``"user[_unused_name]"``."""
    is_list = name.endswith("[]")
    base = name[:-2] if is_list else name
    base = re.sub(r"([^\[\]]+)(\]?$)", r"_unused_\1\2", base, count=1)
    return base + ("[]" if is_list else "")


def flatten_params(value: object, prefix: str | None = None) -> list[tuple[str, str]]:
    """Nested params as form ``(name, value)`` pairs, like ``Plug.Conn.Query.encode``.

    >>> flatten_params({"user": {"name": "Ann", "tags": ["a", "b"]}, "agree": True})
    [('user[name]', 'Ann'), ('user[tags][]', 'a'), ('user[tags][]', 'b'), ('agree', 'true')]
    """
    if isinstance(value, dict):
        pairs = []
        for key, inner in value.items():
            pairs += flatten_params(inner, f"{prefix}[{key}]" if prefix else str(key))
        return pairs
    if isinstance(value, (list, tuple)):
        return [pair for inner in value for pair in flatten_params(inner, f"{prefix}[]")]
    if prefix is None:
        raise TypeError(f"form values are a dict of names to values; got {value!r}")
    if value is None:
        return [(prefix, "")]
    if isinstance(value, bool):
        return [(prefix, "true" if value else "false")]
    return [(prefix, str(value))]


def encode_form(pairs: list[tuple[str, str]]) -> str:
    """``URLSearchParams.toString()``: ``+`` for spaces, only ``*-._`` and alphanumerics left as is."""
    return "&".join(f"{_form_quote(name)}={_form_quote(value)}" for name, value in pairs)


def _form_quote(text: str) -> str:
    return quote_plus(text, safe="*").replace("~", "%7E")

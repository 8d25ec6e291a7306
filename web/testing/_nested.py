"""Nested LiveViews under test: the children a view placed with ``live_render``, each a view of its own.

Phoenix.LiveViewTest's ``live_children`` and ``find_live_child``::

    view = await live(router, "/dashboard")
    clock = await find_live_child(view, "clock")           # joined as the client joins it
    html = await render_click(element(clock, "#tick"))    # its events are its own
    assert [child.id for child in await live_children(view)] == ["clock"]

A child is joined on the page's socket the way the official client joins
it, once its parent has rendered its container: on ``lv:<child id>``,
with the session its container carries and no URL
(docs/protocol/liveview.md, "Nested views"). It is then a
:class:`~web.testing.LiveViewTest` like its parent, with its own HTML (the
parent's shows the child's container, empty, as the page does until the
child has joined). Each child is joined once; asking again gives the same
view.
"""

from __future__ import annotations

import weakref

from ._live import JoinRefused, LiveViewTest

__all__ = ["live_children", "find_live_child"]

# parent -> {child id: its joined view}
_JOINED: weakref.WeakKeyDictionary[LiveViewTest, dict[str, LiveViewTest]] = weakref.WeakKeyDictionary()


async def live_children(parent: LiveViewTest) -> list[LiveViewTest]:
    """The views ``parent`` placed with ``live_render`` (``data-phx-parent-id`` its id), in page order, joined."""
    await parent.sync()
    nodes = parent.dom.document.css(f'[data-phx-parent-id="{parent.id}"][data-phx-session]')
    return [await _joined(parent, node.attributes) for node in nodes]


async def find_live_child(parent: LiveViewTest, child_id: str) -> LiveViewTest:
    """The child of ``parent`` whose container has the id ``child_id`` (a sticky one too), joined.

    Raises:
        AssertionError: the page has no such child, or its join was refused.
    """
    await parent.sync()
    node = parent.dom.document.css_first(f'[id="{child_id}"][data-phx-session]')
    if node is None:
        placed = [n.attributes.get("id") for n in parent.dom.document.css("[data-phx-session]")]
        raise AssertionError(f"{parent!r} has no nested view {child_id!r}; the nested views on the page: {placed}")
    return await _joined(parent, node.attributes)


async def _joined(parent: LiveViewTest, attributes: dict) -> LiveViewTest:
    joined = _JOINED.setdefault(parent, {})
    child_id = attributes.get("id") or ""
    if child_id not in joined:
        joined[child_id] = await _join(parent, child_id, attributes)
    return joined[child_id]


async def _join(parent: LiveViewTest, child_id: str, attributes: dict) -> LiveViewTest:
    session = attributes.get("data-phx-session") or ""
    static = attributes.get("data-phx-static") or None  # the client sends "" as null
    child = LiveViewTest(parent.page, child_id, session, static, parent.url, parent.title)
    payload = {"params": child._join_params(0), "session": session, "static": static, "sticky": "data-phx-sticky" in attributes}
    try:
        joined = await child._join(payload)
    except JoinRefused as refused:
        raise AssertionError(f"joining the nested view {child.topic} failed: {refused.response!r}") from None
    if not isinstance(joined, LiveViewTest):
        raise AssertionError(f"the nested view {child.topic} navigated away as it mounted: {joined!r}")
    return joined

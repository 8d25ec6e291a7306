"""Elements of a view under test: found by CSS selector (and text), looked up when used.

::

    view = await live(router, "/items")
    milk = element(view, "#items li", text_filter="Milk")   # nothing looked up yet
    await render_click(milk)                                 # now: exactly one must match
    assert await has_element(view, "#items li.done", "Milk")
    assert await render(element(view, "#count")) == '<span id="count">1</span>'

An :class:`Element` is a description, not a node: each helper looks it up
in the page as it is then, and it must match exactly one element, else the
helper fails with the HTML it searched. ``has_element`` asks whether any
matches. ``text_filter`` is a string the element's text contains, or a
compiled regex its text matches.
"""

from __future__ import annotations

import re

import attrs
from selectolax.lexbor import LexborNode

from ._live import LiveViewTest

__all__ = ["Element", "element", "render", "has_element", "find_one", "select", "view_of"]


@attrs.frozen
class Element:
    """An element of a view, by CSS selector (and text): see :func:`element`."""

    view: LiveViewTest = attrs.field(repr=False)
    selector: str
    text_filter: object = None


def element(view: LiveViewTest, selector: str, text_filter: object = None) -> Element:
    """The element of ``view`` matching ``selector`` (and whose text contains ``text_filter``,
    a string, or matches it, a compiled regex). Looked up when used: it must then match exactly one.
    """
    if not isinstance(view, LiveViewTest):
        raise TypeError(f"element() takes a view (from live()); got {view!r}")
    return Element(view, selector, text_filter)


async def render(target: LiveViewTest | Element) -> str:
    """The HTML of the view, or of the element, once the view has sent everything it had to send."""
    view = view_of(target)
    await view.sync()
    if isinstance(target, Element):
        return outer_html(find_one(target))
    return view.html


async def has_element(target: LiveViewTest | Element, selector: str | None = None, text_filter: object = None) -> bool:
    """Whether the page has at least one such element: ``has_element(element)`` or ``has_element(view, selector, text)``."""
    view = view_of(target)
    if isinstance(target, Element):
        selector, text_filter = target.selector, target.text_filter
    elif selector is None:
        raise TypeError("has_element(view, selector, text_filter=None) needs a selector")
    await view.sync()
    return bool(select(view, selector, text_filter))


# ---------------------------------------------------------------- lookups, for the helpers


def view_of(target: object) -> LiveViewTest:
    """The view a helper's target belongs to (an :class:`Element`'s, or the view itself)."""
    if isinstance(target, Element):
        return target.view
    if isinstance(target, LiveViewTest):
        return target
    raise TypeError(f"expected a view (from live()) or an element (from element()); got {target!r}")


def select(view: LiveViewTest, selector: str, text_filter: object = None) -> list[LexborNode]:
    """Every element of the page now matching ``selector`` and ``text_filter``."""
    nodes = view.dom.select(selector)
    if text_filter is None:
        return nodes
    if isinstance(text_filter, re.Pattern):
        return [node for node in nodes if text_filter.search(node.text())]
    return [node for node in nodes if str(text_filter) in node.text()]


def find_one(target: Element) -> LexborNode:
    """The one element of the page now that ``target`` describes; fails, showing the HTML, unless exactly one."""
    view = target.view
    nodes = select(view, target.selector, target.text_filter)
    if len(nodes) == 1:
        return nodes[0]
    if not nodes:
        candidates = select(view, target.selector) if target.text_filter is not None else []
        if candidates:
            raise AssertionError(
                f"selector {target.selector!r} did not match text filter {target.text_filter!r}, got:\n\n"
                + "\n".join(outer_html(node) for node in candidates)
            )
        raise AssertionError(f"selector {target.selector!r} did not return any element within:\n\n{view.html}")
    raise AssertionError(
        f"selector {target.selector!r} returned {len(nodes)} elements and therefore cannot be the target "
        f"of an event or rendered (use a more precise selector, or a text filter):\n\n"
        + "\n".join(outer_html(node) for node in nodes)
    )


def outer_html(node: LexborNode) -> str:
    """The node's HTML (selectolax says None when lexbor fails to serialize it: then "")."""
    return node.html or ""

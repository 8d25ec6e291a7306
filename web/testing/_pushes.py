"""What a view sends on its own: HTML it re-renders, events it pushes, its title.

A view updates without being asked (``handle_info``, async results, PubSub
broadcasts); these helpers wait for those pushes, never poll::

    send(view_pid, "tick")                                  # or a broadcast the view subscribed to
    html = await wait_for_html(view, lambda html: "tick 1" in html)
    assert await assert_push_event(view, "highlight", {"id": 7}) == {"id": 7}
    assert await page_title(view) == "Inbox (1)"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._channel import ANY
from ._live import LiveViewTest

__all__ = ["wait_for_html", "assert_push_event", "page_title"]


async def wait_for_html(view: LiveViewTest, predicate: Callable[[str], bool], *, timeout: float = 5.0) -> str:
    """Apply what the view pushes until ``predicate(html)`` holds; return that HTML.

    For updates the view makes on its own (``handle_info``, async results,
    PubSub): waits for the pushes, never polls. Fails after ``timeout``.
    """
    return await view.wait_for(
        lambda: view.html if predicate(view.html) else None, timeout=timeout,
        failure=f"the view's HTML did not satisfy the predicate within {timeout} s; it is:\n{view.html}",
    )


async def assert_push_event(
    view: LiveViewTest, event: str, payload: object = ANY, *, timeout: float = 1.0
) -> dict[str, Any]:
    """Wait for a ``push_event(event, payload)`` of the view; return its payload (and forget it)."""

    def found() -> dict[str, Any] | None:
        for index, pushed in enumerate(view.events):
            if pushed[0] == event and pushed[1] == payload:
                return view.events.pop(index)[1]
        return None

    failure = f"expected {view!r} to push event {event!r} {payload!r}; pushed: {view.events!r}"
    return await view.wait_for(found, timeout=timeout, failure=failure)


async def page_title(view: LiveViewTest) -> str | None:
    """The page's title now (the dead render's ``<title>``, then each ``"t"`` the view sent)."""
    await view.sync()
    return view.title

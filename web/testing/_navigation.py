"""Navigation: asserting that a view patched or redirected, and following a redirect.

A view navigates with ``push_patch`` (same view, new URL: ``handle_params``
runs), ``push_navigate`` (a ``live_redirect``: another view on the same
socket) or ``redirect`` (a full page load). The helpers that push events
return a :class:`Redirect` when their reply navigates away; a view that
navigates on its own (``handle_info``) is caught with these asserts::

    await render_click(view, "save")
    assert await assert_patch(view) == "/items?sort=name"
    redirect = await assert_redirect(view, "/items/7")
    item = await follow_redirect(redirect)              # the new LiveViewTest
    assert item.url == "http://localhost/items/7"

Each patch and redirect is recorded once (``view.patches``,
``view.redirects``) and an assert takes the oldest, as Phoenix's
``assert_patch``/``assert_redirect`` do with the test process's mailbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from web.live import LiveRouter
from web.live._wire import LIVE_REDIRECT

from ._live import DEFAULT_TIMEOUT, JoinRefused, LiveViewTest, join_redirect, live
from ._results import Redirect

__all__ = ["assert_patch", "assert_redirect", "follow_redirect"]


async def assert_patch(view: LiveViewTest, to: str | None = None, *, timeout: float = 1.0) -> str:
    """Wait for the view to patch its URL (``push_patch``, a patch link); return the path patched to."""
    path = await view.wait_for(
        lambda: view.patches.pop(0) if view.patches else None, timeout=timeout,
        failure=f"expected {view!r} to patch{f' to {to!r}' if to else ''} within {timeout} s; it did not",
    )
    if to is not None and path != to:
        raise AssertionError(f"expected {view!r} to patch to {to!r}; it patched to {path!r}")
    return path


async def assert_redirect(view: LiveViewTest, to: str | None = None, *, timeout: float = 1.0) -> Redirect:
    """Wait for the view to navigate away (either kind); return the :class:`Redirect`."""
    redirect = await view.wait_for(
        lambda: view.redirects.pop(0) if view.redirects else None, timeout=timeout,
        failure=f"expected {view!r} to redirect{f' to {to!r}' if to else ''} within {timeout} s; it did not",
    )
    if to is not None and redirect.to != to:
        raise AssertionError(f"expected {view!r} to redirect to {to!r}; it redirected to {redirect.to!r}")
    return redirect


async def follow_redirect(
    redirect: Redirect, router: LiveRouter | None = None, *, session: Mapping[str, Any] | None = None
) -> LiveViewTest | Redirect:
    """Go where ``redirect`` says, as the client would; return the new :class:`LiveViewTest`.

    A ``live_redirect`` from a view navigates on the same socket (the join
    carries ``redirect`` and the flash); if the server refuses that, or for
    a ``redirect``, the page is loaded afresh with :func:`live`. ``router``
    and ``session`` default to those of the page the redirect came from.
    """
    if not isinstance(redirect, Redirect):
        raise TypeError(f"follow_redirect() takes the Redirect a render_* or live() returned; got {redirect!r}")
    source = redirect.source
    page = source.page if isinstance(source, LiveViewTest) else source
    router = router or (page.router if page is not None else None)
    if router is None:
        raise TypeError("follow_redirect(redirect, router): this redirect does not say which router it came from")
    if session is None and page is not None:
        session = page.session
    timeout = page.timeout if page is not None else DEFAULT_TIMEOUT
    if redirect.kind == LIVE_REDIRECT and isinstance(source, LiveViewTest) and source.page.router is router:
        try:
            return await join_redirect(source, redirect)
        except JoinRefused:
            pass  # stale/unauthorized: the client falls back to a full page load
    if router.match(_path(redirect.to)) is None:
        raise ValueError(f"cannot follow a redirect to {redirect.to!r}: no LiveView route of the router matches it")
    if isinstance(source, LiveViewTest):
        await source.client.close()  # a full page load drops the socket
    return await live(router, _path(redirect.to), session=session, timeout=timeout)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

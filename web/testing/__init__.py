"""Test your sockets, channels and LiveViews without a network or a browser.

Phoenix.ChannelTest and Phoenix.LiveViewTest in Python. Inside an otp test
(the pytest plugin runs each async test in a node)::

    from web.testing import connect, live, element, render_click

    async def test_ping_replies_with_the_payload():
        await PubSub.start_link("test_pubsub")
        client = await connect(UserSocket, {"user": "alice"}, pubsub="test_pubsub")
        assert await client.join("room:lobby") == ("ok", {"room": "lobby", "user": "alice"})
        await client.assert_reply(client.push("room:lobby", "ping", {"n": 1}), "ok", {"n": 1})

    async def test_the_counter_counts():
        await PubSub.start_link("live")                       # the router's pubsub
        view = await live(router, "/counter")
        html = await render_click(element(view, "button", "+"))
        assert '<span id="count">1</span>' in html

Each concept in the file named after it:

* ``_channel.py``: the channel test client (:func:`connect`,
  :class:`ClientSocket`, ``assert_push``/``assert_reply``/``assert_broadcast``);
* ``_live.py``: :func:`live` and :class:`LiveViewTest`, the LiveView
  protocol as the JS client speaks it;
* ``_elements.py``: :func:`element`, :func:`has_element`, :func:`render`;
* ``_events.py``: ``render_click``, ``render_change``, ``render_submit``,
  ``render_hook``, ``render_patch``;
* ``_navigation.py``: :func:`assert_patch`, :func:`assert_redirect`,
  :func:`follow_redirect`;
* ``_nested.py``: :func:`live_children`, :func:`find_live_child` (nested views);
* ``_pushes.py``: what the view sends on its own (:func:`wait_for_html`,
  :func:`assert_push_event`, :func:`page_title`);
* ``_uploads.py``: :func:`file_input`, :func:`render_upload`;
* ``_results.py``: :class:`Redirect` and :class:`UploadError`, returned
  instead of HTML;
* ``_client_model.py``: the model of the official client's merge rules and
  DOM patching the LiveView helpers see the page through.
"""

from otp.lowlevel import fixup_module_metadata as _fixup_module_metadata
from otp.lowlevel import import_extra as _import_extra

try:
    from ._channel import ANY, ClientSocket, TestTransport, connect
    from ._elements import Element, element, has_element, render
    from ._events import render_change, render_click, render_hook, render_patch, render_submit
    from ._live import LiveViewTest, live
    from ._navigation import assert_patch, assert_redirect, follow_redirect
    from ._nested import find_live_child, live_children
    from ._pushes import assert_push_event, page_title, wait_for_html
    from ._results import Redirect, UploadError
    from ._uploads import Upload, file_input, render_upload
except ImportError:
    # selectolax (the HTML queries) is in the testing extra: name it if it is what is missing.
    _import_extra("selectolax", extra="testing", needed_by="web.testing (its HTML queries)")
    raise

__all__ = [
    # channels
    "connect", "ClientSocket", "TestTransport", "ANY",
    # LiveViews
    "live", "LiveViewTest", "Element", "Redirect", "Upload", "UploadError",
    "element", "render", "has_element",
    "render_click", "render_change", "render_submit", "render_hook", "render_patch",
    "file_input", "render_upload",
    "assert_patch", "assert_redirect", "follow_redirect",
    "live_children", "find_live_child",
    "assert_push_event", "page_title", "wait_for_html",
]

_fixup_module_metadata(__name__, globals())

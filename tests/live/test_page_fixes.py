"""What a LiveView page gets the same way whichever way it was reached (issue #16, "Fixes from that app").

* ``handle_params`` always gets the absolute URL (``http://host/path?query``):
  on the dead render, on the connected join, on ``push_patch`` and on a
  patch link, as Phoenix passes it;
* a view's default title (when it sets none with ``page_title``) is the same
  on the dead render and after live navigation to it;
* ``default_layout`` takes the ``LiveSocket`` options a page needs (``hooks``
  and any other), instead of its bootstrap script being copied.
"""

import doctest
import re

from _live_wire import event_reply, join, open_client

from otp import PubSub
from web._http import Request
from web.live import LiveRouter, LiveView, compile_template, default_layout
from web.live._router import page_url
from web.testing import follow_redirect, live, render_click, render_patch

PAGE = compile_template('<p id="q">{@q}</p><button id="next" phx-click="next">next</button>')
URIS: list[str] = []  # every uri handle_params got, in order


class Search(LiveView):
    async def handle_params(self, params, uri, socket):
        URIS.append(uri)
        socket.assign(q=params.get("q", ""))

    async def handle_event(self, event, value, socket):
        socket.push_patch(f"/search?q={int(socket.assigns['q']) + 1}")

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


async def test_handle_params_gets_the_absolute_url_on_the_dead_render_the_join_and_every_patch():
    URIS.clear()
    router, client = await open_client({"/search": Search})
    request = Request("GET", "/search", {"q": "1"}, {"host": "example.com:4000"}, ("127.0.0.1", 1), b"", "q=1")
    assert (await router.render(request)).status == 200
    await join(client, "phx-s", "/search", "?q=1", url="http://example.com:4000/search?q=1")
    await event_reply(client, "phx-s", "next")  # push_patch("/search?q=2"), a path
    patch = client.push("lv:phx-s", "live_patch", {"url": "http://example.com:4000/search?q=7"})
    await client.assert_reply(patch, "ok")
    assert URIS == [
        "http://example.com:4000/search?q=1",  # dead render
        "http://example.com:4000/search?q=1",  # join
        "http://example.com:4000/search?q=2",  # push_patch, resolved against the page's URL
        "http://example.com:4000/search?q=7",  # patch link
    ]


async def test_a_dead_render_without_a_usable_host_header_says_localhost():
    URIS.clear()
    router = LiveRouter(secret="s", routes={"/search": Search}, pubsub="unused")
    for headers in ({}, {"host": "evil.com/path?x"}, {"host": "a@b"}):
        await router.render(Request("GET", "/search", {}, headers, ("127.0.0.1", 1)))
    assert URIS == ["http://localhost/search"] * 3


class Untitled(LiveView):
    def render(self, assigns, changed):
        return PAGE.render({"q": ""}, None)


class Elsewhere(LiveView):
    async def mount(self, params, session, socket):
        socket.page_title("Elsewhere")

    async def handle_event(self, event, value, socket):
        socket.push_navigate("/untitled")

    def render(self, assigns, changed):
        return PAGE.render({"q": ""}, None)


async def test_a_default_title_is_the_same_after_a_page_load_and_after_live_navigation():
    await PubSub.start_link("titles")
    router = LiveRouter(secret="s", routes={"/untitled": Untitled, "/elsewhere": Elsewhere}, pubsub="titles")
    loaded = await live(router, "/untitled")
    assert loaded.title == "Untitled"
    start = await live(router, "/elsewhere")
    assert start.title == "Elsewhere"
    navigated = await follow_redirect(await render_click(start, "go"))
    assert (navigated.id, navigated.title) == (start.id, "Untitled")  # same page, live navigation
    assert "<title>Untitled</title>" in (await router.render(Request("GET", "/untitled", {}, {}, ("127.0.0.1", 1)))).body.decode()


async def test_a_patch_keeps_the_title():
    URIS.clear()
    await PubSub.start_link("titles")
    router = LiveRouter(secret="s", routes={"/search": Search}, pubsub="titles")
    view = await live(router, "/search?q=1")
    await render_patch(view, "/search?q=3")
    assert view.title == "Search"


def test_default_layout_passes_hooks_and_other_live_socket_options():
    page = default_layout(
        "T", "<div></div>", "tok",
        hooks="{Copy: {mounted() { this.el.dataset.ready = 'yes' }}}",
        live_socket_options={"longPollFallbackMs": "false", "metadata": "{click: (e) => ({x: e.x})}"},
    )
    bootstrap = re.search(r"new LiveView\.LiveSocket\((.*)\);\n", page).group(1)
    assert bootstrap == (
        '"/live", Phoenix.Socket, {longPollFallbackMs: false, params: {_csrf_token: csrf}, '
        "hooks: {Copy: {mounted() { this.el.dataset.ready = 'yes' }}}, metadata: {click: (e) => ({x: e.x})}}"
    )


def test_default_layout_without_options_is_unchanged():
    page = default_layout("T", "<div></div>", "tok")
    bootstrap = re.search(r"new LiveView\.LiveSocket\((.*)\);\n", page).group(1)
    assert bootstrap == '"/live", Phoenix.Socket, {longPollFallbackMs: 2500, params: {_csrf_token: csrf}}'


def test_page_url_example():
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(page_url, globs={"page_url": page_url, "Request": Request}):
        runner.run(test)
    assert (runner.failures, runner.tries) == (0, 1)

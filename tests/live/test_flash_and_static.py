"""The flash a full redirect carries (a cookie) and the signed static token.

See docs/protocol/liveview.md, "Navigation" and "Session and static tokens".
"""

import re

from otp import PubSub
from web._http import Request
from web.live import HALT, HTTPError, LiveRouter, LiveView, compile_template
from web.testing import Redirect, connect, live
from web.token import sign, verify

SECRET = "flash secret"
PAGE = compile_template('<p id="info">{@flash.get("info", "")}</p>')


class Page(LiveView):
    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


def router():
    return LiveRouter(secret=SECRET, routes={"/page": Page}, pubsub="flash_ps")


async def dead_render(cookie=""):
    headers = {"cookie": cookie} if cookie else {}
    response = await router().render(Request("GET", "/page", {}, headers, ("127.0.0.1", 1)))
    body = response.body.decode()
    view_id, session, static = re.search(
        r'<div id="([^"]+)" data-phx-main data-phx-session="([^"]+)" data-phx-static="([^"]+)">', body
    ).groups()
    return response, body, view_id, session, static


async def client():
    await PubSub.start_link("flash_ps")
    return await connect(router().socket_cls, {"_csrf_token": sign(SECRET, "csrf", "x")}, pubsub="flash_ps")


async def test_the_flash_cookie_shows_once_in_the_dead_render_and_again_on_the_join():
    flash = sign(SECRET, "liveview flash", {"info": "saved"})
    response, body, view_id, session, static = await dead_render(f"__phoenix_flash__={flash}")
    assert '<p id="info">saved</p>' in body
    assert response.headers["set-cookie"] == "__phoenix_flash__=; max-age=0; path=/"
    status, reply = await (await client()).join(f"lv:{view_id}", {"url": "http://x/page", "session": session, "static": static})
    assert (status, reply["rendered"]["0"]) == ("ok", "saved")


async def test_a_forged_flash_cookie_is_ignored():
    response, body, *_ = await dead_render("__phoenix_flash__=" + sign("another secret", "liveview flash", {"info": "x"}))
    assert '<p id="info"></p>' in body and "set-cookie" not in response.headers


async def test_a_static_token_of_another_view_or_forged_is_stale():
    _, _, view_id, session, static = await dead_render()
    _, _, other_id, _, other_static = await dead_render()
    c = await client()
    for bad in (other_static, "forged.token", sign("another secret", "liveview static", {"id": view_id})):
        assert await c.join(f"lv:{view_id}", {"url": "http://x/page", "session": session, "static": bad}) == (
            "error", {"reason": "stale"})
    status, _ = await c.join(f"lv:{view_id}", {"url": "http://x/page", "session": session, "static": static})
    assert status == "ok"


class Missing(LiveView):
    async def mount(self, params, session, socket):
        if params.get("id") != "1":
            raise HTTPError(404, "no such item")

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


async def test_a_4xx_from_mount_is_that_status_on_the_dead_render_and_reload_on_the_join():
    items = LiveRouter(secret=SECRET, routes={"/items/:id": Missing}, pubsub="flash_ps")
    response = await items.render(Request("GET", "/items/2", {}, {}, ("127.0.0.1", 1)))
    assert (response.status, response.body) == (404, b"404 no such item")
    ok = await items.render(Request("GET", "/items/1", {}, {}, ("127.0.0.1", 1)))
    view_id, session = re.search(r'<div id="([^"]+)" data-phx-main data-phx-session="([^"]+)"', ok.body.decode()).groups()
    await PubSub.start_link("flash_ps")
    c = await connect(items.socket_cls, {"_csrf_token": sign(SECRET, "csrf", "x")}, pubsub="flash_ps")
    # The same session, joined at another URL of the same route, whose mount raises 404.
    status, reply = await c.join(f"lv:{view_id}", {"url": "http://x/items/2", "session": session})
    assert (status, reply["reason"], reply["status"]) == ("error", "reload", 404)
    assert verify(SECRET, "liveview reload", reply["token"]) == 404


async def must_log_in(params, session, socket):
    socket.put_flash("info", "log in first")
    socket.redirect("/page")
    return HALT


class Guarded(LiveView):
    on_mount = [must_log_in]

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


async def test_a_flash_put_before_a_redirect_from_the_dead_render_goes_with_the_302_and_shows_once():
    # Issue #16: on_mount put_flash + redirect + HALT gave a 302 with no flash cookie.
    pages = LiveRouter(secret=SECRET, routes={"/page": Page, "/admin": Guarded}, pubsub="flash_ps")
    response = await pages.render(Request("GET", "/admin", {}, {}, ("127.0.0.1", 1)))
    assert (response.status, response.headers["location"]) == (302, "/page")
    token = re.fullmatch(r"__phoenix_flash__=([^;]+); max-age=60; path=/", response.headers["set-cookie"]).group(1)
    assert pages.read_flash(token) == {"info": "log in first"}
    # The page redirected to shows it, and clears the cookie.
    shown = await pages.render(Request("GET", "/page", {}, {"cookie": f"__phoenix_flash__={token}"}, ("127.0.0.1", 1)))
    assert '<p id="info">log in first</p>' in shown.body.decode()
    assert shown.headers["set-cookie"] == "__phoenix_flash__=; max-age=0; path=/"


async def test_a_dead_render_redirect_without_a_flash_sets_no_cookie():
    class Away(LiveView):
        async def mount(self, params, session, socket):
            socket.push_navigate("/page")

        def render(self, assigns, changed):
            return PAGE.render(assigns, changed)

    pages = LiveRouter(secret=SECRET, routes={"/page": Page, "/away": Away}, pubsub="flash_ps")
    response = await pages.render(Request("GET", "/away", {}, {}, ("127.0.0.1", 1)))
    assert (response.status, response.headers) == (302, {"location": "/page"})


async def test_live_returns_the_dead_render_redirect_with_its_flash():
    await PubSub.start_link("flash_ps")
    pages = LiveRouter(secret=SECRET, routes={"/page": Page, "/admin": Guarded}, pubsub="flash_ps")
    assert await live(pages, "/admin") == Redirect("redirect", "/page", {"info": "log in first"})

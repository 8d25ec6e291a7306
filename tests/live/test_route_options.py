"""What a route says beyond its view, on the wire: live_action (LiveRoute(View, "edit")), a layout per route and
per live session (and live navigation only within one layout), a container per route or per view, and
static_changed() against the router's tracked_static."""

import functools
import re

import pytest
from _live_wire import SECRET, Tracked, event_reply, join_payload

from otp import PubSub
from web._http import Request
from web.live import HALT, LiveRoute, LiveRouter, LiveSession, compile_template, default_layout, live_title
from web.testing import connect
from web.token import sign

PAGE = compile_template("<div><p>{@live_action}</p><b>{@id}</b></div>")


class User(Tracked):
    async def handle_params(self, params, url, socket):
        socket.assign(id=params["id"])

    async def handle_event(self, event, value, socket):
        socket.push_patch(value["to"])

    def render(self, assigns, changed):
        return PAGE.render(assigns, changed)


STATIC = compile_template('<div>{"changed" if @changed else "same"}</div>')


class Deployed(Tracked):
    async def mount(self, params, session, socket):
        await super().mount(params, session, socket)
        socket.assign(changed=socket.static_changed())

    def render(self, assigns, changed):
        return STATIC.render(assigns, changed)


class Wide(Tracked):
    container = ("article", {"class": "wide", "data-phx-main": "ignored", "id": "ignored"})

    def render(self, assigns, changed):
        return compile_template("<div>wide</div>").render(assigns, changed)


def admin_layout(title, container, csrf):
    return f"<html><head><title>admin: {title}</title></head><body>{container}</body></html>"


def print_layout(title, container, csrf):
    return f"<html><body class=print>{container}</body></html>"


ROUTES = {
    "/users/:id": LiveRoute(User, "show"),
    "/users/:id/edit": LiveRoute(User, "edit"),
    "/users/:id/print": LiveRoute(User, "print", layout=print_layout),
    "/admin/users/:id": LiveRoute(User, "admin", live_session="admin"),
    "/deployed": Deployed,
    "/wide": Wide,
}
SESSIONS = {"admin": LiveSession(layout=admin_layout)}


def router(**options) -> LiveRouter:
    return LiveRouter(secret=SECRET, routes=ROUTES, pubsub="routes_live", live_sessions=SESSIONS, **options)


async def dead(path: str, live_router: LiveRouter | None = None) -> str:
    path, _, query = path.partition("?")
    response = await (live_router or router()).render(Request("GET", path, {}, {"host": "x"}, ("127.0.0.1", 1), b"", query))
    return response.body.decode()


async def client_of(live_router: LiveRouter):
    await PubSub.start_link("routes_live")
    return await connect(live_router.socket_cls, {"_csrf_token": sign(SECRET, "csrf", "a visitor")}, pubsub="routes_live")


async def join_at(client, view_id: str, route: str, path: str) -> dict:
    """Join ``lv:<view_id>`` at ``path``, a URL of ``route`` (the dead render's session names the route)."""
    payload = join_payload(view_id, route)
    payload["url"] = f"http://x{path}"
    status, response = await client.join(f"lv:{view_id}", payload)
    assert status == "ok", response
    return response


# ---------------------------------------------------------------- live_action


async def test_live_action_is_the_route_s_on_the_dead_render_and_the_join():
    assert "<p>edit</p><b>7</b>" in await dead("/users/7/edit")
    client = await client_of(router())
    rendered = (await join_at(client, "phx-u", "/users/:id/edit", "/users/7/edit"))["rendered"]
    assert (rendered["0"], rendered["1"]) == ("edit", "7")


async def test_a_patch_to_another_route_of_the_view_changes_live_action():
    client = await client_of(router())
    await join_at(client, "phx-u", "/users/:id", "/users/7")
    assert await event_reply(client, "phx-u", "go", {"to": "/users/7/edit"}) == {"diff": {"0": "edit"}}
    ref = client.push("lv:phx-u", "live_patch", {"url": "http://x/users/8"})
    await client.assert_reply(ref, "ok", {"diff": {"0": "show", "1": "8"}})


async def test_a_view_routed_without_an_action_has_live_action_none():
    plain = LiveRouter(secret=SECRET, routes={"/plain/:id": User}, pubsub="routes_live")
    assert "<div><p></p><b>7</b></div>" in await dead("/plain/7", plain)
    client = await client_of(plain)
    rendered = (await join_at(client, "phx-u", "/plain/:id", "/plain/7"))["rendered"]
    assert rendered["0"] == ""


# ---------------------------------------------------------------- layouts


async def test_each_route_gets_its_own_layout_else_its_live_session_s_else_the_router_s():
    assert (await dead("/users/7/print")).startswith("<html><body class=print><div id=")
    assert (await dead("/admin/users/7")).startswith("<html><head><title>admin: User</title>")
    assert (await dead("/users/7")).startswith("<!doctype html>")  # default_layout
    custom = router(layout=lambda title, container, csrf: f"<main>{title}</main>")
    assert await dead("/users/7", custom) == "<main>User</main>"


async def test_live_navigation_goes_only_where_the_layout_is_the_page_s():
    client = await client_of(router())
    for to, expected in [("/users/7/edit", "ok"), ("/users/7/print", "error")]:
        payload = join_payload("phx-u", "/users/:id")
        payload["redirect"] = f"http://x{to}"
        del payload["url"]
        status, response = await client.join("lv:phx-u", payload)
        assert status == expected, response
        if status == "error":
            assert response == {"reason": "unauthorized"}  # the client loads that page
        else:
            await client.leave("lv:phx-u")


async def test_a_live_session_s_on_mount_hook_that_halts_redirects_the_dead_render():
    async def require_admin(params, session, socket):
        if not session.get("admin"):
            socket.redirect("/login")
            return HALT
        return None

    guarded = LiveRouter(
        secret=SECRET, routes={"/admin": LiveRoute(User, live_session="admin")}, pubsub="unused",
        live_sessions={"admin": LiveSession(on_mount=[require_admin])},
    )
    response = await guarded.render(Request("GET", "/admin", {}, {}, ("127.0.0.1", 1), b"", ""))
    assert (response.status, response.headers["location"]) == (302, "/login")


# ---------------------------------------------------------------- containers


async def test_a_view_s_container_class_attribute_shapes_its_element_without_replacing_ours():
    html = await dead("/wide")
    assert re.search(r'<article id="phx-[\w-]+" data-phx-main data-phx-session="[^"]+" data-phx-static="[^"]+" class="wide"><div>wide</div></article>', html)


def test_a_route_with_a_wrong_view_action_or_container_is_refused_with_what_to_give():
    with pytest.raises(TypeError, match="route '/x' needs a LiveView subclass; got <class 'int'>"):
        LiveRouter(secret=SECRET, routes={"/x": LiveRoute(int)}, pubsub="p")
    with pytest.raises(TypeError, match="route '/x': action must be a string such as \"edit\"; got 3"):
        LiveRouter(secret=SECRET, routes={"/x": LiveRoute(User, 3)}, pubsub="p")
    with pytest.raises(TypeError, match=re.escape("route '/x': a container is (tag, attributes), such as (\"section\", {\"class\": \"wide\"}); got 'div'")):
        LiveRouter(secret=SECRET, routes={"/x": LiveRoute(User, container="div")}, pubsub="p")


# ---------------------------------------------------------------- phx-track-static


@pytest.mark.parametrize(
    "tracked_by_page, tracked_by_router, changed",
    [
        (["http://x/assets/app.js?vsn=2", "http://x/assets/app.css?vsn=2"], ["/assets/app.js?vsn=2", "/assets/app.css?vsn=2"], "same"),
        (["http://x/assets/app.js?vsn=1"], ["/assets/app.js?vsn=2"], "changed"),  # deployed since the page loaded
        (["http://x/assets/app.js?vsn=2"], [], "same"),  # the router tracks nothing
        (None, ["/assets/app.js?vsn=2"], "same"),  # the page tracks nothing
    ],
)
async def test_static_changed_compares_the_page_s_tracked_statics_with_the_router_s(tracked_by_page, tracked_by_router, changed):
    client = await client_of(router(tracked_static=tracked_by_router))
    payload = join_payload("phx-d", "/deployed")
    if tracked_by_page is not None:
        payload["params"]["_track_static"] = tracked_by_page
    status, response = await client.join("lv:phx-d", payload)
    assert (status, response["rendered"]["0"]) == ("ok", changed)


async def test_static_changed_is_false_on_the_dead_render():
    assert "<div>same</div>" in await dead("/deployed", router(tracked_static=["/assets/app.js?vsn=2"]))


# ---------------------------------------------------------------- live_title


def test_live_title_writes_the_prefix_and_suffix_the_client_keeps_around_each_title():
    assert live_title("Inbox", prefix="Mail · ", suffix=" (3)") == (
        '<title data-prefix="Mail · " data-suffix=" (3)">Mail · Inbox (3)</title>'
    )
    assert live_title("", default="Welcome") == '<title data-default="Welcome">Welcome</title>'
    assert live_title("<b>", suffix=' "x"') == '<title data-suffix=" &#34;x&#34;">&lt;b&gt; &#34;x&#34;</title>'


async def test_default_layout_takes_a_title_prefix_and_suffix():
    layout = functools.partial(default_layout, title_prefix="App · ", title_suffix=" · Demo")
    html = await dead("/users/7", router(layout=layout))
    assert '<title data-prefix="App · " data-suffix=" · Demo">App · User · Demo</title>' in html

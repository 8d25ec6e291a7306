"""A controller page and a LiveView share the session (issue #16): log in with a form, read the user in on_mount.

Over real HTTP and a real WebSocket join, as a browser does it: the login
form's CSRF token, the POST that puts the user in the signed session
cookie, the LiveView page's dead render behind the same pipeline (its
``on_mount`` reads the user), the ``/live`` socket connect with the page's
CSRF token and the join of its container; then a form posted from that
page with the page's token. And with web.testing's ``live()``, given the
session the cookie carries.
"""

import re

import orjson
import pytest
from _clients import HTTPClient, WSClient

from otp import PubSub
from web import Endpoint
from web.live import HALT, LiveRouter, LiveView, compile_template
from web.plugs import SecureBrowserHeaders
from web.router import Router, html, redirect
from web.session import CookieSession, CSRFProtection, csrf_token
from web.testing import live

SECRET = "one secret for the session cookie and the LiveRouter"
FORM = {"content-type": "application/x-www-form-urlencoded"}

GREETING = compile_template('<p id="user">{@user}</p>')


async def require_user(params, session, socket):
    if "user" not in session:
        socket.redirect("/login")
        return HALT
    socket.assign(user=session["user"])
    return None


class Dashboard(LiveView):
    on_mount = [require_user]

    async def mount(self, params, session, socket):
        pass

    def render(self, assigns, changed):
        return GREETING.render(assigns, changed)


def make_app():
    live_router = LiveRouter(secret=SECRET, pubsub="live_shared")
    store = CookieSession(SECRET)
    router = Router(live=live_router)
    site = router.scope("/", pipe_through=[SecureBrowserHeaders(), store, CSRFProtection()])

    @site.get("/login")
    async def login_form(request):
        return html(f'<form method="post"><input type="hidden" name="_csrf_token" value="{csrf_token(request)}"></form>')

    @site.post("/login")
    async def login(request):
        request.session["user"] = request.form()["name"]
        return redirect("/dashboard", status=303)

    @site.post("/logout")
    async def logout(request):
        request.session.clear()
        return redirect("/login", status=303)

    site.live("/dashboard", Dashboard)
    return router, live_router, store


def cookie_of(response):
    return response.headers["set-cookie"].split(";")[0]


def attribute(page: bytes, pattern: str) -> str:
    found = re.search(pattern.encode(), page)
    assert found is not None, (pattern, page)
    return found.group(1).decode().replace("&#34;", '"').replace("&quot;", '"')


async def start(router, live_router):
    await PubSub.start_link("live_shared")
    endpoint = await Endpoint.start_link(router.http(), websocket=live_router.websocket())
    return Endpoint.address(endpoint)[1]


async def log_in(client, name="ann"):
    """GET the form, POST it with its token: the logged-in session's cookie."""
    form = await client.request("GET", "/login")
    token = attribute(form.body, r'name="_csrf_token" value="([^"]+)"')
    cookie = cookie_of(form)
    refused = await client.request("POST", "/login", headers=[*FORM.items(), ("cookie", cookie)], body=f"name={name}".encode())
    assert refused.status == 403  # the same form without its token
    logged_in = await client.request(
        "POST", "/login", headers=[*FORM.items(), ("cookie", cookie)], body=f"name={name}&_csrf_token={token}".encode()
    )
    assert (logged_in.status, logged_in.headers["location"]) == (303, "/dashboard")
    return cookie_of(logged_in)


async def test_a_user_logged_in_on_a_controller_page_is_read_by_the_liveviews_on_mount_over_http_and_websocket():
    router, live_router, _ = make_app()
    port = await start(router, live_router)
    client = await HTTPClient.open(port)

    anonymous = await client.request("GET", "/dashboard")
    assert (anonymous.status, anonymous.headers["location"]) == (302, "/login")  # on_mount halted: no user

    cookie = await log_in(client)
    page = await client.request("GET", "/dashboard", headers=[("cookie", cookie)])
    assert page.status == 200
    assert b'<p id="user">ann</p>' in page.body  # the dead render's on_mount read the session
    assert page.headers["x-frame-options"] == "SAMEORIGIN"  # the scope's pipeline ran
    view_id = attribute(page.body, r'<div id="([^"]+)" data-phx-main')
    session_token = attribute(page.body, r'data-phx-session="([^"]+)"')
    static_token = attribute(page.body, r'data-phx-static="([^"]+)"')
    csrf = attribute(page.body, r'<meta name="csrf-token" content="([^"]+)"')

    socket = await WSClient.connect(port, f"/live/websocket?_csrf_token={csrf}&vsn=2.0.0")
    assert isinstance(socket, WSClient)
    join = {"url": f"http://127.0.0.1:{port}/dashboard", "params": {"_csrf_token": csrf, "_mounts": 0},
            "session": session_token, "static": static_token}
    await socket.send_text(orjson.dumps(["1", "1", f"lv:{view_id}", "phx_join", join]).decode())
    join_ref, ref, topic, event, reply = orjson.loads(await socket.receive())
    assert (join_ref, ref, topic, event, reply["status"]) == ("1", "1", f"lv:{view_id}", "phx_reply", "ok")
    assert reply["response"]["rendered"]["0"] == "ann"  # the connected mount's on_mount read it too

    # A form on the LiveView page posts with the page's token: the same session's, so it passes.
    logged_out = await client.request("POST", "/logout", headers=[("cookie", cookie), ("x-csrf-token", csrf)])
    assert (logged_out.status, logged_out.headers["location"]) == (303, "/login")
    assert logged_out.headers["set-cookie"].startswith("_session=; Path=/; Max-Age=0")
    await socket.close()


async def test_web_testing_live_renders_the_page_with_the_session_the_cookie_carries():
    router, live_router, store = make_app()
    port = await start(router, live_router)
    cookie = await log_in(await HTTPClient.open(port), name="bob")
    view = await live(live_router, "/dashboard", session=store.read(cookie.split("=", 1)[1]))
    assert '<p id="user">bob</p>' in view.html


class Welcome(LiveView):
    def render(self, assigns, changed):
        return compile_template("<p>welcome</p>").render(assigns, changed)


async def test_the_first_visit_to_a_liveview_page_gets_the_session_cookie_its_csrf_token_belongs_to():
    router, live_router, store = make_app()
    router.scope("/", pipe_through=[store, CSRFProtection()]).live("/welcome", Welcome)
    port = await start(router, live_router)
    client = await HTTPClient.open(port)
    page = await client.request("GET", "/welcome")
    assert page.status == 200
    cookie = cookie_of(page)  # a new session, holding the value the page's token signs
    assert set(store.read(cookie.split("=", 1)[1])) == {"_csrf_token"}
    csrf = attribute(page.body, r'<meta name="csrf-token" content="([^"]+)"')
    assert live_router.check_csrf(csrf)  # what the /live socket checks
    posted = await client.request("POST", "/logout", headers=[("cookie", cookie), ("x-csrf-token", csrf)])
    assert posted.status == 303
    forged = await client.request("POST", "/logout", headers=[("cookie", cookie), ("x-csrf-token", live_router_token(live_router))])
    assert forged.status == 403  # a token the LiveRouter would sign on its own belongs to no session


def live_router_token(live_router):
    from web.session import CSRF_SALT
    from web.token import sign

    return sign(live_router.secret, CSRF_SALT, "not this session's value")


async def test_the_router_serves_the_client_scripts_a_live_page_loads():
    router, live_router, _ = make_app()
    port = await start(router, live_router)
    client = await HTTPClient.open(port)
    for path in ("/phoenix.min.js", "/phoenix_live_view.min.js"):
        response = await client.request("GET", path)
        assert (response.status, response.headers["content-type"]) == (200, "text/javascript; charset=utf-8")


def test_a_live_route_needs_the_router_to_know_its_liverouter():
    with pytest.raises(ValueError, match=r"needs the LiveRouter that serves the page's socket: Router\(live=LiveRouter"):
        Router().live("/x", Dashboard)


async def test_a_session_secret_other_than_the_liverouters_is_an_error_that_says_so():
    live_router = LiveRouter(secret="the LiveRouter's own secret", pubsub="live_shared")
    router = Router(live=live_router)
    router.scope("/", pipe_through=[CookieSession("a different secret for the session cookie!")]).live("/d", Dashboard)
    from web import Request

    with pytest.raises(RuntimeError, match="give web.session.CookieSession and web.live.LiveRouter the same secret"):
        await router(Request("GET", "/d", {}, {}, ("127.0.0.1", 1)))
